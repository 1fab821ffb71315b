"""Text that arrives in pieces (an LLM's tokens, a typist's keys), cut into what can be spoken as it comes:
each whole sentence once the text after it has begun, a run without a sentence end at its last clause (or word)
once it is longer than a limit, and the rest when the writer says it is done. No web stack here."""
from __future__ import annotations

import re

from frontend.reading.normalize import ABBREVIATIONS, SENTENCE_FINAL_ABBREVIATIONS
from frontend.reading.text import CLAUSE_END, SENTENCE_END

# "Dr. Lee", "e.g. this", "J. Smith", "10 a.m. on": a full stop that ends an abbreviation or an initial is no end of
# a sentence, unless the abbreviation is one that ends sentences ("and so on, etc. Then").
MID_SENTENCE = {a for a in ABBREVIATIONS if " " not in a} - SENTENCE_FINAL_ABBREVIATIONS
INITIALS = re.compile(r"(?:\w\.)+", re.I)
WHITESPACE = re.compile(r"\s+")
CLOSERS = "\"'”’)]"


class TextBuffer:
    """Appended text, held until it can be cut. `max_chars`: the longest piece it holds back (Together's
    max_partial_length); longer runs are cut where a reader pauses, whatever comes next."""

    def __init__(self, max_chars: int):
        self.max_chars = max_chars
        self.text = ""

    def append(self, text: str) -> list[str]:
        """The pieces ready to speak once `text` is added, in order."""
        self.text += text
        ready = []
        while (piece := self._next()) is not None:
            if piece.strip():
                ready.append(piece.strip())
        return ready

    def flush(self) -> str:
        """All the text held, as one piece (possibly empty); the buffer is empty after."""
        rest, self.text = self.text.strip(), ""
        return rest

    def clear(self) -> None:
        self.text = ""

    def _next(self) -> str | None:
        end = self._sentence_end()
        if end is not None and end <= self.max_chars:
            return self._cut(end)
        if len(self.text) > self.max_chars:
            return self._cut(_pause_within(self.text, self.max_chars))
        return None

    def _sentence_end(self) -> int | None:
        """Where the first complete sentence ends (its following whitespace included), if one does."""
        for match in SENTENCE_END.finditer(self.text):
            if not _abbreviated(self.text[:match.start()]):
                return match.end() or None
        return None

    def _cut(self, at: int) -> str:
        piece, self.text = self.text[:at], self.text[at:]
        return piece


def _abbreviated(sentence: str) -> bool:
    """Whether `sentence`'s final full stop belongs to an abbreviation or initials rather than ending it."""
    words = sentence.rstrip(CLOSERS).split()
    if not words or not words[-1].endswith("."):
        return False
    word = words[-1].lstrip("\"'“‘([").lower()
    return word in MID_SENTENCE or bool(INITIALS.fullmatch(word) and len(word) <= 4)


def _pause_within(text: str, limit: int) -> int:
    """Where to cut a run of more than `limit` characters: after its last clause within the limit, else after its
    last word within it, else at the limit (a run without spaces)."""
    head = text[:limit + 1]
    for boundaries in (CLAUSE_END, WHITESPACE):
        ends = [m.end() for m in boundaries.finditer(head) if m.start() > 0 and m.end() <= limit + 1]
        if ends:
            return ends[-1]
    return limit
