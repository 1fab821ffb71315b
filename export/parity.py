"""Proof that the served graphs give upstream's audio: a batch of mixed lengths through the exported
graphs (with the serving code, `kokoro_core`) against upstream `KModel` run on each item alone.

Upstream's audio is not a well-conditioned function of its F0. The harmonic source's phase is the
running sum of F0 over the whole utterance, so an F0 that differs in its last float32 bit (as any
other order of the same arithmetic gives: batched statistics, another thread count) moves the phase by
hundredths of a radian after a few seconds; the source's STFT angle then crosses the branch cut at
+-pi in thousands of bins, each a jump of 2 pi in what the generator reads. With a voiced F0 upstream
differs from itself by 0.08 to 0.2 (relative L2) between 1 and 2 threads, so no implementation can be
held to 1e-4 on the audio alone. The proof therefore checks each side of that link, every one at
MAX_RELATIVE_L2, with the graph's value of the link given to upstream:

- the F0 curve: the graph's against upstream's prediction;
- the harmonic source's spectrum: the graph's against upstream's source and STFT run on the graph's
  F0, compared as complex numbers (an angle of +pi against -pi is the same value);
- the audio: the graph's against upstream run with the graph's F0 curve and source spectrum.

A decoder stage that returns its audio alone (not `probed_stages`) is compared on its audio alone,
which holds only for an unvoiced F0.
"""
from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnx
import torch

from export.reference import reference_speech
from kokoro_core.batching import KokoroBatch, Utterance
from kokoro_core.contract import DECODER_INPUTS, MAX_PHONEMES, SAMPLES_PER_FRAME, TEXT_OUTPUTS, style_row
from kokoro_core.stages import onnxruntime_stage

log = logging.getLogger("export")

LENGTHS = (8, 37, 120, 400, MAX_PHONEMES)
MAX_RELATIVE_L2 = 1e-4
# The decoder stage's inner values the proof reads: each is what the named module (in `DecoderStage`) reads.
PROBES = {"f0_curve": "decoder.F0_conv", "harmonic_spectrum": "decoder.generator.noise_convs.0"}
PROBED_OUTPUTS = ("audio", "audio_lengths", *PROBES)


class ParityError(AssertionError):
    pass


@dataclass
class ItemParity:
    phonemes: int
    frames: int
    durations_equal: bool
    relative_l2: float  # the audio
    f0_relative_l2: float | None = None  # None: the decoder stage shows no inner values
    harmonic_relative_l2: float | None = None

    @property
    def ok(self) -> bool:
        measured = (self.relative_l2, self.f0_relative_l2, self.harmonic_relative_l2)
        return self.durations_equal and all(value is None or value <= MAX_RELATIVE_L2 for value in measured)


def probed_stages(text_graph: Path, decoder_graph: Path, threads: int = 0):
    """The graphs with ONNX Runtime, the decoder returning PROBED_OUTPUTS: its own outputs, then the
    F0 curve [B, 1, 2F] and the harmonic source's spectrum [B, n_fft + 2, STFT frames] it computed."""
    model = onnx.load(str(decoder_graph))
    for name, module in PROBES.items():
        weight = f"{module}.weight"
        reader = next((node for node in model.graph.node if node.op_type == "Conv" and node.input[1] == weight), None)
        if reader is None:
            raise ParityError(f"{decoder_graph} has no convolution with the weight {weight}")
        model.graph.node.append(onnx.helper.make_node("Identity", [reader.input[0]], [name]))
        model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    with tempfile.TemporaryDirectory() as scratch:
        probed = Path(scratch) / "probed_decoder_stage.onnx"
        onnx.save(model, str(probed))
        decoder_stage = onnxruntime_stage(probed, PROBED_OUTPUTS, threads)
    return onnxruntime_stage(Path(text_graph), TEXT_OUTPUTS, threads), decoder_stage


def probed_torch_stages(stages):
    """A `kokoro_core.torch_stages.TorchStages`'s stages and alignment, the decoder returning PROBED_OUTPUTS:
    what the modules PROBES names read, recorded by hooks (so its passes run eagerly, not from CUDA graphs)."""
    seen = {}
    for name, module in PROBES.items():
        stages.decoder.get_submodule(module).register_forward_pre_hook(
            lambda _, inputs, name=name: seen.__setitem__(name, inputs[0].float().cpu().numpy()))

    @torch.inference_mode()
    def decoder_stage(feeds):
        outputs = stages.run(stages.decode, None, [stages.tensor(feeds[name]) for name in DECODER_INPUTS], {})
        return [output.cpu().numpy() for output in outputs] + [seen[name] for name in PROBES]
    return stages.text_stage, decoder_stage, stages.align


