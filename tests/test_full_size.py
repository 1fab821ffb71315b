"""The full-size architecture (82 M parameters, synthetic weights): the export's batched-parity proof
for 8, 37, 120, 400 and 510 phonemes in one padded batch against upstream KModel alone."""
import json

import pytest

from export.__main__ import main as export_main


@pytest.mark.full
def test_full_size_export_is_exact_for_mixed_lengths(tmp_path):
    output = tmp_path / "model_repository"
    assert export_main(["--synthetic", "--output", str(output)]) == 0
    provenance = json.loads((output / "kokoro" / "assets" / "provenance.json").read_text())
    parity = provenance["parity"]
    assert [p["phonemes"] for p in parity] == [8, 37, 120, 400, 510]
    for item in parity:
        assert item["durations_equal"] and item["relative_l2"] <= 1e-4, item
        assert 3 <= item["frames"] / (item["phonemes"] + 2) <= 5, item  # speech-like durations
