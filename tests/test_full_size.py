"""The full-size architecture (82 M parameters, synthetic weights with a voiced F0, as real weights have),
exported from local files: the export's batched-parity proof for 8, 37, 120, 400 and 510 phonemes in one
padded batch against upstream KModel alone, link by link (export/parity.py)."""
import json

import pytest

from export import checkpoint
from tests.conftest import ROOT, export_local


@pytest.mark.full
def test_full_size_export_is_exact_for_mixed_lengths(tmp_path):
    weights = checkpoint.synthetic_weights(ROOT / "build" / "synthetic-voiced", voiced=True)
    output = tmp_path / "model_repository"
    assert export_local(weights, output, "8,37,120,400,510") == 0
    provenance = json.loads((output / "kokoro" / "assets" / "provenance.json").read_text())
    parity = provenance["parity"]
    assert [p["phonemes"] for p in parity] == [8, 37, 120, 400, 510]
    for item in parity:
        assert item["durations_equal"], item
        assert max(item["relative_l2"], item["f0_relative_l2"], item["harmonic_relative_l2"]) <= 1e-4, item
        assert 3 <= item["frames"] / (item["phonemes"] + 2) <= 5, item  # speech-like durations
