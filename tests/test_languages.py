"""The language a text is read in: Latin text to a Japanese or Chinese voice is read with English G2P (issue 34),
the request's language still wins, and the response says which G2P ran."""
import httpx
import pytest

from frontend.reading.languages import is_latin_script, language_tag, reading_language
from tests.helpers import API_KEY


@pytest.mark.parametrize("voice, text, key", [
    ("jf_alpha", "Good morning! Your coffee is ready.", "a"),  # English to a Japanese voice: English G2P
    ("zf_xiaobei", "The meeting is at 3 pm.", "a"),
    ("jf_alpha", "今日はいい天気です。", "j"),  # its own script: its own G2P
    ("jf_alpha", "今日は Tokyo に行きます。", "j"),  # mixed: the voice's language reads it (its G2P has English)
    ("zf_xiaobei", "今天天气很好。", "z"),
    ("jf_alpha", "123 456", "j"),  # no letters: nothing says the text is English
    ("ef_dora", "Hace muy buen tiempo hoy.", "e"),  # Latin-script voices read Latin text as their language
    ("ff_siwis", "Il fait très beau aujourd'hui.", "f"),
    ("af_heart", "Good morning.", "a"),
])
def test_the_text_script_decides_where_the_voice_cannot_read_it(voice, text, key):
    assert reading_language(None, None, voice, text) == key


@pytest.mark.parametrize("lang_code, language, key", [("j", None, "j"), (None, "ja", "j"), ("z", None, "z")])
def test_the_request_language_still_wins(lang_code, language, key):
    assert reading_language(lang_code, language, "jf_alpha", "Good morning.") == key


def test_scripts():
    assert is_latin_script("Crème brûlée, façade, naïve")
    assert not is_latin_script("Привет") and not is_latin_script("こんにちは world") and not is_latin_script("42")
    assert language_tag("a") == "en-us" and language_tag("j") == "ja"


@pytest.mark.parametrize("body, tag", [
    ({"voice": "jf_alpha", "input": "Good morning! Your coffee is ready."}, "en-us"),
    ({"voice": "jf_alpha", "input": "Good morning!", "lang_code": "j"}, "ja"),
    ({"voice": "jf_alpha", "input": "今日はいい天気です。"}, "ja"),
])
def test_the_response_says_which_g2p_read_the_text(api, body, tag):
    response = httpx.post(f"{api}/v1/audio/speech", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=300,
                          json={"model": "kokoro", "response_format": "wav", **body})
    assert response.status_code == 200, response.text
    assert response.headers["x-language"] == tag
