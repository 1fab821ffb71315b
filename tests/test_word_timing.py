"""Word timestamps and captions through the real stack (uvicorn + tritonserver, synthetic weights), held exactly to
the durations Triton returns for the same chunks: a word starts where the frames before it end (frames x 600
samples at 24 kHz), after all the audio before its chunk (chunks and pauses), at any speed and output rate."""
import base64
import html
import io
import json
from dataclasses import dataclass

import httpx
import numpy as np
import openai
import pytest
import soundfile
import srt
import tritonclient.http as tritonhttp
import webvtt

from frontend.reading import ssml
from frontend.reading.chunks import text_chunks
from frontend.reading.phonemes import Phonemizer
from frontend.reading.timing import LEAD_FRAMES
from frontend.synthesis.voices import VoiceCatalog
from kokoro_core.contract import SAMPLE_RATE, SAMPLES_PER_FRAME
from tests.helpers import API_KEY, decode, deployment_env

VOICE = "af_heart"
CHUNK_MAX_PHONEMES = int(deployment_env()["CHUNK_MAX_PHONEMES"])
# Three sentences, three chunks; words that G2P reads one phoneme word each, so the reference below can find them.
SENTENCES = "The quick brown fox jumps over the lazy dog. Please call Stella right now. She will bring home the peas."
PAUSED = 'Hello there, my friend. [pause:0.7s] Come home soon.'
SSML = '<speak>Hello there. <break time="1200ms"/><prosody rate="slow">Come home soon.</prosody></speak>'


@dataclass
class Expected:
    words: list[tuple[str, float, float]]  # (word, start, end), seconds
    seconds: float  # of audio
    chunks: int
    pauses: list[tuple[float, float]]  # (start, end) of each pause's exact silence


@pytest.fixture(scope="module")
def http(api):
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=300) as client:
        yield client


@pytest.fixture(scope="module")
def reference(triton, tiny_repository):
    """The expected words and times of a text: its chunks sent to Triton directly, their durations summed."""
    assets = tiny_repository / "kokoro" / "assets"
    phonemizer, voices = Phonemizer(assets), VoiceCatalog(assets / "voices")
    client = tritonhttp.InferenceServerClient(triton.http_url)

    def durations(token_ids: list[int], speed: float) -> np.ndarray:
        inputs = [tritonhttp.InferInput("token_ids", [1, len(token_ids)], "INT64"),
                  tritonhttp.InferInput("style", [1, 256], "FP32"), tritonhttp.InferInput("speed", [1, 1], "FP32")]
        inputs[0].set_data_from_numpy(np.array([token_ids], np.int64))
        inputs[1].set_data_from_numpy(voices.style([(VOICE, 1.0)], len(token_ids)).reshape(1, -1).astype(np.float32))
        inputs[2].set_data_from_numpy(np.array([[speed]], np.float32))
        result = client.infer("kokoro", inputs)
        assert len(result.as_numpy("audio")[0]) == result.as_numpy("durations")[0].sum() * SAMPLES_PER_FRAME
        return result.as_numpy("durations")[0]

    def expected(text: str, speed: float) -> Expected:
        """Each part's chunks, then its pause."""
        words, pauses, offset, chunks = [], [], 0, 0
        for part in ssml.parse(text):
            for chunk in text_chunks(phonemizer, part.text, "a", CHUNK_MAX_PHONEMES):
                frames = durations(chunk.token_ids, min(max(speed * part.rate, 0.25), 4.0))
                words += chunk_words(chunk.text, "".join(p for p in chunk.phonemes if p in phonemizer.vocab),
                                     frames, offset)
                offset += frames.sum() * SAMPLES_PER_FRAME
                chunks += 1
            pause = round(part.pause_s * SAMPLE_RATE)
            if pause:
                pauses.append((offset / SAMPLE_RATE, (offset + pause) / SAMPLE_RATE))
            offset += pause
        return Expected(words, offset / SAMPLE_RATE, chunks, pauses)
    yield expected
    client.close()


def chunk_words(text: str, symbols: str, frames: np.ndarray, offset: int) -> list[tuple[str, float, float]]:
    """A simple text's words, one phoneme word each, timed by hand: token k of the chunk sounds from frame
    sum(frames[:k + 1]) (the leading pad first) to sum(frames[:k + 2]), heard LEAD_FRAMES early but not before the
    chunk; punctuation is no word's."""
    ends = np.maximum(np.cumsum(frames) - LEAD_FRAMES, 0) * SAMPLES_PER_FRAME + offset
    words, position = [], 0
    for word, phonemes in zip(text.split(), symbols.split(), strict=True):
        position = symbols.index(phonemes, position)
        spoken = phonemes.strip(",.!?")
        first = position + phonemes.index(spoken)
        words.append((word.strip(",.!?"), ends[first] / SAMPLE_RATE, ends[first + len(spoken)] / SAMPLE_RATE))
        position += len(phonemes)
    return words


