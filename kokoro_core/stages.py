"""The two stages' runtimes in this process: ONNX Runtime for the graphs, and the CPU target's int8 decoder
(F0 and energy curves with ONNX Runtime, then the AOTInductor-compiled vocoder). Each returns a `Stage`
for `KokoroBatch`; the GPU target's stages are Triton models called through BLS instead (model.py)."""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from kokoro_core.batching import Stage
from kokoro_core.contract import (
    CURVES_GRAPH,
    CURVES_OUTPUTS,
    DECODER_GRAPH,
    DECODER_OUTPUTS,
    INT8_VOCODER,
    TEXT_GRAPH,
    TEXT_OUTPUTS,
)


def onnxruntime_stage(graph: Path, outputs: Sequence[str], threads: int = 0) -> Stage:
    """One graph in this process with ONNX Runtime (CPU); threads 0 means one per core."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Quantized graphs: ORT would move QLinearConv to channels-last and pay for it in transposes and
    # slow reductions (the int8 decoder: 7.0 s -> 6.0 s for 20 s of audio); neutral for fp32.
    options.add_session_config_entry("optimization.disable_specified_optimizers", "NhwcTransformer")
    session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
    return lambda feeds: session.run(list(outputs), feeds)


def onnxruntime_stages(text_graph: Path, decoder_graph: Path, threads: int = 0) -> tuple[Stage, Stage]:
    return (onnxruntime_stage(text_graph, TEXT_OUTPUTS, threads),
            onnxruntime_stage(decoder_graph, DECODER_OUTPUTS, threads))


def cap_onednn_isa() -> None:
    """Cap oneDNN at AVX512-VNNI unless the environment says otherwise. oneDNN generates its int8
    convolution kernels per input length: for AMX that takes 2.6 s for the vocoder's convolutions, so each
    new utterance length paid it; for AVX512-VNNI 30 ms, for about 14 % slower convolutions (bench/NOTES.md,
    change 13). oneDNN reads it once, at its first use in the process."""
    os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_VNNI")


def inductor_decoder_stage(curves_graph: Path, vocoder_package: Path, threads: int = 0) -> Stage:
    """The int8 decoder: F0 and energy curves with ONNX Runtime, then the AOTInductor-compiled vocoder.
    The package is compiled for passes of one item."""
    cap_onednn_isa()
    import torch
    import torch._inductor

    if threads:
        torch.set_num_threads(threads)
    curves = onnxruntime_stage(curves_graph, CURVES_OUTPUTS, threads)
    vocoder = torch._inductor.aoti_load_package(str(vocoder_package))

    def run(feeds):
        if len(feeds["frame_lengths"]) != 1:
            raise ValueError("the int8 vocoder runs one item per pass (max_items_per_pass 1)")
        f0_curve, noise_curve = curves({name: feeds[name] for name in ("prosody_frames", "frame_lengths", "style")})
        arrays = (feeds["text_frames"], f0_curve, noise_curve, feeds["frame_lengths"], feeds["style"], feeds["seed"])
        with torch.no_grad():
            audio, audio_lengths = vocoder(*(torch.from_numpy(array) for array in arrays))
        return audio.numpy(), audio_lengths.numpy()
    return run


def cpu_stages(version_dir: Path, threads: int = 0) -> tuple[Stage, Stage]:
    """The CPU target's stages in a model version directory: the int8 decoder where the export wrote one."""
    version_dir = Path(version_dir)
    text_stage = onnxruntime_stage(version_dir / TEXT_GRAPH, TEXT_OUTPUTS, threads)
    if (version_dir / INT8_VOCODER).exists():
        return text_stage, inductor_decoder_stage(version_dir / CURVES_GRAPH, version_dir / INT8_VOCODER, threads)
    return text_stage, onnxruntime_stage(version_dir / DECODER_GRAPH, DECODER_OUTPUTS, threads)
