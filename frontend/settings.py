"""The API's settings, read once from the environment (the Triton launcher's are in serving/settings.py).
`python -m serving.settings` prints the tables of docs/settings.md from the fields' descriptions."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from kokoro_core.contract import ASSETS, MAX_PHONEMES, SAMPLE_RATE

ROOT = Path(__file__).resolve().parent.parent
CommaSeparated = Annotated[list[str], NoDecode]  # from the environment as a,b,c


class Settings(BaseSettings):
    """The API process's settings."""
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    host: str = Field("0.0.0.0", description="address the API listens on")
    port: int = Field(8880, ge=1, le=65535, description="port the API listens on")
    api_keys: Annotated[list[SecretStr], NoDecode] = Field([], description="comma-separated bearer keys; empty "
                                                           "means no authentication")
    api_keys_file: Path | None = Field(None, description="file with one bearer key per line, added to API_KEYS; "
                                       "blank lines and lines starting with # are ignored")
    triton_url: CommaSeparated = Field(["localhost:8000"], min_length=1,
                                       description="Triton HTTP endpoint(s), host:port, comma-separated")
    triton_model: str = Field("kokoro", description="name of the Kokoro model in Triton")
    model_repository: Path = Field(ROOT / "model_repository", description="repository holding kokoro/assets")
    request_timeout_s: float = Field(120.0, gt=0, description="per-request limit for one Triton call")
    max_input_chars: int = Field(4096, ge=1, description="longest accepted `input`, and `phonemes`")
    max_body_bytes: int = Field(1 << 20, ge=1024, description="largest accepted request body")
    max_audio_s: float = Field(1800.0, gt=0, description="longest audio one request may ask for, estimated while "
                               "planning (0.1 s per phoneme at speed 1, over the speed and SSML rate, plus pauses); "
                               "more: 400 `audio_too_long`. 30 minutes lets the longest `input` be read at speed 0.25")
    max_pause_s: float = Field(300.0, ge=0, description="seconds of silence one request may ask for, its inline "
                               "`[pause:]` tags and SSML `<break>`s together; more: 400 `pauses_too_long`")
    max_chunks: int = Field(1024, ge=1, description="chunks (model calls) one request may be cut into; more: 400 "
                            "`too_many_chunks` (4096 characters of one-word sentences are about 800)")
    max_blend_voices: int = Field(8, ge=1, description="distinct voices in one blend (a voice named twice counts "
                                  "once); more: 400 `too_many_voices`")
    max_speakers: int = Field(16, ge=1, description="distinct voices one request may name in `[voice:]` tags, SSML "
                              "`<voice>`, dialogue turns and `voice_aliases`; more: 400 `too_many_speakers`")
    max_held_bytes: int = Field(8 << 20, ge=1 << 16, description="bytes of a whole file (wav, flac) held in memory "
                                "per request while it is encoded; the rest is spooled to a temporary file")
    default_voice: str = Field("af_heart", description="voice when a request names none")
    max_inflight: int = Field(64, ge=1, description="requests doing work at once (speech, captions, phonemize, "
                              "voice combination, downloads), all keys together; more get 429")
    max_inflight_per_key: int = Field(0, ge=0, description="requests doing work at once for one API key (the "
                                      "client's address when the API is open); more get 429; 0: a quarter of "
                                      "MAX_INFLIGHT")
    max_stream_seconds: float = Field(10 * 60.0, gt=0, description="wall-clock limit of one streamed response: past it "
                                      "the stream ends (an error event in SSE, the connection cut otherwise) and "
                                      "its synthesis stops")
    first_chunk_words: int = Field(0, ge=0, le=50, description="0: a stream's first chunk is its first sentence, "
                                   "cut as whole files are (as intelligible as them); N: its first clauses within N "
                                   "words, for earlier audio (measured 0.9 WER points worse at 8)")
    synthesis_lookahead: int = Field(4, ge=1, le=64, description="chunks of one request submitted at once")
    triton_max_inflight: int = Field(0, ge=0, description="chunks at Triton at once, all requests together; the "
                                     "rest wait in the frontend, earliest deadline first; 0: what the servers' "
                                     "model configurations can run at once")
    triton_recovery_wait_s: float = Field(60.0, ge=0, description="how long a request whose Triton call a crash "
                                          "caught waits for a server to be ready again, then is retried once; "
                                          "past it: 503")
    chunk_max_phonemes: int = Field(400, ge=20, le=MAX_PHONEMES, description="longest chunk sent to the model")
    rate_limit_per_minute: int = Field(0, ge=0, description="requests per minute per API key; 0 means no limit")
    cors_origins: CommaSeparated = Field([], description="comma-separated origins allowed by CORS, or *; empty: none")
    download_ttl_s: float = Field(3600.0, gt=0, description="how long audio kept for `return_download_link` "
                                  "stays downloadable at GET /v1/download/{file}")
    download_max_files: int = Field(64, ge=0, description="files kept for `return_download_link` at once, the "
                                    "oldest removed first; 0 turns the field off (400)")
    download_max_bytes: int = Field(256 << 20, ge=0, description="bytes of the files kept for "
                                    "`return_download_link`, the oldest removed first")
    download_max_files_per_key: int = Field(16, ge=1, description="files kept for one API key (or client "
                                            "address), its oldest removed first")
    download_max_bytes_per_key: int = Field(64 << 20, ge=0, description="bytes of the files kept for one API key "
                                            "(or client address), its oldest removed first")
    websocket_idle_s: float = Field(60.0, gt=0, description="a WebSocket session with no message from its client "
                                    "for this long, and nothing left to speak, is closed (`session_idle`)")
    websocket_max_session_s: float = Field(1800.0, gt=0, description="how long one WebSocket session may last; "
                                           "then it is closed (`session_too_long`) and its synthesis stops")
    websocket_max_chars: int = Field(50_000, ge=1, description="characters of text one WebSocket session (or "
                                     "Wyoming streaming synthesis) may append in all; more are refused "
                                     "(`session_input_too_long`)")
    websocket_max_sessions: int = Field(64, ge=1, description="WebSocket sessions open at once, all keys together; "
                                        "more are refused (`too_many_sessions`, close code 1013)")
    websocket_max_sessions_per_key: int = Field(8, ge=1, description="WebSocket sessions open at once for one API "
                                                "key (or client address); more are refused as above")
    wyoming_host: str = Field("0.0.0.0", description="address the Wyoming server (Home Assistant's protocol) "
                              "listens on")
    wyoming_port: int = Field(10200, ge=0, le=65535, description="port of the Wyoming server, beside the API in "
                              "the same process; 0 turns it off. Wyoming has no keys: with API_KEYS set it stays off "
                              "unless WYOMING_OPEN is true (docs/home-assistant.md)")
    wyoming_open: bool = Field(False, description="serve Wyoming, without keys, even when API_KEYS closes the API: "
                               "for a port reachable only from Home Assistant's network")
    wyoming_sample_rate: int = Field(SAMPLE_RATE, ge=8000, le=48000, description="rate of the 16-bit mono PCM the "
                                     "Wyoming server sends (Home Assistant converts what its players need)")
    wyoming_idle_s: float = Field(60.0, gt=0, description="a Wyoming connection that sends no event for this "
                                  "long, with nothing being spoken, is closed")
    shutdown_grace_s: float = Field(30.0, ge=0,
                                    description="how long in-flight requests may finish on SIGTERM; then 503")

    @field_validator("api_keys", "triton_url", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return [item.strip() for item in value.split(",") if item.strip()] if isinstance(value, str) else value

    @field_validator("api_keys_file")
    @classmethod
    def _file_exists(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"API_KEYS_FILE {path} does not exist")
        return path

    def keys(self) -> frozenset[str]:
        keys = [key.get_secret_value() for key in self.api_keys]
        if self.api_keys_file:
            keys += [line.strip() for line in self.api_keys_file.read_text().splitlines()
                     if not line.strip().startswith("#")]
        return frozenset(k for k in keys if k)

    def inflight_per_key(self) -> int:
        return self.max_inflight_per_key or max(1, self.max_inflight // 4)

    @property
    def assets(self) -> Path:
        return self.model_repository / ASSETS


@lru_cache
def get_settings() -> Settings:
    return Settings()


def settings_table(settings: type[BaseSettings]) -> str:
    """Markdown table of a process's settings: environment variable, default, bounds and description."""
    rows = ["| variable | default | bounds | meaning |", "| --- | --- | --- | --- |"]
    rows += [f"| `{name.upper()}` | {_shown(field.default)} | {_bounds(field)} | {field.description} |"
             for name, field in settings.model_fields.items()]
    return "\n".join(rows)


def _shown(default: object) -> str:
    if default is None:
        return "unset"
    if isinstance(default, list):
        default = ",".join(default)
    if default == "":
        return "empty"
    if isinstance(default, Path):
        default = default.relative_to(ROOT)
    return f"`{default:g}`" if isinstance(default, float) else f"`{default}`"


def _bounds(field: FieldInfo) -> str:
    symbols = {"ge": "≥", "gt": ">", "le": "≤"}
    return ", ".join(f"{symbol} {getattr(limit, name)}" for limit in field.metadata
                     for name, symbol in symbols.items() if hasattr(limit, name))

