"""The case aggregate (工单) and its state.

Commands on the aggregate are orders (`dispatch`); each records an event in `case.events` and an audit
entry in `case.audit`. The storage layer persists both in the same transaction as the state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dispatcher.domain.complaint import Complaint, Urgency
from dispatcher.domain.events import Assignment, CaseDispatched, Event

SYSTEM = "jiesu"


class CaseState(StrEnum):
    DISPATCHED = "dispatched"
    ACKNOWLEDGED = "acknowledged"
    CONTACTED = "contacted"
    RESOLVED = "resolved"
    CLOSED = "closed"


class CaseError(Exception):
    """Base of every refusal by the case model."""


@dataclass(frozen=True)
class AuditEntry:
    """One line of the append-only audit trail: who did what, when, and why."""

    ticket_id: str
    at: datetime
    actor: str
    action: str
    reason: str
    state: CaseState


@dataclass
class Case:
    complaint: Complaint
    state: CaseState
    urgency: Urgency
    assignment: Assignment
    dispatched_at: datetime
    version: int = 0
    events: list[Event] = field(default_factory=list, compare=False, repr=False)
    audit: list[AuditEntry] = field(default_factory=list, compare=False, repr=False)

    @property
    def ticket_id(self) -> str:
        return self.complaint.ticket_id

    @classmethod
    def dispatch(cls, complaint: Complaint, assignment: Assignment, urgency: Urgency, at: datetime) -> Case:
        """派单: open a case for a complaint, assigned to a unit, post and person."""
        case = cls(complaint, CaseState.DISPATCHED, urgency, assignment, dispatched_at=at)
        case._record(
            CaseDispatched(
                complaint.ticket_id,
                at,
                assignment,
                complaint.category,
                urgency,
                complaint.location.district,
                complaint.location.street,
            ),
            actor=SYSTEM,
            action="dispatch",
            reason=f"to {assignment.unit}/{assignment.post}: {assignment.reason}",
        )
        return case

    def _record(self, event: Event, *, actor: str, action: str, reason: str) -> None:
        self.events.append(event)
        self.audit.append(AuditEntry(self.ticket_id, event.at, actor, action, reason, self.state))
