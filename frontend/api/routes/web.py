"""The page to try the API (/web/): files shipped in frontend/api/web, and the numbers the page needs. Open without
a key, as the page must load before it can ask for one; everything it then calls is the API, with the key."""
from __future__ import annotations

from pathlib import Path
from typing import get_args

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, RedirectResponse

from frontend.api.dependencies import settings
from frontend.api.schemas import AudioFormat
from frontend.errors import NotFound
from frontend.settings import Settings
from frontend.synthesis.voices import LANGUAGES
from kokoro_core.contract import MAX_SPEED, MIN_SPEED, SAMPLE_RATE

WEB = Path(__file__).resolve().parent.parent / "web"
FILES = {"index.html": "text/html", "app.js": "text/javascript", "player.js": "text/javascript",
         "readalong.js": "text/javascript", "style.css": "text/css"}
# The page's own promise of working offline, held by the browser too: it may load and call nothing but this server.
HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
                                      "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
           "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def root():
    return RedirectResponse("web/")


@router.get("/web")
async def web():
    return RedirectResponse("web/")


@router.get("/web/")
async def page():
    return FileResponse(WEB / "index.html", headers=HEADERS)


@router.get("/web/config.json")
async def config(current: Settings = Depends(settings)):
    return {"max_input_chars": current.max_input_chars, "sample_rate": SAMPLE_RATE, "min_speed": MIN_SPEED,
            "max_speed": MAX_SPEED, "formats": list(get_args(AudioFormat)), "languages": sorted(LANGUAGES.values()),
            "default_voice": current.default_voice, "needs_key": bool(current.keys())}


@router.get("/web/{name}")
async def asset(name: str):
    if name not in FILES:
        raise NotFound(f"/web/{name} is not a file of the page", code="not_found")
    return FileResponse(WEB / name, media_type=FILES[name], headers=HEADERS)
