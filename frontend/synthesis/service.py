"""The speech endpoint's logic: validate and plan before any byte is sent, then synthesize the chunks
through Triton (several at once, so its batcher can join them, each due when the audio before it has
played) and encode them in order."""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, Iterator, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from frontend.errors import InvalidRequest
from frontend.reading import ssml, timing
from frontend.reading.chunks import Chunk, phoneme_chunks, text_chunks
from frontend.reading.languages import reading_language
from frontend.reading.phonemes import Phonemizer
from frontend.reading.timing import TimedWord
from frontend.settings import Settings
from frontend.synthesis import audio, budget
from frontend.synthesis.budget import SECONDS_PER_PHONEME, chunk_speed, require_text
from frontend.synthesis.defaults import require_model
from frontend.synthesis.downloads import Download, Downloads
from frontend.synthesis.metrics import Metrics
from frontend.synthesis.request import Alias, Mode, SpeechInput
from frontend.synthesis.triton_client import Synthesis, TritonSynthesizer
from frontend.synthesis.voices import Blend, VoiceCatalog

log = logging.getLogger("frontend")


@dataclass(frozen=True)
class Speaker:
    """Who speaks: the voice as named (an alias resolved), its blend, and its own rate (an alias's)."""
    name: str
    blend: Blend
    rate: float = 1.0


@dataclass
class Plan:
    """A validated request: what to synthesize and how to send it."""
    model: str
    chunks: list[Chunk]
    voice: Speaker
    speed: float
    format: audio.Format
    sample_rate: int | None
    mode: Mode
    request_id: str = ""
    alignment: timing.Alignment | None = None  # when word timing is asked for
    volume: float = 1.0  # Kokoro-FastAPI's volume_multiplier
    download: Download | None = None  # Kokoro-FastAPI's return_download_link
    language: str = "a"  # the Kokoro language whose G2P read the text (the X-Language header)
    speakers: dict[str, Speaker] = field(default_factory=dict)  # by the name a [voice:] tag gives; words carry it

    def speaker(self, chunk: Chunk) -> Speaker:
        return self.speakers[chunk.voice] if chunk.voice is not None else self.voice

    @property
    def input_tokens(self) -> int:
        return sum(len(c.token_ids) for c in self.chunks)


