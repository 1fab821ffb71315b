"""int8 decoder for the CPU target: static quantization of the generator's audio-rate convolutions, and
its fidelity against the fp32 graph as a signal-to-noise ratio.

Only the layers that run at audio rate (the iSTFTNet generator's residual blocks, upsampling, noise and
output convolutions) are quantized: they carry most of the arithmetic, and int8 runs them on AVX512-VNNI /
AMX about three times faster. The F0 and energy predictors and the harmonic source stay fp32: the source's
phase integrates F0 over the whole utterance, so a small error there would shift every later sample.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger("export")

AUDIO_RATE_CONVS = re.compile(r"^/(convs[12]\.|ups\.|noise_convs\.|conv_post/)")
CALIBRATION_LENGTHS = (16, 64, 160)  # phonemes; each utterance calibrated alone, as the CPU target runs
MIN_SNR_DB = 20.0


class QuantizationError(AssertionError):
    pass


def audio_rate_convs(graph: Path) -> list[str]:
    import onnx

    model = onnx.load(str(graph), load_external_data=False)
    return [node.name for node in model.graph.node
            if node.op_type in ("Conv", "ConvTranspose") and AUDIO_RATE_CONVS.match(node.name)]


def quantize_decoder(fp32_graph: Path, int8_graph: Path, calibration_feeds: Sequence[dict]) -> list[str]:
    """Write the int8 decoder next to the fp32 one; the names of the quantized nodes."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Feeds(CalibrationDataReader):
        def __init__(self):
            self.remaining = iter(calibration_feeds)

        def get_next(self):
            return next(self.remaining, None)

    nodes = audio_rate_convs(fp32_graph)
    if not nodes:
        raise QuantizationError(f"{fp32_graph} has no generator convolutions to quantize")
    log.info("quantizing %d audio-rate convolutions to int8 (calibrated on %d utterances)", len(nodes),
             len(calibration_feeds))
    quantize_static(str(fp32_graph), str(int8_graph), Feeds(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                    op_types_to_quantize=["Conv", "ConvTranspose"], nodes_to_quantize=nodes)
    return nodes


def snr_db(reference: np.ndarray, actual: np.ndarray) -> float:
    """10 log10(signal energy / error energy); infinite when identical, -inf for a length mismatch."""
    if reference.shape != actual.shape:
        return float("-inf")
    reference = reference.astype(np.float64)
    error = float(np.sum((reference - actual) ** 2))
    signal = float(np.sum(reference ** 2))
    return float("inf") if error == 0 else 10 * np.log10(max(signal, 1e-30) / error)


def fidelity(fp32_speeches, int8_speeches) -> list[dict]:
    """Each utterance's SNR of the int8 audio against the fp32 audio; raises below MIN_SNR_DB."""
    report = [{"phonemes": len(ref.durations) - 2, "snr_db": round(snr_db(ref.samples_24k, got.samples_24k), 2)}
              for ref, got in zip(fp32_speeches, int8_speeches)]
    for item in report:
        log.info("  %3d phonemes: int8 SNR %.1f dB against fp32", item["phonemes"], item["snr_db"])
    worst = min(item["snr_db"] for item in report)
    if worst < MIN_SNR_DB:
        raise QuantizationError(f"int8 decoder too far from fp32: SNR {worst:.1f} dB < {MIN_SNR_DB} dB ({report})")
    return report
