"""A speech request in the service's terms, whichever protocol brought it (REST, WebSocket, Wyoming): the API
turns its wire schema into one, and the service plans it."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Mode(StrEnum):
    """How a response is sent."""
    FILE = "file"  # whole, with its length known (wav, flac)
    STREAM = "stream"  # the audio file as it is produced
    SSE = "sse"  # OpenAI's speech.audio.delta events
    TOGETHER = "together"  # Together's audio.tts.chunk events


@dataclass(frozen=True)
class Alias:
    """Kokoro-FastAPI's voice alias: a name for a voice (or blend) and that voice's own rate."""
    voice: str
    rate: float = 1.0


@dataclass(frozen=True)
class SpeechInput:
    text: str  # may be empty when `phonemes` are given
    phonemes: str | None = None  # Kokoro phonemes spoken instead of `text`
    model: str | None = None  # a name clients use for this model; None: this model
    voice: str | None = None  # a voice id, an OpenAI name or a blend; None: the default voice
    lang_code: str | None = None
    language: str | None = None
    format: str = "mp3"  # an audio format's name (frontend.synthesis.audio)
    encoding: str | None = None  # the sample encoding of pcm and raw
    mode: Mode | None = None  # None: a whole file where the container needs its length, else a stream
    sample_rate: int | None = None  # the output rate, None: 24 kHz
    speed: float = 1.0
    normalize: bool = True  # read numbers, dates, units... as words
    skip: frozenset[str] = frozenset()  # categories of frontend.reading.normalize left unread
    volume: float = 1.0
    download_format: str | None = None  # also keep the audio as a file of this format
    timed: bool = False  # align the words of the input with the audio
    voice_tags: bool = False  # [voice:] and [rate:] tags (and SSML's <voice>) switch the speaker
    as_ssml: bool = False  # the input must be SSML (Kokoro-FastAPI's `ssml`)
    voice_aliases: Mapping[str, Alias] = field(default_factory=dict)  # by lowercase name
    chunk_timing: bool = False  # keep the chunks' times beside the download (Kokoro-FastAPI's return_timing)
