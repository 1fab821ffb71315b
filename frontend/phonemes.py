"""Phonemes and token ids: misaki's English G2P (espeak-ng for words outside its lexicon), and
chunks that fit the model's 510-token window."""
from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from frontend import text as text_module
from frontend.errors import InvalidRequest
from frontend.normalize import normalize as normalize_english

log = logging.getLogger("frontend")
MAX_TOKENS = 510
# Request languages (BCP-47 or short codes) to Kokoro's language keys, the first letter of its voice ids.
LANGUAGES = {"en": "a", "en-us": "a", "en-gb": "b", "es": "e", "es-es": "e", "es-mx": "e", "fr": "f", "fr-fr": "f",
             "hi": "h", "hi-in": "h", "it": "i", "it-it": "i", "pt": "p", "pt-br": "p", "ja": "j", "ja-jp": "j",
             "zh": "z", "zh-cn": "z", "cmn": "z"}
KOKORO_LETTERS = {"a", "b", "e", "f", "h", "i", "p", "j", "z"}  # Kokoro-FastAPI's clients send these
LANGUAGES.update({letter: letter for letter in KOKORO_LETTERS})
ESPEAK_LANGUAGES = {"e": "es", "f": "fr-fr", "h": "hi", "i": "it", "p": "pt-br"}  # as upstream's KPipeline


@dataclass
class Chunk:
    text: str
    phonemes: str
    token_ids: list[int]


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


class Phonemizer:
    """Text -> phonemes -> token ids. One G2P per language, created on first use. G2P runs under one
    lock: espeak-ng is a single library state (voice, buffers) for the whole process, which every
    language but Japanese reaches (English for words outside its lexicon), and calls from two threads
    at once fail or swap each other's words."""

    def __init__(self, assets: Path):
        self.vocab: dict[str, int] = json.loads((assets / "config.json").read_text(encoding="utf-8"))["vocab"]
        self._g2p = {}
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

    def normalized(self, text: str, language: str, normalize: bool = True) -> str:
        """Cleaned text; English also normalized (numbers, dates... as words) unless `normalize` is off.
        Pronunciation overrides pass through untouched."""
        text = text_module.clean(text)
        if not (normalize and language in "ab"):
            return text
        return "".join(_keeping_spaces(normalize_english, plain) if override is None else plain
                       for plain, override in _segments(text))

    def phoneme_chunks(self, phonemes: str, max_tokens: int = MAX_TOKENS) -> list[Chunk]:
        """Phonemes sent directly: checked, then split at spaces into chunks that fit."""
        words, chunks, current = self.checked(phonemes, "phonemes").split(), [], ""
        for word in words:
            candidate = f"{current} {word}".strip()
            if current and len(self.tokens(candidate)) > max_tokens:
                chunks.append(current)
                candidate = word
            current = candidate[:max_tokens] if len(self.tokens(candidate)) > max_tokens else candidate
        chunks.append(current)
        return [Chunk(c, c, self.tokens(c)) for c in chunks if self.tokens(c)]

    def chunks(self, text: str, language: str, max_tokens: int = MAX_TOKENS, normalize: bool = True,
               first_words: int | None = None) -> list[Chunk]:
        """Sentences (clauses, then words, when a sentence is too long), each within `max_tokens`;
        with `first_words`, the first chunk holds at most that many words, so its audio comes soon."""
        pieces = text_module.sentences(self.normalized(text, language, normalize))
        if first_words and pieces:
            pieces[:1] = text_module.lead(pieces[0], first_words)
        chunks = []
        for piece in pieces:
            chunks.extend(self._fit(piece, language, max_tokens))
        chunks = [c for c in chunks if c.token_ids]
        if not chunks:
            raise InvalidRequest("input has nothing to speak", "input", "empty_input")
        return chunks

    def _fit(self, piece: str, language: str, max_tokens: int) -> list[Chunk]:
        phonemes = self.phonemize(piece, language).strip()
        token_ids = self.tokens(phonemes)
        if len(token_ids) <= max_tokens:
            return [Chunk(piece, phonemes, token_ids)]
        parts = text_module.clauses(piece)
        if len(parts) == 1:
            words = piece.split()
            if len(words) > 1:
                half = len(words) // 2
                parts = [" ".join(words[:half]), " ".join(words[half:])]
            elif len(piece) > 1:  # no spaces to split at (Chinese, Japanese, or one enormous "word")
                parts = [piece[:len(piece) // 2], piece[len(piece) // 2:]]
            else:
                return [Chunk(piece, phonemes[:max_tokens], token_ids[:max_tokens])]
        return [chunk for part in parts for chunk in self._fit(part, language, max_tokens)]


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
    """misaki's English G2P; spaCy's en_core_web_sm tags words when installed, else a blank English
    pipeline (lexicon lookups without part-of-speech tags)."""
    import spacy
    from misaki import en, espeak

    class OfflineG2P(en.G2P):
        def __init__(self):  # upstream's __init__ downloads en_core_web_sm when it is missing
            self.version, self.british, self.unk = None, british, ""
            if spacy.util.is_package("en_core_web_sm"):
                self.nlp = spacy.load("en_core_web_sm", enable=["tok2vec", "tagger"])
            else:
                log.warning("spaCy en_core_web_sm is not installed: English G2P without part-of-speech tags")
                self.nlp = spacy.blank("en")
            self.lexicon = en.Lexicon(british)
            self.fallback = espeak.EspeakFallback(british=british)

    return OfflineG2P()
