"""The two stages in PyTorch: the exact batched modules (`kokoro_core.batched_model`) on CUDA when present, else on the
CPU, loaded from the checkpoint in a model repository's assets. The `torch` runner of the Triton model.

fp32 is exact (TF32 off). bf16 and fp16 run the decoder's audio-rate half under autocast; the text stage and the
F0 and energy curves stay fp32, since the harmonic source integrates F0 over the whole utterance (its phase is
accumulated in float64 whatever the precision, as in the graphs).

On CUDA, a pass of up to `graph_max_items` items is padded up to its bucket (items to a power of two, tokens or
frames to the next of a series growing by BUCKET_GROWTH) and replayed from a CUDA graph captured for that bucket
on first use: such a pass is bound by kernel launches, which a replay makes one. Padding is exact (every item is
masked to its own length); a larger pass runs eagerly at its own shape.
"""
from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from kokoro_core.batched_model import DecoderStage, TextStage, fold_weight_norm, load_kmodel
from kokoro_core.batching import KokoroBatch, frame_index
from kokoro_core.contract import (
    CHECKPOINT,
    DECODER_INPUTS,
    MAX_PHONEMES,
    MODEL_CONFIG,
    PAD_ID,
    SAMPLES_PER_FRAME,
    TEXT_INPUTS,
)
from kokoro_core.dsp import make_noise_table

log = logging.getLogger(__name__)

PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
BUCKET_GROWTH = 1.25  # at most a quarter of a graph's tokens or frames are padding
SMALLEST_BUCKET = 16
MAX_TOKENS = MAX_PHONEMES + 2  # ALBERT's positions: a padded pass may not be longer


def bucket(n: int, limit: int | None = None) -> int:
    """The smallest bucket that holds `n`: SMALLEST_BUCKET, then growing by BUCKET_GROWTH, in multiples of 8; at
    most `limit`."""
    size = SMALLEST_BUCKET
    while size < n:
        size = -(-int(size * BUCKET_GROWTH) // 8) * 8
    return min(size, limit or size)


def padded(tensor: torch.Tensor, items: int, axis: int | None = None, size: int = 0, value=0) -> torch.Tensor:
    """`tensor` with copies of its first item appended up to `items`, and `axis` padded with `value` to `size`."""
    if axis is not None and size > tensor.shape[axis]:
        tensor = F.pad(tensor, [0, 0] * (tensor.dim() - 1 - axis) + [0, size - tensor.shape[axis]], value=value)
    if items > tensor.shape[0]:
        tensor = torch.cat([tensor, tensor[:1].expand(items - tensor.shape[0], *tensor.shape[1:])])
    return tensor


class CudaGraphs:
    """`function` replayed from a CUDA graph per input shape, captured on first use into one memory pool. A
    replay overwrites the previous one's outputs, so callers copy them before the next. If capture fails (an
    operation that waits on the GPU), the function runs eagerly from then on."""

    def __init__(self, function, name: str):
        self.function, self.name = function, name
        self.graphs: dict[tuple, tuple] = {}
        self.pool = None
        self.failed: str | None = None

    def __call__(self, *inputs: torch.Tensor):
        if self.failed:
            return self.function(*inputs)
        key = tuple((tuple(t.shape), t.dtype) for t in inputs)
        if key not in self.graphs:
            try:
                self.graphs[key] = self._capture(inputs)
            except RuntimeError as e:
                self.failed = f"{type(e).__name__}: {e}"
                log.warning("%s: CUDA graph capture failed, running eagerly: %s", self.name, self.failed)
                return self.function(*inputs)
        static_inputs, outputs, graph = self.graphs[key]
        for static, given in zip(static_inputs, inputs, strict=True):
            static.copy_(given)
        graph.replay()
        return outputs

    def _capture(self, inputs):
        static_inputs = [t.clone() for t in inputs]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up: lazy initialisation and library handles outside the graph
            self.function(*static_inputs)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, pool=self.pool):
            outputs = self.function(*static_inputs)
        self.pool = graph.pool()
        return static_inputs, outputs, graph


