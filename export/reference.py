"""The reference: upstream `KModel.forward_with_tokens`, one utterance at a time, made repeatable.

Upstream draws its source noise with `torch.randn_like` on every call; here that noise comes from the
same table and seed the exported graph uses. Upstream also draws a random initial phase with
`torch.rand`, which provably has no effect (the phase is decimated at samples that never include the
first one) and is left alone.

One more value is pinned: the angle of the first STFT frame of the harmonic source. That frame is
even-symmetric, so its spectrum is real and a negative bin's angle is +pi or -pi depending only on
the sign of the FFT library's rounding noise (MKL, pocketfft and cuFFT differ). Both sides take +pi.

The run can be given two of the exported graph's inner values, which it then uses in place of its own
(see `parity.py` on why): the F0 curve, and the STFT (magnitude, angle) of the harmonic source. It
returns its own of both either way: the F0 it predicted, and the spectrum of the source it made from
the F0 it used.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

import numpy as np
import torch

from kokoro_core import dsp


@dataclass
class UpstreamSpeech:
    audio: np.ndarray  # float32 [samples]
    durations: np.ndarray  # int64 [n + 2], pads included
    f0_curve: np.ndarray  # float32 [2 * frames], as upstream predicted it
    harmonic_spectrum: np.ndarray  # float32 [n_fft + 2, stft frames]: magnitude bins, then angle bins


def _pinned_transform(self, input_data):
    spectrum = torch.stft(input_data, self.filter_length, self.hop_length, self.win_length,
                          window=self.window.to(input_data.device), return_complex=True)
    first = spectrum[:, :, 0].real
    spectrum[:, :, 0] = torch.complex(first, torch.zeros_like(first))
    return torch.abs(spectrum), torch.angle(spectrum)


@contextmanager
def repeatable_upstream(noise_table: torch.Tensor, seed: int):
    """Within the block, upstream Kokoro draws its source noise from the table at `seed`."""
    from kokoro.istftnet import TorchSTFT

    def table_randn_like(tensor, *args, **kwargs):
        if tensor.shape[-1] == dsp.HARMONICS:  # SineGen's noise
            return dsp.table_noise(noise_table, torch.tensor([seed]), tensor.shape[1]).to(tensor.dtype)
        return torch.zeros_like(tensor)  # the noise branch of SourceModuleHnNSF, which the generator drops

    with mock.patch("torch.randn_like", table_randn_like), mock.patch.object(TorchSTFT, "transform", _pinned_transform):
        yield


def _substitute(own: torch.Tensor, given: np.ndarray | None) -> torch.Tensor:
    """`given` in place of `own` where it has its shape (a different length means different durations,
    which fail the comparison anyway)."""
    if given is None or given.shape != own.shape[1:]:
        return own
    return torch.from_numpy(given)[None].to(own.dtype)


@contextmanager
def _substituted(kmodel, seen: dict, f0_curve: np.ndarray | None, harmonic_spectrum: np.ndarray | None):
    """Within the block, upstream records its F0 and source spectrum in `seen` and uses the given ones."""
    from kokoro.istftnet import TorchSTFT

    predict_curves, transform_source = kmodel.predictor.F0Ntrain, TorchSTFT.transform  # as patched around it

    def curves(*args):
        f0, energy = predict_curves(*args)
        seen["f0_curve"] = f0[0].numpy()
        return _substitute(f0, f0_curve), energy

    def transform(self, input_data):
        spectrum = torch.cat(transform_source(self, input_data), dim=1)
        seen["harmonic_spectrum"] = spectrum[0].numpy()
        return torch.chunk(_substitute(spectrum, harmonic_spectrum), 2, dim=1)

    with mock.patch.object(kmodel.predictor, "F0Ntrain", curves), mock.patch.object(TorchSTFT, "transform", transform):
        yield


def reference_speech(kmodel, phoneme_ids, style: np.ndarray, noise_table: torch.Tensor, speed: float = 1.0,
                     seed: int = 0, f0_curve: np.ndarray | None = None,
                     harmonic_spectrum: np.ndarray | None = None) -> UpstreamSpeech:
    """Upstream's speech for one utterance's phoneme ids, optionally given the F0 curve [2 * frames] and
    the harmonic source's spectrum [n_fft + 2, stft frames] to use."""
    token_ids = torch.tensor([[0, *phoneme_ids, 0]], dtype=torch.long)
    seen: dict[str, np.ndarray] = {}
    with (torch.no_grad(), repeatable_upstream(noise_table, seed),
          _substituted(kmodel, seen, f0_curve, harmonic_spectrum)):
        audio, durations = kmodel.forward_with_tokens(token_ids, torch.from_numpy(style)[None], speed)
    return UpstreamSpeech(audio.numpy(), durations.reshape(-1).numpy(), **seen)
