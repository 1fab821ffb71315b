"""Samples to bytes in the requested format, through FFmpeg (PyAV): whole files or a stream of chunks."""
from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import cast

import av
import numpy as np

from kokoro_core.contract import SAMPLE_RATE as SOURCE_RATE

FADE_SAMPLES = 120  # 5 ms at 24 kHz


def faded(samples_24k: np.ndarray) -> np.ndarray:
    """The chunk with 5 ms linear fades at both ends, so chunks join without clicks (each chunk is a
    separate utterance, and nothing makes its first and last samples meet)."""
    out = np.array(samples_24k, dtype=np.float32)
    n = min(FADE_SAMPLES, len(out) // 2)
    if n:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        out[:n] *= ramp
        out[-n:] *= ramp[::-1]
    return out


def louder(samples: np.ndarray, factor: float) -> np.ndarray:
    """The samples times `factor`, clipped at full scale (Kokoro-FastAPI's volume_multiplier)."""
    return samples if factor == 1 else np.clip(samples * np.float32(factor), -1.0, 1.0)


@dataclass(frozen=True)
class Format:
    container: str
    codec: str
    media_type: str
    sample_format: str  # what the codec takes
    rates: tuple[int, ...] = ()  # supported rates, when the codec restricts them
    bit_rate: int | None = None


MPEG_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)  # what MP3 and AAC define
FORMATS = {
    "mp3": Format("mp3", "libmp3lame", "audio/mpeg", "s16p", MPEG_RATES, bit_rate=64000),
    "opus": Format("ogg", "libopus", "audio/ogg", "s16", (8000, 12000, 16000, 24000, 48000), bit_rate=32000),
    "aac": Format("adts", "aac", "audio/aac", "fltp", MPEG_RATES, bit_rate=64000),
    "flac": Format("flac", "flac", "audio/flac", "s16"),
    "wav": Format("wav", "pcm_s16le", "audio/wav", "s16"),
}
PCM = {  # headerless samples: OpenAI's pcm is 16-bit; Together's raw defaults to 32-bit float
    "pcm_s16le": Format("s16le", "pcm_s16le", "audio/pcm", "s16"),
    "pcm_f32le": Format("f32le", "pcm_f32le", "audio/pcm", "flt"),
    "pcm_mulaw": Format("mulaw", "pcm_mulaw", "audio/pcm", "s16"),
    "pcm_alaw": Format("alaw", "pcm_alaw", "audio/pcm", "s16"),
}


def output_format(response_format: str, encoding: str | None) -> Format:
    """The format to write. `encoding` (Together's response_encoding, which its SDK sends with every
    format) sets the samples of pcm, raw and wav; the compressed formats have their codec's own."""
    if response_format in ("pcm", "raw"):
        return PCM[encoding or ("pcm_f32le" if response_format == "raw" else "pcm_s16le")]
    if response_format == "wav" and encoding:
        return replace(FORMATS["wav"], codec=PCM[encoding].codec, sample_format=PCM[encoding].sample_format)
    return FORMATS[response_format]


class _Sink:
    """A write-only, non-seekable file for FFmpeg, drained after every chunk."""

    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


class WholeFile(tempfile.SpooledTemporaryFile):
    """A seekable file for FFmpeg: the muxer goes back to write the sizes into the header (WAV's RIFF sizes,
    FLAC's sample count, MP3's Xing frame with the encoder delay that gapless decoders trim). Held in memory up to
    `in_memory` bytes, then in a temporary file on disk: a long file costs disk, not memory."""

    def __init__(self, in_memory: int = 8 << 20):
        super().__init__(max_size=in_memory)

    def drain(self) -> bytes:
        return b""  # nothing leaves before the file is whole

    def getvalue(self) -> bytes:
        self.seek(0)
        return self.read()

    @property
    def size(self) -> int:
        return self.seek(0, io.SEEK_END)

    def blocks(self, size: int = 1 << 16) -> Iterator[bytes]:
        """The file from its start, `size` bytes at a time; closed (and removed) at the end."""
        with self:
            self.seek(0)
            while block := self.read(size):
                yield block


class AudioEncoder:
    """Feed float samples at 24 kHz with `encode`, get bytes of one valid stream; `finish` at the end.
    A rate the codec cannot write becomes its nearest one (the header says which). Into `sink` when given
    (then `encode` and `finish` return nothing)."""

    def __init__(self, fmt: Format, sample_rate: int | None = None, sink: _Sink | WholeFile | None = None):
        self.format = fmt
        self.rate = sample_rate or SOURCE_RATE
        if fmt.rates and self.rate not in fmt.rates:
            self.rate = min(fmt.rates, key=lambda r: abs(r - self.rate))
        self.sink = sink or _Sink()
        self.container = av.open(self.sink, mode="w", format=fmt.container)
        self.stream = cast(av.AudioStream, self.container.add_stream(fmt.codec, rate=self.rate, layout="mono"))
        self.stream.time_base = Fraction(1, self.rate)
        if fmt.bit_rate:
            self.stream.bit_rate = fmt.bit_rate
        self.resampler = av.AudioResampler(format=fmt.sample_format, layout="mono", rate=self.rate)
        self.pts = 0

    def encode(self, samples_24k: np.ndarray) -> bytes:
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples_24k, dtype=np.float32)[None], format="flt",
                                           layout="mono")
        frame.sample_rate = SOURCE_RATE
        frame.pts = None
        for resampled in self.resampler.resample(frame):
            self._mux(resampled)
        return self.sink.drain()

    def finish(self) -> bytes:
        for resampled in self.resampler.resample(None):
            self._mux(resampled)
        for packet in self.stream.encode(None):
            self.container.mux(packet)
        self.container.close()
        return self.sink.drain()

    def _mux(self, frame: av.AudioFrame) -> None:
        frame.pts = self.pts
        frame.time_base = Fraction(1, self.rate)
        self.pts += frame.samples
        for packet in self.stream.encode(frame):
            self.container.mux(packet)


def encode_all(samples_24k: np.ndarray, fmt: Format, sample_rate: int | None = None) -> bytes:
    """One whole file, its header complete."""
    file = WholeFile()
    encoder = AudioEncoder(fmt, sample_rate, file)
    encoder.encode(samples_24k)
    encoder.finish()
    return file.getvalue()
