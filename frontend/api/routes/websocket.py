"""GET /v1/audio/speech/websocket: Together's text-to-speech WebSocket. Text is appended in any pieces
(`input_text_buffer.append`), spoken sentence by sentence as it becomes speakable, the rest on
`input_text_buffer.commit`; audio comes back as `conversation.item.audio_output.delta` events, each item ending
in `conversation.item.audio_output.done`. `input_text_buffer.clear` drops the buffer and cancels the items in
progress (barge-in); the session goes on. Errors are `conversation.item.tts.failed` events; only a refused
session, an idle one and one past its time are closed by the server. docs/api-reference.md has the protocol."""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, WebSocket
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.websockets import WebSocketDisconnect

from frontend.api.guards import Inflight
from frontend.errors import APIError, InvalidRequest, TooManyRequests
from frontend.settings import Settings
from frontend.synthesis.defaults import MODEL_ID
from frontend.synthesis.request import Mode, SpeechInput
from frontend.synthesis.service import SpeechService
from frontend.synthesis.session import Audio, Cleared, Done, Event, Failed, SpeechSession, Words, validated
from kokoro_core.contract import MAX_SPEED, MIN_SPEED

router = APIRouter(tags=["audio"])
log = logging.getLogger("frontend")

CLOSE_WAIT_S = 5.0  # for the last events to leave before the socket is closed
OUTBOX_EVENTS = 64  # events waiting for a slow client; past it the session's synthesis waits too
NORMAL, POLICY, TRY_LATER = 1000, 1008, 1013  # close codes (RFC 6455)


class SessionParams(BaseModel):
    """A session's parameters: from the query string when it opens, then from `tts_session.updated`. Unknown
    ones (Together's `extra_params`, `api_key`) are ignored."""
    model_config = ConfigDict(extra="ignore")

    model: str | None = Field(None, description="hexgrad/Kokoro-82M or an alias (kokoro, tts-1...)")
    voice: str | None = Field(None, description="a Kokoro voice id, an OpenAI name or a blend")
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm", "raw"] = Field(
        "pcm", description="each item's audio as a stream of this format; pcm: 16-bit samples, as Together sends")
    response_encoding: Literal["pcm_f32le", "pcm_s16le", "pcm_mulaw", "pcm_alaw"] | None = None
    sample_rate: int | None = Field(None, ge=8000, le=48000)
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED, allow_inf_nan=False)
    language: str | None = Field(None, max_length=35)
    alignment: Literal["none", "word"] = "none"
    max_partial_length: int = Field(250, ge=1, description="characters held without a sentence end before they "
                                                           "are spoken anyway (cut at a clause or word)")

    def speech_input(self) -> SpeechInput:
        return SpeechInput(text="", model=self.model, voice=self.voice, language=self.language,
                           format=self.response_format, encoding=self.response_encoding, mode=Mode.STREAM,
                           sample_rate=self.sample_rate, speed=self.speed, timed=self.alignment == "word")

    def described(self, session_id: str) -> dict[str, Any]:
        """The session as session.created and session.updated show it."""
        return {"id": session_id, "object": "realtime.tts.session", "modalities": ["text", "audio"],
                "model": MODEL_ID, **self.model_dump(exclude={"model"})}


def parsed(values: dict[str, Any], settings: Settings, base: SessionParams | None = None) -> SessionParams:
    """`values` over `base`, validated (400 naming the first bad parameter)."""
    try:
        params = SessionParams.model_validate({**(base.model_dump() if base else {}), **values})
    except ValidationError as e:
        first = e.errors()[0]
        param = ".".join(str(part) for part in first.get("loc", ())) or None
        raise InvalidRequest(f"{param}: {first.get('msg', 'invalid value')}", param, "invalid_value") from None
    if params.max_partial_length > settings.max_input_chars:
        raise InvalidRequest(f"max_partial_length is {params.max_partial_length}; the limit is "
                             f"{settings.max_input_chars} (MAX_INPUT_CHARS)", "max_partial_length", "invalid_value")
    return params


