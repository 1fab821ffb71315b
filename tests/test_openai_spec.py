"""OpenAI's speech endpoint as OpenAI's own spec shapes it. tests/openai_speech_spec.json is a trimmed copy of
openai/openai-openapi's openapi.yaml (source and commit inside). Requests are built from its enums and the
installed `openai` SDK's types, checked against its CreateSpeechRequest, sent with the real SDK to the real
stack; every response is validated against the schema the spec gives it."""
import base64
import json
import re
import typing
from pathlib import Path

import openai
import pytest
from jsonschema import Draft202012Validator
from openai.types.audio import speech_create_params, speech_model

from tests.helpers import API_KEY, decode, frontend

SPEC = json.loads((Path(__file__).parent / "openai_speech_spec.json").read_text())
SCHEMAS = SPEC["components"]["schemas"]
REQUEST_FIELDS = SCHEMAS["CreateSpeechRequest"]["properties"]
TEXT = "Hello from the spec."
BASE = {"model": "gpt-4o-mini-tts", "voice": "alloy", "input": TEXT}


def validator(schema: dict) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": SPEC["components"]})  # "#/components/..." resolves here


def named(name: str) -> Draft202012Validator:
    return validator({"$ref": f"#/components/schemas/{name}"})


def enum_of(schema: dict) -> set[str]:
    """The names of a field the spec writes as an enum, or as anyOf [any string, an enum]."""
    return set(schema.get("enum") or next(s["enum"] for s in schema["anyOf"] if "enum" in s))


def literal_names(alias) -> set[str]:
    """The names in an SDK type alias, a Literal or a Union holding one."""
    if typing.get_origin(alias) is typing.Literal:
        return set(typing.get_args(alias))
    return set().union(*(literal_names(arg) for arg in typing.get_args(alias)))


# The schema's voice enum lags its own description (10 against 13 names); the SDK's Literal has all 13.
BUILT_IN_VOICES = REQUEST_FIELDS["voice"]["description"].split("voices are")[1].split(".")[0]
VOICES = sorted(enum_of(SCHEMAS["VoiceIdsShared"]) | set(re.findall(r"`([a-z]+)`", BUILT_IN_VOICES))
                | literal_names(speech_create_params.Voice))
MODELS = sorted(enum_of(REQUEST_FIELDS["model"]) | literal_names(speech_model.SpeechModel))
REQUESTS = ([{"voice": voice} for voice in VOICES] + [{"model": model} for model in MODELS]
            + [{"model": "gpt-4o-mini-tts-2026-03-01"}, {"voice": {"id": "cedar"}}, {"instructions": "x" * 4096},
               {"speed": 0.25}, {"speed": 4.0}]
            + [{"response_format": fmt} for fmt in sorted(REQUEST_FIELDS["response_format"]["enum"])]
            + [{"stream_format": fmt} for fmt in sorted(REQUEST_FIELDS["stream_format"]["enum"])]
            + [{"stream_format": "sse", "response_format": "pcm"}])


@pytest.fixture(scope="module")
def client(api):
    return openai.OpenAI(base_url=f"{api}/v1", api_key=API_KEY, max_retries=0, timeout=300)


def test_the_spec_and_the_sdk_name_thirteen_voices_and_the_dated_model():
    assert len(VOICES) == 13 and {"marin", "cedar", "fable", "onyx", "nova"} <= set(VOICES)
    assert "gpt-4o-mini-tts-2025-12-15" in MODELS


@pytest.mark.parametrize("fields", REQUESTS, ids=[json.dumps(r)[:60] for r in REQUESTS])
def test_requests_built_from_the_spec_succeed_with_the_sdk(client, fields):
    request = {**BASE, **fields}
    named("CreateSpeechRequest").validate(request)  # a request the spec allows, and only that
    fmt = request.get("response_format", "mp3")
    if request.get("stream_format") == "sse":
        audio = b"".join(base64.b64decode(event["audio"]) for event in sse_events(client, request))
    else:
        response = client.audio.speech.create(**request)
        assert response.response.headers["content-type"].startswith("audio/")  # binary, its type named
        audio = response.content
    sample_rate, seconds = decode(audio, fmt)
    assert sample_rate == 24000 and seconds > 0.2


def sse_events(client, request: dict) -> list[dict]:
    """The speech.audio.delta events of an SSE answer, after checking every event against the spec and that
    one speech.audio.done ends them."""
    with client.audio.speech.with_streaming_response.create(**request) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[len("data: "):]) for line in response.iter_lines() if line.startswith("data: ")]
    stream_event = validator(SPEC["paths"]["/audio/speech"]["post"]["responses"]["200"]["content"]
                             ["text/event-stream"]["schema"])
    for event in events:
        stream_event.validate(event)
    assert [e["type"] for e in events] == ["speech.audio.delta"] * (len(events) - 1) + ["speech.audio.done"]
    usage = events[-1]["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    return events[:-1]


@pytest.mark.parametrize("fields, error, param", [
    ({"instructions": "x" * 4097}, openai.BadRequestError, "instructions"),
    ({"model": "tts-2"}, openai.NotFoundError, "model"),
    ({"model": "gpt-4o-mini-tts-latest"}, openai.NotFoundError, "model"),
    ({"speed": 4.5}, openai.BadRequestError, "speed"),
])
def test_errors_have_the_specs_error_shape(client, fields, error, param):
    with pytest.raises(error) as raised:
        client.audio.speech.create(**{**BASE, **fields})
    body = raised.value.response.json()
    named("ErrorResponse").validate(body)
    assert body["error"]["param"] == param


def test_dated_model_ids_are_listed_as_this_model(client):
    assert client.models.retrieve("gpt-4o-mini-tts-2025-12-15").id == client.models.retrieve("tts-1").id


def test_rate_limited_answer_is_the_specs_429(triton, tiny_repository):
    """The spec's TooManyRequests: an ErrorResponse body and Retry-After, an integer of at least 1 s."""
    too_many = SPEC["components"]["responses"]["TooManyRequests"]
    with frontend(TRITON_URL=triton.http_url, MODEL_REPOSITORY=str(tiny_repository), API_KEYS=API_KEY,
                  RATE_LIMIT_PER_MINUTE="1") as stack:
        client = openai.OpenAI(base_url=f"{stack.url}/v1", api_key=API_KEY, max_retries=0, timeout=300)
        client.audio.speech.create(**BASE, response_format="pcm")
        with pytest.raises(openai.RateLimitError) as raised:
            client.audio.speech.create(**BASE, response_format="pcm")
    response = raised.value.response
    validator(too_many["content"]["application/json"]["schema"]).validate(response.json())
    validator(too_many["headers"]["Retry-After"]["schema"]).validate(int(response.headers["retry-after"]))
