"""Liveness, readiness (Triton and the model) and Prometheus metrics; open to probes, no key."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from frontend.api.dependencies import speech_service
from frontend.api.errors import error_body
from frontend.api.schemas import ErrorBody
from frontend.synthesis.service import SpeechService

router = APIRouter(tags=["health"])


@router.get("/health")
async def health():
    return {"status": "ok"}


@router.get("/ready", responses={503: {"model": ErrorBody}})
async def ready(svc: SpeechService = Depends(speech_service)):
    if await svc.synthesizer.ready():
        return {"status": "ready"}
    return JSONResponse(error_body("the inference server or model is not ready", "server_error", code="not_ready"),
                        status_code=503, headers={"Retry-After": "5"})


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(request: Request):
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
