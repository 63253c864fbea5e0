"""Orders to the system. Each has one handler in `dispatcher.service.handlers`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dispatcher.domain.hotspots import Hotspot
from dispatcher.domain.knowledge import DirectAnswer
from rules.complaint import Complaint


@dataclass(frozen=True)
class InboundId:
    """Identity of an inbound event: CloudEvents `source` + `id`, or the Kafka position when absent.

    An event with an identity already recorded has been applied; applying it again does nothing.
    """

    source: str
    id: str


@dataclass(frozen=True)
class Command:
    inbound: InboundId


@dataclass(frozen=True)
class DispatchCase(Command):
    """Route a new complaint to its unit, post and person, and open the case; or, with `direct`, open
    it closed: a consultation the operator answered at intake from the knowledge base (直接办结)."""

    complaint: Complaint
    direct: DirectAnswer | None = None


@dataclass(frozen=True)
class DeadLetter(Command):
    """Set an inbound record aside on the dead-letter topic, unchanged, with the reason."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    reason: str
    detail: str


@dataclass(frozen=True)
class FireTimers:
    """SLA timers (warnings or escalation steps) that came due: fire each once, if it still applies, all
    in one transaction."""

    timer_ids: tuple[int, ...]


@dataclass(frozen=True)
class CaseCommand:
    """An action on an existing case by a person. `inbound` is set when it arrived as an event."""

    ticket_id: str
    by: str
    inbound: InboundId | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class AcknowledgeCase(CaseCommand):
    """签收."""


@dataclass(frozen=True)
class RecordContact(CaseCommand):
    note: str | None = None


@dataclass(frozen=True)
class ReturnCase(CaseCommand):
    """退单, with a reason code (not_our_duty, wrong_area, duplicate, other) and text."""

    code: str = "other"
    reason: str = ""


@dataclass(frozen=True)
class Arbitrate(CaseCommand):
    """The center decides a return: `redispatch` (to `unit`, or the rules' proposal) or `reject`."""

    decision: str = "reject"
    unit: str | None = None
    post: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class DispatchManually(CaseCommand):
    """A supervisor dispatches a queued case (manual dispatch or triage) to a unit."""

    unit: str = ""
    post: str | None = None
    category: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class RequestExtension(CaseCommand):
    """延期."""

    until: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class DecideExtension(CaseCommand):
    approve: bool = False
    until: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class ResolveCase(CaseCommand):
    """办结, by the lead unit; `without_reports_reason` when a co-handler has not reported."""

    result: str = ""
    without_reports_reason: str | None = None


@dataclass(frozen=True)
class AcknowledgeAsCoHandler(CaseCommand):
    """A co-handling unit signs for its part."""

    unit: str = ""


@dataclass(frozen=True)
class ReportToLead(CaseCommand):
    """A co-handling unit reports its part to the lead unit."""

    unit: str = ""
    report: str = ""


@dataclass(frozen=True)
class RecordCallback(CaseCommand):
    """回访: what the requester told the center when called back."""

    recorded_at: datetime | None = None
    contacted: bool = False
    resolved: bool = False
    satisfaction: str = "unsatisfied"
    valid: bool = True
    comment: str | None = None


@dataclass(frozen=True)
class CloseAfterReview(CaseCommand):
    """A supervisor closes a case held for callback review."""

    reason: str = ""


@dataclass(frozen=True)
class TerminateCase(CaseCommand):
    """终结: a supervisor ends a case, with a reason; it leaves the unit's rates."""

    reason: str = ""


@dataclass(frozen=True)
class AppealCommand:
    by: str


@dataclass(frozen=True)
class FileAppeal(AppealCommand):
    """申诉: a unit asks that a callback not count against it."""

    callback_id: int = 0
    unit: str = ""
    reason: str = ""


@dataclass(frozen=True)
class DecideAppeal(AppealCommand):
    appeal_id: int = 0
    accept: bool = False
    reason: str = ""


