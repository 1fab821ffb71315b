"""The speech endpoint's logic: validate and plan before any byte is sent, then synthesize the chunks
through Triton (several at once, so its batcher can join them, each due when the audio before it has
played) and encode them in order."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import logging
import time
from collections import deque
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import AsyncIterator, Callable

import numpy as np
from pydantic import BaseModel

from frontend import audio, ssml, timing
from frontend.chunks import Chunk, phoneme_chunks, text_chunks
from frontend.defaults import require_length, require_model, response_format
from frontend.downloads import Download, Downloads
from frontend.errors import APIError, InvalidRequest
from frontend.languages import language_of
from frontend.observability import Metrics
from frontend.phonemes import Phonemizer
from frontend.schemas import (
    CaptionedSpeechResponse,
    ErrorBody,
    ErrorDetail,
    SpeechAudioDelta,
    SpeechAudioDone,
    SpeechAudioWords,
    SpeechRequest,
    StreamError,
    TogetherChunk,
    TogetherWordTimestamps,
    Usage,
    VoiceRef,
    WordTimestamp,
)
from frontend.settings import Settings
from frontend.timing import TimedWord
from frontend.triton_client import Synthesis, TritonSynthesizer
from frontend.voices import Blend, VoiceCatalog
from kokoro_core.contract import SAMPLES_PER_FRAME

log = logging.getLogger("frontend")
# Speech per phoneme at speed 1, to know when each chunk's audio is due before it exists (bench's short
# texts: 38.6 s from 366 phonemes).
SECONDS_PER_PHONEME = 0.1


class Mode(str, Enum):
    """How a response is sent."""
    FILE = "file"  # whole, with its length known (wav, flac)
    STREAM = "stream"  # the audio file as it is produced
    SSE = "sse"  # OpenAI's speech.audio.delta events
    TOGETHER = "together"  # Together's audio.tts.chunk events


@dataclass
class Plan:
    """A validated request: what to synthesize and how to send it."""
    model: str
    chunks: list[Chunk]
    voice: Blend
    speed: float
    format: audio.Format
    sample_rate: int | None
    mode: Mode
    request_id: str = ""
    alignment: timing.Alignment | None = None  # when word timing is asked for
    volume: float = 1.0  # Kokoro-FastAPI's volume_multiplier
    download: Download | None = None  # Kokoro-FastAPI's return_download_link

    @property
    def input_tokens(self) -> int:
        return sum(len(c.token_ids) for c in self.chunks)


@dataclass
class Piece:
    """A piece of a response's audio, in order: a chunk's speech or a pause."""
    samples: np.ndarray  # 24 kHz, as sent
    words: list[TimedWord] = field(default_factory=list)  # the words that end in it, when the plan is timed


@dataclass
class Encoded:
    data: bytes  # the next bytes of the file (none while the encoder holds them)
    words: list[TimedWord]
    produced: int  # 24 kHz samples synthesized so far


SILENCE = Synthesis(np.zeros(0, np.float32), np.zeros(0, np.int64))


class SpeechService:
    def __init__(self, settings: Settings, synthesizer: TritonSynthesizer, phonemizer: Phonemizer,
                 voices: VoiceCatalog, metrics: Metrics, downloads: Downloads):
        self.settings, self.synthesizer, self.phonemizer, self.voices = settings, synthesizer, phonemizer, voices
        self.metrics, self.downloads = metrics, downloads

    async def plan(self, request: SpeechRequest, request_id: str = "", timed: bool = False) -> Plan:
        """The request validated and cut into chunks; `timed` (or `alignment: word` on a stream of events): with
        the alignment of its words."""
        model = require_model(request.model)
        if not request.input.strip() and not (request.phonemes or "").strip():
            raise InvalidRequest("input must not be empty", "input", "empty_input")
        require_length(request.input, self.settings.max_input_chars, "input")
        voice_name = request.voice.id if isinstance(request.voice, VoiceRef) else request.voice
        voice = self.voices.resolve(voice_name or None)
        language = language_of(request.lang_code, request.language, voice.language_voice)
        fmt = audio.output_format(response_format(request.response_format, request.stream), request.response_encoding)
        mode = (Mode.SSE if request.stream_format == "sse" else Mode.TOGETHER if request.stream
                else Mode.STREAM if request.stream_format == "audio" or fmt.container not in ("wav", "flac")
                else Mode.FILE)
        first_words = (self.settings.first_chunk_words or None) if mode != Mode.FILE else None
        if request.phonemes:
            chunks = await asyncio.to_thread(phoneme_chunks, self.phonemizer, request.phonemes,
                                             self.settings.chunk_max_phonemes)
        else:
            normalize, skip = request.reading()
            chunks = await asyncio.to_thread(self.chunks, ssml.parse(request.input), language, normalize, first_words,
                                             skip)
        self.metrics.characters.inc(len(request.input))
        timed = timed or (request.alignment == "word" and mode in (Mode.SSE, Mode.TOGETHER))
        alignment = await asyncio.to_thread(self.aligned, request, chunks, language) if timed else None
        return Plan(model, chunks, voice, request.speed, fmt, request.sample_rate, mode, request_id, alignment,
                    volume=request.volume_multiplier, download=self.download(request))

    def aligned(self, request: SpeechRequest, chunks: list[Chunk], language: str) -> timing.Alignment:
        if request.phonemes:
            return timing.align(self.phonemizer, chunks, request.phonemes, language, phonemes_given=True)
        normalize, skip = request.reading()
        return timing.align(self.phonemizer, chunks, request.input, language, normalize, skip=skip)

    def download(self, request: SpeechRequest) -> Download | None:
        """Kokoro-FastAPI's return_download_link: the audio also kept as a file, in download_format if given."""
        if not request.return_download_link:
            return None
        kind = request.download_format or response_format(request.response_format, request.stream)
        return self.downloads.start(kind, audio.output_format(kind, request.response_encoding), request.sample_rate)

    def chunks(self, parts: list[ssml.Part], language: str, normalize: bool, first_words: int | None,
               skip: frozenset[str] = frozenset()) -> list[Chunk]:
        """Each part's chunks at its rate; its pause is silence after its last chunk (or a chunk of its own)."""
        chunks: list[Chunk] = []
        for part in parts:
            spoken = [replace(chunk, rate=part.rate) for chunk in self.spoken(part.text, language, normalize,
                                                                                None if chunks else first_words, skip)]
            pause = round(part.pause_s * audio.SOURCE_RATE)
            if pause:
                spoken = spoken or [Chunk("", "", [])]
                spoken[-1].pause_samples = pause
            chunks += spoken
        if not any(chunk.token_ids for chunk in chunks):
            raise InvalidRequest("input has nothing to speak", "input", "empty_input")
        return chunks

    def spoken(self, text: str, language: str, normalize: bool, first_words: int | None,
               skip: frozenset[str] = frozenset()) -> list[Chunk]:
        try:
            return text_chunks(self.phonemizer, text, language, self.settings.chunk_max_phonemes, normalize,
                               first_words, skip)
        except InvalidRequest as e:
            if e.code == "empty_input":  # a part between two pauses that says nothing ("[pause:1s] ."): silence
                return []
            raise

    async def pieces(self, plan: Plan) -> AsyncIterator[Piece]:
        """Each piece at the request's volume; into its download too, which is kept once the audio is complete."""
        async with contextlib.aclosing(self.synthesized(plan)) as synthesized:  # a consumer gone stops it at once
            async for piece in synthesized:
                piece.samples = audio.louder(piece.samples, plan.volume)
                if plan.download:
                    await plan.download.add(piece.samples)
                yield piece
        if plan.download:
            await plan.download.finish()

    async def synthesized(self, plan: Plan) -> AsyncIterator[Piece]:
        """Each chunk's audio in order, and its pause. Up to SYNTHESIS_LOOKAHEAD chunks are submitted at once
        (Triton's batcher joins them); the rest wait, so a consumer that stops (a client gone) leaves little
        work behind, and a long input does not hold every chunk's audio at once. Each chunk is due when
        the estimated audio before it has played, counted from now. A timed plan's words come with the
        chunk they end in, timed from the durations Triton returned and the audio sent before."""
        pending: deque[tuple[asyncio.Task, int, Chunk]] = deque()
        began = time.monotonic()
        seconds = (len(chunk.token_ids) * SECONDS_PER_PHONEME / speed(plan, chunk)
                   + chunk.pause_samples / audio.SOURCE_RATE for chunk in plan.chunks)
        numbered = zip(itertools.count(), plan.chunks, itertools.accumulate(seconds, initial=began))

        def submit_next() -> None:
            index, chunk, deadline = next(numbered, (None, None, None))
            if chunk is None:
                return
            if not chunk.token_ids:  # a pause alone
                pending.append((asyncio.create_task(asyncio.sleep(0, SILENCE)), index, chunk))
                return
            style = self.voices.style(plan.voice.parts, len(chunk.token_ids))
            pending.append((asyncio.create_task(self.synthesizer.synthesize(
                chunk.token_ids, style, speed(plan, chunk), request_id=f"{plan.request_id}-{index}",
                deadline=deadline, began=began)), index, chunk))

        for _ in range(self.settings.synthesis_lookahead):
            submit_next()
        clock, sent = timing.Clock(plan.alignment) if plan.alignment else None, 0
        try:
            while pending:
                synthesis = await pending[0][0]
                _, index, chunk = pending.popleft()
                submit_next()
                self.metrics.audio_seconds.inc(len(synthesis.samples) / audio.SOURCE_RATE)
                if len(synthesis.samples):
                    words = clock.chunk(index, synthesis.durations, sent) if clock else []
                    yield Piece(audio.faded(synthesis.samples), words)
                    sent += len(synthesis.samples)
                if chunk.pause_samples:
                    yield Piece(np.zeros(chunk.pause_samples, np.float32))  # exact silence of the asked length
                    sent += chunk.pause_samples
        finally:
            for task, _, _ in pending:
                task.cancel()

    async def encoded(self, plan: Plan) -> AsyncIterator[bytes]:
        """The audio file as it is produced: one valid stream of the requested format."""
        async for piece in self._encoded(plan):
            if piece.data:
                yield piece.data

    async def _encoded(self, plan: Plan) -> AsyncIterator[Encoded]:
        """Each piece of audio encoded, with its words; last, the encoder's tail."""
        encoder = audio.AudioEncoder(plan.format, plan.sample_rate)
        produced = 0
        async for piece in self.pieces(plan):
            produced += len(piece.samples)
            yield Encoded(await asyncio.to_thread(encoder.encode, piece.samples), piece.words, produced)
        yield Encoded(await asyncio.to_thread(encoder.finish), [], produced)

    async def whole(self, plan: Plan) -> tuple[bytes, list[TimedWord]]:
        """The whole file, and the words (when the plan is timed)."""
        pieces = [piece async for piece in self.pieces(plan)]
        data = await asyncio.to_thread(audio.encode_all, np.concatenate([p.samples for p in pieces]), plan.format,
                                       plan.sample_rate)
        return data, [word for piece in pieces for word in piece.words]

    async def words(self, plan: Plan) -> list[TimedWord]:
        """A timed plan's words, its audio synthesized and not encoded."""
        return [word async for piece in self.pieces(plan) for word in piece.words]

    def events(self, plan: Plan) -> AsyncIterator[str]:
        """Server-sent events: OpenAI's speech.audio.delta/done or Together's audio.tts.chunk/[DONE], each chunk's
        words after its audio when the plan is timed. A failure after the first event is sent in-band (an `error`
        event) and ends the stream."""
        return _errors_in_band(self._events(plan), lambda detail: _event(StreamError(error=detail)))

    async def _events(self, plan: Plan) -> AsyncIterator[str]:
        produced = 0
        async for piece in self._encoded(plan):
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

    def captioned_lines(self, plan: Plan) -> AsyncIterator[str]:
        """Kokoro-FastAPI's streamed captioned speech: a JSON line per piece of the audio file with the words that
        end in it (words whose audio the encoder still holds wait for the next line). A failure after the first
        line is sent as an error body line, and ends the stream."""
        return _errors_in_band(self._captioned_lines(plan), lambda detail: _line(ErrorBody(error=detail)))

    async def _captioned_lines(self, plan: Plan) -> AsyncIterator[str]:
        words: list[TimedWord] = []
        async for piece in self._encoded(plan):
            words += piece.words
            if piece.data:
                yield _line(captioned(plan, piece.data, words))
                words = []
        if words:
            yield _line(captioned(plan, b"", words))


