"""Text to chunks the model can take: sentences, then clauses, then words, each within the model's
510-token window; and phonemes sent directly, split at spaces."""
from __future__ import annotations

from dataclasses import dataclass

from frontend.errors import InvalidRequest
from frontend.reading.phonemes import Phonemizer
from frontend.reading.text import clauses, lead, sentences
from kokoro_core.contract import MAX_PHONEMES as MAX_TOKENS


@dataclass
class Chunk:
    text: str
    phonemes: str
    token_ids: list[int]
    rate: float = 1.0  # times the request's speed (SSML <prosody rate>)
    pause_samples: int = 0  # silence after the chunk's audio, at 24 kHz (SSML <break>, [pause:1s])
    voice: str | None = None  # who speaks it, as a [voice:] tag names it; None: the request's voice


def text_chunks(phonemizer: Phonemizer, text: str, language: str, max_tokens: int = MAX_TOKENS,
                normalize: bool = True, first_words: int | None = None, skip: frozenset[str] = frozenset(),
                max_chunks: int | None = None) -> list[Chunk]:
    """Sentences (clauses, then words, when a sentence is too long), each within `max_tokens`;
    with `first_words`, the first chunk holds at most that many words, so its audio comes soon. `skip`:
    normalization categories left unread (frontend.reading.normalize.CATEGORIES). More sentences than
    `max_chunks` are refused before any G2P."""
    pieces = sentences(phonemizer.normalized(text, language, normalize, skip))
    if max_chunks is not None and len(pieces) > max_chunks:
        raise InvalidRequest(f"input is cut into at least {len(pieces)} chunks; the limit is {max_chunks} "
                             "(MAX_CHUNKS)", "input", "too_many_chunks")
    if first_words and pieces:
        pieces[:1] = lead(pieces[0], first_words)
    chunks = [chunk for piece in pieces for chunk in _fit(phonemizer, piece, language, max_tokens)]
    chunks = [c for c in chunks if c.token_ids]
    if not chunks:
        raise InvalidRequest("input has nothing to speak", "input", "empty_input")
    return chunks


def phoneme_chunks(phonemizer: Phonemizer, phonemes: str, max_tokens: int = MAX_TOKENS) -> list[Chunk]:
    """Phonemes sent directly: checked, then split at spaces into chunks that fit; a single word
    longer than a chunk is refused, not cut."""
    words, chunks, current = phonemizer.checked(phonemes, "phonemes").split(), [], ""
    for word in words:
        if len(phonemizer.tokens(word)) > max_tokens:
            raise InvalidRequest(f"a phoneme word of {len(word)} symbols is longer than a chunk ({max_tokens}); "
                                 "separate words with spaces", "phonemes", "phoneme_word_too_long")
        candidate = f"{current} {word}".strip()
        if current and len(phonemizer.tokens(candidate)) > max_tokens:
            chunks.append(current)
            candidate = word
        current = candidate
    chunks.append(current)
    return [Chunk(c, c, phonemizer.tokens(c)) for c in chunks if phonemizer.tokens(c)]


def _fit(phonemizer: Phonemizer, piece: str, language: str, max_tokens: int) -> list[Chunk]:
    phonemes = phonemizer.phonemize(piece, language).strip()
    token_ids = phonemizer.tokens(phonemes)
    if len(token_ids) <= max_tokens:
        return [Chunk(piece, phonemes, token_ids)]
    parts = clauses(piece)
    if len(parts) == 1:
        words = piece.split()
        if len(words) > 1:
            half = len(words) // 2
            parts = [" ".join(words[:half]), " ".join(words[half:])]
        elif len(piece) > 1:  # no spaces to split at (Chinese, Japanese, or one enormous "word")
            parts = [piece[:len(piece) // 2], piece[len(piece) // 2:]]
        else:
            return [Chunk(piece, phonemes[:max_tokens], token_ids[:max_tokens])]
    return [chunk for part in parts for chunk in _fit(phonemizer, part, language, max_tokens)]
