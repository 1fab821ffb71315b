"""What stands between a request and the model: admission (requests in progress, in all and per key), per-key
rate limits, the body size limit, and the answer to a request the server's shutdown cuts short. Each answers
in the OpenAI error shape with the status a client can act on."""
from __future__ import annotations

import asyncio
import math
import time
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from frontend.api import errors
from frontend.errors import BackendUnavailable, PayloadTooLarge, TooManyRequests


class Inflight:
    """Requests doing work: at most `limit` of all clients together and `per_client` of one client (an API key,
    or an address when the API is open), so a few slow clients cannot lock everyone else out."""

    def __init__(self, limit: int, per_client: int, stream_s: float):
        self.limit, self.per_client, self.stream_s = limit, per_client, stream_s
        self.active = 0
        self.by_client: Counter[str] = Counter()

    def enter(self, client: str) -> Callable[[], None]:
        """Take a slot, or 429 with Retry-After; the function returned gives it back (once, however often called)."""
        if self.active >= self.limit:
            raise TooManyRequests(f"{self.active} requests in progress; retry shortly", code="too_many_requests",
                                  headers={"Retry-After": "1"})
        if self.by_client[client] >= self.per_client:
            raise TooManyRequests(f"{self.per_client} requests of this API key are in progress, its limit "
                                  "(MAX_INFLIGHT_PER_KEY); retry when one ends", code="too_many_requests_for_key",
                                  headers={"Retry-After": "1"})
        self.active += 1
        self.by_client[client] += 1
        released = False

        def release():
            nonlocal released
            if not released:
                released = True
                self.active -= 1
                self.by_client[client] -= 1
                if not self.by_client[client]:
                    del self.by_client[client]
        return release


@dataclass(frozen=True)
class Admission:
    """One client's way into the requests doing work (what a route is given)."""
    inflight: Inflight
    client: str  # the caller: its key's digest, or its address when the API is open

    def enter(self) -> Callable[[], None]:
        return self.inflight.enter(self.client)

    @property
    def stream_s(self) -> float:
        return self.inflight.stream_s

    @staticmethod
    def held(stream, release):
        """Keep the slot until the stream ends, however it ends: also when the client leaves before the
        response starts iterating (a generator never started runs no `finally`, so its collection does)."""
        async def relay():
            try:
                async for item in stream:
                    yield item
            finally:
                release()
        generator = relay()
        weakref.finalize(generator, release)
        return generator


class BodyLimit:
    """413 for a body over the limit before the route parses it: a declared length is checked up front, a
    chunked body (no length) is read up to the limit first and then handed on."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:  # the server holds the body to its declared length
            if declared.isdigit() and int(declared) > self.limit:
                return await self._refuse(scope, receive, send)
            return await self.app(scope, receive, send)
        messages, received = [], 0
        while True:
            message = await receive()
            messages.append(message)
            received += len(message.get("body", b""))
            if received > self.limit:
                return await self._refuse(scope, receive, send)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()
        await self.app(scope, replay, send)

    async def _refuse(self, scope, receive, send):
        error = PayloadTooLarge(f"request body exceeds {self.limit} bytes", code="request_too_large")
        await errors.error_response(error)(scope, receive, send)


class ShutdownAnswer:
    """503 with Retry-After for a request still in progress when the shutdown grace (SHUTDOWN_GRACE_S)
    runs out and the server cancels it; the server's own answer would be a bare 500. A response already
    under way is cut off instead, so the client sees it end early."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def watched_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)
        try:
            await self.app(scope, receive, watched_send)
        except asyncio.CancelledError:
            if started:
                raise
            error = BackendUnavailable("the server is shutting down; retry the request", code="shutting_down",
                                       headers={"Retry-After": "1"})
            await errors.error_response(error)(scope, receive, send)  # the request ends here, answered


class RateLimiter:
    """A token bucket per API key: `per_minute` requests a minute, at most a minute's worth at once."""

    def __init__(self, per_minute: int):
        self.per_minute = per_minute
        self.buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when counted)

    def take(self, key: str) -> None:
        if not self.per_minute:
            return
        now = time.monotonic()
        tokens, then = self.buckets.get(key, (self.per_minute, now))
        tokens = min(self.per_minute, tokens + (now - then) * self.per_minute / 60)
        if tokens < 1:
            self.buckets[key] = (tokens, now)
            wait_s = math.ceil((1 - tokens) * 60 / self.per_minute)
            raise TooManyRequests(f"rate limit of {self.per_minute} requests per minute reached for this API key",
                                  code="rate_limit_exceeded", headers={"Retry-After": str(wait_s)})
        self.buckets[key] = (tokens - 1, now)
        if len(self.buckets) > 10_000:  # open APIs count per client address: forget those refilled
            self.buckets = {k: (t, w) for k, (t, w) in self.buckets.items() if now - w < 60}
