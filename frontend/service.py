"""The speech endpoint's logic: validate and plan before any byte is sent, then synthesize the chunks
through Triton (several at once, so its batcher can join them, each due when the audio before it has
played) and encode them in order."""
from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import re
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import AsyncIterator

import numpy as np

from frontend import audio, ssml
from frontend.errors import APIError, InvalidRequest, NotFound
from frontend.observability import Metrics
from frontend.phonemes import Chunk, Phonemizer, language_of
from frontend.schemas import SpeechRequest, VoiceRef
from frontend.settings import Settings
from frontend.triton_client import TritonSynthesizer
from frontend.voices import Blend, VoiceCatalog
from kokoro_core.contract import SAMPLES_PER_FRAME

log = logging.getLogger("frontend")
MODEL_ID = "hexgrad/Kokoro-82M"
MODEL_ALIASES = {MODEL_ID.lower(), "kokoro", "kokoro-82m", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"}
# OpenAI's dated snapshots of its speech models: "gpt-4o-mini-tts-2025-12-15" and later dates, "tts-1-1106".
DATED_OPENAI_MODEL = re.compile(r"(?:gpt-4o-mini-tts-\d{4}-\d{2}-\d{2}|tts-1(?:-hd)?-\d{4})")
# Speech per phoneme at speed 1, to know when each chunk's audio is due before it exists (bench's short
# texts: 38.6 s from 366 phonemes).
SECONDS_PER_PHONEME = 0.1


@dataclass
class Plan:
    """A validated request: what to synthesize and how to send it."""
    model: str
    chunks: list[Chunk]
    voice: Blend
    speed: float
    format: audio.Format
    sample_rate: int | None
    mode: str  # "file", "stream", "sse" (OpenAI) or "together"
    request_id: str = ""

    @property
    def input_tokens(self) -> int:
        return sum(len(c.token_ids) for c in self.chunks)


class SpeechService:
    def __init__(self, settings: Settings, synthesizer: TritonSynthesizer, phonemizer: Phonemizer,
                 voices: VoiceCatalog, metrics: Metrics):
        self.settings, self.synthesizer, self.phonemizer, self.voices = settings, synthesizer, phonemizer, voices
        self.metrics = metrics

    async def plan(self, request: SpeechRequest, request_id: str = "") -> Plan:
        if not known_model(request.model):
            raise NotFound(f"model '{request.model}' does not exist; use {MODEL_ID} or kokoro", "model",
                           "model_not_found")
        if not request.input.strip() and not (request.phonemes or "").strip():
            raise InvalidRequest("input must not be empty", "input", "empty_input")
        if len(request.input) > self.settings.max_input_chars:
            raise InvalidRequest(f"input is {len(request.input)} characters; the limit is "
                                 f"{self.settings.max_input_chars}", "input", "input_too_long")
        voice_name = request.voice.id if isinstance(request.voice, VoiceRef) else request.voice
        voice = self.voices.resolve(voice_name or None)
        language = language_of(request.lang_code, request.language, voice.language_voice)
        response_format = request.response_format or ("raw" if request.stream else "mp3")
        fmt = audio.output_format(response_format, request.response_encoding)
        mode = ("sse" if request.stream_format == "sse" else "together" if request.stream
                else "stream" if request.stream_format == "audio" or fmt.container not in ("wav", "flac") else "file")
        first_words = (self.settings.first_chunk_words or None) if mode != "file" else None
        if request.phonemes:
            chunks = await asyncio.to_thread(self.phonemizer.phoneme_chunks, request.phonemes,
                                             self.settings.chunk_max_phonemes)
        else:
            chunks = await asyncio.to_thread(self.chunks, ssml.parse(request.input), language, request.normalize,
                                             first_words)
        self.metrics.characters.inc(len(request.input))
        return Plan(MODEL_ID, chunks, voice, request.speed, fmt, request.sample_rate, mode, request_id)

    def chunks(self, parts: list[ssml.Part], language: str, normalize: bool, first_words: int | None) -> list[Chunk]:
        """Each part's chunks at its rate; its pause is silence after its last chunk (or a chunk of its own)."""
        chunks: list[Chunk] = []
        for part in parts:
            spoken = [replace(chunk, rate=part.rate) for chunk in self.spoken(part.text, language, normalize,
                                                                                None if chunks else first_words)]
            pause = round(part.pause_s * audio.SOURCE_RATE)
            if pause:
                spoken = spoken or [Chunk("", "", [])]
                spoken[-1].pause_samples = pause
            chunks += spoken
        if not any(chunk.token_ids for chunk in chunks):
            raise InvalidRequest("input has nothing to speak", "input", "empty_input")
        return chunks

    def spoken(self, text: str, language: str, normalize: bool, first_words: int | None) -> list[Chunk]:
        try:
            return self.phonemizer.chunks(text, language, self.settings.chunk_max_phonemes, normalize, first_words)
        except InvalidRequest as e:
            if e.code == "empty_input":  # a part between two pauses that says nothing ("[pause:1s] ."): silence
                return []
            raise

    async def samples(self, plan: Plan) -> AsyncIterator[np.ndarray]:
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
                if plan.mode == "sse":
                    yield _event({"type": "speech.audio.delta", "audio": b64})
                else:
                    yield _event({"object": "audio.tts.chunk", "model": plan.model, "b64": b64})
                sent = True
        except APIError as e:
            if not sent:  # nothing sent yet: the client gets a plain error response instead
                raise
            yield _event({"type": "error", "error": {"message": e.message, "type": e.type, "param": e.param,
                                                    "code": e.code}})
            return
        if plan.mode == "sse":
            output_tokens = produced // SAMPLES_PER_FRAME  # audio frames of 25 ms
            yield _event({"type": "speech.audio.done", "usage": {
                "input_tokens": plan.input_tokens, "output_tokens": output_tokens,
                "total_tokens": plan.input_tokens + output_tokens}})
        else:
            yield "data: [DONE]\n\n"


def speed(plan: Plan, chunk: Chunk) -> float:
    """The request's speed times the chunk's SSML rate, kept within the model's range."""
    return min(max(plan.speed * chunk.rate, 0.25), 4.0)


def known_model(name: str) -> bool:
    """Whether `name` is this model under one of the names clients use for it."""
    return name.lower() in MODEL_ALIASES or DATED_OPENAI_MODEL.fullmatch(name.lower()) is not None


def _event(payload: dict) -> str:
    return f"data: {json.dumps(payload)}\n\n"
