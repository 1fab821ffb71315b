"""Wire schemas: the union of the seed providers' speech request fields, and the other responses."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    field_validator,
    model_validator,
)

from frontend.synthesis.defaults import response_format
from frontend.synthesis.request import Alias, Mode, SpeechInput
from kokoro_core.contract import MAX_SPEED, MIN_SPEED

AudioFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm", "raw"]
CaptionedFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
PcmEncoding = Literal["pcm_f32le", "pcm_s16le", "pcm_mulaw", "pcm_alaw"]


class VoiceRef(BaseModel):
    """OpenAI's object form of a voice."""
    id: str


class VoiceAlias(BaseModel):
    """Kokoro-FastAPI's voice alias with a rate of its own."""
    voice: str = Field(max_length=1000, description="a voice id, an OpenAI voice name or a blend")
    rate: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED, allow_inf_nan=False, description="this voice's own rate: "
                        "its text at this times the request's speed (and any [rate:] tag's)")


MAX_ALIASES = 64
AliasName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\[\]+()]+$")]
VoiceAliases = Annotated[dict[AliasName, str | VoiceAlias], Field(max_length=MAX_ALIASES)]


class NormalizationOptions(BaseModel):
    """Kokoro-FastAPI's switches over text normalization (English). `normalize` false reads nothing; each other
    switch, false, turns off the rules of one category. Every switch is on unless sent false (Kokoro-FastAPI
    leaves units off by default; this normalizer reads them from their context)."""
    model_config = ConfigDict(extra="ignore")

    normalize: bool = Field(True, description="false: the text goes to G2P as it is (as `normalize` false)")
    unit_normalization: bool = Field(True, description="units after numbers: 10KB is ten kilobytes")
    url_normalization: bool = Field(True, description="web addresses: example.com is example dot com")
    email_normalization: bool = Field(True, description="e-mail addresses: a@b.com is a at b dot com")
    optional_pluralization_normalization: bool = Field(True, description="file(s) is read files")
    phone_normalization: bool = Field(True, description="phone numbers read in digit groups")
    replace_remaining_symbols: bool = Field(True, description="symbols left over: & is and, @ is at")

    def skipped(self) -> frozenset[str]:
        """The categories of frontend.reading.normalize turned off."""
        switches = {"units": self.unit_normalization, "urls": self.url_normalization,
                    "emails": self.email_normalization, "optional_plurals": self.optional_pluralization_normalization,
                    "phones": self.phone_normalization, "symbols": self.replace_remaining_symbols}
        return frozenset(category for category, on in switches.items() if not on)


