"""Writing a Triton model repository: the committed configs and model code, the exported graphs (or, for the
torch runner, the checkpoint), the voice packs and a record of provenance."""
from __future__ import annotations

import importlib.metadata
import json
import platform
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from export.checkpoint import ABOUT, Weights, read_voice, sha256
from kokoro_core.contract import (
    ASSETS,
    CHECKPOINT,
    DECODER_GRAPH,
    MODEL,
    MODEL_CONFIG,
    PROVENANCE,
    TEXT_GRAPH,
    VOICES,
)

ROOT = Path(__file__).resolve().parent.parent
# The committed repositories; an export into another directory starts from a copy of one. `torch`: the torch
# runner's (the batched modules in PyTorch, on CUDA when present, from the checkpoint in the assets).
TARGETS = {"cpu": ROOT / "model_repository", "gpu": ROOT / "model_repository_gpu",
           "torch": ROOT / "model_repository_torch"}
# Where each target's repository holds the two graphs.
GRAPHS = {
    "cpu": (f"{MODEL}/1/{TEXT_GRAPH}", f"{MODEL}/1/{DECODER_GRAPH}"),
    "gpu": ("kokoro_text/1/model.onnx", "kokoro_decoder/1/model.onnx"),
}


# The Triton model: one file for every target (its `runner` parameter says where the network runs).
MODEL_CODE = f"{MODEL}/1/model.py"


def prepare(output: Path, target: str) -> Path:
    """The output directory with the target's configs and the Triton model's code in place."""
    output = Path(output).resolve()
    source = TARGETS[target].resolve()
    if output != source:
        shutil.copytree(source, output, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("assets", "*.onnx", "*.pt2", "*.pth", "__pycache__"))
    if target != "cpu":
        (output / MODEL_CODE).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TARGETS["cpu"] / MODEL_CODE, output / MODEL_CODE)
    return output


def graph_paths(repository: Path, target: str) -> tuple[Path, Path]:
    text, decoder = GRAPHS[target]
    return Path(repository) / text, Path(repository) / decoder


def write_assets(repository: Path, weights: Weights) -> Path:
    """Config and voice packs (as float32 .npy VOICE_PACK_SHAPE) under ASSETS."""
    assets = Path(repository) / ASSETS
    voices_dir = assets / VOICES
    if voices_dir.exists():
        shutil.rmtree(voices_dir)
    voices_dir.mkdir(parents=True)
    (assets / MODEL_CONFIG).write_text(json.dumps(weights.config, ensure_ascii=False, indent=1), encoding="utf-8")
    for name, path in sorted(weights.voices.items()):
        np.save(voices_dir / f"{name}.npy", read_voice(path).numpy())
    return assets


def write_checkpoint(repository: Path, weights: Weights) -> Path:
    """The checkpoint under ASSETS, for the torch runner."""
    path = Path(repository) / ASSETS / CHECKPOINT
    shutil.copyfile(weights.checkpoint, path)
    return path


def set_parameter(repository: Path, key: str, value: str) -> None:
    """Set one of the `kokoro` model's parameters in its config.pbtxt, which must declare it."""
    config = Path(repository) / MODEL / "config.pbtxt"
    line = re.compile(rf'(parameters {{ key: "{key}" value: {{ string_value: )"[^"]*"')
    text, found = line.subn(rf'\1"{value}"', config.read_text())
    if found != 1:
        raise ValueError(f"{config} declares the parameter {key!r} {found} times, expected once")
    config.write_text(text)


def write_provenance(repository: Path, weights: Weights, options: dict, parity: list[dict],
                     seconds: dict | None = None) -> Path:
    """provenance.json: the weights, the options (with `precision_decision`), the parity figures and, as
    `export_seconds`, how long the export took (total and per step)."""
    import onnxruntime
    import torch

    record = {
        "source": weights.source,
        "synthetic": weights.source == "synthetic",
        "about": ABOUT[weights.source],
        **weights.details,
        "checkpoint": {"file": weights.checkpoint.name, "sha256": sha256(weights.checkpoint)},
        "voices": {name: sha256(path) for name, path in sorted(weights.voices.items())},
        "export_options": options,
        "parity": parity,
        "export_seconds": seconds,
        "versions": {"torch": torch.__version__, "kokoro": importlib.metadata.version("kokoro"),
                     "onnxruntime": onnxruntime.__version__, "python": platform.python_version()},
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = Path(repository) / ASSETS / PROVENANCE
    path.write_text(json.dumps(record, indent=1))
    return path


def read_provenance(repository: Path) -> dict:
    return json.loads((Path(repository) / ASSETS / PROVENANCE).read_text(encoding="utf-8"))
