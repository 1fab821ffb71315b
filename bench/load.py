"""An HTTP load generator for the speech endpoint: N clients, each sending its next request as soon as the
last one is done (closed loop), recording when the first audio byte and the last byte arrived, how much
audio came back (read by an independent decoder) and, for pcm streams, how long a player would have
stalled waiting for audio. The same loop drives Triton's `kokoro` model directly (`TritonSpec`)."""
from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

import httpx
import numpy as np

from kokoro_core.contract import MODEL, SAMPLE_RATE


@dataclass(frozen=True)
class Spec:
    """One request: what to say and how to receive it."""
    text: str
    response_format: str = "pcm"
    stream: bool = False
    voice: str = "alloy"  # what OpenAI clients send; every voice set speaks it (a stand-in where af_alloy is missing)

    def body(self) -> dict:
        body = {"model": "kokoro", "input": self.text, "voice": self.voice, "response_format": self.response_format}
        return {**body, "stream_format": "audio"} if self.stream else body


@dataclass(frozen=True)
class TritonSpec:
    """One request straight to Triton's `kokoro` model (KServe v2 over HTTP; the audio comes back as binary)."""
    token_ids: tuple[int, ...]
    style: tuple[float, ...]
    seed: int = 0

    def body(self) -> bytes:
        inputs = [("token_ids", "INT64", list(self.token_ids)), ("style", "FP32", list(self.style)),
                  ("seed", "INT64", [self.seed])]
        return json.dumps({
            "inputs": [{"name": name, "shape": [1, len(data)], "datatype": datatype, "data": data}
                       for name, datatype, data in inputs],
            "outputs": [{"name": "audio", "parameters": {"binary_data": True}},
                        {"name": "durations", "parameters": {"binary_data": True}}]}).encode()


@dataclass
class Outcome:
    spec: Spec | TritonSpec
    started_s: float  # since the run began
    total_s: float
    first_audio_s: float | None = None
    status: int | None = None  # None: no complete HTTP response (refused, reset, aborted stream)
    audio_s: float = 0.0
    stall_s: float | None = None  # pcm streams: a player's waits for audio after the first
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.audio_s > 0 and not self.error

    def record(self) -> dict:
        spec = asdict(self.spec)
        return {**asdict(self), "spec": {**spec, "text": spec["text"][:40]} if "text" in spec else spec}


def stall_seconds(arrivals: list[tuple[float, float]]) -> float:
    """Given (arrival time, seconds of audio) per part, how long a player that starts with the first part
    and plays everything in order waits for audio in between (rebuffering time)."""
    stalled, played_until = 0.0, arrivals[0][0] if arrivals else 0.0
    for arrived_s, audio_s in arrivals:
        stalled += max(0.0, arrived_s - played_until)
        played_until = max(played_until, arrived_s) + audio_s
    return stalled


def audio_seconds(data: bytes, response_format: str) -> float:
    """Seconds of audio in a response: 16-bit 24 kHz samples for pcm, else what PyAV decodes."""
    if response_format == "pcm":
        return len(data) / 2 / SAMPLE_RATE
    import av  # only for encoded formats: the GPU check's machine, which drives Triton alone, has no PyAV

    try:
        with av.open(io.BytesIO(data)) as container:
            frames = list(container.decode(audio=0))
    except av.FFmpegError as e:
        raise ValueError(e) from e
    return sum(frame.samples for frame in frames) / frames[0].sample_rate if frames else 0.0


async def _one(client: httpx.AsyncClient, spec: Spec, began: float) -> Outcome:
    start = time.perf_counter()
    outcome = Outcome(spec, start - began, 0.0)
    parts, arrivals = [], []
    try:
        async with client.stream("POST", "/v1/audio/speech", json=spec.body()) as response:
            outcome.status = response.status_code
            async for part in response.aiter_bytes():
                if part:
                    arrivals.append((time.perf_counter() - start, len(part) / 2 / SAMPLE_RATE))
                parts.append(part)
    except httpx.HTTPError as e:
        outcome.status, outcome.error = None, f"{type(e).__name__}: {e}"
    outcome.total_s = time.perf_counter() - start
    outcome.first_audio_s = arrivals[0][0] if arrivals else None
    if spec.stream and spec.response_format == "pcm" and arrivals:
        outcome.stall_s = stall_seconds(arrivals)
    data = b"".join(parts)
    if outcome.status == 200:
        try:
            outcome.audio_s = await asyncio.to_thread(audio_seconds, data, spec.response_format)
        except (ValueError, IndexError) as e:
            outcome.error = f"undecodable audio: {e}"
    else:
        outcome.error = outcome.error or data[:200].decode(errors="replace")
    return outcome


async def _one_triton(client: httpx.AsyncClient, spec: TritonSpec, began: float) -> Outcome:
    """Samples counted from the binary audio's size in the response's JSON header."""
    start = time.perf_counter()
    outcome = Outcome(spec, start - began, 0.0)
    try:
        response = await client.post(f"/v2/models/{MODEL}/infer", content=spec.body())
        outcome.status = response.status_code
        header_size = int(response.headers.get("Inference-Header-Content-Length", len(response.content)))
        header = json.loads(response.content[:header_size])
        if response.status_code == 200:
            [audio] = [o for o in header["outputs"] if o["name"] == "audio"]
            outcome.audio_s = audio["parameters"]["binary_data_size"] / 4 / SAMPLE_RATE
        else:
            outcome.error = header.get("error", "")[:200]
    except (httpx.HTTPError, ValueError, KeyError) as e:
        outcome.error = f"{type(e).__name__}: {e}"
    outcome.total_s = time.perf_counter() - start
    return outcome


async def run(url: str, specs: Iterable[Spec], clients: int, api_key: str = "", until_s: float | None = None,
              timeout_s: float = 600) -> tuple[list[Outcome], float]:
    """Send `specs` in order over `clients` concurrent clients (stopping new ones after `until_s` seconds
    when given). Returns every outcome and the wall time from the first request to the last byte."""
    queue: Iterator[Spec] = iter(specs)
    outcomes: list[Outcome] = []
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=timeout_s) as client:
        began = time.perf_counter()

        async def worker():
            for spec in queue:
                if until_s is not None and time.perf_counter() - began > until_s:
                    return
                send = _one_triton if isinstance(spec, TritonSpec) else _one
                outcomes.append(await send(client, spec, began))
        await asyncio.gather(*(worker() for _ in range(clients)))
        return outcomes, time.perf_counter() - began


def percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def summary(outcomes: list[Outcome], wall_s: float) -> dict:
    """What a load level achieved: throughput, real-time factor, latencies and failures."""
    done = [o for o in outcomes if o.ok]
    audio = sum(o.audio_s for o in done)
    first = [o.first_audio_s for o in done if o.first_audio_s is not None]
    total = [o.total_s for o in done]
    stalls = [o.stall_s for o in done if o.stall_s is not None]
    return {
        "requests": len(outcomes), "errors": len(outcomes) - len(done), "wall_s": wall_s, "audio_s": audio,
        "audio_s_per_s": audio / wall_s if wall_s else 0.0,
        "rtf": sum(total) / audio if audio else None,  # seconds spent per second of audio, per request
        "first_audio_p50_s": percentile(first, 50), "first_audio_p95_s": percentile(first, 95),
        "first_audio_p99_s": percentile(first, 99),
        "total_p50_s": percentile(total, 50), "total_p99_s": percentile(total, 99),
        "stall_p50_s": percentile(stalls, 50), "stall_p99_s": percentile(stalls, 99),
    }
