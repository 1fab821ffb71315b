"""The benchmark's results as a markdown table and a plot, with every ratio against this run's baselines. Every
table names the machine it ran on (CPU model, the flags reduced precision depends on, cores) and the precision
the served decoder ran at (from the repository's provenance)."""
from __future__ import annotations

import os
import platform
from pathlib import Path

from bench import load

# /proc/cpuinfo's names of the instructions the decoder's precisions depend on: fp32 (AVX2, FMA, AVX-512),
# int8 (VNNI, AMX-INT8), bf16 (AVX512-BF16, AMX-BF16).
CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16")


def machine(cpuinfo: str | None = None) -> dict:
    """The CPU model, which of CPU_FLAGS it has, and the cores this process may use (/proc/cpuinfo, Linux)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    fields = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())  # the first processor's
    flags = set(fields.get("flags", "").split())
    return {"cpu": fields.get("model name") or platform.processor() or "unknown CPU",
            "flags": [flag for flag in CPU_FLAGS if flag in flags],
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()}


def describe(machine: dict, precision: str) -> str:
    """One line for every table: CPU model, its flags, cores, and the precision that ran."""
    flags = ", ".join(machine["flags"]) or "none of " + ", ".join(CPU_FLAGS)
    return f"{machine['cpu']} ({flags}), {machine['cores']} cores; served decoder: {precision}"


def overhead(one_client: list[load.Outcome], served_in_process: dict) -> dict:
    """HTTP total latency at one client against the same graphs in process, over the same texts."""
    http_s = sum(o.total_s for o in one_client)
    process_s = sum(served_in_process["seconds_per_text"])
    return {"http_s": http_s, "in_process_s": process_s, "overhead": http_s / process_s - 1,
            "errors": sum(not o.ok for o in one_client)}


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f}"


def markdown(result: dict) -> str:
    kmodel, onnx_single, _served = result["baselines"]
    where = f"_{describe(result['machine'], result['fidelity']['precision'])}._"
    lines = [f"# Benchmark ({result['machine']['cpu']})", "",
             f"Model repository `{result['repository']}`, {result['texts']} texts (bench/texts.py), 24 kHz pcm.", "",
             _fidelity(result["fidelity"]), "",
             "## Baselines (in process, one request at a time)", "", where, "",
             "| runtime | audio-s per s (the faster pass) | before the stack / after it |", "|---|---|---|"]
    lines += [f"| {b['name']} | {b['audio_s_per_s']:.2f} | "
              f"{' / '.join(f'{speed:.2f}' for speed in b['passes_audio_s_per_s'])} |" for b in result["baselines"]]
    lines += ["", "## HTTP stack (frontend + Triton)", "", where, "",
              "| clients | mode | audio-s per s | vs (a) KModel | vs (b) ORT batch 1 | RTF per request | "
              "first audio p50 / p95 / p99 (ms) | total p50 / p99 (s) | stalls p50 / p99 (s) | errors | Triton batch |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in result["levels"]:
        total, stalls = _pair(row, "total"), _pair(row, "stall")
        lines.append(
            f"| {row['clients']} | {'stream' if row['stream'] else 'file'} | {row['audio_s_per_s']:.2f} | "
            f"{row['audio_s_per_s'] / kmodel['audio_s_per_s']:.2f}x | "
            f"{row['audio_s_per_s'] / onnx_single['audio_s_per_s']:.2f}x | "
            f"{row['rtf']:.2f} | {_ms(row['first_audio_p50_s'])} / {_ms(row['first_audio_p95_s'])} / "
            f"{_ms(row['first_audio_p99_s'])} | {total} | {stalls} | {row['errors']} | "
            f"{row['triton_batch_size'] or 0:.1f} |" if row["rtf"] else f"| {row['clients']} | - | failed |")
    lines += _triton_alone(result, where)
    over = result["overhead"]
    lines += _first_audio(result["first_audio"], where)
    lines += _breakdown(result.get("first_audio_breakdown", []), where)
    lines += ["", f"Stack overhead at one client: {over['http_s']:.1f} s over HTTP against "
              f"{over['in_process_s']:.1f} s for the served graphs in process ({over['overhead'] * 100:+.1f} %)."]
    return "\n".join(lines) + "\n"


def _first_audio(rows: list[dict], where: str) -> list[str]:
    """One client streaming pcm: first audio per input and first-chunk rule."""
    lines = ["", "## First audio (one client, streamed pcm)", "", where, "",
             "| input | first chunk | requests | first audio p50 / p95 / p99 (ms) | total p50 (s) |",
             "|---|---|---|---|---|"]
    return lines + [f"| {row['text']} | {row['first_chunk']} | {row['requests']} | {_ms(row['first_audio_p50_s'])} / "
                    f"{_ms(row['first_audio_p95_s'])} / {_ms(row['first_audio_p99_s'])} | {row['total_p50_s']:.2f} |"
                    for row in rows]


def first_audio_markdown(result: dict) -> str:
    """`--first-audio-only`: first audio and its breakdown by stage."""
    where = f"_{describe(result['machine'], result['fidelity']['precision'])}._"
    lines = [f"# First audio ({result['machine']['cpu']})", "", f"Model repository `{result['repository']}`.", ""]
    lines += _first_audio(result["first_audio"], where) + _breakdown(result["first_audio_breakdown"], where)
    return "\n".join(lines) + "\n"


def _breakdown(rows: list[dict], where: str) -> list[str]:
    """One column per first sentence: each stage's milliseconds (means) and share of its mean first audio."""
    if not rows:
        return []
    lines = ["", "## First audio by stage (one client, streamed pcm, the first sentence alone)", "", where, "",
             "| stage | " + " | ".join(f"\"{row['text']}\" ({row['words']} words, {row['phonemes']} phonemes)"
                                       for row in rows) + " |", "|---" * (len(rows) + 1) + "|"]
    for stage in rows[0]["stages_s"]:
        lines.append(f"| {stage} | " + " | ".join(
            f"{_ms(row['stages_s'][stage])} ({row['stages_s'][stage] / row['served']['first_audio_mean_s']:.0%})"
            for row in rows) + " |")
    lines.append("| **first audio, mean (p50)** | " + " | ".join(
        f"**{_ms(row['served']['first_audio_mean_s'])}** ({_ms(row['served']['first_audio_p50_s'])})"
        for row in rows) + " |")
    lines.append("| audio of the chunk (s); in process: first call, text stage, decoder (ms) | " + " | ".join(
        f"{row['in_process']['audio_s']:.2f}; {_ms(row['in_process']['first_call_s'])}, "
        f"{_ms(row['in_process']['text_stage_s'])}, {_ms(row['in_process']['decoder_s'])}" for row in rows) + " |")
    return lines