class TorchStages:
    """The text stage, alignment and decoder stage of one repository's checkpoint on `device`, as `KokoroBatch`
    takes them. The text stage leaves its features on the device, where the alignment gathers them."""

    def __init__(self, assets: Path, device: str | None = None, precision: str = "fp32", threads: int = 0,
                 graph_max_items: int = 8):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if threads:
            torch.set_num_threads(threads)
        torch.backends.cuda.matmul.allow_tf32 = False  # exact fp32: no TF32 in matrix products,
        torch.backends.cudnn.allow_tf32 = False  # convolutions or LSTMs
        config = json.loads((Path(assets) / MODEL_CONFIG).read_text(encoding="utf-8"))
        kmodel = fold_weight_norm(load_kmodel(config, Path(assets) / CHECKPOINT))
        self.text = TextStage(kmodel).eval().to(self.device)
        self.decoder = DecoderStage(kmodel, make_noise_table()).eval().to(self.device)
        self.dtype = PRECISIONS[precision]
        self.graph_max_items = graph_max_items if self.device.type == "cuda" else 0
        self.text_graphs = CudaGraphs(self.text, "text stage") if self.graph_max_items else None
        self.decoder_graphs = CudaGraphs(self.decode, "decoder stage") if self.graph_max_items else None

    @property
    def stages(self) -> tuple:
        """What `KokoroBatch` takes first: the text stage, the decoder stage and the alignment."""
        return self.text_stage, self.decoder_stage, self.align

    def batch(self, max_items: int, length_growth: float | None = None) -> KokoroBatch:
        return KokoroBatch(*self.stages, max_items=max_items, length_growth=length_growth)

    def tensor(self, array) -> torch.Tensor:
        return torch.as_tensor(array, device=self.device)

    def run(self, eager, graphs: CudaGraphs | None, inputs: list[torch.Tensor], length_axes: dict[int, tuple]):
        """One pass: eagerly, or padded to its bucket and replayed from a CUDA graph. `length_axes`: input index ->
        (its axis of tokens or frames, pad value, the longest it may be padded to or None)."""
        items = inputs[0].shape[0]
        if not graphs or items > self.graph_max_items:
            return eager(*inputs)
        batch = 1 << (items - 1).bit_length()
        padded_inputs = []
        for i, tensor in enumerate(inputs):
            axis, value, limit = length_axes.get(i, (None, 0, None))
            size = bucket(tensor.shape[axis], limit) if axis is not None else 0
            padded_inputs.append(padded(tensor, batch, axis, size, value))
        return graphs(*padded_inputs)

    @torch.inference_mode()
    def text_stage(self, feeds: dict) -> list:
        """durations [B, T] (NumPy), prosody_features [B, T, C] and text_features [B, C, T] on the device."""
        items, tokens = feeds["token_ids"].shape
        inputs = [self.tensor(feeds[name]) for name in TEXT_INPUTS]
        durations, prosody_features, text_features = self.run(self.text, self.text_graphs, inputs,
                                                             {0: (1, PAD_ID, MAX_TOKENS)})
        return [durations[:items, :tokens].cpu().numpy(), prosody_features[:items, :tokens].clone(),
                text_features[:items, :, :tokens].clone()]

    @torch.inference_mode()
    def align(self, durations: np.ndarray, prosody_features: torch.Tensor, text_features: torch.Tensor):
        """`kokoro_core.batching.align` on the device: prosody_frames, text_frames there, frame_lengths (NumPy)."""
        index, inside, frame_lengths = frame_index(durations)
        index, inside = self.tensor(index), self.tensor(inside)[:, None, :]
        prosody_frames = torch.gather(prosody_features, 1, index[:, :, None].expand(-1, -1, prosody_features.shape[2]))
        text_frames = torch.gather(text_features, 2, index[:, None, :].expand(-1, text_features.shape[1], -1))
        return (prosody_frames.transpose(1, 2).contiguous() * inside, text_frames * inside, frame_lengths)

    @torch.inference_mode()
    def decoder_stage(self, feeds: dict) -> list[np.ndarray]:
        """audio [B, 600 F] and audio_lengths [B] (NumPy)."""
        items, _, frames = feeds["text_frames"].shape
        inputs = [self.tensor(feeds[name]) for name in DECODER_INPUTS]
        audio, audio_lengths = self.run(self.decode, self.decoder_graphs, inputs,
                                       {0: (2, 0, None), 1: (2, 0, None)})
        return [audio[:items, :frames * SAMPLES_PER_FRAME].cpu().numpy(), audio_lengths[:items].cpu().numpy()]

    def decode(self, prosody_frames, text_frames, frame_lengths, style, seed):
        f0_curve, noise_curve = self.decoder.curves(prosody_frames, frame_lengths, style)
        with self.autocast():
            audio, audio_lengths = self.decoder.vocode(text_frames, f0_curve, noise_curve, frame_lengths, style, seed)
        return audio.float(), audio_lengths

    def autocast(self):
        if self.dtype == torch.float32:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def graph_report(self) -> dict:
        """Per stage: the shapes captured, and why capture failed where it did."""
        return {name: {"captured": len(graphs.graphs), "failed": graphs.failed}
                for name, graphs in (("text", self.text_graphs), ("decoder", self.decoder_graphs)) if graphs}
