"""Builds the FastAPI application: the speech service started with the app, the guards, the error bodies
and the routes of frontend.api.routes. Nothing here handles a request."""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from frontend.api import errors
from frontend.api.dependencies import Access
from frontend.api.guards import Admission, BodyLimit, RateLimiter, ShutdownAnswer
from frontend.api.observability import RequestTracking
from frontend.api.routes import captions, dev, downloads, health, models, speech, voices, web
from frontend.reading.phonemes import Phonemizer
from frontend.settings import Settings, get_settings
from frontend.synthesis.downloads import Downloads
from frontend.synthesis.metrics import Metrics
from frontend.synthesis.service import SpeechService
from frontend.synthesis.triton_client import TritonSynthesizer
from frontend.synthesis.voices import VoiceCatalog

log = logging.getLogger("frontend")


def create_app(settings: Settings | None = None, metrics: Metrics | None = None) -> FastAPI:
    settings = settings or get_settings()
    metrics = metrics or Metrics()
    app = FastAPI(title="Kokoro TTS", version="0.1.0", lifespan=_lifespan,
                  description="OpenAI-compatible text to speech: Kokoro-82M on Triton")
    app.state.settings, app.state.metrics = settings, metrics
    app.state.access = Access(settings.keys(), RateLimiter(settings.rate_limit_per_minute))
    app.state.admission = Admission(settings.max_inflight)
    metrics.inflight.set_function(lambda: app.state.admission.active)
    errors.install(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(ShutdownAnswer)
    app.add_middleware(RequestTracking, metrics=metrics)
    if settings.cors_origins:  # closed unless configured: browsers on other origins get no CORS headers
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"],
                           expose_headers=["X-Request-ID", "X-Download-Path"])
    for routes in (speech, captions, downloads, models, voices, dev, health, web):
        app.include_router(routes.router)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI):
    settings, metrics = app.state.settings, app.state.metrics
    phonemizer = Phonemizer(settings.assets)
    await asyncio.to_thread(phonemizer.phonemize, "ready", "a")  # load the G2P before the first request
    synthesizer = TritonSynthesizer(settings.triton_url, settings.triton_model, settings.request_timeout_s,
                                    max_inflight=settings.triton_max_inflight,
                                    recovery_wait_s=settings.triton_recovery_wait_s)
    metrics.waiting_chunks.set_function(lambda: synthesizer.slots.waiting)
    voices = VoiceCatalog(settings.assets / "voices", settings.default_voice)
    kept = Downloads(settings.download_ttl_s, settings.download_max_files, settings.download_max_bytes)
    app.state.service = SpeechService(settings, synthesizer, phonemizer, voices, metrics, kept)
    _log_start(voices, settings.keys())
    yield
    await synthesizer.close()
    kept.close()


def _log_start(voices: VoiceCatalog, keys: list[str]) -> None:
    log.info("%d voices; OpenAI voice names spoken by: %s", len(voices.packs),
             ", ".join(f"{name}={voice}" for name, voice in voices.mapping().items()))
    if voices.stand_ins:
        log.warning("voices missing from this model repository, spoken by stand-ins when reached through an OpenAI "
                    "name or the default (asked for by id, they answer 400): %s",
                    ", ".join(f"{missing}->{voice}" for missing, voice in voices.stand_ins.items()))
    if keys:
        log.info("API keys required: %d configured", len(keys))
    else:
        log.warning("no API_KEYS configured: the API is open to anyone who can reach it")
