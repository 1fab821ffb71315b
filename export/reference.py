"""The reference: upstream `KModel.forward_with_tokens`, one utterance at a time, made repeatable.

Upstream draws its source noise with `torch.randn_like` on every call; here that noise comes from the
same table and seed the exported graph uses. Upstream also draws a random initial phase with
`torch.rand`, which provably has no effect (the phase is decimated at samples that never include the
first one) and is left alone.

One more value is pinned: the angle of the first STFT frame of the harmonic source. That frame is
even-symmetric, so its spectrum is real and a negative bin's angle is +pi or -pi depending only on
the sign of the FFT library's rounding noise (MKL, pocketfft and cuFFT differ). Both sides take +pi.
"""
from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

import numpy as np
import torch

from export import dsp


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


def reference_speech(kmodel, phoneme_ids, style: np.ndarray, noise_table: torch.Tensor, speed: float = 1.0,
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Upstream audio and durations (pads included) for one utterance's phoneme ids."""
    token_ids = torch.tensor([[0, *phoneme_ids, 0]], dtype=torch.long)
    with torch.no_grad(), repeatable_upstream(noise_table, seed):
        audio, durations = kmodel.forward_with_tokens(token_ids, torch.from_numpy(style)[None], speed)
    return audio.numpy(), durations.reshape(-1).numpy()
