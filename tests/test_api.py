"""The OpenAI-compatible API against the real stack (uvicorn + tritonserver), with the official SDK
and raw HTTP; every returned file is decoded by libsndfile (not FFmpeg, which encodes it; AAC, which
libsndfile does not read, by FFmpeg) and its rate and duration checked."""
import asyncio
import base64
import io
import json

import httpx
import openai
import pytest
import soundfile

from tests.helpers import (
    API_KEY,
    RAW_SUBTYPES,
    decode,
    decode_with_ffmpeg,
    deployment_env,
    free_port,
    frontend,
    inflight,
    settled,
    wait_until,
)

TEXT = "Hello there. This sentence is spoken by Kokoro on Triton."


def slack(fmt: str, rate: int) -> float:
    """How far a decoded file's duration may be from the samples sent: resampling's rounding, plus for MP3
    and AAC the encoder's delay and last frame (up to two frames), which a file streamed as it is encoded
    cannot tell its decoder to trim. Ogg Opus has its pre-skip; WAV and FLAC are exact."""
    return 0.005 + {"mp3": 2 * 1152, "aac": 2 * 1024}.get(fmt, 0) / rate


@pytest.fixture(scope="module")
def client(api):
    return openai.OpenAI(base_url=f"{api}/v1", api_key=API_KEY, max_retries=0, timeout=300)


@pytest.fixture(scope="module")
def http(api):
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=300) as c:
        yield c


@pytest.fixture(scope="module")
def text_seconds(client) -> float:
    """The exact length of TEXT's audio: 16-bit samples at 24 kHz (synthesis is deterministic)."""
    pcm = client.audio.speech.create(model="tts-1", voice="alloy", input=TEXT, response_format="pcm").content
    assert len(pcm) % 2 == 0 and len(pcm) > 24000  # more than half a second
    return len(pcm) / 2 / 24000


@pytest.mark.parametrize("fmt, rate", [("mp3", 24000), ("opus", 24000), ("aac", 24000), ("flac", 24000),
                                       ("wav", 24000), ("pcm", 24000)])
def test_every_format_decodes_with_the_right_rate_and_duration(client, text_seconds, fmt, rate):
    response = client.audio.speech.create(model="tts-1", voice="alloy", input=TEXT, response_format=fmt)
    sample_rate, seconds = decode(response.content, fmt)
    assert sample_rate == rate
    assert abs(seconds - text_seconds) < slack(fmt, rate)


@pytest.mark.parametrize("fmt, media_type", [("mp3", "audio/mpeg"), ("opus", "audio/ogg"), ("aac", "audio/aac"),
                                             ("flac", "audio/flac"), ("wav", "audio/wav"), ("pcm", "audio/pcm")])
@pytest.mark.parametrize("asked, opus_rate", [(44100, 48000), (11025, 12000), (16000, 16000)])
def test_sample_rate_in_every_format(http, text_seconds, fmt, media_type, asked, opus_rate):
    """Resampled to the rate asked; Opus, which has five rates, gets the nearest."""
    response = http.post("/v1/audio/speech", json={"model": "kokoro", "input": TEXT, "voice": "alloy",
                                                   "response_format": fmt, "sample_rate": asked})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    rate, seconds = decode(response.content, fmt, rate=asked)
    assert rate == (opus_rate if fmt == "opus" else asked)
    assert abs(seconds - text_seconds) < slack(fmt, rate)


@pytest.mark.parametrize("fmt", ["pcm", "raw", "wav"])
@pytest.mark.parametrize("encoding", ["pcm_s16le", "pcm_f32le", "pcm_mulaw", "pcm_alaw"])
def test_response_encodings(http, text_seconds, fmt, encoding):
    response = http.post("/v1/audio/speech", json={"model": "kokoro", "input": TEXT, "voice": "alloy",
                                                   "response_format": fmt, "response_encoding": encoding})
    assert response.status_code == 200, response.text
    if fmt == "wav":
        assert soundfile.info(io.BytesIO(response.content)).subtype == RAW_SUBTYPES[encoding]
    assert decode(response.content, fmt, encoding)[1] == pytest.approx(text_seconds, abs=0.01)


