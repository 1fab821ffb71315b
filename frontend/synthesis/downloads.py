"""Audio kept for Kokoro-FastAPI's `return_download_link`: a speech response's audio, encoded alongside it as a
whole file, kept in a temporary directory of the store's own for GET /v1/download/{file}.

Bounded: each file for `ttl_s` seconds, at most `max_files` files and `max_bytes` bytes, the oldest removed
first. Names are random (128 bits), so no client can guess another's file, and a requested name is looked up
in the store's index, never made into a path. A response cut short (a failure, a client gone) keeps nothing.
Files live in this process: behind a load balancer, the download must reach the replica that spoke.
"""
from __future__ import annotations

import asyncio
import secrets
import shutil
import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from frontend.errors import InvalidRequest
from frontend.synthesis import audio


@dataclass(frozen=True)
class Kept:
    path: Path
    media_type: str
    size: int
    expires: float  # time.monotonic()


class Download:
    """One response's audio, encoded as it is synthesized into a whole file (its header complete)."""

    def __init__(self, store: Downloads, name: str, fmt: audio.Format, sample_rate: int | None):
        self.store, self.name, self.format = store, name, fmt
        self.file = audio.WholeFile()
        self.encoder = audio.AudioEncoder(fmt, sample_rate, self.file)

    async def add(self, samples: np.ndarray) -> None:
        await asyncio.to_thread(self.encoder.encode, samples)

    async def finish(self) -> None:
        """The audio is complete: keep the file."""
        await asyncio.to_thread(self.encoder.finish)
        await self.store.keep(self.name, self.file.getvalue(), self.format.media_type)


class Downloads:
    def __init__(self, ttl_s: float, max_files: int, max_bytes: int):
        self.ttl_s, self.max_files, self.max_bytes = ttl_s, max_files, max_bytes
        self.directory = Path(tempfile.mkdtemp(prefix="kokoro-downloads-"))
        self.files: OrderedDict[str, Kept] = OrderedDict()  # oldest first, so also the first to expire
        self.size = 0

    def start(self, extension: str, fmt: audio.Format, sample_rate: int | None) -> Download:
        if not self.max_files:
            raise InvalidRequest("return_download_link is turned off on this server (DOWNLOAD_MAX_FILES=0)",
                                 "return_download_link", "downloads_disabled")
        return Download(self, f"{secrets.token_hex(16)}.{extension}", fmt, sample_rate)

    async def keep(self, name: str, data: bytes, media_type: str) -> None:
        path = self.directory / name
        await asyncio.to_thread(path.write_bytes, data)
        self.files[name] = Kept(path, media_type, len(data), time.monotonic() + self.ttl_s)
        self.size += len(data)
        self._evict()

    async def read(self, name: str) -> tuple[bytes, str] | None:
        """(the file's bytes, its media type), or None when there is no such file (never kept, or gone)."""
        self._evict()
        kept = self.files.get(name)
        if kept is None:
            return None
        try:
            return await asyncio.to_thread(kept.path.read_bytes), kept.media_type
        except FileNotFoundError:  # removed by a newer file while this read waited for a thread
            return None

    def _evict(self) -> None:
        now = time.monotonic()
        while self.files and (len(self.files) > self.max_files or self.size > self.max_bytes
                              or next(iter(self.files.values())).expires <= now):
            _, kept = self.files.popitem(last=False)
            self.size -= kept.size
            kept.path.unlink(missing_ok=True)

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
