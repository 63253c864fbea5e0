"""What a requester asked for, as the hotline recorded it (受理)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Urgency(StrEnum):
    EMERGENCY = "emergency"
    URGENT = "urgent"
    GENERAL = "general"
    COMPLEX = "complex"


@dataclass(frozen=True)
class Location:
    district: str | None = None
    street: str | None = None
    community: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Requester:
    """Personal data of the requester (诉求人): masked wherever it is not needed."""

    name: str | None = None
    phone: str | None = None
    anonymous: bool = False
    confidential: bool = False
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Complaint:
    ticket_id: str
    received_at: datetime
    channel: str
    kind: str
    description: str
    category: str | None = None
    urgency: Urgency | None = None
    location: Location = field(default_factory=Location)
    requester: Requester = field(default_factory=Requester)
    attachments: tuple[str, ...] = ()
    related_ticket_id: str | None = None
