"""Proof that the served graphs give upstream's audio: a batch of mixed lengths through the exported
graphs (with the serving code, `kokoro_batch`) against upstream `KModel` run on each item alone."""
from __future__ import annotations

import importlib.util
import logging
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from export.reference import reference_speech

log = logging.getLogger("export")

ROOT = Path(__file__).resolve().parent.parent
LENGTHS = (8, 37, 120, 400, 510)
MAX_RELATIVE_L2 = 1e-4


class ParityError(AssertionError):
    pass


@dataclass
class ItemParity:
    phonemes: int
    frames: int
    durations_equal: bool
    relative_l2: float

    @property
    def ok(self) -> bool:
        return self.durations_equal and self.relative_l2 <= MAX_RELATIVE_L2


def load_kokoro_batch():
    """The serving model's batching module, imported from the model repository it ships in."""
    if "kokoro_batch" not in sys.modules:
        path = ROOT / "model_repository" / "kokoro" / "1" / "kokoro_batch.py"
        spec = importlib.util.spec_from_file_location("kokoro_batch", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["kokoro_batch"] = module
        spec.loader.exec_module(module)
    return sys.modules["kokoro_batch"]


def sample_phonemes(vocab: dict, lengths=LENGTHS, seed: int = 0) -> list[np.ndarray]:
    """Random sequences of real phoneme ids, one per length."""
    ids = np.array(sorted(set(vocab.values())), dtype=np.int64)
    rng = np.random.default_rng(seed)
    return [rng.choice(ids, size=n) for n in lengths]


def sample_requests(voice_pack: np.ndarray, vocab: dict, lengths=LENGTHS, seed: int = 0) -> list:
    """`sample_phonemes` as serving requests: each with its voice pack row, speed 1 and its index as seed."""
    kb = load_kokoro_batch()
    return [kb.SpeechRequest(ids, voice_pack[len(ids) - 1, 0].astype(np.float32), 1.0, i)
            for i, ids in enumerate(sample_phonemes(vocab, lengths, seed))]


def relative_l2(actual: np.ndarray, expected: np.ndarray) -> float:
    if actual.shape != expected.shape:
        return float("inf")
    return float(np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), 1e-12))


def check(kmodel, stages, voice_pack: np.ndarray, noise_table: torch.Tensor, vocab: dict,
          lengths=LENGTHS) -> list[ItemParity]:
    """Run the batch and the per-item references; return each item's comparison (raises nothing)."""
    kb = load_kokoro_batch()
    requests = sample_requests(voice_pack, vocab, lengths)
    started = time.monotonic()
    speeches = kb.KokoroBatch(*stages).synthesize(requests)
    log.info("exported graphs: batch of %d (%s phonemes) in %.1f s", len(requests), "/".join(map(str, lengths)),
             time.monotonic() - started)
    results = []
    for request, speech in zip(requests, speeches):
        audio, durations = reference_speech(kmodel, request.token_ids.tolist(), request.style, noise_table,
                                            request.speed, request.seed)
        item = ItemParity(len(request.token_ids), int(durations.sum()),
                          bool(np.array_equal(durations, speech.durations)), relative_l2(speech.samples_24k, audio))
        log.info("  %3d phonemes, %4d frames: durations %s, relative L2 %.2e", item.phonemes, item.frames,
                 "equal" if item.durations_equal else "DIFFER", item.relative_l2)
        results.append(item)
    return results


def verify(kmodel, stages, voice_pack, noise_table, vocab, lengths=LENGTHS) -> list[dict]:
    """`check`, raising ParityError unless every item passes."""
    results = check(kmodel, stages, voice_pack, noise_table, vocab, lengths)
    failed = [r for r in results if not r.ok]
    if failed:
        raise ParityError(f"exported graphs differ from upstream KModel (limit relative L2 {MAX_RELATIVE_L2:g}, "
                          f"identical durations): {[asdict(r) for r in failed]}")
    return [asdict(r) for r in results]
