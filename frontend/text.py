"""Text before phonemes: whitespace and control characters cleaned, then split into sentences."""
from __future__ import annotations

import re
import unicodedata

# Western punctuation ends a sentence before a space; CJK punctuation ends it by itself (no spaces there).
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|(?<=[。！？])\s*")
CLAUSE_END = re.compile(r"(?<=[,;:—–])\s+|(?<=[、，；：])\s*")
MIN_REST_WORDS = 3


def clean(text: str) -> str:
    """Unicode NFC, no control characters, single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)
    return re.sub(r"\s+", " ", text).strip()


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(text) if s.strip()]


def clauses(sentence: str) -> list[str]:
    return [c for c in CLAUSE_END.split(sentence) if c.strip()]


def lead(sentence: str, max_words: int) -> list[str]:
    """The sentence as [a short lead of at most `max_words` words, the rest]: its first clause when
    that is short enough, else its first words. Never splits a word, and never leaves a rest of fewer
    than MIN_REST_WORDS: that saves little time and is spoken as an utterance of its own ("Thursday.")."""
    words = sentence.split()
    if len(words) <= max_words:
        return [sentence]
    first_clause = clauses(sentence)[0]
    count = len(first_clause.split()) if len(first_clause.split()) <= max_words else max_words
    if len(words) - count < MIN_REST_WORDS:
        return [sentence]
    return [" ".join(words[:count]), " ".join(words[count:])]
