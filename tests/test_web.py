"""The page (/web/) in a real headless Chromium (Debian's `chromium`, driven by Playwright) against the real stack:
nothing leaves the machine, the voices, playback that starts while the stream still arrives, the server's own
error messages, the download, and how a text is read. The page shows its player's state as data attributes."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from kokoro_core.contract import SAMPLE_RATE
from serving.stack import page_address
from tests.helpers import API_KEY, ROOT, decode

CHROMIUM = "/usr/bin/chromium"
# Headless Chromium plays into a fake output whose clock runs in real time; no gesture needed for audio.
ARGS = ["--autoplay-policy=no-user-gesture-required"]
LOCAL = {"127.0.0.1", "localhost"}
SCREENSHOT = ROOT / "build" / "web.png"  # `make screenshot` copies it to docs/web.png
SENTENCES = " ".join(f"Sentence number {n} is spoken while the ones after it are still being made." for n in
                     range(1, 6))
FAST = "4"  # the fastest speed: a test hears a quarter of the audio
PLAY_TIMEOUT_MS = 120_000
# Bytes a second of the page's stream (16-bit samples in base64) arriving at twice the speed of speech: however
# fast the server, later chunks arrive while the first ones play, as they would over a real network.
THROTTLE = 2 * SAMPLE_RATE * 2 * 4 // 3
FAILED_LOAD = "Failed to load resource: the server responded with a status of 4"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, api):
    """A fresh browser context on the page; any request to another host fails the test (and is not sent),
    as does any script error."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 900, "height": 1100})
    outside, errors = [], []

    def local_only(route):
        if urlsplit(route.request.url).hostname in LOCAL:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()
    context.route("**/*", local_only)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{api}/")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    yield page
    context.close()
    assert outside == []
    # Chromium logs the error statuses the tests provoke as failed loads; nothing else may be logged.
    assert [e for e in errors if not e.startswith(FAILED_LOAD)] == []


def sign_in(page, key: str = API_KEY) -> None:
    page.fill("#api-key", key)
    page.press("#api-key", "Tab")  # `change`: the key is stored and the voices are fetched with it


def ready_to_speak(page, text: str, speed: str = FAST) -> None:
    sign_in(page)
    voice_count(page)
    page.fill("#text", text)
    page.fill("#speed", speed)


def voice_count(page) -> int:
    expect(page.locator("#voices")).not_to_have_attribute("data-count", "0")
    return int(page.get_attribute("#voices", "data-count"))


def played(page) -> dict:
    """The player's state once it ends."""
    expect(page.locator("#player")).to_have_attribute("data-state", re.compile("done|error|stopped"),
                                                      timeout=PLAY_TIMEOUT_MS)
    return page.eval_on_selector("#player", "p => ({...p.dataset})")


def speech_seconds(api: str, **fields) -> float:
    """The length of what the API says for these fields, asked directly."""
    response = httpx.post(f"{api}/v1/audio/speech", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=300,
                          json={"model": "kokoro", "response_format": "pcm", **fields})
    response.raise_for_status()
    return decode(response.content, "pcm")[1]


def test_the_page_loads_from_the_server_alone_and_lists_the_voices(page, api):
    host, port = urlsplit(api).hostname, urlsplit(api).port
    assert page.url == page_address(host, port)  # where `/` led, the address `make serve` prints
    expect(page.locator("#key-section")).to_be_visible()  # this API needs a key
    expect(page.locator("#error")).to_have_text("missing bearer API key (Authorization: Bearer ...)")
    sign_in(page)
    listed = httpx.get(f"{api}/v1/audio/voices", headers={"Authorization": f"Bearer {API_KEY}"}).json()["voices"]
    assert voice_count(page) == len(listed)
    expect(page.locator("#error")).to_be_hidden()
    groups = page.eval_on_selector_all("#voice-0 optgroup", "gs => gs.map(g => [g.label, g.children.length])")
    expected = {}
    for voice in listed:
        label = f"{voice['language']} · {voice['gender']}"
        expected[label] = expected.get(label, 0) + 1
    assert dict(groups) == expected
    assert page.evaluate("localStorage.getItem('kokoro-api-key')") == API_KEY


def test_a_bad_key_gets_the_servers_message(page):
    sign_in(page, "not-the-key")
    expect(page.locator("#error")).to_have_text("invalid API key")
    expect(page.locator("#api-key")).to_be_focused()
    page.click("#play")
    expect(page.locator("#player")).to_have_attribute("data-state", "error")
    expect(page.locator("#error")).to_have_text("invalid API key")


def test_speech_plays_while_it_streams(page, api):
    """Sound starts with the first chunk: the audio clock has advanced when the later chunks arrive, and every
    sample the API makes for this text is played."""
    ready_to_speak(page, SENTENCES)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": THROTTLE,
                                                  "uploadThroughput": -1})
    page.click("#play")
    state = played(page)
    assert state["state"] == "done", page.text_content("#error")
    at_chunks = [float(s) for s in state["playedAtChunks"].split(",")]
    assert int(state["chunks"]) == len(at_chunks) >= 5
    assert at_chunks[0] == 0 and at_chunks[-1] > 0, at_chunks  # playing before the last chunk came
    assert at_chunks == sorted(at_chunks)
    seconds = speech_seconds(api, input=SENTENCES, voice=page.input_value("#voice-0"), speed=float(FAST))
    assert float(state["synthesized"]) == pytest.approx(seconds, abs=1e-3)
    assert float(state["played"]) == pytest.approx(seconds, abs=0.05)
    expect(page.locator("#played-bar")).to_have_attribute("style", re.compile(r"width: 100%"))


