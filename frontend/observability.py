"""What operators see: Prometheus metrics at /metrics and one structured log line per request, both
keyed by a request id that is returned in `X-Request-ID` and sent on to Triton with every chunk."""
from __future__ import annotations

import json
import logging
import re
import time
import uuid

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

log = logging.getLogger("frontend.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
LATENCY_BUCKETS = (0.05, 0.1, 0.15, 0.25, 0.4, 0.6, 1, 1.5, 2.5, 4, 6, 10, 20, 40, 80)
SPEECH_PATHS = ("/v1/audio/speech", "/audio/speech")
QUIET_PATHS = ("/health", "/ready", "/metrics")  # probes and scrapes: counted by others, not logged


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("kokoro_speech_requests_total", "Speech requests by HTTP status and audio format",
                                ["status", "format"], registry=self.registry)
        self.audio_seconds = Counter("kokoro_audio_seconds_total", "Seconds of audio synthesized",
                                     registry=self.registry)
        self.characters = Counter("kokoro_input_characters_total", "Characters of input text accepted",
                                  registry=self.registry)
        self.first_audio = Histogram("kokoro_first_audio_seconds", "Request start to the first audio byte",
                                     buckets=LATENCY_BUCKETS, registry=self.registry)
        self.total = Histogram("kokoro_request_seconds", "Request start to the last byte",
                               buckets=LATENCY_BUCKETS, registry=self.registry)
        self.inflight = Gauge("kokoro_inflight_requests", "Speech requests in progress", registry=self.registry)
        self.waiting_chunks = Gauge("kokoro_chunks_waiting_for_triton",
                                    "Chunks waiting in the frontend for a slot at Triton (TRITON_MAX_INFLIGHT)",
                                    registry=self.registry)
        self.triton_restarts = Counter("kokoro_triton_restarts_total", "Restarts of the Triton that `make serve` "
                                       "supervises, by reason (exited, instance_died, unresponsive)", ["reason"],
                                       registry=self.registry)


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
            if scope["path"] in QUIET_PATHS:
                return
            log.info(json.dumps({"request_id": request_id, "method": scope["method"], "path": scope["path"],
                                 "status": status, "seconds": round(seconds, 4),
                                 "first_byte_seconds": None if first_byte is None else round(first_byte, 4),
                                 "format": scope["state"].get("format")}))
