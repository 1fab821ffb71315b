"""Several speakers in one request (Kokoro-FastAPI 0.8's `allow_voice_tags`, `voice_aliases`, SSML's <voice> and
POST /dev/dialogue), its `ssml` flag and /dev/ssml, and `return_timing`: on the tiny stack, held sample for sample
against the same speech asked for one voice at a time; on the real weights, each turn of a dialogue in its own
voice by the voices' pitch, and its word times in order across the turns."""
from __future__ import annotations

import base64
import io
import itertools

import numpy as np
import pytest
import requests
import soundfile

from kokoro_core.contract import SAMPLE_RATE
from tests.helpers import API_KEY

HEADERS = {"Authorization": f"Bearer {API_KEY}"}


def post(api: str, path: str, **body) -> requests.Response:
    return requests.post(f"{api}{path}", json=body, headers=HEADERS, timeout=300)


def pcm(api: str, path: str = "/v1/audio/speech", **body) -> np.ndarray:
    response = post(api, path, response_format="pcm", **body)
    assert response.status_code == 200, response.text
    return np.frombuffer(response.content, np.int16)


def refused(response: requests.Response, code: str | None = None) -> dict:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert code is None or error["code"] == code, error
    return error


def test_voice_tags_switch_the_voice_for_what_follows(api):
    tagged = pcm(api, input="Hello there. [voice:am_michael] Good morning.", voice="af_bella",
                 allow_voice_tags=True)
    one_by_one = np.concatenate([pcm(api, input="Hello there.", voice="af_bella"),
                                 pcm(api, input="Good morning.", voice="am_michael")])
    assert np.array_equal(tagged, one_by_one)
    assert not np.array_equal(tagged, pcm(api, input="Hello there. Good morning.", voice="af_bella"))


def test_tags_are_refused_unless_allowed(api):
    error = refused(post(api, "/v1/audio/speech", input="Hi. [voice:am_michael] Hello."), "unsupported_tag")
    assert "allow_voice_tags" in error["message"]
    refused(post(api, "/v1/audio/speech", input='<speak>Hi <voice name="am_michael">there</voice></speak>'),
            "unsupported_tag")


def test_an_alias_names_a_voice_and_its_rate_which_a_rate_tag_scales(api):
    aliases = {"Grandpa": {"voice": "am_michael", "rate": 0.8}, "narrator": "af_bella"}
    slow = pcm(api, input="[voice:grandpa] Good morning.", allow_voice_tags=True, voice_aliases=aliases)
    assert np.array_equal(slow, pcm(api, input="Good morning.", voice="am_michael", speed=0.8))
    scaled = pcm(api, input="[voice:GRANDPA] [rate:1.25] Good morning.", allow_voice_tags=True,
                 voice_aliases=aliases)
    assert np.array_equal(scaled, pcm(api, input="Good morning.", voice="am_michael"))
    as_voice = pcm(api, input="Good morning.", voice="narrator", voice_aliases=aliases)
    assert np.array_equal(as_voice, pcm(api, input="Good morning.", voice="af_bella"))
    reset = pcm(api, input="[voice:grandpa] Good morning. [voice:narrator] Hello there.", allow_voice_tags=True,
                voice_aliases=aliases)  # the next speaker does not take grandpa's pace
    assert np.array_equal(reset, np.concatenate([slow, pcm(api, input="Hello there.", voice="af_bella")]))


def test_speakers_and_aliases_are_budgeted_and_checked_before_synthesis(api):
    refused(post(api, "/v1/audio/speech", input="Hi.", voice_aliases={"x": "zz_nobody"}), "voice_not_found")
    many = " ".join(f"[voice:v{k}] hi." for k in range(17))
    error = refused(post(api, "/v1/audio/speech", input=many, allow_voice_tags=True), "too_many_speakers")
    assert "MAX_SPEAKERS" in error["message"]
    refused(post(api, "/v1/audio/speech", input="[rate:9] Hi.", allow_voice_tags=True), "invalid_rate")
    refused(post(api, "/v1/audio/speech", input="Hi.", voice_aliases={f"a{k}": "af_bella" for k in range(65)}))