class SpeechRequest(BaseModel):
    """POST /v1/audio/speech. Unknown fields (and OpenRouter's `provider`) are accepted and ignored."""
    model_config = ConfigDict(extra="ignore")

    model: str | None = Field(None, description="hexgrad/Kokoro-82M, or an alias: kokoro, tts-1, tts-1-hd, "
                                                "gpt-4o-mini-tts and OpenAI's dated snapshots such as "
                                                "gpt-4o-mini-tts-2025-12-15; this model when left out")
    input: str = Field(description="text to speak (at most MAX_INPUT_CHARS characters); "
                                   "[word](/phonemes/) sets a word's pronunciation, [pause:1.5s] adds silence, and "
                                   "input starting with <speak> is SSML; may be left out with `phonemes`")
    voice: str | VoiceRef | None = Field(None, description="a Kokoro voice id, an OpenAI voice name, or a blend "
                                                           "such as af_bella+af_sky or af_bella(2)+af_sky(1)")
    response_format: AudioFormat | None = Field(None, description="mp3 by default; raw when `stream` is true")
    speed: float = Field(1.0, ge=MIN_SPEED, le=MAX_SPEED, allow_inf_nan=False, description="speaking rate")
    lang_code: str | None = Field(None, max_length=35, description="BCP-47 language tag, e.g. en-US, or Kokoro's "
                                                                   "letter (a, b, e, f, h, i, j, p, z)")
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
                                                                      "instead of `input` (see /dev/phonemize), "
                                                                      "at most MAX_INPUT_CHARS characters")
    normalization_options: NormalizationOptions | None = Field(None, description="Kokoro-FastAPI: normalization "
                                                                                 "switches")
    volume_multiplier: float = Field(1.0, ge=0, le=10, allow_inf_nan=False, description="Kokoro-FastAPI: the "
                                     "samples times this (clipped at full scale)")
    return_download_link: bool = Field(False, description="Kokoro-FastAPI: also keep the audio as a file, its path "
                                                          "(under /v1) in the X-Download-Path header")
    download_format: AudioFormat | None = Field(None, description="Kokoro-FastAPI: the kept file's format; "
                                                                  "response_format by default")
    alignment: Literal["none", "word"] | None = Field(
        None, description="Together's, and an extension to OpenAI's SSE: `word` adds each chunk's word timestamps "
                          "to a stream of events (`stream: true` or `stream_format: sse`); other responses ignore it")
    return_timing: bool = Field(False, description="Kokoro-FastAPI: with `return_download_link`, a JSON file of "
                                "when each chunk of text sounds ({\"chunks\": [{text, start, end}]}, pauses with "
                                "text \"\"), its path in the X-Timing-Path header")
    allow_voice_tags: bool = Field(False, description="Kokoro-FastAPI: `[voice:name]` in `input` switches the voice "
                                   "(and language) for what follows, `[rate:0.8]` its rate; SSML's <voice name> too")
    voice_aliases: VoiceAliases | None = Field(None, description="Kokoro-FastAPI: names (any case) for voices, used "
                                               "by `voice` and [voice:] tags: {\"narrator\": \"af_bella(2)+af_sky\", "
                                               "\"grandpa\": {\"voice\": \"am_michael\", \"rate\": 0.8}}")
    ssml: bool = Field(False, description="Kokoro-FastAPI: `input` is SSML (needs `allow_voice_tags`, as there); "
                                          "an input starting with <speak> is read as SSML either way")

    @model_validator(mode="before")
    @classmethod
    def _phonemes_instead_of_input(cls, data: Any) -> Any:
        if isinstance(data, dict) and "input" not in data and data.get("phonemes"):
            return {**data, "input": ""}
        return data

    @field_validator("response_format", "download_format", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    def reading(self) -> tuple[bool, frozenset[str]]:
        """Whether the text is normalized (`normalize`, and Kokoro-FastAPI's `normalization_options.normalize`),
        and the categories of frontend.reading.normalize left unread."""
        options = self.normalization_options or NormalizationOptions()
        return self.normalize and options.normalize, options.skipped()

    def speech_input(self, timed: bool = False) -> SpeechInput:
        """This request in the service's terms; `timed`: its words aligned with the audio (as `alignment: word`
        asks of a stream of events)."""
        normalize, skip = self.reading()
        kind = response_format(self.response_format, self.stream)
        mode = (Mode.SSE if self.stream_format == "sse" else Mode.TOGETHER if self.stream
                else Mode.STREAM if self.stream_format == "audio" else None)
        return SpeechInput(
            text=self.input, phonemes=self.phonemes, model=self.model,
            voice=self.voice.id if isinstance(self.voice, VoiceRef) else self.voice, lang_code=self.lang_code,
            language=self.language, format=kind, encoding=self.response_encoding, mode=mode,
            sample_rate=self.sample_rate, speed=self.speed, normalize=normalize, skip=skip,
            volume=self.volume_multiplier,
            download_format=(self.download_format or kind) if self.return_download_link else None,
            timed=timed or (self.alignment == "word" and mode in (Mode.SSE, Mode.TOGETHER)),
            voice_tags=self.allow_voice_tags, as_ssml=self.ssml, voice_aliases=aliases(self.voice_aliases),
            chunk_timing=self.return_timing)


def aliases(written: dict[str, str | VoiceAlias] | None) -> dict[str, Alias]:
    """The request's voice aliases by lowercase name."""
    return {name.lower(): Alias(alias, 1.0) if isinstance(alias, str) else Alias(alias.voice, alias.rate)
            for name, alias in (written or {}).items()}


class Turn(BaseModel):
    voice: str = Field(min_length=1, max_length=1000, pattern=r"^[^\[\]]+$", description="who says it: a voice "
                       "id, an OpenAI voice name, a blend or one of `voice_aliases`")
    text: str = Field(min_length=1, description="what they say (inline tags allowed, as in `input`)")


MAX_TURNS = 512


class DialogueRequest(SpeechRequest):
    """POST /dev/dialogue (Kokoro-FastAPI's): ordered turns, each in its own voice, a pause between two speakers;
    spoken as `input` with voice tags (the turns' texts count against MAX_INPUT_CHARS), the other fields as for
    /v1/audio/speech."""
    input: str = Field("", description="not used: the turns are the input")
    turns: list[Turn] = Field(min_length=1, max_length=MAX_TURNS)
    pause_between_turns: float = Field(0.4, ge=0, le=10, allow_inf_nan=False, description="seconds of silence "
                                       "where the speaker changes (consecutive turns of one voice are joined)")

    def tagged_input(self) -> str:
        """The turns as `input` with voice tags, consecutive turns of one voice joined."""
        written, speaker = [], None
        for turn in self.turns:
            if turn.voice != speaker:
                if speaker is not None and self.pause_between_turns:
                    written.append(f"[pause:{self.pause_between_turns:g}s]")
                written.append(f"[voice:{turn.voice}]")
                speaker = turn.voice
            written.append(turn.text)
        return " ".join(written)

    def speech_input(self, timed: bool = False) -> SpeechInput:
        spoken = self.model_copy(update={"input": self.tagged_input(), "voice": self.turns[0].voice,
                                         "allow_voice_tags": True})
        return SpeechRequest.speech_input(spoken, timed)


class SsmlRequest(BaseModel):
    """POST /dev/ssml: SSML to translate into the inline tag language."""
    text: str = Field(min_length=1, validation_alias=AliasChoices("text", "input", "ssml"),
                      description="SSML, starting with <speak> (also accepted as `input`)")
    voice: str | None = Field(None, max_length=1000, description="the voice outside <voice> elements (it is named "
                              "where a <voice> ends); the default voice when left out")


class SsmlTranslation(BaseModel):
    text: str = Field(description="the same speech as inline tags: [voice:], [rate:], [pause:Ns], [word](/ipa/)")


class SsmlCapabilities(BaseModel):
    """GET /dev/ssml: what SSML is read, and how."""
    elements: dict[str, list[str]] = Field(description="each supported element and its attributes")
    needs_voice_tags: list[str] = Field(description="elements that need `allow_voice_tags`")
    break_strengths: dict[str, float] = Field(description="<break strength> in seconds")
    prosody_rates: dict[str, float] = Field(description="<prosody rate> names, as rates")
    rate_bounds: tuple[float, float]
    max_break_s: float
    max_depth: int


class CaptionsRequest(SpeechRequest):
    """POST /v1/audio/captions: the body of a speech request, and the caption format. The captions fit the audio
    that /v1/audio/speech gives for the same body (synthesis is deterministic)."""
    caption_format: Literal["vtt", "srt"] = Field("vtt", description="WebVTT (text/vtt) or SubRip "
                                                                     "(application/x-subrip)")


class CaptionedSpeechRequest(BaseModel):
    """POST /dev/captioned_speech, as Kokoro-FastAPI takes it. Its other fields (return_download_link...) are
    accepted and ignored."""
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
    volume_multiplier: float = Field(1.0, ge=0, le=10, allow_inf_nan=False, description="as for /v1/audio/speech")
    sample_rate: int | None = Field(None, ge=8000, le=48000, description="extension: output rate, as for "
                                                                          "/v1/audio/speech")
    allow_voice_tags: bool = Field(False, description="as for /v1/audio/speech; each timestamp then names its voice")
    voice_aliases: VoiceAliases | None = Field(None, description="as for /v1/audio/speech")
    ssml: bool = Field(False, description="as for /v1/audio/speech")

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
    voice: str | None = Field(None, exclude_if=lambda voice: voice is None,
                              description="who speaks it, only when the input switches voices ([voice:] tags)")


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


class PhonemesSpeechRequest(BaseModel):
    """POST /dev/generate_from_phonemes (Kokoro-FastAPI's): Kokoro phonemes to a WAV file."""
    phonemes: str = Field(min_length=1, max_length=20_000, description="as /dev/phonemize gives them")
    voice: str | None = Field(None, description="as in /v1/audio/speech; the default voice when left out")


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


class VoiceNames(BaseModel):
    """Kokoro-FastAPI's former shape of the voice list (`?legacy=true`)."""
    voices: list[str]


class AudioModel(BaseModel):
    id: str


class AudioModelList(BaseModel):
    """GET /v1/audio/models, as Open WebUI reads it for its choice of speech models."""
    models: list[AudioModel]


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
