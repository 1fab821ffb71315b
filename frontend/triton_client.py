"""The Triton side: one utterance's token ids and style in, its 24 kHz samples out (async).

Several Triton servers can stand behind one frontend: calls are spread over them in turn, and a call
that cannot reach one (refused, reset, the server gone mid-call) is retried on the others. Synthesis is
deterministic (a fixed seed), so a retried call gives the same audio."""
from __future__ import annotations

import asyncio
import itertools
import logging
import time

import aiohttp
import numpy as np
import tritonclient.http.aio as tritonhttp
from tritonclient.utils import InferenceServerException

from frontend.errors import BackendTimeout, BackendUnavailable, InvalidRequest

log = logging.getLogger("frontend")
SAMPLE_RATE = 24000
RETRY_AFTER = {"Retry-After": "5"}
UNREACHABLE = (aiohttp.ClientConnectionError, OSError)
FIRST_PRIORITY, LATER_PRIORITY = 1, 2  # Triton's priority levels (config.pbtxt): 1 is served first
# aiohttp asks for gzip by default, and Triton would spend 4-5 ms of CPU per second of audio compressing
# float samples by 8 %: CPU taken from synthesis on a small machine.
UNCOMPRESSED = {"Accept-Encoding": "identity"}


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
    def __init__(self, urls: list[str], model: str, timeout_s: float, cooldown_s: float = 2.0):
        self.model, self.timeout_s = model, timeout_s
        self.backends = [TritonBackend(url, timeout_s, cooldown_s) for url in urls]
        self._turn = itertools.count()

    async def close(self) -> None:
        for backend in self.backends:
            await backend.close()

    async def ready(self) -> bool:
        """Ready when at least one server has the model ready."""
        for backend in self.backends:
            try:
                if await backend.client.is_server_ready() and await backend.client.is_model_ready(self.model):
                    return True
            except (aiohttp.ClientError, InferenceServerException, asyncio.TimeoutError, OSError):
                continue
        return False

    def _in_turn(self) -> list[TritonBackend]:
        """Every backend once, starting with the next in turn; those cooling down after a failure last."""
        start = next(self._turn) % len(self.backends)
        rotated = self.backends[start:] + self.backends[:start]
        return sorted(rotated, key=lambda backend: not backend.up)

    async def synthesize(self, token_ids: list[int], style: np.ndarray, speed: float, seed: int = 0,
                         request_id: str = "", first: bool = False) -> np.ndarray:
        """`first`: the chunk a client is waiting on for its first audio; Triton serves these first."""
        inputs = [
            _tensor("token_ids", np.asarray(token_ids, dtype=np.int64)[None], "INT64"),
            _tensor("style", np.asarray(style, dtype=np.float32)[None], "FP32"),
            _tensor("speed", np.array([[speed]], dtype=np.float32), "FP32"),
            _tensor("seed", np.array([[seed]], dtype=np.int64), "INT64"),
        ]
        error: BackendUnavailable | None = None
        for backend in self._in_turn():
            try:
                return await self._infer(backend, inputs, request_id, FIRST_PRIORITY if first else LATER_PRIORITY)
            except BackendUnavailable as e:
                backend.failed(e.message)
                error = e
        raise error

    async def _infer(self, backend: TritonBackend, inputs: list, request_id: str, priority: int) -> np.ndarray:
        try:
            # Triton drops a request still queued past `timeout`.
            call = backend.client.infer(self.model, inputs, request_id=request_id, priority=priority,
                                        timeout=int(self.timeout_s * 1e6), headers=UNCOMPRESSED)
            result = await asyncio.wait_for(call, self.timeout_s)
        except asyncio.TimeoutError as e:
            raise self._timeout() from e
        except UNREACHABLE as e:
            raise BackendUnavailable("the inference server is unreachable", code="backend_unavailable",
                                     headers=RETRY_AFTER) from e
        except InferenceServerException as e:
            if "timeout" in str(e.message()).lower():  # rejected from Triton's queue at the deadline
                raise self._timeout() from e
            if e.status() == "400" and "unknown model" not in str(e.message()):  # the model refused it
                raise InvalidRequest(str(e.message())) from e
            raise BackendUnavailable(f"the inference server failed: {e.message()}", code="backend_error",
                                     headers=RETRY_AFTER) from e
        return result.as_numpy("audio")[0]


    def _timeout(self) -> BackendTimeout:
        return BackendTimeout(f"synthesis took longer than {self.timeout_s:g} s", code="timeout")


def _tensor(name: str, array: np.ndarray, dtype: str) -> tritonhttp.InferInput:
    tensor = tritonhttp.InferInput(name, list(array.shape), dtype)
    tensor.set_data_from_numpy(array)
    return tensor
