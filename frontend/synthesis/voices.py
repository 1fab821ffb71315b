"""Voices: Kokoro's voice packs from the model repository, OpenAI voice names and blends.

A model repository may hold fewer voices than Kokoro v1.0 (the kokoro-onnx-int8 source has five Japanese
ones). Then each OpenAI voice name, and the default voice, whose Kokoro voice is missing is spoken by a
stand-in: the first voice (by id) of the same gender and language, else of the same gender, else of the
same language, else the first voice. Its text is still read in the language of the voice it stands in
for (alloy: American English). A Kokoro voice id asked for by name is never replaced: it exists or is a 400.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frontend.errors import InvalidRequest
from kokoro_core.contract import style_row

# OpenAI's voice names, each spoken by the Kokoro voice closest in character.
OPENAI_VOICES = {
    "alloy": "af_alloy", "ash": "am_adam", "ballad": "bm_george", "coral": "af_heart", "echo": "am_echo",
    "fable": "bm_fable", "onyx": "am_onyx", "nova": "af_nova", "sage": "af_sarah", "shimmer": "af_bella",
    "verse": "am_michael",
    "marin": "af_kore", "cedar": "am_fenrir",
}
LANGUAGES = {"a": "en-US", "b": "en-GB", "e": "es", "f": "fr", "h": "hi", "i": "it", "j": "ja", "p": "pt-BR",
             "z": "zh"}
# Terms of a blend's text (af_bella+af_bella+... counts each), refused past this before any is parsed.
MAX_BLEND_TERMS = 64
BLEND_PART = re.compile(r"^\s*([a-z]{2}_[a-z0-9_]+|[a-z]+)\s*(?:\(\s*([0-9]*\.?[0-9]+)\s*\))?\s*$")


@dataclass(frozen=True)
class Blend:
    """Voice ids with weights that sum to 1, and the voice id whose language the text is read in."""
    parts: list[tuple[str, float]]
    language_voice: str


@dataclass(frozen=True)
class VoiceInfo:
    id: str
    language: str
    gender: str


class VoiceCatalog:
    """Voice packs [510, 1, 256] by id, loaded once (memory-mapped); `default_voice` speaks when a request
    names none."""

    def __init__(self, voices_dir: Path, default_voice: str = ""):
        self.packs = {p.stem: np.load(p, mmap_mode="r") for p in sorted(Path(voices_dir).glob("*.npy"))}
        self.default_voice = default_voice
        default_ids = [m.group(1) for m in map(BLEND_PART.match, default_voice.lower().split("+")) if m]
        wanted = sorted({*OPENAI_VOICES.values(), *default_ids} - set(self.packs))
        self.stand_ins = {voice: stand_in(voice, list(self.packs)) for voice in wanted} if self.packs else {}

    def mapping(self) -> dict[str, str]:
        """Who speaks each OpenAI voice name and the default voice, for the start-up log."""
        asked = {name: name for name in OPENAI_VOICES} | {"default": None}
        return {name: self._spoken_by(voice) for name, voice in asked.items()}

    def _spoken_by(self, voice: str | None) -> str:
        try:
            return "+".join(name for name, _ in self.resolve(voice).parts)
        except InvalidRequest as e:
            return f"none ({e.message})"

    def info(self) -> list[VoiceInfo]:
        return [VoiceInfo(v, LANGUAGES.get(v[0], "unknown"), {"f": "female", "m": "male"}.get(v[1:2], "unknown"))
                for v in self.packs]

    def resolve(self, voice: str | None, max_voices: int = MAX_BLEND_TERMS) -> Blend:
        """The voice asked for (None: the default voice) as a Blend, a voice named twice merged into one part;
        InvalidRequest (param `voice`) naming what is wrong, or a blend of more than `max_voices` distinct
        voices (or MAX_BLEND_TERMS terms, refused before any is read)."""
        text = voice or self.default_voice
        terms = text.count("+") + 1
        if terms > MAX_BLEND_TERMS:
            raise InvalidRequest(f"voice is a blend of {terms} terms; the limit is {MAX_BLEND_TERMS}", "voice",
                                 "too_many_voices")
        weights: dict[str, float] = {}
        wanted = []
        for piece in text.split("+"):
            match = BLEND_PART.match(piece.lower())
            if not match:
                raise InvalidRequest(f"voice '{text}' is not a voice id or a blend like af_bella(2)+af_sky(1)",
                                     "voice")
            asked, weight = match.group(1), float(match.group(2) or 1)
            wanted.append(OPENAI_VOICES.get(asked, asked))
            replaceable = voice is None or asked in OPENAI_VOICES
            name = self.stand_ins.get(wanted[-1], wanted[-1]) if replaceable else wanted[-1]
            if name not in self.packs:
                raise InvalidRequest(f"voice '{match.group(1)}' is unknown; GET /v1/audio/voices lists them", "voice",
                                     "voice_not_found")
            if not 0 < weight < 1e6:
                raise InvalidRequest(f"voice weight {weight:g} must be positive", "voice")
            weights[name] = weights.get(name, 0.0) + weight
        if len(weights) > max_voices:
            raise InvalidRequest(f"voice blends {len(weights)} distinct voices; the limit is {max_voices} "
                                 "(MAX_BLEND_VOICES)", "voice", "too_many_voices")
        total = sum(weights.values())
        return Blend([(name, w / total) for name, w in weights.items()], wanted[0])

    def pack(self, blend: list[tuple[str, float]]) -> np.ndarray:
        """The blend's whole voice pack [rows, 1, 256], as Kokoro-FastAPI's voice combination gives it."""
        return np.sum([weight * np.asarray(self.packs[name], dtype=np.float32) for name, weight in blend], axis=0)

    def style(self, blend: list[tuple[str, float]], phonemes: int) -> np.ndarray:
        """The style vector [256] for an utterance of `phonemes` tokens."""
        row = style_row(phonemes)
        rows = [weight * np.asarray(self.packs[name][row, 0], dtype=np.float32) for name, weight in blend]
        return np.sum(rows, axis=0)


def stand_in(voice: str, available: list[str]) -> str:
    """The available voice that speaks for a missing one: same gender and language first (the module's rule)."""
    return min(sorted(available), key=lambda v: (v[1:2] != voice[1:2], v[:1] != voice[:1]))
