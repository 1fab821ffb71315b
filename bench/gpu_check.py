"""The GPU check: the torch runner measured on a bare GPU machine that has PyTorch (CUDA) and nothing else of the
stack, in one run of `scripts/gpu_check.sh run` (docs/performance.md). On synthetic weights of the real
architecture, built there (voiced, like real weights):

1. parity: the export of a torch-runner repository proves it there, on CUDA, link by link against upstream
   KModel (fp32, relative L2 of the F0, the harmonic source and the audio, per item);
2. bf16 and fp16 against fp32 on CUDA (SNR per item), and the CUDA-graph passes against eager ones;
3. load: the real tritonserver (the nvidia-pytriton wheel) serving that repository, driven by the bench's
   closed-loop load generator straight to the `kokoro` model over the bench's phoneme chunks, at each
   concurrency: audio-seconds per second, latency p50 / p99, the batch Triton achieved, GPU memory; for fp32
   and for each reduced precision that held its SNR.

    python -m bench.gpu_check --write-chunks .gpu_check/chunks.json   # here: the phoneme chunks (needs G2P)
    python -m bench.gpu_check --chunks .gpu_check/chunks.json         # there: writes results/gpu/gpu_check.json

KOKORO_GPU_CHECK_SMALL=1 rehearses it on a CPU: the tiny configuration, concurrency 1 and 4, fewer requests
(results/gpu/cpu-rehearsal.json).
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.metadata
import json
import logging
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch

from bench import load
from bench.processes import free_port
from export import checkpoint, parity, quantize, repository
from export.pipeline import main as export_main
from kokoro_core.contract import ASSETS, MODEL, VOICES, style_row
from kokoro_core.torch_stages import TorchStages
from serving.tritonserver import TritonServer

ROOT = Path(__file__).resolve().parent.parent
SMALL = os.environ.get("KOKORO_GPU_CHECK_SMALL") == "1"
LEVELS = (1, 4) if SMALL else (1, 8, 32, 64, 128)
PARITY_LENGTHS = (8, 37) if SMALL else parity.LENGTHS
REDUCED = ("bf16",) if SMALL else ("bf16", "fp16")  # fp16 on a CPU takes minutes
VOICE = "af_heart"
# Requests per level: each client's share, at least the first MIN_LEVEL_REQUESTS chunks (all of the bench's 39).
REQUESTS_PER_CLIENT, MIN_LEVEL_REQUESTS = (2, 4) if SMALL else (4, 39)
LEVEL_LIMIT_S, LOAD_BUDGET_S = (120, 900) if SMALL else (25, 300)  # no new requests past these


def log(message: str) -> None:
    print(f"gpu_check {time.strftime('%H:%M:%S')}: {message}", file=sys.stderr, flush=True)


def write_chunks(path: Path) -> None:
    """The bench's texts as the frontend cuts them into phoneme-id chunks (misaki G2P, which the GPU machine
    lacks): the same requests `make bench` sends Triton. The bench reads the real vocabulary and resolves its
    voice in a repository's assets: a scratch one here, with synthetic packs of upstream's voice names."""
    import tempfile

    from bench.run import chunks_of
    from bench.texts import MIXED

    with tempfile.TemporaryDirectory() as scratch:
        assets = Path(scratch) / ASSETS
        (assets / VOICES).mkdir(parents=True)
        (assets / "config.json").write_text(json.dumps(checkpoint.load_config()))
        for name in checkpoint.V1_VOICES:
            np.save(assets / VOICES / f"{name}.npy", checkpoint.synthetic_voice(name).numpy())
        chunks = [ids for text in chunks_of(MIXED, Path(scratch)) for ids in text]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(chunks))
    log(f"{len(chunks)} chunks of {min(map(len, chunks))} to {max(map(len, chunks))} phonemes -> {path}")


def machine() -> dict:
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else None
    return {"gpu": gpu, "driver": nvidia_smi("driver_version"), "torch": torch.__version__,
            "cuda": torch.version.cuda, "python": platform.python_version(), "cpus": os.cpu_count()}


def nvidia_smi(field: str) -> str | None:
    try:
        run = subprocess.run(["nvidia-smi", f"--query-gpu={field}", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return run.stdout.strip().splitlines()[0] if run.returncode == 0 and run.stdout.strip() else None


class MemoryPeak:
    """The GPU's memory in use (MiB, all processes: the server's instances), sampled while the block runs."""

    def __enter__(self) -> MemoryPeak:
        self.peak_mib, self.running = None, True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self) -> None:
        while self.running:
            used = nvidia_smi("memory.used")
            if used is not None:
                self.peak_mib = max(self.peak_mib or 0, int(used))
            time.sleep(0.5)

    def __exit__(self, *exc) -> None:
        self.running = False
        self.thread.join()


def export_repository(weights: checkpoint.Weights, output: Path) -> dict:
    """`python -m export --checkpoint ... --runner torch`: the repository, proven here (on CUDA where present)."""
    config = output.parent / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps(weights.config))
    [voices] = {path.parent for path in weights.voices.values()}
    started = time.monotonic()
    code = export_main(["--checkpoint", str(weights.checkpoint), "--voices", str(voices), "--config", str(config),
                        "--runner", "torch", "--output", str(output),
                        "--parity-lengths", ",".join(map(str, PARITY_LENGTHS))])
    if code != 0:
        raise SystemExit(f"the export's proof failed (exit {code}): see the log above")
    provenance = repository.read_provenance(output)
    return {"seconds": round(time.monotonic() - started, 1), "device": provenance["export_options"]["device"],
            "items": provenance["parity"],
            "max_relative_l2": {link: max(item[link] for item in provenance["parity"])
                                for link in ("f0_relative_l2", "harmonic_relative_l2", "relative_l2")}}


def reduced_precision(assets: Path, requests) -> dict:
    """Each reduced precision's SNR against fp32 on this device, per item (one item per pass)."""
    fp32 = TorchStages(assets, graph_max_items=0).batch(max_items=1).synthesize(requests)
    report = {}
    for precision in REDUCED:
        speeches = TorchStages(assets, precision=precision, graph_max_items=0).batch(max_items=1).synthesize(requests)
        items = [{"phonemes": len(r.token_ids), "snr_db": round(quantize.snr_db(a.samples_24k, b.samples_24k), 2)}
                 for r, a, b in zip(requests, fp32, speeches, strict=True)]
        worst = min(item["snr_db"] for item in items)
        holds = bool(worst >= quantize.MIN_SNR_DB)
        report[precision] = {"items": items, "min_snr_db": worst, "holds": holds}
        log(f"{precision}: SNR against fp32 {worst:.1f} dB at worst ({'holds' if holds else 'below'} the "
            f"{quantize.MIN_SNR_DB} dB floor)")
    return report


