"""What the routes depend on, kept on the app's state by create_app: the caller's key and rate limit, the
admission counter, the speech service."""
from __future__ import annotations

import hmac

from fastapi import Depends, Request

from frontend.api.guards import Admission, RateLimiter
from frontend.errors import Unauthorized
from frontend.settings import Settings
from frontend.synthesis.service import SpeechService


class Access:
    """Bearer keys when configured (every key compared, always, in constant time), then the rate limit
    per key, or per client address when the API is open."""

    def __init__(self, keys: list[str], rate_limit: RateLimiter):
        self.keys, self.rate_limit = keys, rate_limit

    def check(self, request: Request) -> None:
        if not self.keys:
            self.rate_limit.take(request.client.host if request.client else "")
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("missing bearer API key (Authorization: Bearer ...)", code="missing_api_key",
                               headers={"WWW-Authenticate": "Bearer"})
        matches = [hmac.compare_digest(token.encode(), key.encode()) for key in self.keys]
        if not any(matches):
            raise Unauthorized("invalid API key", code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
        self.rate_limit.take(token)


def authorize(request: Request) -> None:
    request.app.state.access.check(request)


def speech_service(request: Request) -> SpeechService:
    return request.app.state.service


def admission(request: Request) -> Admission:
    return request.app.state.admission


def settings(request: Request) -> Settings:
    return request.app.state.settings


PROTECTED = [Depends(authorize)]
