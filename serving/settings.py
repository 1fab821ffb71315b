"""The settings of the Triton that `make serve` and `make triton` start, read from the environment.
`python -m serving.settings` prints docs/settings.md's tables: the API's and these."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from frontend.settings import ROOT, Settings, settings_table


class TritonSettings(BaseSettings):
    """The Triton launcher's settings (make serve, make triton)."""
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    model_repository: Path = Field(ROOT / "model_repository", description="the repository Triton serves "
                                   "(exported there first by make serve when it holds no model)")
    triton_http_port: int = Field(8000, ge=1, le=65535, description="Triton's HTTP port")
    triton_grpc_port: int = Field(8001, ge=1, le=65535, description="Triton's gRPC port")
    triton_metrics_port: int = Field(8002, ge=1, le=65535, description="Triton's metrics port")
    precision: Literal["auto", "fp32", "int8"] = Field(
        "auto", description="decoder precision when make serve exports: auto picks int8 where the CPU has VNNI "
        "and int8 holds its SNR and is faster, else fp32")


@lru_cache
def get_triton_settings() -> TritonSettings:
    return TritonSettings()


def settings_tables() -> str:
    return "\n\n".join(f"### {title}\n\n{settings_table(settings)}" for title, settings in (
        ("The API (`frontend/settings.py`)", Settings),
        ("The Triton launcher: make serve, make triton (`serving/settings.py`)", TritonSettings)))


if __name__ == "__main__":
    print(settings_tables())
