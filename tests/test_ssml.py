"""Pauses and SSML: the parser's parts and its 400s (naming the element), entity expansion refused, a seeded
fuzz of the parser, and through the real stack: a pause is exact silence of the asked length."""
import random

import httpx
import numpy as np
import openai
import pytest

from frontend.errors import InvalidRequest
from frontend.reading.ssml import Part, parse
from tests.helpers import API_KEY

PARTS = [
    ("Plain text.", [Part("Plain text.")]),
    ("Wait [pause:1.5s] then go", [Part("Wait ", pause_s=1.5), Part(" then go")]),
    ("[PAUSE:250ms]Go", [Part("", pause_s=0.25), Part("Go")]),
    ('<speak>Hi <break time="1s"/> there</speak>', [Part("Hi", pause_s=1.0), Part("there")]),
    ('<speak>Hi<break time="500ms"/><break strength="strong"/>there</speak>', [Part("Hi", pause_s=1.25),
                                                                               Part("there")]),
    ('<speak><break/>Hi</speak>', [Part("", pause_s=0.5), Part("Hi")]),
    ('<speak><p><s>One.</s><s>Two.</s></p></speak>', [Part("One."), Part("Two.")]),
    ('<speak>a <prosody rate="slow">b <prosody rate="200%">c</prosody></prosody> d</speak>',
     [Part("a"), Part("b", 0.75), Part("c", 1.5), Part("d")]),
    ('<speak><prosody rate="+20%">up</prosody><prosody rate="-50%">down</prosody></speak>',
     [Part("up", 1.2), Part("down", 0.5)]),
    ('<speak><say-as interpret-as="characters">ab1</say-as></speak>', [Part("a b one")]),
    ('<speak><say-as interpret-as="ordinal">21</say-as></speak>', [Part("twenty-first")]),
    ('<speak><say-as interpret-as="cardinal">1,204</say-as></speak>', [Part("one thousand two hundred four")]),
    ('<speak><say-as interpret-as="telephone">555-0199</say-as></speak>', [Part("five five five, zero one nine nine")]),
    ('<speak><say-as interpret-as="date">2024-03-15</say-as></speak>', [Part("March fifteenth, twenty twenty-four")]),
    ('<speak><say-as interpret-as="time">3:30 pm</say-as></speak>', [Part("three thirty P M")]),
    ('<speak><sub alias="World Wide Web">WWW</sub> &amp; more</speak>', [Part("World Wide Web & more")]),
    ('<speak><phoneme alphabet="ipa" ph="təmˈɑːtoʊ">tomato</phoneme></speak>', [Part("[tomato](/təmˈɑːtoʊ/)")]),
    ('<speak xmlns="http://www.w3.org/2001/10/synthesis" version="1.0" xml:lang="en-US">Hi</speak>', [Part("Hi")]),
]


@pytest.mark.parametrize("text, parts", PARTS, ids=[t[:40] for t, _ in PARTS])
def test_parts(text, parts):
    assert parse(text) == parts


REFUSED = [
    ("<speak>Hi <s>there</speak>", "<s>"),
    ("<speak>Hi <emphasis>there</emphasis></speak>", "<emphasis>"),
    ('<speak><audio src="x.wav"/></speak>', "<audio>"),
    ('<speak><break time="forever"/></speak>', "<break>"),
    ('<speak><break time="11s"/></speak>', "<break>"),
    ('<speak><break strength="huge"/></speak>', "<break>"),
    ("<speak><break>text</break></speak>", "<break>"),
    ('<speak><prosody rate="warp">x</prosody></speak>', "<prosody>"),
    ('<speak><prosody pitch="high">x</prosody></speak>', "<prosody>"),
    ('<speak><phoneme alphabet="x-sampa" ph="t@">x</phoneme></speak>', "<phoneme>"),
    ('<speak><say-as interpret-as="cardinal">many</say-as></speak>', "<say-as>"),
    ('<speak><say-as interpret-as="currency">$5</say-as></speak>', "<say-as>"),
    ("<speak><sub>WWW</sub></speak>", "<sub>"),
    ("<speak><sub alias='a'><s>x</s></sub></speak>", "<sub>"),
    ("<speak><voice name='x'>Hi</voice></speak>", "<voice>"),
    ("<speaker>Hi</speaker>", "<speaker>"),
    ("<speak>" + "<s>" * 20 + "x" + "</s>" * 20 + "</speak>", "<s>"),
    ("Wait [pause:soon] then", "[pause]"),
]


@pytest.mark.parametrize("text, element", REFUSED, ids=[t[:40] for t, _ in REFUSED])
def test_unsupported_or_malformed_markup_is_a_400_naming_the_element(text, element):
    with pytest.raises(InvalidRequest) as raised:
        parse(text)
    assert element in raised.value.message and raised.value.param == "input"


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><speak>&lol2;</speak>')
EXTERNAL = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><speak>&e;</speak>'


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL, "<!DOCTYPE speak><speak>hi</speak>",
                                  "<speak>&undefined;</speak>"])