def test_words_say_who_speaks_them_in_order_across_speakers(api):
    response = post(api, "/dev/captioned_speech", input="Hello there. [voice:am_michael] Good morning to you.",
                    voice="af_bella", allow_voice_tags=True, stream=False, response_format="wav")
    assert response.status_code == 200, response.text
    words = response.json()["timestamps"]
    assert [(w["word"], w["voice"]) for w in words] == [
        ("Hello", "af_bella"), ("there", "af_bella"), ("Good", "am_michael"), ("morning", "am_michael"),
        ("to", "am_michael"), ("you", "am_michael")]
    starts = [w["start_time"] for w in words]
    assert starts == sorted(starts) and all(w["end_time"] >= w["start_time"] for w in words)
    plain = post(api, "/dev/captioned_speech", input="Hello there.", stream=False).json()["timestamps"]
    assert not any("voice" in w for w in plain)  # one voice: no name, as Kokoro-FastAPI


def test_dialogue_is_its_turns_with_voice_tags_and_pauses(api):
    turns = [{"voice": "af_bella", "text": "Hello there."}, {"voice": "am_michael", "text": "Good morning."},
             {"voice": "am_michael", "text": "How are you?"}, {"voice": "af_bella", "text": "Fine."}]
    spoken = pcm(api, "/dev/dialogue", turns=turns, pause_between_turns=0.5)
    tagged = pcm(api, input="[voice:af_bella] Hello there. [pause:0.5s] [voice:am_michael] Good morning. How are "
                            "you? [pause:0.5s] [voice:af_bella] Fine.", allow_voice_tags=True)
    assert np.array_equal(spoken, tagged)
    refused(post(api, "/dev/dialogue", turns=[]))
    refused(post(api, "/dev/dialogue", turns=[{"voice": "x]", "text": "Hi."}]))
    refused(post(api, "/dev/dialogue", turns=[{"voice": "zz_nobody", "text": "Hi."}]), "voice_not_found")


SSML = ('<speak>Hello there. <voice name="am_michael">Good <prosody rate="slow">morning</prosody>.</voice>'
        '<break time="700ms"/> Bye now.</speak>')


def test_ssml_is_translated_to_tags_that_speak_the_same(api):
    capabilities = requests.get(f"{api}/dev/ssml", headers=HEADERS, timeout=30).json()
    assert "voice" in capabilities["elements"] and capabilities["needs_voice_tags"] == ["voice"]
    assert capabilities["rate_bounds"] == [0.25, 4.0]
    translation = post(api, "/dev/ssml", text=SSML, voice="af_bella")
    assert translation.status_code == 200, translation.text
    tags = translation.json()["text"]
    assert tags == ("Hello there. [voice:am_michael] Good [rate:0.75] morning [rate:1] . [pause:0.7s] "
                    "[voice:af_bella] Bye now.")
    as_ssml = pcm(api, input=SSML, voice="af_bella", ssml=True, allow_voice_tags=True)
    assert np.array_equal(as_ssml, pcm(api, input=tags, voice="af_bella", allow_voice_tags=True))
    refused(post(api, "/v1/audio/speech", input=SSML, ssml=True))  # needs allow_voice_tags, as there
    refused(post(api, "/v1/audio/speech", input="Plain text.", ssml=True, allow_voice_tags=True), "invalid_ssml")
    refused(post(api, "/dev/ssml", text="<speak><audio src='x'/></speak>"), "invalid_ssml")


def test_return_timing_keeps_the_chunks_times_beside_the_download(api):
    response = post(api, "/v1/audio/speech", input="Hello there. [pause:1.5s] Good morning to you.",
                    response_format="wav", return_download_link=True, return_timing=True)
    assert response.status_code == 200, response.text
    samples, rate = soundfile.read(io.BytesIO(response.content), dtype="int16")
    timing = requests.get(f"{api}/v1{response.headers['X-Timing-Path']}", headers=HEADERS, timeout=30)
    assert timing.status_code == 200 and timing.headers["content-type"] == "application/json"
    chunks = timing.json()["chunks"]
    assert [c["text"] for c in chunks] == ["Hello there.", "", "Good morning to you."]
    assert chunks[1]["end"] - chunks[1]["start"] == pytest.approx(1.5, abs=1e-6)
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(chunks))
    assert chunks[0]["start"] == 0 and chunks[-1]["end"] == pytest.approx(len(samples) / rate, abs=1e-6)
    refused(post(api, "/v1/audio/speech", input="Hi.", return_timing=True))


