"""The torch runner (`python -m export --runner torch`): the batched modules in PyTorch from the checkpoint, proven
against upstream KModel link by link in process, and served by a real Triton whose batches of mixed lengths give
each item upstream's own audio."""
import asyncio
import json
import time

import numpy as np
import pytest
import tritonclient.http as httpclient
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from bench import load
from export import checkpoint, fidelity, parity, quantize, repository
from export.pipeline import main as export_main
from export.pipeline import parse_args
from export.reference import reference_speech
from kokoro_core import dsp
from kokoro_core.batching import KokoroBatch, pad_tokens
from kokoro_core.contract import ASSETS, CHECKPOINT, MAX_PHONEMES, SAMPLE_RATE
from kokoro_core.torch_stages import BUCKET_GROWTH, TorchStages, bucket
from serving.tritonserver import TritonServer
from tests.helpers import ROOT, free_port, outputs, request_inputs

LENGTHS = (4, 7, 11, 16, 24, 30)  # phonemes: neighbours and far ones (passes within pass_length_growth)


@pytest.fixture(scope="module")
def torch_repository(tmp_path_factory):
    output = tmp_path_factory.mktemp("torch") / "model_repository"
    assert export_main(["--synthetic", "--tiny", "--runner", "torch", "--output", str(output),
                        "--parity-lengths", "8,24"]) == 0
    return output


@pytest.fixture(scope="module")
def voiced_assets(tmp_path_factory, tiny_voiced_weights):
    """A torch-runner repository's assets for the voiced checkpoint, written as the export writes them."""
    output = tmp_path_factory.mktemp("torch-voiced")
    repository.write_assets(output, tiny_voiced_weights)
    repository.write_checkpoint(output, tiny_voiced_weights)
    return output / ASSETS


def test_the_export_writes_the_checkpoint_and_proves_each_link(torch_repository, tiny_weights):
    assets = torch_repository / ASSETS
    assert (assets / CHECKPOINT).read_bytes() == tiny_weights.checkpoint.read_bytes()
    assert not list(torch_repository.rglob("*.onnx"))
    config = (torch_repository / "kokoro" / "config.pbtxt").read_text()
    assert 'key: "runner" value: { string_value: "torch" }' in config
    assert (torch_repository / "kokoro" / "1" / "model.py").is_file()
    provenance = json.loads((assets / "provenance.json").read_text())
    assert provenance["export_options"]["runner"] == "torch"
    assert provenance["export_options"]["precision"] == "fp32"
    for item in provenance["parity"]:
        assert item["durations_equal"], item
        links = (item["relative_l2"], item["f0_relative_l2"], item["harmonic_relative_l2"])
        assert max(links) <= parity.MAX_RELATIVE_L2, item


@pytest.mark.slow  # the voiced tiny model in process: minutes of CPU
def test_a_voiced_checkpoint_passes_every_link_in_process(voiced_assets, tiny_voiced_weights):
    """Real weights' F0 is voiced, where only the links prove the audio (tests/test_parity.py)."""
    voice_pack = checkpoint.read_voice(tiny_voiced_weights.voices["af_heart"]).numpy()
    kmodel = checkpoint.build_kmodel(tiny_voiced_weights.config, tiny_voiced_weights.checkpoint)
    results = parity.check(kmodel, parity.probed_torch_stages(TorchStages(voiced_assets)), voice_pack,
                           dsp.make_noise_table(), tiny_voiced_weights.config["vocab"], (8, 24))
    assert all(item.ok and item.f0_relative_l2 is not None for item in results), results


@pytest.mark.slow  # the voiced tiny model in process: minutes of CPU
def test_bf16_is_faithful_on_a_voiced_checkpoint(voiced_assets, tiny_voiced_weights):
    """bf16 for the vocoder, its signal processing and the curves in fp32: within the log-mel threshold of fp32
    (fidelity raises beyond it)."""
    voice_pack = np.load(voiced_assets / "voices" / "af_heart.npy")
    requests = parity.sample_requests(voice_pack, tiny_voiced_weights.config["vocab"], (12,))  # bf16: slow on a CPU
    fp32, bf16 = (TorchStages(voiced_assets, precision=p).batch(max_items=1).synthesize(requests)
                  for p in ("fp32", "bf16"))
    assert max(item["log_mel_db"] for item in quantize.fidelity(fp32, bf16, "bf16")) <= fidelity.THRESHOLD_DB


