"""The listener-level fidelity measure (`export.fidelity`) and `PRECISION=auto`'s decision table."""
import dataclasses
import json
import time

import numpy as np
import pytest
import torch

from export import checkpoint, fidelity, parity, quantize
from export.pipeline import decide_precision, probe_request
from kokoro_core import dsp
from kokoro_core.batched_model import fold_weight_norm
from kokoro_core.batching import Utterance
from kokoro_core.contract import CHECKPOINT, MODEL_CONFIG, SAMPLE_RATE
from kokoro_core.torch_stages import TorchStages


def noise(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """Broadband noise, loud in every band (as speech's bands are, over an utterance)."""
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * SAMPLE_RATE))).astype(np.float32)


def test_the_distance_is_in_decibels_and_ignores_phase():
    audio = noise()
    assert fidelity.log_mel_distance_db(audio, audio) == 0.0
    louder = audio * 10 ** (1 / 20)  # 1 dB louder everywhere
    assert fidelity.log_mel_distance_db(audio, louder) == pytest.approx(1.0, abs=0.01)
    shifted = np.roll(audio, 1)  # every sample one later: SNR says another signal, the ear hears no change
    assert fidelity.snr_db(audio, shifted) < 0 and fidelity.log_mel_distance_db(audio, shifted) < 0.1


def test_lengths_are_aligned_and_a_missing_stretch_is_counted():
    audio = noise(2.0) * np.linspace(0.1, 1.0, 2 * SAMPLE_RATE, dtype=np.float32)
    assert fidelity.compare(audio, audio[:-300])["log_mel_db"] == 0.0  # a shorter tail alone: nothing to judge
    middle = SAMPLE_RATE
    cut = np.concatenate([audio[:middle], audio[middle + 2400:]])  # 100 ms cut out
    assert fidelity.log_mel_distance_db(audio, cut) > fidelity.THRESHOLD_DB


MEASURED = {"bf16": {"log_mel_db": 0.3, "speedup": 2.1}, "int8": {"log_mel_db": 0.4, "speedup": 2.6}}


@pytest.mark.parametrize("measured, chosen", [
    ({}, "fp32"),  # no candidate (an AVX2-only CPU)
    (MEASURED, "int8"),  # both faithful and faster: the faster one
    ({**MEASURED, "int8": {"log_mel_db": 9.0, "speedup": 2.6}}, "bf16"),  # int8 not faithful
    ({**MEASURED, "int8": {"log_mel_db": 0.4, "refused": "compiled: not faithful on the parity utterances"}}, "bf16"),
    ({"bf16": {"log_mel_db": 0.3, "speedup": 1.1}}, "fp32"),  # faithful, not faster by the margin
    ({"bf16": {"log_mel_db": 0.3, "speedup": None}}, "fp32"),  # not timed
    ({"bf16": {"log_mel_db": 2.0, "speedup": 2.0}, "int8": {"log_mel_db": 3.0, "speedup": 3.0}}, "fp32"),
])
def test_the_decision_table(measured, chosen):
    decision, verdicts = quantize.choose_precision(measured, threshold_db=1.0, min_speedup=1.2)
    assert decision == chosen and set(verdicts) == set(measured)
    kept = {precision for precision, verdict in verdicts.items() if verdict.startswith("kept")}
    assert chosen in kept if chosen != "fp32" else not kept


AVX2 = {"cpu_name": "AMD EPYC", "avx2": True, "fma3": True}  # as this project's AVX2-only machines read
ZEN4 = {**AVX2, "avx512_f": True, "avx512_vnni": True, "avx512_bf16": True}


@pytest.mark.parametrize("capabilities, candidates", [
    (AVX2, []), ({**AVX2, "avx_vnni": True}, ["int8"]),
    ({**AVX2, "amx_int8": True, "amx_bf16": True}, ["bf16", "int8"]), (ZEN4, ["bf16", "int8"]),
    ({**AVX2, "avx512_bf16": True}, ["bf16"]),
])
def test_auto_measures_the_precisions_the_cpu_runs_fast(capabilities, candidates):
    assert quantize.precision_candidates(capabilities) == candidates
    decision = decide_precision("auto", capabilities)
    assert decision["candidates"] == candidates and decision["chosen"] == "fp32"  # until a candidate is measured
    assert set(decision["cpu"]["flags"]) == {flag for flag, present in capabilities.items() if present is True}
    assert decision["threshold"] == {"log_mel_db": fidelity.THRESHOLD_DB, "min_speedup": quantize.MIN_SPEEDUP}