def words_of(timestamps: list[dict]) -> list[tuple[str, float, float]]:
    return [(w["word"], w["start_time"], w["end_time"]) for w in timestamps]


def assert_times(got: list[tuple[str, float, float]], expected: Expected) -> None:
    """Exactly the times the durations give (to the microsecond the API rounds to)."""
    assert [w for w, _, _ in got] == [w for w, _, _ in expected.words]
    np.testing.assert_allclose([t for _, *t in got], [t for _, *t in expected.words], rtol=0, atol=1e-6)


def assert_offsets(timestamps: list[dict], text: str) -> None:
    assert all(text[w["char_start"]:w["char_end"]] == w["word"] for w in timestamps)


def test_captioned_speech_whole_at_speed_and_rate(http, reference):
    """Kokoro-FastAPI's example client's request, unchanged but for the rate: three chunks at speed 1.5, resampled
    to 16 kHz. A word of the second or third chunk shifted, or times scaled by the speed, would differ."""
    response = http.post("/dev/captioned_speech", json={"model": "kokoro", "input": SENTENCES, "voice": VOICE,
                                                        "speed": 1.5, "response_format": "wav", "stream": False,
                                                        "sample_rate": 16000})
    assert response.status_code == 200, response.text
    body = json.loads(response.content)
    assert set(body) == {"audio", "audio_format", "timestamps"} and body["audio_format"] == "audio/wav"
    expected = reference(SENTENCES, 1.5)
    assert expected.chunks == 3
    assert_times(words_of(body["timestamps"]), expected)
    assert_offsets(body["timestamps"], SENTENCES)
    samples, rate = soundfile.read(io.BytesIO(base64.b64decode(body["audio"])))
    assert rate == 16000 and abs(len(samples) - expected.seconds * rate) <= 1


def test_captioned_speech_streams_a_line_per_chunk(http, reference):
    """Kokoro-FastAPI's defaults (streamed, mp3): one JSON line per piece of audio, each chunk's words with it."""
    with http.stream("POST", "/dev/captioned_speech", json={"input": PAUSED, "voice": VOICE}) as response:
        assert response.headers["content-type"] == "application/json"
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert all(set(line) == {"audio", "audio_format", "timestamps"} for line in lines)
    assert {line["audio_format"] for line in lines} == {"audio/mpeg"}
    expected = reference(PAUSED, 1.0)
    assert expected.chunks == 2 and len([line for line in lines if line["timestamps"]]) == 2
    timestamps = [w for line in lines for w in line["timestamps"]]
    assert_times(words_of(timestamps), expected)
    assert_offsets(timestamps, PAUSED)
    _, seconds = decode(b"".join(base64.b64decode(line["audio"]) for line in lines), "mp3")
    assert abs(seconds - expected.seconds) < 0.005 + 2 * 1152 / SAMPLE_RATE  # the encoder's delay and last frame


@pytest.fixture(scope="module")
def client(api):
    return openai.OpenAI(base_url=f"{api}/v1", api_key=API_KEY, max_retries=0, timeout=300)


def test_openai_sse_word_events_with_the_sdk(client, reference):
    """`alignment: word` through the SDK's extra_body: SSML with a pause and a slower part, at speed 0.8. Each
    words event follows its chunk's audio, and the pause is exact silence between two words."""
    with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice=VOICE, input=SSML, response_format="pcm", stream_format="sse", speed=0.8,
            extra_body={"alignment": "word"}) as response:
        events = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
    expected = reference(SSML, 0.8)
    words = [w for e in events if e["type"] == "speech.audio.words" for w in e["words"]]
    assert_times(words_of(words), expected)
    pcm = b""
    for event in events:
        if event["type"] == "speech.audio.delta":
            pcm += base64.b64decode(event["audio"])
        elif event["type"] == "speech.audio.words":
            assert len(pcm) / 2 / SAMPLE_RATE >= event["words"][-1]["end_time"]
    samples = np.frombuffer(pcm, "<i2")
    assert len(samples) == round(expected.seconds * SAMPLE_RATE)
    [(start, end)] = expected.pauses
    assert not samples[round(start * SAMPLE_RATE):round(end * SAMPLE_RATE)].any()
    assert words[1]["end_time"] <= start and words[2]["start_time"] >= end


