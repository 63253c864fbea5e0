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
    co_handlers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """Where the rules send a case: to an assignment, or to a queue at the center with the reason."""

    urgency: Urgency
    category: str | None
    assignment: Assignment | None = None
    queue: str | None = None
    reason: str = ""
    district: str | None = None  # the district's code, when the location was resolved
    street: str | None = None  # the street's (or township's) code, when the location was resolved that far
    community: str | None = None  # the community's code, when the location was resolved that far
    unit_class: str = "default"  # the kind of the unit (street, department, enterprise...): its working hours
    round_the_clock: bool = False  # the post works 7x24: working hours are every hour

    def __post_init__(self) -> None:
        if (self.assignment is None) == (self.queue is None):
            raise ValueError("a decision names either an assignment or a queue")


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
    deadlines: tuple[tuple[str, datetime], ...] = ()  # (stage, due at)


@dataclass(frozen=True)
class CaseQueued(Event):
    queue: str
    reason: str
    category: str | None
    urgency: Urgency


@dataclass(frozen=True)
class CaseActed(Event):
    by: str
    note: str | None = None


@dataclass(frozen=True)
class CaseAcknowledged(CaseActed):
    pass


@dataclass(frozen=True)
class CaseContacted(CaseActed):
    pass


@dataclass(frozen=True)
class CaseReturned(CaseActed):
    reason_code: str = "other"
    reason: str = ""
    proposal: Assignment | None = None


@dataclass(frozen=True)
class CaseRedispatched(Event):
    assignment: Assignment
    by: str
    deadlines: tuple[tuple[str, datetime], ...] = ()  # (stage, due at)


@dataclass(frozen=True)
class ReturnRejected(CaseActed):
    unit: str = ""


@dataclass(frozen=True)
class ExtensionRequested(CaseActed):
    requested_until: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class CaseExtended(CaseActed):
    reply_due: datetime | None = None


@dataclass(frozen=True)
class ExtensionRejected(CaseActed):
    pass


@dataclass(frozen=True)
class CaseResolved(CaseActed):
    result: str = ""
    co_reports: tuple[tuple[str, str], ...] = ()  # (unit, report) of each co-handler that reported
    without_reports_reason: str | None = None


@dataclass(frozen=True)
class CoHandlerAcknowledged(CaseActed):
    unit: str = ""


@dataclass(frozen=True)
class CoHandlerReported(CaseActed):
    unit: str = ""
    report: str = ""


@dataclass(frozen=True)
class CaseLinked(Event):
    """A repeat request was linked to this open case instead of being dispatched again."""

    repeat_ticket_id: str
    description: str
    why: str


@dataclass(frozen=True)
class SlaWarning(Event):
    stage: str
    due_at: datetime


@dataclass(frozen=True)
class SlaBreached(Event):
    stage: str
    due_at: datetime


@dataclass(frozen=True)
class CaseEscalated(Event):
    level: int
    target: str
    stage: str


@dataclass(frozen=True)
class CaseReopened(Event):
    """重办: the callback found the case unresolved or the requester unsatisfied; the same unit handles
    it again, in a new round, with a new reply deadline."""

    reason: str
    round: int
    reply_due: datetime | None


@dataclass(frozen=True)
class CaseClosed(Event):
    """The loop is closed: by the callback, by a supervisor after review, or terminated (终结)."""

    how: str  # callback | review | terminated
    by: str
    reason: str
    satisfaction: str | None = None
    counted: bool = True  # counted in the unit's rates
    round: int = 1
