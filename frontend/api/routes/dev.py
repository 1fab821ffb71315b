"""Developer routes (Kokoro-FastAPI's paths): how a text will be read, and speech from phonemes."""
from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from frontend.api.dependencies import PROTECTED, admission, speech_service
from frontend.api.errors import ERROR_RESPONSES
from frontend.api.guards import Admission
from frontend.api.routes.responses import admitted
from frontend.api.routes.speech import speech
from frontend.api.schemas import PhonemesSpeechRequest, PhonemizeRequest, PhonemizeResponse, SpeechRequest
from frontend.reading.languages import language_of
from frontend.synthesis.budget import require_text
from frontend.synthesis.defaults import MODEL_ID
from frontend.synthesis.service import SpeechService

router = APIRouter(dependencies=PROTECTED, tags=["dev"])


@router.post("/dev/phonemize", response_model=PhonemizeResponse)
async def phonemize(body: PhonemizeRequest, svc: SpeechService = Depends(speech_service),
                    inflight: Admission = Depends(admission)):
    """Why a text is read the way it is: its normalized form, phonemes and the model's token ids."""
    require_text(body.text, svc.settings.max_input_chars, "text")
    language = language_of(None, body.language, "a")
    async with admitted(inflight):
        normalized, phonemes = await asyncio.to_thread(svc.phonemizer.explain, body.text, language, body.normalize)
    return PhonemizeResponse(normalized_text=normalized, phonemes=phonemes, tokens=svc.phonemizer.tokens(phonemes))


@router.post("/dev/generate_from_phonemes", response_class=Response,
             responses={**ERROR_RESPONSES, 200: {"content": {"audio/wav": {}}}})
async def generate_from_phonemes(body: PhonemesSpeechRequest, request: Request,
                                 svc: SpeechService = Depends(speech_service),
                                 inflight: Admission = Depends(admission)):
    """Kokoro-FastAPI's: phonemes (as /dev/phonemize gives them) spoken by a voice, as a WAV file at 24 kHz.
    The speech endpoint's `phonemes` field does the same with every format and option."""
    spoken = SpeechRequest(model=MODEL_ID, input="", phonemes=body.phonemes, voice=body.voice, response_format="wav")
    return await speech(spoken, request, svc, inflight)
