"""`make soak`: 32 clients for several minutes over mixed texts, formats and streaming, against a stack this
command starts (Triton + frontend processes). Reports failed requests (must be 0), latency per minute and
the resident memory of the frontend and of Triton (with its stub processes) over the run."""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import threading
import time
from pathlib import Path

import numpy as np

from bench import load
from bench.processes import FrontendProcess, free_port, rss_bytes
from bench.texts import SHORT_REPLIES, TWO_SENTENCES
from export import repository as repository_paths
from serving.tritonserver import TritonServer

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ["mp3", "opus", "aac", "flac", "wav", "pcm"]


def specs() -> list[load.Spec]:
    """Every text in every format, streamed and not, interleaved so that each minute sees all kinds. Short
    texts: on two CPU cores Kokoro makes about twice real time, so 32 clients of paragraphs would wait
    minutes in Triton's queue (past REQUEST_TIMEOUT_S) - a capacity question for `make bench`, not a soak."""
    texts = [*SHORT_REPLIES, TWO_SENTENCES]
    kinds = list(itertools.product(FORMATS, (False, True)))
    return [load.Spec(text, fmt, stream) for i, text in enumerate(texts * len(kinds))
            for fmt, stream in [kinds[i % len(kinds)]]]


class MemorySampler(threading.Thread):
    """RSS of each named process tree every `every_s` seconds."""

    def __init__(self, pids: dict[str, int], every_s: float = 5.0):
        super().__init__(daemon=True)
        self.pids, self.every_s, self.samples, self.stopped = pids, every_s, [], threading.Event()
        self.began = time.monotonic()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.samples.append({"t_s": time.monotonic() - self.began,
                                 **{name: rss_bytes(pid) for name, pid in self.pids.items()}})
            self.stopped.wait(self.every_s)


def per_minute(outcomes: list[load.Outcome]) -> list[dict]:
    minutes: dict[int, list[load.Outcome]] = {}
    for outcome in outcomes:
        minutes.setdefault(int(outcome.started_s // 60), []).append(outcome)
    return [{"minute": m, "requests": len(group), "failed": sum(not o.ok for o in group),
             "total_p50_s": load.percentile([o.total_s for o in group], 50),
             "total_p99_s": load.percentile([o.total_s for o in group], 99)}
            for m, group in sorted(minutes.items())]


def memory_growth(samples: list[dict], name: str) -> dict:
    """Medians of RSS over the second fifth of the run (after warm-up) and over the last fifth: each batch
    allocates and frees its own buffers, so single samples swing with the batch in flight."""
    end = samples[-1]["t_s"]

    def median_mib(low: float, high: float) -> float:
        return float(np.median([s[name] for s in samples if low * end <= s["t_s"] <= high * end])) / 2**20
    warm, last = median_mib(0.2, 0.4), median_mib(0.8, 1.0)
    return {"start_mib": samples[0][name] / 2**20, "warm_mib": warm, "end_mib": last,
            "peak_mib": max(s[name] for s in samples) / 2**20, "growth_mib": last - warm}


def report(result: dict) -> str:
    lines = [f"# Soak: {result['clients']} clients for {result['duration_s']:.0f} s",
             "", f"Model repository: `{result['repository']}` ({result['model']}); {result['requests']} requests, "
             f"{result['failed']} failed, {result['audio_s']:.0f} s of audio.", "",
             "| minute | requests | failed | total p50 (s) | total p99 (s) |", "|---|---|---|---|---|"]
    lines += [f"| {m['minute']} | {m['requests']} | {m['failed']} | {m['total_p50_s']:.2f} | {m['total_p99_s']:.2f} |"
              for m in result["minutes"]]
    lines += ["", "RSS in MiB, medians over the second and the last fifth of the run (process trees: Triton with its "
              "stubs).", "", "| process | at start | after warm-up | at the end | growth | peak |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {name} | {m['start_mib']:.0f} | {m['warm_mib']:.0f} | {m['end_mib']:.0f} | {m['growth_mib']:+.0f} | "
              f"{m['peak_mib']:.0f} |" for name, m in result["memory"].items()]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repository", type=Path, default=ROOT / "model_repository")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load")
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "soak")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    provenance = repository_paths.read_provenance(args.repository)
    with TritonServer(args.repository, free_port(), free_port(), free_port(),
                      log_path=args.output / "tritonserver.log") as triton:
        api = FrontendProcess(args.output / "frontend.log", TRITON_URL=triton.http_url,
                              MODEL_REPOSITORY=str(args.repository))
        try:
            sampler = MemorySampler({"frontend": api.process.pid, "triton": triton.process.pid})
            sampler.start()
            print(f"soak: {args.clients} clients for {args.duration:.0f} s against {api.url}", file=sys.stderr)
            outcomes, wall_s = asyncio.run(load.run(api.url, itertools.cycle(specs()), args.clients,
                                                    until_s=args.duration))
            sampler.stopped.set()
            sampler.join()
        finally:
            api.stop()
    failed = [o for o in outcomes if not o.ok]
    result = {"clients": args.clients, "duration_s": wall_s, "repository": str(args.repository),
              "model": "synthetic weights" if provenance.get("synthetic") else provenance.get("source"),
              "requests": len(outcomes), "failed": len(failed), "audio_s": sum(o.audio_s for o in outcomes),
              "failures": [o.record() for o in failed[:20]], "minutes": per_minute(outcomes),
              "memory": {name: memory_growth(sampler.samples, name) for name in ("frontend", "triton")},
              "memory_samples": sampler.samples}
    (args.output / "soak.json").write_text(json.dumps(result, indent=1))
    (args.output / "soak.md").write_text(report(result))
    print(report(result))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
