"""Text before phonemes: whitespace and control characters cleaned, then split into sentences."""
from __future__ import annotations

import re
import unicodedata

SENTENCE_END = re.compile(r"(?<=[.!?…。！？])[\"'”’)\]]*\s+")
CLAUSE_END = re.compile(r"(?<=[,;:—–])\s+")


def clean(text: str) -> str:
    """Unicode NFC, no control characters, single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)
    return re.sub(r"\s+", " ", text).strip()


def sentences(text: str) -> list[str]:
    return [s for s in SENTENCE_END.split(text) if s.strip()]


def clauses(sentence: str) -> list[str]:
    return [c for c in CLAUSE_END.split(sentence) if c.strip()]
