"""Shared fixtures: a tiny synthetic model repository exported once per session, and a real
`tritonserver` serving it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.processes import FrontendProcess, free_port
from export import checkpoint, pypi_weights
from export.pipeline import main as export_main
from export.pipeline import parse_args, resolve_weights
from serving.tritonserver import TritonServer

ROOT = Path(__file__).resolve().parent.parent
TINY_PARITY_LENGTHS = "8,37,120"


@pytest.fixture(scope="session")
def phonemizer(tmp_path_factory):
    """Text to phonemes with the real Kokoro v1.0 vocabulary (no exported model needed)."""
    import shutil

    from frontend.reading.phonemes import Phonemizer

    assets = tmp_path_factory.mktemp("assets")
    shutil.copy(ROOT / "export" / "kokoro_v1_0_config.json", assets / "config.json")
    return Phonemizer(assets)


@pytest.fixture(scope="session")
def tiny_weights() -> checkpoint.Weights:
    return checkpoint.synthetic_weights(ROOT / "build" / "synthetic-tiny", checkpoint.tiny_config())


@pytest.fixture(scope="session")
def tiny_voiced_weights() -> checkpoint.Weights:
    """Tiny synthetic weights whose F0 is voiced (about 40 to 270 Hz), as real weights' is."""
    return checkpoint.synthetic_weights(ROOT / "build" / "synthetic-tiny-voiced", checkpoint.tiny_config(),
                                        voice_names=("af_heart", "bm_george"), voiced=True)


@pytest.fixture(scope="session")
def real_weights() -> checkpoint.Weights:
    """Kokoro's real weights from PyPI alone (`--source kokoro-onnx-int8`): dequantized from kokoro-onnx's int8
    release, five Japanese voices; built once into build/kokoro-onnx-int8/ and reused while its hashes hold."""
    return resolve_weights(parse_args(["--source", pypi_weights.SOURCE]))


@pytest.fixture(scope="session")
def real_repository(real_export) -> Path:
    """`python -m export --source kokoro-onnx-int8 --precision auto` (as `make serve` runs it), full size, at the
    default parity lengths (the export proves its own parity; provenance.json holds the figures, the precision
    decision and the export's time), run in the background since the session began."""
    return real_export.repository(timeout=3600)


def export_local(weights: checkpoint.Weights, output: Path, parity_lengths: str) -> int:
    """`python -m export --checkpoint --voices --config`, as a user with downloaded upstream files runs it."""
    config = output.parent / "config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps(weights.config))
    [voices] = {path.parent for path in weights.voices.values()}
    return export_main(["--checkpoint", str(weights.checkpoint), "--voices", str(voices), "--config", str(config),
                        "--output", str(output), "--parity-lengths", parity_lengths])


@pytest.fixture(scope="session")
def tiny_kmodel(tiny_weights):
    return checkpoint.build_kmodel(tiny_weights.config, tiny_weights.checkpoint)


@pytest.fixture(scope="session")
def tiny_repository(tmp_path_factory) -> Path:
    """`python -m export --synthetic --tiny` into a fresh directory (it verifies its own parity)."""
    output = tmp_path_factory.mktemp("tiny") / "model_repository"
    assert export_main(["--synthetic", "--tiny", "--output", str(output),
                        "--parity-lengths", TINY_PARITY_LENGTHS]) == 0
    return output


@pytest.fixture(scope="session")
def tiny_gpu_repository(tmp_path_factory) -> Path:
    """`python -m export --synthetic --tiny --target gpu`: NVIDIA's container's layout."""
    output = tmp_path_factory.mktemp("tiny-gpu") / "model_repository"
    assert export_main(["--synthetic", "--tiny", "--target", "gpu", "--output", str(output),
                        "--parity-lengths", "8,37"]) == 0
    return output


@pytest.fixture(scope="session")
def triton(tiny_repository, tmp_path_factory):
    # Clients of many tests keep HTTP connections open; at the end Triton need not wait 30 s for them.
    server = TritonServer(tiny_repository, free_port(), free_port(), free_port(),
                          log_path=tmp_path_factory.mktemp("triton") / "tritonserver.log",
                          extra=["--exit-timeout-secs=3"])
    with server:
        yield server


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


@pytest.fixture(scope="session", autouse=True)
def int8_export(request, tmp_path_factory):
    """The tiny int8 export, started with the session when a selected test needs it (`int8_repository`)."""
    if not any("int8_repository" in item.fixturenames for item in request.session.items):
        yield None
        return
    request.getfixturevalue("tiny_weights")  # written whole before the export reads them
    job = BackgroundExport(tmp_path_factory.mktemp("int8"), "--synthetic", "--tiny", "--precision", "int8",
                           "--parity-lengths", "8,37")
    yield job
    job.stop()


@pytest.fixture(scope="session", autouse=True)
def real_export(request, tmp_path_factory):
    """The full-size export of the real weights, started with the session when a selected test needs it: minutes
    of the cores the other tests leave idle."""
    if not any("real_repository" in item.fixturenames for item in request.session.items):
        yield None
        return
    request.getfixturevalue("real_weights")  # built whole before the export reads them
    job = BackgroundExport(tmp_path_factory.mktemp("real"), "--source", pypi_weights.SOURCE, "--precision", "auto")
    yield job
    job.stop()


API_KEY = "test-key-123"
FRONTEND_ENV = ROOT / "docker" / "frontend.env"


def deployment_env() -> dict[str, str]:
    """docker/frontend.env: the API settings every deployment (compose, Kubernetes) runs with."""
    lines = [line.strip() for line in FRONTEND_ENV.read_text().splitlines()]
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


@pytest.fixture(scope="session")
def api(triton, tiny_repository, tmp_path_factory):
    """The real frontend (`python -m frontend`, uvicorn) in front of the real Triton, with an API key, in the
    containers' environment (docker/frontend.env) plus what compose sets per deployment."""
    log_path = tmp_path_factory.mktemp("frontend") / "frontend.log"
    with frontend(log_path, **deployment_env(), TRITON_URL=triton.http_url, MODEL_REPOSITORY=str(tiny_repository),
                  API_KEYS=f"other-key,{API_KEY}") as stack:
        yield stack.url


@contextmanager
def frontend(log_path: Path | None = None, **settings: str):
    """A FrontendProcess for the duration of a `with` block; its URL is `.url`."""
    import tempfile

    log_path = log_path or Path(tempfile.mkstemp(prefix="frontend-", suffix=".log")[1])
    process = FrontendProcess(log_path, **settings)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="session")
def real_api(real_repository, tmp_path_factory):
    """The real stack (Triton and the API, no key) on Kokoro's released weights, for what a listener judges."""
    logs = tmp_path_factory.mktemp("real-stack")
    with TritonServer(real_repository, free_port(), free_port(), free_port(), log_path=logs / "tritonserver.log",
                      extra=["--exit-timeout-secs=3"]) as triton:
        with frontend(logs / "frontend.log", TRITON_URL=triton.http_url,
                      MODEL_REPOSITORY=str(real_repository)) as stack:
            yield stack.url
