"""The batched, masked forward pass (PyTorch) against upstream KModel run on each item alone."""
import io

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from export.parity import relative_l2, sample_phonemes
from export.reference import reference_speech
from kokoro_core import batched_model, dsp
from kokoro_core.batching import KokoroBatch, Utterance


def test_exact_bilstm_matches_packed_lstm_per_item():
    torch.manual_seed(0)
    lstm = nn.LSTM(12, 8, batch_first=True, bidirectional=True)
    lengths = torch.tensor([9, 4, 1])
    x = torch.randn(3, 9, 12)
    with torch.no_grad():
        out = batched_model.ExactBiLSTM(lstm)(x, lengths)
        for b, n in enumerate(lengths.tolist()):
            alone, _ = lstm(x[b:b + 1, :n])
            torch.testing.assert_close(out[b, :n], alone[0], rtol=1e-5, atol=1e-6)
            assert torch.all(out[b, n:] == 0)


@pytest.fixture(params=[False, True], ids=["onnx-runtime", "inductor"])
def statistics_for(request, monkeypatch):
    """Both formulations of `masked_mean_var`: matrix-vector products (traced for ONNX Runtime) and fused
    reductions (traced by torch.export for Inductor)."""
    monkeypatch.setattr(torch.compiler, "is_compiling", lambda: request.param)


def test_masked_adain_uses_valid_frames_only(tiny_kmodel, statistics_for):
    adain = tiny_kmodel.decoder.encode.norm1
    torch.manual_seed(0)
    lengths = torch.tensor([30, 11])
    x = torch.randn(2, adain.norm.num_features, 30) * 3 + 1
    style = torch.randn(2, 128)
    with torch.no_grad():
        out = batched_model.masked_adain(adain, x, style, batched_model.length_mask(lengths, 30), lengths)
        for b, n in enumerate(lengths.tolist()):
            torch.testing.assert_close(out[b, :, :n], adain(x[b:b + 1, :, :n], style[b:b + 1])[0], rtol=1e-4, atol=1e-5)


def test_statistics_are_traced_for_their_compiler():
    """Matrix-vector products in the ONNX graph, reductions Inductor can fuse in the exported program."""
    class Statistics(nn.Module):
        def forward(self, x, lengths):
            return batched_model.masked_mean_var(x, batched_model.length_mask(lengths, x.shape[2]), lengths)

    example = (torch.randn(1, 4, 20), torch.tensor([15]))
    graph = io.BytesIO()
    torch.onnx.export(Statistics(), example, graph, dynamo=False, opset_version=20)
    assert "MatMul" in {node.op_type for node in onnx.load_from_string(graph.getvalue()).graph.node}
    program = torch.export.export(Statistics(), example, strict=True)
    targets = {node.target for node in program.graph.nodes}
    assert torch.ops.aten.sum.dim_IntList in targets and not {torch.ops.aten.bmm.default,
                                                              torch.ops.aten.matmul.default} & targets


def test_masked_adain_snake_is_upstream_adain_then_snake(tiny_kmodel, statistics_for):
    block = tiny_kmodel.decoder.generator.resblocks[0]
    adain, alpha = block.adain1[0], block.alpha1[0]
    torch.manual_seed(1)
    lengths = torch.tensor([40, 17])
    x = torch.randn(2, adain.norm.num_features, 40) * 2 - 0.5
    style = torch.randn(2, 128)
    with torch.no_grad():
        out = batched_model.masked_adain_snake(adain, alpha, x, style, batched_model.length_mask(lengths, 40), lengths)
        for b, n in enumerate(lengths.tolist()):
            y = adain(x[b:b + 1, :, :n], style[b:b + 1])
            snake = y + (1 / alpha) * torch.sin(alpha * y) ** 2  # upstream AdaINResBlock1's activation
            torch.testing.assert_close(out[b:b + 1, :, :n], snake, rtol=1e-4, atol=1e-5)
            assert torch.all(out[b, :, n:] == 0)


@pytest.mark.slow  # the whole tiny model, batched and alone: minutes of CPU
def test_batched_forward_matches_upstream_alone(tiny_kmodel, tiny_weights):
    """Mixed lengths in one padded batch: each item's durations equal, audio within 1e-4 (fp32)."""
    table = dsp.make_noise_table()
    text_stage = batched_model.TextStage(tiny_kmodel).eval()
    decoder_stage = batched_model.DecoderStage(tiny_kmodel, table).eval()

    def run(stage, names):
        def call(feeds):
            with torch.no_grad():
                outputs = stage(*(torch.from_numpy(feeds[n]) for n in names))
            return [o.numpy() for o in outputs]
        return call

    batch = KokoroBatch(run(text_stage, ("token_ids", "token_lengths", "style", "speed")),
                           run(decoder_stage, ("prosody_frames", "text_frames", "frame_lengths", "style", "seed")))
    voice = torch.load(tiny_weights.voices["af_heart"], weights_only=True).numpy()
    phonemes = sample_phonemes(tiny_weights.config["vocab"], (8, 37, 120), seed=3)
    requests = [Utterance(ids, voice[len(ids) - 1, 0], speed, seed)
                for seed, (ids, speed) in enumerate(zip(phonemes, (1.0, 0.8, 1.3), strict=True))]
    speeches = batch.synthesize(requests)
    for request, speech in zip(requests, speeches, strict=True):
        upstream = reference_speech(tiny_kmodel, request.token_ids.tolist(), request.style, table, request.speed,
                                    request.seed)
        assert np.array_equal(speech.durations, upstream.durations)
        assert relative_l2(speech.samples_24k, upstream.audio) <= 1e-4
