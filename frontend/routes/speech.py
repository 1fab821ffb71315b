"""POST /v1/audio/speech: a whole file, an audio stream, or server-sent events (OpenAI's or Together's)."""
from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from frontend.defaults import response_format
from frontend.dependencies import PROTECTED, admission, speech_service
from frontend.errors import ERROR_RESPONSES
from frontend.guards import Admission
from frontend.schemas import SpeechEvent, SpeechRequest
from frontend.service import Mode, SpeechService

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
    release = inflight.enter()
    request.state.format = response_format(body.response_format, body.stream)
    try:
        plan = await svc.plan(body, request_id=request.state.request_id)
        # Kokoro-FastAPI's header: the kept file's path under /v1, there once the audio is complete.
        headers = {"X-Download-Path": f"/download/{plan.download.name}"} if plan.download else {}
        if plan.mode in (Mode.SSE, Mode.TOGETHER):
            events = await first_item_ready(svc.events(plan))
            return StreamingResponse(inflight.held(events, release), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", **headers})
        if plan.mode == Mode.STREAM:
            chunks = await first_item_ready(svc.encoded(plan))
            return StreamingResponse(inflight.held(chunks, release), media_type=plan.format.media_type,
                                     headers=headers)
        audio_bytes = await unless_disconnected(request, svc.whole(plan))
    except BaseException:
        release()
        raise
    release()
    return Response(audio_bytes, media_type=plan.format.media_type, headers=headers)


async def first_item_ready(stream):
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


async def unless_disconnected(request: Request, work):
    """Await `work`, cancelling it if the client goes away first."""
    task = asyncio.ensure_future(work)
    while not task.done():
        done, _ = await asyncio.wait({task}, timeout=0.5)
        if not done and await request.is_disconnected():
            task.cancel()
            break
    return await task
