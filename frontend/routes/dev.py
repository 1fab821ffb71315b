"""Developer routes: how a text will be read."""
from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends

from frontend.defaults import require_length
from frontend.dependencies import PROTECTED, speech_service
from frontend.languages import language_of
from frontend.schemas import PhonemizeRequest, PhonemizeResponse
from frontend.service import SpeechService

router = APIRouter(dependencies=PROTECTED, tags=["dev"])


@router.post("/dev/phonemize", response_model=PhonemizeResponse)
async def phonemize(body: PhonemizeRequest, svc: SpeechService = Depends(speech_service)):
    """Why a text is read the way it is: its normalized form, phonemes and the model's token ids."""
    require_length(body.text, svc.settings.max_input_chars, "text")
    language = language_of(None, body.language, "a")
    normalized, phonemes = await asyncio.to_thread(svc.phonemizer.explain, body.text, language, body.normalize)
    return PhonemizeResponse(normalized_text=normalized, phonemes=phonemes, tokens=svc.phonemizer.tokens(phonemes))
