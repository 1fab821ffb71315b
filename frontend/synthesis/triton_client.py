"""The Triton side: one utterance's token ids and style in, its 24 kHz samples and token durations out (async).

Several Triton servers can stand behind one frontend: calls are spread over them in turn, and a call
that cannot reach one (refused, reset, the server gone mid-call) is retried on the others. A call lost
with its server or model instance (a crash under it), or failed for a request that began before the
failures did (in flight or queued here when the server went away), is retried once more when a server is
ready again (the supervisor of `make serve` restarts it): the request succeeds late rather than fails or is
cut short. A request that begins once calls are failing is answered 503 at once.
Synthesis is deterministic (a fixed seed), so a retried call gives the same audio. At most as many calls as the servers
can work on at once are at Triton; the rest wait in `schedule.EarliestDeadlineFirst`."""
from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import numpy as np
import tritonclient.http.aio as tritonhttp
from tritonclient.utils import InferenceServerException

from frontend.errors import BackendTimeout, BackendUnavailable, InvalidRequest
from frontend.synthesis.schedule import EarliestDeadlineFirst

log = logging.getLogger("frontend")
RETRY_AFTER = {"Retry-After": "5"}
UNREACHABLE = (aiohttp.ClientConnectionError, OSError)
REFUSED = (aiohttp.ClientConnectorError, ConnectionRefusedError)  # nothing listens: down, not lost under a call
INSTANCE_DIED = "is not healthy"  # Triton's Python backend, for a request given to an instance whose stub died
READY_POLL_S = 0.5
UNANSWERED = (aiohttp.ClientError, InferenceServerException, asyncio.TimeoutError, OSError)  # status queries
# aiohttp asks for gzip by default, and Triton would spend 4-5 ms of CPU per second of audio compressing
# float samples by 8 %: CPU taken from synthesis on a small machine.
UNCOMPRESSED = {"Accept-Encoding": "identity"}


@dataclass(frozen=True)
class Synthesis:
    samples: np.ndarray  # float32, 24 kHz
    durations: np.ndarray  # int64 [n + 2]: frames per token, pads included (samples: their sum * SAMPLES_PER_FRAME)


class BackendLost(BackendUnavailable):
    """The server or model instance died under the call: it may succeed once they are back."""


class TritonBackend:
    """One Triton server; after a failed call it sits out `cooldown_s` unless no other is left."""

    def __init__(self, url: str, timeout_s: float, cooldown_s: float):
        self.url, self.timeout_s, self.cooldown_s = url, timeout_s, cooldown_s
        self.down_until = 0.0
        self._client: tritonhttp.InferenceServerClient | None = None

    @property
    def client(self) -> tritonhttp.InferenceServerClient:
        if self._client is None:  # created inside the running event loop
            self._client = tritonhttp.InferenceServerClient(self.url, conn_limit=256, conn_timeout=self.timeout_s)
        return self._client

    @property
    def up(self) -> bool:
        return time.monotonic() >= self.down_until

    def failed(self, reason: str) -> None:
        if self.up:
            log.warning("Triton at %s failed (%s); trying the others for %g s", self.url, reason, self.cooldown_s)
        self.down_until = time.monotonic() + self.cooldown_s

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


