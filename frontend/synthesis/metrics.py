"""The product's Prometheus counters, in one registry served at /metrics: what was asked, synthesized and how
fast. The API's middleware and the synthesis service both count into it."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.05, 0.1, 0.15, 0.25, 0.4, 0.6, 1, 1.5, 2.5, 4, 6, 10, 20, 40, 80)


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