def test_entities_are_never_expanded(text):
    with pytest.raises(InvalidRequest):
        parse(text)


FRAGMENTS = ["<speak>", "</speak>", "<p>", "</p>", "<s>", "</s>", '<break time="1s"/>', "<break/>",
             '<break strength="x-strong"/>', '<prosody rate="fast">', '<prosody rate="150%">', "</prosody>",
             '<phoneme alphabet="ipa" ph="hˈɛloʊ">', "</phoneme>", '<say-as interpret-as="characters">',
             '<say-as interpret-as="cardinal">', "</say-as>", '<sub alias="x">', "</sub>", "<emphasis>", "<",
             ">", "&", "&amp;", "&#0;", "&#x1F600;", "]]>", "<![CDATA[", "<!--", "-->", '"', "'", "=", "/",
             "Hello ", "world. ", "12 ", "[pause:1s]", "[pause:", "\x00", "\u202e", "ß", " "]


def fuzzed(rng: random.Random) -> str:
    """A mostly-SSML string: fragments in random order, sometimes cut short or with a character mutated."""
    text = "<speak>" + "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 25)))
    if rng.random() < 0.5:
        text += "</speak>"
    if rng.random() < 0.3:
        text = text[:rng.randint(0, len(text))]
    if rng.random() < 0.3 and text:
        position = rng.randrange(len(text))
        text = text[:position] + chr(rng.randint(0, 0x2FF)) + text[position + 1:]
    return text


def test_fuzzed_ssml_parses_or_is_refused_with_a_400():
    rng = random.Random(20261202)
    outcomes = {"parsed": 0, "refused": 0}
    for _ in range(3000):
        text = fuzzed(rng)
        try:
            parts = parse(text)
        except InvalidRequest as refusal:
            assert refusal.status == 400 and refusal.code == "invalid_ssml", text
            outcomes["refused"] += 1
        else:
            assert all(isinstance(p, Part) and 0.25 <= p.rate <= 4 and 0 <= p.pause_s <= 10 for p in parts), text
            outcomes["parsed"] += 1
    assert min(outcomes.values()) > 100  # both paths exercised, not one


@pytest.fixture(scope="module")
def client(api):
    return openai.OpenAI(base_url=f"{api}/v1", api_key=API_KEY, max_retries=0, timeout=300)


def samples(client, text: str) -> np.ndarray:
    pcm = client.audio.speech.create(model="tts-1", voice="alloy", input=text, response_format="pcm").content
    return np.frombuffer(pcm, dtype="<i2")


def longest_silence(audio: np.ndarray) -> int:
    """The longest run of exactly zero samples."""
    edges = np.diff(np.concatenate([[0], (audio == 0).astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((ends - starts).max()) if len(starts) else 0


@pytest.mark.parametrize("paused", ["Hello there. [pause:1s] How are you today?",
                                    '<speak>Hello there. <break time="1s"/> How are you today?</speak>'])
def test_a_pause_lengthens_the_audio_by_exact_silence(client, paused):
    plain, with_pause = samples(client, "Hello there. How are you today?"), samples(client, paused)
    assert abs(len(with_pause) - len(plain) - 24000) <= 600  # one second, within one frame
    assert longest_silence(with_pause) >= 24000 > longest_silence(plain)


def test_prosody_rate_slows_the_enclosed_speech(client):
    normal = samples(client, "<speak>Hello there, how are you?</speak>")
    slow = samples(client, '<speak><prosody rate="x-slow">Hello there, how are you?</prosody></speak>')
    assert len(slow) > 1.5 * len(normal)


@pytest.mark.parametrize("text, element", [("<speak>Hi <s>there</speak>", "<s>"),
                                           ("<speak><emphasis>Hi</emphasis></speak>", "<emphasis>"),
                                           ('<speak><phoneme ph="☃">snow</phoneme></speak>', "☃")])
def test_bad_ssml_is_a_400_naming_the_element(client, text, element):
    with pytest.raises(openai.BadRequestError) as raised:
        client.audio.speech.create(model="tts-1", voice="alloy", input=text, response_format="pcm")
    assert element in raised.value.response.json()["error"]["message"]


def test_fuzzed_ssml_never_reaches_a_server_error(api):
    rng = random.Random(7)
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=300) as http:
        for _ in range(40):
            text = fuzzed(rng)
            response = http.post("/v1/audio/speech", json={"model": "tts-1", "voice": "alloy", "input": text,
                                                           "response_format": "pcm"})
            assert response.status_code in (200, 400), (text, response.text)
