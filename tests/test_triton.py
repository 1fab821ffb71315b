"""A real tritonserver serving the exported repository, driven with tritonclient."""
import shutil

import numpy as np
import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from export.parity import relative_l2, sample_phonemes
from kokoro_core.batching import KokoroBatch, Utterance
from kokoro_core.contract import SAMPLES_PER_FRAME
from kokoro_core.stages import onnxruntime_stages
from serving.tritonserver import TritonServer, TritonStartError
from tests.helpers import free_port, infer, outputs, request_inputs


@pytest.fixture(scope="module")
def voice(tiny_repository):
    return np.load(tiny_repository / "kokoro" / "assets" / "voices" / "af_heart.npy")


@pytest.fixture(scope="module")
def vocab(tiny_weights):
    return tiny_weights.config["vocab"]


@pytest.fixture(scope="module")
def in_process(tiny_repository):
    """The same graphs and batching code, run here, to compare the server's answers with."""
    version = tiny_repository / "kokoro" / "1"
    batch = KokoroBatch(*onnxruntime_stages(version / "text_stage.onnx", version / "decoder_stage.onnx"))
    return lambda ids, style, seed: batch.synthesize([Utterance(np.asarray(ids), style, 1.0, seed)])[0]


def test_server_is_ready_with_the_model(triton):
    client = httpclient.InferenceServerClient(triton.http_url)
    assert client.is_server_ready() and client.is_model_ready("kokoro")
    metadata = client.get_model_metadata("kokoro")
    assert [i["name"] for i in metadata["inputs"]] == ["token_ids", "style", "speed", "seed"]


def test_single_request_matches_in_process_inference(triton, voice, vocab, in_process):
    client = httpclient.InferenceServerClient(triton.http_url)
    ids = sample_phonemes(vocab, (30,), seed=11)[0]
    audio, durations = infer(client, ids, voice[29, 0], seed=7)
    assert audio.dtype == np.float32 and audio.shape == (durations.sum() * SAMPLES_PER_FRAME,)
    assert durations.shape == (32,) and durations.min() >= 1
    expected = in_process(ids, voice[29, 0], 7)
    assert np.array_equal(durations, expected.durations)
    assert relative_l2(audio, expected.samples_24k) <= 1e-5


def test_seed_makes_audio_repeatable(triton, voice, vocab):
    client = httpclient.InferenceServerClient(triton.http_url)
    ids = sample_phonemes(vocab, (20,), seed=12)[0]
    first, _ = infer(client, ids, voice[19, 0], seed=3)
    again, _ = infer(client, ids, voice[19, 0], seed=3)
    other, _ = infer(client, ids, voice[19, 0], seed=4)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_speed_changes_durations(triton, voice, vocab):
    client = httpclient.InferenceServerClient(triton.http_url)
    ids = sample_phonemes(vocab, (40,), seed=13)[0]
    _, normal = infer(client, ids, voice[39, 0])
    _, fast = infer(client, ids, voice[39, 0], speed=2.0)
    assert fast.sum() < normal.sum()


BATCHING = {  # the CPU config's one-at-a-time policy -> whole batches in one pass, as on a GPU
    "  preferred_batch_size: [ 1 ]\n": "",
    "max_queue_delay_microseconds: 0": "max_queue_delay_microseconds: 20000",
    'key: "max_items_per_pass" value: { string_value: "1" }': 'key: "max_items_per_pass" value: { string_value: "16" }',
}


@pytest.fixture(scope="module")
def batching_triton(tiny_repository, tmp_path_factory):
    """The tiny repository served with batching on, so mixed lengths share one padded forward pass."""
    repository = tmp_path_factory.mktemp("batching") / "model_repository"
    shutil.copytree(tiny_repository, repository, symlinks=True)
    config = repository / "kokoro" / "config.pbtxt"
    text = config.read_text()
    for old, new in BATCHING.items():
        assert old in text, f"config.pbtxt no longer has {old!r}"
        text = text.replace(old, new)
    config.write_text(text)
    with TritonServer(repository, free_port(), free_port(), free_port(),
                      log_path=repository.parent / "tritonserver.log") as server:
        yield server


def test_concurrent_mixed_lengths_are_batched_and_exact(batching_triton, voice, vocab, in_process):
    """Concurrent requests of different lengths share forward passes; each gets its own audio."""
    client = httpclient.InferenceServerClient(batching_triton.http_url, concurrency=8)
    lengths = (5, 17, 33, 64, 90, 120)
    phonemes = sample_phonemes(vocab, lengths, seed=14)
    before = client.get_inference_statistics("kokoro")["model_stats"][0]
    pending = [client.async_infer("kokoro", request_inputs(phonemes[i], voice[n - 1, 0], seed=i))
               for i, n in enumerate(lengths)]
    results = [outputs(p.get_result()) for p in pending]
    after = client.get_inference_statistics("kokoro")["model_stats"][0]
    inferences = after["inference_count"] - before["inference_count"]
    executions = after["execution_count"] - before["execution_count"]
    assert inferences == len(lengths)
    assert executions < inferences, f"{inferences} requests ran in {executions} batches: none were joined"
    for i, (audio, durations) in enumerate(results):
        expected = in_process(phonemes[i], voice[lengths[i] - 1, 0], i)
        assert np.array_equal(durations, expected.durations)
        assert relative_l2(audio, expected.samples_24k) <= 1e-4


@pytest.mark.parametrize("token_ids, style, speed, message", [
    (np.ones(511, dtype=np.int64), None, None, "1 to 510 phoneme ids"),
    (np.array([1, 2, 100000]), None, None, "token_ids must lie in"),
    (np.array([1, 2, 3]), np.full(256, np.nan, dtype=np.float32), None, "256 finite floats"),
    (np.array([1, 2, 3]), None, 0.0, "speed must lie in"),
])
def test_bad_requests_get_clear_errors_and_the_server_stays_up(triton, voice, token_ids, style, speed, message):
    client = httpclient.InferenceServerClient(triton.http_url)
    with pytest.raises(InferenceServerException, match=message):
        infer(client, token_ids, voice[0, 0] if style is None else style, speed=speed)
    audio, _ = infer(client, [5, 6, 7], voice[2, 0])
    assert audio.size > 0


def test_a_model_that_cannot_load_fails_loudly_with_the_reason(tiny_repository, tmp_path):
    broken = tmp_path / "model_repository"
    shutil.copytree(tiny_repository, broken, ignore=shutil.ignore_patterns("decoder_stage.onnx"))
    server = TritonServer(broken, free_port(), free_port(), free_port(), log_path=tmp_path / "triton.log")
    with pytest.raises(TritonStartError, match=r"decoder_stage\.onnx"):
        server.start(timeout=120)
    server.stop()