def graph_check(assets: Path, requests) -> dict:
    """CUDA-graph passes (padded to their bucket) against eager ones on the same requests: the text stage's
    durations and features, and the audio. The audio of a voiced F0 moves with the last bit of the F0 (export/
    parity.py), so it is reported, not held to 1e-4; replays of one graph must agree exactly."""
    if not torch.cuda.is_available():
        return {"skipped": "no CUDA"}
    eager, graphed = TorchStages(assets, graph_max_items=0), TorchStages(assets, graph_max_items=8)
    batch = eager.batch(max_items=8)
    feeds, durations, _ = batch.decoder_feeds(requests)
    graphed_feeds, graphed_durations, _ = graphed.batch(max_items=8).decoder_feeds(requests)
    audio, _ = eager.decoder_stage(feeds)
    started = time.perf_counter()
    first, _ = graphed.decoder_stage(feeds)
    capture_s = time.perf_counter() - started
    started = time.perf_counter()
    again, _ = graphed.decoder_stage(feeds)
    replay_s = time.perf_counter() - started
    started = time.perf_counter()
    eager.decoder_stage(feeds)
    eager_s = time.perf_counter() - started
    return {"durations_equal": bool(np.array_equal(durations, graphed_durations)),
            "prosody_frames_relative_l2": parity.relative_l2(graphed_feeds["prosody_frames"].cpu().numpy(),
                                                             feeds["prosody_frames"].cpu().numpy()),
            "audio_relative_l2": parity.relative_l2(first, audio), "replays_equal": bool(np.array_equal(first, again)),
            "decoder_s": {"capture": round(capture_s, 3), "replay": round(replay_s, 4), "eager": round(eager_s, 4)},
            "graphs": graphed.graph_report()}


