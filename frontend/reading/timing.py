"""Word timing from the model's own durations.

With each chunk's audio Triton returns every token's duration in frames (SAMPLES_PER_FRAME samples at 24 kHz,
the two pad tokens included): the durations the decoder expanded, so where a token sounds in its chunk is
exact. A chunk sounds after all the audio sent before it (earlier chunks with their fades, and pauses), so a
word's times hold at any speed (the durations are already the sped-up ones) and at any output rate (seconds
do not change with resampling).

Which tokens are a word's: the input is cut into words as the client wrote them (`source_tokens`), each is
read alone (normalized, then G2P), and those phonemes are aligned with the chunks' (`align_words`): whole phoneme
words first (difflib), then symbol by symbol where they differ. The normalizer and G2P need no change:
"$12.50" read alone is "twelve dollars and fifty cents", and those five phoneme words are its.

Units: words between spaces, without the punctuation at their edges (dashes and ellipses separate words);
Mandarin: each Han character (a syllable); Japanese: words as UniDic segments them (the dictionary misaki's
Japanese G2P reads by). Punctuation and pauses belong to no word."""
from __future__ import annotations

import difflib
import functools
import html
import logging
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from frontend.reading import ssml
from frontend.reading.chunks import Chunk
from frontend.reading.phonemes import OVERRIDE, Phonemizer
from kokoro_core.contract import SAMPLE_RATE, SAMPLES_PER_FRAME

log = logging.getLogger("frontend")

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
SEPARATORS = "—–…"  # between words even without spaces
PIECES = {"default": re.compile(rf"[^\s{SEPARATORS}]+|[{SEPARATORS}]"),
          "z": re.compile(rf"[{HAN}]|[^\s{HAN}{SEPARATORS}]+|[{SEPARATORS}]")}
EDGE_PUNCTUATION = frozenset(".,;:!?¿¡\"'“”‘’«»‹›()[]{}。、，！？；：「」『』（）【】《》" + SEPARATORS)
SSML_MARKUP = re.compile(r"<!--.*?-->|<[^>]*>", re.S)
ENDS_IN_ENTITY = re.compile(r"&#?\w+$")  # "&amp" before its ";"
SEPARATE_SCRIPTS = "jz"  # languages whose phoneme words hold several units
MAX_DIFF_WORK = 4_000_000  # pairs difflib may compare in a differing stretch (about 0.5 s); larger: by position


@dataclass(frozen=True)
class Word:
    """A word as the client wrote it, and where: `input[start:end]` (end exclusive, in code points)."""
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class TimedWord:
    word: Word
    start_s: float
    end_s: float
    voice: str | None = None  # who speaks it, when a request has several voices


@dataclass(frozen=True)
class Token:
    """A piece of the input read alone: a word with the punctuation at its edges, or punctuation alone."""
    spoken: str
    word: Word | None


@dataclass
class Alignment:
    """The words of a request, and per chunk the tokens each of its words is spoken by:
    (word index, first token, end token) in order."""
    words: list[Word]
    spans: list[list[tuple[int, int, int]]]


def align_words(phonemizer: Phonemizer, chunks: list[Chunk], text: str, language: str, normalize: bool = True,
          phonemes_given: bool = False, skip: frozenset[str] = frozenset()) -> Alignment:
    """Which tokens of `chunks` speak each word of `text` (the request's input, or its phonemes)."""
    tokens = list(_tokens(text, 0, len(text), "default", str)) if phonemes_given else source_tokens(text, language)
    read = _reader(phonemizer, language, normalize, phonemes_given, skip)
    expected, owners = _expected_items(tokens, read, phonemizer.vocab)
    actual, places = _chunk_items(chunks, phonemizer.vocab)
    word_of = [[None if i is None else owners[i] for i in item] for item in _match(expected, actual)]
    _settle(word_of, actual, whole_items=language not in SEPARATE_SCRIPTS)
    _fill(word_of, actual, places)
    return Alignment([t.word for t in tokens if t.word], _spans(word_of, places, len(chunks)))


def source_tokens(text: str, language: str) -> list[Token]:
    """The input's tokens in order: outside SSML markup and inline pauses; `[word](/phonemes/)` is one."""
    unescape = html.unescape if ssml.is_ssml(text) else str
    tokens: list[Token] = []
    for start, end in _stretches(text):
        position = start
        for match in OVERRIDE.finditer(text, start, end):
            tokens += _tokens(text, position, match.start(), language, unescape)
            tokens.append(Token(match.group(0), Word(match.group(1), match.start(1), match.end(1))))
            position = match.end()
        tokens += _tokens(text, position, end, language, unescape)
    return tokens


