"""The Wyoming server (frontend/api/wyoming.py) through the `wyoming` library's own AsyncTcpClient, as Home
Assistant's integration uses it, against the real stack: describe, synthesize, streaming synthesis, bad events.
Audio is compared with what the REST API gives for the same text (the same service: the very same samples), and on
the real weights heard by Whisper."""
from __future__ import annotations

import asyncio
import json

import httpx
import numpy as np
import pytest
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event, async_read_event
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped, SynthesizeVoice

from frontend.api import wyoming
from frontend.settings import Settings
from frontend.synthesis.voices import OPENAI_VOICES
from kokoro_core.contract import SAMPLE_RATE
from tests.helpers import API_KEY

TIMEOUT_S = 120  # one event on a loaded 2-core machine
FIRST = "The first sentence is here."
REST = " The second one follows it, and a third ends the text."


def rest_pcm(url: str, text: str, voice: str, key: str | None = API_KEY) -> np.ndarray:
    """The REST API's 16-bit PCM for `text`."""
    response = httpx.post(f"{url}/v1/audio/speech", timeout=TIMEOUT_S, headers={"Authorization": f"Bearer {key}"},
                          json={"model": "kokoro", "input": text, "voice": voice, "response_format": "pcm"})
    response.raise_for_status()
    return np.frombuffer(response.content, np.int16)


async def events_until(client: AsyncTcpClient, last: str) -> list[Event]:
    """Every event up to the first of type `last` (or an error, or the connection's end), that one included."""
    events = []
    while True:
        event = await asyncio.wait_for(client.read_event(), TIMEOUT_S)
        if event is None:
            return events
        events.append(event)
        if event.type in (last, "error"):
            return events


def audio_of(events: list[Event]) -> tuple[AudioStart, np.ndarray]:
    """The stream's format (checked the same on every chunk) and its samples."""
    starts = [AudioStart.from_event(e) for e in events if AudioStart.is_type(e.type)]
    chunks = [AudioChunk.from_event(e) for e in events if AudioChunk.is_type(e.type)]
    assert len(starts) == 1 and chunks, [e.type for e in events]
    assert {(c.rate, c.width, c.channels) for c in chunks} == {(starts[0].rate, starts[0].width, starts[0].channels)}
    return starts[0], np.frombuffer(b"".join(c.audio for c in chunks), np.int16)


def voice_ids(url: str) -> list[str]:
    response = httpx.get(f"{url}/v1/audio/voices", headers={"Authorization": f"Bearer {API_KEY}"})
    return [voice["id"] for voice in response.json()["voices"]]


def test_describe_lists_every_voice(api, wyoming_port):
    async def describe():
        async with AsyncTcpClient("127.0.0.1", wyoming_port) as client:
            await client.write_event(Describe().event())
            return Info.from_event((await events_until(client, "info"))[-1])

    info = asyncio.run(describe())
    (program,) = info.tts
    assert program.supports_synthesize_streaming and program.installed and program.version
    listed = {voice.name: voice for voice in program.voices}
    assert set(listed) == {*voice_ids(api), *OPENAI_VOICES}
    assert all(voice.languages and voice.description for voice in listed.values())
    assert listed["alloy"].languages == ["en-US"]  # read in English, whichever voice pack speaks it
    assert "alloy" in listed[listed["alloy"].description.split("spoken by ")[1].split(",")[0]].description


def test_synthesize_sends_the_rest_apis_samples(api, wyoming_port):
    voice = voice_ids(api)[0]

    async def synthesize():
        async with AsyncTcpClient("127.0.0.1", wyoming_port) as client:
            await client.write_event(Synthesize(FIRST + REST, voice=SynthesizeVoice(name=voice)).event())
            return await events_until(client, "audio-stop")

    events = asyncio.run(synthesize())
    assert AudioStop.is_type(events[-1].type), events[-1]
    start, samples = audio_of(events)
    assert (start.rate, start.width, start.channels) == (SAMPLE_RATE, 2, 1)
    expected = rest_pcm(api, FIRST + REST, voice)
    assert len(samples) > SAMPLE_RATE // 2 and np.abs(samples).max() > 100
    np.testing.assert_array_equal(samples, expected)


