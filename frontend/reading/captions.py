"""Captions from timed words: WebVTT and SRT cues a person can read.

A cue holds whole words, at most two lines of LINE_WIDTH columns (a wide CJK character takes two), at most
MAX_CUE_S seconds; a new cue starts after a sentence's end and after a pause of PAUSE_S or more. A short cue
stays up MIN_CUE_S, or until the next one starts. Its text is the input's, punctuation included, without
markup."""
from __future__ import annotations

import html
import itertools
import re
import unicodedata
from dataclasses import dataclass

from frontend.reading import ssml
from frontend.reading.phonemes import OVERRIDE
from frontend.reading.timing import EDGE_PUNCTUATION, SSML_MARKUP, TimedWord

LINE_WIDTH = 42
MAX_CUE_S = 7.0
MIN_CUE_S = 1.0
PAUSE_S = 1.0
SENTENCE_END = re.compile(r"[.!?…。！？]")
OPENING = frozenset("\"'“‘«‹([{¿¡「『（【《")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def cues(words: list[TimedWord], text: str) -> list[Cue]:
    """The cues of a request's timed words, in order; `text`: its input."""
    groups: list[list[TimedWord]] = []
    for word in words:
        if groups and _joins(groups[-1], word, text):
            groups[-1].append(word)
        else:
            groups.append([word])
    shown = [Cue(group[0].start_s, group[-1].end_s, _text(text, group[0].word.start, group[-1].word.end))
             for group in groups]
    return [Cue(cue.start, _held_until(cue, following), _lines(cue.text))
            for cue, following in zip(shown, [*shown[1:], None], strict=True)]


def _held_until(cue: Cue, following: Cue | None) -> float:
    held = cue.start + MIN_CUE_S if following is None else min(cue.start + MIN_CUE_S, following.start)
    return max(cue.end, held)


def _joins(group: list[TimedWord], word: TimedWord, text: str) -> bool:
    last = group[-1]
    between = text[last.word.end:word.word.start]
    return (not SENTENCE_END.search(between) and word.start_s - last.end_s < PAUSE_S
            and word.end_s - group[0].start_s <= MAX_CUE_S
            and _fits(_text(text, group[0].word.start, word.word.end)))


def _text(text: str, start: int, end: int) -> str:
    """The input from `start` to `end` with the punctuation around it, without markup, on one line."""
    while start > 0 and text[start - 1] in OPENING:
        start -= 1
    while end < len(text) and text[end] in EDGE_PUNCTUATION - OPENING:
        end += 1
    shown = text[start:end]
    shown = html.unescape(SSML_MARKUP.sub(" ", shown)) if ssml.is_ssml(text) else ssml.INLINE_TAG.sub(" ", shown)
    return " ".join(OVERRIDE.sub(r"\1", shown).split())


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cut(text: str) -> int:
    """Where two lines of `text` are most even: at a space, or anywhere in text without spaces (one pass over
    the widths before each place)."""
    before = list(itertools.accumulate((_width(c) for c in text), initial=0))
    places = [i for i, c in enumerate(text) if c == " "] or range(1, len(text))
    return min(places, key=lambda i: abs(2 * before[i] - before[-1]), default=len(text))


def _fits(text: str) -> bool:
    cut = _cut(text)
    return _width(text) <= LINE_WIDTH or max(_width(text[:cut].strip()), _width(text[cut:].strip())) <= LINE_WIDTH


def _lines(text: str) -> str:
    if _width(text) <= LINE_WIDTH:
        return text
    cut = _cut(text)
    return f"{text[:cut].strip()}\n{text[cut:].strip()}"


def webvtt(cues: list[Cue]) -> str:
    body = "".join(f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n{_vtt_escaped(c.text)}\n\n" for c in cues)
    return f"WEBVTT\n\n{body}"


def srt(cues: list[Cue]) -> str:
    return "".join(f"{number}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n{c.text}\n\n"
                   for number, c in enumerate(cues, 1))


def _vtt_escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _stamp(seconds: float, decimal: str) -> str:
    milliseconds = round(seconds * 1000)
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{decimal}{rest % 1000:03d}"
