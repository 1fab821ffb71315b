"""Kokoro's forward pass over a padded batch, exact for every item.

Upstream `KModel.forward_with_tokens` handles one sequence at a time. These modules run the same
weights (the upstream submodules are reused, not copied) over a batch padded to its longest item and
mask everything padding would otherwise change:

- attention: ALBERT gets the padding mask;
- recurrences: each bidirectional LSTM runs as two unidirectional ones, the backward one over every
  sequence reversed within its own length (`ExactBiLSTM`);
- statistics: AdaIN's instance norm takes mean and variance over each item's valid frames only;
- sequence ends: every convolution's input is zeroed past the item's end, which is what the
  convolution's zero padding shows the item when it runs alone;
- the harmonic source, STFT and iSTFT work per item length (see `dsp.py`).

The pass is split at the duration step, as it is served: `TextStage` (tokens -> durations and
token features) and `DecoderStage` (frame features -> audio). The alignment between them (each token's
features repeated for its duration) is a gather done by the serving model (`kokoro_core.batching`).
"""
from __future__ import annotations

import contextlib
import importlib.util
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from kokoro_core import dsp
from kokoro_core.contract import SAMPLES_PER_FRAME, UPSTREAM_REPO


def kmodel_class() -> type:
    """Upstream's `KModel`, imported without running `kokoro/__init__.py`, which also imports upstream's text
    pipeline (misaki, spaCy, espeak-ng): the network needs none of it, and a bare GPU machine has none of it."""
    if "kokoro" not in sys.modules:
        sys.modules["kokoro"] = importlib.util.module_from_spec(importlib.util.find_spec("kokoro"))
        from loguru import logger

        logger.disable("kokoro")  # as kokoro/__init__.py does
    from kokoro.model import KModel

    return KModel


def load_kmodel(config: dict, checkpoint: Path | None) -> nn.Module:
    """Upstream `KModel` (complex STFT, as trained) with an upstream-format checkpoint, loaded as upstream loads
    it; None: as initialised, without the hub."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        if checkpoint is None:
            checkpoint = Path(scratch) / "empty.pth"
            torch.save({}, checkpoint)
        return kmodel_class()(repo_id=UPSTREAM_REPO, config=config, model=str(checkpoint),
                              disable_complex=False).eval()


def fold_weight_norm(kmodel: nn.Module) -> nn.Module:
    """Fold weight norm into plain weights, in place, so that no pass recomputes them."""
    for module in kmodel.modules():
        with contextlib.suppress(ValueError):  # a module without weight norm
            torch.nn.utils.remove_weight_norm(module)
    return kmodel


def length_mask(lengths: torch.Tensor, size: int) -> torch.Tensor:
    """[B, 1, size] float mask, 1 on each item's first `lengths[b]` steps."""
    steps = torch.arange(size, device=lengths.device)
    return (steps[None, :] < lengths[:, None]).unsqueeze(1).float()


class ExactBiLSTM(nn.Module):
    """A bidirectional single-layer LSTM over padded sequences, exact for each item.

    The backward direction must start at each item's own last step, so it runs forward over the
    sequence reversed within its length. Outputs past the end are zero, like `pad_packed_sequence`.
    """

    def __init__(self, lstm: nn.LSTM):
        super().__init__()
        assert lstm.bidirectional and lstm.num_layers == 1 and lstm.batch_first
        self.forward_lstm = self._direction(lstm, "")
        self.backward_lstm = self._direction(lstm, "_reverse")

    @staticmethod
    def _direction(lstm: nn.LSTM, suffix: str) -> nn.LSTM:
        single = nn.LSTM(lstm.input_size, lstm.hidden_size, 1, batch_first=True)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(single, f"{name}_l0").data.copy_(getattr(lstm, f"{name}_l0{suffix}").data)
        return single

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x: [B, T, C] -> [B, T, 2H]."""
        steps = torch.arange(x.shape[1], device=x.device)[None, :]
        inside = steps < lengths[:, None]
        reverse = torch.where(inside, lengths[:, None] - 1 - steps, steps)
        gather = reverse[:, :, None]
        forward_out, _ = self.forward_lstm(x)
        reversed_in = torch.gather(x, 1, gather.expand(-1, -1, x.shape[2]))
        backward_out, _ = self.backward_lstm(reversed_in)
        backward_out = torch.gather(backward_out, 1, gather.expand(-1, -1, backward_out.shape[2]))
        return torch.cat([forward_out, backward_out], dim=-1) * inside[:, :, None].float()


def masked_mean_var(x: torch.Tensor, mask: torch.Tensor,
                    lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and (biased) variance of x [B, C, T] over each item's valid frames, [B, C, 1] each.

    Written for the compiler that runs it. ONNX Runtime runs one operator at a time, so the masked sums
    are matrix-vector products there. Inductor (torch.export, the int8 vocoder) fuses element-wise work
    into its reductions, so there both sums come from one pass that reads x and writes nothing: 1.12x the
    int8 vocoder (bench/NOTES.md, change 15). They are sums of deviations from each channel's first frame
    (always valid), not of x, so that the variance does not cancel when the mean is far from zero."""
    count = lengths.float()[:, None, None]
    if torch.compiler.is_compiling():
        first = x[:, :, :1]
        deviation = (x - first) * mask
        offset = deviation.sum(-1, keepdim=True) / count
        return first + offset, (deviation * deviation).sum(-1, keepdim=True) / count - offset * offset
    valid = mask[:, 0, :, None]  # [B, T, 1]
    mean = torch.matmul(x, valid) / count
    centered = x - mean
    return mean, torch.matmul(centered * centered, valid) / count


