"""How the synthesizing routes answer: within an admission slot, a stream that starts only once its first item
is ready, or a whole body whose work stops when the client leaves."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import Request

from frontend.api.guards import Admission


class Slot:
    """A request's place among those in progress: given back when the route returns, or with a stream that
    `held` hands it to, when the stream ends."""

    def __init__(self, inflight: Admission):
        self.release = inflight.enter()
        self.handed_over = False

    def held(self, stream: AsyncIterator) -> AsyncIterator:
        self.handed_over = True
        return Admission.held(stream, self.release)


@asynccontextmanager
async def admitted(inflight: Admission):
    slot = Slot(inflight)
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
