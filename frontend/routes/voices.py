"""The voices: OpenAI-style GET /v1/audio/voices and Together's GET /v1/voices."""
from __future__ import annotations

from fastapi import APIRouter, Depends

from frontend.defaults import MODEL_ID, require_model
from frontend.dependencies import PROTECTED, speech_service
from frontend.schemas import Voice, VoiceList
from frontend.service import SpeechService

router = APIRouter(dependencies=PROTECTED, tags=["voices"])


def _voices(svc: SpeechService) -> list[Voice]:
    return [Voice(id=v.id, name=v.id, language=v.language, gender=v.gender) for v in svc.voices.info()]


@router.get("/v1/audio/voices", response_model=VoiceList)
async def voices(svc: SpeechService = Depends(speech_service)):
    return VoiceList(voices=_voices(svc))


@router.get("/v1/voices")
async def together_voices(model: str | None = None, svc: SpeechService = Depends(speech_service)):
    if model is not None:
        require_model(model)
    return {"object": "list", "data": [{"model": MODEL_ID, "voices": [v.model_dump() for v in _voices(svc)]}]}