@dataclass
class Piece:
    """A piece of a response's audio, in order: a chunk's speech or a pause."""
    samples: np.ndarray  # 24 kHz, as sent
    words: list[TimedWord] = field(default_factory=list)  # the words that end in it, when the plan is timed
    text: str = ""  # what it says ("" for a pause)


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

    async def plan(self, request: SpeechInput, request_id: str = "") -> Plan:
        """The request validated, cut into chunks and held to its budget (frontend.synthesis.budget); a timed one
        (or a stream of events) with the alignment of its words. Text work runs in worker threads."""
        model = require_model(request.model)
        if not request.text.strip() and not (request.phonemes or "").strip():
            raise InvalidRequest("input must not be empty", "input", "empty_input")
        require_text(request.text, self.settings.max_input_chars, "input")
        require_text(request.phonemes or "", self.settings.max_input_chars, "phonemes")
        voice = await asyncio.to_thread(self.aliases_checked, request)
        language = reading_language(request.lang_code, request.language, voice.blend.language_voice, request.text)
        fmt = audio.output_format(request.format, request.encoding)
        mode = request.mode or (Mode.FILE if fmt.container in ("wav", "flac") else Mode.STREAM)
        first_words = (self.settings.first_chunk_words or None) if mode != Mode.FILE else None
        speakers: dict[str, Speaker] = {}
        if request.phonemes:
            chunks = await asyncio.to_thread(phoneme_chunks, self.phonemizer, request.phonemes,
                                             self.settings.chunk_max_phonemes)
            chunks = [replace(chunk, rate=voice.rate) for chunk in chunks]
        else:
            chunks, speakers = await asyncio.to_thread(self.read, request, voice, language, first_words)
        budget.require_within(chunks, request.speed, self.settings, "phonemes" if request.phonemes else "input")
        self.metrics.characters.inc(len(request.text))
        alignment = await asyncio.to_thread(self.aligned, request, chunks, language) if request.timed else None
        return Plan(model, chunks, voice, request.speed, fmt, request.sample_rate, mode, request_id, alignment,
                    volume=request.volume, download=self.download(request), language=language, speakers=speakers)

    def speaker(self, named: str | None, aliases: Mapping[str, Alias]) -> Speaker:
        """The voice a request or a [voice:] tag names (None: the default voice), through the request's aliases
        (their names in any case)."""
        alias = aliases.get(named.lower()) if named else None
        voice = alias.voice if alias else named
        blend = self.voices.resolve(voice or None, self.settings.max_blend_voices)
        return Speaker(voice or self.voices.default_voice, blend, alias.rate if alias else 1.0)

    def aliases_checked(self, request: SpeechInput) -> Speaker:
        """The request's voice; every alias it defines names a voice (else 400), within MAX_SPEAKERS."""
        if len(request.voice_aliases) > self.settings.max_speakers:
            raise too_many_speakers(len(request.voice_aliases), self.settings.max_speakers, "voice_aliases")
        for alias in request.voice_aliases.values():
            self.voices.resolve(alias.voice, self.settings.max_blend_voices)
        return self.speaker(request.voice or None, request.voice_aliases)

    def aligned(self, request: SpeechInput, chunks: list[Chunk], language: str) -> timing.Alignment:
        if request.phonemes:
            return timing.align_words(self.phonemizer, chunks, request.phonemes, language, phonemes_given=True)
        return timing.align_words(self.phonemizer, chunks, request.text, language, request.normalize, skip=request.skip)

    def download(self, request: SpeechInput) -> Download | None:
        """Kokoro-FastAPI's return_download_link: the audio also kept as a file."""
        if not request.download_format:
            if request.chunk_timing:
                raise InvalidRequest("return_timing needs return_download_link: the timing file is kept beside the "
                                     "audio file", "return_timing")
            return None
        kind = request.download_format
        return self.downloads.start(kind, audio.output_format(kind, request.encoding), request.sample_rate,
                                    request.chunk_timing)

    def read(self, request: SpeechInput, voice: Speaker, language: str,
             first_words: int | None) -> tuple[list[Chunk], dict[str, Speaker]]:
        """The input's parts (SSML or inline tags), their pauses and speakers held to the budget before any G2P,
        then each part's chunks at its rate, by its speaker, in its speaker's language (the request's when it
        names one); its pause is silence after its last chunk (or a chunk of its own)."""
        parts = ssml.parse(request.text, request.voice_tags, request.as_ssml)
        budget.require_pauses(sum(part.pause_s for part in parts), self.settings)
        speakers = self.speakers({part.voice for part in parts if part.voice is not None}, request.voice_aliases)
        chunks: list[Chunk] = []
        for part in parts:
            speaker = speakers[part.voice] if part.voice is not None else voice
            part_language = language if part.voice is None else reading_language(
                request.lang_code, request.language, speaker.blend.language_voice, part.text)
            spoken = [replace(chunk, rate=part.rate * speaker.rate, voice=part.voice) for chunk in self.spoken(
                part.text, part_language, request.normalize, None if chunks else first_words, request.skip,
                self.settings.max_chunks - len(chunks))]
            pause = round(part.pause_s * audio.SOURCE_RATE)
            if pause:
                spoken = spoken or [Chunk("", "", [])]
                spoken[-1].pause_samples = pause
            chunks += spoken
        if not any(chunk.token_ids for chunk in chunks):
            raise InvalidRequest("input has nothing to speak", "input", "empty_input")
        return chunks, speakers

    def speakers(self, named: set[str], aliases: Mapping[str, Alias]) -> dict[str, Speaker]:
        if len(named) > self.settings.max_speakers:
            raise too_many_speakers(len(named), self.settings.max_speakers, "input")
        return {name: self.speaker(name, aliases) for name in sorted(named)}

    def spoken(self, text: str, language: str, normalize: bool, first_words: int | None,
               skip: frozenset[str], max_chunks: int) -> list[Chunk]:
        try:
            return text_chunks(self.phonemizer, text, language, self.settings.chunk_max_phonemes, normalize,
                               first_words, skip, max_chunks)
        except InvalidRequest as e:
            if e.code == "empty_input":  # a part between two pauses that says nothing ("[pause:1s] ."): silence
                return []
            raise

    async def pieces(self, plan: Plan) -> AsyncGenerator[Piece, None]:
        """Each piece at the request's volume; into its download too, which is kept once the audio is complete."""
        async with contextlib.aclosing(self.synthesized(plan)) as synthesized:  # a consumer gone stops it at once
            async for piece in synthesized:
                piece.samples = audio.louder(piece.samples, plan.volume)
                if plan.download:
                    await plan.download.add(piece.samples, piece.text)
                yield piece
        if plan.download:
            await plan.download.finish()

    async def synthesized(self, plan: Plan) -> AsyncGenerator[Piece, None]:
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
            item = next(numbered, None)
            if item is None:
                return
            index, chunk, deadline = item
            if not chunk.token_ids:  # a pause alone
                pending.append((asyncio.create_task(asyncio.sleep(0, SILENCE)), index, chunk))
                return
            style = self.voices.style(plan.speaker(chunk).blend.parts, len(chunk.token_ids))
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
                    if plan.speakers:  # several voices: each word says whose it is
                        words = [replace(word, voice=plan.speaker(chunk).name) for word in words]
                    yield Piece(audio.faded(synthesis.samples), words, chunk.text)
                    sent += len(synthesis.samples)
                for silence in silences(chunk.pause_samples):  # exact silence of the asked length, a second at most
                    yield Piece(silence)                           # at a time
                    sent += len(silence)
        finally:
            for task, _, _ in pending:
                task.cancel()

    async def encoded(self, plan: Plan) -> AsyncGenerator[Encoded, None]:
        """Each piece of audio encoded, with its words; last, the encoder's tail."""
        encoder = audio.AudioEncoder(plan.format, plan.sample_rate)
        produced = 0
        async for piece in self.pieces(plan):
            produced += len(piece.samples)
            yield Encoded(await asyncio.to_thread(encoder.encode, piece.samples), piece.words, produced)
        yield Encoded(await asyncio.to_thread(encoder.finish), [], produced)

    async def whole_file(self, plan: Plan) -> tuple[audio.WholeFile, list[TimedWord]]:
        """The whole file, encoded piece by piece as the audio comes (in memory up to MAX_HELD_BYTES, the rest on
        disk), and the words (when the plan is timed)."""
        file = audio.WholeFile(self.settings.max_held_bytes)
        try:
            encoder = audio.AudioEncoder(plan.format, plan.sample_rate, file)
            words = []
            async for piece in self.pieces(plan):
                await asyncio.to_thread(encoder.encode, piece.samples)
                words += piece.words
            await asyncio.to_thread(encoder.finish)
        except BaseException:
            file.close()
            raise
        return file, words

    async def whole(self, plan: Plan) -> tuple[bytes, list[TimedWord]]:
        """The whole file's bytes, and the words."""
        file, words = await self.whole_file(plan)
        with file:
            return await asyncio.to_thread(file.getvalue), words

    async def words(self, plan: Plan) -> list[TimedWord]:
        """A timed plan's words, its audio synthesized and not encoded."""
        return [word async for piece in self.pieces(plan) for word in piece.words]


def too_many_speakers(count: int, limit: int, param: str) -> InvalidRequest:
    return InvalidRequest(f"{param} names {count} voices; the limit is {limit} (MAX_SPEAKERS)", param,
                          "too_many_speakers")


def speed(plan: Plan, chunk: Chunk) -> float:
    return chunk_speed(plan.speed, chunk.rate)


def silences(samples: int) -> Iterator[np.ndarray]:
    """`samples` of silence in pieces of at most a second, made as they are sent."""
    for start in range(0, samples, audio.SOURCE_RATE):
        yield np.zeros(min(audio.SOURCE_RATE, samples - start), np.float32)
