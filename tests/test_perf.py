"""`make perf`: realistic input data, and perf_analyzer measuring the served model for real."""
import numpy as np

from bench import perf


def test_input_data_has_mixed_lengths_and_matching_styles(tiny_repository):
    data = perf.input_data(tiny_repository, count=40)["data"]
    lengths = [entry["token_ids"]["shape"][0] for entry in data]
    assert min(lengths) < 60 and max(lengths) > 200 and max(lengths) <= 510
    voice = np.load(tiny_repository / "kokoro" / "assets" / "voices" / "af_alloy.npy")
    first = data[0]
    np.testing.assert_allclose(first["style"]["content"], voice[lengths[0] - 1, 0], rtol=1e-6)
    assert all(len(e["token_ids"]["content"]) == e["token_ids"]["shape"][0] for e in data)


def test_perf_analyzer_measures_the_served_model(triton, tiny_repository, tmp_path):
    code = perf.main(["--model-repository", str(tiny_repository), "--url", triton.http_url,
                      "--concurrency", "1:2", "--window-requests", "3", "--requests", "8",
                      "--max-phonemes", "40", "--stability", "1000", "--output", str(tmp_path)])
    assert code == 0
    rows = perf.read_results(tmp_path / "results.csv")
    assert [r["concurrency"] for r in rows] == [1, 2]
    assert all(r["inferences_per_s"] > 0 and 0 < r["latency_p50_s"] <= r["latency_p99_s"] < 60 for r in rows)