def test_the_export_sets_a_declared_parameter_only(tmp_path):
    output = repository.prepare(tmp_path / "model_repository", "torch")
    repository.set_parameter(output, "precision", "bf16")
    assert 'key: "precision" value: { string_value: "bf16" }' in (output / "kokoro" / "config.pbtxt").read_text()
    with pytest.raises(ValueError, match="undeclared"):
        repository.set_parameter(output, "undeclared", "1")


def bucketed_stages(assets):
    """Stages that take the CUDA-graph path's padding (items to a power of two, tokens and frames to a bucket)
    here, with the eager modules in the graphs' place."""
    stages = TorchStages(assets)
    stages.graph_max_items, stages.text_graphs, stages.decoder_graphs = 8, stages.text, stages.decode
    return stages


def test_passes_padded_to_buckets_give_each_item_its_own_audio(torch_repository, tiny_weights):
    """Padding changes no item's audio (unvoiced, so the audio alone shows it)."""
    assets = torch_repository / ASSETS
    plain, bucketed = TorchStages(assets), bucketed_stages(assets)
    voice_pack = np.load(assets / "voices" / "af_heart.npy")
    requests = parity.sample_requests(voice_pack, tiny_weights.config["vocab"], (5, 9, 14))
    for alone, padded in zip(plain.batch(max_items=1).synthesize(requests),
                             bucketed.batch(max_items=8).synthesize(requests), strict=True):
        assert np.array_equal(alone.durations, padded.durations)
        assert parity.relative_l2(padded.samples_24k, alone.samples_24k) <= 1e-5


def test_the_committed_config_runs_whole_batches_exactly():
    config = text_format.Parse((ROOT / "model_repository_torch" / "kokoro" / "config.pbtxt").read_text(),
                               model_config_pb2.ModelConfig())
    parameters = {key: value.string_value for key, value in config.parameters.items()}
    assert parameters["runner"] == "torch" and parameters["precision"] == "fp32"
    assert int(parameters["max_items_per_pass"]) == config.max_batch_size
    assert float(parameters["pass_length_growth"]) > 1
    assert 0 < int(parameters["cuda_graph_max_items"]) <= config.max_batch_size


def test_the_longest_text_pass_is_padded_within_albert_positions(torch_repository, tiny_weights):
    [ids] = parity.sample_phonemes(tiny_weights.config["vocab"], (MAX_PHONEMES,))
    token_ids, token_lengths = pad_tokens([ids])
    feeds = {"token_ids": token_ids, "token_lengths": token_lengths, "style": np.zeros((1, 256), np.float32),
             "speed": np.ones(1, np.float32)}
    plain, bucketed = (stages.text_stage(feeds) for stages in (TorchStages(torch_repository / ASSETS),
                                                                bucketed_stages(torch_repository / ASSETS)))
    assert np.array_equal(plain[0], bucketed[0])


def test_passes_hold_neighbours_within_the_length_growth():
    batch = KokoroBatch(None, None, max_items=3, length_growth=2)
    lengths = [100, 5, 21, 9, 10, 20, 11, 12]
    assert [[lengths[i] for i in group] for group in batch.passes(lengths)] == [[5, 9, 10], [11, 12, 20],
                                                                                [21], [100]]
    assert KokoroBatch(None, None, max_items=16).passes(lengths) == [sorted(range(8), key=lambda i: lengths[i])]


def test_buckets_bound_the_padding():
    sizes = [bucket(n) for n in range(1, 5000)]
    assert all(size % 8 == 0 for size in sizes) and sizes == sorted(sizes)
    assert all(n <= size <= max(16, BUCKET_GROWTH * n + 8) for n, size in enumerate(sizes, 1))
    assert len(set(sizes)) < 32