def _stretches(text: str) -> list[tuple[int, int]]:
    """(start, end) of each stretch of the input that is read: between SSML's tags, or inline pauses."""
    markup = SSML_MARKUP if ssml.is_ssml(text) else ssml.INLINE_TAG
    stretches, position = [], 0
    for match in markup.finditer(text):
        stretches.append((position, match.start()))
        position = match.end()
    return [*stretches, (position, len(text))]


def _tokens(text: str, start: int, end: int, language: str, unescape: Callable[[str], str]) -> Iterator[Token]:
    pieces = _japanese_pieces(text, start, end) if language == "j" else \
        (m.span() for m in PIECES.get(language, PIECES["default"]).finditer(text, start, end))
    for first, last in pieces:
        yield _token(text, first, last, unescape)


def _token(text: str, start: int, end: int, unescape: Callable[[str], str]) -> Token:
    first, last = start, end
    while first < last and text[first] in EDGE_PUNCTUATION:
        first += 1
    while last > first and text[last - 1] in EDGE_PUNCTUATION:
        last -= 1
    if last < end and ((text[last] == "." and "." in text[first:last])  # U.S., e.g.
                       or (text[last] == ";" and ENDS_IN_ENTITY.search(text, first, last))):
        last += 1
    return Token(unescape(text[start:end]), Word(unescape(text[first:last]), first, last) if first < last else None)


