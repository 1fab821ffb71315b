"""Builds the FastAPI application: the speech service started with the app, the guards, the error bodies
and the routes of frontend.api.routes. Nothing here handles a request."""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from frontend.api import errors, wyoming
from frontend.api.dependencies import Access
from frontend.api.guards import BodyLimit, Inflight, RateLimiter, ShutdownAnswer
from frontend.api.observability import RequestTracking
from frontend.api.routes import captions, dev, downloads, health, models, speech, voices, web, websocket
from frontend.reading.phonemes import Phonemizer
from frontend.settings import Settings, get_settings
from frontend.synthesis.defaults import PRODUCT_VERSION
from frontend.synthesis.downloads import Downloads, Quota
from frontend.synthesis.metrics import Metrics
from frontend.synthesis.service import SpeechService
from frontend.synthesis.triton_client import TritonSynthesizer
from frontend.synthesis.voices import VoiceCatalog

log = logging.getLogger("frontend")
DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"


def create_app(settings: Settings | None = None, metrics: Metrics | None = None) -> FastAPI:
    settings = settings or get_settings()
    metrics = metrics or Metrics()
    app = FastAPI(title="Kokoro TTS", version=PRODUCT_VERSION, lifespan=_lifespan, docs_url=None, redoc_url=None,
                  description="OpenAI-compatible text to speech: Kokoro-82M on Triton")
    app.state.settings, app.state.metrics = settings, metrics
    app.state.access = Access(settings.keys(), RateLimiter(settings.rate_limit_per_minute))
    app.state.inflight = Inflight(settings.max_inflight, settings.inflight_per_key(), settings.max_stream_seconds)
    metrics.inflight.set_function(lambda: app.state.inflight.active)
    app.state.websocket_sessions = Inflight(settings.websocket_max_sessions, settings.websocket_max_sessions_per_key,
                                            settings.websocket_max_session_s)
    errors.install(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(ShutdownAnswer)
    app.add_middleware(RequestTracking, metrics=metrics)
    if settings.cors_origins:  # closed unless configured: browsers on other origins get no CORS headers
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"],
                           expose_headers=["X-Request-ID", "X-Download-Path"])
    for routes in (speech, captions, downloads, models, voices, dev, health, web, websocket):
        app.include_router(routes.router)
    _serve_docs(app)
    return app


def _serve_docs(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc with their scripts and styles served from here (fastapi-offline's
    copies), not a CDN: the docs work offline and load nothing from another host."""
    app.mount("/docs/assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        assets = f"{request.scope.get('root_path', '')}/docs/assets"
        return get_swagger_ui_html(openapi_url=f"{request.scope.get('root_path', '')}{app.openapi_url}",
                                   title=f"{app.title} - Swagger UI", swagger_js_url=f"{assets}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{assets}/swagger-ui.css",
                                   swagger_favicon_url=f"{assets}/favicon.png")

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        assets = f"{request.scope.get('root_path', '')}/docs/assets"
        return get_redoc_html(openapi_url=f"{request.scope.get('root_path', '')}{app.openapi_url}",
                              title=f"{app.title} - ReDoc", redoc_js_url=f"{assets}/redoc.standalone.js",
                              redoc_favicon_url=f"{assets}/favicon.png", with_google_fonts=False)


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
    kept = Downloads(Quota(settings.download_max_files, settings.download_max_bytes),
                     Quota(settings.download_max_files_per_key, settings.download_max_bytes_per_key),
                     settings.download_ttl_s)
    app.state.service = SpeechService(settings, synthesizer, phonemizer, voices, metrics, kept)
    _log_start(voices, settings.keys())
    home_assistant = None
    if wyoming.enabled(settings):  # Wyoming's port, in this event loop, through the same service and limits
        home_assistant = wyoming.WyomingServer(app.state.service, app.state.inflight, app.state.access.rate_limit)
        await home_assistant.start()
    yield
    if home_assistant:
        await home_assistant.close()
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
