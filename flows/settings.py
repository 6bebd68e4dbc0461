"""One typed settings object with layered defaults.

Layers, later wins: the package defaults in ``configs/settings.yaml`` ← a user
file (``$MUSTER_CONFIG``, else ``./muster.yaml`` when present) ← environment
variables (``MUSTER_DB_PATH``, ``MUSTER_FETCH__MAX_BYTES``, ...) ← explicit
arguments (CLI flags, flow parameters).  Keeping every knob in one validated
object means a typo in a user file is an error that names the key, not a
silently ignored setting.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from ingest.feeds import parse_duration
from ingest.fetch import FetchLimits
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_CONFIGS = ROOT / "configs"
DEFAULTS_FILE = PACKAGE_CONFIGS / "settings.yaml"


class ScheduleSettings(BaseModel):
    """When the scheduled pipeline deployment runs."""

    model_config = ConfigDict(extra="forbid")

    pipeline_every_minutes: int = Field(default=30, ge=1)


class MusterSettings(BaseSettings):
    """Everything a Muster run needs to know, validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="MUSTER_", env_nested_delimiter="__", extra="forbid"
    )

    db_path: Path = Path("data/muster.duckdb")
    feeds_path: Path = PACKAGE_CONFIGS / "feeds.yaml"
    configs_dir: Path = PACKAGE_CONFIGS
    # Pages per batch: one transaction, cluster refresh, checkpoint and Prefect task each
    # (~120 ms of the run's own CPU), so 50 cost 2.4 ms a page and 400 cost 0.3; two
    # batches' bodies are in memory at once (~200 MB of typical pages), and a killed run
    # refetches at most those. 400 against 200: `muster run` 1.4 s (5 %) faster on 2,000
    # pages, peak RSS 880 -> 980 MB (benchmarks/README.md).
    batch_size: int = Field(default=400, ge=1)
    # Processes that clean and extract pages (flows/parallel.py); null: one per core,
    # 0 or 1: in the run's own process.
    workers: int | None = Field(default=None, ge=0)
    # Where batches are fetched, cleaned and extracted: "default" (this machine, the pool
    # above) or "dask" (tasks on the Dask cluster at dask_address; loads stay here).
    task_runner: Literal["default", "dask"] = "default"
    dask_address: str | None = None
    max_articles_per_feed: int | None = Field(default=None, ge=1)
    # Stored articles are not fetched again unless this is set ("7d", "12h", seconds):
    # then one not requested for that long is re-requested, conditionally (304 if unchanged).
    refetch_after: int | None = Field(default=None, ge=0)
    # Where articles and events go: "duckdb" (db_path) or "parquet" (partitioned files
    # under parquet_dir, for many writers and object storage; warehouse/parquet_sink.py).
    # Pipeline state (feeds, fetch_log, url_state, runs) stays in db_path either way.
    sink: Literal["duckdb", "parquet"] = "duckdb"
    parquet_dir: Path = Path("data/parquet")
    fetch: FetchLimits = FetchLimits()
    schedule: ScheduleSettings = ScheduleSettings()

    @field_validator("refetch_after", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int | None:
        return parse_duration(value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        files = [DEFAULTS_FILE]
        user = user_settings_file()
        if user is not None:
            files.append(user)
        yaml_source = YamlConfigSettingsSource(settings_cls, yaml_file=files, deep_merge=True)
        return (init_settings, env_settings, yaml_source)


def user_settings_file() -> Path | None:
    """The user's settings file: ``$MUSTER_CONFIG`` if set, else ``./muster.yaml`` if present."""
    explicit = os.environ.get("MUSTER_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise FileNotFoundError(f"MUSTER_CONFIG points to {path}, which is not a file")
        return path
    local = Path("muster.yaml")
    return local if local.is_file() else None


def load_settings(**overrides: Any) -> MusterSettings:
    """Build the settings, dropping ``None`` overrides so unset CLI flags keep lower layers."""
    return MusterSettings(**{k: v for k, v in overrides.items() if v is not None})