async def _errors_in_band(items: AsyncIterator[str], render: Callable[[ErrorDetail], str]) -> AsyncIterator[str]:
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
        yield render(ErrorDetail(message=e.message, type=e.type, param=e.param, code=e.code))


def timestamps(words: list[TimedWord]) -> list[WordTimestamp]:
    return [WordTimestamp(word=w.word.text, start_time=w.start_s, end_time=w.end_s, char_start=w.word.start,
                          char_end=w.word.end) for w in words]


def captioned(plan: Plan, data: bytes, words: list[TimedWord]) -> CaptionedSpeechResponse:
    return CaptionedSpeechResponse(audio=base64.b64encode(data).decode(), audio_format=plan.format.media_type,
                                   timestamps=timestamps(words))


def _words_event(mode: Mode, words: list[TimedWord]) -> BaseModel:
    if mode == Mode.SSE:
        return SpeechAudioWords(words=timestamps(words))
    return TogetherWordTimestamps(words=[w.word.text for w in words], start_seconds=[w.start_s for w in words],
                                  end_seconds=[w.end_s for w in words])


def speed(plan: Plan, chunk: Chunk) -> float:
    """The request's speed times the chunk's SSML rate, kept within the model's range."""
    return min(max(plan.speed * chunk.rate, 0.25), 4.0)


def _event(payload: BaseModel) -> str:
    return f"data: {payload.model_dump_json()}\n\n"


def _line(payload: BaseModel) -> str:
    return payload.model_dump_json() + "\n"
