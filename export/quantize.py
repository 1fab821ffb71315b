"""int8 vocoder for the CPU target: its convolutions quantized with PyTorch 2 export quantization (torchao's
X86InductorQuantizer) and compiled ahead of time by Inductor, and its fidelity against the fp32 graphs as a
signal-to-noise ratio.

Quantized: the iSTFTNet generator's audio-rate convolutions (residual blocks, noise and output
convolutions), which carry most of the arithmetic, and the decoder blocks' frame-rate ones; int8 runs them
on AVX512-VNNI / AMX about three times faster. The transposed convolutions stay fp32 (the quantizer has no
pattern for them). Inductor also fuses the element-wise chains between them (AdaIN, Snake, masks)
into single passes, which ONNX Runtime runs one operator at a time. The F0 and energy curves stay fp32, in
their own ONNX graph: the harmonic source's phase integrates F0 over the whole utterance, so a small error
there would shift every later sample; and they hold the LSTM, which torch.export cannot keep dynamic.
"""
from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from export import fidelity as measure
from export.fidelity import snr_db  # noqa: F401  (bench/gpu_check.py reads it here)
from kokoro_core.batched_model import DecoderStage, VocoderStage
from kokoro_core.contract import SAMPLE_RATE

log = logging.getLogger("export")

# Module names within the decoder: the generator's audio-rate convolutions, then the decoder blocks' ones.
INT8_CONVS = re.compile(r"^generator\.((resblocks|noise_res)\.\d+\.convs[12]\.\d+|noise_convs\.\d+|conv_post)$"
                        r"|^(encode|decode\.\d+)\.conv[12]$")
CALIBRATION_LENGTHS = (16, 64, 160)  # phonemes; each utterance calibrated alone, as the CPU target runs
# Frame counts the package accepts: from one phoneme at speed 4 (three tokens, at least a frame each) to 512
# tokens of at most 200 frames (a duration is a sum of 50 sigmoids, divided by the lowest speed, 0.25).
MIN_FRAMES, MAX_FRAMES = 3, 512 * 200
VNNI_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
MIN_SNR_DB = 25.0  # the former floor, which bench/gpu_check.py still reports against; the export judges by log-mel
# A reduced precision is kept only this much faster than fp32 on the probe: less is within one run's timing noise
# on a loaded machine, and not worth a precision that is not exact.
MIN_SPEEDUP = 1.2
INDUCTOR = {
    # Folds the int8 weights into oneDNN's packed layout; without it they are repacked at every call.
    "freezing": True,
    # Precompiled headers would leave 300 MB in the system temp directory and do not speed up one file.
    "aot_inductor.precompile_headers": False,
}


class QuantizationError(AssertionError):
    pass


def has_vnni(capabilities: dict | None = None) -> bool:
    """Whether the CPU (`torch.cpu.get_capabilities()` by default) multiplies u8 by s8 into 32-bit sums
    (AVX512-VNNI, AVX-VNNI or AMX)."""
    capabilities = torch.cpu.get_capabilities() if capabilities is None else capabilities
    return any(capabilities.get(flag) for flag in VNNI_FLAGS)


def cpu_report(capabilities: dict | None = None) -> dict:
    """The exporting CPU (`torch.cpu.get_capabilities()` by default) as the int8 decoder depends on it (recorded
    in the provenance)."""
    capabilities = torch.cpu.get_capabilities() if capabilities is None else capabilities
    vnni = has_vnni(capabilities)
    return {"name": capabilities.get("cpu_name", "unknown"), "vnni": vnni, "weight_bits": 8 if vnni else 7,
            "flags": [flag for flag in ("avx2", "fma3", "avx512_f", *VNNI_FLAGS, *BF16_FLAGS)
                      if capabilities.get(flag)]}


def without_reduced_precision(capabilities: dict | None = None) -> str:
    """Why `auto` serves fp32 on this CPU without measuring anything."""
    cpu = cpu_report(capabilities)
    return (f"this CPU ({cpu['name']}: {', '.join(cpu['flags'])}) has none of {', '.join(BF16_FLAGS)} (bf16) nor "
            f"{', '.join(VNNI_FLAGS)} (int8): no reduced precision runs faster than fp32 on it")


def without_vnni(capabilities: dict | None = None) -> str:
    """Names the CPU and the instructions it lacks, for messages that explain int8's figures on it."""
    cpu = cpu_report(capabilities)
    return (f"this CPU ({cpu['name']}: {', '.join(cpu['flags'])}) has none of {', '.join(VNNI_FLAGS)}, so oneDNN "
            "runs int8 convolutions through 16-bit sums and the weights keep 7 bits")


