"""The two ONNX graphs the model repository serves, traced from `kokoro_core/batched_model.py`."""
from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch

from kokoro_core.batched_model import CurvesStage, DecoderStage, TextStage
from kokoro_core.contract import (
    CURVES_INPUTS,
    CURVES_OUTPUTS,
    DECODER_INPUTS,
    DECODER_OUTPUTS,
    TEXT_INPUTS,
    TEXT_OUTPUTS,
)

log = logging.getLogger("export")

OPSET = 20


def _example_text_inputs():
    token_ids = torch.randint(1, 100, (2, 24))
    token_ids[:, 0] = 0
    return token_ids, torch.tensor([24, 17]), torch.rand(2, 256), torch.ones(2)


def _example_decoder_inputs():
    frames = 40
    return (torch.rand(2, 640, frames), torch.rand(2, 512, frames), torch.tensor([frames, 31]),
            torch.rand(2, 256), torch.tensor([0, 1]))


def export_text_stage(kmodel: torch.nn.Module, path: Path) -> Path:
    stage = TextStage(kmodel).eval()
    dynamic = {"token_ids": {0: "batch", 1: "tokens"}, "token_lengths": {0: "batch"}, "style": {0: "batch"},
               "speed": {0: "batch"}, "durations": {0: "batch", 1: "tokens"},
               "prosody_features": {0: "batch", 1: "tokens"}, "text_features": {0: "batch", 2: "tokens"}}
    return _export(stage, _example_text_inputs(), TEXT_INPUTS, TEXT_OUTPUTS, dynamic, path)


def export_decoder_stage(kmodel: torch.nn.Module, noise_table: torch.Tensor, path: Path) -> Path:
    stage = DecoderStage(kmodel, noise_table).eval()
    dynamic = {"prosody_frames": {0: "batch", 2: "frames"}, "text_frames": {0: "batch", 2: "frames"},
               "frame_lengths": {0: "batch"}, "style": {0: "batch"}, "seed": {0: "batch"},
               "audio": {0: "batch", 1: "samples"}, "audio_lengths": {0: "batch"}}
    return _export(stage, _example_decoder_inputs(), DECODER_INPUTS, DECODER_OUTPUTS, dynamic, path)


def export_curves_stage(kmodel: torch.nn.Module, noise_table: torch.Tensor, path: Path) -> Path:
    """The decoder stage's frame-rate half alone (F0 and energy curves), for the int8 CPU decoder."""
    stage = CurvesStage(DecoderStage(kmodel, noise_table)).eval()
    prosody_frames, _, frame_lengths, style, _ = _example_decoder_inputs()
    dynamic = {"prosody_frames": {0: "batch", 2: "frames"}, "frame_lengths": {0: "batch"}, "style": {0: "batch"},
               "f0_curve": {0: "batch", 1: "curve"}, "noise_curve": {0: "batch", 1: "curve"}}
    return _export(stage, (prosody_frames, frame_lengths, style), CURVES_INPUTS, CURVES_OUTPUTS, dynamic, path)


def _export(stage, example, input_names, output_names, dynamic_axes, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    log.info("tracing %s -> %s", type(stage).__name__, path)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python values; checked by the parity run
        torch.onnx.export(stage, example, str(path), input_names=list(input_names),
                          output_names=list(output_names), dynamic_axes=dynamic_axes,
                          opset_version=OPSET, dynamo=False, do_constant_folding=True)
    return path