class Credentials:
    """The key as Together lets a client give it, in the query (`api_key`) when no Authorization header is sent;
    read by the same check as the REST API's."""

    def __init__(self, websocket: WebSocket):
        self.client = websocket.client
        self.headers = dict(websocket.headers)
        if "authorization" not in self.headers and websocket.query_params.get("api_key"):
            self.headers["authorization"] = f"Bearer {websocket.query_params['api_key']}"


def admitted(websocket: WebSocket, client: str):
    """A place among the sessions open (WEBSOCKET_MAX_SESSIONS, and per key); the function returned gives it back."""
    sessions: Inflight = websocket.app.state.websocket_sessions
    try:
        return sessions.enter(client)
    except TooManyRequests as e:
        whose = "this API key's" if e.code == "too_many_requests_for_key" else "all"
        raise TooManyRequests(f"{whose} sessions are at their limit (WEBSOCKET_MAX_SESSIONS, "
                              "WEBSOCKET_MAX_SESSIONS_PER_KEY); retry when one ends", code="too_many_sessions",
                              headers=e.headers) from None


@router.websocket("/v1/audio/speech/websocket")
async def speech_websocket(websocket: WebSocket):
    await websocket.accept()
    connection = Connection(websocket)
    try:
        client = websocket.app.state.access.check(Credentials(websocket))
        params = parsed(dict(websocket.query_params), connection.settings)
        await validated(connection.service, params.speech_input())
        release = admitted(websocket, client)
    except APIError as e:
        await connection.refuse(e)
        return
    try:
        await connection.run(params)
    finally:
        release()