class TritonSynthesizer:
    """`max_inflight`: calls at Triton at once; 0 reads it from the servers (`capacity`). `recovery_wait_s`: how
    long a call a crash caught waits for a server to be ready again."""

    def __init__(self, urls: list[str], model: str, timeout_s: float, cooldown_s: float = 2.0, max_inflight: int = 0,
                 recovery_wait_s: float = 60.0):
        self.model, self.timeout_s, self.recovery_wait_s = model, timeout_s, recovery_wait_s
        self.backends = [TritonBackend(url, timeout_s, cooldown_s) for url in urls]
        self._turn = itertools.count()
        self.slots = EarliestDeadlineFirst(max_inflight or None)
        self.last_up: float | None = None  # when a server last answered a call or had the model ready
        self.failing_since: float | None = None  # the first failed call after that

    async def close(self) -> None:
        for backend in self.backends:
            await backend.close()

    async def ready(self) -> bool:
        """Ready when at least one server has the model ready."""
        for backend in self.backends:
            try:
                if await backend.client.is_server_ready() and await backend.client.is_model_ready(self.model):
                    self._up()
                    return True
            except UNANSWERED:
                continue
        return False

    def _in_turn(self) -> list[TritonBackend]:
        """Every backend once, starting with the next in turn; those cooling down after a failure last."""
        start = next(self._turn) % len(self.backends)
        rotated = self.backends[start:] + self.backends[:start]
        return sorted(rotated, key=lambda backend: not backend.up)

    async def capacity(self) -> int | None:
        """Requests the servers work on at once: per server, its model's instances times the batch its
        batcher forms (the largest preferred size, else the largest allowed). None if none answers."""
        total = None
        for backend in self.backends:
            try:
                config = await backend.client.get_model_config(self.model)
            except UNANSWERED:
                continue
            total = (total or 0) + _concurrency(config)
        return total

    async def synthesize(self, token_ids: list[int], style: np.ndarray, speed: float, seed: int = 0,
                         request_id: str = "", deadline: float | None = None, began: float | None = None) -> Synthesis:
        """`deadline` (time.monotonic()): when the client needs this audio; calls waiting for a slot at
        Triton go earliest deadline first (default: now). Waiting and the call each have `timeout_s`.
        `began` (time.monotonic(), default: now): when the request began."""
        if self.slots.capacity is None:
            self.slots.capacity = await self.capacity()
        began = time.monotonic() if began is None else began
        deadline = began if deadline is None else deadline
        try:
            return await self._in_slot(deadline, token_ids, style, speed, seed, request_id)
        except BackendUnavailable as e:
            self.failing_since = self.failing_since or time.monotonic()
            # The wait holds no slot: new requests meanwhile reach no server and get 503 at once.
            if not (isinstance(e, BackendLost) or self._caught(began)) or not await self._ready_again():
                raise
            log.warning("request %s: retried once, Triton ready again after: %s", request_id, e.message)
            return await self._in_slot(deadline, token_ids, style, speed, seed, request_id)

    async def _in_slot(self, deadline: float, *call) -> Synthesis:
        try:
            async with asyncio.timeout(self.timeout_s):
                await self.slots.enter(deadline)
        except TimeoutError as e:
            raise BackendTimeout(f"no slot at the inference server within {self.timeout_s:g} s",
                                 code="timeout") from e
        try:
            return await self._any_backend(*call)
        finally:
            self.slots.leave()

    def _up(self) -> None:
        self.last_up, self.failing_since = time.monotonic(), None

    def _caught(self, began: float) -> bool:
        """Whether a request was under way (in flight or queued here) when calls began to fail."""
        return self.last_up is not None and self.failing_since is not None and began < self.failing_since

    async def _ready_again(self) -> bool:
        """Whether a server has the model ready within `recovery_wait_s`."""
        deadline = time.monotonic() + self.recovery_wait_s
        while time.monotonic() < deadline:
            await asyncio.sleep(READY_POLL_S)
            if await self.ready():
                return True
        return False

    async def _any_backend(self, token_ids: list[int], style: np.ndarray, speed: float, seed: int,
                           request_id: str) -> Synthesis:
        inputs = [
            _tensor("token_ids", np.asarray(token_ids, dtype=np.int64)[None], "INT64"),
            _tensor("style", np.asarray(style, dtype=np.float32)[None], "FP32"),
            _tensor("speed", np.array([[speed]], dtype=np.float32), "FP32"),
            _tensor("seed", np.array([[seed]], dtype=np.int64), "INT64"),
        ]
        error: BackendUnavailable | None = None
        for backend in self._in_turn():
            try:
                synthesis = await self._infer(backend, inputs, request_id)
                self._up()
                return synthesis
            except BackendUnavailable as e:
                backend.failed(e.message)
                error = e
        raise error or BackendUnavailable("no Triton server is configured (TRITON_URL)", code="backend_unavailable")

    async def _infer(self, backend: TritonBackend, inputs: list, request_id: str) -> Synthesis:
        try:
            # Not wait_for: in Python 3.11 it can lose a cancellation that meets the call's own end (bpo-42130),
            # and a chunk cancelled with its failed request would go on to wait for a server.
            async with asyncio.timeout(self.timeout_s):
                # Triton drops a request still queued past `timeout`.
                result = await backend.client.infer(self.model, inputs, request_id=request_id,
                                                    timeout=int(self.timeout_s * 1e6), headers=UNCOMPRESSED)
        except TimeoutError as e:
            raise self._timeout() from e
        except REFUSED as e:
            raise BackendUnavailable("the inference server is unreachable", code="backend_unavailable",
                                     headers=RETRY_AFTER) from e
        except UNREACHABLE as e:
            raise BackendLost("the inference server was lost during the request", code="backend_unavailable",
                              headers=RETRY_AFTER) from e
        except InferenceServerException as e:
            if "timeout" in str(e.message()).lower():  # rejected from Triton's queue at the deadline
                raise self._timeout() from e
            if e.status() == "400" and "unknown model" not in str(e.message()):  # the model refused it
                raise InvalidRequest(str(e.message())) from e
            log.error("request %s: %s failed: %s", request_id, backend.url, e.message())  # not for clients
            failure = BackendLost if INSTANCE_DIED in str(e.message()) else BackendUnavailable
            raise failure("the inference server failed on this request", code="backend_error",
                          headers=RETRY_AFTER) from e
        return Synthesis(result.as_numpy("audio")[0], result.as_numpy("durations")[0])

    def _timeout(self) -> BackendTimeout:
        return BackendTimeout(f"synthesis took longer than {self.timeout_s:g} s", code="timeout")


def _concurrency(config: dict[str, Any]) -> int:
    instances = sum(group.get("count", 1) for group in config.get("instance_group", [])) or 1
    batch = max(config.get("dynamic_batching", {}).get("preferred_batch_size") or [config.get("max_batch_size") or 1])
    return instances * batch


def _tensor(name: str, array: np.ndarray, dtype: str) -> tritonhttp.InferInput:
    tensor = tritonhttp.InferInput(name, list(array.shape), dtype)
    tensor.set_data_from_numpy(array)
    return tensor
