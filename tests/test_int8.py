"""`python -m export --precision int8`: the quantized decoder, its stated fidelity, served by a real Triton."""
import json
import logging

import numpy as np
import onnx
import pytest
import torch
import tritonclient.http as httpclient

from export import fidelity, quantize
from export.parity import sample_phonemes
from export.pipeline import main as export_main
from kokoro_core.contract import CURVES_GRAPH, INT8_VOCODER
from serving.tritonserver import TritonServer
from tests.helpers import free_port, infer


@pytest.fixture(scope="module")
def int8_repository(int8_export):
    """`python -m export --synthetic --tiny --precision int8`, run in the background since the session began."""
    return int8_export.repository()


def test_only_the_marked_convolutions_are_int8(int8_repository):
    version = int8_repository / "kokoro" / "1"
    assert (version / INT8_VOCODER).is_file() and (version / CURVES_GRAPH).is_file()
    options = json.loads((int8_repository / "kokoro" / "assets" / "provenance.json").read_text())["export_options"]
    names = options["int8"]["quantized_convolutions"]
    assert names and all(quantize.INT8_CONVS.match(name) for name in names)
    # tiny config: 2 upsamplings x (1 resblock + 1 noise_res) x 6 + 2 noise convs + conv_post in the generator,
    # 5 decoder blocks x 2
    assert len(names) == 37 and sum(name.startswith("generator.") for name in names) == 27
    fp32_graph = onnx.load(str(version / "decoder_stage.onnx"))  # kept, proven fp32
    assert not any(node.op_type == "DequantizeLinear" for node in fp32_graph.graph.node)


