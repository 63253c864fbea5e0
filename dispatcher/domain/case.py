"""The case aggregate (工单) and its state.

Commands on the aggregate are orders (`dispatch`); each records an event in `case.events` and an audit
entry in `case.audit`. The storage layer persists both in the same transaction as the state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dispatcher.domain.complaint import Complaint, Urgency
from dispatcher.domain.events import Assignment, CaseDispatched, CaseQueued, Decision, Event

SYSTEM = "jiesu"


class CaseState(StrEnum):
    QUEUED = "queued"  # at the center: manual dispatch or triage
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
    category: str | None
    assignment: Assignment | None
    queue: str | None
    dispatched_at: datetime
    version: int = 0
    events: list[Event] = field(default_factory=list, compare=False, repr=False)
    audit: list[AuditEntry] = field(default_factory=list, compare=False, repr=False)

    @property
    def ticket_id(self) -> str:
        return self.complaint.ticket_id

    @classmethod
    def open(cls, complaint: Complaint, decision: Decision, at: datetime) -> Case:
        """派单: open a case as the rules decided: assigned to a unit, post and person, or queued."""
        assignment, queue = decision.assignment, decision.queue
        state = CaseState.DISPATCHED if assignment else CaseState.QUEUED
        case = cls(complaint, state, decision.urgency, decision.category, assignment, queue, dispatched_at=at)
        location = complaint.location
        if assignment is not None:
            dispatched = CaseDispatched(
                complaint.ticket_id,
                at,
                assignment,
                decision.category,
                decision.urgency,
                location.district,
                location.street,
            )
            reason = f"to {assignment.unit}/{assignment.post}: {assignment.reason}"
            case._record(dispatched, actor=SYSTEM, action="dispatch", reason=reason)
        else:
            queued = CaseQueued(
                complaint.ticket_id, at, queue or "", decision.reason, decision.category, decision.urgency
            )
            case._record(queued, actor=SYSTEM, action="queue", reason=f"to queue {queue}: {decision.reason}")
        return case

    def _record(self, event: Event, *, actor: str, action: str, reason: str) -> None:
        self.events.append(event)
        self.audit.append(AuditEntry(self.ticket_id, event.at, actor, action, reason, self.state))
