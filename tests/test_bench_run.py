"""`make bench` end to end on the tiny model: baselines, the HTTP stack, perf_analyzer, and the report."""
import json

from bench.run import main as bench_main


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
    markdown = (tmp_path / "bench.md").read_text()
    assert "## Triton alone (perf_analyzer" in markdown and "Served graphs: fp32" in markdown
    assert "## First audio" in markdown
    assert (tmp_path / "bench.png").stat().st_size > 10_000
