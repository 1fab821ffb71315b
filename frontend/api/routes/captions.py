"""Word timing: Kokoro-FastAPI's POST /dev/captioned_speech (audio and word timestamps, whole or a JSON line per
chunk) and POST /v1/audio/captions (WebVTT or SRT)."""
from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from frontend.api.dependencies import PROTECTED, admission, speech_service
from frontend.api.errors import ERROR_RESPONSES
from frontend.api.guards import Admission
from frontend.api.routes.responses import admitted, first_item_ready, unless_disconnected
from frontend.api.schemas import CaptionedSpeechRequest, CaptionedSpeechResponse, CaptionsRequest, SpeechRequest
from frontend.api.streams import captioned, captioned_lines, line_error
from frontend.reading import captions
from frontend.synthesis.service import SpeechService

router = APIRouter(dependencies=PROTECTED, tags=["captions"])
CAPTION_TYPES = {"vtt": "text/vtt", "srt": "application/x-subrip"}


@router.post("/dev/captioned_speech", response_model=CaptionedSpeechResponse, responses=ERROR_RESPONSES)
async def captioned_speech(body: CaptionedSpeechRequest, request: Request, svc: SpeechService = Depends(speech_service),
                           inflight: Admission = Depends(admission)):
    """Kokoro-FastAPI's captioned speech: the audio (base64) and when each word of the input is spoken. With
    `stream` (its default), one JSON line per chunk of audio as it is made (application/json)."""
    async with admitted(inflight) as slot:
        request.state.format = body.response_format
        plan = await svc.plan(_speech_request(body).speech_input(timed=body.return_timestamps),
                              request.state.request_id)
        if body.stream:
            lines = await first_item_ready(captioned_lines(svc, plan))
            return StreamingResponse(slot.held(lines, line_error), media_type="application/json")
        data, words = await unless_disconnected(request, svc.whole(plan))
    # base64 and JSON of a whole file, rendered off the event loop
    rendered = await asyncio.to_thread(lambda: captioned(plan, data, words).model_dump_json().encode())
    return Response(rendered, media_type="application/json")


def _speech_request(body: CaptionedSpeechRequest) -> SpeechRequest:
    return SpeechRequest(model=body.model, input=body.input, voice=body.voice, response_format=body.response_format,
                         speed=body.speed, lang_code=body.lang_code, sample_rate=body.sample_rate,
                         normalization_options=body.normalization_options, volume_multiplier=body.volume_multiplier,
                         stream_format="audio" if body.stream else None, allow_voice_tags=body.allow_voice_tags,
                         voice_aliases=body.voice_aliases, ssml=body.ssml)


@router.post("/v1/audio/captions", response_class=PlainTextResponse, responses={
    **ERROR_RESPONSES, 200: {"content": {kind: {} for kind in CAPTION_TYPES.values()}}})
async def audio_captions(body: CaptionsRequest, request: Request, svc: SpeechService = Depends(speech_service),
                         inflight: Admission = Depends(admission)):
    """WebVTT or SRT captions of the speech /v1/audio/speech gives for the same body: cues of whole words, at
    most two lines of 42 columns and 7 seconds each, a new one after each sentence and pause."""
    async with admitted(inflight):
        request.state.format = body.caption_format
        plan = await svc.plan(body.speech_input(timed=True), request.state.request_id)
        words = await unless_disconnected(request, svc.words(plan))
    render = captions.webvtt if body.caption_format == "vtt" else captions.srt
    text = await asyncio.to_thread(lambda: render(captions.cues(words, body.phonemes or body.input)))
    return PlainTextResponse(text, media_type=CAPTION_TYPES[body.caption_format])