def level_specs(chunks: list[list[int]], voice_pack: np.ndarray, clients: int) -> list[load.TritonSpec]:
    """The chunks in turn, MIN_LEVEL_REQUESTS or REQUESTS_PER_CLIENT per client, each with its voice pack row."""
    count = max(MIN_LEVEL_REQUESTS, REQUESTS_PER_CLIENT * clients)
    return [load.TritonSpec(tuple(ids), tuple(voice_pack[style_row(len(ids)), 0].tolist()), seed)
            for seed, ids in zip(range(count), chunks * (count // len(chunks) + 1), strict=False)]


def statistics(url: str) -> dict:
    import httpx

    return httpx.get(f"http://{url}/v2/models/{MODEL}/stats", timeout=30).json()["model_stats"][0]


def batches(before: dict, after: dict) -> dict:
    """What Triton ran between two readings: requests per execution, and the executions per batch size."""
    def sizes(stats):
        return {b["batch_size"]: b["compute_infer"]["count"] for b in stats.get("batch_stats", [])}
    inferences = after["inference_count"] - before["inference_count"]
    executions = after["execution_count"] - before["execution_count"]
    counts = {size: count - sizes(before).get(size, 0) for size, count in sizes(after).items()}
    return {"mean_batch": inferences / executions if executions else None,
            "executions_by_batch_size": {str(size): count for size, count in sorted(counts.items()) if count}}


def serve_levels(repository_dir: Path, precision: str, chunks, voice_pack, output: Path, deadline: float) -> list[dict]:
    """One server of the repository at `precision`, each level in turn (none started past `deadline`)."""
    repository.set_parameter(repository_dir, "precision", precision)
    rows = []
    with TritonServer(repository_dir, free_port(), free_port(), free_port(), extra=["--exit-timeout-secs=5"],
                      log_path=output / f"tritonserver-{precision}.log") as server:
        url = f"http://{server.http_url}"
        # the first passes of each shape pay for CUDA-graph capture and cuDNN's plans
        asyncio.run(load.run(url, level_specs(chunks, voice_pack, 0), max(LEVELS[:2]), until_s=LEVEL_LIMIT_S))
        for clients in LEVELS:
            if time.monotonic() > deadline:
                log(f"{precision}: the load budget is spent, concurrency {clients} and above not measured")
                break
            specs = level_specs(chunks, voice_pack, clients)
            before = statistics(server.http_url)
            with MemoryPeak() as memory:
                outcomes, wall_s = asyncio.run(load.run(url, specs, clients, until_s=LEVEL_LIMIT_S))
            summary = load.summary(outcomes, wall_s)
            row = {"precision": precision, "concurrency": clients, "requests": summary["requests"],
                   "errors": summary["errors"], "audio_s": summary["audio_s"], "wall_s": wall_s,
                   "audio_s_per_s": summary["audio_s_per_s"], "latency_p50_s": summary["total_p50_s"],
                   "latency_p99_s": summary["total_p99_s"], **batches(before, statistics(server.http_url)),
                   "gpu_memory_peak_mib": memory.peak_mib}
            log(f"{precision}, concurrency {clients}: {row['audio_s_per_s']:.1f} audio-s/s, latency p50 "
                f"{row['latency_p50_s'] or 0:.3f} s, batch {row['mean_batch'] or 0:.1f}, {row['errors']} errors")
            rows.append(row)
    one = rows[0]["audio_s_per_s"]
    for row in rows:
        row["against_concurrency_1"] = row["audio_s_per_s"] / one if one else None
    return rows


def imported_distributions() -> dict[str, str]:
    """What this process imported outside the standard library, by distribution and version: on the GPU
    machine, each must be in its image or among the wheels sent with the check."""
    owners = importlib.metadata.packages_distributions()
    names = {m.split(".")[0] for m in list(sys.modules)} - set(sys.stdlib_module_names)
    found = {}
    for name in sorted({d for m in names for d in owners.get(m, [])}):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write-chunks", type=Path, help="write the bench's phoneme chunks here and stop")
    parser.add_argument("--chunks", type=Path, default=ROOT / ".gpu_check" / "chunks.json")
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "gpu")
    args = parser.parse_args(argv)
    if args.write_chunks:
        write_chunks(args.write_chunks)
        return 0
    started = time.monotonic()
    args.output.mkdir(parents=True, exist_ok=True)
    chunks = json.loads(args.chunks.read_text())
    result = {"small": SMALL, "machine": machine(), "levels": list(LEVELS)}
    log(f"machine: {result['machine']}")
    config = checkpoint.tiny_config() if SMALL else checkpoint.load_config()
    work = ROOT / "build" / "gpu-check"
    weights = checkpoint.synthetic_weights(work / ("weights-tiny" if SMALL else "weights"), config,
                                           voice_names=(VOICE,), voiced=True)
    repository_dir = work / "model_repository"
    result["parity"] = export_repository(weights, repository_dir)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the export's logging would show every request
    log(f"parity on {result['parity']['device']}: {result['parity']['max_relative_l2']}")
    assets = repository_dir / ASSETS
    voice_pack = np.load(assets / VOICES / f"{VOICE}.npy")
    requests = parity.sample_requests(voice_pack, config["vocab"], PARITY_LENGTHS)
    result["reduced_precision"] = reduced_precision(assets, requests)
    result["cuda_graphs"] = graph_check(assets, requests[:3])
    log(f"CUDA graphs: {result['cuda_graphs']}")
    gc.collect()  # the stages above, and their CUDA graphs: the memory readings are the server's
    torch.cuda.empty_cache()
    result["gpu_memory_before_server_mib"] = nvidia_smi("memory.used")
    precisions = ["fp32", *(p for p in REDUCED if result["reduced_precision"][p]["holds"])][:2]
    deadline = time.monotonic() + LOAD_BUDGET_S
    result["load"] = [row for precision in precisions
                      for row in serve_levels(repository_dir, precision, chunks, voice_pack, args.output, deadline)]
    result["imported"] = imported_distributions()
    result["seconds"] = round(time.monotonic() - started, 1)
    path = args.output / ("cpu-rehearsal.json" if SMALL else "gpu_check.json")
    path.write_text(json.dumps(result, indent=1))
    log(f"done in {result['seconds']:.0f} s: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
