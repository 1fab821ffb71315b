"""A speech session: text appended in pieces for as long as the session lasts, spoken as it becomes speakable
(frontend.reading.appended), each piece an item of its own whose audio is sent in order. Whatever protocol carries
it (the Together WebSocket in frontend.api) renders the session's events.

An item is planned and synthesized as a streamed request is; its first chunk is due at once, so the scheduler puts
it ahead of work whose audio is not yet needed. The next item is synthesized while the one before it is sent, so
consecutive sentences join without a wait; each item's chunks carry the service's fades, so no join clicks.
Clearing cancels every item in progress or waiting: their Triton calls not yet made never are."""
from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from frontend.errors import APIError, InvalidRequest
from frontend.reading.appended import TextBuffer
from frontend.reading.languages import language_of
from frontend.reading.timing import TimedWord
from frontend.synthesis import audio
from frontend.synthesis.budget import require_text
from frontend.synthesis.defaults import require_model
from frontend.synthesis.request import SpeechInput
from frontend.synthesis.service import Encoded, SpeechService

log = logging.getLogger("frontend")

ITEMS_AHEAD = 2  # items synthesized at once: the one being sent and the next
PIECES_HELD = 8  # an item's encoded pieces waiting to be sent (a client that does not read stops its synthesis)


@dataclass(frozen=True)
class Audio:
    item_id: str
    data: bytes


@dataclass(frozen=True)
class Words:
    item_id: str
    words: list[TimedWord]  # timed from the start of the item's audio


@dataclass(frozen=True)
class Done:
    """The audio of every item up to this one is complete, and no other item is queued. Not one per item: Pipecat's
    TogetherTTSService ends its reply's audio at the first `done` (it commits every sentence), and would drop the
    audio of the items after it."""
    item_id: str


@dataclass(frozen=True)
class Failed:
    item_id: str
    error: APIError


@dataclass(frozen=True)
class Cleared:
    item_ids: list[str]  # the items cancelled, in order


Event = Audio | Words | Done | Failed | Cleared
END = object()


class InternalFailure(APIError):
    status, type = 500, "server_error"


async def validated(service: SpeechService, request: SpeechInput) -> SpeechInput:
    """`request` (its text aside) checked as planning would check it: model, voice, language, format; its errors
    come when a session starts or is updated, not with its first item."""
    require_model(request.model)
    voice = await asyncio.to_thread(service.voices.resolve, request.voice or None, service.settings.max_blend_voices)
    language_of(request.lang_code, request.language, voice.language_voice)
    audio.output_format(request.format, request.encoding)
    return request


@dataclass
class Item:
    id: str
    text: str
    request: SpeechInput
    pieces: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(PIECES_HELD))
    task: asyncio.Task | None = None


class SpeechSession:
    """Appended text to items, items to events (through `emit`, awaited in order)."""

    def __init__(self, service: SpeechService, request: SpeechInput, emit: Callable[[Event], Awaitable[None]],
                 session_id: str, max_partial_chars: int, max_chars: int):
        self.service, self.request, self.emit, self.session_id = service, request, emit, session_id
        self.buffer = TextBuffer(max_partial_chars)
        self.max_chars, self.characters = max_chars, 0
        self.items: deque[Item] = deque()
        self.numbers = itertools.count(1)
        self.sender: asyncio.Task | None = None

    @property
    def busy(self) -> bool:
        """Whether an item is being synthesized or sent."""
        return bool(self.items)

    async def append(self, text: str) -> None:
        """`text` added to the buffer, the pieces it completes queued as items. Past the session's character budget
        the text is refused (400 `session_input_too_long`) and the session goes on."""
        require_text(text, self.max_chars, "text")
        if self.characters + len(text) > self.max_chars:
            raise InvalidRequest(f"this session has been sent {self.characters} characters; {len(text)} more would "
                                 f"pass its limit of {self.max_chars} (WEBSOCKET_MAX_CHARS)", "text",
                                 "session_input_too_long")
        self.characters += len(text)
        for piece in self.buffer.append(text):
            self._queue(piece)

    def commit(self) -> None:
        """Whatever the buffer holds, queued now."""
        if rest := self.buffer.flush():
            self._queue(rest)

    async def clear(self) -> None:
        """The buffer emptied and every item cancelled, in progress or waiting; then a Cleared event."""
        self.buffer.clear()
        cancelled = [item.id for item in self.items]
        await self.close()
        await self.emit(Cleared(cancelled))

    def update(self, request: SpeechInput) -> None:
        """New parameters (voice, speed...) for the items queued from now on."""
        self.request = request

    async def close(self) -> None:
        """Every item's work cancelled, and waited for (its chunks not yet at Triton never go)."""
        tasks = [task for task in (self.sender, *(item.task for item in self.items)) if task]
        self.items.clear()
        self.sender = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _queue(self, text: str) -> None:
        self.items.append(Item(f"tts_{next(self.numbers)}", text, replace(self.request, text=text)))
        self._start_ahead()
        if self.sender is None:
            self.sender = asyncio.create_task(self._send_items())

    def _start_ahead(self) -> None:
        for item in itertools.islice(self.items, ITEMS_AHEAD):
            if item.task is None:
                item.task = asyncio.create_task(self._synthesize(item))

    async def _synthesize(self, item: Item) -> None:
        """The item's encoded audio into its queue, then END, or the error that stopped it."""
        try:
            plan = await self.service.plan(item.request, request_id=f"{self.session_id}-{item.id}")
            async with contextlib.aclosing(self.service.encoded(plan)) as encoded:
                async for piece in encoded:
                    await item.pieces.put(piece)
        except APIError as e:
            await item.pieces.put(e)
            return
        except Exception:
            log.exception("session %s, item %s failed", self.session_id, item.id)
            await item.pieces.put(InternalFailure("internal server error", code="internal_error"))
            return
        await item.pieces.put(END)

    async def _send_items(self) -> None:
        """Each item's events in turn, while there are items; Done after the last one queued."""
        while self.items:
            item = self.items[0]
            spoken = await self._send(item)
            self.items.popleft()
            self._start_ahead()
            if spoken and not self.items:
                await self.emit(Done(item.id))
        self.sender = None

    async def _send(self, item: Item) -> bool:
        """The item's audio and words, or its failure (False)."""
        while (piece := await item.pieces.get()) is not END:
            if isinstance(piece, APIError):
                if piece.code == "empty_input":  # a piece with nothing to speak ("...") is an item without audio
                    return True
                await self.emit(Failed(item.id, piece))
                return False
            await self._emit_piece(item, piece)
        return True

    async def _emit_piece(self, item: Item, piece: Encoded) -> None:
        if piece.data:
            await self.emit(Audio(item.id, piece.data))
        if piece.words:
            await self.emit(Words(item.id, piece.words))
