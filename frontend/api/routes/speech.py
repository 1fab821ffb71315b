"""POST /v1/audio/speech: a whole file, an audio stream, or server-sent events (OpenAI's or Together's)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from frontend.api.dependencies import PROTECTED, admission, speech_service
from frontend.api.errors import ERROR_RESPONSES
from frontend.api.guards import Admission
from frontend.api.routes.responses import admitted, first_item_ready, unless_disconnected
from frontend.api.schemas import SpeechEvent, SpeechRequest
from frontend.api.streams import audio_bytes, event_error, events
from frontend.reading.languages import language_tag
from frontend.synthesis.defaults import response_format
from frontend.synthesis.request import Mode
from frontend.synthesis.service import SpeechService

router = APIRouter(dependencies=PROTECTED, tags=["audio"])


class EventsOrAudio(Response):
    """The OpenAPI document's view of the route's answers (it returns its own): the events' schema under
    text/event-stream, beside the audio types."""
    media_type = "text/event-stream"


@router.post("/v1/audio/speech", response_class=EventsOrAudio, responses={
    **ERROR_RESPONSES, 200: {"model": SpeechEvent, "content": {f"audio/{kind}": {} for kind in ("mpeg", "wav")}}})
@router.post("/audio/speech", include_in_schema=False)
async def speech(body: SpeechRequest, request: Request, svc: SpeechService = Depends(speech_service),
                 inflight: Admission = Depends(admission)):
    async with admitted(inflight) as slot:
        request.state.format = response_format(body.response_format, body.stream)
        plan = await svc.plan(body.speech_input(), request_id=request.state.request_id)
        if plan.download:
            plan.download.owned_by(inflight.client)  # only this client reads it back
        # Kokoro-FastAPI's header: the kept file's path under /v1, there once the audio is complete.
        headers = {"X-Download-Path": f"/download/{plan.download.name}"} if plan.download else {}
        if plan.download and plan.download.timing_name:
            headers["X-Timing-Path"] = f"/download/{plan.download.timing_name}"
        headers["X-Language"] = language_tag(plan.language)  # which G2P read the text
        if plan.mode in (Mode.SSE, Mode.TOGETHER):
            sse = await first_item_ready(events(svc, plan))
            return StreamingResponse(slot.held(sse, event_error), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", **headers})
        if plan.mode == Mode.STREAM:
            chunks = await first_item_ready(audio_bytes(svc, plan))
            return StreamingResponse(slot.held(chunks), media_type=plan.format.media_type, headers=headers)
        file, _ = await unless_disconnected(request, svc.whole_file(plan))
    return StreamingResponse(file.blocks(), media_type=plan.format.media_type,
                             headers={"Content-Length": str(file.size), **headers})
