"""`make bench` end to end on the tiny model: baselines, the HTTP stack, perf_analyzer, and the report."""
import json

from bench import report
from bench.run import main as bench_main

CPUINFO = """processor\t: 0
model name\t: AMD EPYC 9R14 96-Core Processor
flags\t\t: fpu sse avx avx2 fma avx512f avx512_vnni avx512_bf16
processor\t: 1
model name\t: AMD EPYC 9R14 96-Core Processor
flags\t\t: fpu sse avx avx2 fma avx512f avx512_vnni avx512_bf16
"""


def test_every_table_names_the_cpu_its_flags_and_the_precision():
    machine = report.machine(CPUINFO)
    assert machine["cpu"] == "AMD EPYC 9R14 96-Core Processor"
    assert machine["flags"] == ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16"]  # in CPU_FLAGS' order
    level = {"rtf": 0.5, "audio_s_per_s": 2.0, "first_audio_p50_s": 0.5, "first_audio_p95_s": 0.6,
             "first_audio_p99_s": 0.7, "total_p50_s": 1.0, "total_p99_s": 2.0, "errors": 0, "triton_batch_size": 1.0}
    baseline = {"name": "b", "audio_s_per_s": 1.0, "passes_audio_s_per_s": [1.0, 0.9], "seconds_per_text": [1.0]}
    result = {"machine": machine, "repository": "r", "texts": "smoke (1)", "baselines": [baseline] * 3,
              "levels": [{"clients": 1, "stream": False, **level}],
              "triton_alone": [{"concurrency": 1, "inferences_per_s": 1.0, "audio_s_per_s": 2.0,
                                "latency_p50_s": 1.0, "latency_p99_s": 1.5}],
              "first_audio": [{"text": "t", "first_chunk": "c", "requests": 2, "total_p50_s": 1.0, **level}],
              "overhead": {"http_s": 1.0, "in_process_s": 1.0, "overhead": 0.0},
              "fidelity": {"precision": "int8", "max_relative_l2_vs_kmodel": 1e-6, "min_snr_db_vs_fp32": 29.0,
                           "precision_decision": {"asked": "auto", "chosen": "int8", "reason": "VNNI"}}}
    tables = report.markdown(result).split("\n## ")[1:]
    line = (f"AMD EPYC 9R14 96-Core Processor (avx2, fma, avx512f, avx512_vnni, avx512_bf16), {machine['cores']} "
            "cores; served decoder: int8")
    assert len(tables) == 4 and all(line in table for table in tables)
    assert "precision auto chose int8: VNNI" in report.markdown(result)
    assert report.machine()["cpu"] and report.machine()["cores"] >= 1  # this machine's, read from /proc/cpuinfo


def test_bench_reports_every_part_of_one_run(tiny_repository, triton, tmp_path):
    assert bench_main(["--repository", str(tiny_repository), "--triton-url", triton.http_url,
                       "--levels", "1", "--texts", "smoke",
                       "--first-audio-requests", "2", "--perf-window", "2",
                       "--perf-stability", "1000", "--output", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "bench.json").read_text())
    assert [b["audio_s_per_s"] > 0 for b in result["baselines"]] == [True] * 3
    assert all(b["audio_s_per_s"] == max(b["passes_audio_s_per_s"]) and len(b["passes_audio_s_per_s"]) == 2
               for b in result["baselines"])  # ratios against the faster of the passes before and after the stack
    assert [(row["clients"], row["stream"]) for row in result["levels"]] == [(1, False), (1, True)]
    assert all(row["errors"] == 0 and row["audio_s_per_s"] > 0 for row in result["levels"])
    assert [row["requests"] for row in result["levels"]] == [4, 4]  # a sustained level: four per client
    assert [row["stall_p99_s"] is not None for row in result["levels"]] == [False, True]  # streams only
    assert [row["concurrency"] for row in result["triton_alone"]] == [1]
    assert all(row["inferences_per_s"] > 0 and row["audio_s_per_s"] > 0 for row in result["triton_alone"])
    assert [(row["first_chunk"], row["errors"]) for row in result["first_audio"]] == [
        ("the first sentence (default)", 0), ("the first sentence (default)", 0), ("clauses within 8 words", 0)]
    assert all(row["first_audio_p50_s"] > 0 for row in result["first_audio"])
    assert result["fidelity"]["precision"] == "fp32" and result["fidelity"]["max_relative_l2_vs_kmodel"] <= 1e-4
    assert_breakdowns(result["first_audio_breakdown"], requests=2)
    markdown = (tmp_path / "bench.md").read_text()
    tables = markdown.split("\n## ")[1:]
    assert len(tables) == 5 and all(report.describe(report.machine(), "fp32") in table for table in tables)
    assert "## Triton alone (perf_analyzer" in markdown and "Served graphs: fp32" in markdown
    assert "## First audio" in markdown and "## First audio by stage" in markdown
    assert (tmp_path / "bench.png").stat().st_size > 10_000


def assert_breakdowns(rows: list[dict], requests: int) -> None:
    """The short and the long first sentence, each sent alone: every inference Triton counted was a first chunk,
    one per request, and the frontend's reading and the model's stages were each measured."""
    assert [row["words"] for row in rows] == [3, 16]
    assert all(row["served"]["inferences"] == requests == row["served"]["requests"] for row in rows)
    assert all(row["reading"]["g2p_s"] > 0 and row["in_process"]["decoder_s"] > row["in_process"]["encoding_s"] > 0
               for row in rows)
    assert rows[1]["phonemes"] > 2 * rows[0]["phonemes"]


def test_first_audio_alone(tiny_repository, triton, tmp_path):
    """`--first-audio-only`: the first-audio series and their breakdown by stage, nothing else."""
    assert bench_main(["--repository", str(tiny_repository), "--triton-url", triton.http_url,
                       "--first-audio-only", "--first-audio-requests", "2", "--output", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "first_audio.json").read_text())
    assert [row["errors"] for row in result["first_audio"]] == [0, 0, 0] and "levels" not in result
    assert_breakdowns(result["first_audio_breakdown"], requests=2)
    assert "## First audio by stage" in (tmp_path / "first_audio.md").read_text()
