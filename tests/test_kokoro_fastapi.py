"""Kokoro-FastAPI's clients against the real stack: the requests its README documents (the openai SDK with its
base URL, `requests` calls, streams of pcm, voice combination, the phoneme routes, the normalization switches,
download links), replayed as written but for the API key, and what its clients read from each answer. Also
Open WebUI's reads of a custom OpenAI-compatible speech server (voices and models). Sources: remsky/Kokoro-FastAPI
at 26eec06 (README.md, api/src/routers/openai_compatible.py, development.py, structures/schemas.py) and
open-webui's backend/open_webui/routers/audio.py (get_available_voices, get_available_models)."""
from __future__ import annotations

import asyncio
import io
import time

import av
import numpy as np
import openai
import pytest
import requests
import soundfile
import torch

from frontend.api.schemas import NormalizationOptions
from frontend.reading.languages import language_of
from frontend.reading.normalize import CATEGORIES
from frontend.synthesis.audio import FORMATS
from frontend.synthesis.downloads import Downloads, Quota
from kokoro_core.contract import ASSETS, SAMPLE_RATE, VOICE_PACK_SHAPE, VOICES
from tests.helpers import API_KEY


@pytest.fixture(scope="module")
def base(api) -> str:
    return f"{api}/v1"


@pytest.fixture(scope="module")
def session() -> requests.Session:
    """`requests` as Kokoro-FastAPI's README uses it; the key is the one addition (its server has none)."""
    with requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {API_KEY}"
        yield s


@pytest.fixture(scope="module")
def client(base) -> openai.OpenAI:
    return openai.OpenAI(base_url=base, api_key=API_KEY, max_retries=0, timeout=300)


def decoded(data: bytes) -> tuple[int, np.ndarray]:
    """(sample rate, samples) through FFmpeg, which reads every container the API writes."""
    container = av.open(io.BytesIO(data))
    rate = container.streams.audio[0].codec_context.sample_rate
    return rate, np.concatenate([frame.to_ndarray().reshape(-1) for frame in container.decode(audio=0)])


def pcm(session: requests.Session, base: str, **fields) -> np.ndarray:
    """A pcm request's 16-bit samples, read as a stream of 1024-byte chunks, as the README's clients read it."""
    response = session.post(f"{base}/audio/speech", json={"response_format": "pcm", **fields}, stream=True,
                            timeout=300)
    assert response.status_code == 200, response.text
    data = b"".join(chunk for chunk in response.iter_content(chunk_size=1024) if chunk)
    return np.frombuffer(data, "<i2")


def test_openai_sdk_with_a_combined_voice(client, tmp_path):
    response = client.audio.speech.create(model="kokoro", voice="af_bella+af_sky", input="Hello world!",
                                          response_format="mp3")
    response.stream_to_file(tmp_path / "output.mp3")
    rate, samples = decoded((tmp_path / "output.mp3").read_bytes())
    assert rate == SAMPLE_RATE and len(samples) > SAMPLE_RATE // 4


def test_voices_listed_then_spoken_with_requests(session, base):
    voices = [v["id"] for v in session.get(f"{base}/audio/voices").json()["voices"]]
    assert {"af_bella", "af_sky", "af_heart"} <= set(voices)
    response = session.post(f"{base}/audio/speech", json={"model": "kokoro", "input": "Hello world!",
                                                          "voice": "af_bella", "response_format": "mp3",
                                                          "speed": 1.0})
    assert response.status_code == 200 and response.headers["content-type"] == "audio/mpeg"
    assert decoded(response.content)[0] == SAMPLE_RATE
    legacy = session.get(f"{base}/audio/voices", params={"legacy": "true"}).json()["voices"]
    assert legacy == voices


def test_pcm_streams_from_the_sdk_and_from_requests_without_a_model(client, session, base):
    """The README's speaker example (the SDK's iter_bytes) and its requests example, which names no model."""
    with client.audio.speech.with_streaming_response.create(model="kokoro", voice="af_bella", response_format="pcm",
                                                            input="Hello world!") as response:
        streamed = b"".join(response.iter_bytes(chunk_size=1024))
    samples = pcm(session, base, input="Hello world!", voice="af_bella")
    assert len(streamed) % 2 == 0 and len(samples) > SAMPLE_RATE // 4
    assert np.array_equal(np.frombuffer(streamed, "<i2"), samples)  # synthesis is deterministic


