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
from dataclasses import dataclass, replace
from enum import Enum
from typing import AsyncIterator

import numpy as np
from pydantic import BaseModel

from frontend import audio, ssml
from frontend.chunks import Chunk, phoneme_chunks, text_chunks
from frontend.defaults import require_length, require_model, response_format
from frontend.downloads import Download, Downloads
from frontend.errors import APIError, InvalidRequest
from frontend.languages import language_of
from frontend.observability import Metrics
from frontend.phonemes import Phonemizer
from frontend.schemas import (
    ErrorDetail,
    SpeechAudioDelta,
    SpeechAudioDone,
    SpeechRequest,
    StreamError,
    TogetherChunk,
    Usage,
    VoiceRef,
)
from frontend.settings import Settings
from frontend.triton_client import TritonSynthesizer
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
    volume: float = 1.0  # Kokoro-FastAPI's volume_multiplier
    download: Download | None = None  # Kokoro-FastAPI's return_download_link

    @property
    def input_tokens(self) -> int:
        return sum(len(c.token_ids) for c in self.chunks)


class SpeechService:
    def __init__(self, settings: Settings, synthesizer: TritonSynthesizer, phonemizer: Phonemizer,
                 voices: VoiceCatalog, metrics: Metrics, downloads: Downloads):
        self.settings, self.synthesizer, self.phonemizer, self.voices = settings, synthesizer, phonemizer, voices
        self.metrics, self.downloads = metrics, downloads

    async def plan(self, request: SpeechRequest, request_id: str = "") -> Plan:
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
        return Plan(model, chunks, voice, request.speed, fmt, request.sample_rate, mode, request_id,
                    volume=request.volume_multiplier, download=self.download(request))

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

    async def samples(self, plan: Plan) -> AsyncIterator[np.ndarray]:
        """Each chunk's samples in order, at the request's volume; into its download too, which is kept once the
        audio is complete."""
        async with contextlib.aclosing(self.synthesized(plan)) as synthesized:  # a consumer gone stops it at once
            async for samples in synthesized:
                samples = audio.louder(samples, plan.volume)
                if plan.download:
                    await plan.download.add(samples)
                yield samples
        if plan.download:
            await plan.download.finish()

    async def synthesized(self, plan: Plan) -> AsyncIterator[np.ndarray]:
        """Each chunk's samples in order. Up to SYNTHESIS_LOOKAHEAD chunks are submitted at once (Triton's
        batcher joins them); the rest wait, so a consumer that stops (a client gone) leaves little
        work behind, and a long input does not hold every chunk's audio at once. Each chunk is due when
        the estimated audio before it has played, counted from now."""
        pending: deque[tuple[asyncio.Task, Chunk]] = deque()
        began = time.monotonic()
        seconds = (len(chunk.token_ids) * SECONDS_PER_PHONEME / speed(plan, chunk)
                   + chunk.pause_samples / audio.SOURCE_RATE for chunk in plan.chunks)
        numbered = zip(itertools.count(), plan.chunks, itertools.accumulate(seconds, initial=began))

        def submit_next() -> None:
            index, chunk, deadline = next(numbered, (None, None, None))
            if chunk is None:
                return
            if not chunk.token_ids:  # a pause alone
                pending.append((asyncio.create_task(asyncio.sleep(0, np.zeros(0, np.float32))), chunk))
                return
            style = self.voices.style(plan.voice.parts, len(chunk.token_ids))
            pending.append((asyncio.create_task(self.synthesizer.synthesize(
                chunk.token_ids, style, speed(plan, chunk), request_id=f"{plan.request_id}-{index}",
                deadline=deadline, began=began)), chunk))

        for _ in range(self.settings.synthesis_lookahead):
            submit_next()
        try:
            while pending:
                samples = await pending[0][0]
                chunk = pending.popleft()[1]
                submit_next()
                self.metrics.audio_seconds.inc(len(samples) / audio.SOURCE_RATE)
                if len(samples):
                    yield audio.faded(samples)
                if chunk.pause_samples:
                    yield np.zeros(chunk.pause_samples, np.float32)  # exact silence of the asked length
        finally:
            for task, _ in pending:
                task.cancel()

    async def encoded(self, plan: Plan) -> AsyncIterator[bytes]:
        """The audio file as it is produced: one valid stream of the requested format."""
        async for data, _ in self._encoded_counted(plan):
            yield data

    async def _encoded_counted(self, plan: Plan) -> AsyncIterator[tuple[bytes, int]]:
        """Encoded bytes, each with the number of 24 kHz samples synthesized so far."""
        encoder = audio.AudioEncoder(plan.format, plan.sample_rate)
        produced = 0
        async for samples in self.samples(plan):
            produced += len(samples)
            data = await asyncio.to_thread(encoder.encode, samples)
            if data:
                yield data, produced
        tail = await asyncio.to_thread(encoder.finish)
        if tail:
            yield tail, produced

    async def whole(self, plan: Plan) -> bytes:
        parts = [samples async for samples in self.samples(plan)]
        return await asyncio.to_thread(audio.encode_all, np.concatenate(parts), plan.format, plan.sample_rate)

    async def events(self, plan: Plan) -> AsyncIterator[str]:
        """Server-sent events: OpenAI's speech.audio.delta/done or Together's audio.tts.chunk/[DONE].
        A failure after the first event is sent in-band (an `error` event) and ends the stream."""
        produced, sent = 0, False
        try:
            async for data, produced in self._encoded_counted(plan):
                b64 = base64.b64encode(data).decode()
                yield _event(SpeechAudioDelta(audio=b64) if plan.mode == Mode.SSE
                             else TogetherChunk(model=plan.model, b64=b64))
                sent = True
        except APIError as e:
            if not sent:  # nothing sent yet: the client gets a plain error response instead
                raise
            yield _event(StreamError(error=ErrorDetail(message=e.message, type=e.type, param=e.param, code=e.code)))
            return
        if plan.mode == Mode.SSE:
            output_tokens = produced // SAMPLES_PER_FRAME  # audio frames of 25 ms
            yield _event(SpeechAudioDone(usage=Usage(input_tokens=plan.input_tokens, output_tokens=output_tokens,
                                                     total_tokens=plan.input_tokens + output_tokens)))
        else:
            yield "data: [DONE]\n\n"


def speed(plan: Plan, chunk: Chunk) -> float:
    """The request's speed times the chunk's SSML rate, kept within the model's range."""
    return min(max(plan.speed * chunk.rate, 0.25), 4.0)


def _event(payload: BaseModel) -> str:
    return f"data: {payload.model_dump_json()}\n\n"
