"""GET /v1/models: the one model, under the id clients list; GET /v1/audio/models, the names Open WebUI offers."""
from __future__ import annotations

import time

from fastapi import APIRouter

from frontend.api.dependencies import PROTECTED
from frontend.api.schemas import AudioModel, AudioModelList, ModelCard, ModelList
from frontend.synthesis.defaults import CLIENT_NAMES, MODEL_ID, MODEL_OWNER, require_model

router = APIRouter(dependencies=PROTECTED, tags=["models"])
STARTED = int(time.time())
CARD = ModelCard(id=MODEL_ID, created=STARTED, owned_by=MODEL_OWNER)


@router.get("/v1/models", response_model=ModelList)
async def models():
    return ModelList(data=[CARD])


@router.get("/v1/models/{model_id:path}", response_model=ModelCard)
async def model(model_id: str):
    require_model(model_id)
    return CARD


@router.get("/v1/audio/models", response_model=AudioModelList)
async def audio_models():
    """Open WebUI's list of speech models for a custom OpenAI-compatible server: `{"models": [{"id"}]}`."""
    return AudioModelList(models=[AudioModel(id=name) for name in (MODEL_ID, *CLIENT_NAMES)])
