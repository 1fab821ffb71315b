"""Which of Kokoro's languages a request is read in: its language tag, else its voice's first letter."""
from __future__ import annotations

from frontend.errors import InvalidRequest

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
