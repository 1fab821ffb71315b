"""The Triton side: one utterance's token ids and style in, its 24 kHz samples out (async)."""
from __future__ import annotations

import asyncio

import aiohttp
import numpy as np
import tritonclient.http.aio as tritonhttp
from tritonclient.utils import InferenceServerException

from frontend.errors import BackendTimeout, BackendUnavailable, InvalidRequest

SAMPLE_RATE = 24000


class TritonSynthesizer:
    def __init__(self, url: str, model: str, timeout_s: float):
        self.url, self.model, self.timeout_s = url, model, timeout_s
        self._client: tritonhttp.InferenceServerClient | None = None

    @property
    def client(self) -> tritonhttp.InferenceServerClient:
        if self._client is None:  # created inside the running event loop
            self._client = tritonhttp.InferenceServerClient(self.url, conn_limit=256, conn_timeout=self.timeout_s)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def ready(self) -> bool:
        try:
            return await self.client.is_server_ready() and await self.client.is_model_ready(self.model)
        except (aiohttp.ClientError, InferenceServerException, asyncio.TimeoutError, OSError):
            return False

    async def synthesize(self, token_ids: list[int], style: np.ndarray, speed: float, seed: int = 0,
                         request_id: str = "") -> np.ndarray:
        inputs = [
            _tensor("token_ids", np.asarray(token_ids, dtype=np.int64)[None], "INT64"),
            _tensor("style", np.asarray(style, dtype=np.float32)[None], "FP32"),
            _tensor("speed", np.array([[speed]], dtype=np.float32), "FP32"),
            _tensor("seed", np.array([[seed]], dtype=np.int64), "INT64"),
        ]
        try:
            result = await asyncio.wait_for(self.client.infer(self.model, inputs, request_id=request_id), self.timeout_s)
        except asyncio.TimeoutError as e:
            raise BackendTimeout(f"synthesis took longer than {self.timeout_s:g} s", code="timeout") from e
        except (aiohttp.ClientConnectionError, OSError) as e:
            raise BackendUnavailable("the inference server is unreachable", code="backend_unavailable",
                                     headers={"Retry-After": "5"}) from e
        except InferenceServerException as e:
            if e.status() == "400":  # the model refused the request (INVALID_ARG)
                raise InvalidRequest(str(e.message())) from e
            raise BackendUnavailable(f"the inference server failed: {e.message()}", code="backend_error",
                                     headers={"Retry-After": "5"}) from e
        return result.as_numpy("audio")[0]


def _tensor(name: str, array: np.ndarray, dtype: str) -> tritonhttp.InferInput:
    tensor = tritonhttp.InferInput(name, list(array.shape), dtype)
    tensor.set_data_from_numpy(array)
    return tensor
