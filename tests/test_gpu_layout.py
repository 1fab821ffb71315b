"""The GPU target's layout served by a real Triton: the `kokoro` orchestrator calling `kokoro_text` and
`kokoro_decoder` through BLS. The pip-installed Triton has no onnxruntime backend, so each stage model is
served by a Python stand-in (tests/standins/onnx_stage_model.py) that keeps the stage's config (tensors,
dims, reshape, the first warmup sample) and runs its exported graph, applying `reshape` as the onnxruntime
backend does. What runs for real: the orchestrator and its BLS requests, Triton's checks of them against
the stage configs, the warmup sample at load, and the GPU export's graphs."""
import shutil
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http as httpclient
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from export.parity import relative_l2, sample_phonemes
from kokoro_core.batching import KokoroBatch, Utterance
from kokoro_core.stages import onnxruntime_stages
from serving.tritonserver import TritonServer
from tests.helpers import ROOT, free_port, outputs, request_inputs

STAGES = ("kokoro_text", "kokoro_decoder")
STANDIN = ROOT / "tests" / "standins" / "onnx_stage_model.py"


def served_by_standin(config_path: Path) -> None:
    """The stage's config for the Python backend on the CPU: tensors, dims and reshape as they are; no
    TensorRT, no GPU; warmup with the shortest pass only (the longest takes minutes on a CPU)."""
    config = text_format.Parse(config_path.read_text(), model_config_pb2.ModelConfig())
    config.platform, config.backend = "", "python"
    for group in config.instance_group:
        group.kind = model_config_pb2.ModelInstanceGroup.KIND_CPU
    config.ClearField("optimization")
    config.ClearField("parameters")
    del config.model_warmup[1:]
    config_path.write_text(text_format.MessageToString(config))


@pytest.fixture(scope="module")
def gpu_layout(tiny_gpu_repository, tmp_path_factory):
    repository = tmp_path_factory.mktemp("gpu-layout") / "model_repository"
    shutil.copytree(tiny_gpu_repository, repository)
    for stage in STAGES:
        served_by_standin(repository / stage / "config.pbtxt")
        shutil.copy(STANDIN, repository / stage / "1" / "model.py")
    server = TritonServer(repository, free_port(), free_port(), free_port(),
                          log_path=repository.parent / "tritonserver.log", extra=["--exit-timeout-secs=3"])
    with server:
        yield repository, server


def test_orchestrator_serves_mixed_lengths_through_the_stage_models(gpu_layout, tiny_weights):
    repository, server = gpu_layout
    voice = np.load(repository / "kokoro" / "assets" / "voices" / "af_heart.npy")
    phonemes = sample_phonemes(tiny_weights.config["vocab"], (8, 37, 120), seed=5)
    client = httpclient.InferenceServerClient(server.http_url, concurrency=len(phonemes))
    pending = [client.async_infer("kokoro", request_inputs(ids, voice[len(ids) - 1, 0], 1.1, seed))
               for seed, ids in enumerate(phonemes)]
    served = [outputs(p.get_result()) for p in pending]

    graphs = (repository / "kokoro_text" / "1" / "model.onnx", repository / "kokoro_decoder" / "1" / "model.onnx")
    alone = KokoroBatch(*onnxruntime_stages(*graphs), max_items=1)
    for seed, (ids, (audio, durations)) in enumerate(zip(phonemes, served, strict=True)):
        [expected] = alone.synthesize([Utterance(ids, voice[len(ids) - 1, 0], 1.1, seed)])
        assert np.array_equal(durations, expected.durations)
        assert relative_l2(audio, expected.samples_24k) <= 1e-4

    statistics = {s["name"]: s for s in client.get_inference_statistics()["model_stats"]}
    for stage in STAGES:
        assert statistics[stage]["inference_count"] >= len(phonemes), stage  # every item went through BLS


def test_a_stage_model_refuses_a_per_item_scalar_without_its_item_dimension(gpu_layout):
    """Why the orchestrator sends per-item scalars as [batch, 1]: Triton checks `dims: [1]` before any reshape."""
    _, server = gpu_layout
    client = httpclient.InferenceServerClient(server.http_url)
    inputs = {"token_ids": np.zeros((1, 3), np.int64), "token_lengths": np.array([3], np.int64),
              "style": np.zeros((1, 256), np.float32), "speed": np.ones((1, 1), np.float32)}
    tensors = []
    for name, array in inputs.items():
        tensor = httpclient.InferInput(name, list(array.shape), "INT64" if array.dtype == np.int64 else "FP32")
        tensor.set_data_from_numpy(array)
        tensors.append(tensor)
    with pytest.raises(httpclient.InferenceServerException, match="token_lengths"):
        client.infer("kokoro_text", tensors)
    tensors[1] = httpclient.InferInput("token_lengths", [1, 1], "INT64")
    tensors[1].set_data_from_numpy(np.array([[3]], np.int64))
    assert client.infer("kokoro_text", tensors).as_numpy("durations").shape == (1, 3)

