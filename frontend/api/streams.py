"""A plan's encoded audio rendered as the wire's streams: server-sent events (OpenAI's or Together's) and
Kokoro-FastAPI's captioned JSON lines. A failure after the first item is sent in-band and ends the stream."""
from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable

from pydantic import BaseModel

from frontend.api.schemas import (
    CaptionedSpeechResponse,
    ErrorBody,
    ErrorDetail,
    SpeechAudioDelta,
    SpeechAudioDone,
    SpeechAudioWords,
    StreamError,
    TogetherChunk,
    TogetherWordTimestamps,
    Usage,
    WordTimestamp,
)
from frontend.errors import APIError
from frontend.reading.timing import TimedWord
from frontend.synthesis.request import Mode
from frontend.synthesis.service import Plan, SpeechService
from kokoro_core.contract import SAMPLES_PER_FRAME


def events(service: SpeechService, plan: Plan) -> AsyncIterator[str]:
    """Server-sent events: OpenAI's speech.audio.delta/done or Together's audio.tts.chunk/[DONE], each chunk's
    words after its audio when the plan is timed."""
    return _errors_in_band(_events(service, plan), event_error)


def event_error(error: APIError) -> str:
    """A failure after the first event, as the stream's last event."""
    return _event(StreamError(error=_detail(error)))


def line_error(error: APIError) -> str:
    """A failure after the first line, as the stream's last line."""
    return _line(ErrorBody(error=_detail(error)))


def _detail(error: APIError) -> ErrorDetail:
    return ErrorDetail(message=error.message, type=error.type, param=error.param, code=error.code)


async def _events(service: SpeechService, plan: Plan) -> AsyncIterator[str]:
    produced = 0
    async for piece in service.encoded(plan):
        produced = piece.produced
        if piece.data:
            b64 = base64.b64encode(piece.data).decode()
            yield _event(SpeechAudioDelta(audio=b64) if plan.mode == Mode.SSE
                         else TogetherChunk(model=plan.model, b64=b64))
        if piece.words:
            yield _event(_words_event(plan.mode, piece.words))
    if plan.mode == Mode.SSE:
        output_tokens = produced // SAMPLES_PER_FRAME  # audio frames of 25 ms
        yield _event(SpeechAudioDone(usage=Usage(input_tokens=plan.input_tokens, output_tokens=output_tokens,
                                                 total_tokens=plan.input_tokens + output_tokens)))
    else:
        yield "data: [DONE]\n\n"


async def audio_bytes(service: SpeechService, plan: Plan) -> AsyncIterator[bytes]:
    """The audio file as it is produced: one valid stream of the requested format."""
    async for piece in service.encoded(plan):
        if piece.data:
            yield piece.data


def captioned_lines(service: SpeechService, plan: Plan) -> AsyncIterator[str]:
    """Kokoro-FastAPI's streamed captioned speech: a JSON line per piece of the audio file with the words that
    end in it (words whose audio the encoder still holds wait for the next line)."""
    return _errors_in_band(_captioned_lines(service, plan), line_error)


async def _captioned_lines(service: SpeechService, plan: Plan) -> AsyncIterator[str]:
    words: list[TimedWord] = []
    async for piece in service.encoded(plan):
        words += piece.words
        if piece.data:
            yield _line(captioned(plan, piece.data, words))
            words = []
    if words:
        yield _line(captioned(plan, b"", words))


async def _errors_in_band(items: AsyncIterator[str], render: Callable[[APIError], str]) -> AsyncIterator[str]:
    """`items`, with an APIError after the first one sent as `render`s it (the stream then ends); before the
    first, it is raised, and the client gets a plain error response."""
    sent = False
    try:
        async for item in items:
            yield item
            sent = True
    except APIError as e:
        if not sent:
            raise
        yield render(e)


def timestamps(words: list[TimedWord]) -> list[WordTimestamp]:
    return [WordTimestamp(word=w.word.text, start_time=w.start_s, end_time=w.end_s, char_start=w.word.start,
                          char_end=w.word.end, voice=w.voice) for w in words]


def captioned(plan: Plan, data: bytes, words: list[TimedWord]) -> CaptionedSpeechResponse:
    return CaptionedSpeechResponse(audio=base64.b64encode(data).decode(), audio_format=plan.format.media_type,
                                   timestamps=timestamps(words))


def _words_event(mode: Mode, words: list[TimedWord]) -> BaseModel:
    if mode == Mode.SSE:
        return SpeechAudioWords(words=timestamps(words))
    return TogetherWordTimestamps(words=[w.word.text for w in words], start_seconds=[w.start_s for w in words],
                                  end_seconds=[w.end_s for w in words])


def _event(payload: BaseModel) -> str:
    return f"data: {payload.model_dump_json()}\n\n"


def _line(payload: BaseModel) -> str:
    return payload.model_dump_json() + "\n"
