"""Developer routes (Kokoro-FastAPI's paths): how a text will be read, SSML as inline tags, speech from phonemes
and dialogue."""
from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from frontend.api.dependencies import PROTECTED, admission, speech_service
from frontend.api.errors import ERROR_RESPONSES
from frontend.api.guards import Admission
from frontend.api.routes.responses import admitted
from frontend.api.routes.speech import EventsOrAudio, speech
from frontend.api.schemas import (
    DialogueRequest,
    PhonemesSpeechRequest,
    PhonemizeRequest,
    PhonemizeResponse,
    SpeechRequest,
    SsmlCapabilities,
    SsmlRequest,
    SsmlTranslation,
)
from frontend.reading import ssml
from frontend.reading.languages import language_of
from frontend.synthesis.budget import require_text
from frontend.synthesis.defaults import MODEL_ID
from frontend.synthesis.service import SpeechService
from kokoro_core.contract import MAX_SPEED, MIN_SPEED

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


@router.post("/dev/dialogue", response_class=EventsOrAudio, responses=ERROR_RESPONSES)
async def dialogue(body: DialogueRequest, request: Request, svc: SpeechService = Depends(speech_service),
                   inflight: Admission = Depends(admission)):
    """Kokoro-FastAPI's dialogue: the turns spoken in order, each by its voice, as /v1/audio/speech answers (every
    format and stream; word events and timestamps name the voice)."""
    return await speech(body, request, svc, inflight)


@router.get("/dev/ssml", response_model=SsmlCapabilities)
async def ssml_capabilities():
    """The SSML this server reads: elements, break strengths, rate names and bounds."""
    return SsmlCapabilities(elements={name: sorted(attributes) for name, attributes in ssml.ATTRIBUTES.items()},
                            needs_voice_tags=["voice"], break_strengths=ssml.BREAK_STRENGTHS,
                            prosody_rates=ssml.RATE_NAMES, rate_bounds=(MIN_SPEED, MAX_SPEED),
                            max_break_s=ssml.MAX_PAUSE_S, max_depth=ssml.MAX_DEPTH)


@router.post("/dev/ssml", response_model=SsmlTranslation, responses=ERROR_RESPONSES)
async def ssml_translation(body: SsmlRequest, svc: SpeechService = Depends(speech_service),
                           inflight: Admission = Depends(admission)):
    """SSML as the inline tags that speak the same (with `allow_voice_tags`), without synthesizing it."""
    require_text(body.text, svc.settings.max_input_chars, "text")
    async with admitted(inflight):
        parts = await asyncio.to_thread(ssml.parse, body.text, True, True)
    return SsmlTranslation(text=ssml.to_tags(parts, body.voice or svc.voices.default_voice))
