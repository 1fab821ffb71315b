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
from kokoro_core.contract import MAX_PHONEMES as MAX_TOKENS

log = logging.getLogger("frontend")
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
    rate: float = 1.0  # times the request's speed (SSML <prosody rate>)
    pause_samples: int = 0  # silence after the chunk's audio, at 24 kHz (SSML <break>, [pause:1s])


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

    def explain(self, text: str, language: str, normalize: bool = True) -> tuple[str, str]:
        """(normalized text, phonemes): what the model is given for `text`."""
        normalized = self.normalized(text, language, normalize)
        return normalized, self.phonemize(normalized, language)

    def phoneme_chunks(self, phonemes: str, max_tokens: int = MAX_TOKENS) -> list[Chunk]:
        """Phonemes sent directly: checked, then split at spaces into chunks that fit; a single word
        longer than a chunk is refused, not cut."""
        words, chunks, current = self.checked(phonemes, "phonemes").split(), [], ""
        for word in words:
            if len(self.tokens(word)) > max_tokens:
                raise InvalidRequest(f"a phoneme word of {len(word)} symbols is longer than a chunk ({max_tokens}); "
                                     "separate words with spaces", "phonemes", "phoneme_word_too_long")
            candidate = f"{current} {word}".strip()
            if current and len(self.tokens(candidate)) > max_tokens:
                chunks.append(current)
                candidate = word
            current = candidate
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
    """misaki's English G2P over english_pipeline()."""
    from misaki import en, espeak

    class OfflineG2P(en.G2P):
        def __init__(self):  # upstream's __init__ downloads en_core_web_sm when it is missing
            self.version, self.british, self.unk = None, british, ""
            self.nlp = english_pipeline()
            self.lexicon = en.Lexicon(british)
            self.fallback = espeak.EspeakFallback(british=british)

    return OfflineG2P()


RULE_TAGGER = "kokoro_rule_tagger"
# Penn tags, as en_core_web_sm writes them, for tokens misaki reads by their tag: punctuation it keeps
# (commas, full stops, brackets...), currency signs, and closed-class words ("a" is ɐ only as DT).
FIXED_TAGS = {".": ".", "!": ".", "?": ".", ",": ",", ";": ":", ":": ":", "—": ":", "–": ":",
              "...": ":", "…": "NFP", "(": "-LRB-", "[": "-LRB-", "{": "-LRB-", ")": "-RRB-", "]": "-RRB-",
              "}": "-RRB-", "$": "$", "£": "$", "€": "$", "#": "#",
              "a": "DT", "an": "DT", "the": "DT", "i": "PRP", "to": "TO", "in": "IN", "vs": "IN", "vs.": "IN"}
SENTENCE_OPENERS = {".", ":", "``", "-LRB-"}  # tags of the tokens after which a sentence or quote starts
SINGLE_QUOTES, DOUBLE_QUOTES, OPENING_QUOTES = {"'", "‘", "’"}, {'"', "“", "”"}, {"“", "‘"}


def english_pipeline():
    """spaCy's en_core_web_sm (tagger only) when installed. Else a blank English pipeline tagged by
    rules (tag_by_rules), without which misaki drops commas and full stops and reads "a" as the letter."""
    import spacy
    from spacy.language import Language

    if spacy.util.is_package("en_core_web_sm"):
        return spacy.load("en_core_web_sm", enable=["tok2vec", "tagger"])
    log.warning("spaCy en_core_web_sm is not installed: English G2P with rule-based tags")
    if not Language.has_factory(RULE_TAGGER):
        Language.component(RULE_TAGGER, func=tag_by_rules)
    nlp = spacy.blank("en")
    nlp.add_pipe(RULE_TAGGER)
    return nlp


def tag_by_rules(doc):
    """The tags misaki branches on that need no statistical model; other tokens stay untagged."""
    open_quotes = set()
    for token in doc:
        token.tag_ = _quote_tag(token, open_quotes) if token.text in SINGLE_QUOTES | DOUBLE_QUOTES else _tag_of(token)
    return doc


def _tag_of(token) -> str:
    if token.text == "A":  # the article starts a sentence; elsewhere "A" is the letter (plan A)
        before_word = token.i + 1 < len(token.doc) and token.nbor().is_alpha
        return "DT" if before_word and (token.i == 0 or token.nbor(-1).tag_ in SENTENCE_OPENERS) else ""
    if token.lower_ == "that":  # the pronoun before a pause (did you hear that?), not "so that he..."
        return "DT" if token.i + 1 == len(token.doc) or token.nbor().is_punct else ""
    if token.text == "-":  # a dash between spaces; a hyphen inside a word (well-known)
        return ":" if token.whitespace_ and _after_space(token) else "HYPH"
    if token.like_num:
        return "CD"
    return FIXED_TAGS.get(token.text.lower(), "")


def _quote_tag(token, open_quotes: set) -> str:
    """`` opens a quote, '' closes one; a single quote that closes none is an apostrophe (dogs' bowls)."""
    single = token.text in SINGLE_QUOTES
    if token.text in OPENING_QUOTES or (token.text in {'"', "'"} and _after_space(token) and not token.whitespace_):
        open_quotes.add(single)
        return "``"
    if not single or single in open_quotes:
        open_quotes.discard(single)
        return "''"
    return "POS"


def _after_space(token) -> bool:
    return token.i == 0 or bool(token.nbor(-1).whitespace_)
