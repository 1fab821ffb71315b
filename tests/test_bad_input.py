"""A hand-written corpus of bad and odd requests against the real stack: each gets a 4xx in the OpenAI error
shape or valid audio, never a 5xx or a hang, and the server is healthy afterwards. (test_fuzz.py adds
schemathesis-generated requests.)"""
from __future__ import annotations

import io
import json

import av
import httpx
import pytest

from tests.helpers import API_KEY

OK = {"model": "kokoro", "input": "Hello there.", "response_format": "wav"}


def body(**fields) -> bytes:
    return json.dumps({**OK, **fields}).encode()


def raw(text: str) -> bytes:
    """A body as written, for what json.dumps would never produce (NaN, lone surrogates, bad UTF-8)."""
    return text.encode("utf-8", "surrogatepass")


CORPUS = {
    # malformed JSON and wrong shapes
    "truncated json": b'{"model": "kokoro", "input": "hi"',
    "not json": b"say hello",
    "json array": b'["kokoro", "hi"]',
    "json null": b"null",
    "json string": b'"hello"',
    "empty object": b"{}",
    "empty body": b"",
    "invalid utf-8": b'{"model": "kokoro", "input": "\xff\xfe hi"}',
    "deeply nested": b'{"model": "kokoro", "input": "hi", "provider": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001,
    "duplicate keys": b'{"model": "kokoro", "input": "a", "input": "Hello."}',
    # wrong types
    "input number": body(input=123),
    "input list": body(input=["hi"]),
    "input null": body(input=None),
    "model number": body(model=5),
    "model missing": json.dumps({"input": "Hello."}).encode(),
    "voice number": body(voice=5),
    "voice object without id": body(voice={"name": "alloy"}),
    "speed string": body(speed="fast"),
    "stream string": body(stream="yes please"),
    "sample_rate float": body(sample_rate=24000.5),
    "format unknown": body(response_format="mp4"),
    "format number": body(response_format=3),
    "encoding for mp3": body(response_format="mp3", response_encoding="pcm_s16le"),
    "encoding unknown": body(response_format="pcm", response_encoding="pcm_s24be"),
    # empty and oversized input
    "input empty": body(input=""),
    "input whitespace": body(input="  \n\t  \u3000 "),
    "input 4097 characters": body(input="a" * 4097),
    "phonemes oversized": body(phonemes="h" * 20_001),
    # odd text
    "control characters": body(input="Hello\x00 wor\x07ld\x1b[31m red\x7f."),
    "only emoji": body(input="😀🎉🔥"),
    "emoji in text": body(input="Great news 🎉 we shipped it 🚀."),
    "zero-width and combining": body(input="Ze\u200brо\u0301 w\u200did\u2060th."),
    "arabic": body(input="مرحبا بالعالم"),
    "hebrew in english voice": body(input="שלום עולם", voice="af_heart"),
    "mixed direction": body(input="The word \u202eolleh\u202c is reversed."),
    "unpaired high surrogate": raw('{"model": "kokoro", "input": "Hi \\ud800 there.", "response_format": "wav"}'),
    "unpaired low surrogate": raw('{"model": "kokoro", "input": "\\udfff", "response_format": "wav"}'),
    "only punctuation": body(input="...!!! ??? ---"),
    "only digits": body(input="0000000000000000000000000000000000000000000000000000"),
    "huge number": body(input="1" * 60),
    "one very long word": body(input="a" * 300),
    "private use and noncharacters": body(input="\ue000\uffff\U0010fffd hello"),
    "bad pronunciation override": body(input="[Kokoro](/☃☃/) speaks."),
    "garbage phonemes": body(input="x", phonemes="☃☃☃ ### ~~~"),
    # voices
    "voice unknown": body(voice="xx_nobody"),
    "voice empty": body(voice=""),
    "blend dangling plus": body(voice="af_bella+"),
    "blend only plus": body(voice="+"),
    "blend negative weight": body(voice="af_bella(-1)+af_sky"),
    "blend zero weight": body(voice="af_bella(0)"),
    "blend zero weights everywhere": body(voice="af_bella(0)+af_sky(0)"),
    "blend weight text": body(voice="af_bella(abc)"),
    "blend weight overflow": body(voice="af_bella(1e309)+af_sky"),
    "blend weight nan": body(voice="af_bella(nan)+af_sky"),
    "blend weight inf": body(voice="af_bella(inf)+af_sky"),
    "blend of a thousand": body(voice="+".join(["af_bella"] * 1000)),
    "voice path traversal": body(voice="../../etc/passwd"),
    "voice 10k characters": body(voice="a" * 10_000),
    # speed
    "speed NaN": raw('{"model": "kokoro", "input": "Hi.", "speed": NaN}'),
    "speed Infinity": raw('{"model": "kokoro", "input": "Hi.", "speed": Infinity}'),
    "speed -Infinity": raw('{"model": "kokoro", "input": "Hi.", "speed": -Infinity}'),
    "speed overflow": raw('{"model": "kokoro", "input": "Hi.", "speed": 1e309}'),
    "speed negative": body(speed=-1),
    "speed zero": body(speed=0),
    "speed just over": body(speed=4.0001),
    # sample rate
    "sample_rate huge": body(response_format="pcm", sample_rate=10**9),
    "sample_rate bignum": body(response_format="pcm", sample_rate=10**30),
    "sample_rate negative": body(response_format="pcm", sample_rate=-1),
    "sample_rate zero": body(response_format="pcm", sample_rate=0),
    "sample_rate odd": body(response_format="pcm", sample_rate=11025),
    "sample_rate mp3 cannot write": body(response_format="mp3", sample_rate=10000),
    "sample_rate aac cannot write": body(response_format="aac", sample_rate=47000),
    # languages
    "lang_code unknown": body(lang_code="zz-ZZ"),
    "language unknown": body(language="klingon"),
    "lang_code oversized": body(lang_code="en-" + "x" * 10_000),
}


