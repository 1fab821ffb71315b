"""The two baselines the served stack is benchmarked against, on the same weights and phoneme ids.

- `KModelBaseline`: upstream `kokoro.KModel` in PyTorch, in process, one request at a time.
- `OnnxSingleBaseline`: what kokoro-onnx users run: upstream's single-request model (`KModelForONNX`,
  `disable_complex=True`) exported by `torch.onnx.export`, run at batch 1 in ONNX Runtime.

Both take the phoneme ids the frontend sends (no pads) and frame them with the pad id at both ends, as
the served model (`kokoro_core.batching.pad_tokens`) and upstream `KModel.forward` do.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from export import checkpoint, onnx_trace, pypi_weights
from export.repository import ROOT, read_provenance
from frontend.synthesis.voices import VoiceCatalog
from kokoro_core.contract import ASSETS, MODEL_CONFIG, PAD_ID, VOICES
from kokoro_core.stages import cap_onednn_isa

CACHE = ROOT / "build" / "bench"


def weights_of(repository: Path, checkpoint_path: Path | None = None) -> checkpoint.Weights:
    """The weights `repository` was exported from, checked against the sha256 in its provenance.

    Synthetic weights are regenerated (deterministic, seeded) where `python -m export` writes them. A real
    checkpoint is `checkpoint_path`, or the hub's cached file for a hub export, or the kokoro-onnx-int8 build;
    its voices are the repository's packs (see `voice_catalog`), so `Weights.voices` is empty.
    """
    assets = Path(repository) / ASSETS
    provenance = read_provenance(repository)
    if provenance["synthetic"]:
        tiny = provenance["export_options"]["tiny"]
        config = checkpoint.tiny_config() if tiny else checkpoint.load_config()
        out_dir = ROOT / "build" / ("synthetic-tiny" if tiny else "synthetic")
        weights = checkpoint.synthetic_weights(out_dir, config, provenance["seed"])
    elif provenance["source"] == pypi_weights.SOURCE and checkpoint_path is None:
        weights = pypi_weights.release_weights(ROOT / "build" / pypi_weights.SOURCE)  # rebuilt offline if missing
    else:
        path = checkpoint_path or _hub_cached(provenance)
        if path is None or not Path(path).is_file():
            raise checkpoint.CheckpointError(
                f"{repository} was exported from {provenance['checkpoint']['file']} ({provenance['source']}), "
                f"which is not here: pass --checkpoint PATH")
        weights = checkpoint.Weights(checkpoint.load_config(assets / MODEL_CONFIG), Path(path), {},
                                     provenance["source"])
    expected, actual = provenance["checkpoint"]["sha256"], checkpoint.sha256(weights.checkpoint)
    if actual != expected:
        raise checkpoint.CheckpointError(f"{weights.checkpoint} has sha256 {actual}, but {repository} was exported "
                                         f"from {expected}: a benchmark on other weights would compare nothing")
    return weights


def _hub_cached(provenance: dict) -> Path | None:
    """The checkpoint in the local hub cache, for a hub export (no network)."""
    if provenance["source"] != "hub":
        return None
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(provenance["repo_id"], provenance["checkpoint"]["file"])
    return Path(found) if isinstance(found, str) else None


def voice_catalog(repository: Path) -> VoiceCatalog:
    """The repository's voice packs, with the frontend's own choice of style row per utterance."""
    return VoiceCatalog(Path(repository) / ASSETS / VOICES)


def _framed(token_ids: list[int]) -> list[int]:
    return [PAD_ID, *token_ids, PAD_ID]


class KModelBaseline:
    """Upstream `KModel` (complex STFT, as trained), eval mode, one request at a time, on PyTorch's default
    thread count (one per core) unless told otherwise."""

    def __init__(self, weights: checkpoint.Weights, threads: int | None = None):
        # The in-process reference must run the served int8 decoder's kernels, and oneDNN reads its cap at its
        # first use, which this model makes before any served graph loads.
        cap_onednn_isa()
        self.kmodel = checkpoint.build_kmodel(weights.config, weights.checkpoint)
        self.threads = threads or os.cpu_count() or 1

    def synthesize(self, token_ids: list[int], style: np.ndarray, speed: float = 1.0) -> np.ndarray:
        """Float32 samples at 24 kHz for phoneme ids without pads and a style [256]."""
        ids = torch.tensor([_framed(token_ids)], dtype=torch.long)
        # PyTorch's thread count is the process's: the served graphs measured in this process set their own.
        torch.set_num_threads(self.threads)
        with torch.no_grad():
            audio, _ = self.kmodel.forward_with_tokens(ids, torch.as_tensor(style, dtype=torch.float32)[None], speed)
        return audio.numpy()


def single_graph(weights: checkpoint.Weights) -> Path:
    """Upstream's single-request ONNX graph for these weights, exported once into build/bench/.

    Exported like upstream's own export (`KModelForONNX`, `CustomSTFT`, traced with dynamic tokens) and
    like `export/onnx_trace.py` (legacy exporter, same opset). Named by checkpoint and config, so tiny and
    full-size weights never share a file.
    """
    config_digest = hashlib.sha256(json.dumps(weights.config, sort_keys=True).encode()).hexdigest()
    path = CACHE / f"kokoro-single-{checkpoint.sha256(weights.checkpoint)[:16]}-{config_digest[:12]}.onnx"
    if path.is_file():
        return path
    from kokoro.custom_stft import CustomSTFT
    from kokoro.model import KModelForONNX

    started = time.monotonic()
    print(f"bench: exporting upstream KModelForONNX to {path}", file=sys.stderr, flush=True)
    # What KModel(disable_complex=True) builds (CustomSTFT is all it changes), but loaded strictly: upstream's
    # loader fails on CustomSTFT's buffers and falls back to a non-strict load that hides any other mismatch.
    kmodel = checkpoint.build_kmodel(weights.config, weights.checkpoint)
    istft = weights.config["istftnet"]
    kmodel.decoder.generator.stft = CustomSTFT(filter_length=istft["gen_istft_n_fft"],
                                               hop_length=istft["gen_istft_hop_size"],
                                               win_length=istft["gen_istft_n_fft"])
    example = (torch.tensor([_framed(list(range(1, 49)))]), torch.rand(1, 256), torch.ones(1))
    partial = path.with_name(path.name + ".partial")
    partial.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings; the test checks lengths at another token count
        torch.onnx.export(KModelForONNX(kmodel).eval(), example, str(partial),
                          input_names=["tokens", "style", "speed"], output_names=["audio", "durations"],
                          dynamic_axes={"tokens": {1: "tokens"}, "audio": {0: "samples"}, "durations": {0: "tokens"}},
                          opset_version=onnx_trace.OPSET, dynamo=False, do_constant_folding=True)
    partial.replace(path)  # a killed export leaves no graph to reuse
    print(f"bench: exported in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return path


class OnnxSingleBaseline:
    """`single_graph` in ONNX Runtime on CPU, batch 1, default options but the thread count."""

    def __init__(self, weights: checkpoint.Weights, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        self.session = ort.InferenceSession(str(single_graph(weights)), options, providers=["CPUExecutionProvider"])

    def synthesize(self, token_ids: list[int], style: np.ndarray, speed: float = 1.0) -> np.ndarray:
        """Float32 samples at 24 kHz for phoneme ids without pads and a style [256]."""
        feeds = {"tokens": np.array([_framed(token_ids)], dtype=np.int64),
                 "style": np.asarray(style, dtype=np.float32)[None],
                 "speed": np.array([speed], dtype=np.float32)}
        return self.session.run(["audio"], feeds)[0]