def has_bf16(capabilities: dict | None = None) -> bool:
    """Whether the CPU (`torch.cpu.get_capabilities()` by default) multiplies bf16 natively (AVX512_BF16, AMX-BF16),
    where oneDNN runs the vocoder's convolutions in bf16 at about twice fp32's speed."""
    capabilities = torch.cpu.get_capabilities() if capabilities is None else capabilities
    return any(capabilities.get(flag) for flag in BF16_FLAGS)


def precision_candidates(capabilities: dict | None = None) -> list[str]:
    """The reduced precisions `auto` measures against fp32 on this CPU: bf16 (the torch runner) where the CPU has
    bf16 instructions, int8 (the compiled vocoder) where it has VNNI; none on an AVX2-only CPU."""
    return [precision for precision, present in (("bf16", has_bf16(capabilities)), ("int8", has_vnni(capabilities)))
            if present]


def choose_precision(measured: dict[str, dict], threshold_db: float, min_speedup: float = MIN_SPEEDUP) -> tuple:
    """The decision table: (chosen precision, a verdict per candidate). `measured`: candidate -> its figures on the
    probe, `log_mel_db` against fp32 and `speedup` over fp32 (None where it was not timed), or `refused` (why a
    later step refused it). A candidate is kept when it is within `threshold_db` and at least `min_speedup` times
    fp32's speed; the fastest kept one wins, else fp32."""
    verdicts, kept = {}, {}
    for precision, figures in measured.items():
        speedup = figures.get("speedup")
        if "refused" in figures:
            verdicts[precision] = f"refused: {figures['refused']}"
        elif figures["log_mel_db"] > threshold_db:
            verdicts[precision] = f"not faithful: log-mel {figures['log_mel_db']} dB > {threshold_db} dB"
        elif speedup is None or speedup < min_speedup:
            verdicts[precision] = f"not faster: {speedup}x fp32's speed < {min_speedup}x"
        else:
            verdicts[precision] = f"kept: log-mel {figures['log_mel_db']} dB, {speedup}x fp32's speed"
            kept[precision] = speedup
    return (max(kept, key=lambda precision: kept[precision]) if kept else "fp32"), verdicts