@dataclass(frozen=True)
class PublishScores:
    """Publish `jiesu.scores.updated` for every unit with callbacks in the month (after an appeal, a
    change of weights, or as the month's final figures)."""

    month: str
    final: bool = False  # the month is over: these are its final figures
    only_once: bool = False  # the scheduled publication: nothing if the month's final figures are out


@dataclass(frozen=True)
class IssueSupervisionOrder(CaseCommand):
    """督办: a supervisor orders a reply on the case from `unit` (default: the lead unit), or from its head,
    by the end of `within` (a duration such as "2 working days"; none: the SLA file's default)."""

    ask: str = ""
    unit: str | None = None
    addressee: str = "unit"  # unit | head
    within: str | None = None
    order_id: str | None = None  # the caller's own id (a retried request): issued once; None: a new one


@dataclass(frozen=True)
class AnswerSupervisionOrder(CaseCommand):
    """The addressed unit answers a supervision order. `unit` and `post` are the answerer's (checked
    against the addressee); `unit` None: the operator or an admin."""

    order_id: str = ""
    reply: str = ""
    unit: str | None = None
    post: str | None = None


@dataclass(frozen=True)
class MergeCases(CaseCommand):
    """并案: merge `tickets` into the main case `ticket_id` (a supervisor); all of them or none."""

    tickets: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class RequestPause(CaseCommand):
    """挂起: the unit asks that the case's clock stand still, with a reason code (requester, third_party,
    court, season), words and perhaps the date it expects to resume."""

    code: str = "requester"
    reason: str = ""
    until: datetime | None = None


@dataclass(frozen=True)
class DecidePause(CaseCommand):
    """A supervisor approves (perhaps with another resume date) or rejects a pause request."""

    approve: bool = False
    until: datetime | None = None
    reason: str = ""


@dataclass(frozen=True)
class UnmergeCase(CaseCommand):
    """Undo the merge of the case `ticket_id` into its main case (a supervisor)."""

    reason: str = ""


@dataclass(frozen=True)
class ResumeCase(CaseCommand):
    """The clock runs again (the unit or a supervisor): pending deadlines move by the working time paused."""

    note: str | None = None


@dataclass(frozen=True)
class WhistleCall:
    """A unit to call in, and what it is asked."""

    unit: str
    ask: str


@dataclass(frozen=True)
class Whistle(CaseCommand):
    """吹哨报到: the lead unit (or a supervisor) calls units in on the case."""

    calls: tuple[WhistleCall, ...] = ()


@dataclass(frozen=True)
class WaiveReport(CaseCommand):
    """A supervisor lets the lead resolve without a co-handling unit's report."""

    unit: str = ""
    reason: str = ""


@dataclass(frozen=True)
class GovernanceCommand:
    """An action on a hotspot's governance task (主动治理任务) by a person. `inbound` is set when it
    arrived as an event."""

    by: str
    inbound: InboundId | None = field(default=None, kw_only=True)


@dataclass(frozen=True)
class CreateGovernanceTask(GovernanceCommand):
    """A supervisor makes the hotspot a governance task for `unit`, asked `ask`, due in `working_days` on
    the business calendar or at `due_at`. `district` is the creator's scope (None: the whole city)."""

    hotspot_id: str = ""
    unit: str = ""
    ask: str = ""
    working_days: int | None = None
    due_at: datetime | None = None
    district: str | None = None
    everything: bool = True


@dataclass(frozen=True)
class ReportGovernanceTask(GovernanceCommand):
    """The task's unit reports the cause dealt with (once). `unit` is the reporter's (checked against the
    task's); None: an admin or the operator."""

    task_id: str = ""
    report: str = ""
    unit: str | None = None


@dataclass(frozen=True)
class MergeHotspot(Command):
    """并案 by the rules for a hotspot just detected (`jiesu.hotspot.detected`, with
    `JIESU_MERGE_HOTSPOTS`): its open cases at the main case's unit are merged into its first case."""

    hotspot: Hotspot
