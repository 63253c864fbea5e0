"""The operator's notifications file (config/notifications.yaml): channels, group robots, limits."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from notifications.message import ChannelKind
from notifications.policy import Address


class Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: ChannelKind
    address: str = Field(min_length=1)


class NotificationsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: dict[ChannelKind, dict[str, Any]] = Field(
        default_factory=lambda: {ChannelKind.CONSOLE: dict[str, Any]()}
    )
    groups: dict[str, Group] = {}
    short_limit: int = Field(70, ge=10, le=1000)
    templates: Path | None = None
    digest_at: time = time(8, 30)

    def group_addresses(self) -> dict[str, Address]:
        return {where: Address(group.channel, group.address) for where, group in self.groups.items()}


class NotificationsFileError(ValueError):
    """The notifications file is wrong; the message says where."""


def load_notifications(path: Path) -> NotificationsFile:
    """The file as written; a missing file means the console only."""
    if not path.exists():
        return NotificationsFile()
    try:
        return NotificationsFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (yaml.YAMLError, ValidationError) as error:
        raise NotificationsFileError(f"{path}: {error}") from None
