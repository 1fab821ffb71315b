"""The load generator behind `make bench` and `make soak`, against the real stack, and the memory reading."""
from __future__ import annotations

import asyncio
import os
from pathlib import Path

from bench import load, soak
from bench.processes import rss_bytes
from tests.helpers import API_KEY


def test_load_measures_what_the_stack_returns(api):
    specs = [load.Spec("Hello there.", "pcm", False), load.Spec("Hello there.", "pcm", True),
             load.Spec("Hello there.", "mp3", True), load.Spec("", "wav", False)]
    outcomes, wall_s = asyncio.run(load.run(api, specs, clients=2, api_key=API_KEY))
    by_kind = {(o.spec.response_format, o.spec.stream, o.spec.text): o for o in outcomes}
    pcm, streamed, mp3 = (by_kind[("pcm", False, "Hello there.")], by_kind[("pcm", True, "Hello there.")],
                          by_kind[("mp3", True, "Hello there.")])
    assert pcm.ok and streamed.ok and mp3.ok
    assert pcm.audio_s == streamed.audio_s > 0.3  # the same speech, whole or streamed
    assert abs(mp3.audio_s - pcm.audio_s) < 0.08  # decoded by PyAV: codec padding only
    assert 0 < streamed.first_audio_s <= streamed.total_s <= wall_s
    assert streamed.stall_s >= 0 and pcm.stall_s is None and mp3.stall_s is None  # pcm streams only
    refused = by_kind[("wav", False, "")]
    assert refused.status == 400 and not refused.ok and "input" in refused.error

    summary = load.summary(outcomes, wall_s)
    assert summary["requests"] == 4 and summary["errors"] == 1
    assert abs(summary["audio_s"] - (pcm.audio_s + streamed.audio_s + mp3.audio_s)) < 1e-9
    assert summary["first_audio_p50_s"] <= summary["first_audio_p99_s"]
    assert [m["requests"] for m in soak.per_minute(outcomes)] == [4]


def test_stalls_are_the_waits_of_a_player_that_starts_with_the_first_audio():
    # (arrival s, audio s): playing from 1.0, the second part comes in time, the third 0.5 s late
    assert load.stall_seconds([(1.0, 0.5), (1.2, 0.5), (2.5, 1.0), (2.6, 0.1)]) == 0.5
    assert load.stall_seconds([(0.3, 2.0), (1.0, 1.0)]) == 0.0
    assert load.stall_seconds([]) == 0.0


def test_a_refused_connection_is_an_outcome_not_a_crash():
    outcomes, _ = asyncio.run(load.run("http://127.0.0.1:9", [load.Spec("Hi.")], clients=1))
    assert outcomes[0].status is None and outcomes[0].error.startswith("ConnectError")


def test_memory_of_a_process_tree_counts_the_children(triton):
    tasks = Path(f"/proc/{triton.process.pid}/task").iterdir()
    stubs = [int(pid) for task in tasks for pid in (task / "children").read_text().split()]
    assert stubs, "the Python backend runs a stub process per model instance"
    own = int(next(line.split()[1] for line in Path(f"/proc/{triton.process.pid}/status").read_text().splitlines()
                   if line.startswith("VmRSS:"))) * 1024
    assert rss_bytes(triton.process.pid) > own
    assert rss_bytes(os.getpid()) > 0