def test_streaming_synthesis_speaks_before_the_text_ends(api, wyoming_port):
    """Home Assistant's streaming: text in pieces (an LLM's), the first sentence's audio before synthesize-stop, the
    copy of the whole text in `synthesize` ignored; the audio is each sentence's, in order."""
    voice = voice_ids(api)[-1]

    async def stream():
        async with AsyncTcpClient("127.0.0.1", wyoming_port) as client:
            await client.write_event(SynthesizeStart(voice=SynthesizeVoice(name=voice)).event())
            for word in FIRST.split(" "):
                await client.write_event(SynthesizeChunk(word + " ").event())
            await client.write_event(SynthesizeChunk(REST.split(",")[0]).event())  # the next sentence begun
            before_stop = await events_until(client, "audio-chunk")
            await client.write_event(SynthesizeChunk("," + REST.split(",")[1]).event())
            await client.write_event(Synthesize(FIRST + REST).event())
            await client.write_event(SynthesizeStop().event())
            return before_stop, await events_until(client, "synthesize-stopped")

    before_stop, after = asyncio.run(stream())
    assert [e.type for e in before_stop] == ["audio-start", "audio-chunk"]
    assert SynthesizeStopped.is_type(after[-1].type) and AudioStop.is_type(after[-2].type), [e.type for e in after]
    _, samples = audio_of(before_stop + after)
    expected = np.concatenate([rest_pcm(api, FIRST, voice), rest_pcm(api, REST.strip(), voice)])
    np.testing.assert_array_equal(samples, expected)


def test_a_stream_whose_sentence_is_refused_ends_in_an_error(api, wyoming_port):
    """A sentence the API refuses (a pause over 10 s) in a stream: the audio before it, then the error event, then the
    connection closed (Home Assistant's client reads that as a failed synthesis, not as audio that ended)."""
    async def stream():
        async with AsyncTcpClient("127.0.0.1", wyoming_port) as client:
            await client.write_event(SynthesizeStart().event())
            await client.write_event(SynthesizeChunk(FIRST + " Then [pause:99s] nothing.").event())
            await client.write_event(SynthesizeStop().event())
            events = await events_until(client, "synthesize-stopped")
            return events, await asyncio.wait_for(client.read_event(), TIMEOUT_S)

    events, after = asyncio.run(stream())
    assert [e.type for e in events][:2] == ["audio-start", "audio-chunk"], events
    assert (events[-1].type, events[-1].data.get("code")) == ("error", "invalid_ssml") and after is None
    assert not any(AudioStop.is_type(e.type) or SynthesizeStopped.is_type(e.type) for e in events)


BAD_EVENTS = {  # what a client sends: the error code it gets
    "not json\n": "invalid_event",
    '["a list"]\n': "invalid_event",
    '{"type": "synthesize", "data": {"voice": {"name": "af_nobody"}, "text": "Hi."}}\n': "voice_not_found",
    '{"type": "synthesize", "data": {"text": 5}}\n': "invalid_event",
    '{"type": "synthesize", "data": {}}\n': "invalid_event",
    '{"type": "synthesize", "data": {"text": " "}}\n': "empty_input",
    '{"type": "synthesize-chunk", "data": {"text": "Hi."}}\n': "invalid_event",
    '{"type": "synthesize-stop"}\n': "invalid_event",
    '{"type": "describe", "payload_length": 1000000000}\n': "event_too_large",
    '{"type": "describe", "data_length": 5}\n[1,2]': "invalid_event",
    '{"type": "describe", "pad": "' + "x" * 70_000 + '"}\n': "event_too_large",
    '{"type": "synthesize", "data": {"text": "' + "word " * 1000 + '"}}\n': "input_too_long",
}