def test_together_word_timestamps_events(http, reference):
    body = {"model": "hexgrad/Kokoro-82M", "input": SENTENCES, "voice": VOICE, "stream": True, "alignment": "word",
            "speed": 1.5, "sample_rate": 16000, "response_encoding": "pcm_s16le"}
    with http.stream("POST", "/v1/audio/speech", json=body) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line[6:]) for line in lines[:-1]]
    timing = [e for e in events if e.get("type") == "conversation.item.word_timestamps"]
    assert len(timing) == 3 and all(set(e) == {"type", "words", "start_seconds", "end_seconds"} for e in timing)
    got = [w for e in timing for w in zip(e["words"], e["start_seconds"], e["end_seconds"], strict=True)]
    assert_times(got, expected := reference(SENTENCES, 1.5))
    pcm = b"".join(base64.b64decode(e["b64"]) for e in events if e.get("object") == "audio.tts.chunk")
    assert abs(len(pcm) / 2 - expected.seconds * 16000) <= 1


WORD_EVENTS = (b"speech.audio.words", b"conversation.item.word_timestamps")


@pytest.mark.parametrize("dialect", [{"stream_format": "sse", "response_format": "pcm"}, {"stream": True}],
                         ids=["openai", "together"])
def test_streams_are_unchanged_unless_words_are_asked_for(http, dialect):
    """Byte for byte: without `alignment` (or with `none`) the events are what they were; with `word`, the same
    events and the words events between them."""
    body = {"model": "kokoro", "input": SENTENCES, "voice": VOICE, **dialect}
    plain = http.post("/v1/audio/speech", json=body).content
    assert not any(kind in plain for kind in WORD_EVENTS)
    assert http.post("/v1/audio/speech", json={**body, "alignment": "none"}).content == plain
    timed = http.post("/v1/audio/speech", json={**body, "alignment": "word"}).content.split(b"\n\n")
    assert b"\n\n".join(e for e in timed if not any(kind in e for kind in WORD_EVENTS)) == plain
    assert len(timed) - len(plain.split(b"\n\n")) == 3  # one per chunk


@pytest.mark.parametrize("caption_format", ["vtt", "srt"])
def test_captions_fit_the_speech_and_parse(http, caption_format):
    """A cue per sentence here, starting with its first word as /dev/captioned_speech times it."""
    body = {"model": "kokoro", "input": SENTENCES, "voice": VOICE, "speed": 1.5}
    response = http.post("/v1/audio/captions", json={**body, "caption_format": caption_format})
    assert response.status_code == 200, response.text
    if caption_format == "vtt":
        assert response.headers["content-type"] == "text/vtt; charset=utf-8"
        cues = [(vtt_seconds(c.start), html.unescape(c.text)) for c in webvtt.from_buffer(io.StringIO(response.text))]
    else:
        assert response.headers["content-type"] == "application/x-subrip"
        cues = [(s.start.total_seconds(), s.content) for s in srt.parse(response.text)]
    assert [text for _, text in cues] == ["The quick brown fox\njumps over the lazy dog.",  # two lines of 42 at most
                                          "Please call Stella right now.", "She will bring home the peas."]
    words = http.post("/dev/captioned_speech", json={**body, "stream": False}).json()["timestamps"]
    firsts = [words[0], words[9], words[14]]
    assert [start for start, _ in cues] == [round(w["start_time"], 3) for w in firsts]


def vtt_seconds(stamp: str) -> float:
    hours, minutes, rest = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


@pytest.mark.parametrize("path, body, status, param", [
    ("/dev/captioned_speech", {"input": "Hi.", "model": "nope"}, 404, "model"),
    ("/dev/captioned_speech", {"input": "Hi.", "speed": 9}, 400, "speed"),
    ("/dev/captioned_speech", {"input": "Hi.", "voice": "nobody"}, 400, "voice"),
    ("/dev/captioned_speech", {"input": "Hi.", "response_format": "raw"}, 400, "response_format"),
    ("/v1/audio/captions", {"model": "kokoro", "input": "Hi.", "caption_format": "ass"}, 400, "caption_format"),
    ("/v1/audio/speech", {"model": "kokoro", "input": "Hi.", "alignment": "char"}, 400, "alignment"),
])
def test_errors_have_the_one_error_body(http, path, body, status, param):
    response = http.post(path, json=body)
    assert response.status_code == status and response.json()["error"]["param"] == param


def test_the_new_routes_need_the_key(api):
    for path in ("/dev/captioned_speech", "/v1/audio/captions"):
        assert httpx.post(f"{api}{path}", json={"model": "kokoro", "input": "Hi."}).status_code == 401
