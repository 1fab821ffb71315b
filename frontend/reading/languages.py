"""Which of Kokoro's languages a request is read in: its language tag, else its voice's first letter, unless the
text's script says the voice's language cannot read it (Latin text to a Japanese or Chinese voice)."""
from __future__ import annotations

import logging
import unicodedata

from frontend.errors import InvalidRequest

log = logging.getLogger("frontend")

# Request languages (BCP-47 or short codes) to Kokoro's language keys, the first letter of its voice ids.
LANGUAGES = {"en": "a", "en-us": "a", "en-gb": "b", "es": "e", "es-es": "e", "es-mx": "e", "fr": "f", "fr-fr": "f",
             "hi": "h", "hi-in": "h", "it": "i", "it-it": "i", "pt": "p", "pt-br": "p", "ja": "j", "ja-jp": "j",
             "zh": "z", "zh-cn": "z", "cmn": "z"}
KOKORO_LETTERS = {"a", "b", "e", "f", "h", "i", "p", "j", "z"}  # Kokoro-FastAPI's clients send these
LANGUAGES.update({letter: letter for letter in KOKORO_LETTERS})


def language_of(lang_code: str | None, language: str | None, voice: str) -> str:
    """Kokoro's language key: from the request's language if given (400 when unsupported), else from
    the voice's first letter (af_* American English, ef_* Spanish, zf_* Mandarin...)."""
    requested = (lang_code or language or "").strip().lower().replace("_", "-")
    if requested:
        key = LANGUAGES.get(requested) or LANGUAGES.get(requested.split("-")[0])
        if key is None:
            param = "lang_code" if lang_code else "language"
            supported = ", ".join(sorted(LANGUAGES))
            raise InvalidRequest(f"language '{requested}' is not supported (supported: {supported})", param,
                                 "unsupported_language")
        return key
    return voice[:1] if voice[:1] in KOKORO_LETTERS else "a"


# The languages whose G2P reads only their own scripts: Latin text given to them comes out as gibberish.
OWN_SCRIPT_LANGUAGES = {"j", "z"}
TAGS = {"a": "en-us", "b": "en-gb", "e": "es", "f": "fr", "h": "hi", "i": "it", "p": "pt-br", "j": "ja", "z": "zh"}
SCRIPT_SAMPLE_CHARS = 2000  # enough letters to tell a script; the decision stays bounded on any input


def reading_language(lang_code: str | None, language: str | None, voice: str, text: str) -> str:
    """The language whose G2P reads `text`: the request's language when given; else the voice's, except where the
    voice's G2P cannot read the text's script: Latin-script text to a Japanese or Chinese voice (`jf_alpha`) is read
    with American English G2P, the text's language, and logged."""
    key = language_of(lang_code, language, voice)
    if lang_code or language or key not in OWN_SCRIPT_LANGUAGES or not is_latin_script(text):
        return key
    log.info("voice %s is %s but the text is in Latin script: read with English G2P (send lang_code to choose)",
             voice, TAGS[key])
    return "a"


def is_latin_script(text: str) -> bool:
    """Whether the text's letters are Latin ones only: no kana, kanji, hanzi or any other script among them."""
    letters = [c for c in text[:SCRIPT_SAMPLE_CHARS] if c.isalpha()]
    return bool(letters) and all(c.isascii() or unicodedata.name(c, "").startswith("LATIN") for c in letters)


def language_tag(key: str) -> str:
    """The BCP-47 tag of a Kokoro language key ('a' -> 'en-us'), as the X-Language header gives it."""
    return TAGS[key]