def test_together_sdk_default_request(http, text_seconds):
    """What Together's Python SDK sends when only model, input and voice are given."""
    body = {"model": "hexgrad/Kokoro-82M", "input": TEXT, "voice": "af_alloy", "response_format": "wav",
            "language": "en", "response_encoding": "pcm_f32le", "sample_rate": 44100, "stream": False}
    response = http.post("/v1/audio/speech", json=body)
    assert response.status_code == 200, response.text
    assert soundfile.info(io.BytesIO(response.content)).subtype == "FLOAT"
    rate, seconds = decode(response.content)
    assert rate == 44100 and seconds == pytest.approx(text_seconds, abs=0.01)


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3"])
def test_stream_format_audio(http, text_seconds, fmt):
    """A raw streamed file (wav's sizes unknown while it streams) is still one file that decodes whole."""
    body = {"model": "kokoro", "input": TEXT + " " + TEXT, "response_format": fmt, "stream_format": "audio"}
    with http.stream("POST", "/v1/audio/speech", json=body) as response:
        data = b"".join(response.iter_bytes())
    # libsndfile fails seeking past the end of a FLAC stream whose header leaves the length unknown (0, as
    # the format allows for streams); FFmpeg's decoder reads it.
    seconds = (decode_with_ffmpeg(data) if fmt == "flac" else decode(data, fmt))[1]
    assert abs(seconds - 2 * text_seconds) < slack(fmt, 24000)


def test_streaming_response_to_file(client, text_seconds, tmp_path):
    path = tmp_path / "speech.mp3"
    with client.audio.speech.with_streaming_response.create(
            model="kokoro", voice="alloy", input=TEXT + " " + TEXT, instructions="Cheerful.") as response:
        response.stream_to_file(path)
    _, seconds = decode(path.read_bytes())
    assert abs(seconds - 2 * text_seconds) < 0.1  # both copies, nothing dropped


def test_eight_concurrent_requests_with_the_async_client(api, client):
    """Eight at once through the async SDK, each as long as the same text asked alone."""
    texts = [f"Request number {i} says hello." + " And more." * i for i in range(8)]

    async def run():
        async_client = openai.AsyncOpenAI(base_url=f"{api}/v1", api_key=API_KEY, max_retries=0, timeout=300)
        return await asyncio.gather(*(async_client.audio.speech.create(model="kokoro", voice="af_heart", input=t,
                                                                       response_format="wav") for t in texts))
    together = [decode(r.content) for r in asyncio.run(run())]
    alone = [decode(client.audio.speech.create(model="kokoro", voice="af_heart", input=text,
                                               response_format="pcm").content, "pcm") for text in texts]
    assert together == alone


def test_errors_map_to_the_sdk_exceptions(api, client):
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{api}/v1", api_key="wrong", max_retries=0).audio.speech.create(
            model="kokoro", voice="alloy", input="hi")
    with pytest.raises(openai.NotFoundError) as e:
        client.audio.speech.create(model="tts-9", voice="alloy", input="hi")
    assert e.value.body["code"] == "model_not_found"
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.speech.create(model="kokoro", voice="nobody", input="hi")
    assert e.value.body["param"] == "voice"
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.speech.create(model="kokoro", voice="alloy", input="hi", speed=9)
    assert e.value.body["param"] == "speed"
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.speech.create(model="kokoro", voice="alloy", input="x" * 4097)
    assert e.value.body["param"] == "input"


