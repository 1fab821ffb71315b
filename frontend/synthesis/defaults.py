"""A request's defaults, resolved in one place: the model's names and the response format when none is asked for
(its limits: frontend.synthesis.budget)."""
from __future__ import annotations

import re

from frontend.errors import NotFound
from kokoro_core.contract import UPSTREAM_REPO

PRODUCT_VERSION = "0.1.0"  # this server's, as /docs and Wyoming's info show it
MODEL_ID = UPSTREAM_REPO
MODEL_OWNER = "hexgrad"
CLIENT_NAMES = ("kokoro", "tts-1", "tts-1-hd", "gpt-4o-mini-tts")  # the names clients send for this model
MODEL_ALIASES = {MODEL_ID.lower(), "kokoro-82m", *CLIENT_NAMES}
# OpenAI's dated snapshots of its speech models: "gpt-4o-mini-tts-2025-12-15" and later dates, "tts-1-1106".
DATED_OPENAI_MODEL = re.compile(r"(?:gpt-4o-mini-tts-\d{4}-\d{2}-\d{2}|tts-1(?:-hd)?-\d{4})")


def known_model(name: str) -> bool:
    """Whether `name` is this model under one of the names clients use for it."""
    return name.lower() in MODEL_ALIASES or DATED_OPENAI_MODEL.fullmatch(name.lower()) is not None


def require_model(name: str | None, param: str = "model") -> str:
    """This model's id (also when none is named, as Kokoro-FastAPI's clients leave it out), or 404 when `name`
    is another model."""
    if name is not None and not known_model(name):
        raise NotFound(f"model '{name}' does not exist; use {MODEL_ID} or kokoro", param, "model_not_found")
    return MODEL_ID


def response_format(requested: str | None, streamed: bool) -> str:
    """mp3, as OpenAI's default; raw samples for Together's streams, which default to them."""
    return requested or ("raw" if streamed else "mp3")
