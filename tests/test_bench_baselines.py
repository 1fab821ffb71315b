"""The benchmark's baselines run the repository's weights: same tokens, same utterance length as served."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from bench import baselines
from export import checkpoint, parity, repository
from kokoro_core.batching import KokoroBatch, Utterance
from kokoro_core.stages import onnxruntime_stages


def test_baselines_give_the_served_length(tiny_repository):
    weights = baselines.weights_of(tiny_repository)
    token_ids = parity.sample_phonemes(weights.config["vocab"], (40,))[0]
    style = baselines.voice_catalog(tiny_repository).style([("af_heart", 1.0)], len(token_ids))
    served = KokoroBatch(*onnxruntime_stages(*repository.graph_paths(tiny_repository, "cpu"), threads=1))
    kmodel = baselines.KModelBaseline(weights)
    onnx = baselines.OnnxSingleBaseline(weights, threads=1)
    # Lengths only: upstream draws its source noise at random on every call (torch.randn_like in the
    # model, RandomNormalLike in the graph), so no two runs share samples; the synthetic checkpoint's
    # durations are deterministic, so the lengths must agree exactly. 1.3 checks speed is a real input.
    for speed in (1.0, 1.3):
        expected = len(served.synthesize([Utterance(token_ids, style, speed)])[0].samples_24k)
        kmodel_audio = kmodel.synthesize(token_ids.tolist(), style, speed)
        onnx_audio = onnx.synthesize(token_ids.tolist(), style, speed)
        assert kmodel_audio.dtype == onnx_audio.dtype == np.float32
        assert len(onnx_audio) == len(kmodel_audio) == expected, speed
        assert np.isfinite(onnx_audio).all() and np.abs(onnx_audio).max() > 0


def test_kmodel_baseline_keeps_its_thread_count_after_the_served_graphs(tiny_repository):
    """The int8 decoder sets PyTorch's (process-wide) thread count to the served one; the KModel baseline
    measured after it in the same process must still run on its own."""
    weights = baselines.weights_of(tiny_repository)
    token_ids = parity.sample_phonemes(weights.config["vocab"], (8,))[0].tolist()
    style = baselines.voice_catalog(tiny_repository).style([("af_heart", 1.0)], len(token_ids))
    kmodel = baselines.KModelBaseline(weights, threads=2)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        kmodel.synthesize(token_ids, style)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_weights_of_refuses_other_weights(tiny_repository, tmp_path):
    assets = tmp_path / repository.ASSETS
    shutil.copytree(tiny_repository / repository.ASSETS, assets, ignore=shutil.ignore_patterns("voices"))
    provenance = json.loads((assets / "provenance.json").read_text())
    (assets / "provenance.json").write_text(json.dumps({**provenance, "checkpoint": {"file": "x.pth", "sha256": "0"}}))
    with pytest.raises(checkpoint.CheckpointError, match="exported from 0"):
        baselines.weights_of(tmp_path)
    (assets / "provenance.json").write_text(json.dumps({**provenance, "synthetic": False, "source": "local"}))
    with pytest.raises(checkpoint.CheckpointError, match="--checkpoint PATH"):
        baselines.weights_of(tmp_path)
