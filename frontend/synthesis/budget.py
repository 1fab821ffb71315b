"""A request's budget, checked while planning, before any Triton call or byte is sent: the text's length (and
that it is text: a lone surrogate is no character), the silence it asks for, the chunks it is cut into and the
audio they make. Each refusal is a 400 that names the limit, its setting and the request's figure."""
from __future__ import annotations

from frontend.errors import InvalidRequest
from frontend.reading.chunks import Chunk
from frontend.settings import Settings
from kokoro_core.contract import MAX_SPEED, MIN_SPEED, SAMPLE_RATE

# Speech per phoneme at speed 1, to know a request's audio before it exists (bench's short texts: 38.6 s from 366
# phonemes); the chunks' deadlines are estimated with it too.
SECONDS_PER_PHONEME = 0.1


def require_text(text: str, limit: int, param: str) -> str:
    """`text` within `limit` characters, and Unicode that can be written out (no lone surrogates, which JSON's
    \\ud800 escapes can carry)."""
    if len(text) > limit:
        raise InvalidRequest(f"{param} is {len(text)} characters; the limit is {limit}", param, "input_too_long")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidRequest(f"{param} holds a lone surrogate (U+{ord(text[e.start]):04X}) at character {e.start}, "
                             "which is not text", param, "invalid_text") from None
    return text


def chunk_speed(speed: float, rate: float) -> float:
    """The request's speed times a chunk's SSML rate, kept within the model's range."""
    return min(max(speed * rate, MIN_SPEED), MAX_SPEED)


def require_pauses(pause_s: float, settings: Settings, param: str = "input") -> None:
    if pause_s > settings.max_pause_s:
        raise InvalidRequest(f"{param} asks for {pause_s:g} s of pauses; the limit is {settings.max_pause_s:g} s "
                             "(MAX_PAUSE_S)", param, "pauses_too_long")


def require_within(chunks: list[Chunk], speed: float, settings: Settings, param: str = "input") -> None:
    """The chunks' count, their pauses and the audio they make (estimated) within the settings' limits."""
    if len(chunks) > settings.max_chunks:
        raise InvalidRequest(f"{param} is cut into {len(chunks)} chunks; the limit is {settings.max_chunks} "
                             "(MAX_CHUNKS)", param, "too_many_chunks")
    pauses = sum(chunk.pause_samples for chunk in chunks) / SAMPLE_RATE
    require_pauses(pauses, settings, param)
    speech = sum(len(chunk.token_ids) * SECONDS_PER_PHONEME / chunk_speed(speed, chunk.rate) for chunk in chunks)
    if speech + pauses > settings.max_audio_s:
        raise InvalidRequest(f"{param} asks for about {speech + pauses:.0f} s of audio ({speech:.0f} s of speech at "
                             f"speed {speed:g}, {pauses:g} s of pauses); the limit is {settings.max_audio_s:g} s "
                             "(MAX_AUDIO_S)", param, "audio_too_long")