def test_mp3_streams_to_a_file_with_the_sdk(client, tmp_path):
    with client.audio.speech.with_streaming_response.create(model="kokoro", voice="af_bella",
                                                            input="Hello world!") as response:
        response.stream_to_file(tmp_path / "output.mp3")
    assert decoded((tmp_path / "output.mp3").read_bytes())[0] == SAMPLE_RATE


def test_weighted_blend_and_the_combined_voice_file(session, base, tiny_repository):
    spoken = session.post(f"{base}/audio/speech", json={"input": "Hello world!", "voice": "af_bella(2)+af_sky(1)",
                                                        "response_format": "mp3"})
    assert spoken.status_code == 200
    packs = {name: np.load(tiny_repository / ASSETS / VOICES / f"{name}.npy") for name in ("af_bella", "af_sky")}
    for asked, expected, name in [
        ("af_bella(2)+af_sky(1)", 2 / 3 * packs["af_bella"] + 1 / 3 * packs["af_sky"],
         "af_bella(0.667)+af_sky(0.333)"),
        (["af_bella", "af_sky"], (packs["af_bella"] + packs["af_sky"]) / 2, "af_bella+af_sky"),
    ]:
        response = session.post(f"{base}/audio/voices/combine", json=asked)
        assert response.status_code == 200 and response.headers["content-type"] == "application/octet-stream"
        assert response.headers["content-disposition"] == f'attachment; filename="{name}.pt"'
        tensor = torch.load(io.BytesIO(response.content), weights_only=True)  # as Kokoro loads a voice pack
        assert tuple(tensor.shape) == VOICE_PACK_SHAPE and tensor.dtype == torch.float32
        np.testing.assert_allclose(tensor.numpy(), expected, rtol=1e-5, atol=1e-6)
    for bad in ("xx_nobody", [], ""):
        refused = session.post(f"{base}/audio/voices/combine", json=bad)
        assert refused.status_code == 400 and refused.json()["error"]["message"]


