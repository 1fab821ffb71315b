"""`make bench`: the HTTP stack (frontend + Triton, started here) at several client counts, streaming and
not, beside the batch-1 runtimes users would otherwise run, on the same weights and texts, in one run.

Baselines, in process, one request at a time over the same phoneme chunks the frontend sends:
  (a) upstream `kokoro.KModel` in PyTorch;  (b) ONNX Runtime on upstream's single-request export
  (what kokoro-onnx users run);  and the served graphs in process at batch 1 (the stack's overhead).
The baselines run before and after the stack; ratios are against the faster of the two passes.
Writes results/bench/bench.{json,md,png}."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import tritonclient.http as tritonhttp
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from bench import baselines, breakdown, load, perf, report
from bench.processes import FrontendProcess, free_port
from bench.texts import LONG_FIRST, LONG_FIRST_SENTENCE, MIXED, SHORT_FIRST, SHORT_REPLIES, TWO_SENTENCES
from export import repository as repository_paths
from frontend.reading.chunks import text_chunks
from frontend.reading.languages import language_of
from frontend.reading.phonemes import Phonemizer
from frontend.settings import Settings
from kokoro_core.batching import KokoroBatch, Utterance
from kokoro_core.contract import SAMPLE_RATE
from kokoro_core.stages import cpu_stages
from serving.tritonserver import TritonServer

ROOT = Path(__file__).resolve().parent.parent
VOICE = load.Spec.voice  # the voice every request of the run speaks, and the baselines with it
TEXT_SETS = {"all": MIXED, "short": SHORT_REPLIES, "smoke": [TWO_SENTENCES]}
REQUESTS_PER_CLIENT, MAX_LEVEL_REQUESTS = 4, 64
CLAUSE_CUT_WORDS = 8  # the FIRST_CHUNK_WORDS that first audio is also measured with, against the default's sentence


def chunks_of(texts: list[str], repository: Path) -> list[list[list[int]]]:
    """Each text's phoneme-id chunks, cut as the frontend cuts a whole-file request in VOICE's language."""
    settings = Settings(model_repository=repository)
    phonemizer = Phonemizer(settings.assets)
    language = language_of(None, None, baselines.voice_catalog(repository).resolve(VOICE).language_voice)
    return [[list(chunk.token_ids) for chunk in text_chunks(phonemizer, text, language, settings.chunk_max_phonemes,
                                                                  True, None)] for text in texts]


def in_process(name: str, synthesize, texts_chunks: list[list[list[int]]], voices) -> dict:
    """One request at a time: each text's chunks in order. Seconds per text and audio produced."""
    parts = voices.resolve(VOICE).parts
    synthesize(texts_chunks[0][0], voices.style(parts, len(texts_chunks[0][0])))  # warm-up
    per_text, audio_s = [], 0.0
    for chunks in texts_chunks:
        start = time.perf_counter()
        for token_ids in chunks:
            audio_s += len(synthesize(token_ids, voices.style(parts, len(token_ids)))) / SAMPLE_RATE
        per_text.append(time.perf_counter() - start)
    busy = sum(per_text)
    print(f"bench: {name}: {audio_s:.0f} s of audio in {busy:.0f} s", file=sys.stderr, flush=True)
    return {"name": name, "seconds_per_text": per_text, "audio_s": audio_s, "busy_s": busy,
            "audio_s_per_s": audio_s / busy}


def baseline_pass(weights, repository: Path, texts_chunks, voices) -> list[dict]:
    """(a) KModel, (b) ONNX Runtime on upstream's single-request export, and the served graphs, in process."""
    return [in_process("KModel (PyTorch), batch 1", baselines.KModelBaseline(weights).synthesize,
                       texts_chunks, voices),
            in_process("ONNX Runtime, upstream single-request export, batch 1",
                       baselines.OnnxSingleBaseline(weights).synthesize, texts_chunks, voices),
            in_process("served graphs in process, batch 1", served_in_process(repository), texts_chunks, voices)]


