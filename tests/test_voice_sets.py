"""A model repository holding only some voices, as the kokoro-onnx-int8 source's five Japanese ones: the
OpenAI voice names and the default voice are spoken by voices that exist (frontend/synthesis/voices.py's rule),
read in the language of the voice they stand in for; through the real API in front of the real Triton."""
import shutil

import httpx
import numpy as np
import pytest

from export.repository import ASSETS
from frontend.synthesis.voices import OPENAI_VOICES, VoiceCatalog, stand_in
from tests.helpers import API_KEY, deployment_env, frontend

FIVE = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
TEXT = "Hello there, this is read in English."


def repository_with_voices(source, destination, voices):
    """A model repository's assets (config and the named voice packs of `source`): all the API reads."""
    assets = destination / ASSETS
    (assets / "voices").mkdir(parents=True)
    shutil.copy(source / ASSETS / "config.json", assets)
    for voice in voices:
        shutil.copy(source / ASSETS / "voices" / f"{voice}.npy", assets / "voices")
    return destination


@pytest.fixture(scope="module")
def five_voices(triton, tiny_repository, tmp_path_factory):
    workspace = tmp_path_factory.mktemp("five-voices")
    repository = repository_with_voices(tiny_repository, workspace / "model_repository", FIVE)
    settings = {**deployment_env(), "TRITON_URL": triton.http_url, "MODEL_REPOSITORY": str(repository),
                "API_KEYS": API_KEY}
    with (frontend(workspace / "frontend.log", **settings) as stack,
          httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=300) as http):
        yield http, stack


def pcm(http, **body) -> bytes:
    response = http.post("/v1/audio/speech", json={"model": "tts-1", "input": TEXT, "response_format": "pcm", **body})
    assert response.status_code == 200, response.text
    return response.content


def test_voice_list_is_what_the_repository_holds(five_voices):
    http, _ = five_voices
    voices = http.get("/v1/audio/voices").json()["voices"]
    assert [v["id"] for v in voices] == list(FIVE)
    assert {v["id"]: v["gender"] for v in voices}["jm_kumo"] == "male"


@pytest.mark.parametrize("openai_name, spoken_by, language", [
    ("alloy", "jf_alpha", "en-us"), ("echo", "jm_kumo", "en-us"), ("ballad", "jm_kumo", "en-gb"),
    ("shimmer", "jf_alpha", "en-us")])
def test_openai_names_are_spoken_by_a_voice_of_their_gender_in_their_english(five_voices, openai_name, spoken_by,
                                                                             language):
    """alloy (af_alloy) is missing: jf_alpha speaks it, reading the text as American English, the same
    audio as asking for jf_alpha in American English; ballad (bm_george) is read as British English."""
    http, _ = five_voices
    assert pcm(http, voice=openai_name) == pcm(http, voice=spoken_by, lang_code=language)


def test_no_voice_is_the_default_voice_stand_in(five_voices):
    http, _ = five_voices
    assert pcm(http) == pcm(http, voice="jf_alpha", lang_code="en-us")  # DEFAULT_VOICE af_heart


def test_a_blend_of_openai_names_is_a_blend_of_their_stand_ins(five_voices):
    http, _ = five_voices
    blend = pcm(http, voice="alloy(3)+echo(1)")
    assert blend == pcm(http, voice="jf_alpha(3)+jm_kumo(1)", lang_code="en-us")
    assert blend != pcm(http, voice="alloy")


def test_a_kokoro_voice_that_is_not_there_is_a_400_not_a_stand_in(five_voices):
    http, _ = five_voices
    response = http.post("/v1/audio/speech", json={"model": "tts-1", "input": TEXT, "voice": "af_bella"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "voice_not_found"


def test_start_up_log_states_the_mapping(five_voices):
    _, stack = five_voices
    log = stack.log()
    assert "alloy=jf_alpha" in log and "echo=jm_kumo" in log and "default=jf_alpha" in log
    assert "af_heart->jf_alpha" in log


def test_stand_in_rule(tmp_path):
    """Same gender and language first, then same gender, then same language, then the first voice."""
    assert stand_in("af_heart", ["bm_george", "af_sky", "bf_emma"]) == "af_sky"
    assert stand_in("af_heart", ["bm_george", "jf_alpha", "am_adam"]) == "jf_alpha"
    assert stand_in("af_heart", ["bm_george", "am_adam"]) == "am_adam"
    assert stand_in("af_heart", ["zm_yunxi", "bm_george"]) == "bm_george"
    voices = tmp_path / "voices"
    voices.mkdir()
    np.save(voices / "zm_yunxi.npy", np.zeros((510, 1, 256), np.float32))
    catalog = VoiceCatalog(voices, "af_heart")
    assert set(catalog.mapping().values()) == {"zm_yunxi"} and len(catalog.mapping()) == len(OPENAI_VOICES) + 1
