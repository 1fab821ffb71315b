"""The voices: OpenAI-style GET /v1/audio/voices, Together's GET /v1/voices, and Kokoro-FastAPI's voice
combination."""
from __future__ import annotations

import asyncio

from fastapi import APIRouter, Body, Depends
from fastapi.responses import Response

from frontend.api.dependencies import PROTECTED, admission, speech_service
from frontend.api.errors import ERROR_RESPONSES
from frontend.api.guards import Admission
from frontend.api.routes.responses import admitted
from frontend.api.schemas import Voice, VoiceList, VoiceNames
from frontend.errors import InvalidRequest
from frontend.synthesis.defaults import MODEL_ID, require_model
from frontend.synthesis.service import SpeechService
from frontend.synthesis.torch_file import tensor_file
from frontend.synthesis.voices import Blend

router = APIRouter(dependencies=PROTECTED, tags=["voices"])
MAX_NAME_CHARS = 100


def _voices(svc: SpeechService) -> list[Voice]:
    return [Voice(id=v.id, name=v.id, language=v.language, gender=v.gender) for v in svc.voices.info()]


@router.get("/v1/audio/voices", response_model=VoiceList | VoiceNames)
async def voices(legacy: bool = False, svc: SpeechService = Depends(speech_service)):
    """`{"voices": [{"id", "name", ...}]}`, read by Kokoro-FastAPI's clients and Open WebUI (`id`, `name`);
    `?legacy=true`: the ids alone, Kokoro-FastAPI's former shape."""
    if legacy:
        return VoiceNames(voices=[v.id for v in svc.voices.info()])
    return VoiceList(voices=_voices(svc))


@router.get("/v1/voices")
async def together_voices(model: str | None = None, svc: SpeechService = Depends(speech_service)):
    if model is not None:
        require_model(model)
    return {"object": "list", "data": [{"model": MODEL_ID, "voices": [v.model_dump() for v in _voices(svc)]}]}


@router.post("/v1/audio/voices/combine", response_class=Response, responses={
    **ERROR_RESPONSES, 200: {"content": {"application/octet-stream": {}}}})
async def combine(voices: str | list[str] = Body(description="a blend such as af_bella(2)+af_sky(1), or a list "
                                                             "of voices mixed equally"),
                  svc: SpeechService = Depends(speech_service), inflight: Admission = Depends(admission)):
    """Kokoro-FastAPI's voice combination: the blend's voice pack as a `.pt` file (torch.load reads it). Nothing
    is stored: the same blend is spoken by naming it as the `voice` of any request."""
    asked = voices if isinstance(voices, str) else "+".join(voices)
    if not asked.strip():
        raise InvalidRequest("name at least one voice to combine", "voices", "empty_voice_list")
    async with admitted(inflight):
        blend = await asyncio.to_thread(svc.voices.resolve, asked, svc.settings.max_blend_voices)
        name = blend_name(blend)
        data = await asyncio.to_thread(lambda: tensor_file(svc.voices.pack(blend.parts), name))
    return Response(data, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{name}.pt"', "Cache-Control": "no-cache"})


def blend_name(blend: Blend) -> str:
    """af_bella+af_sky for an equal mix, else each voice with its share: af_bella(0.667)+af_sky(0.333); a long
    blend is named combined_voice."""
    equal = len({weight for _, weight in blend.parts}) == 1
    name = "+".join(voice if equal else f"{voice}({weight:.3g})" for voice, weight in blend.parts)
    return name if len(name) <= MAX_NAME_CHARS else "combined_voice"
