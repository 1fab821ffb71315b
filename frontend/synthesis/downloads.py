"""Audio kept for Kokoro-FastAPI's `return_download_link`: a speech response's audio, encoded alongside it as a
whole file, kept in a temporary directory of the store's own for GET /v1/download/{file}.

Bounded: each file for `ttl_s` seconds, within a quota of files and bytes for all clients together and a smaller
one for each client (an API key, or an address when the API is open), the oldest removed first; a client's
files count against its own quota, so its large files push out its own first. A file is read only by the client
that asked for it (another's answers as a missing one). Names are random (128 bits), and a requested name is
looked up in the store's index, never made into a path. A response cut short (a failure, a client gone) keeps nothing.
Files live in this process: behind a load balancer, the download must reach the replica that spoke.
With `return_timing`, a JSON file beside it says when each chunk of text (and each pause) sounds.
"""
from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import tempfile
import time
from collections import OrderedDict, deque
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
    owner: str


@dataclass(frozen=True)
class Quota:
    files: int
    bytes: int


class Download:
    """One response's audio, encoded as it is synthesized into a whole file (its header complete), kept for
    its owner: the client that asked, the only one who can read it."""

    def __init__(self, store: Downloads, name: str, fmt: audio.Format, sample_rate: int | None,
                 timing_name: str | None = None):
        self.store, self.name, self.format, self.timing_name = store, name, fmt, timing_name
        self.owner: str | None = None  # set by the route that knows the client; unowned files are never kept
        self.file = audio.WholeFile()
        self.encoder = audio.AudioEncoder(fmt, sample_rate, self.file)
        self.chunks: list[dict] = []  # Kokoro-FastAPI's timing file: {"text", "start", "end"}, pauses with text ""
        self.samples = 0

    def owned_by(self, client: str) -> None:
        self.owner = client

    async def add(self, samples: np.ndarray, text: str = "") -> None:
        await asyncio.to_thread(self.encoder.encode, samples)
        start, self.samples = self.samples, self.samples + len(samples)
        end = self.samples / audio.SOURCE_RATE
        if self.chunks and not text and not self.chunks[-1]["text"]:  # a pause comes in pieces of a second
            self.chunks[-1]["end"] = end
        elif self.timing_name:
            self.chunks.append({"text": text, "start": start / audio.SOURCE_RATE, "end": end})

    async def finish(self) -> None:
        """The audio is complete: keep the file (and its timing file)."""
        await asyncio.to_thread(self.encoder.finish)
        if self.owner is None:
            return
        data = await asyncio.to_thread(self.file.getvalue)  # a spooled file read off the event loop
        await self.store.keep(self.name, data, self.format.media_type, self.owner)
        if self.timing_name:
            timing = json.dumps({"chunks": self.chunks}).encode()
            await self.store.keep(self.timing_name, timing, "application/json", self.owner)


class Downloads:
    """The kept files, within a quota for all clients together and one for each client."""

    def __init__(self, total: Quota, per_client: Quota, ttl_s: float):
        self.total, self.per_client, self.ttl_s = total, per_client, ttl_s
        self.directory = Path(tempfile.mkdtemp(prefix="kokoro-downloads-"))
        self.files: OrderedDict[str, Kept] = OrderedDict()  # oldest first, so also the first to expire
        self.size = 0

    def start(self, extension: str, fmt: audio.Format, sample_rate: int | None, timed: bool = False) -> Download:
        """A file to fill; `timed`: with a timing file of its chunks beside it (named in Download.timing_name)."""
        if not self.total.files:
            raise InvalidRequest("return_download_link is turned off on this server (DOWNLOAD_MAX_FILES=0)",
                                 "return_download_link", "downloads_disabled")
        name = secrets.token_hex(16)
        return Download(self, f"{name}.{extension}", fmt, sample_rate, f"{name}.json" if timed else None)

    async def keep(self, name: str, data: bytes, media_type: str, owner: str) -> None:
        path = self.directory / name
        await asyncio.to_thread(path.write_bytes, data)
        self.files[name] = Kept(path, media_type, len(data), time.monotonic() + self.ttl_s, owner)
        self.size += len(data)
        self._evict_over(self.per_client, owner)
        self._evict()

    async def read(self, name: str, owner: str) -> tuple[bytes, str] | None:
        """(the file's bytes, its media type), or None when `owner` has no such file (never kept, gone, or
        another client's)."""
        self._evict()
        kept = self.files.get(name)
        if kept is None or kept.owner != owner:
            return None
        try:
            return await asyncio.to_thread(kept.path.read_bytes), kept.media_type
        except FileNotFoundError:  # removed by a newer file while this read waited for a thread
            return None

    def _evict(self) -> None:
        now = time.monotonic()
        while self.files and (len(self.files) > self.total.files or self.size > self.total.bytes
                              or next(iter(self.files.values())).expires <= now):
            self._remove(next(iter(self.files)))

    def _evict_over(self, quota: Quota, owner: str) -> None:
        """The owner's oldest files, while its files are over `quota`: its newest files push out only its own."""
        owned = deque(name for name, kept in self.files.items() if kept.owner == owner)  # oldest first
        size = sum(self.files[name].size for name in owned)
        while owned and (len(owned) > quota.files or size > quota.bytes):
            name = owned.popleft()
            size -= self.files[name].size
            self._remove(name)

    def _remove(self, name: str) -> None:
        kept = self.files.pop(name)
        self.size -= kept.size
        kept.path.unlink(missing_ok=True)

    def close(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