def test_bad_events_get_an_error_and_the_server_goes_on(api, wyoming_port):
    async def send_raw(line: str) -> list[Event]:
        """`line` as bytes on a socket, then the events up to the server's close, read by the library's reader."""
        reader, writer = await asyncio.open_connection("127.0.0.1", wyoming_port)
        writer.write(line.encode())
        await writer.drain()
        events = []
        while (event := await asyncio.wait_for(async_read_event(reader), TIMEOUT_S)) is not None:
            events.append(event)
        writer.close()
        return events

    async def unknown_then_describe() -> list[Event]:
        async with AsyncTcpClient("127.0.0.1", wyoming_port) as client:
            await client.write_event(Event("no-such-event", {"x": 1}))
            await client.write_event(Describe().event())
            return await events_until(client, "info")

    for line, code in BAD_EVENTS.items():
        events = asyncio.run(send_raw(line))
        assert [(e.type, e.data.get("code")) for e in events] == [("error", code)], (line[:80], events)
        assert Error.from_event(events[0]).text
    assert [e.type for e in asyncio.run(unknown_then_describe())] == ["info"]  # unknown types dropped
    test_synthesize_sends_the_rest_apis_samples(api, wyoming_port)  # still serving


def test_keys_keep_wyoming_closed_unless_opened():
    """Wyoming has no keys: with API_KEYS set it is off unless WYOMING_OPEN says the port is closed otherwise."""
    assert wyoming.enabled(Settings(api_keys="k")) is False
    assert wyoming.enabled(Settings(api_keys="k", wyoming_open=True)) is True
    assert wyoming.enabled(Settings()) is True
    assert wyoming.enabled(Settings(wyoming_port=0)) is False


def test_a_language_alone_picks_a_voice_that_speaks_it():
    assert wyoming.speaks("en-US", "en_us", exactly=True) and wyoming.speaks("en-GB", "en")
    assert not wyoming.speaks("en-GB", "en-US", exactly=True) and not wyoming.speaks("ja", "en")


@pytest.mark.real
def test_home_assistant_hears_what_the_rest_api_says(real_wyoming_port, corpus_texts, paragraph_spoken, corpus_heard,
                                                    listener):
    """On the real weights, Wyoming's speech is heard at the REST path's word error rate, within a point (the
    issue's acceptance): a whole `synthesize` carries the REST wav file's very samples (on the paragraph), and the
    corpus streamed word by word (cut by sentences as it comes) is heard by Whisper."""
    from bench import intelligibility as intel
    from bench.listener import word_error_rate

    async def whole(text: str) -> np.ndarray:
        async with AsyncTcpClient("127.0.0.1", real_wyoming_port) as client:
            await client.write_event(Synthesize(text, voice=SynthesizeVoice(name=intel.VOICE)).event())
            return audio_of(await events_until(client, "audio-stop"))[1]

    async def streamed(text: str) -> np.ndarray:
        async with AsyncTcpClient("127.0.0.1", real_wyoming_port) as client:
            await client.write_event(SynthesizeStart(voice=SynthesizeVoice(name=intel.VOICE)).event())
            for word in text.split(" "):
                await client.write_event(SynthesizeChunk(word + " ").event())
            await client.write_event(SynthesizeStop().event())
            return audio_of(await events_until(client, "synthesize-stopped"))[1]

    assert np.array_equal(asyncio.run(whole(intel.PARAGRAPH)), np.round(paragraph_spoken * 32768).astype(np.int16))
    clips = [(asyncio.run(streamed(text)).astype(np.float32) / 32768, SAMPLE_RATE) for text in corpus_texts]
    wer = {"rest": word_error_rate(corpus_texts, corpus_heard),
           "streamed": word_error_rate(corpus_texts, intel.transcripts(listener, clips))}
    print(json.dumps(wer))
    assert wer["streamed"] <= wer["rest"] + 0.01, wer
