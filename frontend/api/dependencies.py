"""What the routes depend on, kept on the app's state by create_app: the caller's key and rate limit, its
admission among the requests in progress, the speech service."""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection

from fastapi import Depends, Request

from frontend.api.guards import Admission, RateLimiter
from frontend.errors import Unauthorized
from frontend.settings import Settings
from frontend.synthesis.service import SpeechService


class Access:
    """Bearer keys when configured (every key compared, always, in constant time), then the rate limit
    per key, or per client address when the API is open."""

    def __init__(self, keys: Collection[str], rate_limit: RateLimiter):
        self.keys, self.rate_limit = list(keys), rate_limit

    def check(self, request: Request) -> str:
        """The client the request is counted for: its key's digest (the key itself is kept nowhere else), or
        its address when the API is open."""
        if not self.keys:
            client = f"address:{request.client.host if request.client else ''}"
            self.rate_limit.take(client)
            return client
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("missing bearer API key (Authorization: Bearer ...)", code="missing_api_key",
                               headers={"WWW-Authenticate": "Bearer"})
        matches = [hmac.compare_digest(token.encode(), key.encode()) for key in self.keys]
        if not any(matches):
            raise Unauthorized("invalid API key", code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
        client = f"key:{hashlib.sha256(token.encode()).hexdigest()[:32]}"
        self.rate_limit.take(client)
        return client


async def authorize(request: Request) -> str:
    return request.app.state.access.check(request)


def speech_service(request: Request) -> SpeechService:
    return request.app.state.service


def admission(request: Request, client: str = Depends(authorize)) -> Admission:
    return Admission(request.app.state.inflight, client)


def settings(request: Request) -> Settings:
    return request.app.state.settings


PROTECTED = [Depends(authorize)]