def _japanese_pieces(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    position = start
    for surface in _unidic_words(text[start:end]):
        found = text.find(surface, position, end)
        if found >= 0:
            yield found, found + len(surface)
            position = found + len(surface)


@functools.cache
def _unidic() -> tuple:
    from fugashi import Tagger

    return Tagger(), threading.Lock()


def _unidic_words(text: str) -> list[str]:
    tagger, lock = _unidic()
    with lock:  # one MeCab state
        return [word.surface for word in tagger(text)]


def _reader(phonemizer: Phonemizer, language: str, normalize: bool, phonemes_given: bool,
            skip: frozenset[str]) -> Callable[[str], str]:
    """A token's phonemes when read alone."""
    @functools.cache
    def read(spoken: str) -> str:
        if phonemes_given:
            return spoken
        try:
            return phonemizer.phonemize(phonemizer.normalized(spoken, language, normalize, skip), language)
        except Exception:  # a G2P that cannot read a fragment alone: its neighbours' alignment places it
            log.debug("no phonemes for %r alone", spoken, exc_info=True)
            return ""
    return read


def _is_mark(symbol: str) -> bool:
    return unicodedata.category(symbol).startswith("P")


def _items(symbols: str) -> list[tuple[int, int]]:
    """(start, end) of each item of a phoneme string: a run of speech symbols, or one punctuation mark."""
    items, start = [], None
    for k, symbol in enumerate(symbols + " "):
        if symbol.isspace() or _is_mark(symbol):
            if start is not None:
                items.append((start, k))
                start = None
            if not symbol.isspace():
                items.append((k, k + 1))
        elif start is None:
            start = k
    return items


def _expected_items(tokens: list[Token], read: Callable[[str], str], vocab) -> tuple[list[str], list[int | None]]:
    """Each token's items read alone, and the word each belongs to (None: a mark, or punctuation alone)."""
    items, owners, word = [], [], -1
    for token in tokens:
        word += token.word is not None
        symbols = "".join(p for p in read(token.spoken) if p in vocab)
        for start, end in _items(symbols):
            items.append(symbols[start:end])
            owners.append(word if token.word and not _is_mark(symbols[start]) else None)
    return items, owners


def _chunk_items(chunks: list[Chunk], vocab) -> tuple[list[str], list[tuple[int, int]]]:
    """The chunks' items, and where each is: (chunk, its first token). A chunk's tokens are its phonemes
    in the vocabulary, one each."""
    items, places = [], []
    for number, chunk in enumerate(chunks):
        symbols = "".join(p for p in chunk.phonemes if p in vocab)
        for start, end in _items(symbols):
            items.append(symbols[start:end])
            places.append((number, start))
    return items, places


def _match(expected: list[str], actual: list[str]) -> list[list[int | None]]:
    """For each symbol of each actual item, the expected item it corresponds to (None: none). Whole items
    where difflib pairs them, symbol by symbol inside a stretch where the two differ in number."""
    matched: list[list[int | None]] = [[None] * len(item) for item in actual]
    for tag, i1, i2, j1, j2 in _opcodes(expected, actual):
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                matched[j] = [i] * len(actual[j])
        elif tag == "replace":
            _match_symbols(expected[i1:i2], actual[j1:j2], i1, j1, matched)
    return matched


def _match_symbols(expected: list[str], actual: list[str], i1: int, j1: int, matched: list) -> None:
    source = [i1 + i for i, item in enumerate(expected) for _ in item]
    target = [(j1 + j, k) for j, item in enumerate(actual) for k in range(len(item))]
    for tag, a1, a2, b1, b2 in _opcodes("".join(expected), "".join(actual)):
        if tag in ("equal", "replace"):
            for b in range(b1, b2):
                j, k = target[b]
                matched[j][k] = source[a1 + (b - b1) * (a2 - a1) // (b2 - b1)]


def _opcodes(a: Sequence, b: Sequence) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes from `a` to `b`, in bounded time: the common start and end are equal as they are (linear),
    and a differing middle larger than MAX_DIFF_WORK pairs is one replacement, matched by position (difflib is
    quadratic, more on repeated items)."""
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    a_end, b_end = len(a) - end, len(b) - end
    if (a_end - start) * (b_end - start) > MAX_DIFF_WORK:
        middle = [("replace", start, a_end, start, b_end)]
    else:
        matcher = difflib.SequenceMatcher(None, a[start:a_end], b[start:b_end], autojunk=False)
        middle = [(tag, start + i1, start + i2, start + j1, start + j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes()
                  if tag != "equal" or i2 > i1]
    ends = [("equal", 0, start, 0, start), *middle, ("equal", a_end, len(a), b_end, len(b))]
    return [op for op in ends if op[2] > op[1] or op[4] > op[3]]


def _settle(word_of: list[list[int | None]], actual: list[str], whole_items: bool) -> None:
    """Marks belong to no word; where words are spaced, a phoneme word belongs whole to the word most of its
    symbols matched (ties: the earlier)."""
    for j, item in enumerate(actual):
        counts = Counter(w for w in word_of[j] if w is not None)
        if _is_mark(item[0]):
            word_of[j] = [None]
        elif whole_items and counts:
            word_of[j] = [counts.most_common(1)[0][0]] * len(item)


def _fill(word_of: list[list[int | None]], actual: list[str], places: list[tuple[int, int]]) -> None:
    """Speech symbols that matched nothing (G2P read them only in context) go to the word before them in
    their chunk, else the word after."""
    by_chunk: dict[int, list[tuple[int, int]]] = {}
    for j, (number, _) in enumerate(places):
        if not _is_mark(actual[j][0]):
            by_chunk.setdefault(number, []).extend((j, k) for k in range(len(actual[j])))
    for symbols in by_chunk.values():
        for order in (symbols, symbols[::-1]):
            last = None
            for j, k in order:
                if word_of[j][k] is None:
                    word_of[j][k] = last
                last = word_of[j][k]


def _spans(word_of: list[list[int | None]], places: list[tuple[int, int]], chunk_count: int) -> list[list]:
    spans: list[dict[int, list[int]]] = [{} for _ in range(chunk_count)]
    for owners, (chunk, first) in zip(word_of, places, strict=True):
        for k, word in enumerate(owners):
            if word is not None:
                span = spans[chunk].setdefault(word, [first + k, first + k + 1])
                span[0], span[1] = min(span[0], first + k), max(span[1], first + k + 1)
    return [sorted((word, lo, hi) for word, (lo, hi) in words.items()) for words in spans]


# Speech is heard a little before the durations' boundaries: the decoder's convolutions spread each sound over
# the frames before it. Upstream KPipeline's join_timestamps starts its words 3 frames early; measured on the real
# weights, a word after a silence becomes audible 45 to 85 ms (2 to 3 frames) before its first token at speed 1
# (docs/timing.md).
LEAD_FRAMES = 3


@dataclass
class Clock:
    """Times the words chunk by chunk as their durations arrive; gives each word once, with the chunk it ends in."""
    alignment: Alignment
    started: dict[int, float] = field(default_factory=dict)

    def __post_init__(self):
        self.last_chunk = {word: chunk for chunk, spans in enumerate(self.alignment.spans) for word, _, _ in spans}

    def chunk(self, index: int, durations: np.ndarray, offset_samples: int) -> list[TimedWord]:
        """The words that end in chunk `index`, whose audio starts `offset_samples` (24 kHz) into the response;
        `durations`: frames per token, pads included, as Triton returned them."""
        # token k (pads not counted): starts[k]..starts[k + 1], LEAD_FRAMES early, never before the chunk's audio
        starts = np.maximum(np.cumsum(durations)[:-1] - LEAD_FRAMES, 0) * SAMPLES_PER_FRAME + offset_samples
        timed = []
        for word, first, end in self.alignment.spans[index]:
            start = self.started.setdefault(word, seconds(starts[first]))
            if self.last_chunk[word] == index:
                timed.append(TimedWord(self.alignment.words[word], start, seconds(starts[end])))
                del self.started[word]
        return timed


def seconds(samples_24k: float) -> float:
    return round(float(samples_24k) / SAMPLE_RATE, 6)
