"""GET /v1/models: the one model, under the id clients list."""
from __future__ import annotations

import time

from fastapi import APIRouter

from frontend.defaults import MODEL_ID, MODEL_OWNER, require_model
from frontend.dependencies import PROTECTED
from frontend.schemas import ModelCard, ModelList

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
