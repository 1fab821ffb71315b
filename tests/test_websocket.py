"""Together's text-to-speech WebSocket (/v1/audio/speech/websocket) against the real stack, with a raw `websockets`
client: text appended in pieces comes back as each sentence's audio, the very samples the REST API gives for it;
the protocol's edges (bad messages, bad parameters, keys), barge-in and a dropped socket stopping Triton's work,
and the session limits. The text buffer that cuts appended text is tested alone first."""
import asyncio
import base64
import json

import httpx
import numpy as np
import pytest
import tritonclient.http as tritonhttp
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from frontend.reading.appended import TextBuffer
from tests.helpers import API_KEY, decode, frontend, settled

SENTENCES = ["Hello there.", "This sentence is spoken by Kokoro on Triton.", "And this one comes last."]
LONG = " ".join(f"Sentence number {i} is here to make this session long." for i in range(30))


# The text buffer, alone.

def pieces(text: str, max_chars: int = 250, step: int = 1) -> list[str]:
    """What a buffer gives for `text` appended `step` characters at a time, then flushed."""
    buffer, ready = TextBuffer(max_chars), []
    for start in range(0, len(text), step):
        ready += buffer.append(text[start:start + step])
    return ready + ([rest] if (rest := buffer.flush()) else [])


def test_sentences_are_cut_once_the_next_one_begins():
    buffer = TextBuffer(250)
    assert buffer.append("Hello there.") == []  # "3." may yet be "3.5"
    assert buffer.append(" How") == ["Hello there."]
    assert buffer.append(" are you?\n") == ["How are you?"]
    assert buffer.flush() == ""


def test_appended_in_any_pieces_the_cuts_are_the_same():
    text = " ".join(SENTENCES) + " It costs $3.50, which is fine! Done"
    assert pieces(text) == pieces(text, step=7) == pieces(text, step=len(text)) == [*SENTENCES, "It costs $3.50, "
                                                                                   "which is fine!", "Done"]


def test_abbreviations_and_initials_do_not_end_a_sentence():
    text = "Dr. Smith met J. R. Jones at 10 a.m. today. They talked, etc. Then they left."
    assert pieces(text) == ["Dr. Smith met J. R. Jones at 10 a.m. today.", "They talked, etc.", "Then they left."]