class Conv1dAs2d(nn.Conv2d):
    """A Conv1d run as a Conv2d (the quantizer annotates only 2-d convolutions). Undilated, over a height of 1.
    Dilated by d, as the undilated convolution of the sequence's d interleaved phases, stacked as d rows:
    oneDNN's int8 kernels run dilated convolutions 2.3-2.8x slower than undilated ones of the same size, and
    Inductor fuses the interleaving into the kernels that write the input and read the output."""

    def __init__(self, conv: nn.Conv1d):
        (kernel,), (stride,), (padding,), (dilation,) = conv.kernel_size, conv.stride, conv.padding, conv.dilation
        self.phases = dilation if stride == 1 and padding % dilation == 0 else 1
        super().__init__(conv.in_channels, conv.out_channels, (1, kernel), stride=(1, stride),
                         padding=(0, padding // self.phases), dilation=(1, dilation // self.phases),
                         groups=conv.groups, bias=conv.bias is not None)
        self.weight.data.copy_(conv.weight.data[:, :, None, :])
        if conv.bias is not None:
            self.bias.data.copy_(conv.bias.data)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.phases == 1:
            return super().forward(x[:, :, None, :])[:, :, 0, :]
        (batch, channels, length), d = x.shape, self.phases
        rows = length // d + 1  # at least one zero of padding, so that no length is a special case when traced
        t = torch.arange(rows * d, device=x.device).view(rows, d).T  # [d, rows]: phase p, row s holds t = s d + p
        # gathered, not padded and viewed: Inductor then writes the phases in the kernel that makes x
        phases = torch.where(t < length, x[:, :, t.clamp(max=length - 1)], 0.0)  # zeros past the end, as padding
        y = super().forward(phases)  # [B, C, d, rows]
        length_out = length + 2 * self.padding[1] * d - d * (self.kernel_size[1] - 1)
        return y.transpose(2, 3).reshape(batch, self.out_channels, -1)[:, :, :length_out]


def mark_int8_convs(decoder: nn.Module) -> list[str]:
    """Swap the decoder's INT8_CONVS (Conv1d, weight norm folded) for `Conv1dAs2d`, in place."""
    names = [name for name, module in decoder.named_modules()
             if isinstance(module, nn.Conv1d) and INT8_CONVS.match(name)]
    for name in names:
        parent, _, attribute = name.rpartition(".")
        owner = decoder.get_submodule(parent)
        setattr(owner, attribute, Conv1dAs2d(getattr(owner, attribute)))
    return names


def vocoder_feeds(stage: DecoderStage, decoder_feeds: dict) -> tuple[torch.Tensor, ...]:
    """`VocoderStage` inputs from the decoder stage's feeds (the curves computed here, in fp32)."""
    tensors = {name: torch.from_numpy(array) for name, array in decoder_feeds.items()}
    with torch.no_grad():
        f0_curve, noise_curve = stage.curves(tensors["prosody_frames"], tensors["frame_lengths"], tensors["style"])
    return (tensors["text_frames"], f0_curve, noise_curve, tensors["frame_lengths"], tensors["style"],
            tensors["seed"])


def export_dynamic(module: nn.Module, example: tuple, dynamic_shapes, strict: bool = False):
    """`torch.export` with dynamic shapes, as the int8 vocoder is exported. Checks on sizes that hold for
    every length but that sympy cannot prove (the phases' lengths in `Conv1dAs2d`) run at call time
    instead of refusing the export."""
    return torch.export.export(module, example, dynamic_shapes=dynamic_shapes, strict=strict,
                               prefer_deferred_runtime_asserts_over_guards=True)


# The probe's utterance: the README's first request, "Good morning! Your coffee is ready, and the weather looks
# great today.", as misaki's espeak G2P reads it (66 phonemes, about 5 s of speech).
PROBE_PHONEMES = "ɡˈʊd mˈɔːɹnɪŋ! jʊɹ kˈɔfi ɪz ɹˈɛdi, ænd ðə wˈɛðɚ lˈʊks ɡɹˈAt tədˈA."


@dataclasses.dataclass
class QuantizedVocoder:
    """The vocoder quantized and calibrated, not yet compiled: `module` runs eagerly with PyTorch's reference
    int8 arithmetic (each tensor rounded to its int8 grid, fp32 kernels), `fp32` is the same vocoder unquantized."""
    names: list[str]
    module: torch.fx.GraphModule
    fp32: nn.Module
    example: tuple
    dynamic: tuple


def quantize_int8_vocoder(kmodel: nn.Module, noise_table: torch.Tensor,
                          calibration_feeds: Sequence[dict]) -> QuantizedVocoder:
    """Quantize and calibrate the vocoder (PyTorch 2 export quantization). `kmodel` must have its weight norm
    folded; its decoder is changed in place (the marked convolutions become `Conv1dAs2d`, the same arithmetic)."""
    from torch.export import Dim
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
    from torchao.quantization.pt2e.quantizer import x86_inductor_quantizer as x86

    names = mark_int8_convs(kmodel.decoder)
    if not names:
        raise QuantizationError("the decoder has no convolutions to quantize")
    stage = DecoderStage(kmodel, noise_table).eval()
    vocoder = VocoderStage(stage).eval()
    examples = [vocoder_feeds(stage, feeds) for feeds in calibration_feeds]
    frames = Dim("frames", min=MIN_FRAMES, max=MAX_FRAMES)
    dynamic = ({2: frames}, {1: 2 * frames}, {1: 2 * frames}, None, None, None)
    log.info("quantizing %d convolutions to int8 (calibrated on %d utterances)", len(names),
             len(examples))
    with torch.no_grad():
        # strict: the quantizer finds convolutions by the source records only a strict export keeps
        traced = export_dynamic(vocoder, examples[0], dynamic, strict=True).module()
        prepared = prepare_pt2e(traced, _quantizer(x86, traced, len(names)))
        for example in examples:
            prepared(*example)
        quantized = convert_pt2e(prepared)
    return QuantizedVocoder(names, quantized, vocoder, examples[0], dynamic)


def probe_int8(quantized: QuantizedVocoder, decoder_feeds: dict) -> dict:
    """The int8 vocoder's fidelity before any compilation: the quantized vocoder run eagerly against the fp32
    one on one utterance (the decoder stage's feeds), as `export.fidelity.compare` (log-mel distance and SNR).
    Seconds, not the minutes Inductor takes; the compiled decoder's int8 kernels compute the same rounded values
    (with VNNI; without it the weights keep 7 bits so that its 16-bit sums do not saturate), so the figure predicts
    the export's own measurement."""
    import time

    started = time.perf_counter()
    feeds = vocoder_feeds(quantized.fp32.decoder_stage, decoder_feeds)
    with torch.no_grad():
        reference, lengths = quantized.fp32(*feeds)
        int8, _ = quantized.module(*feeds)
    samples = int(lengths[0])
    reference, int8 = reference.reshape(len(lengths), -1)[0, :samples], int8.reshape(len(lengths), -1)[0, :samples]
    return {**measure.compare(reference.numpy(), int8.numpy()), "audio_s": round(samples / SAMPLE_RATE, 2),
            "seconds": round(time.perf_counter() - started, 1), "runtime": "eager, PyTorch's reference int8 arithmetic"}


def compile_int8_vocoder(quantized: QuantizedVocoder, package: Path) -> list[str]:
    """Compile the quantized vocoder into an AOTInductor package; the quantized layers' names."""
    import torch._inductor

    with torch.no_grad():
        program = export_dynamic(quantized.module, quantized.example, quantized.dynamic)
        log.info("compiling the int8 vocoder with AOTInductor (a few minutes)")
        torch._inductor.aoti_compile_and_package(program, package_path=str(package), inductor_configs=INDUCTOR)
    return quantized.names


def _quantizer(x86, traced: torch.fx.GraphModule, expected: int):
    """X86InductorQuantizer for the 2-d convolutions of `traced` (the marked ones) and nothing else.
    Weights use 7 of their 8 bits where the CPU has no VNNI: without it oneDNN multiplies u8 by s8 with
    vpmaddubsw, whose pairwise 16-bit sums saturate past 2 x 255 x 64 (measured on AVX2: 10 dB SNR at full
    range). Weights rather than activations: they are scaled per channel, so the lost bit costs less."""
    modules = {next(reversed(node.meta["nn_module_stack"].values()))[0] for node in traced.graph.nodes
               if node.target == torch.ops.aten.conv2d.default}
    if len(modules) != expected:
        raise QuantizationError(f"expected {expected} marked convolutions in the traced vocoder, found "
                                f"{len(modules)}")
    config = x86.get_default_x86_inductor_quantization_config()
    if not has_vnni():
        config = dataclasses.replace(config, weight=dataclasses.replace(config.weight, quant_min=-64, quant_max=63))
    quantizer = x86.X86InductorQuantizer()
    for module in sorted(modules):
        quantizer.set_module_name_qconfig(module, config)
    return quantizer


def fidelity(fp32_speeches, speeches, precision: str = "int8", max_log_mel_db: float = measure.THRESHOLD_DB,
             min_snr_db: float | None = None) -> list[dict]:
    """Each utterance's `export.fidelity.compare` of the `precision` audio against the fp32 audio; raises where the
    log-mel distance is above `max_log_mel_db`, or the SNR below `min_snr_db` when one is given."""
    report = [{"phonemes": len(ref.durations) - 2, **measure.compare(ref.samples_24k, got.samples_24k)}
              for ref, got in zip(fp32_speeches, speeches, strict=True)]
    for item in report:
        log.info("  %3d phonemes: %s log-mel %.3f dB, SNR %.1f dB against fp32", item["phonemes"], precision,
                 item["log_mel_db"], item["snr_db"])
    farthest, worst_snr = max(item["log_mel_db"] for item in report), min(item["snr_db"] for item in report)
    cause = "" if precision != "int8" or has_vnni() else f"; {without_vnni()}"
    if farthest > max_log_mel_db:
        raise QuantizationError(f"{precision} decoder not faithful: log-mel distance {farthest:.3f} dB > "
                                f"{max_log_mel_db} dB from fp32 ({report}){cause}")
    if min_snr_db is not None and worst_snr < min_snr_db:
        raise QuantizationError(f"{precision} decoder too far from fp32: SNR {worst_snr:.1f} dB < {min_snr_db} dB "
                                f"({report}){cause}")
    return report


def speed_against_fp32(fp32_seconds: float, int8_seconds: float) -> float:
    """How many times fp32's speed the int8 decoder ran at; says plainly where that is no gain."""
    speedup = fp32_seconds / int8_seconds
    log.info("  int8 decoder: %.2fx the fp32 decoder's speed (%.1f s against %.1f s)", speedup, int8_seconds,
             fp32_seconds)
    if speedup < 1:
        cause = "" if has_vnni() else f" ({without_vnni()})"
        log.warning("the int8 decoder is SLOWER than fp32 on this CPU%s: serve fp32 here (PRECISION=auto does)",
                    cause)
    return round(speedup, 2)
