"""Facts the case model records, in the past tense. The outbox turns them into contract events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rules.complaint import Urgency
from rules.decision import Assignment


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
    unit: str | None = None  # a called unit's stage (co_acknowledge, co_report): that unit


@dataclass(frozen=True)
class SlaBreached(Event):
    stage: str
    due_at: datetime
    unit: str | None = None  # a called unit's stage: that unit


@dataclass(frozen=True)
class CaseEscalated(Event):
    level: int
    target: str
    stage: str
    unit: str | None = None  # a called unit's stage: that unit


@dataclass(frozen=True)
class CaseReopened(Event):
    """重办: the callback found the case unresolved or the requester unsatisfied; the same unit handles
    it again, in a new round, with a new reply deadline."""

    reason: str
    round: int
    reply_due: datetime | None


@dataclass(frozen=True)
class CaseClosed(Event):
    """The loop is closed: by the callback, by a supervisor after review, terminated (终结), or at intake
    from the knowledge base (直接办结)."""

    how: str  # callback | review | terminated | direct
    by: str
    reason: str
    satisfaction: str | None = None
    counted: bool = True  # counted in the unit's rates
    round: int = 1
    knowledge_entry: str | None = None  # direct: the knowledge base entry that answered it
    callback_requested: bool = False  # direct: the center calls the requester back (回访)


@dataclass(frozen=True)
class CaseWhistled(CaseActed):
    """吹哨报到: the lead unit called a unit in on the case (one event per unit called)."""

    unit: str = ""
    ask: str = ""
    post: str | None = None  # the called unit's post and person on duty, who are told
    person: str | None = None
    acknowledge_due: datetime | None = None
    report_due: datetime | None = None


@dataclass(frozen=True)
class CoHandlerWaived(CaseActed):
    """A supervisor let the lead resolve without a co-handling unit's report."""

    unit: str = ""
    reason: str = ""