def test_long_runs_are_cut_at_a_clause_then_a_word_then_anywhere():
    assert pieces("one two three, four five six seven eight nine ten eleven", 30) == [
        "one two three,", "four five six seven eight nine", "ten eleven"]
    assert pieces("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert all(len(piece) <= 40 for piece in pieces(LONG.replace(".", ""), 40))


def test_cjk_sentences_end_at_their_own_punctuation():
    first, second = "今日は良い天気ですね。", "明日も晴れるでしょう。"
    assert pieces(first + second) == [first, second]


# The protocol, against the real stack.

def ws_url(api: str, query: str = "") -> str:
    return api.replace("http", "ws", 1) + "/v1/audio/speech/websocket" + (f"?{query}" if query else "")


def opened(api: str, query: str = "", key: str | None = API_KEY):
    return connect(ws_url(api, query), additional_headers={"Authorization": f"Bearer {key}"} if key else {},
                   max_size=None, open_timeout=30)


async def send(ws, kind: str, **fields) -> None:
    await ws.send(json.dumps({"type": kind, **fields}))


async def events_until(ws, done, timeout: float = 120) -> list[dict]:
    """Events received until one for which `done(event)` holds (included)."""
    events = []
    async with asyncio.timeout(timeout):
        while not events or not done(events[-1]):
            events.append(json.loads(await ws.recv()))
    return events


def of(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["type"] == kind]


def item_audio(events: list[dict], item_id: str) -> bytes:
    return b"".join(base64.b64decode(e["delta"]) for e in of(events, "conversation.item.audio_output.delta")
                    if e["item_id"] == item_id)


def rest_pcm(api: str, text: str) -> np.ndarray:
    response = httpx.post(f"{api}/v1/audio/speech", headers={"Authorization": f"Bearer {API_KEY}"}, timeout=120,
                          json={"model": "kokoro", "input": text, "response_format": "pcm"})
    assert response.status_code == 200, response.text
    return np.frombuffer(response.content, "<i2").astype(np.int32)


def test_text_in_single_characters_comes_back_as_each_sentences_audio(api):
    async def session():
        async with opened(api) as ws:
            created = json.loads(await ws.recv())
            for character in " ".join(SENTENCES):
                await send(ws, "input_text_buffer.append", text=character)
            await send(ws, "input_text_buffer.commit")
            return created, await events_until(ws, lambda e: e["type"].endswith(".done") and e["item_id"] == "tts_3")
    created, events = asyncio.run(session())
    assert created["type"] == "session.created" and created["session"]["object"] == "realtime.tts.session"
    assert created["session"]["model"] == "hexgrad/Kokoro-82M" and created["session"]["response_format"] == "pcm"
    assert "".join(e["text"] for e in of(events, "conversation.item.input_text.received")) == " ".join(SENTENCES)
    deltas = [e["item_id"] for e in of(events, "conversation.item.audio_output.delta")]
    assert deltas == sorted(deltas)  # each item's audio in turn, none interleaved
    assert set(deltas) == {"tts_1", "tts_2", "tts_3"}
    for item_id, sentence in zip(("tts_1", "tts_2", "tts_3"), SENTENCES, strict=True):
        got, want = np.frombuffer(item_audio(events, item_id), "<i2").astype(np.int32), rest_pcm(api, sentence)
        assert len(got) == len(want) and np.abs(got - want).max() <= 4, f"{item_id}: not the REST API's samples"
    assert not of(events, "conversation.item.tts.failed")


def test_parameters_from_the_query_words_and_an_update(api):
    async def session():
        async with opened(api, f"api_key={API_KEY}&response_format=mp3&alignment=word&sample_rate=16000") as ws:
            await ws.recv()
            await send(ws, "tts_session.updated", session={"voice": "no_such_voice"})
            refused = json.loads(await ws.recv())
            await send(ws, "tts_session.updated", session={"voice": "af_bella", "extra_params": {}})
            updated = json.loads(await ws.recv())
            await send(ws, "input_text_buffer.append", text=SENTENCES[1])
            await send(ws, "input_text_buffer.commit")
            return refused, updated, await events_until(ws, lambda e: e["type"].endswith(".done"))
    refused, updated, events = asyncio.run(session())
    assert refused["type"] == "conversation.item.tts.failed" and refused["error"]["code"] == "voice_not_found"
    assert updated["type"] == "session.updated" and updated["session"]["voice"] == "af_bella"
    rate, seconds = decode(item_audio(events, "tts_1"), "mp3")
    assert rate == 16000 and seconds > 0.5
    words = [w for e in of(events, "conversation.item.word_timestamps") for w in e["words"]]
    assert words == SENTENCES[1].rstrip(".").split() or words == SENTENCES[1].split()
    starts = [s for e in of(events, "conversation.item.word_timestamps") for s in e["start_seconds"]]
    assert starts == sorted(starts) and starts[-1] < seconds


@pytest.mark.parametrize("query, key, code, close", [
    ("", None, "missing_api_key", 1008),
    ("", "wrong-key", "invalid_api_key", 1008),
    ("api_key=wrong-key", None, "invalid_api_key", 1008),
    (f"api_key={API_KEY}&speed=9", None, "invalid_value", 1008),
    ("voice=no_such_voice", API_KEY, "voice_not_found", 1008),
    ("model=eleven_turbo", API_KEY, "model_not_found", 1008),
    ("language=xx", API_KEY, "unsupported_language", 1008),
])
def test_a_session_that_cannot_start_says_why_and_closes(api, query, key, code, close):
    async def session():
        async with opened(api, query, key) as ws:
            event = json.loads(await ws.recv())
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            return event, ws.close_code
    event, close_code = asyncio.run(session())
    assert event["type"] == "conversation.item.tts.failed" and event["error"]["code"] == code, event
    assert close_code == close


def test_bad_messages_are_answered_and_the_session_goes_on(api):
    async def session():
        async with opened(api) as ws:
            await ws.recv()
            answers = []
            for message in ("{not json", json.dumps({"type": "response.create"}), json.dumps([1, 2]),
                            json.dumps({"type": "input_text_buffer.append", "text": 42}), b"\x00\x01"):
                await ws.send(message)
                answers.append(json.loads(await ws.recv()))
            await send(ws, "input_text_buffer.append", text=SENTENCES[0])
            await send(ws, "input_text_buffer.commit")
            return answers, await events_until(ws, lambda e: e["type"].endswith(".done"))
    answers, events = asyncio.run(session())
    assert [a["error"]["code"] for a in answers] == ["invalid_json", "unknown_event", "unknown_event",
                                                     "invalid_value", "invalid_message"]
    assert all(a["type"] == "conversation.item.tts.failed" and a["error"]["message"] for a in answers)
    assert item_audio(events, "tts_1")


def inference_count(triton) -> int:
    stats = tritonhttp.InferenceServerClient(triton.http_url).get_inference_statistics("kokoro")
    return stats["model_stats"][0]["inference_count"]



# Items synthesized at once (frontend.synthesis.session.ITEMS_AHEAD), each a one-chunk sentence here; one more
# may be handed a slot as the first ones are cancelled.
AFTER_CANCEL = 3


def test_clear_cancels_the_items_in_progress_and_the_session_goes_on(api, triton):
    async def session():
        async with opened(api) as ws:
            await ws.recv()
            await send(ws, "input_text_buffer.append", text=LONG)
            await send(ws, "input_text_buffer.commit")
            await events_until(ws, lambda e: e["type"] == "conversation.item.audio_output.delta")
            before = inference_count(triton)
            await send(ws, "input_text_buffer.clear")
            cleared = await events_until(ws, lambda e: e["type"] == "input_text_buffer.cleared")
            after = settled(lambda: inference_count(triton)) - before
            await send(ws, "input_text_buffer.append", text=SENTENCES[0])
            await send(ws, "input_text_buffer.commit")
            return cleared, after, await events_until(ws, lambda e: e["type"].endswith(".done"))
    cleared, after, events = asyncio.run(session())
    cancelled = cleared[-1]["item_ids"]
    assert cancelled == [f"tts_{i}" for i in range(31 - len(cancelled), 31)] and len(cancelled) >= 25, cancelled
    assert after <= AFTER_CANCEL, f"{after} of 30 sentences were synthesized after the clear"
    assert not [e for e in events if e.get("item_id") in cancelled]  # nothing of theirs after `cleared`
    assert [e["item_id"] for e in of(events, "conversation.item.audio_output.done")] == ["tts_31"]


# One item of 100 chunks: its clauses, cut as the model's window needs (the most a sentence can be).
RUN_ON = ", ".join(f"clause number {i} goes on and on" for i in range(100))


@pytest.mark.parametrize("text, query, most", [(LONG, "", AFTER_CANCEL), (RUN_ON, "max_partial_length=4096", 6)],
                         ids=["30 items", "an item of 100 chunks"])
def test_a_dropped_socket_stops_its_synthesis(api, triton, text, query, most):
    """Left mid-item, a session's Triton calls stop: its items waiting never start, and of the item in progress no
    chunk goes to Triton after the ones already there (SYNTHESIS_LOOKAHEAD, 4) and one being handed a slot."""
    async def session():
        async with opened(api, query) as ws:
            await ws.recv()
            await send(ws, "input_text_buffer.append", text=text)
            await send(ws, "input_text_buffer.commit")
            await events_until(ws, lambda e: e["type"] == "conversation.item.audio_output.delta")
            return inference_count(triton)
        # leaving the block closes the socket mid-item
    before = asyncio.run(session())
    after = settled(lambda: inference_count(triton)) - before
    assert after <= most, f"{after} chunks were synthesized after the client left"


def test_session_limits(triton, tiny_repository):
    with frontend(TRITON_URL=triton.http_url, MODEL_REPOSITORY=str(tiny_repository), WEBSOCKET_MAX_CHARS="40",
                  WEBSOCKET_MAX_SESSIONS_PER_KEY="1", WEBSOCKET_IDLE_S="1") as stack:
        async def sessions():
            async with opened(stack.url, key=None) as first:
                await first.recv()
                async with opened(stack.url, key=None) as second:
                    refused = json.loads(await second.recv())
                    with pytest.raises(ConnectionClosed):
                        await second.recv()
                await send(first, "input_text_buffer.append", text="x" * 30)
                await send(first, "input_text_buffer.append", text="y" * 20)
                answers = await events_until(first, lambda e: e["type"] == "conversation.item.tts.failed")
                idle = await events_until(first, lambda e: e["type"] == "conversation.item.tts.failed", timeout=10)
                with pytest.raises(ConnectionClosed):
                    await first.recv()
                return refused, second.close_code, answers, idle, first.close_code
        refused, refused_code, answers, idle, idle_code = asyncio.run(sessions())
    assert refused["error"]["code"] == "too_many_sessions" and refused_code == 1013
    assert answers[-1]["error"]["code"] == "session_input_too_long" and "WEBSOCKET_MAX_CHARS" in answers[-1][
        "error"]["message"]
    assert idle[-1]["error"]["code"] == "session_idle" and idle_code == 1000
