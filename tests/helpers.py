"""What tests share besides fixtures (those stay in conftest.py): the checkout, the API's key and settings, the
API as a process, exports run as a user runs them, Triton requests, audio decoding, and waiting with a deadline."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import av
import httpx
import numpy as np
import soundfile
import tritonclient.http as httpclient

from bench.processes import FrontendProcess, free_port
from export import checkpoint
from export.pipeline import main as export_main

__all__ = ["API_KEY", "RAW_SUBTYPES", "ROOT", "BackgroundExport", "decode", "decode_with_ffmpeg", "deployment_env",
           "export_local", "free_port", "frontend", "infer", "inflight", "outputs", "request_inputs", "samples",
           "wait_until", "whole"]

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "test-key-123"
FRONTEND_ENV = ROOT / "docker" / "frontend.env"


def wait_until(predicate: Callable[[], object], timeout: float, message: str, interval: float = 0.05):
    """`predicate()`'s first true value, polled every `interval` seconds; fails with `message` after `timeout`."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"{message} (waited {timeout:g} s)"
        time.sleep(interval)
    return value


def settled(read: Callable[[], int], quiet_s: float = 2.0, limit_s: float = 60.0) -> int:
    """The value of `read()` once it has stopped changing for `quiet_s` (work still under way changes it)."""
    value, since, start = read(), time.monotonic(), time.monotonic()
    while time.monotonic() - since < quiet_s and time.monotonic() - start < limit_s:
        time.sleep(0.25)
        if (latest := read()) != value:
            value, since = latest, time.monotonic()
    return value


def deployment_env() -> dict[str, str]:
    """docker/frontend.env: the API settings every deployment (compose, Kubernetes) runs with."""
    lines = [line.strip() for line in FRONTEND_ENV.read_text().splitlines()]
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def inflight(url: str) -> float:
    """Requests holding a slot of the API at `url` (MAX_INFLIGHT), from its metrics."""
    metrics = httpx.get(f"{url}/metrics").text
    return float(next(line.split()[-1] for line in metrics.splitlines()
                      if line.startswith("kokoro_inflight_requests ")))


@contextmanager
def frontend(log_path: Path | None = None, **settings: str):
    """A FrontendProcess for the duration of a `with` block; its URL is `.url`."""
    log_path = log_path or Path(tempfile.mkstemp(prefix="frontend-", suffix=".log")[1])
    process = FrontendProcess(log_path, **settings)
    try:
        yield process
    finally:
        process.stop()


def export_local(weights: checkpoint.Weights, output: Path, parity_lengths: str) -> int:
    """`python -m export --checkpoint --voices --config`, as a user with downloaded upstream files runs it."""
    config = output.parent / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps(weights.config))
    [voices] = {path.parent for path in weights.voices.values()}
    return export_main(["--checkpoint", str(weights.checkpoint), "--voices", str(voices), "--config", str(config),
                        "--output", str(output), "--parity-lengths", parity_lengths])


class BackgroundExport:
    """`python -m export` in a subprocess at low priority. The tests leave about a quarter of CI's two cores
    idle, and the int8 export (Inductor compiling the vocoder) is minutes of one core: started with the
    session, it is done by the time its tests run."""

    def __init__(self, workspace: Path, *argv: str):
        self.output, self.log_path = workspace / "model_repository", workspace / "export.log"
        self.inductor_cache = workspace / "inductor-cache"  # removed with the workspace
        env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=str(self.inductor_cache))
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "export", *argv, "--output", str(self.output)],
                                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                            preexec_fn=lambda: os.nice(10))

    def repository(self, timeout: float = 1200) -> Path:
        returncode = self.process.wait(timeout)
        assert returncode == 0, f"export exited with {returncode}:\n{self.log_path.read_text()[-4000:]}"
        return self.output

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def request_inputs(token_ids, style, speed=None, seed=None):
    """Triton's inputs for one utterance of the `kokoro` model."""
    inputs = [httpclient.InferInput("token_ids", [1, len(token_ids)], "INT64"),
              httpclient.InferInput("style", [1, 256], "FP32")]
    inputs[0].set_data_from_numpy(np.asarray(token_ids, dtype=np.int64)[None])
    inputs[1].set_data_from_numpy(np.asarray(style, dtype=np.float32)[None])
    for name, value, dtype, np_type in (("speed", speed, "FP32", np.float32), ("seed", seed, "INT64", np.int64)):
        if value is not None:
            tensor = httpclient.InferInput(name, [1, 1], dtype)
            tensor.set_data_from_numpy(np.array([[value]], dtype=np_type))
            inputs.append(tensor)
    return inputs


def outputs(result):
    return result.as_numpy("audio")[0], result.as_numpy("durations")[0]


def infer(client, token_ids, style, speed=None, seed=None):
    return outputs(client.infer("kokoro", request_inputs(token_ids, style, speed, seed)))


RAW_SUBTYPES = {"pcm_s16le": "PCM_16", "pcm_f32le": "FLOAT", "pcm_mulaw": "ULAW", "pcm_alaw": "ALAW"}


def decode_with_ffmpeg(data: bytes) -> tuple[int, float]:
    container = av.open(io.BytesIO(data))
    sample_rate = container.streams.audio[0].codec_context.sample_rate
    return sample_rate, sum(frame.samples for frame in container.decode(audio=0)) / sample_rate


def decode(data: bytes, fmt: str | None = None, encoding: str = "pcm_s16le", rate: int = 24000) -> tuple[int, float]:
    """(sample rate, seconds) of an audio file; headerless `pcm`/`raw` read as `encoding` at `rate`."""
    if fmt == "aac":
        return decode_with_ffmpeg(data)
    raw = {"format": "RAW", "subtype": RAW_SUBTYPES[encoding], "samplerate": rate, "channels": 1}
    with soundfile.SoundFile(io.BytesIO(data), **(raw if fmt in ("pcm", "raw") else {})) as file:
        assert file.channels == 1
        # In blocks: a streamed file's header cannot know its length, and libsndfile then reports it as huge.
        blocks = [np.empty(0)]
        while len(block := file.read(65536)):
            blocks.append(block)
    samples = np.concatenate(blocks)
    assert np.isfinite(samples).all() and abs(samples).max() < 4  # not garbage read as samples
    return file.samplerate, len(samples) / file.samplerate


def samples(data: bytes, streamed: bool) -> np.ndarray:
    """16-bit samples of a response: raw pcm, or wav read by the standard library's decoder."""
    if not streamed:
        with wave.open(io.BytesIO(data)) as wav:
            data = wav.readframes(wav.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.int32)


def whole(data: bytes, streamed: bool, expected: dict) -> bool:
    """The same audio as the reference, every sample: batching with other requests changes float
    rounding only (at most a couple of 16-bit steps), never the length."""
    got, want = samples(data, streamed), samples(expected[streamed], streamed)
    return len(got) == len(want) and int(np.abs(got - want).max()) <= 4