def post(http: httpx.Client, data: bytes, headers: dict | None = None) -> httpx.Response:
    return http.post("/v1/audio/speech", content=data, headers={"Content-Type": "application/json", **(headers or {})},
                     timeout=120)


def assert_clear_answer(response: httpx.Response) -> None:
    """A 4xx with OpenAI's error body, or audio that an independent decoder reads."""
    if response.status_code == 200:
        assert response.headers["content-type"].startswith("audio/"), response.headers
        if response.headers["content-type"] == "audio/pcm":
            assert len(response.content) % 2 == 0
        else:
            container = av.open(io.BytesIO(response.content))
            assert sum(frame.samples for frame in container.decode(audio=0)) > 0
        return
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    error = response.json()["error"]
    assert error["message"] and error["type"] and set(error) == {"message", "type", "param", "code"}


@pytest.fixture(scope="module")
def http(api):
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {API_KEY}"}) as client:
        yield client


@pytest.mark.parametrize("name", CORPUS)
def test_bad_input_gets_a_clear_answer(http, name):
    assert_clear_answer(post(http, CORPUS[name]))


@pytest.mark.parametrize("name, expected", [
    ("truncated json", 400), ("input empty", 400), ("input 4097 characters", 400), ("voice unknown", 400),
    ("blend negative weight", 400), ("blend weight nan", 400), ("speed NaN", 400), ("speed Infinity", 400),
    ("sample_rate huge", 400), ("voice path traversal", 400)])
def test_what_must_be_refused_is_refused(http, name, expected):
    response = post(http, CORPUS[name])
    assert response.status_code == expected, response.text


def test_multi_megabyte_bodies_get_413_declared_or_streamed(http):
    big = body(input="word " * 600_000)  # 3 MB
    assert post(http, big).status_code == 413
    chunked = http.post("/v1/audio/speech", content=iter([big[i:i + 65536] for i in range(0, len(big), 65536)]),
                        headers={"Content-Type": "application/json"}, timeout=60)
    assert chunked.status_code == 413 and chunked.json()["error"]["code"] == "request_too_large"


def test_the_server_is_healthy_after_the_corpus(http):
    """Runs after the corpus above (pytest keeps file order), in the same frontend process."""
    assert http.get("/health").json() == {"status": "ok"}
    assert http.get("/ready").status_code == 200
    assert post(http, body()).status_code == 200