class Connection:
    """One client's session over its socket: the messages it sends, the events it is sent (one writer, in order),
    its idle and total time limits."""

    def __init__(self, websocket: WebSocket):
        self.websocket = websocket
        self.settings: Settings = websocket.app.state.settings
        self.service: SpeechService = websocket.app.state.service
        self.id = f"sess_{uuid.uuid4().hex}"
        self.outbox: asyncio.Queue[dict[str, Any] | Closing] = asyncio.Queue(OUTBOX_EVENTS)
        self.params: SessionParams | None = None

    async def refuse(self, error: APIError) -> None:
        """A session that cannot start: its error, then the socket closed."""
        await self.websocket.send_text(json.dumps(failed(error)))
        await self.websocket.close(TRY_LATER if error.status == 429 else POLICY, error.code or "")

    async def run(self, params: SessionParams) -> None:
        self.params = params
        session = SpeechSession(self.service, params.speech_input(), self.emit, self.id,
                                params.max_partial_length, self.settings.websocket_max_chars)
        writer = asyncio.create_task(self.write())
        try:
            await self.send("session.created", session=params.described(self.id))
            error, code = await self.serve(session)
            await session.close()
            async with asyncio.timeout(CLOSE_WAIT_S):  # a client that reads nothing is not waited for
                await self.send_error(error)
                await self.outbox.put(Closing(code, error.code or ""))
                await writer  # the events before it sent, then the socket closed
        except (WebSocketDisconnect, TimeoutError):
            pass
        finally:
            writer.cancel()
            await session.close()  # a client gone, or a session ended: its Triton work stops here

    async def serve(self, session: SpeechSession) -> tuple[APIError, int]:
        """Messages until the client leaves (WebSocketDisconnect) or a limit ends the session: the error that
        says why, and the close code."""
        try:
            async with asyncio.timeout(self.settings.websocket_max_session_s):
                await self.converse(session)
        except TimeoutError:
            return InvalidRequest("the session reached its time limit (WEBSOCKET_MAX_SESSION_S)",
                                  code="session_too_long"), POLICY
        return InvalidRequest(f"no message for {self.settings.websocket_idle_s:g} s (WEBSOCKET_IDLE_S) with "
                              "nothing to speak; the session is closed", code="session_idle"), NORMAL

    async def converse(self, session: SpeechSession) -> None:
        """Each message handled (its error sent as an event), until the session is idle."""
        while True:
            try:
                async with asyncio.timeout(self.settings.websocket_idle_s):
                    message = await self.websocket.receive()
            except TimeoutError:
                if session.busy:
                    continue
                return
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", NORMAL))
            try:
                await self.handle(session, message)
            except APIError as e:
                await self.send_error(e)

    async def handle(self, session: SpeechSession, message: Mapping[str, Any]) -> None:
        if message.get("text") is None:
            raise InvalidRequest("messages are JSON text; binary messages are not accepted", code="invalid_message")
        try:
            event = json.loads(message["text"])
        except ValueError:
            raise InvalidRequest("a message is not valid JSON", code="invalid_json") from None
        kind = event.get("type") if isinstance(event, dict) else None
        if kind == "input_text_buffer.append":
            text = event.get("text")
            if not isinstance(text, str):
                raise InvalidRequest("input_text_buffer.append needs `text`, a string", "text", "invalid_value")
            await session.append(text)
            await self.send("conversation.item.input_text.received", text=text)
        elif kind == "input_text_buffer.commit":
            session.commit()
        elif kind == "input_text_buffer.clear":
            await session.clear()
        elif kind == "tts_session.updated":
            await self.update(session, event.get("session"))
        else:
            raise InvalidRequest(f"unknown event type {str(kind)[:64]!r}; expected input_text_buffer.append, "
                                 "input_text_buffer.commit, input_text_buffer.clear or tts_session.updated", "type",
                                 "unknown_event")

    async def update(self, session: SpeechSession, changes: Any) -> None:
        if not isinstance(changes, dict):
            raise InvalidRequest("tts_session.updated needs `session`, an object", "session", "invalid_value")
        params = parsed(changes, self.settings, self.params)
        await validated(self.service, params.speech_input())
        session.buffer.max_chars = params.max_partial_length
        session.update(params.speech_input())
        self.params = params
        await self.send("session.updated", session=params.described(self.id))

    async def emit(self, event: Event) -> None:
        """A session event, rendered as Together's."""
        if isinstance(event, Audio):
            await self.send("conversation.item.audio_output.delta", item_id=event.item_id,
                            delta=base64.b64encode(event.data).decode())
        elif isinstance(event, Words):
            await self.send("conversation.item.word_timestamps", item_id=event.item_id,
                            words=[w.word.text for w in event.words], start_seconds=[w.start_s for w in event.words],
                            end_seconds=[w.end_s for w in event.words])
        elif isinstance(event, Done):
            await self.send("conversation.item.audio_output.done", item_id=event.item_id)
        elif isinstance(event, Failed):
            await self.outbox.put({**failed(event.error), "item_id": event.item_id})
        elif isinstance(event, Cleared):
            await self.send("input_text_buffer.cleared", item_ids=event.item_ids)

    async def send(self, kind: str, **fields: Any) -> None:
        await self.outbox.put({"event_id": f"evt_{uuid.uuid4().hex}", "type": kind, **fields})

    async def send_error(self, error: APIError) -> None:
        await self.outbox.put(failed(error))

    async def write(self) -> None:
        """The one writer: events in the order they were queued, until Closing closes the socket. A client gone
        ends it too (the reader sees why)."""
        try:
            while not isinstance(event := await self.outbox.get(), Closing):
                await self.websocket.send_text(json.dumps(event))
            await self.websocket.close(event.code, event.reason)
        except (WebSocketDisconnect, RuntimeError, OSError):  # the client has gone
            return


@dataclass(frozen=True)
class Closing:
    """The last item of the outbox: the socket closed with this code and reason."""
    code: int
    reason: str


def failed(error: APIError) -> dict[str, Any]:
    """Together's error event, with OpenAI's error object."""
    return {"event_id": f"evt_{uuid.uuid4().hex}", "type": "conversation.item.tts.failed",
            "error": {"message": error.message, "type": error.type, "param": error.param, "code": error.code}}