def faster_of(before: list[dict], after: list[dict]) -> list[dict]:
    """Each baseline's faster pass, with both speeds. The baselines run before and after the stack because
    this machine's speed drifts by tens of percent within an hour: the stack is compared with the best
    its baselines did in the same run, never with a slow moment."""
    return [{**max(pair, key=lambda b: b["audio_s_per_s"]),
             "passes_audio_s_per_s": [b["audio_s_per_s"] for b in pair]} for pair in zip(before, after, strict=True)]


def served_threads(repository: Path) -> int:
    """The `intra_op_threads` the repository's config gives each Triton instance (0: one per core)."""
    config = text_format.Parse((repository / "kokoro" / "config.pbtxt").read_text(), model_config_pb2.ModelConfig())
    return int(config.parameters["intra_op_threads"].string_value or 0)


def served_in_process(repository: Path):
    """The served graphs with the served code (kokoro_core) and the served
    thread count, batch 1."""
    batch = KokoroBatch(*cpu_stages(repository / "kokoro" / "1", served_threads(repository)), max_items=1)
    return lambda token_ids, style: batch.synthesize([Utterance(np.asarray(token_ids), style)])[0].samples_24k


def batch_size(stats_before: dict, stats_after: dict) -> float | None:
    """Requests per model execution between two statistics readings: the batch Triton achieved."""
    def counts(stats):
        model = stats["model_stats"][0]
        return model["inference_count"], model["execution_count"]
    (i0, e0), (i1, e1) = counts(stats_before), counts(stats_after)
    return (i1 - i0) / (e1 - e0) if e1 > e0 else None


def level_requests(clients: int, texts: int) -> int:
    """Requests at one load level: every text once, and REQUESTS_PER_CLIENT per client up to
    MAX_LEVEL_REQUESTS. With one request each, clients start together and finish one by one, and those
    moments weigh on the wall time as much as the load: 16 requests at 16 clients kept Triton's two
    instances busy 88 % of it, 64 requests 94 %."""
    return max(texts, min(REQUESTS_PER_CLIENT * clients, MAX_LEVEL_REQUESTS))


