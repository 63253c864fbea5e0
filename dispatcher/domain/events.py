"""Facts the case model records, in the past tense. The outbox turns them into contract events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dispatcher.domain.complaint import Urgency


@dataclass(frozen=True)
class Assignment:
    """Where a case went and why: frozen onto the case at dispatch (精确到岗到人)."""

    unit: str
    post: str
    person: str | None
    rule: str
    catalog_version: str
    reason: str


@dataclass(frozen=True)
class Event:
    ticket_id: str
    at: datetime


@dataclass(frozen=True)
class CaseDispatched(Event):
    assignment: Assignment
    category: str | None
    urgency: Urgency
    district: str | None
    street: str | None
