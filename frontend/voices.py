"""Voices: Kokoro's voice packs from the model repository, OpenAI voice names and blends."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frontend.errors import InvalidRequest

# OpenAI's voice names, each spoken by the Kokoro voice closest in character.
OPENAI_VOICES = {
    "alloy": "af_alloy", "ash": "am_adam", "ballad": "bm_george", "coral": "af_heart", "echo": "am_echo",
    "fable": "bm_fable", "onyx": "am_onyx", "nova": "af_nova", "sage": "af_sarah", "shimmer": "af_bella",
    "verse": "am_michael",
    "marin": "af_kore", "cedar": "am_fenrir",
}
LANGUAGES = {"a": "en-US", "b": "en-GB", "e": "es", "f": "fr", "h": "hi", "i": "it", "j": "ja", "p": "pt-BR",
             "z": "zh"}
BLEND_PART = re.compile(r"^\s*([a-z]{2}_[a-z0-9_]+|[a-z]+)\s*(?:\(\s*([0-9]*\.?[0-9]+)\s*\))?\s*$")


@dataclass(frozen=True)
class VoiceInfo:
    id: str
    language: str
    gender: str


class VoiceCatalog:
    """Voice packs [510, 1, 256] by id, loaded once (memory-mapped)."""

    def __init__(self, voices_dir: Path):
        self.packs = {p.stem: np.load(p, mmap_mode="r") for p in sorted(Path(voices_dir).glob("*.npy"))}

    def info(self) -> list[VoiceInfo]:
        return [VoiceInfo(v, LANGUAGES.get(v[0], "unknown"), {"f": "female", "m": "male"}.get(v[1:2], "unknown"))
                for v in self.packs]

    def resolve(self, voice: str) -> list[tuple[str, float]]:
        """Voice ids with normalised weights; InvalidRequest (param `voice`) naming what is wrong."""
        parts = []
        for text in voice.split("+"):
            match = BLEND_PART.match(text.lower())
            if not match:
                raise InvalidRequest(f"voice '{voice}' is not a voice id or a blend like af_bella(2)+af_sky(1)", "voice")
            name, weight = OPENAI_VOICES.get(match.group(1), match.group(1)), float(match.group(2) or 1)
            if name not in self.packs:
                raise InvalidRequest(f"voice '{match.group(1)}' is unknown; GET /v1/audio/voices lists them", "voice",
                                     "voice_not_found")
            if not 0 < weight < 1e6:
                raise InvalidRequest(f"voice weight {weight:g} must be positive", "voice")
            parts.append((name, weight))
        total = sum(w for _, w in parts)
        return [(name, w / total) for name, w in parts]

    def style(self, blend: list[tuple[str, float]], phonemes: int) -> np.ndarray:
        """The style vector [256] for an utterance of `phonemes` tokens."""
        row = min(max(phonemes, 1), 510) - 1
        return sum(weight * np.asarray(self.packs[name][row, 0], dtype=np.float32) for name, weight in blend)
