"""Batched Kokoro inference over the two stages: pad, text stage, alignment, decoder, split.

Plain NumPy around two callables, so that the same code runs the graphs in process with ONNX Runtime
(the CPU target) or through Triton's BLS on other models (the GPU target), the batched modules in PyTorch
(the torch runner, which aligns on its device), and in tests.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy as np

from kokoro_core.contract import MAX_PHONEMES, MAX_SPEED, MIN_SPEED, MODEL_CONFIG, PAD_ID, STYLE_DIM

# A stage takes named input arrays and returns its outputs in the order of contract.*_OUTPUTS.
Stage = Callable[[dict], Sequence[np.ndarray]]


@dataclass
class Utterance:
    """One utterance for the model: what a Triton request carries."""
    token_ids: np.ndarray  # int64 [n] phoneme ids, without the pad tokens
    style: np.ndarray  # float32 [256]: voice pack row n - 1
    speed: float = 1.0
    seed: int = 0


@dataclass
class Speech:
    samples_24k: np.ndarray  # float32 [samples]
    durations: np.ndarray  # int64 [n + 2]: frames (600 samples) per token, pads included


def validate(request: Utterance, n_token: int) -> None:
    """Raise ValueError saying what is wrong with one request."""
    n = request.token_ids.shape[0] if request.token_ids.ndim == 1 else -1
    if not 1 <= n <= MAX_PHONEMES:
        raise ValueError(f"token_ids must hold 1 to {MAX_PHONEMES} phoneme ids, got shape {request.token_ids.shape}")
    low, high = request.token_ids.min(), request.token_ids.max()
    if low < 0 or high >= n_token:
        raise ValueError(f"token_ids must lie in [0, {n_token}), got [{low}, {high}]")
    if request.style.shape != (STYLE_DIM,) or not np.isfinite(request.style).all():
        raise ValueError(f"style must be {STYLE_DIM} finite floats, got shape {request.style.shape}")
    if not (np.isfinite(request.speed) and MIN_SPEED <= request.speed <= MAX_SPEED):
        raise ValueError(f"speed must lie in [{MIN_SPEED}, {MAX_SPEED}], got {request.speed}")


class KokoroBatch:
    """`max_items` bounds one forward pass: the requests Triton hands over are sorted by length and cut into
    passes of neighbours, so an item is padded only to a similar length (and memory is bounded by the pass,
    not by Triton's batch). On a CPU a pass of one is fastest (bench/NOTES.md); a GPU wants many. With
    `length_growth`, a pass also ends before an item longer than that many times the pass's shortest, which
    bounds each item's padding (a whole GPU batch of mixed lengths runs as a few passes of similar ones).
    `alignment` replaces `align` between the stages (the torch runner's gathers on its device)."""

    def __init__(self, text_stage: Stage, decoder_stage: Stage, alignment: Callable | None = None,
                 max_items: int = 16, length_growth: float | None = None):
        self.text_stage = text_stage
        self.decoder_stage = decoder_stage
        self.align = alignment or align
        self.max_items = max_items
        self.length_growth = length_growth

    def synthesize(self, requests: Sequence[Utterance]) -> list[Speech]:
        speeches: list[Speech | None] = [None] * len(requests)
        for group in self.passes([len(r.token_ids) for r in requests]):
            for i, speech in zip(group, self._forward([requests[i] for i in group]), strict=True):
                speeches[i] = speech
        return cast(list[Speech], speeches)  # every request is in one pass

    def passes(self, lengths: Sequence[int]) -> list[list[int]]:
        """The indices of each forward pass, shortest first."""
        groups: list[list[int]] = []
        for i in sorted(range(len(lengths)), key=lambda i: lengths[i]):
            if (not groups or len(groups[-1]) == self.max_items
                    or (self.length_growth and lengths[i] > self.length_growth * lengths[groups[-1][0]])):
                groups.append([])
            groups[-1].append(i)
        return groups

    def _forward(self, requests: Sequence[Utterance]) -> list[Speech]:
        feeds, durations, token_lengths = self.decoder_feeds(requests)
        audio, audio_lengths = self.decoder_stage(feeds)
        return [Speech(audio[i, :audio_lengths[i]], durations[i, :token_lengths[i]]) for i in range(len(requests))]

    def decoder_feeds(self, requests: Sequence[Utterance]) -> tuple[dict, np.ndarray, np.ndarray]:
        """The decoder stage's inputs for one pass (text stage and alignment), with the durations [B, T]
        and token lengths [B] they came from."""
        token_ids, token_lengths = pad_tokens([r.token_ids for r in requests])
        style = np.stack([r.style for r in requests]).astype(np.float32)
        durations, prosody_features, text_features = self.text_stage({
            "token_ids": token_ids, "token_lengths": token_lengths, "style": style,
            "speed": np.array([r.speed for r in requests], dtype=np.float32)})
        prosody_frames, text_frames, frame_lengths = self.align(durations, prosody_features, text_features)
        feeds = {"prosody_frames": prosody_frames, "text_frames": text_frames, "frame_lengths": frame_lengths,
                 "style": style, "seed": np.array([r.seed for r in requests], dtype=np.int64)}
        return feeds, durations, token_lengths


def pad_tokens(sequences: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Frame each sequence by the pad id and right-pad to the longest: [B, T], lengths [B]."""
    lengths = np.array([len(s) + 2 for s in sequences], dtype=np.int64)
    token_ids = np.full((len(sequences), lengths.max()), PAD_ID, dtype=np.int64)
    for row, sequence in zip(token_ids, sequences, strict=True):
        row[1:len(sequence) + 1] = sequence
    return token_ids, lengths


def frame_index(durations: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each frame's token [B, F] (0 past each end), 1.0 on each item's frames [B, F], and frame_lengths [B]."""
    frame_lengths = durations.sum(axis=1).astype(np.int64)
    frames = int(frame_lengths.max())
    index = np.zeros((len(durations), frames), dtype=np.int64)
    for row, item_durations, length in zip(index, durations, frame_lengths, strict=True):
        row[:length] = np.repeat(np.arange(len(item_durations)), item_durations)
    inside = (np.arange(frames)[None, :] < frame_lengths[:, None]).astype(np.float32)
    return index, inside, frame_lengths


def align(durations: np.ndarray, prosody_features: np.ndarray, text_features: np.ndarray):
    """Repeat each token's features for its duration (upstream's one-hot alignment matmul, as a gather).

    durations [B, T], prosody_features [B, T, C1], text_features [B, C2, T]
    -> prosody_frames [B, C1, F], text_frames [B, C2, F], frame_lengths [B]; zero past each end.
    """
    index, inside, frame_lengths = frame_index(durations)
    prosody_frames = np.take_along_axis(prosody_features, index[:, :, None], axis=1).transpose(0, 2, 1)
    text_frames = np.take_along_axis(text_features, index[:, None, :], axis=2)
    return (np.ascontiguousarray(prosody_frames * inside[:, None, :]),
            np.ascontiguousarray(text_frames * inside[:, None, :]), frame_lengths)


def vocabulary_size(assets_dir: Path) -> int:
    return int(json.loads((Path(assets_dir) / MODEL_CONFIG).read_text(encoding="utf-8"))["n_token"])
