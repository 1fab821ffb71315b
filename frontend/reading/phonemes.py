"""Phonemes and token ids: misaki's G2P per language (espeak-ng for English words outside its lexicon
and for the languages misaki has no G2P of its own)."""
from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from frontend.errors import InvalidRequest
from frontend.reading.normalize import normalize as normalize_english
from frontend.reading.tagger import english_pipeline
from frontend.reading.text import clean

ESPEAK_LANGUAGES = {"e": "es", "f": "fr-fr", "h": "hi", "i": "it", "p": "pt-br"}  # as upstream's KPipeline


class Phonemizer:
    """Text -> phonemes -> token ids. One G2P per language, created on first use. G2P runs under one
    lock: espeak-ng is a single library state (voice, buffers) for the whole process, which every
    language but Japanese reaches (English for words outside its lexicon), and calls from two threads
    at once fail or swap each other's words."""

    def __init__(self, assets: Path):
        self.vocab: dict[str, int] = json.loads((assets / "config.json").read_text(encoding="utf-8"))["vocab"]
        self._g2p: dict[str, Callable[[str], tuple[str, Any]]] = {}
        self._lock = threading.Lock()

    def _g2p_phonemes(self, text: str, language: str) -> str:
        with self._lock:
            if language not in self._g2p:
                self._g2p[language] = _make_g2p(language)
            return self._g2p[language](text)[0].strip()

    def phonemize(self, text: str, language: str) -> str:
        """Phonemes of `text`; `[word](/phonemes/)` overrides are taken as written."""
        parts = []
        for plain, override in _segments(text):
            if override is not None:
                parts.append(self.checked(override, "input"))
            elif plain.strip():
                parts.append(self._g2p_phonemes(plain, language))
        return " ".join(parts)

    def checked(self, phonemes: str, param: str) -> str:
        """Phonemes given by a client, refused (400) when they hold symbols outside the vocabulary."""
        unknown = sorted({p for p in phonemes if p not in self.vocab and not p.isspace()})
        if unknown:
            raise InvalidRequest(f"phonemes contain symbols outside Kokoro's vocabulary: {' '.join(unknown)}", param,
                                 "invalid_phonemes")
        return phonemes

    def tokens(self, phonemes: str) -> list[int]:
        return [self.vocab[p] for p in phonemes if p in self.vocab]

    def normalized(self, text: str, language: str, normalize: bool = True, skip: frozenset[str] = frozenset()) -> str:
        """Cleaned text; English also normalized (numbers, dates... as words, but for the categories in `skip`)
        unless `normalize` is off. Pronunciation overrides pass through untouched."""
        text = clean(text)
        if not (normalize and language in "ab"):
            return text
        return "".join(_keeping_spaces(lambda core: normalize_english(core, skip), plain) if override is None
                       else plain for plain, override in _segments(text))

    def explain(self, text: str, language: str, normalize: bool = True) -> tuple[str, str]:
        """(normalized text, phonemes): what the model is given for `text`."""
        normalized = self.normalized(text, language, normalize)
        return normalized, self.phonemize(normalized, language)


OVERRIDE = re.compile(r"\[([^\[\]]{1,100})\]\(/([^/()]{1,300})/\)")


def _segments(text: str):
    """(text, None) for plain runs and (markup, phonemes) for each `[word](/phonemes/)` override."""
    position = 0
    for match in OVERRIDE.finditer(text):
        yield text[position:match.start()], None
        yield match.group(0), match.group(2)
        position = match.end()
    yield text[position:], None


def _keeping_spaces(transform, text: str) -> str:
    """`transform(text)` with the text's leading and trailing whitespace kept (segments join on them)."""
    core = text.strip()
    if not core:
        return text
    start = text.index(core)
    return text[:start] + transform(core) + text[start + len(core):]


def _make_g2p(language: str):
    """The G2P upstream Kokoro uses for each language: misaki's English G2P, espeak-ng through misaki,
    misaki's Japanese and Mandarin G2Ps."""
    if language in "ab":
        return _english_g2p(language == "b")
    if language in ESPEAK_LANGUAGES:
        from misaki import espeak
        return espeak.EspeakG2P(language=ESPEAK_LANGUAGES[language])
    if language == "j":
        from misaki import ja
        return ja.JAG2P()
    from misaki import zh
    english = _make_g2p("a")
    return zh.ZHG2P(version=None, en_callable=lambda text: english(text)[0])


def _english_g2p(british: bool):
    """misaki's English G2P over english_pipeline()."""
    from misaki import en, espeak

    class OfflineG2P(en.G2P):
        def __init__(self):  # upstream's __init__ downloads en_core_web_sm when it is missing
            self.version, self.british, self.unk = None, british, ""
            self.nlp = english_pipeline()
            self.lexicon = en.Lexicon(british)
            self.fallback = espeak.EspeakFallback(british=british)

    return OfflineG2P()
