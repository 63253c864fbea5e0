"""Typed settings, read once at start-up from JIESU_* environment variables and an optional TOML file.

Precedence, highest first: values passed in code, environment, the config file, defaults.
The config file is `JIESU_CONFIG_FILE` if set, else `jiesu.toml` in the working directory if present.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_FILE = Path("jiesu.toml")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Everything Jiesu reads from its environment; validated once, then passed down explicitly."""

    model_config = SettingsConfigDict(env_prefix="JIESU_", extra="forbid", frozen=True)

    env: Environment = Environment.DEVELOPMENT
    database_url: str = Field(
        "sqlite:///var/jiesu.db", description="SQLAlchemy URL; PostgreSQL in production"
    )
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="host:port[,host:port]")
    topic_prefix: str = Field("jiesu.", description="prefix of every topic name")
    topic_partitions: int = Field(6, ge=1, le=1000)
    topic_replication: int = Field(1, ge=1, le=5)
    consumer_group: str = Field("jiesu", min_length=1, description="Kafka consumer group id")

    catalog_dir: Path = Field(Path("config/catalog"), description="the dispatch catalog (派单目录) folder")
    sla_file: Path = Field(
        Path("config/sla.yaml"), description="calendar years, working hours, SLA durations"
    )
    assessment_file: Path = Field(
        Path("config/assessment.yaml"), description="callback outcomes, the rates' weights per period"
    )
    notifications_file: Path = Field(
        Path("config/notifications.yaml"), description="notification channels, group robots, the digest"
    )
    catalog_reload_seconds: float = Field(2.0, gt=0, description="how often to look for catalog changes")

    repeat_window_days: float = Field(
        7.0, ge=0, description="same phone+community (else street)+category: a repeat"
    )
    merge_window_minutes: float = Field(
        0.0,
        ge=0,
        description="并案 by the rules: a request about the same category in the same street as an open case "
        "received this many minutes before it is merged into that case (0: off)",
    )
    merge_hotspots: bool = Field(
        False,
        description="并案 by an open hotspot of a street or community: its open cases at the main case's "
        "unit are merged into its first case, and so are the cases of its area and category dispatched "
        "while it stays open",
    )
    return_window_urgent_hours: float = Field(2.0, gt=0, description="退单 window for emergency/urgent cases")
    return_window_hours: float = Field(24.0, gt=0, description="退单 window for other cases")

    knowledge_file: Path = Field(
        Path("config/knowledge/starter.yaml"),
        description="the knowledge base (知识库) loaded into an empty database (`jiesu knowledge load`)",
    )
    direct_callback: bool = Field(
        True,
        description="call back (回访) the requesters of consultations closed at intake (直接办结), as any "
        "case after its result",
    )

    notifications: bool = Field(
        True,
        description="read the case events back in this `jiesu run`: count hotspots, plan and deliver "
        "notifications (false: leave them to another `jiesu run` in the same consumer group that has "
        "them on)",
    )
    sla_sweep_seconds: float = Field(1.0, gt=0, le=60, description="how often due SLA timers are fired")

    relay_batch_size: int = Field(500, ge=1, le=10_000)
    relay_poll_seconds: float = Field(0.5, gt=0, le=60)

    state_dir: Path = Field(Path("var/state"), description="local working files of the stream processors")

    kafka_version: str = Field("4.3.1", description="Apache Kafka broker version for `kafka up`")
    kafka_cache_dir: Path = Field(
        Path.home() / ".cache" / "jiesu" / "kafka", description="where the broker jars are kept"
    )
    kafka_data_dir: Path = Field(Path("var/kafka"), description="local broker storage and logs")
    kafka_heap: str = Field("512m", description="local broker JVM heap")

    web_host: str = "127.0.0.1"
    web_port: int = Field(8000, ge=1, le=65535)
    web_max_body_bytes: int = Field(
        1_048_576, ge=1, description="the largest request body the web app reads (413 beyond)"
    )
    dashboard_history_seconds: float = Field(
        60.0,
        ge=0,
        le=3600,
        description="how long a district's dashboard charts of past days, weeks and months are kept before "
        "they are read again (0: read on every load)",
    )

    session_hours: float = Field(
        12.0, gt=0, le=24 * 30, description="a web session ends this long after the login, however used"
    )
    session_idle_minutes: float = Field(
        30.0, gt=0, le=24 * 60, description="a web session ends after this long without a request"
    )
    api_login_hours: float = Field(
        12.0, gt=0, le=24 * 365, description="how long a token from `POST /api/login` lasts"
    )
    login_failures_per_account: int = Field(
        5, ge=1, le=1000, description="failed logins of one account in the window before it must wait (429)"
    )
    login_failures_per_address: int = Field(
        20, ge=1, le=10_000, description="failed logins from one client address in the window (429)"
    )
    login_window_minutes: float = Field(
        15.0, gt=0, le=24 * 60, description="the sliding window the failed logins are counted in"
    )

    @model_validator(mode="after")
    def _check_safe_outside_development(self) -> Settings:
        if self.env is Environment.PRODUCTION and self.database_url.startswith("sqlite"):
            raise ValueError("JIESU_DATABASE_URL: production needs a PostgreSQL database URL")
        return self

    def topic(self, name: str) -> str:
        """The full name of one of the contract's topics, e.g. topic("intake") -> "jiesu.intake"."""
        return f"{self.topic_prefix}{name}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, config_file()))


def config_file() -> Path | None:
    explicit = os.environ.get("JIESU_CONFIG_FILE")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise FileNotFoundError(f"JIESU_CONFIG_FILE={explicit}: no such file")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
