"""The router port and the fallback every catalog ends in: one configured default unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dispatcher.domain.complaint import Complaint, Urgency
from dispatcher.domain.events import Assignment, Decision

DEFAULT_RULE = "default"


class Router(Protocol):
    """Decides where a complaint goes. Implementations must be pure and deterministic."""

    def route(self, complaint: Complaint, at: datetime) -> Decision: ...


@dataclass(frozen=True)
class DefaultUnitRouter:
    """Sends every case to one unit and post: the dispatch desk, until a catalog says otherwise."""

    unit: str
    post: str
    person: str | None
    catalog_version: str = "none"

    def route(self, complaint: Complaint, at: datetime) -> Decision:
        assignment = Assignment(
            unit=self.unit,
            post=self.post,
            person=self.person,
            rule=DEFAULT_RULE,
            catalog_version=self.catalog_version,
            reason="no dispatch catalog loaded: every case goes to the configured default unit",
        )
        return Decision(complaint.urgency or Urgency.GENERAL, complaint.category, assignment=assignment)