def test_phonemes_then_audio_from_phonemes(session, api, base):
    """The README's get_phonemes and generate_audio_from_phonemes, chained."""
    phonemized = session.post(f"{api}/dev/phonemize", json={"text": "Hello world!", "language": "a"})
    phonemized.raise_for_status()
    phonemes, tokens = phonemized.json()["phonemes"], phonemized.json()["tokens"]
    assert phonemes and tokens
    response = session.post(f"{api}/dev/generate_from_phonemes", json={"phonemes": phonemes, "voice": "af_bella"},
                            headers={"Accept": "audio/wav"})
    assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
    samples, rate = soundfile.read(io.BytesIO(response.content), dtype="int16")
    assert rate == SAMPLE_RATE
    assert np.array_equal(samples, pcm(session, base, phonemes=phonemes, voice="af_bella"))
    bad = session.post(f"{api}/dev/generate_from_phonemes", json={"phonemes": "Ж", "voice": "af_bella"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "phonemes"


def test_normalization_switched_off_as_the_readme_does(session, base):
    text = "Visit example.com today."
    default = pcm(session, base, input=text, voice="af_heart")
    unread = pcm(session, base, input=text, voice="af_heart", normalize=False)
    assert not np.array_equal(default, unread)
    readme = pcm(session, base, input=text, voice="af_heart", normalization_options={"normalize": False})
    assert np.array_equal(readme, unread)
    urls_off = pcm(session, base, input=text, voice="af_heart", normalization_options={"url_normalization": False})
    assert np.array_equal(urls_off, unread)  # the address is the only thing normalization reads here


@pytest.mark.parametrize("switch, text, spoken", [
    ("unit_normalization", "It is 10KB & more.", "It is ten K B and more."),
    ("url_normalization", "Visit example.com & more.", "Visit example.com and more."),
    ("email_normalization", "Mail bob@example.com today.", "Mail bob at example.com today."),
    ("optional_pluralization_normalization", "Add the file(s) & more.", "Add the file(s) and more."),
    ("phone_normalization", "Call 555-123-4567 & more.", "Call five hundred fifty-five-123-4567 and more."),
    ("replace_remaining_symbols", "Tom & Jerry at 5.", "Tom & Jerry at five."),
])
def test_each_switch_turns_off_its_category_alone(phonemizer, switch, text, spoken):
    assert phonemizer.normalized(text, "a", True, NormalizationOptions(**{switch: False}).skipped()) == spoken
    assert phonemizer.normalized(text, "a", True, NormalizationOptions().skipped()) != spoken


def test_switch_categories_exist():
    every_switch_off = NormalizationOptions(**{name: False for name in NormalizationOptions.model_fields})
    assert every_switch_off.skipped() == set(CATEGORIES)


def test_volume_multiplier(session, base):
    text = "Hello world!"
    loud = pcm(session, base, input=text, voice="af_bella").astype(np.int32)
    half = pcm(session, base, input=text, voice="af_bella", volume_multiplier=0.5).astype(np.int32)
    within = np.abs(loud) < 32767  # random weights speak past full scale, which 16 bits clip
    assert within.mean() > 0.9 and np.abs(half - loud / 2)[within].max() <= 1  # rounding to 16 bits
    assert not pcm(session, base, input=text, voice="af_bella", volume_multiplier=0).any()
    clipped = pcm(session, base, input=text, voice="af_bella", volume_multiplier=10)
    assert np.abs(clipped.astype(np.int32)).max() >= 32767
    for bad in (-1, 11, "loud"):
        refused = session.post(f"{base}/audio/speech", json={"input": text, "volume_multiplier": bad})
        assert refused.status_code == 400 and refused.json()["error"]["param"] == "volume_multiplier"


def test_download_link_of_a_stream(session, api, base):
    """The README's streaming request with return_download_link: the header comes first, the file once the
    stream has ended, at /v1 + the header's path."""
    response = session.post(f"{base}/audio/speech", json={"input": "Hello world! [pause:1s] Again.",
                                                          "voice": "af_bella", "return_download_link": True},
                            stream=True)
    path = response.headers["x-download-path"]
    assert path.startswith("/download/") and path.endswith(".mp3")
    streamed = b"".join(response.iter_content(1024))
    kept = session.get(f"{base}{path}")
    assert kept.status_code == 200 and kept.headers["content-type"] == "audio/mpeg"
    (_, heard), (_, downloaded) = decoded(streamed), decoded(kept.content)
    assert abs(len(heard) - len(downloaded)) <= 2 * 1152  # the stream cannot tell its decoder the encoder's delay


def test_download_link_in_another_format_with_a_name(session, base):
    samples = pcm(session, base, input="Hello world!", voice="af_bella")
    response = session.post(f"{base}/audio/speech", json={"input": "Hello world!", "voice": "af_bella",
                                                          "response_format": "pcm", "download_format": "flac",
                                                          "return_download_link": True})
    assert np.array_equal(np.frombuffer(response.content, "<i2"), samples)
    kept = session.get(f"{base}{response.headers['x-download-path']}", params={"name": "my speech/../x.wav"})
    assert kept.headers["content-type"] == "audio/flac"
    assert kept.headers["content-disposition"] == 'attachment; filename="my_speech_.._x.wav.flac"'
    assert np.array_equal(soundfile.read(io.BytesIO(kept.content), dtype="int16")[0], samples)


def test_download_of_a_whole_wav_and_a_missing_file(session, base):
    response = session.post(f"{base}/audio/speech", json={"input": "Hello world!", "voice": "af_bella",
                                                          "response_format": "wav", "return_download_link": True})
    kept = session.get(f"{base}{response.headers['x-download-path']}")
    assert kept.content == response.content  # the same samples, the same encoder, the same whole file
    for missing in ("0123456789abcdef0123456789abcdef.mp3", "speech.mp3", "%2e%2e"):
        gone = session.get(f"{base}/download/{missing}")
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "download_not_found"


def test_downloads_are_bounded_and_expire(tmp_path):
    store = Downloads(Quota(files=2, bytes=10), Quota(files=2, bytes=10), ttl_s=0.5)

    async def scenario():
        for name in ("a.wav", "b.wav", "c.wav"):
            await store.keep(name, b"1234", "audio/wav", "me")
        assert await store.read("a.wav", "me") is None  # the oldest, past max_files
        assert await store.read("c.wav", "me") == (b"1234", "audio/wav")
        await store.keep("d.wav", b"12345", "audio/wav", "me")
        assert await store.read("b.wav", "me") is None  # past max_bytes
        assert len(list(store.directory.iterdir())) == 2
        ttl_passed = time.monotonic() + 10  # a deadline, not a guess at how long the TTL takes to pass
        while await store.read("d.wav", "me") is not None:
            assert time.monotonic() < ttl_passed, "a kept file outlived its 0.5 s TTL by 10 s"
            await asyncio.sleep(0.05)
        assert not any(store.directory.iterdir())
    try:
        asyncio.run(scenario())
    finally:
        store.close()
    assert not store.directory.exists()


def test_inline_pause_and_pronunciation(session, base):
    plain = pcm(session, base, input="Hello world! Again.", voice="af_bella")
    paused = pcm(session, base, input="Hello world! [pause:1.5s] Again.", voice="af_bella")
    assert len(paused) - len(plain) == round(1.5 * SAMPLE_RATE)
    overridden = pcm(session, base, input="[Kokoro](/kˈOkəɹO/)", voice="af_bella")
    assert np.array_equal(overridden, pcm(session, base, phonemes="kˈOkəɹO", voice="af_bella"))
    tagged = session.post(f"{base}/audio/speech", json={"input": "Hi. [voice:am_michael] Hello.", "voice": "af_bella"})
    assert tagged.status_code == 400 and tagged.json()["error"]["code"] == "unsupported_tag"


KPIPELINE_CODES = {**{letter: letter for letter in "abefhijpz"}, "en-us": "a", "en-gb": "b", "es": "e", "fr-fr": "f",
                   "hi": "h", "it": "i", "pt-br": "p", "ja": "j", "zh": "z", "A": "a"}


@pytest.mark.parametrize("lang_code, language", KPIPELINE_CODES.items())
def test_kokoros_language_codes(lang_code, language):
    """Kokoro-FastAPI hands lang_code to KPipeline, which takes Kokoro's letters and these aliases."""
    assert language_of(lang_code, None, "af_bella") == language


def test_lang_code_end_to_end(session, base):
    british = pcm(session, base, input="Tomato.", voice="af_bella", lang_code="b")
    american = pcm(session, base, input="Tomato.", voice="af_bella", lang_code="a")
    assert len(british) and not np.array_equal(british, american)


def test_open_webui_reads_voices_and_models_then_speaks(session, base):
    """Open WebUI's TTS engine "openai" with a custom base URL: voices as {id: name}, models from
    /audio/models, then its payload (input, voice; its model set) posted to /audio/speech."""
    available_voices = {voice["id"]: voice["name"] for voice in session.get(f"{base}/audio/voices").json()["voices"]}
    assert available_voices["af_bella"] == "af_bella"
    models = session.get(f"{base}/audio/models").json().get("models", [])
    assert {"kokoro", "tts-1", "tts-1-hd"} <= {model["id"] for model in models}
    response = session.post(f"{base}/audio/speech", json={"input": "Hello world!", "voice": "af_bella",
                                                          "model": "kokoro"})
    assert response.status_code == 200 and decoded(response.content)[0] == SAMPLE_RATE


def test_stream_true_is_togethers(session, base):
    """Where the seeds and Kokoro-FastAPI disagree the seed wins: `stream: true` asks for Together's events
    (Kokoro-FastAPI: a chunked audio body, which every other request here gets without asking)."""
    response = session.post(f"{base}/audio/speech", json={"input": "Hello world!", "voice": "af_bella",
                                                          "stream": True})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.rstrip().endswith("data: [DONE]")


def test_every_format_kokoro_fastapi_names(session, base):
    for fmt in ("mp3", "wav", "opus", "flac", "aac", "pcm"):
        response = session.post(f"{base}/audio/speech", json={"input": "Hello world!", "voice": "af_bella",
                                                              "response_format": fmt})
        assert response.status_code == 200
        if fmt != "pcm":
            assert response.headers["content-type"] == FORMATS[fmt].media_type
            assert len(decoded(response.content)[1])
