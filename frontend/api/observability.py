"""What operators see: Prometheus metrics at /metrics and one structured log line per request, both
keyed by a request id that is returned in `X-Request-ID` and sent on to Triton with every chunk."""
from __future__ import annotations

import json
import logging
import re
import time
import uuid

from frontend.synthesis.metrics import Metrics

log = logging.getLogger("frontend.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SPEECH_PATHS = ("/v1/audio/speech", "/audio/speech")
QUIET_PATHS = ("/health", "/ready", "/metrics")  # probes and scrapes: counted by others, not logged


class RequestTracking:
    """ASGI middleware: a request id for every request; for speech requests, status, format, first-audio
    and total latency into the metrics, and one JSON log line when the response ends."""

    def __init__(self, app, metrics: Metrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started, status, first_byte = time.monotonic(), 500, None
        speech = scope["path"] in SPEECH_PATHS

        async def tracked_send(message):
            nonlocal status, first_byte
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            elif message["type"] == "http.response.body" and message.get("body") and first_byte is None:
                first_byte = time.monotonic() - started
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        finally:
            seconds = time.monotonic() - started
            if speech:
                response_format = scope["state"].get("format", "none")
                self.metrics.requests.labels(str(status), response_format).inc()
                self.metrics.total.observe(seconds)
                if first_byte is not None and status == 200:
                    self.metrics.first_audio.observe(first_byte)
            if scope["path"] not in QUIET_PATHS:
                log.info(json.dumps({"request_id": request_id, "method": scope["method"], "path": scope["path"],
                                     "status": status, "seconds": round(seconds, 4),
                                     "first_byte_seconds": None if first_byte is None else round(first_byte, 4),
                                     "format": scope["state"].get("format")}))
