"""Every committed config.pbtxt parses with Triton's model-config protobuf and agrees with the graphs."""
from pathlib import Path

import onnx
import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted(ROOT.glob("model_repository*/*/config.pbtxt"))


def parse(path: Path) -> model_config_pb2.ModelConfig:
    return text_format.Parse(path.read_text(), model_config_pb2.ModelConfig())


def test_both_targets_are_committed():
    assert {p.parent.parent.name for p in CONFIGS} == {"model_repository", "model_repository_gpu"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_config_parses_and_batches(path):
    config = parse(path)
    assert config.name == path.parent.name
    assert config.max_batch_size > 0
    assert (path.parent / "1").is_dir()


@pytest.mark.parametrize("repository", ["model_repository", "model_repository_gpu"])
def test_client_facing_model_is_dynamically_batched_over_ragged_lengths(repository):
    config = parse(ROOT / repository / "kokoro" / "config.pbtxt")
    assert config.HasField("dynamic_batching")
    inputs = {i.name: i for i in config.input}
    assert inputs["token_ids"].allow_ragged_batch
    assert inputs["speed"].optional and inputs["seed"].optional
    assert [o.name for o in config.output] == ["audio", "durations"]


@pytest.mark.parametrize("stage, graph", [("kokoro_text", "kokoro/1/text_stage.onnx"),
                                          ("kokoro_decoder", "kokoro/1/decoder_stage.onnx")])
def test_gpu_stage_tensors_match_the_exported_graph(tiny_repository, stage, graph):
    config = parse(ROOT / "model_repository_gpu" / stage / "config.pbtxt")
    model = onnx.load(str(tiny_repository / graph), load_external_data=False)
    assert [i.name for i in config.input] == [i.name for i in model.graph.input]
    assert [o.name for o in config.output] == [o.name for o in model.graph.output]