@pytest.mark.parametrize("kernel, padding, dilation, phases", [
    (3, 1, 1, 1), (7, 9, 3, 3), (11, 25, 5, 5),  # the residual blocks' "same" convolutions
    (3, 0, 2, 2), (3, 4, 2, 2),  # shorter and longer outputs
    (5, 3, 2, 1),  # padding not a multiple of the dilation: stays a dilated convolution
])
def test_conv1d_as_conv2d_is_the_same_convolution(kernel, padding, dilation, phases):
    conv = torch.nn.Conv1d(6, 4, kernel, padding=padding, dilation=dilation)
    as2d = quantize.Conv1dAs2d(conv)
    assert as2d.phases == phases and as2d.dilation == (1, dilation // phases)
    with torch.no_grad():
        for length in range(7, 7 + 2 * dilation):  # every remainder of the length by the dilation
            x = torch.randn(2, 6, length)
            assert torch.allclose(as2d(x), conv(x), atol=1e-6)


def test_the_phases_of_a_dilated_convolution_export_for_any_length():
    """As the int8 vocoder is exported: strict, the length dynamic and upsampled, as in the generator."""
    from torch.export import Dim

    class Upsampled(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = quantize.Conv1dAs2d(torch.nn.Conv1d(4, 4, 11, padding=15, dilation=3))

        def forward(self, frames):
            x = frames.repeat_interleave(20, dim=2) + 1
            return self.conv(x)

    model = Upsampled().eval()
    program = quantize.export_dynamic(model, (torch.randn(1, 4, 7),), ({2: Dim("frames", min=3, max=1000)},),
                                      strict=True).module()
    with torch.no_grad():
        for frames in (3, 4, 5, 8):  # 20 x frames: every remainder by 3
            x = torch.randn(1, 4, frames)
            assert torch.equal(program(x), model(x))


def test_provenance_states_precision_and_fidelity(int8_repository):
    provenance = json.loads((int8_repository / "kokoro" / "assets" / "provenance.json").read_text())
    options = provenance["export_options"]
    assert options["precision"] == "int8"
    snr = options["int8"]["fidelity_against_fp32"]
    assert [item["phonemes"] for item in snr] == [8, 37]
    assert all(0 < item["log_mel_db"] <= options["int8"]["max_log_mel_db"] for item in snr)  # close, not identical
    assert all(item["snr_db"] < 60 for item in snr)
    probe = options["precision_decision"]["probe"]  # measured eagerly before compiling: predicts the compiled SNR
    assert probe["phonemes"] == len(quantize.PROBE_PHONEMES)
    assert abs(probe["snr_db"] - min(item["snr_db"] for item in snr)) < 3
    assert set(provenance["export_seconds"]["steps"]) >= {"int8_probe", "int8_compile"}
    assert all(p["relative_l2"] <= 1e-4 for p in provenance["parity"])  # the fp32 export was proven first


def test_triton_serves_the_int8_decoder_within_its_stated_snr(int8_repository, int8_export, tiny_repository,
                                                              triton, tiny_weights, tmp_path, monkeypatch):
    # the export's cache: the compiler checks Inductor makes when loading the package are built there already
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(int8_export.inductor_cache))
    ids = sample_phonemes(tiny_weights.config["vocab"], (40,), seed=3)[0]
    style = np.load(tiny_repository / "kokoro" / "assets" / "voices" / "af_heart.npy")[39, 0]
    fp32, fp32_durations = infer(httpclient.InferenceServerClient(triton.http_url), ids, style, seed=5)
    with TritonServer(int8_repository, free_port(), free_port(), free_port(),
                      log_path=tmp_path / "int8.log") as server:
        int8, int8_durations = infer(httpclient.InferenceServerClient(server.http_url), ids, style, seed=5)
    assert np.array_equal(fp32_durations, int8_durations)  # the text stage is untouched
    measured = fidelity.compare(fp32, int8)
    assert fidelity.faithful(measured) and measured["snr_db"] < 60


def test_snr_measures_the_error_energy():
    rng = np.random.default_rng(0)
    signal = rng.standard_normal(48000).astype(np.float32)
    noisy = signal + 0.1 * rng.standard_normal(48000).astype(np.float32)  # 1 % of the energy: 20 dB
    assert fidelity.snr_db(signal, noisy) == pytest.approx(20.0, abs=0.2)
    assert fidelity.snr_db(signal, signal) == float("inf")
    assert fidelity.snr_db(signal, signal[:-1]) == float("inf")  # over the aligned lengths


def test_an_unfaithful_int8_decoder_is_refused():
    class Speech:
        def __init__(self, samples):
            self.samples_24k, self.durations = samples, np.ones(12, dtype=np.int64)

    rng = np.random.default_rng(1)
    reference = rng.standard_normal(24000).astype(np.float32)
    with pytest.raises(quantize.QuantizationError, match="log-mel distance"):
        quantize.fidelity([Speech(reference)], [Speech(reference + rng.standard_normal(24000).astype(np.float32))])
    kept = quantize.fidelity([Speech(reference)], [Speech(reference * 1.001)])
    assert kept == [{"phonemes": 10, "log_mel_db": 0.009, "snr_db": 60.0}]
    with pytest.raises(quantize.QuantizationError, match="SNR"):  # an SNR floor only when one is asked for
        quantize.fidelity([Speech(reference)], [Speech(reference * 1.001)], min_snr_db=70)
    noisy = [Speech(reference + 0.5 * rng.standard_normal(24000).astype(np.float32))]
    kept = quantize.fidelity([Speech(reference)], noisy, max_log_mel_db=10)  # what --max-log-mel-db 10 keeps
    assert kept[0]["log_mel_db"] > fidelity.THRESHOLD_DB


@pytest.mark.export  # runs one itself
def test_auto_refuses_int8_from_its_probe_before_compiling(tmp_path, monkeypatch, caplog):
    """`--precision auto` on a CPU with VNNI (int8 said to be this one's candidate; the probe is the real one) with
    a log-mel threshold the tiny int8 vocoder cannot hold: decided by the eager probe in seconds, nothing
    compiled, fp32 served, the decision and the probe's figures in the provenance."""
    monkeypatch.setattr(quantize, "precision_candidates", lambda capabilities=None: ["int8"])
    caplog.set_level(logging.INFO, logger="export")
    output = tmp_path / "model_repository"
    assert export_main(["--synthetic", "--tiny", "--precision", "auto", "--max-log-mel-db", "0.001",
                        "--parity-lengths", "8", "--output", str(output)]) == 0
    provenance = json.loads((output / "kokoro" / "assets" / "provenance.json").read_text())
    options, steps = provenance["export_options"], provenance["export_seconds"]["steps"]
    decision = options["precision_decision"]
    assert options["precision"] == decision["chosen"] == "fp32" and decision["asked"] == "auto"
    assert "int8 probe is too far from fp32: log-mel distance" in decision["verdicts"]["int8"]
    assert decision["reason"].startswith("no reduced precision") and decision["probe"]["log_mel_db"] > 0.001
    assert decision["decided_in_s"] == steps["int8_probe"] and "int8_compile" not in steps
    assert not any((output / "kokoro" / "1" / name).exists() for name in (INT8_VOCODER, CURVES_GRAPH))
    assert "compiling the int8 vocoder" not in caplog.text and "int8 probe: log-mel" in caplog.text


def test_the_int8_decoder_records_the_cpu_it_was_built_for(int8_repository):
    options = json.loads((int8_repository / "kokoro" / "assets" / "provenance.json").read_text())["export_options"]
    cpu = options["int8"]["cpu"]
    assert cpu["vnni"] == quantize.has_vnni() and cpu["weight_bits"] == (8 if cpu["vnni"] else 7)
    assert options["int8"]["speed_against_fp32"] > 0
