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
class SupervisionOrdered(Event):
    """督办: a supervisor ordered a reply on the case from a unit (or its head) by a deadline."""

    order_id: str
    unit: str
    addressee: str  # unit | head
    ask: str
    due_at: datetime
    by: str


@dataclass(frozen=True)
class SupervisionAnswered(Event):
    """The addressed unit answered a supervision order (`late`: after its deadline)."""

    order_id: str
    unit: str
    by: str
    answer: str
    late: bool


@dataclass(frozen=True)
class SupervisionWarning(Event):
    """A supervision order's deadline is near and it is not answered."""

    order_id: str
    unit: str
    addressee: str  # unit | head: who is warned
    due_at: datetime


@dataclass(frozen=True)
class SupervisionOverdue(Event):
    """A supervision order's deadline passed unanswered: escalated to `target`."""

    order_id: str
    unit: str
    due_at: datetime
    target: str


@dataclass(frozen=True)
class CaseMerged(Event):
    """并案: this case is merged into the main case about the same incident and follows it from now on."""

    main_ticket_id: str
    by: str
    reason: str
    auto: bool = False  # by the rules (a burst at one place), not by a supervisor
    state_before: str = ""


@dataclass(frozen=True)
class CaseUnmerged(Event):
    """The merge is undone: the case is its own again, in the state it was merged from."""

    main_ticket_id: str
    by: str
    reason: str
    state: str = ""


@dataclass(frozen=True)
class PauseRequested(CaseActed):
    """挂起: the unit asks that the case's clock stand still; a supervisor decides."""

    reason_code: str = "requester"
    reason: str = ""
    resume_at: datetime | None = None  # when the unit expects to resume


@dataclass(frozen=True)
class CasePaused(CaseActed):
    """The pause is approved: the deadlines and timers stand still from `at`."""

    reason_code: str = "requester"
    reason: str = ""
    resume_at: datetime | None = None  # the timer resumes it then


@dataclass(frozen=True)
class PauseRejected(CaseActed):
    """The pause is refused: the clock runs on."""


@dataclass(frozen=True)
class CaseResumed(CaseActed):
    """The clock runs again; every pending deadline moved by the working time paused."""

    paused_since: datetime | None = None
    paused_minutes: int = 0  # working minutes paused
    scheduled: bool = False  # resumed by the timer on the approved date
    deadlines: tuple[tuple[str, datetime], ...] = ()  # (stage, due at) of the pending stages


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
