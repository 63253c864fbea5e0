"""The router port and the fallback every catalog ends in: one configured default unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from rules.complaint import Complaint, Urgency
from rules.decision import Assignment, Decision

DEFAULT_RULE = "default"


class Router(Protocol):
    """Decides where a complaint goes. Implementations must be pure and deterministic."""

    def route(self, complaint: Complaint, at: datetime) -> Decision: ...

    def propose(self, complaint: Complaint, at: datetime, exclude: frozenset[str]) -> Decision:
        """The decision if the units in `exclude` did not exist (the proposal shown to arbitration)."""

    def assignment_for(self, unit_id: str, post_id: str | None, at: datetime, why: str) -> Assignment:
        """An assignment to a unit a supervisor chose; raises KeyError for an unknown unit or post."""

    def unit_class(self, unit_id: str) -> str:
        """The unit's class (street, department, enterprise...): its working hours and its ranking;
        "default" for a unit the catalog does not know."""


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

    def propose(self, complaint: Complaint, at: datetime, exclude: frozenset[str]) -> Decision:
        if self.unit in exclude:
            return Decision(complaint.urgency or Urgency.GENERAL, complaint.category, queue="manual-dispatch")
        return self.route(complaint, at)

    def assignment_for(self, unit_id: str, post_id: str | None, at: datetime, why: str) -> Assignment:
        return Assignment(unit_id, post_id or self.post, None, "supervisor", self.catalog_version, why)

    def unit_class(self, unit_id: str) -> str:
        return "default"
