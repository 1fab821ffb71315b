"""The export-friendly signal processing against the PyTorch operations upstream Kokoro runs."""
import math

import numpy as np
import pytest
import torch
from kokoro.istftnet import SourceModuleHnNSF

from export.reference import repeatable_upstream
from kokoro_core import dsp

N_FFT, HOP = 20, 5


def torch_stft(signal):
    spectrum = torch.stft(signal, N_FFT, HOP, N_FFT, window=torch.hann_window(N_FFT), return_complex=True)
    return spectrum


def test_stft_matches_torch_per_item_length():
    generator = torch.Generator().manual_seed(0)
    lengths = torch.tensor([3000, 1205, 640])
    signal = torch.rand(3, 3000, generator=generator) * 2 - 1
    magnitude, angle, frames = dsp.Stft(N_FFT, HOP).transform(signal, lengths)
    for b, length in enumerate(lengths.tolist()):
        expected = torch_stft(signal[b:b + 1, :length])[0]
        n = frames[b].item()
        assert n == expected.shape[1]
        torch.testing.assert_close(magnitude[b, :, :n], expected.abs(), rtol=1e-5, atol=1e-5)
        # Angles are compared where they are defined to rounding: not on near-empty bins, and not on
        # the first frame, whose spectrum is real (the FFT's rounding decides +pi or -pi there).
        strong = expected.abs() > 1e-3
        strong[:, 0] = False
        wrapped = torch.remainder(angle[b, :, :n] - expected.angle() + math.pi, 2 * math.pi) - math.pi
        assert wrapped[strong].abs().max() < 1e-4
        first = expected[:, 0]
        assert torch.allclose(first.imag, torch.zeros_like(first.imag), atol=1e-5)
        assert torch.equal(angle[b, :, 0], torch.where(first.real < 0, math.pi, 0.0).float())


def test_istft_matches_torch_per_item_length():
    generator = torch.Generator().manual_seed(1)
    frames = torch.tensor([400, 233, 1])
    magnitude = torch.rand(3, N_FFT // 2 + 1, 400, generator=generator)
    phase = torch.rand(3, N_FFT // 2 + 1, 400, generator=generator) * 6 - 3
    audio = dsp.Stft(N_FFT, HOP).inverse(magnitude, phase, frames)
    assert audio.shape == (3, HOP * 399)
    for b, n in enumerate(frames.tolist()):
        if n == 1:
            assert torch.all(audio[b] == 0)  # nothing past this item's (empty) end
            continue
        expected = torch.istft(magnitude[b:b + 1, :, :n] * torch.exp(phase[b:b + 1, :, :n] * 1j), N_FFT, HOP, N_FFT,
                               window=torch.hann_window(N_FFT))[0]
        torch.testing.assert_close(audio[b, :expected.shape[0]], expected, rtol=1e-5, atol=1e-6)
        assert torch.all(audio[b, expected.shape[0]:] == 0)


def test_atan2_matches_torch_including_axes():
    values = torch.tensor([-2.0, -1e-30, -0.0, 0.0, 1e-30, 3.0])
    y, x = torch.meshgrid(values, values, indexing="ij")
    expected = torch.atan2(y, x)
    expected = torch.where((y == 0) & (x < 0), math.pi, expected)  # +pi on the negative axis, either zero
    expected = torch.where((y == 0) & (x == 0), 0.0, expected)  # an empty bin's angle is 0, as torch.angle(0j)
    torch.testing.assert_close(dsp.atan2(y, x), expected)


@pytest.mark.parametrize("f0_hz", [(100, 250), (0, 0)])
def test_harmonic_source_matches_upstream(f0_hz):
    """Voiced pitch: the phase is a long float32 accumulation; matching it needs upstream's exact
    rounding (float64 cumsum, fused multiply-adds), which this checks to 1e-6 over 12 s."""
    source = SourceModuleHnNSF(24000, 300, harmonic_num=8, voiced_threshod=10)
    torch.manual_seed(0)
    lengths = torch.tensor([1000, 420])
    t = torch.arange(1000, dtype=torch.float32)
    low, high = f0_hz
    curve = (low + (high - low) * (0.5 + 0.5 * torch.sin(t / 37.0)))[None].repeat(2, 1)
    curve[1, 420:] = 0
    table = dsp.make_noise_table()
    seeds = torch.tensor([5, 9])
    noise = dsp.table_noise(table, seeds, 1000 * 300)
    with torch.no_grad():
        ours = dsp.harmonic_source(curve, lengths, 300, noise, source.l_sin_gen, source.l_linear)
        for b, n in enumerate(lengths.tolist()):
            with repeatable_upstream(table, int(seeds[b])):
                upstream, _, _ = source(torch.repeat_interleave(curve[b:b + 1, :n], 300, dim=1)[:, :, None])
            expected = upstream[0, :, 0]
            error = (ours[b, :n * 300] - expected).norm() / expected.norm()
            assert error < 1e-6, error


def test_noise_table_is_deterministic_and_seeded():
    table = dsp.make_noise_table()
    assert torch.equal(table, dsp.make_noise_table())
    a, b = dsp.table_noise(table, torch.tensor([1, 2]), 5000)
    assert not torch.equal(a, b)
    np.testing.assert_allclose(float(table.std()), 1.0, atol=0.01)
