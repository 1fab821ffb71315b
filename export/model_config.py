"""The client-facing `kokoro` model's tensors, written once for every target: each target's config.pbtxt (CPU,
GPU, torch runner) holds this block between its markers, rendered here from kokoro_core.contract.

    python -m export.model_config     # rewrites the block in every committed config.pbtxt

tests/test_model_config.py fails when a committed config's block differs from the rendered one."""
from __future__ import annotations

import sys
from pathlib import Path

from kokoro_core.contract import (
    INPUTS,
    MAX_PHONEMES,
    MAX_SPEED,
    MIN_SPEED,
    MODEL,
    OUTPUTS,
    SAMPLE_RATE,
    SAMPLES_PER_FRAME,
    STYLE_DIM,
    VOICE_PACK_SHAPE,
)

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "# The client-facing tensors, the same for every target: rendered by `python -m export.model_config`."
END = "# End of the client-facing tensors."
TARGETS = ("model_repository", "model_repository_gpu", "model_repository_torch")
# name: (comment, data type, dims, ragged, optional)
TENSORS = {
    "token_ids": (f"Phoneme ids of one utterance (1 to {MAX_PHONEMES}), no pads; lengths differ: ragged batches.",
                  "TYPE_INT64", -1, True, False),
    "style": (f"The voice: row (number of phonemes - 1) of a voice pack {list(VOICE_PACK_SHAPE)}.", "TYPE_FP32",
              STYLE_DIM, False, False),
    "speed": (f"Speaking rate, {MIN_SPEED:g} to {MAX_SPEED:g} (default 1).", "TYPE_FP32", 1, False, True),
    "seed": ("Selects the source noise; the same request with the same seed gives the same audio (default 0).",
             "TYPE_INT64", 1, False, True),
    "audio": (f"Mono float samples at {SAMPLE_RATE // 1000} kHz.", "TYPE_FP32", -1, False, False),
    "durations": (f"Frames ({SAMPLES_PER_FRAME} samples each) per token, the two pad tokens included.",
                  "TYPE_INT64", -1, False, False),
}


def _tensor(name: str) -> str:
    comment, data_type, dims, ragged, optional = TENSORS[name]
    lines = [f"    # {comment}", f'    name: "{name}"', f"    data_type: {data_type}", f"    dims: [ {dims} ]"]
    lines += ["    allow_ragged_batch: true"] * ragged + ["    optional: true"] * optional
    return "  {\n" + "\n".join(lines) + "\n  }"


def interface() -> str:
    """The input and output blocks, between the markers."""
    inputs = ",\n".join(_tensor(name) for name in INPUTS)
    outputs = ",\n".join(_tensor(name) for name in OUTPUTS)
    return f"{BEGIN}\ninput [\n{inputs}\n]\noutput [\n{outputs}\n]\n{END}"


def rendered(config: str) -> str:
    """`config` with its block replaced by the rendered one."""
    start, end = config.index(BEGIN), config.index(END) + len(END)
    return config[:start] + interface() + config[end:]


def config_paths() -> list[Path]:
    return [ROOT / target / MODEL / "config.pbtxt" for target in TARGETS]


def main() -> int:
    for path in config_paths():
        path.write_text(rendered(path.read_text()))
        print(f"rendered {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