def http_levels(url: str, triton: tritonhttp.InferenceServerClient, levels: list[int], texts: list[str]) -> list[dict]:
    rows = []
    for clients in levels:
        for stream in (False, True):
            specs = [load.Spec(text, "pcm", stream, VOICE) for text in texts]
            count = level_requests(clients, len(specs))
            specs = (specs * (count // len(specs) + 1))[:count]
            before = triton.get_inference_statistics("kokoro")
            outcomes, wall_s = asyncio.run(load.run(url, specs, clients))
            row = {"clients": clients, "stream": stream, **load.summary(outcomes, wall_s),
                   "triton_batch_size": batch_size(before, triton.get_inference_statistics("kokoro"))}
            print(f"bench: {clients} clients, {'streaming' if stream else 'whole files'}: "
                  f"{row['audio_s_per_s']:.2f} audio-s/s, {row['errors']} errors", file=sys.stderr, flush=True)
            rows.append(row)
    return rows


def first_audio(url: str, requests: int, text: str, rule: str) -> dict:
    """A streamed request at one client, `requests` times, under a frontend's first-chunk `rule`."""
    outcomes, wall_s = asyncio.run(load.run(url, [load.Spec(text, "pcm", True, VOICE)] * requests, 1))
    return {"text": text, "first_chunk": rule, **load.summary(outcomes, wall_s)}


def first_audio_rows(url: str, clause_cut_url: str, requests: int) -> list[dict]:
    """First audio for a short and a long first sentence with the default first chunk (the first sentence),
    and for the long one cut at a clause within CLAUSE_CUT_WORDS words: what the default costs, in the same run.
    The short sentence is one chunk under either rule."""
    sentence, clause = "the first sentence (default)", f"clauses within {CLAUSE_CUT_WORDS} words"
    return [first_audio(url, requests, TWO_SENTENCES, sentence),
            first_audio(url, requests, LONG_FIRST_SENTENCE, sentence),
            first_audio(clause_cut_url, requests, LONG_FIRST_SENTENCE, clause)]


def first_audio_breakdowns(url: str, triton_url: str, repository: Path, requests: int) -> list[dict]:
    """Where the first audio of the short and the long first sentence goes, stage by stage (bench.breakdown)."""
    language = language_of(None, None, baselines.voice_catalog(repository).resolve(VOICE).language_voice)
    return [breakdown.first_sentence_breakdown(url, triton_url, repository, served_threads(repository), text, VOICE,
                                               language, requests, repeats=20) for text in (SHORT_FIRST, LONG_FIRST)]


def triton_alone(triton_url: str, texts_chunks, voices, levels: list[int], window: int, stability: int,
                 output: Path) -> list[dict]:
    """perf_analyzer on the same phoneme chunks, straight to Triton: the model without the frontend. Each
    measurement window holds whole passes over the chunks, so windows have the same mix of lengths; a
    level perf_analyzer cannot measure stably is reported as such rather than ending the run."""
    chunks = [ids for text_chunks in texts_chunks for ids in text_chunks]
    data_file = output / "perf_analyzer_input.json"
    parts = voices.resolve(VOICE).parts
    data_file.write_text(json.dumps({"data": [perf.entry(ids, voices.style(parts, len(ids))) for ids in chunks]}))
    rows = []
    for clients in levels:
        requests = -(-max(window, clients) // len(chunks)) * len(chunks)
        csv = output / f"perf_analyzer_c{clients}.csv"
        argv = perf.command(triton_url, data_file, f"{clients}:{clients}", requests, stability, csv)
        run = subprocess.run(argv, env=perf.perf_analyzer_env(), capture_output=True, text=True)
        if run.returncode != 0:
            reason = (run.stderr or run.stdout).strip().splitlines()[-1:] or [f"exit {run.returncode}"]
            rows.append({"concurrency": clients, "error": reason[0]})
            print(f"bench: perf_analyzer, concurrency {clients}: {reason[0]}", file=sys.stderr, flush=True)
            continue
        rows += perf.read_results(csv)
        print(f"bench: perf_analyzer, concurrency {clients}: {rows[-1]['inferences_per_s']:.2f} infer/s",
              file=sys.stderr, flush=True)
    return rows


def fidelity(repository: Path) -> dict:
    """What the served graphs are, from the export's provenance: fp32 parity with KModel, or int8's SNR."""
    provenance = repository_paths.read_provenance(repository)
    options = provenance["export_options"]
    result = {"precision": options.get("precision", "fp32"), "precision_decision": options.get("precision_decision"),
              "max_relative_l2_vs_kmodel": max(item["relative_l2"] for item in provenance["parity"])}
    if "int8" in options:
        result["min_snr_db_vs_fp32"] = min(item["snr_db"] for item in options["int8"]["snr_db_against_fp32"])
    return result


@contextlib.contextmanager
def stack(repository: Path, output: Path, triton_url: str | None):
    """Triton (unless `triton_url` names a running one) and two frontends, the second cutting a stream's first
    chunk at a clause: (Triton's URL, the API's URL, the clause-cutting API's URL)."""
    with contextlib.ExitStack() as running:
        triton_url = triton_url or running.enter_context(TritonServer(
            repository, free_port(), free_port(), free_port(), log_path=output / "tritonserver.log")).http_url
        frontend = {"TRITON_URL": triton_url, "MODEL_REPOSITORY": str(repository), "MAX_INFLIGHT": "1024",
                    "REQUEST_TIMEOUT_S": "3600"}
        api = FrontendProcess(output / "frontend.log", **frontend)
        running.callback(api.stop)
        clause_cut = FrontendProcess(output / "frontend-clause-cut.log", **frontend,
                                     FIRST_CHUNK_WORDS=str(CLAUSE_CUT_WORDS))
        running.callback(clause_cut.stop)
        yield triton_url, api.url, clause_cut.url


def first_audio_only(args) -> int:
    """First audio and its breakdown alone: results/bench/first_audio.{json,md}."""
    with stack(args.repository, args.output, args.triton_url) as (triton_url, url, clause_cut_url):
        stages = first_audio_breakdowns(url, triton_url, args.repository, args.first_audio_requests)
        first = first_audio_rows(url, clause_cut_url, args.first_audio_requests)
    result = {"machine": report.machine(), "repository": str(args.repository), "first_audio": first,
              "first_audio_breakdown": stages, "fidelity": fidelity(args.repository)}
    (args.output / "first_audio.json").write_text(json.dumps(result, indent=1))
    (args.output / "first_audio.md").write_text(report.first_audio_markdown(result))
    print(report.first_audio_markdown(result))
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repository", type=Path, default=ROOT / "model_repository")
    parser.add_argument("--checkpoint", type=Path, help="the real checkpoint a hub or local export came from")
    parser.add_argument("--levels", default="1,4,16,64", help="client counts")
    parser.add_argument("--triton-url", help="a running Triton (e.g. the GPU container) instead of starting one")
    parser.add_argument("--texts", choices=TEXT_SETS, default="all",
                        help="all of bench/texts.py, its short replies only (a quick run), or one input (smoke)")
    parser.add_argument("--first-audio-requests", type=int, default=30)
    parser.add_argument("--perf-window", type=int, default=8,
                        help="perf_analyzer: requests per measurement window (at least the concurrency)")
    parser.add_argument("--perf-stability", type=int, default=50,
                        help="perf_analyzer: allowed variation between windows, in %% (default %(default)s)")
    parser.add_argument("--first-audio-only", action="store_true",
                        help="only first audio and its breakdown by stage (no baselines, levels or perf_analyzer)")
    parser.add_argument("--output", type=Path, default=ROOT / "results" / "bench")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    if args.first_audio_only:
        return first_audio_only(args)
    weights = baselines.weights_of(args.repository, args.checkpoint)
    voices = baselines.voice_catalog(args.repository)
    texts = TEXT_SETS[args.texts]
    client_counts = [int(n) for n in args.levels.split(",")]
    texts_chunks = chunks_of(texts, args.repository)
    before = baseline_pass(weights, args.repository, texts_chunks, voices)
    with stack(args.repository, args.output, args.triton_url) as (triton_url, url, clause_cut_url), \
            contextlib.closing(tritonhttp.InferenceServerClient(triton_url)) as stats:
        stages = first_audio_breakdowns(url, triton_url, args.repository, args.first_audio_requests)
        first = first_audio_rows(url, clause_cut_url, args.first_audio_requests)
        levels = http_levels(url, stats, client_counts, texts)
        one_client = asyncio.run(load.run(url, [load.Spec(t, "pcm", False, VOICE) for t in texts], 1))[0]
        alone = triton_alone(triton_url, texts_chunks, voices, client_counts, args.perf_window,
                             args.perf_stability, args.output)
    reference = faster_of(before, baseline_pass(weights, args.repository, texts_chunks, voices))
    audio_per_chunk_s = reference[2]["audio_s"] / sum(len(chunks) for chunks in texts_chunks)
    for row in alone:
        if "error" not in row:
            row["audio_s_per_s"] = row["inferences_per_s"] * audio_per_chunk_s
    result = {"machine": report.machine(),
              "repository": str(args.repository), "texts": f"{args.texts} ({len(texts)})", "baselines": reference,
              "first_audio": first, "first_audio_breakdown": stages,
              "levels": levels, "overhead": report.overhead(one_client, reference[2]), "triton_alone": alone,
              "fidelity": fidelity(args.repository)}
    (args.output / "bench.json").write_text(json.dumps(result, indent=1))
    (args.output / "bench.md").write_text(report.markdown(result))
    report.plot(result, args.output / "bench.png")
    print(report.markdown(result))
    return 0