def test_stop_ends_playback(page):
    ready_to_speak(page, SENTENCES)
    page.click("#play")
    expect(page.locator("#player")).not_to_have_attribute("data-chunks", "0", timeout=PLAY_TIMEOUT_MS)
    page.keyboard.press("Escape")
    state = played(page)
    assert state["state"] == "stopped"
    page.wait_for_timeout(300)
    assert page.get_attribute("#player", "data-played") == state["played"]


@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_the_download_decodes(page, api, fmt):
    sign_in(page)
    voice_count(page)
    page.fill("#text", "The downloaded file is decoded by the test.")
    page.select_option("#format", fmt)
    with page.expect_download() as download:
        page.click("#download")
    path = Path(download.value.path())
    assert download.value.suggested_filename == f"speech.{fmt}"
    rate, seconds = decode(path.read_bytes(), fmt)
    expected = speech_seconds(api, input="The downloaded file is decoded by the test.",
                              voice=page.input_value("#voice-0"))
    assert rate == SAMPLE_RATE and seconds == pytest.approx(expected, abs=0.1)


def test_a_blend_is_sent_in_the_apis_syntax(page):
    sign_in(page)
    assert voice_count(page) >= 2
    page.click("#add-voice")
    expect(page.locator("#voice-1")).to_be_focused()
    first, second = page.eval_on_selector_all("#voice-0 option", "os => os.slice(0, 2).map(o => o.value)")
    page.select_option("#voice-0", first)
    page.select_option("#voice-1", second)
    page.fill("#weight-0", "2")
    expect(page.locator("#voice-spec")).to_have_text(f"{first}(2)+{second}(1)")
    page.fill("#text", "Two voices at once.")
    page.fill("#speed", FAST)
    page.click("#play")
    assert played(page)["state"] == "done", page.text_content("#error")
    page.click("button[aria-label='Remove voice 2']")
    expect(page.locator("#voice-spec")).to_have_text(first)


def test_too_long_an_input_is_counted_and_refused_in_the_servers_words(page):
    sign_in(page)
    voice_count(page)
    limit = page.evaluate("fetch('config.json').then(r => r.json()).then(c => c.max_input_chars)")
    page.fill("#text", "a" * (limit + 1))
    expect(page.locator("#count")).to_have_text(f"{limit + 1} / {limit} characters (too long)")
    page.click("#play")
    expect(page.locator("#error")).to_have_text(f"input is {limit + 1} characters; the limit is {limit}")


def test_how_a_text_will_be_read(page):
    sign_in(page)
    voice_count(page)
    page.fill("#text", "It costs $12.50.")
    page.click("#explain")
    expect(page.locator("#normalized")).to_contain_text("twelve dollars and fifty cents")
    expect(page.locator("#phonemes")).not_to_be_empty()
    expect(page.locator("#tokens")).to_have_text(re.compile(r"\d+ tokens"))


def test_keyboard_screen_readers_and_a_phone(page):
    """Every control has a label; Ctrl+Enter plays; the page fits a phone's width."""
    ready_to_speak(page, "Played from the keyboard.")
    unlabelled = page.eval_on_selector_all("input, select, textarea, button", """cs => cs.filter(c =>
        !(c.labels && c.labels.length) && !c.getAttribute('aria-label') && !c.textContent.trim()).map(c => c.id)""")
    assert unlabelled == []
    page.press("#text", "Control+Enter")
    assert played(page)["state"] == "done"
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_read_along_highlights_the_word_at_the_audio_clock(page):
    """The highlighter alone, on words given with and without their characters' offsets."""
    spoken = page.evaluate("""async () => {
        const {ReadAlong} = await import('./readalong.js');
        const box = document.createElement('div');
        document.body.append(box);
        const reader = new ReadAlong(box);
        reader.show('It costs $12.50, Bob.');
        reader.add([{text: 'It', start: 0, end: 0.2}, {text: 'costs', start: 0.25, end: 0.5},
                    {text: 'twelve dollars and fifty cents', from: 9, to: 15, start: 0.5, end: 1.8},
                    {text: 'Bob', start: 2.0, end: 2.3}]);
        const seen = [];
        for (const t of [0.1, 0.22, 0.3, 1.0, 1.9, 2.1, 2.5]) {
            reader.at(t);
            seen.push(box.querySelector('.current')?.textContent ?? null);
        }
        return [seen, box.dataset.spoken, box.textContent];
    }""")
    assert spoken == [["It", None, "costs", "$12.50", None, "Bob", None], "0,1,2,3", "It costs $12.50, Bob."]


def test_read_along_follows_the_speech(page, api):
    """The words of the speech's own timestamps (`alignment: word`) highlighted in order as it plays."""
    ready_to_speak(page, SENTENCES)
    page.check("#read-along")
    page.click("#play")
    assert played(page)["state"] == "done", page.text_content("#error")
    spoken = [int(i) for i in page.get_attribute("#words", "data-spoken").split(",")]
    # In order, each once; a word shorter than a frame of the page may be passed over.
    assert spoken == sorted(set(spoken)) and len(spoken) >= 0.8 * len(SENTENCES.split()), spoken


def test_screenshot(page):
    """The README's picture of the page (build/web.png; `make screenshot` refreshes docs/web.png)."""
    ready_to_speak(page, "It costs $12.50 at 9:30 on Fifth Avenue.", speed="1")
    page.set_viewport_size({"width": 800, "height": 900})
    page.click("#explain")
    expect(page.locator("#phonemes")).not_to_be_empty()
    page.click("#play")
    page.wait_for_function("() => Number(document.getElementById('player').dataset.played) > 1",
                           timeout=PLAY_TIMEOUT_MS)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.click("#stop")
