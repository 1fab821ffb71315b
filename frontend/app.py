"""FastAPI application: thin routes over SpeechService, bearer keys and the guards, OpenAI error bodies."""
from __future__ import annotations

import asyncio
import hmac
import logging
import time
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from frontend import errors
from frontend.errors import NotFound, Unauthorized
from frontend.guards import Admission, BodyLimit, RateLimiter, ShutdownAnswer
from frontend.observability import Metrics, RequestTracking
from frontend.phonemes import Phonemizer, language_of
from frontend.schemas import ModelCard, ModelList, PhonemizeRequest, PhonemizeResponse, SpeechRequest, Voice, VoiceList
from frontend.service import MODEL_ID, SpeechService, known_model
from frontend.settings import Settings, get_settings
from frontend.triton_client import TritonSynthesizer
from frontend.voices import VoiceCatalog

log = logging.getLogger("frontend")
STARTED = int(time.time())


def create_app(settings: Settings | None = None, metrics: Metrics | None = None) -> FastAPI:
    settings = settings or get_settings()
    keys = settings.keys()
    inflight = Admission(settings.max_inflight)
    rate_limit = RateLimiter(settings.rate_limit_per_minute)
    metrics = metrics or Metrics()
    metrics.inflight.set_function(lambda: inflight.active)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        phonemizer = Phonemizer(settings.assets)
        await asyncio.to_thread(phonemizer.phonemize, "ready", "a")  # load the G2P before the first request
        synthesizer = TritonSynthesizer(settings.triton_urls(), settings.triton_model, settings.request_timeout_s,
                                        max_inflight=settings.triton_max_inflight,
                                        recovery_wait_s=settings.triton_recovery_wait_s)
        metrics.waiting_chunks.set_function(lambda: synthesizer.slots.waiting)
        voices = VoiceCatalog(settings.assets / "voices", settings.default_voice)
        app.state.service = SpeechService(settings, synthesizer, phonemizer, voices, metrics)
        log.info("%d voices; OpenAI voice names spoken by: %s", len(voices.packs),
                 ", ".join(f"{name}={voice}" for name, voice in voices.mapping().items()))
        if voices.stand_ins:
            log.warning("voices missing from this model repository, spoken by stand-ins: %s",
                        ", ".join(f"{missing}->{voice}" for missing, voice in voices.stand_ins.items()))
        if keys:
            log.info("API keys required: %d configured", len(keys))
        else:
            log.warning("no API_KEYS configured: the API is open to anyone who can reach it")
        yield
        await synthesizer.close()

    app = FastAPI(title="Kokoro TTS", version="0.1.0", lifespan=lifespan,
                  description="OpenAI-compatible text to speech: Kokoro-82M on Triton")
    errors.install(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(ShutdownAnswer)
    app.add_middleware(RequestTracking, metrics=metrics)
    if settings.origins():  # closed unless configured: browsers on other origins get no CORS headers
        app.add_middleware(CORSMiddleware, allow_origins=settings.origins(), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], expose_headers=["X-Request-ID"])

    def authorize(request: Request) -> None:
        if not keys:
            rate_limit.take(request.client.host if request.client else "")
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("missing bearer API key (Authorization: Bearer ...)", code="missing_api_key",
                               headers={"WWW-Authenticate": "Bearer"})
        matches = [hmac.compare_digest(token.encode(), key.encode()) for key in keys]  # all compared, always
        if not any(matches):
            raise Unauthorized("invalid API key", code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
        rate_limit.take(token)

    def service(request: Request) -> SpeechService:
        return request.app.state.service

    protected = [Depends(authorize)]

    @app.post("/v1/audio/speech", dependencies=protected, response_class=Response,
              responses={200: {"content": {"audio/mpeg": {}, "text/event-stream": {}}}})
    @app.post("/audio/speech", dependencies=protected, include_in_schema=False)
    async def speech(body: SpeechRequest, request: Request, svc: SpeechService = Depends(service)):
        release = inflight.enter()
        request.state.format = body.response_format or ("raw" if body.stream else "mp3")
        try:
            plan = await svc.plan(body, request_id=request.state.request_id)
            if plan.mode in ("sse", "together"):
                events = await _first_item_ready(svc.events(plan))
                return StreamingResponse(inflight.held(events, release), media_type="text/event-stream",
                                         headers={"Cache-Control": "no-cache"})
            if plan.mode == "stream":
                chunks = await _first_item_ready(svc.encoded(plan))
                return StreamingResponse(inflight.held(chunks, release), media_type=plan.format.media_type)
            audio_bytes = await _unless_disconnected(request, svc.whole(plan))
        except BaseException:
            release()
            raise
        release()
        return Response(audio_bytes, media_type=plan.format.media_type)

    @app.get("/v1/models", dependencies=protected, response_model=ModelList)
    async def models():
        return ModelList(data=[ModelCard(id=MODEL_ID, created=STARTED, owned_by="hexgrad")])

    @app.get("/v1/models/{model_id:path}", dependencies=protected, response_model=ModelCard)
    async def model(model_id: str):
        if not known_model(model_id):
            raise NotFound(f"model '{model_id}' does not exist", "model", "model_not_found")
        return ModelCard(id=MODEL_ID, created=STARTED, owned_by="hexgrad")

    @app.get("/v1/audio/voices", dependencies=protected, response_model=VoiceList)
    async def voices(svc: SpeechService = Depends(service)):
        return VoiceList(voices=[Voice(id=v.id, name=v.id, language=v.language, gender=v.gender)
                                 for v in svc.voices.info()])

    @app.get("/v1/voices", dependencies=protected)
    async def together_voices(model: str | None = None, svc: SpeechService = Depends(service)):
        if model is not None and not known_model(model):
            raise NotFound(f"model '{model}' does not exist", "model", "model_not_found")
        return {"object": "list", "data": [{"model": MODEL_ID, "voices": [
            {"id": v.id, "name": v.id, "language": v.language, "gender": v.gender} for v in svc.voices.info()]}]}

    @app.post("/dev/phonemize", dependencies=protected, response_model=PhonemizeResponse)
    async def phonemize(body: PhonemizeRequest, svc: SpeechService = Depends(service)):
        """Why a text is read the way it is: its normalized form, phonemes and the model's token ids."""
        if len(body.text) > settings.max_input_chars:
            raise errors.InvalidRequest(f"text is {len(body.text)} characters; the limit is "
                                        f"{settings.max_input_chars}", "text", "input_too_long")
        language = language_of(None, body.language, "a")
        normalized, phonemes = await asyncio.to_thread(svc.phonemizer.explain, body.text, language, body.normalize)
        return PhonemizeResponse(normalized_text=normalized, phonemes=phonemes,
                                 tokens=svc.phonemizer.tokens(phonemes))

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics():
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/health")
    async def health():
        return {"status": "ok"}

    @app.get("/ready")
    async def ready(svc: SpeechService = Depends(service)):
        if await svc.synthesizer.ready():
            return {"status": "ready"}
        return JSONResponse(errors.error_body("the inference server or model is not ready", "server_error",
                                              code="not_ready"), status_code=503, headers={"Retry-After": "5"})

    return app


async def _first_item_ready(stream):
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


async def _unless_disconnected(request: Request, work):
    """Await `work`, cancelling it if the client goes away first."""
    task = asyncio.ensure_future(work)
    while not task.done():
        done, _ = await asyncio.wait({task}, timeout=0.5)
        if not done and await request.is_disconnected():
            task.cancel()
            break
    return await task
