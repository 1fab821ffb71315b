"""How the working routes answer: within an admission slot, a stream that starts only once its first item is
ready and ends at MAX_STREAM_SECONDS, or a whole body whose work stops when the client leaves."""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Request

from frontend.api.guards import Admission
from frontend.errors import APIError, BackendTimeout


class Slot:
    """A request's place among those in progress: given back when the route returns, or with a stream that
    `held` hands it to, when the stream ends."""

    def __init__(self, admission: Admission):
        self.release = admission.enter()
        self.deadline = asyncio.get_running_loop().time() + admission.stream_s  # MAX_STREAM_SECONDS
        self.handed_over = False

    def held(self, stream: AsyncGenerator, in_band: Callable[[APIError], Any] | None = None) -> AsyncIterator:
        """The stream, ended at the deadline; `in_band` renders its error as the stream's last item (SSE,
        JSON lines), else the response is cut off."""
        self.handed_over = True
        return Admission.held(capped(stream, self.deadline, in_band), self.release)


async def capped(stream: AsyncGenerator, deadline: float, in_band: Callable[[APIError], Any] | None) -> AsyncIterator:
    """`stream` until it ends or the deadline (the loop's clock) passes; then its work is cancelled where it
    waits (its Triton calls with it) and it ends visibly."""
    async with contextlib.aclosing(stream):
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    item = await anext(stream)
            except StopAsyncIteration:
                return
            except TimeoutError:
                break
            yield item
    error = BackendTimeout("the stream reached this server's limit on a stream's duration (MAX_STREAM_SECONDS); "
                           "ask for less audio per request", code="stream_too_long")
    if in_band is None:
        raise error
    yield in_band(error)


@asynccontextmanager
async def admitted(admission: Admission):
    slot = Slot(admission)
    try:
        yield slot
    finally:
        if not slot.handed_over:
            slot.release()


async def first_item_ready(stream):
    """Wait for the stream's first item before the response starts: a failure up to then (Triton down,
    a timeout) becomes a proper error status. After it, a failure can only end the stream early."""
    try:
        first = await stream.__anext__()
    except StopAsyncIteration:
        first = None

    async def resumed():
        if first is not None:
            yield first
        async for item in stream:
            yield item
    return resumed()


async def unless_disconnected(request: Request, work):
    """Await `work`, cancelling it if the client goes away first."""
    task = asyncio.ensure_future(work)
    while not task.done():
        done, _ = await asyncio.wait({task}, timeout=0.5)
        if not done and await request.is_disconnected():
            task.cancel()
            break
    return await task