def sample_phonemes(vocab: dict, lengths=LENGTHS, seed: int = 0) -> list[np.ndarray]:
    """Random sequences of real phoneme ids, one per length."""
    ids = np.array(sorted(set(vocab.values())), dtype=np.int64)
    rng = np.random.default_rng(seed)
    return [rng.choice(ids, size=n) for n in lengths]


def sample_requests(voice_pack: np.ndarray, vocab: dict, lengths=LENGTHS, seed: int = 0) -> list:
    """`sample_phonemes` as serving requests: each with its voice pack row, speed 1 and its index as seed."""
    return [Utterance(ids, voice_pack[style_row(len(ids)), 0].astype(np.float32), 1.0, i)
            for i, ids in enumerate(sample_phonemes(vocab, lengths, seed))]


def relative_l2(actual: np.ndarray, expected: np.ndarray) -> float:
    if actual.shape != expected.shape:
        return float("inf")
    return float(np.linalg.norm(actual - expected) / max(float(np.linalg.norm(expected)), 1e-12))


def spectrum_relative_l2(actual: np.ndarray, expected: np.ndarray) -> float:
    """`relative_l2` of two [2 * bins, frames] (magnitude, angle) spectra as complex numbers."""
    def complex_spectrum(spectrum):
        magnitude, angle = np.split(spectrum.astype(np.float64), 2)
        return magnitude * np.exp(1j * angle)
    return relative_l2(complex_spectrum(actual), complex_spectrum(expected))


def check(kmodel, stages, voice_pack: np.ndarray, noise_table: torch.Tensor, vocab: dict,
          lengths=LENGTHS) -> list[ItemParity]:
    """Run the batch and the per-item references; return each item's comparison (raises nothing).
    `stages`: text and decoder stage (and the alignment, where not `kokoro_core.batching.align`); a decoder
    returning PROBED_OUTPUTS is checked link by link."""
    requests = sample_requests(voice_pack, vocab, lengths)
    started = time.monotonic()
    feeds, durations, token_lengths = KokoroBatch(*stages).decoder_feeds(requests)
    audio, audio_lengths, *probes = stages[1](feeds)
    log.info("served stages: batch of %d (%s phonemes) in %.1f s", len(requests), "/".join(map(str, lengths)),
             time.monotonic() - started)
    hop = kmodel.decoder.generator.stft.hop_length
    results = []
    for i, request in enumerate(requests):
        samples = int(audio_lengths[i])
        given = dict(zip(PROBES, (probes[0][i, 0, :2 * samples // SAMPLES_PER_FRAME],
                                  probes[1][i, :, :samples // hop + 1]), strict=True)) if probes else {}
        upstream = reference_speech(kmodel, request.token_ids.tolist(), request.style, noise_table, request.speed,
                                    request.seed, **given)
        item = ItemParity(len(request.token_ids), int(upstream.durations.sum()),
                          bool(np.array_equal(upstream.durations, durations[i, :token_lengths[i]])),
                          relative_l2(audio[i, :samples], upstream.audio))
        if probes:
            item.f0_relative_l2 = relative_l2(given["f0_curve"], upstream.f0_curve)
            item.harmonic_relative_l2 = spectrum_relative_l2(given["harmonic_spectrum"], upstream.harmonic_spectrum)
        log.info("  %3d phonemes, %4d frames: durations %s, relative L2 of the F0 %s, of the harmonic source %s, "
                 "of the audio %.2e", item.phonemes, item.frames, "equal" if item.durations_equal else "DIFFER",
                 _format(item.f0_relative_l2), _format(item.harmonic_relative_l2), item.relative_l2)
        results.append(item)
    return results


def _format(value: float | None) -> str:
    return "-" if value is None else f"{value:.2e}"


def verify(kmodel, stages, voice_pack, noise_table, vocab, lengths=LENGTHS) -> list[dict]:
    """`check`, raising ParityError unless every item passes."""
    results = check(kmodel, stages, voice_pack, noise_table, vocab, lengths)
    failed = [r for r in results if not r.ok]
    if failed:
        raise ParityError(f"exported graphs differ from upstream KModel (limit relative L2 {MAX_RELATIVE_L2:g}, "
                          f"identical durations): {[asdict(r) for r in failed]}")
    return [asdict(r) for r in results]