def _pair(row: dict, name: str) -> str:
    """p50 / p99 in seconds, or "-" where not measured (stalls: streams only)."""
    p50, p99 = row.get(f"{name}_p50_s"), row.get(f"{name}_p99_s")
    return "-" if p50 is None else f"{p50:.2f} / {p99:.2f}"


def _fidelity(fidelity: dict) -> str:
    line = (f"Served graphs: {fidelity['precision']}; the fp32 export matches upstream KModel to a relative L2 of "
            f"{fidelity['max_relative_l2_vs_kmodel']:.1e} or better")
    if "min_snr_db_vs_fp32" in fidelity:
        line += f"; the int8 decoder's audio is within {fidelity['min_snr_db_vs_fp32']:.1f} dB SNR of fp32"
    decision = fidelity.get("precision_decision")
    if decision:
        line += f"; precision {decision['asked']} chose {decision['chosen']}: {decision['reason']}"
    return line + " (the export's provenance)."


def _triton_alone(result: dict, where: str) -> list[str]:
    """perf_analyzer's rows beside the HTTP stack's whole-file rows at the same concurrency."""
    http = {row["clients"]: row["audio_s_per_s"] for row in result["levels"] if not row["stream"] and row["rtf"]}
    lines = ["", "## Triton alone (perf_analyzer, the same phoneme chunks)", "", where, "",
             "| concurrency | inferences per s | audio-s per s | latency p50 / p99 (s) | HTTP stack (files) / Triton |",
             "|---|---|---|---|---|"]
    for row in result["triton_alone"]:
        if "error" in row:
            lines.append(f"| {row['concurrency']} | not measured: {row['error']} | | | |")
            continue
        ratio = f"{http[row['concurrency']] / row['audio_s_per_s']:.2f}" if row["concurrency"] in http else "-"
        lines.append(f"| {row['concurrency']} | {row['inferences_per_s']:.2f} | {row['audio_s_per_s']:.2f} | "
                     f"{row['latency_p50_s']:.1f} / {row['latency_p99_s']:.1f} | {ratio} |")
    return lines


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (throughput, latency) = plt.subplots(1, 2, figsize=(11, 4))
    for stream, style in ((False, "o-"), (True, "s--")):
        rows = [r for r in result["levels"] if r["stream"] == stream and r["rtf"]]
        label = "streaming" if stream else "whole files"
        throughput.plot([r["clients"] for r in rows], [r["audio_s_per_s"] for r in rows], style,
                        label=f"stack, {label}")
        latency.plot([r["clients"] for r in rows], [(r["first_audio_p50_s"] or 0) * 1000 for r in rows], style,
                     label=f"p50, {label}")
    alone = [r for r in result["triton_alone"] if "error" not in r]
    throughput.plot([r["concurrency"] for r in alone], [r["audio_s_per_s"] for r in alone], "^:", color="gray",
                    label="Triton alone (perf_analyzer)")
    for baseline, color in zip(result["baselines"][:2], ("tab:red", "tab:purple"), strict=False):
        throughput.axhline(baseline["audio_s_per_s"], color=color, linestyle=":", label=baseline["name"][:40])
    throughput.set(xscale="log", xlabel="concurrent clients", ylabel="audio seconds per second",
                   title="Throughput", ylim=(0, None))
    latency.set(xscale="log", yscale="log", xlabel="concurrent clients", ylabel="ms", title="First audio")
    throughput.legend(fontsize=7)
    latency.legend(fontsize=7)
    fig.suptitle(describe(result["machine"], result["fidelity"]["precision"]), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