# The voices' pitch on the real weights: a dialogue's turns each in its speaker's register.
DIALOGUE = [("jf_alpha", "Good morning, how are you feeling today?"),
            ("jm_kumo", "I am doing well, thank you for asking."),
            ("jf_alpha", "That is wonderful to hear, so let us begin."),
            ("jm_kumo", "Yes, we can start with the first item on the list.")]
REFERENCE = "This is how my own voice sounds when I read a sentence aloud."
FRAME = 1024  # 43 ms at 24 kHz, two periods of the lowest pitch looked for
LOWEST_HZ, HIGHEST_HZ = 60, 400


def pitch_hz(samples: np.ndarray) -> float:
    """The median fundamental frequency of the voiced frames: each frame's strongest normalized autocorrelation
    between LOWEST_HZ and HIGHEST_HZ, where it is periodic (above 0.6) and not quiet."""
    samples = samples.astype(np.float64)
    loud = 0.1 * np.sqrt(np.mean(samples ** 2))
    lags = np.arange(SAMPLE_RATE // HIGHEST_HZ, SAMPLE_RATE // LOWEST_HZ)
    found = []
    for start in range(0, len(samples) - FRAME - lags[-1], FRAME // 2):
        frame = samples[start:start + FRAME]
        if np.sqrt(np.mean(frame ** 2)) < loud:
            continue
        shifted = np.stack([samples[start + lag:start + lag + FRAME] for lag in lags])
        score = shifted @ frame / (np.linalg.norm(frame) * np.linalg.norm(shifted, axis=1) + 1e-9)
        if score.max() > 0.6:
            found.append(SAMPLE_RATE / lags[int(score.argmax())])
    assert len(found) > 10, "too few voiced frames to tell a pitch"
    return float(np.median(found))


def wav(real_http, path: str, **body) -> tuple[np.ndarray, dict]:
    response = real_http.post(path, json={"response_format": "wav", **body})
    assert response.status_code == 200, response.text
    if path == "/dev/captioned_speech":
        found = response.json()
        return soundfile.read(io.BytesIO(base64.b64decode(found["audio"])), dtype="int16")[0], found
    return soundfile.read(io.BytesIO(response.content), dtype="int16")[0], {}


def test_each_turn_of_a_dialogue_is_spoken_in_its_voice(real_http):
    """Each turn's pitch is nearer its own voice's (that voice reading another sentence alone) than the other's;
    its words carry that voice, in order, their times rising across the turns."""
    references = {voice: pitch_hz(wav(real_http, "/v1/audio/speech", input=REFERENCE, voice=voice)[0])
                  for voice in ("jf_alpha", "jm_kumo")}
    assert references["jf_alpha"] > 1.3 * references["jm_kumo"], references
    turns = [{"voice": voice, "text": text} for voice, text in DIALOGUE]
    dialogue, _ = wav(real_http, "/dev/dialogue", turns=turns, pause_between_turns=0.3)
    tagged = " [pause:0.3s] ".join(f"[voice:{voice}] {text}" for voice, text in DIALOGUE)
    captioned, found = wav(real_http, "/dev/captioned_speech", input=tagged, allow_voice_tags=True, stream=False)
    assert np.array_equal(dialogue, captioned)
    words = found["timestamps"]
    assert [w["voice"] for w in words] == [voice for voice, text in DIALOGUE for _ in text.split()]
    starts = [w["start_time"] for w in words]
    assert starts == sorted(starts) and words[-1]["end_time"] <= len(dialogue) / SAMPLE_RATE
    position = 0
    for voice, text in DIALOGUE:
        turn = words[position:position + len(text.split())]
        position += len(turn)
        heard = pitch_hz(dialogue[round(turn[0]["start_time"] * SAMPLE_RATE):round(turn[-1]["end_time"] * SAMPLE_RATE)])
        other = next(v for v in references if v != voice)
        print(f"{voice}: turn {heard:.0f} Hz, own voice {references[voice]:.0f} Hz, other {references[other]:.0f} Hz")
        assert abs(heard - references[voice]) < abs(heard - references[other]), (voice, heard, references)