@pytest.mark.parametrize("argv, message", [
    (["--runner", "torch", "--target", "gpu"], "leave out --target"),
    (["--runner", "torch", "--precision", "int8"], "onnxruntime runner"),
    (["--precision", "bf16"], "--runner torch"),
])
def test_the_export_refuses_options_the_torch_runner_has_not(argv, message, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--synthetic", *argv])
    assert message in capsys.readouterr().err


@pytest.fixture(scope="module")
def torch_triton(torch_repository):
    """The repository as exported, its batching as committed, on a real Triton (here on the CPU)."""
    server = TritonServer(torch_repository, free_port(), free_port(), free_port(),
                          log_path=torch_repository.parent / "tritonserver.log", extra=["--exit-timeout-secs=3"])
    with server:
        yield server


def settled_statistics(client, inferences: int, timeout_s: float = 10) -> dict:
    """The model's statistics once they count `inferences`: Triton records a batch after sending its responses."""
    deadline = time.monotonic() + timeout_s
    while True:
        statistics = client.get_inference_statistics("kokoro")["model_stats"][0]
        if statistics["inference_count"] >= inferences or time.monotonic() > deadline:
            return statistics
        time.sleep(0.1)


def test_triton_batches_mixed_lengths_and_each_item_is_upstreams(torch_triton, torch_repository, tiny_weights,
                                                                  tiny_kmodel):
    voice = np.load(torch_repository / ASSETS / "voices" / "af_heart.npy")
    phonemes = parity.sample_phonemes(tiny_weights.config["vocab"], LENGTHS, seed=21)
    client = httpclient.InferenceServerClient(torch_triton.http_url, concurrency=len(LENGTHS))
    before = client.get_inference_statistics("kokoro")["model_stats"][0]
    pending = [client.async_infer("kokoro", request_inputs(ids, voice[len(ids) - 1, 0], seed=seed))
               for seed, ids in enumerate(phonemes)]
    served = [outputs(p.get_result()) for p in pending]
    after = settled_statistics(client, before["inference_count"] + len(LENGTHS))
    inferences = after["inference_count"] - before["inference_count"]
    executions = after["execution_count"] - before["execution_count"]
    assert inferences == len(LENGTHS) and executions < inferences, f"{inferences} requests in {executions} batches"
    noise_table = dsp.make_noise_table()
    for seed, (ids, (audio, durations)) in enumerate(zip(phonemes, served, strict=True)):
        upstream = reference_speech(tiny_kmodel, ids.tolist(), voice[len(ids) - 1, 0], noise_table, seed=seed)
        assert np.array_equal(durations, upstream.durations)
        assert parity.relative_l2(audio, upstream.audio) <= parity.MAX_RELATIVE_L2


def test_the_gpu_checks_load_generator_drives_triton_directly(torch_triton, torch_repository, tiny_weights):
    """bench/gpu_check.py's requests: the bench's closed loop, straight to the `kokoro` model, audio counted from
    the binary output; a refused request is an outcome with Triton's message."""
    voice = np.load(torch_repository / ASSETS / "voices" / "af_heart.npy")
    [ids] = parity.sample_phonemes(tiny_weights.config["vocab"], (7,), seed=3)
    specs = [load.TritonSpec(tuple(ids.tolist()), tuple(voice[6, 0].tolist()), 1),
             load.TritonSpec((1, 2, 100000), tuple(voice[2, 0].tolist()))]
    outcomes, wall_s = asyncio.run(load.run(f"http://{torch_triton.http_url}", specs, clients=2))
    served, refused = sorted(outcomes, key=lambda o: not o.ok)
    client = httpclient.InferenceServerClient(torch_triton.http_url)
    audio, _ = outputs(client.infer("kokoro", request_inputs(ids, voice[6, 0], seed=1)))
    assert served.ok and served.audio_s == len(audio) / SAMPLE_RATE and 0 < served.total_s <= wall_s
    assert refused.status == 400 and not refused.ok and "token_ids must lie in" in refused.error
