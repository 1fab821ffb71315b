"""GET /v1/download/{file}: audio kept for Kokoro-FastAPI's `return_download_link` (frontend/synthesis/downloads.py)."""
from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from frontend.api.dependencies import PROTECTED, admission, speech_service
from frontend.api.errors import ERROR_RESPONSES
from frontend.api.guards import Admission
from frontend.api.routes.responses import admitted
from frontend.errors import NotFound
from frontend.synthesis.service import SpeechService

router = APIRouter(dependencies=PROTECTED, tags=["audio"])
UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME_CHARS = 100


@router.get("/v1/download/{file}", response_class=Response, responses={
    **ERROR_RESPONSES, 200: {"content": {f"audio/{kind}": {} for kind in ("mpeg", "wav")}}})
async def download(file: str, name: str | None = Query(None, max_length=MAX_NAME_CHARS * 2, description=(
                       "the name to save it as (letters, digits, . _ - kept; its own extension always)")),
                   svc: SpeechService = Depends(speech_service), inflight: Admission = Depends(admission)):
    """The file named in a speech response's X-Download-Path header, until it expires (DOWNLOAD_TTL_S); only
    for the API key (or address) that asked for it."""
    async with admitted(inflight):
        found = await svc.downloads.read(file, inflight.client)
    if found is None:
        raise NotFound(f"no audio file '{file}' is kept here (never made, or expired)", "file",
                       "download_not_found")
    data, media_type = found
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{saved_as(name, file)}"', "Cache-Control": "no-cache"})


def saved_as(requested: str | None, stored: str) -> str:
    """The client's name made safe for the header, with the stored file's extension; else the stored name."""
    extension = stored.rsplit(".", 1)[-1]
    stem = UNSAFE_IN_NAME.sub("_", requested or "").removesuffix(f".{extension}").strip("._-")[:MAX_NAME_CHARS]
    return f"{stem}.{extension}" if stem else stored
