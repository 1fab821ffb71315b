"""Every committed config.pbtxt parses with Triton's model-config protobuf and agrees with the graphs."""
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2
from tritonclient.utils import triton_to_np_dtype

from export import model_config
from kokoro_core.contract import INPUTS, MAX_PHONEMES, MODEL, OUTPUTS, STYLE_DIM

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted(ROOT.glob("model_repository*/*/config.pbtxt"))
GPU_STAGES = ("kokoro_text", "kokoro_decoder")
FRAMES_PER_TOKEN = 4  # speech's average at speed 1: the decoder's longest warmup is the longest text at it


def parse(path: Path) -> model_config_pb2.ModelConfig:
    return text_format.Parse(path.read_text(), model_config_pb2.ModelConfig())


def test_every_target_holds_the_one_rendered_interface():
    """The kokoro model's tensors are written once (export/model_config.py) for the CPU, GPU and torch targets."""
    for path in model_config.config_paths():
        assert path.read_text() == model_config.rendered(path.read_text()), f"run python -m export.model_config: {path}"


def test_every_target_is_committed():
    assert {p.parent.parent.name for p in CONFIGS} == {"model_repository", "model_repository_gpu",
                                                        "model_repository_torch"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_config_parses_and_batches(path):
    config = parse(path)
    assert config.name == path.parent.name
    assert config.max_batch_size > 0
    assert (path.parent / "1").is_dir()


@pytest.mark.parametrize("repository", ["model_repository", "model_repository_gpu", "model_repository_torch"])
def test_client_facing_model_is_dynamically_batched_over_ragged_lengths(repository):
    config = parse(ROOT / repository / "kokoro" / "config.pbtxt")
    assert config.HasField("dynamic_batching")
    inputs = {i.name: i for i in config.input}
    assert inputs["token_ids"].allow_ragged_batch
    assert inputs["speed"].optional and inputs["seed"].optional
    assert [o.name for o in config.output] == ["audio", "durations"]


def test_every_target_serves_the_contracts_tensors():
    """The API talks to any target: the same client-facing tensors, those the contract names."""
    cpu, gpu, torch = (parse(ROOT / repository / MODEL / "config.pbtxt")
                       for repository in ("model_repository", "model_repository_gpu", "model_repository_torch"))
    for other in (gpu, torch):
        assert (list(other.input), list(other.output)) == (list(cpu.input), list(cpu.output))
    assert (tuple(i.name for i in cpu.input), tuple(o.name for o in cpu.output)) == (INPUTS, OUTPUTS)
    assert list(cpu.input[INPUTS.index("style")].dims) == [STYLE_DIM]


def numpy_type(tensor) -> np.dtype:
    return np.dtype(triton_to_np_dtype(model_config_pb2.DataType.Name(tensor.data_type).removeprefix("TYPE_")))


def model_shape(tensor) -> list[int]:
    """What the framework model takes or gives past the batch dimension: `reshape` where the config has one."""
    return list(tensor.reshape.shape) if tensor.HasField("reshape") else list(tensor.dims)


def graph_shape(value_info) -> list[int | None]:
    """An ONNX tensor's shape past its batch dimension; None where a dimension is named (dynamic)."""
    dims = value_info.type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch", value_info.name
    return [d.dim_value if d.HasField("dim_value") else None for d in dims[1:]]


def fits(shape, declared) -> bool:
    """A concrete shape against a config's dims (-1: any length)."""
    return len(shape) == len(declared) and all(d in (-1, n) for n, d in zip(shape, declared, strict=True))


@pytest.mark.parametrize("stage", GPU_STAGES)
def test_gpu_stage_tensors_match_the_exported_graph(tiny_gpu_repository, stage):
    """Names, types and shapes: a dynamic graph dimension is -1 in the config, a fixed one its value; a
    per-item scalar ([batch] in the graph) is `dims: [1]` reshaped to []."""
    config = parse(tiny_gpu_repository / stage / "config.pbtxt")
    graph = onnx.load(str(tiny_gpu_repository / stage / "1" / "model.onnx"), load_external_data=False).graph
    for declared, tensors in ((config.input, graph.input), (config.output, graph.output)):
        assert [t.name for t in declared] == [t.name for t in tensors]
        for tensor, value_info in zip(declared, tensors, strict=True):
            assert numpy_type(tensor) == onnx.helper.tensor_dtype_to_np_dtype(value_info.type.tensor_type.elem_type)
            shape, in_graph = model_shape(tensor), graph_shape(value_info)
            assert len(shape) == len(in_graph), tensor.name
            assert all((g is None) if d == -1 else g in (None, d)
                       for d, g in zip(shape, in_graph, strict=True)), tensor.name
            if not shape:
                assert list(tensor.dims) == [1], tensor.name


def warmup_feeds(config, sample) -> dict[str, np.ndarray]:
    """A warmup sample's inputs as Triton hands them to the framework model, after checking them against the
    config as Triton does at load."""
    assert sorted(sample.inputs) == sorted(i.name for i in config.input)
    feeds = {}
    for tensor in config.input:
        given = sample.inputs[tensor.name]
        assert given.data_type == tensor.data_type and given.zero_data, tensor.name
        assert fits(list(given.dims), list(tensor.dims)), tensor.name
        array = np.zeros((sample.batch_size, *given.dims), dtype=numpy_type(tensor))
        feeds[tensor.name] = array.reshape(sample.batch_size, *model_shape(tensor))
    return feeds


def sequence_length(config, sample) -> int:
    """The sample's tokens (text stage) or frames (decoder stage)."""
    name = "token_ids" if config.name == "kokoro_text" else "text_frames"
    return sample.inputs[name].dims[-1]


@pytest.mark.parametrize("stage", GPU_STAGES)
def test_gpu_stage_warms_up_its_engines_for_every_pass(stage):
    """TensorRT builds for the shapes it has seen: the warmup spans the shortest and the longest pass."""
    config = parse(ROOT / "model_repository_gpu" / stage / "config.pbtxt")
    orchestrator = parse(ROOT / "model_repository_gpu" / "kokoro" / "config.pbtxt")
    max_items = int(orchestrator.parameters["max_items_per_pass"].string_value)
    shortest, longest = config.model_warmup
    assert (shortest.name, shortest.batch_size) == ("shortest", 1)
    assert (longest.name, longest.batch_size) == ("longest", max_items)
    assert max_items <= config.max_batch_size
    longest_tokens = MAX_PHONEMES + 2
    bounds = (3, longest_tokens) if stage == "kokoro_text" else (3, longest_tokens * FRAMES_PER_TOKEN)
    assert (sequence_length(config, shortest), sequence_length(config, longest)) == bounds
    for sample in config.model_warmup:
        warmup_feeds(config, sample)
    [tensorrt] = config.optimization.execution_accelerators.gpu_execution_accelerator
    assert tensorrt.name == "tensorrt" and tensorrt.parameters["precision_mode"] == "FP16"
    assert tensorrt.parameters["trt_engine_cache_enable"] == "1" and tensorrt.parameters["trt_engine_cache_path"]


@pytest.mark.parametrize("stage", GPU_STAGES)
def test_gpu_stage_graph_runs_the_shortest_warmup_into_the_declared_outputs(tiny_gpu_repository, stage):
    """The longest sample would take minutes on a CPU; its inputs differ from the shortest only in lengths."""
    config = parse(tiny_gpu_repository / stage / "config.pbtxt")
    session = onnxruntime.InferenceSession(str(tiny_gpu_repository / stage / "1" / "model.onnx"),
                                           providers=["CPUExecutionProvider"])
    shortest = config.model_warmup[0]
    names = [o.name for o in config.output]
    for tensor, array in zip(config.output, session.run(names, warmup_feeds(config, shortest)), strict=True):
        assert array.dtype == numpy_type(tensor), tensor.name
        assert array.shape[0] == shortest.batch_size and fits(list(array.shape[1:]), model_shape(tensor)), tensor.name
