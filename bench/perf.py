"""perf_analyzer against the served `kokoro` model, with realistic inputs.

The input data holds utterances of speech-like lengths (short replies, sentences, long paragraphs;
phoneme ids drawn from the model's vocabulary) and, for each, the style row a client would send:
row (length - 1) of one of the repository's voice packs.

    python -m bench.perf                       # what `make perf` runs; Triton must be serving
    python -m bench.perf --concurrency 1:8:2 --window-requests 20
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np

from kokoro_core.contract import ASSETS, MAX_PHONEMES, MODEL_CONFIG, STYLE_DIM, VOICES, style_row

ROOT = Path(__file__).resolve().parent.parent
# (share of requests, phoneme range): replies, sentences, paragraphs.
LENGTH_MIX = ((0.4, (10, 60)), (0.4, (60, 200)), (0.2, (200, MAX_PHONEMES)))


def input_data(model_repository: Path, count: int = 64, max_phonemes: int = MAX_PHONEMES, seed: int = 0) -> dict:
    """perf_analyzer's --input-data document: `count` utterances of mixed lengths and voices."""
    assets = Path(model_repository) / ASSETS
    vocab = json.loads((assets / MODEL_CONFIG).read_text(encoding="utf-8"))["vocab"]
    phoneme_ids = np.array(sorted(set(vocab.values())), dtype=np.int64)
    voices = sorted((assets / VOICES).glob("*.npy"))
    if not voices:
        raise SystemExit(f"no voice packs in {assets}: run `make export` first")
    rng = np.random.default_rng(seed)
    shares = np.array([share for share, _ in LENGTH_MIX])
    data = []
    for i in range(count):
        low, high = LENGTH_MIX[rng.choice(len(LENGTH_MIX), p=shares / shares.sum())][1]
        length = min(int(rng.integers(low, high + 1)), max_phonemes)
        pack = np.load(voices[i % len(voices)], mmap_mode="r")
        data.append(entry(rng.choice(phoneme_ids, size=length), pack[style_row(length), 0]))
    return {"data": data}


def entry(token_ids, style) -> dict:
    """One utterance of perf_analyzer's input data."""
    return {"token_ids": {"content": [int(i) for i in token_ids], "shape": [len(token_ids)]},
            "style": {"content": np.asarray(style, dtype=float).tolist(), "shape": [STYLE_DIM]}}


def read_results(csv: Path) -> list[dict]:
    """perf_analyzer's CSV rows (latencies in µs) by concurrency: inferences/s and latency p50/p99 in s."""
    import csv as csv_module

    with open(csv, newline="") as f:
        rows = [{"concurrency": int(row["Concurrency"]), "inferences_per_s": float(row["Inferences/Second"]),
                 "latency_p50_s": int(row["p50 latency"]) / 1e6, "latency_p99_s": int(row["p99 latency"]) / 1e6}
                for row in csv_module.DictReader(f)]
    return sorted(rows, key=lambda row: row["concurrency"])


def perf_analyzer_env() -> dict[str, str]:
    """perf_analyzer links libcudart even on CPU; the nvidia-cuda-runtime wheel provides it."""
    cuda_lib = Path(sysconfig.get_paths()["purelib"]) / "nvidia" / "cuda_runtime" / "lib"
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = ":".join([str(cuda_lib)] + [p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p])
    return env


def command(url: str, data_file: Path, concurrency: str, window_requests: int, stability: int, csv: Path,
            model: str = "kokoro") -> list[str]:
    """Windows counted in requests, not milliseconds: one synthesis takes seconds on a CPU."""
    return [str(Path(sys.executable).parent / "perf_analyzer"), "-m", model, "-u", url, "-i", "http",
            "--input-data", str(data_file), "--concurrency-range", concurrency,
            "--measurement-mode", "count_windows", "--measurement-request-count", str(window_requests),
            "--stability-percentage", str(stability), "--max-trials", "4", "-f", str(csv), "--verbose-csv"]


def main(argv=None) -> int:
    from serving.settings import get_triton_settings
    settings = get_triton_settings()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-repository", type=Path, default=settings.model_repository)
    parser.add_argument("--url", default=f"localhost:{settings.triton_http_port}")
    parser.add_argument("--concurrency", default="1:4", help="perf_analyzer --concurrency-range (default %(default)s)")
    parser.add_argument("--window-requests", type=int, default=10,
                        help="requests per measurement window (default %(default)s)")
    parser.add_argument("--requests", type=int, default=64, help="distinct utterances in the input data")
    parser.add_argument("--stability", type=int, default=50,
                        help="allowed variation between windows, in %% (mixed lengths vary; default %(default)s)")
    parser.add_argument("--max-phonemes", type=int, default=MAX_PHONEMES,
                        help="cap on utterance length (default %(default)s)")
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "perf")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    data_file = args.output / "input_data.json"
    data_file.write_text(json.dumps(input_data(args.model_repository, args.requests, args.max_phonemes)))
    argv = command(args.url, data_file, args.concurrency, args.window_requests, args.stability,
                   args.output / "results.csv")
    print(" ".join(argv), flush=True)
    return subprocess.call(argv, env=perf_analyzer_env())


if __name__ == "__main__":
    sys.exit(main())