def adain_gain_shift(adain: nn.Module, x: torch.Tensor, style: torch.Tensor, mask: torch.Tensor,
                     lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Upstream `AdaIN1d` as a per-channel gain and shift of x, [B, C, 1] each, with the instance-norm
    statistics taken over valid frames only. The affine steps are folded into these small tensors, so
    that the full-length work is the statistics and one multiply-add."""
    gamma, beta = torch.chunk(adain.fc(style)[:, :, None], chunks=2, dim=1)
    mean, var = masked_mean_var(x, mask, lengths)
    gain = (1 + gamma) * adain.norm.weight[None, :, None] * torch.rsqrt(var + adain.norm.eps)
    shift = (1 + gamma) * adain.norm.bias[None, :, None] + beta - mean * gain
    return gain, shift


def masked_adain(adain: nn.Module, x: torch.Tensor, style: torch.Tensor, mask: torch.Tensor,
                 lengths: torch.Tensor) -> torch.Tensor:
    """Upstream `AdaIN1d` with the instance-norm statistics taken over valid frames only."""
    gain, shift = adain_gain_shift(adain, x, style, mask, lengths)
    return x * gain + shift


def masked_adain_snake(adain: nn.Module, alpha: torch.Tensor, x: torch.Tensor, style: torch.Tensor,
                       mask: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Upstream `AdaIN1d` then Snake, y + sin(alpha y)^2 / alpha, zeroed past each item's end.
    Written as (t + sin(t)^2) / alpha with t = alpha y, alpha folded into the AdaIN gain and shift, and
    the mask applied to t (sin(0) = 0): eleven full-length passes with the statistics, instead of
    seventeen."""
    gain, shift = adain_gain_shift(adain, x, style, mask, lengths)
    t = (x * (alpha * gain) + alpha * shift) * mask
    sin_t = torch.sin(t)
    return (t + sin_t * sin_t) / alpha


def adain_res_block(block: nn.Module, x: torch.Tensor, style: torch.Tensor,
                    lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Upstream `AdainResBlk1d`, masked. Returns the output and its lengths (doubled by upsampling)."""
    upsamples = block.upsample_type != "none"
    out_lengths = lengths * 2 if upsamples else lengths
    mask_in = length_mask(lengths, x.shape[2])
    mask_out = length_mask(out_lengths, x.shape[2] * 2 if upsamples else x.shape[2])
    h = block.actv(masked_adain(block.norm1, x, style, mask_in, lengths))
    if upsamples:
        h = block.pool(h * mask_in)
    h = block.conv1(h * mask_out)
    h = block.actv(masked_adain(block.norm2, h, style, mask_out, out_lengths))
    h = block.conv2(h * mask_out)
    shortcut = block._shortcut(x)
    return (h + shortcut) * torch.rsqrt(torch.tensor(2.0)), out_lengths


def adain_res_block1(block: nn.Module, x: torch.Tensor, style: torch.Tensor,
                     lengths: torch.Tensor) -> torch.Tensor:
    """Upstream `AdaINResBlock1` (Snake activations, dilated convolutions), masked."""
    mask = length_mask(lengths, x.shape[2])
    for c1, c2, n1, n2, a1, a2 in zip(block.convs1, block.convs2, block.adain1, block.adain2,
                                      block.alpha1, block.alpha2, strict=True):
        xt = c1(masked_adain_snake(n1, a1, x, style, mask, lengths))
        xt = c2(masked_adain_snake(n2, a2, xt, style, mask, lengths))
        x = xt + x
    return x


class TextStage(nn.Module):
    """Tokens -> durations (frames per token) and the token features the decoder stage expands.

    Inputs: token_ids [B, T] (each item framed by the pad id 0, then padded), token_lengths [B],
    style [B, 256], speed [B]. Outputs: durations [B, T] int64 (0 past each item's end),
    prosody_features [B, T, 640], text_features [B, 512, T].
    """

    def __init__(self, kmodel: nn.Module):
        super().__init__()
        self.bert = kmodel.bert
        self.bert_encoder = kmodel.bert_encoder
        self.predictor = kmodel.predictor
        self.text_encoder = kmodel.text_encoder
        self.duration_lstms = nn.ModuleList(
            ExactBiLSTM(block) for block in self.predictor.text_encoder.lstms if isinstance(block, nn.LSTM))
        self.predictor_lstm = ExactBiLSTM(self.predictor.lstm)
        self.text_lstm = ExactBiLSTM(self.text_encoder.lstm)

    def forward(self, token_ids, token_lengths, style, speed):
        mask = length_mask(token_lengths, token_ids.shape[1])  # [B, 1, T]
        bert_out = self.bert(token_ids, attention_mask=mask[:, 0].long())
        d_en = self.bert_encoder(bert_out).transpose(-1, -2)
        prosody_style = style[:, 128:]
        prosody_features = self._duration_encoder(d_en, prosody_style, token_lengths, mask)
        x = self.predictor_lstm(prosody_features, token_lengths)
        duration = torch.sigmoid(self.predictor.duration_proj(x)).sum(dim=-1) / speed[:, None]
        durations = torch.round(duration).clamp(min=1).long() * mask[:, 0].long()
        text_features = self._text_encoder(token_ids, token_lengths, mask)
        return durations, prosody_features, text_features

    def _duration_encoder(self, x, style, lengths, mask):
        """Upstream `DurationEncoder`: [B, 512, T] -> [B, T, 640]."""
        style_t = style[:, :, None].expand(-1, -1, x.shape[2])
        x = torch.cat([x, style_t], dim=1) * mask
        lstms = iter(self.duration_lstms)
        for block in self.predictor.text_encoder.lstms:
            if isinstance(block, nn.LSTM):
                x = next(lstms)(x.transpose(-1, -2), lengths).transpose(-1, -2)
            else:
                x = block(x.transpose(-1, -2), style).transpose(-1, -2)
                x = torch.cat([x, style_t], dim=1) * mask
        return x.transpose(-1, -2)

    def _text_encoder(self, token_ids, lengths, mask):
        """Upstream `TextEncoder`: [B, T] -> [B, 512, T]."""
        x = self.text_encoder.embedding(token_ids).transpose(1, 2) * mask
        for conv_block in self.text_encoder.cnn:
            x = conv_block(x) * mask
        x = self.text_lstm(x.transpose(1, 2), lengths)
        return x.transpose(1, 2)


class DecoderStage(nn.Module):
    """Frame features -> audio at 24 kHz.

    Inputs: prosody_frames [B, 640, F], text_frames [B, 512, F], frame_lengths [B], style [B, 256],
    seed [B] (selects the source noise). Outputs: audio [B, 600 * F] float32 (zero past each item's
    end) and audio_lengths [B] = 600 * frame_lengths.
    """

    def __init__(self, kmodel: nn.Module, noise_table: torch.Tensor):
        super().__init__()
        self.predictor = kmodel.predictor
        self.decoder = kmodel.decoder
        self.generator = kmodel.decoder.generator
        self.shared_lstm = ExactBiLSTM(self.predictor.shared)
        self.register_buffer("noise_table", noise_table)
        self.stft = dsp.Stft(self.generator.post_n_fft, self.generator.stft.hop_length)

    def forward(self, prosody_frames, text_frames, frame_lengths, style, seed):
        f0_curve, noise_curve = self.curves(prosody_frames, frame_lengths, style)
        return self.vocode(text_frames, f0_curve, noise_curve, frame_lengths, style, seed)

    def curves(self, prosody_frames, frame_lengths, style):
        """The frame-rate half: F0 and energy curves [B, 2F] (zero past each item's end)."""
        f0_curve, noise_curve, _ = self._f0_and_noise(prosody_frames, style[:, 128:], frame_lengths)
        return f0_curve, noise_curve

    def vocode(self, text_frames, f0_curve, noise_curve, frame_lengths, style, seed):
        """The audio-rate half: text frames and curves -> audio, audio_lengths."""
        decoder_style, curve_lengths = style[:, :128], frame_lengths * 2
        x = self._decode(text_frames, f0_curve, noise_curve, decoder_style, frame_lengths, curve_lengths)
        audio = self._generate(x, decoder_style, f0_curve, curve_lengths, seed)
        return audio, frame_lengths * SAMPLES_PER_FRAME

    def _f0_and_noise(self, prosody_frames, style, lengths):
        """Upstream `ProsodyPredictor.F0Ntrain`: curves at twice the frame rate."""
        shared = self.shared_lstm(prosody_frames.transpose(-1, -2), lengths).transpose(-1, -2)
        curves = []
        for blocks, proj in ((self.predictor.F0, self.predictor.F0_proj),
                             (self.predictor.N, self.predictor.N_proj)):
            x, x_lengths = shared, lengths
            for block in blocks:
                x, x_lengths = adain_res_block(block, x, style, x_lengths)
            curves.append(proj(x)[:, 0] * length_mask(x_lengths, x.shape[2])[:, 0])
        return curves[0], curves[1], x_lengths

    def _decode(self, asr, f0_curve, noise_curve, style, lengths, curve_lengths):
        """Upstream `Decoder.forward` up to the generator: [B, 512, 2F]."""
        dec = self.decoder
        f0 = dec.F0_conv(f0_curve[:, None])
        noise = dec.N_conv(noise_curve[:, None])
        x = torch.cat([asr, f0, noise], dim=1)
        x, _ = adain_res_block(dec.encode, x, style, lengths)
        asr_res = dec.asr_res(asr)
        residual, x_lengths = True, lengths
        for block in dec.decode:
            if residual:
                x = torch.cat([x, asr_res, f0, noise], dim=1)
            x, x_lengths = adain_res_block(block, x, style, x_lengths)
            residual = block.upsample_type == "none"
        return x

    def _generate(self, x, style, f0_curve, curve_lengths, seed):
        """Upstream `Generator.forward` with a per-item harmonic source, STFT and iSTFT."""
        gen = self.generator
        source = gen.m_source
        upsample = int(gen.f0_upsamp.scale_factor)
        sample_lengths = curve_lengths * upsample
        noise = dsp.table_noise(self.noise_table, seed, f0_curve.shape[1] * upsample)
        har_source = dsp.harmonic_source(
            f0_curve, curve_lengths, upsample, noise, source.l_sin_gen, source.l_linear)
        har_spec, har_phase, frame_lengths = self.stft.transform(har_source, sample_lengths)
        har = torch.cat([har_spec, har_phase], dim=1) * length_mask(frame_lengths, har_spec.shape[2])
        x_lengths = curve_lengths
        for i in range(gen.num_upsamples):
            x = F.leaky_relu(x, negative_slope=0.1)
            x = gen.ups[i](x * length_mask(x_lengths, x.shape[2]))
            x_lengths = x_lengths * gen.ups[i].stride[0]
            if i == gen.num_upsamples - 1:
                x = gen.reflection_pad(x)
                x_lengths = x_lengths + 1
            x_source = adain_res_block1(gen.noise_res[i], gen.noise_convs[i](har), style, x_lengths)
            x = x + x_source
            xs = None
            for j in range(gen.num_kernels):
                out = adain_res_block1(gen.resblocks[i * gen.num_kernels + j], x, style, x_lengths)
                xs = out if xs is None else xs + out
            x = xs / gen.num_kernels
        x = F.leaky_relu(x)
        x = gen.conv_post(x * length_mask(x_lengths, x.shape[2]))
        bins = gen.post_n_fft // 2 + 1
        spec = torch.exp(x[:, :bins, :])
        phase = torch.sin(x[:, bins:, :])
        return self.stft.inverse(spec, phase, x_lengths)


class CurvesStage(nn.Module):
    """`DecoderStage.curves` as a graph of its own (the int8 CPU decoder runs the halves apart)."""

    def __init__(self, decoder_stage: DecoderStage):
        super().__init__()
        self.decoder_stage = decoder_stage

    def forward(self, prosody_frames, frame_lengths, style):
        return self.decoder_stage.curves(prosody_frames, frame_lengths, style)


class VocoderStage(nn.Module):
    """`DecoderStage.vocode` as a program of its own."""

    def __init__(self, decoder_stage: DecoderStage):
        super().__init__()
        self.decoder_stage = decoder_stage

    def forward(self, text_frames, f0_curve, noise_curve, frame_lengths, style, seed):
        return self.decoder_stage.vocode(text_frames, f0_curve, noise_curve, frame_lengths, style, seed)
