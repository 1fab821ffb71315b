"""Wire schemas: the union of the seed providers' speech request fields, and the other responses."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator

from kokoro_core.contract import MAX_SPEED, MIN_SPEED

AudioFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm", "raw"]
CaptionedFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
PcmEncoding = Literal["pcm_f32le", "pcm_s16le", "pcm_mulaw", "pcm_alaw"]


class VoiceRef(BaseModel):
    """OpenAI's object form of a voice."""
    id: str


class SpeechRequest(BaseModel):
    """POST /v1/audio/speech. Unknown fields (and OpenRouter's `provider`) are accepted and ignored."""
    model_config = ConfigDict(extra="ignore")

    model: str = Field(description="hexgrad/Kokoro-82M, or an alias: kokoro, tts-1, tts-1-hd, gpt-4o-mini-tts and "
                                   "OpenAI's dated snapshots such as gpt-4o-mini-tts-2025-12-15")
    input: str = Field(description="text to speak (at most MAX_INPUT_CHARS characters); "
                                   "[word](/phonemes/) sets a word's pronunciation, [pause:1.5s] adds silence, and "
                                   "input starting with <speak> is SSML; may be left out with `phonemes`")
    voice: str | VoiceRef | None = Field(None, description="a Kokoro voice id, an OpenAI voice name, or a blend "
                                                           "such as af_bella+af_sky or af_bella(2)+af_sky(1)")
    response_format: AudioFormat | None = Field(None, description="mp3 by default; raw when `stream` is true")
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED, allow_inf_nan=False, description="speaking rate")
    lang_code: str | None = Field(None, max_length=35, description="BCP-47 language tag, e.g. en-US")
    language: str | None = Field(None, max_length=35, description="language code, e.g. en")
    instructions: str | None = Field(None, max_length=4096, description="accepted for compatibility (at most "
                                     "4096 characters, as OpenAI's); Kokoro's delivery follows the voice")
    stream: bool = Field(False, description="Together: server-sent audio.tts.chunk events ending in [DONE]")
    stream_format: Literal["audio", "sse"] | None = Field(None, description="OpenAI: `sse` for speech.audio.delta "
                                                                           "events, `audio` for a raw stream")
    sample_rate: int | None = Field(None, ge=8000, le=48000, description="output rate; resampled from 24 kHz")
    response_encoding: PcmEncoding | None = Field(None, description="sample encoding for pcm and raw")
    provider: Any = Field(None, description="OpenRouter routing options; ignored")
    normalize: bool = Field(True, description="extension: read numbers, dates, units... as words (default); "
                                              "false sends the text to G2P as it is")
    phonemes: str | None = Field(None, max_length=20_000, description="extension: Kokoro phonemes to speak "
                                                                      "instead of `input` (see /dev/phonemize)")
    alignment: Literal["none", "word"] | None = Field(
        None, description="Together's, and an extension to OpenAI's SSE: `word` adds each chunk's word timestamps "
                          "to a stream of events (`stream: true` or `stream_format: sse`); other responses ignore it")

    @model_validator(mode="before")
    @classmethod
    def _phonemes_instead_of_input(cls, data: Any) -> Any:
        if isinstance(data, dict) and "input" not in data and data.get("phonemes"):
            return {**data, "input": ""}
        return data

    @field_validator("response_format", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class CaptionsRequest(SpeechRequest):
    """POST /v1/audio/captions: the body of a speech request, and the caption format. The captions fit the audio
    that /v1/audio/speech gives for the same body (synthesis is deterministic)."""
    caption_format: Literal["vtt", "srt"] = Field("vtt", description="WebVTT (text/vtt) or SubRip "
                                                                     "(application/x-subrip)")


class NormalizationOptions(BaseModel):
    """Kokoro-FastAPI's text normalization switches; `normalize` is honoured, the others are ignored."""
    model_config = ConfigDict(extra="ignore")

    normalize: bool = True


class CaptionedSpeechRequest(BaseModel):
    """POST /dev/captioned_speech, as Kokoro-FastAPI takes it. Its other fields (return_download_link,
    volume_multiplier, allow_voice_tags, ssml, voice_aliases...) are accepted and ignored."""
    model_config = ConfigDict(extra="ignore")

    model: str = "kokoro"
    input: str = Field(description="text to speak, as for /v1/audio/speech")
    voice: str | None = Field(None, description="as for /v1/audio/speech; DEFAULT_VOICE when left out")
    response_format: CaptionedFormat = "mp3"
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED, allow_inf_nan=False)
    stream: bool = Field(True, description="one JSON line per chunk of audio (application/json), as it is made")
    return_timestamps: bool = True
    lang_code: str | None = Field(None, max_length=35)
    normalization_options: NormalizationOptions | None = None
    sample_rate: int | None = Field(None, ge=8000, le=48000, description="extension: output rate, as for "
                                                                          "/v1/audio/speech")

    @field_validator("response_format", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value


class WordTimestamp(BaseModel):
    """A word of the input and when it is spoken, in seconds of the audio as sent (Kokoro-FastAPI's shape, plus
    where the word is in the input)."""
    word: str = Field(description="the word as the input writes it, without the punctuation at its edges")
    start_time: float
    end_time: float
    char_start: int = Field(description="extension: the word is input[char_start:char_end] (Unicode code points)")
    char_end: int


class CaptionedSpeechResponse(BaseModel):
    """POST /dev/captioned_speech's answer: the whole audio, or (streamed) one such line per chunk of it."""
    audio: str = Field(description="base64 of the audio (streamed: of the next bytes of the audio file)")
    audio_format: str = Field(description="its media type, e.g. audio/mpeg")
    timestamps: list[WordTimestamp] | None = Field(description="the words spoken in this audio")


class PhonemizeRequest(BaseModel):
    """POST /dev/phonemize: what the model will be given for a text."""
    text: str = Field(min_length=1, max_length=100_000)
    language: str | None = Field(None, max_length=35, description="as `language`/`lang_code`: en, en-US, en-GB")
    normalize: bool = True


class PhonemizeResponse(BaseModel):
    normalized_text: str
    phonemes: str
    tokens: list[int]


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class Voice(BaseModel):
    id: str
    name: str
    language: str
    gender: str


class VoiceList(BaseModel):
    voices: list[Voice]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    """Every error response, OpenAI's shape."""
    error: ErrorDetail


class Usage(BaseModel):
    input_tokens: int = Field(description="phoneme tokens given to the model")
    output_tokens: int = Field(description="audio frames of 25 ms produced")
    total_tokens: int


class SpeechAudioDelta(BaseModel):
    """OpenAI's SSE event (`stream_format: sse`): a piece of the encoded audio."""
    type: Literal["speech.audio.delta"] = "speech.audio.delta"
    audio: str = Field(description="base64 of the next bytes of the audio file")


class SpeechAudioDone(BaseModel):
    """OpenAI's last SSE event."""
    type: Literal["speech.audio.done"] = "speech.audio.done"
    usage: Usage


class TogetherChunk(BaseModel):
    """Together's SSE event (`stream: true`), followed at the end by `data: [DONE]`."""
    object: Literal["audio.tts.chunk"] = "audio.tts.chunk"
    model: str
    b64: str = Field(description="base64 of the next bytes of the audio")


class SpeechAudioWords(BaseModel):
    """Extension to OpenAI's SSE (`alignment: word`): the words of the audio just sent."""
    type: Literal["speech.audio.words"] = "speech.audio.words"
    words: list[WordTimestamp]


class TogetherWordTimestamps(BaseModel):
    """Together's word timing event (`stream: true`, `alignment: word`): the words of the audio just sent."""
    type: Literal["conversation.item.word_timestamps"] = "conversation.item.word_timestamps"
    words: list[str]
    start_seconds: list[float]
    end_seconds: list[float]


class StreamError(BaseModel):
    """A failure after the first event: sent in-band, and the stream ends."""
    type: Literal["error"] = "error"
    error: ErrorDetail


class SpeechEvent(RootModel[SpeechAudioDelta | SpeechAudioDone | SpeechAudioWords | TogetherChunk
                             | TogetherWordTimestamps | StreamError]):
    """One `data:` line of a speech stream's server-sent events."""