def test_error_body_shape_and_statuses(api, http):
    response = http.post("/v1/audio/speech", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert http.post("/v1/audio/speech", json={"model": "kokoro"}).status_code == 400  # no input
    assert http.post("/v1/audio/speech", json={"model": "kokoro", "input": ""}).status_code == 400
    assert http.post("/v1/audio/speech", content=b"x" * (2 << 20)).status_code == 413
    assert httpx.post(f"{api}/v1/audio/speech", json={"model": "kokoro", "input": "hi"}).status_code == 401
    unknown_language = {"model": "kokoro", "input": "hi", "lang_code": "xx-YY"}
    assert http.post("/v1/audio/speech", json=unknown_language).status_code == 400
    assert httpx.get(f"{api}/health").status_code == 200  # health stays open


def test_openai_sse_stream(http, text_seconds):
    body = {"model": "gpt-4o-mini-tts", "input": TEXT, "voice": "alloy", "stream_format": "sse",
            "response_format": "pcm"}
    with http.stream("POST", "/v1/audio/speech", json=body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
    assert {e["type"] for e in events[:-1]} == {"speech.audio.delta"}
    assert events[-1]["type"] == "speech.audio.done" and events[-1]["usage"]["input_tokens"] > 0
    pcm = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    _, seconds = decode(pcm, "pcm")
    assert seconds == pytest.approx(text_seconds, abs=1e-6)


def test_together_stream_and_fields(http, text_seconds):
    body = {"model": "hexgrad/Kokoro-82M", "input": TEXT, "voice": "af_alloy", "stream": True, "language": "en",
            "response_encoding": "pcm_s16le", "sample_rate": 16000}
    with http.stream("POST", "/v1/audio/speech", json=body) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert all(c["object"] == "audio.tts.chunk" and c["model"] == "hexgrad/Kokoro-82M" for c in chunks)
    pcm = b"".join(base64.b64decode(c["b64"]) for c in chunks)
    assert decode(pcm, "pcm", rate=16000)[1] == pytest.approx(text_seconds, abs=0.01)  # resampled to 16 kHz


def test_together_stream_defaults_to_float_raw(http, text_seconds):
    body = {"model": "kokoro", "input": TEXT, "voice": "alloy", "stream": True}
    with http.stream("POST", "/v1/audio/speech", json=body) as response:
        chunks = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: {")]
    raw = b"".join(base64.b64decode(c["b64"]) for c in chunks)
    assert decode(raw, "raw", "pcm_f32le")[1] == pytest.approx(text_seconds, abs=1e-6)


def test_unknown_fields_and_provider_are_ignored(http, text_seconds):
    response = http.post("/v1/audio/speech", json={"model": "kokoro", "input": TEXT, "voice": "alloy",
                                                   "response_format": "raw", "sample_rate": 8000,
                                                   "provider": {"order": ["x"]}, "unknown": 1})
    assert response.status_code == 200
    assert decode(response.content, "raw", "pcm_f32le", 8000)[1] == pytest.approx(text_seconds, abs=0.01)


def test_alias_route_voices_models_and_readiness(api, http, text_seconds):
    response = http.post("/audio/speech", json={"model": "kokoro", "input": TEXT, "voice": "alloy"})
    assert response.status_code == 200 and abs(decode(response.content)[1] - text_seconds) < 0.08
    blend = http.post("/audio/speech", json={"model": "kokoro", "input": "Alias.", "voice": "af_bella(2)+af_sky(1)"})
    assert blend.status_code == 200 and decode(blend.content)[1] > 0.2
    voices = http.get("/v1/audio/voices").json()["voices"]
    assert {"id": "af_heart", "name": "af_heart", "language": "en-US", "gender": "female"} in voices
    assert http.get("/v1/voices", params={"model": "hexgrad/Kokoro-82M"}).json()["data"][0]["voices"]
    assert http.get("/v1/voices", params={"model": "nope"}).status_code == 404
    assert http.get("/v1/models").json()["data"][0]["id"] == "hexgrad/Kokoro-82M"
    assert http.get("/v1/models/hexgrad/Kokoro-82M").status_code == 200
    assert http.get("/ready").json() == {"status": "ready"}
    assert httpx.get(f"{api}/docs").status_code == 200


def test_unreachable_triton_gives_503_and_not_ready(tiny_repository):
    """A frontend whose Triton is not running: it starts, says it is not ready, answers 503."""
    with frontend(TRITON_URL=f"127.0.0.1:{free_port()}", MODEL_REPOSITORY=str(tiny_repository)) as stack:
        ready = httpx.get(f"{stack.url}/ready")
        assert ready.status_code == 503 and ready.headers["retry-after"]
        response = httpx.post(f"{stack.url}/v1/audio/speech", json={"model": "kokoro", "input": "Hello."}, timeout=60)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"] and response.json()["error"]["code"] == "backend_unavailable"


def test_slow_triton_call_gives_504_and_keys_come_from_a_file(triton, tiny_repository, tmp_path):
    keys = tmp_path / "keys.txt"
    keys.write_text("file-key-1\nfile-key-2\n")
    with frontend(TRITON_URL=triton.http_url, MODEL_REPOSITORY=str(tiny_repository), API_KEYS_FILE=str(keys),
                  REQUEST_TIMEOUT_S="0.001") as stack:
        body = {"model": "kokoro", "input": "Hello there.", "response_format": "wav"}
        assert httpx.post(f"{stack.url}/v1/audio/speech", json=body).status_code == 401
        response = httpx.post(f"{stack.url}/v1/audio/speech", json=body, headers={"Authorization": "Bearer file-key-2"},
                              timeout=60)
        assert response.status_code == 504, response.text
        assert response.json()["error"]["code"] == "timeout"


def test_a_client_that_disconnects_stops_its_synthesis(api, triton):
    """A long streamed request, dropped after its first bytes: most of its chunks never reach Triton."""
    import tritonclient.http as tritonhttp

    stats = tritonhttp.InferenceServerClient(triton.http_url)
    count = lambda: stats.get_inference_statistics("kokoro")["model_stats"][0]["inference_count"]  # noqa: E731
    sentences = " ".join(f"Sentence number {i} is here to make this input long." for i in range(30))
    before = count()
    with httpx.stream("POST", f"{api}/v1/audio/speech", headers={"Authorization": f"Bearer {API_KEY}"},
                      json={"model": "kokoro", "input": sentences, "response_format": "pcm"}, timeout=120) as response:
        assert response.status_code == 200
        next(response.iter_bytes())
    done = settled(lambda: count() - before)
    # The batcher returns a look-ahead window together, so the frontend may already have refilled it once
    # before it sees the disconnect: at most two windows, never the rest of the 30 sentences.
    window = int(deployment_env()["SYNTHESIS_LOOKAHEAD"])
    assert done <= 2 * window + 2, f"{done} of 30 chunks were synthesized after the client left"



@pytest.mark.timeout(300)
def test_overload_gets_429_and_dropped_clients_free_their_slots(triton, tiny_repository):
    from concurrent.futures import ThreadPoolExecutor

    long_text = " ".join(f"Sentence {i} keeps this request busy for a while." for i in range(8))
    with frontend(TRITON_URL=triton.http_url, MODEL_REPOSITORY=str(tiny_repository), MAX_INFLIGHT="1") as stack:
        speech = f"{stack.url}/v1/audio/speech"
        for _ in range(2):  # clients that leave right after the first bytes
            with httpx.stream("POST", speech, json={"model": "kokoro", "input": long_text, "response_format": "pcm"},
                              timeout=120) as response:
                next(response.iter_bytes())
        wait_until(lambda: inflight(stack.url) == 0, 60, "the clients that left still hold their slots")
        with ThreadPoolExecutor(1) as pool:  # one whole-file request holds the only slot while it runs
            busy = pool.submit(httpx.post, speech, json={"model": "kokoro", "input": long_text,
                                                         "response_format": "wav"}, timeout=300)
            wait_until(lambda: inflight(stack.url) == 1 or busy.done(), 60, "the whole-file request took no slot")
            refused = httpx.post(speech, json={"model": "kokoro", "input": "Hi."}, timeout=60)
            assert refused.status_code == 429 and refused.headers["retry-after"]
            assert refused.json()["error"]["type"] == "rate_limit_error"
            assert busy.result().status_code == 200
        assert httpx.post(speech, json={"model": "kokoro", "input": "Hi."}, timeout=60).status_code == 200


def test_dev_phonemize_shows_how_text_is_read(http):
    body = http.post("/dev/phonemize", json={"text": "It costs $12.50.", "language": "en-US"}).json()
    assert body["normalized_text"] == "It costs twelve dollars and fifty cents."
    assert body["phonemes"] and len(body["tokens"]) > 10 and all(isinstance(t, int) for t in body["tokens"])
    raw = http.post("/dev/phonemize", json={"text": "$5", "normalize": False}).json()
    assert raw["normalized_text"] == "$5"
    assert http.post("/dev/phonemize", json={"text": "Bonjour", "language": "fr"}).json()["phonemes"]
    response = http.post("/dev/phonemize", json={"text": "안녕하세요", "language": "ko"})
    assert response.status_code == 400 and response.json()["error"]["param"] == "language"


@pytest.mark.parametrize("language, voice, text", [
    ("en-US", "af_heart", "The weather is lovely today."), ("en-GB", "bf_emma", "The weather is lovely today."),
    ("es", "ef_dora", "Hace muy buen tiempo hoy."), ("fr", "ff_siwis", "Il fait très beau aujourd'hui."),
    ("hi", "hf_alpha", "आज मौसम बहुत अच्छा है।"), ("it", "if_sara", "Oggi il tempo è bellissimo."),
    ("pt-BR", "pf_dora", "O tempo está ótimo hoje."), ("zh", "zf_xiaobei", "今天天气很好。"),
    ("ja", "jf_alpha", "今日はいい天気です。"),
])
def test_every_language_end_to_end(http, language, voice, text):
    """Duration follows the phoneme count: the synthetic model speaks about 4 frames (0.1 s) per token."""
    tokens = len(http.post("/dev/phonemize", json={"text": text, "language": language}).json()["tokens"])
    response = http.post("/v1/audio/speech", json={"model": "kokoro", "input": text, "voice": voice,
                                                   "language": language, "response_format": "wav"})
    assert response.status_code == 200, response.text
    _, seconds = decode(response.content)
    assert 0.05 * (tokens + 2) <= seconds <= 0.25 * (tokens + 2), (tokens, seconds)


def test_phonemes_sent_directly(http):
    ok = http.post("/v1/audio/speech", json={"model": "kokoro", "phonemes": "həlˈO wˈɜɹld", "response_format": "wav"})
    assert ok.status_code == 200 and 0.5 < decode(ok.content)[1] < 3
    bad = http.post("/v1/audio/speech", json={"model": "kokoro", "phonemes": "hello Ж"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "phonemes"
    empty = http.post("/v1/audio/speech", json={"model": "kokoro", "input": "  "})
    assert empty.status_code == 400


def test_metrics_and_request_ids(api, http):
    response = http.post("/v1/audio/speech", json={"model": "kokoro", "input": "Counting this one.",
                                                   "response_format": "flac"}, headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "abc-123"
    generated = http.post("/v1/audio/speech", json={"model": "nope", "input": "x"})
    assert len(generated.headers["x-request-id"]) == 32
    metrics = httpx.get(f"{api}/metrics").text  # open, like /health, for Prometheus
    assert 'kokoro_speech_requests_total{format="flac",status="200"}' in metrics
    assert 'kokoro_speech_requests_total{format="mp3",status="404"}' in metrics
    samples = {line.split()[0]: float(line.split()[1]) for line in metrics.splitlines()
               if line and not line.startswith("#")}
    assert samples["kokoro_audio_seconds_total"] > 0.5
    assert samples["kokoro_input_characters_total"] >= len("Counting this one.")
    assert samples["kokoro_first_audio_seconds_count"] >= 1 and samples["kokoro_request_seconds_count"] >= 2
    assert samples["kokoro_inflight_requests"] == 0 and samples["kokoro_chunks_waiting_for_triton"] == 0