def test_auto_on_an_avx2_cpu_is_fp32_at_once():
    started = time.monotonic()
    decision = decide_precision("auto", AVX2)
    assert decision["chosen"] == "fp32" and decision["candidates"] == [] and time.monotonic() - started < 1
    assert "avx512_bf16" in decision["reason"] and "avx512_vnni" in decision["reason"]
    assert decide_precision("int8", AVX2)["candidates"] == []  # asked for: built and measured, not decided


# On the real weights: the threshold against fp32's own variation and against audio known to be broken.

@pytest.fixture(scope="module")
def real_fp32(real_weights, tmp_path_factory):
    """The torch runner in fp32 on the real weights, the probe utterance (real phonemes, first voice) and its audio
    at two threads, seed 0."""
    assets = tmp_path_factory.mktemp("real-assets")
    (assets / MODEL_CONFIG).write_text(json.dumps(real_weights.config))
    (assets / CHECKPOINT).symlink_to(real_weights.checkpoint.resolve())
    threads = torch.get_num_threads()
    stages = TorchStages(assets, "cpu", "fp32", threads=2)
    voice_pack = checkpoint.read_voice(real_weights.voices[sorted(real_weights.voices)[0]]).numpy()
    request = probe_request(real_weights.config["vocab"], voice_pack)
    yield stages, voice_pack, request, synthesize(stages, request)
    torch.set_num_threads(threads)


def synthesize(stages: TorchStages, request: Utterance, threads: int = 2) -> np.ndarray:
    torch.set_num_threads(threads)
    return stages.batch(max_items=1).synthesize([request])[0].samples_24k


@pytest.mark.slow
def test_fp32_against_itself_is_within_the_threshold(real_fp32):
    stages, _, request, reference = real_fp32
    other_seed = fidelity.compare(reference, synthesize(stages, dataclasses.replace(request, seed=1)))
    one_thread = fidelity.compare(reference, synthesize(stages, request, threads=1))
    assert fidelity.faithful(other_seed) and fidelity.faithful(one_thread)
    assert other_seed["log_mel_db"] <= fidelity.FP32_NOISE_FLOOR_DB  # the floor the threshold is a multiple of
    assert other_seed["snr_db"] < 25  # the former SNR floor would refuse fp32 itself


@pytest.mark.slow
def test_broken_audio_is_beyond_the_threshold(real_fp32, real_weights):
    stages, _, request, reference = real_fp32
    middle = len(reference) // 2
    zeroed = reference.copy()
    zeroed[middle:middle + SAMPLE_RATE // 5] = 0  # 200 ms dropped
    cut = np.concatenate([reference[:middle], reference[middle + SAMPLE_RATE // 10:]])  # 100 ms cut out
    other_voice = checkpoint.read_voice(real_weights.voices[sorted(real_weights.voices)[1]]).numpy()
    wrong_voice = synthesize(stages, dataclasses.replace(request, style=other_voice[len(request.token_ids) - 3, 0]))
    for broken in (zeroed, cut, wrong_voice):  # measured: 0.997, 5.3 and 18.0 dB (docs/export.md)
        assert not fidelity.faithful(fidelity.compare(reference, broken))


@pytest.mark.slow  # quantizes and calibrates the full-size vocoder, then runs it eagerly: minutes
def test_the_int8_vocoder_on_the_real_weights_is_not_faithful(real_fp32, real_weights):
    stages, voice_pack, request, _ = real_fp32
    kmodel = fold_weight_norm(checkpoint.build_kmodel(real_weights.config, real_weights.checkpoint))
    batch = stages.batch(max_items=1)

    def feeds(req):
        return {name: value.cpu().numpy() if torch.is_tensor(value) else value
                for name, value in batch.decoder_feeds([req])[0].items()}

    calibration = [feeds(r) for r in parity.sample_requests(voice_pack, real_weights.config["vocab"],
                                                            quantize.CALIBRATION_LENGTHS, seed=1)]
    quantized = quantize.quantize_int8_vocoder(kmodel, dsp.make_noise_table(), calibration)
    probe = quantize.probe_int8(quantized, feeds(request))
    assert probe["log_mel_db"] > fidelity.THRESHOLD_DB, probe
