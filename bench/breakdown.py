"""First audio, stage by stage: where a stream's first chunk spends its time before its first byte arrives.

Over HTTP at one client (the served stack, the sentence alone, so that its one chunk is at Triton alone): the
client's time to the first audio byte, and Triton's own statistics over the same requests (its queue and the
model's execution, per inference). In process, with the frontend's and the model's own code on the same sentence:
normalization, G2P, the rest of the chunking, the text stage with alignment, the decoder and the pcm encoding,
each the median of a few runs. The model's execution at Triton is split into text stage and decoder by the
in-process shares. The remainder is what the client waited beyond all of these: HTTP both ways, validation, the
voice, the frontend's scheduler and its call to Triton. (The frontend sends a stream's headers with its first
audio, so the time to the headers says nothing more.)"""
from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import httpx
import numpy as np
import tritonclient.http as tritonhttp

from bench import baselines, load
from frontend.reading.chunks import text_chunks
from frontend.reading.phonemes import Phonemizer
from frontend.settings import Settings
from frontend.synthesis import audio
from kokoro_core.batching import KokoroBatch, Utterance
from kokoro_core.stages import cpu_stages

TRITON_PHASES = ("queue", "compute_input", "compute_infer", "compute_output")


def median_s(call, repeats: int) -> float:
    """Median wall time of `call()` over `repeats` runs, after one unmeasured run (first-call costs excluded)."""
    call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def reading_stages(repository: Path, text: str, language: str, repeats: int) -> dict:
    """The frontend's reading of `text`, in process: normalization, G2P of the normalized text, and the whole
    chunking (both, sentence split and token ids) as the frontend plans a stream; the first chunk's token ids."""
    settings = Settings(model_repository=repository)
    phonemizer = Phonemizer(settings.assets)
    normalized = phonemizer.normalized(text, language)
    chunks = text_chunks(phonemizer, text, language, settings.chunk_max_phonemes, True, None)
    return {"normalization_s": median_s(lambda: phonemizer.normalized(text, language), repeats),
            "g2p_s": median_s(lambda: phonemizer.phonemize(normalized, language), repeats),
            "chunking_s": median_s(lambda: text_chunks(phonemizer, text, language, settings.chunk_max_phonemes, True,
                                                       None), repeats),
            "first_chunk_tokens": list(chunks[0].token_ids)}


def model_stages(repository: Path, threads: int, token_ids: list[int], voice: str, repeats: int) -> dict:
    """The served graphs on the first chunk, in process with the served thread count: the text stage with
    alignment, the decoder stage, and the pcm encoding of its audio (with the frontend's fade)."""
    voices = baselines.voice_catalog(repository)
    style = voices.style(voices.resolve(voice).parts, len(token_ids))
    batch = KokoroBatch(*cpu_stages(repository / "kokoro" / "1", threads), max_items=1)
    request = Utterance(np.asarray(token_ids, dtype=np.int64), style)
    first_call = time.perf_counter()
    feeds, _, _ = batch.decoder_feeds([request])
    audio_batch, audio_lengths = batch.decoder_stage(feeds)
    samples = audio_batch[0, :audio_lengths[0]]
    first_call_s = time.perf_counter() - first_call
    encoder = audio.AudioEncoder(audio.output_format("pcm", None))
    return {"first_call_s": first_call_s,
            "text_stage_s": median_s(lambda: batch.decoder_feeds([request]), repeats),
            "decoder_s": median_s(lambda: batch.decoder_stage(feeds), repeats),
            "encoding_s": median_s(lambda: encoder.encode(audio.faded(samples)), repeats),
            "audio_s": len(samples) / audio.SOURCE_RATE}


async def _first_audio_s(client: httpx.AsyncClient, spec: load.Spec) -> float:
    """Seconds to a stream's first audio byte; the stream is read to its end, so the next request finds the
    stack idle."""
    start = time.perf_counter()
    first_s = None
    async with client.stream("POST", "/v1/audio/speech", json=spec.body()) as response:
        response.raise_for_status()
        async for part in response.aiter_bytes():
            if part and first_s is None:
                first_s = time.perf_counter() - start
    if first_s is None:
        raise RuntimeError("a stream without audio")
    return first_s


async def _series(url: str, spec: load.Spec, requests: int) -> list[float]:
    async with httpx.AsyncClient(base_url=url, timeout=10 * 60.0) as client:
        return [await _first_audio_s(client, spec) for _ in range(requests)]


def triton_phases(stats: dict) -> dict:
    """Cumulative (count, ns) per phase of the kokoro model's inference statistics."""
    inference = stats["model_stats"][0]["inference_stats"]
    return {phase: (int(inference[phase]["count"]), int(inference[phase]["ns"])) for phase in TRITON_PHASES}


def served(url: str, triton: tritonhttp.InferenceServerClient, text: str, voice: str, requests: int) -> dict:
    """`requests` streamed pcm requests of `text`, one at a time: the client's medians, and Triton's mean time
    per inference in each phase over the same requests (every inference a first chunk when `text` is one chunk)."""
    before = triton_phases(triton.get_inference_statistics("kokoro"))
    times = asyncio.run(_series(url, load.Spec(text, "pcm", True, voice), requests))
    after = triton_phases(triton.get_inference_statistics("kokoro"))
    per_inference = {f"triton_{phase}_s": (after[phase][1] - before[phase][1])
                     / max(1, after[phase][0] - before[phase][0]) / 1e9 for phase in TRITON_PHASES}
    return {"requests": requests, "inferences": after["compute_infer"][0] - before["compute_infer"][0],
            "first_audio_p50_s": statistics.median(times), "first_audio_mean_s": statistics.mean(times),
            "first_audio_s": times, **per_inference}


def first_sentence_breakdown(url: str, triton_url: str, repository: Path, threads: int, text: str, voice: str,
                             language: str, requests: int, repeats: int) -> dict:
    """The stages of `text`'s first audio (`text`: one sentence, so its one chunk is a stream's first chunk)."""
    triton = tritonhttp.InferenceServerClient(triton_url)
    try:
        stack = served(url, triton, text, voice, requests)
    finally:
        triton.close()
    reading = reading_stages(repository, text, language, repeats)
    model = model_stages(repository, threads, reading["first_chunk_tokens"], voice, max(1, repeats // 4))
    execution_s = stack["triton_compute_input_s"] + stack["triton_compute_infer_s"] + stack["triton_compute_output_s"]
    text_share = model["text_stage_s"] / (model["text_stage_s"] + model["decoder_s"])
    stages = {
        "normalization": reading["normalization_s"],
        "G2P": reading["g2p_s"],
        "rest of the chunking (sentences, token ids)": reading["chunking_s"] - reading["normalization_s"]
        - reading["g2p_s"],
        "Triton queue": stack["triton_queue_s"],
        "text stage and alignment (Triton's execution x in-process share)": execution_s * text_share,
        "decoder (Triton's execution x in-process share)": execution_s * (1 - text_share),
        "encoding (pcm, with the fade)": model["encoding_s"],
    }
    stages["remainder: HTTP, validation, voice, scheduler, the call to Triton"] = (
        stack["first_audio_mean_s"] - sum(stages.values()))  # means, as Triton's statistics are
    return {"text": text, "words": len(text.split()), "phonemes": len(reading["first_chunk_tokens"]),
            "stages_s": stages, "served": stack, "reading": {k: v for k, v in reading.items()
                                                             if k != "first_chunk_tokens"}, "in_process": model}
