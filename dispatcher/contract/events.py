"""Every event type of the public contract, one pydantic model each, and the topic each travels on.

Field limits are part of the contract (docs/events.md, docs/asyncapi.yaml): a record that breaks one is
dead-lettered with reason `too_long`, `missing_field`, `wrong_type` or `invalid_value`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

DESCRIPTION_MAX_CHARS = 4000
TEXT_MAX_CHARS = 500
ID_MAX_CHARS = 64

TicketId = Annotated[
    str, StringConstraints(min_length=1, max_length=ID_MAX_CHARS, pattern=r"^[A-Za-z0-9._:-]+$")
]
Text = Annotated[str, StringConstraints(max_length=TEXT_MAX_CHARS)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=ID_MAX_CHARS)]
CategoryCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}([0-9]{2}){0,2}$")]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=TEXT_MAX_CHARS)]

Channel = Literal["phone", "web", "wechat", "app", "open311", "other"]
Kind = Literal["consultation", "help", "complaint", "report", "suggestion"]
Urgency = Literal["emergency", "urgent", "general", "complex"]
Satisfaction = Literal["satisfied", "basically_satisfied", "unsatisfied"]


class Topic(StrEnum):
    """The contract's topics, without the configurable prefix (default `jiesu.`)."""

    INTAKE = "intake"
    ACTIONS = "actions"
    FEEDBACK = "feedback"
    CASES = "cases"
    SCORES = "scores"
    DEADLETTER = "deadletter"
    HOTSPOTS = "hotspots"


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def storable(cls, value: Any) -> Any:
        """What no database can store is refused here: a NUL character in text (PostgreSQL refuses it),
        a moment with no UTC equivalent (past year 9999 or before year 1 once converted)."""
        if isinstance(value, list):
            for item in value:
                _refuse_unstorable(item)
        else:
            _refuse_unstorable(value)
        return value


def _refuse_unstorable(item: Any) -> None:
    """`Wire.storable` for one value (called for every field of every event, in and out: no tuple made for
    a single value)."""
    if isinstance(item, str):
        if "\x00" in item:
            raise ValueError("text must not contain the NUL character (U+0000)")
    elif isinstance(item, datetime):
        try:
            item.astimezone(UTC)
        except OverflowError:
            raise ValueError("this moment has no UTC equivalent between years 1 and 9999") from None


class Location(Wire):
    """Names or administrative codes; all optional, the more the better the dispatch."""

    district: Text | None = None
    street: Text | None = None
    community: Text | None = None
    address: Text | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)


class Requester(Wire):
    """Personal data: shown to handlers only as far as they need it, masked in notifications."""

    name: Text | None = None
    phone: Annotated[str, StringConstraints(max_length=32)] | None = None
    anonymous: bool = False
    confidential: bool = False
    groups: list[Name] = Field(default_factory=list, max_length=10)


# ---- inbound: jiesu.intake ---------------------------------------------------------------------


class DirectAnswer(Wire):
    """a consultation answered at intake from the knowledge base (直接办结)"""

    entry_id: Name = Field(description="the knowledge base (知识库) entry the answer came from")
    answer: Annotated[str, StringConstraints(min_length=1, max_length=DESCRIPTION_MAX_CHARS)] = Field(
        description="what the requester was told"
    )
    by: Name = Field(description="the operator who answered")


class ComplaintReceived(Wire):
    """`jiesu.complaint.received`: a request recorded by a hotline intake system (受理)."""

    ticket_id: TicketId
    received_at: AwareDatetime
    channel: Channel
    kind: Kind
    description: Annotated[str, StringConstraints(min_length=1, max_length=DESCRIPTION_MAX_CHARS)]
    category: CategoryCode | None = None
    urgency: Urgency | None = None
    location: Location | None = None
    requester: Requester | None = None
    attachments: list[Annotated[str, StringConstraints(max_length=2000)]] = Field(
        default_factory=list, max_length=20
    )
    related_ticket_id: TicketId | None = None
    direct_answer: DirectAnswer | None = Field(
        None,
        description="set when the operator answered the request at once from the knowledge base "
        "(直接办结; `kind` must be `consultation`): the case is opened closed (`jiesu.case.closed`, "
        "`how: direct`) and never dispatched",
    )

    @field_validator("direct_answer", mode="after")
    @classmethod
    def _only_a_consultation(cls, value: DirectAnswer | None, info: ValidationInfo) -> DirectAnswer | None:
        kind = info.data.get("kind")
        if value is not None and kind is not None and kind != "consultation":
            raise ValueError(f"only a consultation can be answered at intake (直接办结), not a {kind}")
        return value


# ---- inbound: jiesu.actions (commands from units' own systems) ---------------------------------


class CaseActionCommand(Wire):
    ticket_id: TicketId
    by: Name = Field(description="the person acting")
    at: AwareDatetime


class AcknowledgeCase(CaseActionCommand):
    """`jiesu.case.acknowledge`: the person on duty signs for the case (签收)."""


class RecordContact(CaseActionCommand):
    """`jiesu.case.contact`: the handler has contacted the requester (联系)."""

    note: Text | None = None


class ReturnCase(CaseActionCommand):
    """`jiesu.case.return`: the unit says the case is not its duty (退单)."""

    code: Literal["not_our_duty", "wrong_area", "duplicate", "other"] = Field(
        "other", description="why: not_our_duty, wrong_area, duplicate, other"
    )
    reason: Reason


class RequestExtension(CaseActionCommand):
    """`jiesu.case.extension`: the unit asks for more time (延期)."""

    reason: Reason
    requested_until: AwareDatetime


class ResolveCase(CaseActionCommand):
    """`jiesu.case.resolve`: the unit reports the result (办结)."""

    result: Annotated[str, StringConstraints(min_length=1, max_length=DESCRIPTION_MAX_CHARS)]


PauseCode = Literal["requester", "third_party", "court", "season"]


class RequestPause(CaseActionCommand):
    """`jiesu.case.pause`: the unit asks that the case's clock stand still (挂起); a supervisor decides."""

    reason_code: PauseCode = Field(
        description="what the unit waits for: requester, third_party, court (or a ruling), season"
    )
    reason: Reason = Field(description="what the unit waits for, in words")
    resume_at: AwareDatetime | None = Field(None, description="when the unit expects to resume, if known")


class ResumeCase(CaseActionCommand):
    """`jiesu.case.resume`: the unit's clock runs again; pending deadlines move by the working time paused."""

    note: Text | None = None


class CoAcknowledgeCase(CaseActionCommand):
    """`jiesu.case.co_acknowledge`: a co-handling unit signs for its part (协办签收)."""

    unit: Name = Field(description="the co-handling unit acting")


class CoReportCase(CaseActionCommand):
    """`jiesu.case.co_report`: a co-handling unit reports its part to the lead unit (报到反馈)."""

    unit: Name = Field(description="the co-handling unit acting")
    report: Annotated[str, StringConstraints(min_length=1, max_length=DESCRIPTION_MAX_CHARS)] = Field(
        description="its report to the lead unit"
    )


class WhistleCall(Wire):
    """A unit called in on a case (吹哨报到), and what the lead asks of it."""

    unit: Name = Field(description="the unit called in (a catalog unit id)")
    ask: Annotated[str, StringConstraints(min_length=1, max_length=DESCRIPTION_MAX_CHARS)] = Field(
        description="what the lead asks of it"
    )


class WhistleCase(CaseActionCommand):
    """`jiesu.case.whistle`: 吹哨报到 from the lead unit's own system: it calls units in on the case, each
    with what it is asked (as `POST /api/cases/{ticket}/whistle`)."""

    calls: list[WhistleCall] = Field(
        min_length=1,
        max_length=20,
        description="the units called in (1 to 20), each named once, with its ask",
    )


# ---- inbound: jiesu.feedback -------------------------------------------------------------------


class CallbackRecorded(Wire):
    """`jiesu.callback.recorded`: the center called the requester back (回访)."""

    ticket_id: TicketId
    recorded_at: AwareDatetime
    contacted: bool
    resolved: bool
    satisfaction: Satisfaction
    valid: bool = True
    comment: Text | None = None


# ---- outbound: jiesu.cases ---------------------------------------------------------------------


class CaseEvent(Wire):
    ticket_id: TicketId
    at: AwareDatetime


class Assignment(Wire):
    unit: Name
    post: Name
    person: Name | None
    rule: Name = Field(description="the catalog rule that matched, `fallback`, or `default` (no catalog)")
    catalog_version: Name
    reason: Reason
    co_handlers: list[Name] = Field(default_factory=list, description="units co-handling; the unit leads")


class Deadline(Wire):
    """a stage's deadline and whether it is pending, met or overdue"""

    due_at: AwareDatetime = Field(description="when the stage is due, RFC 3339 in Beijing time (+08:00)")
    state: Literal["pending", "met", "overdue"] = Field(description="pending, met or overdue")


class CaseDispatched(CaseEvent):
    """`jiesu.case.dispatched`: the case has a unit, post and person (派单)."""

    assignment: Assignment
    category: CategoryCode | None
    urgency: Urgency
    district: Text | None
    street: Text | None
    deadlines: dict[Stage, Deadline] = Field(
        default_factory=dict, description="per stage (acknowledge, contact, reply): due time and state"
    )


class CaseQueued(CaseEvent):
    """`jiesu.case.queued`: the case waits in a queue at the center (manual dispatch or triage)."""

    queue: Name
    reason: Reason
    category: CategoryCode | None
    urgency: Urgency


class CaseActed(CaseEvent):
    by: Name
    note: Text | None = None


class CaseAcknowledged(CaseActed):
    """`jiesu.case.acknowledged`."""


class CaseContacted(CaseActed):
    """`jiesu.case.contacted`."""


class CaseReturned(CaseActed):
    """`jiesu.case.returned`: awaiting the center's arbitration."""

    reason: Reason
    reason_code: Literal["not_our_duty", "wrong_area", "duplicate", "other"] = Field(
        "other", description="why the unit returns it: not_our_duty, wrong_area, duplicate, other"
    )
    proposal: Assignment | None = Field(
        None, description="where the catalog would send it without the returning unit"
    )


class ReturnRejected(CaseActed):
    """`jiesu.case.return_rejected`: arbitration keeps the case at the unit that returned it."""

    unit: Name = Field(description="the unit that returned the case and keeps it")


class CaseRedispatched(CaseEvent):
    """`jiesu.case.redispatched`: after arbitration the case goes elsewhere, with fresh deadlines."""

    assignment: Assignment
    by: Name
    deadlines: dict[Stage, Deadline] = Field(
        default_factory=dict, description="the new unit's deadlines per stage: due time and state"
    )


class ExtensionRequested(CaseActed):
    """`jiesu.case.extension_requested`: the unit asks for more time (延期); a supervisor decides."""

    requested_until: AwareDatetime = Field(description="the deadline the unit proposes")
    reason: Reason = Field(description="why the unit needs more time")


class CaseExtended(CaseActed):
    """`jiesu.case.extended`: an extension was approved; the reply deadline moved."""

    reply_due: AwareDatetime


class ExtensionRejected(CaseActed):
    """`jiesu.case.extension_rejected`: the deadline stays."""


class CoReport(Wire):
    unit: Name = Field(description="the co-handling unit")
    report: Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX_CHARS)] = Field(
        description="what it reported to the lead unit"
    )


class CaseResolved(CaseActed):
    """`jiesu.case.resolved`: the lead unit's result, with its co-handlers' reports attached."""

    result: Annotated[str, StringConstraints(min_length=1, max_length=DESCRIPTION_MAX_CHARS)]
    co_reports: list[CoReport] = Field(default_factory=list, description="the co-handling units' reports")
    without_reports_reason: Reason | None = Field(
        None, description="why the lead resolved before every co-handler reported"
    )


class CoHandlerAcknowledged(CaseActed):
    """`jiesu.case.co_acknowledged`: a co-handling unit signed for its part (首接负责: the lead stays)."""

    unit: Name = Field(description="the co-handling unit")


class CoHandlerReported(CaseActed):
    """`jiesu.case.co_reported`: a co-handling unit reported its part to the lead unit."""

    unit: Name = Field(description="the co-handling unit")
    report: Annotated[str, StringConstraints(min_length=1, max_length=DESCRIPTION_MAX_CHARS)] = Field(
        description="its report"
    )


class CaseLinked(CaseEvent):
    """`jiesu.case.linked`: a repeat request was linked to this open case instead of dispatched again;
    keyed by this case's ticket id, so its handler reads it in order with the case's other events."""

    repeat_ticket_id: TicketId = Field(description="the new request's ticket id, kept as a linked case")
    description: Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX_CHARS)] = Field(
        description="what the requester said this time"
    )
    why: Reason = Field(
        description="why it counts as a repeat: named as related, or same phone, place and category "
        "(the community where known, else the street)"
    )


class CaseReopened(CaseEvent):
    """`jiesu.case.reopened`: the callback found it unresolved or unsatisfied (重办); the same unit
    handles it again in a new round."""

    reason: Reason = Field(description="what the callback found")
    round: Annotated[int, Field(ge=2)] = Field(description="the new round: 2 after the first reopening")
    reply_due: AwareDatetime | None = Field(description="the new reply deadline, RFC 3339 (+08:00)")


class CaseClosed(CaseEvent):
    """`jiesu.case.closed`: the loop is closed."""

    how: Literal["callback", "review", "terminated", "direct"] = Field(
        description="callback: the callback closed it; review: a supervisor closed it after review; "
        "terminated: a supervisor ended it (终结), excluded from the unit's rates; direct: a consultation "
        "answered at intake from the knowledge base (直接办结), never dispatched"
    )
    by: Name = Field(description="who closed it (jiesu for a callback, the operator for direct)")
    reason: Reason = Field(description="the callback's findings, or the supervisor's reason")
    satisfaction: Satisfaction | None = Field(description="the latest callback's answer, if any")
    counted: bool = Field(description="whether the case counts in the unit's rates")
    round: Annotated[int, Field(ge=1)] = Field(description="the round the case closed in")
    knowledge_entry: Name | None = Field(
        None, description="direct: the knowledge base (知识库) entry that answered the consultation"
    )
    callback_requested: bool = Field(
        False,
        description="direct: the center calls the requester back (回访) and sends the result as "
        "`jiesu.callback.recorded`, as after `jiesu.case.resolved`",
    )


class CaseMerged(CaseEvent):
    """`jiesu.case.merged`: 并案. This case is merged into a main case about the same incident and follows
    it: its own deadlines stand down; when the main case is resolved it is resolved with it
    (`jiesu.case.resolved`, at the main case's unit), and its requester is called back as for any case.
    Keyed by this case's ticket id."""

    main_ticket_id: TicketId = Field(description="the main case it is merged into")
    by: Name = Field(
        description="the supervisor who merged it, or jiesu when the rules did (a burst, a hotspot)"
    )
    reason: Reason = Field(
        description="why, in words (for the rules: the street, category and window, or the hotspot)"
    )
    auto: bool = Field(
        description="true: merged by the rules: a burst of requests at one place, or an open hotspot"
    )
    state_before: Literal["queued", "dispatched", "acknowledged", "contacted", "returned"] = Field(
        description="the state it was merged from"
    )


class CaseUnmerged(CaseEvent):
    """`jiesu.case.unmerged`: the merge is undone before the main case was resolved; the case is handled on
    its own again, in the state it was merged from (its open deadlines moved by the time it was merged)."""

    main_ticket_id: TicketId = Field(description="the main case it was merged into")
    by: Name = Field(description="the supervisor who undid the merge")
    reason: Reason = Field(description="why, in words")
    state: Literal["queued", "dispatched", "acknowledged", "contacted"] = Field(
        description="the state it is back in"
    )


Stage = Literal["acknowledge", "contact", "reply"]
TimedStage = Literal["acknowledge", "contact", "reply", "co_acknowledge", "co_report"]
EscalationStage = Literal["acknowledge", "contact", "reply", "callback", "co_acknowledge", "co_report"]
CO_UNIT = "co_acknowledge, co_report: the unit called in (吹哨报到) whose deadline it is; absent otherwise"


class SlaWarning(CaseEvent):
    """`jiesu.sla.warning`: a deadline is near."""

    stage: TimedStage = Field(
        description="the lead unit's stage, or a called unit's: co_acknowledge, co_report (with `unit`)"
    )
    due_at: AwareDatetime
    unit: Name | None = Field(None, description=CO_UNIT)


class SlaBreached(CaseEvent):
    """`jiesu.sla.breached`: a deadline has passed."""

    stage: TimedStage = Field(
        description="the lead unit's stage, or a called unit's: co_acknowledge, co_report (with `unit`)"
    )
    due_at: AwareDatetime
    unit: Name | None = Field(None, description=CO_UNIT)


class CaseEscalated(CaseEvent):
    """`jiesu.case.escalated`: a step of the escalation ladder fired."""

    level: Annotated[int, Field(ge=1, le=10)]
    target: Name
    stage: EscalationStage = Field(
        description="the stage whose deadline passed (a called unit's: co_acknowledge, co_report, with "
        "`unit`), or callback: unsatisfied again after a reopening"
    )
    unit: Name | None = Field(None, description=CO_UNIT)


class CaseWhistled(CaseActed):
    """`jiesu.case.whistled`: 吹哨报到: the lead unit (or a supervisor) called a unit in on the case, with
    what it asks of it and its deadlines; one event per unit called. The unit co-handles the case: it
    acknowledges and reports (`jiesu.case.co_acknowledge`, `.co_report`), and the lead resolves once it has
    reported or a supervisor waived its report."""

    unit: Name = Field(description="the unit called in")
    ask: Annotated[str, StringConstraints(min_length=1, max_length=DESCRIPTION_MAX_CHARS)] = Field(
        description="what the lead asks of it"
    )
    post: Name | None = Field(None, description="its post on duty, told of the call")
    person: Name | None = Field(None, description="its person on duty then, told of the call")
    acknowledge_due: AwareDatetime | None = Field(description="when it must acknowledge (+08:00)")
    report_due: AwareDatetime | None = Field(description="when it must report to the lead (+08:00)")


class CoHandlerWaived(CaseActed):
    """`jiesu.case.co_waived`: a supervisor let the lead resolve without a co-handling unit's report."""

    unit: Name = Field(description="the co-handling unit whose report is waived")
    reason: Reason = Field(description="why the lead may resolve without its report")


# ---- outbound: jiesu.scores --------------------------------------------------------------------


class ScoresUpdated(Wire):
    """`jiesu.scores.updated`: the three rates (三率) of a unit for a month, after each transaction that
    moved them (live: a callback, a correction, a termination, an accepted appeal; callbacks applied
    together give one event, with the figures after all of them) and once more when the month's ranking
    is final; keyed by unit."""

    unit: Name
    unit_class: Name = Field(description="street, department, enterprise...: units are ranked within it")
    month: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d\d$")] = Field(
        description="the assessment month, YYYY-MM in Beijing time"
    )
    period_start: AwareDatetime = Field(description="the month's first instant (+08:00)")
    period_end: AwareDatetime = Field(description="the next month's first instant (+08:00), excluded")
    valid_callbacks: Annotated[int, Field(ge=0)] = Field(description="the base: callbacks that count")
    contacted: Annotated[int, Field(ge=0)] = Field(description="of which the requester confirms contact")
    resolved: Annotated[int, Field(ge=0)] = Field(description="of which resolved")
    satisfied: Annotated[int, Field(ge=0)] = Field(description="of which satisfied")
    basically_satisfied: Annotated[int, Field(ge=0)] = Field(description="of which basically satisfied")
    response_rate: Annotated[float, Field(ge=0, le=1)] | None = Field(description="响应率; null: no base")
    resolution_rate: Annotated[float, Field(ge=0, le=1)] | None = Field(description="解决率")
    satisfaction_rate: Annotated[float, Field(ge=0, le=1)] | None = Field(description="满意率")
    composite: Annotated[float, Field(ge=0, le=1)] | None = Field(description="the weighted composite")
    final: bool = Field(description="true once the month is over and its ranking published")


# ---- supervision orders (督办单): an answer on jiesu.actions, the facts on jiesu.cases -----------------

ORDER_TEXT_MAX_CHARS = 2000
OrderId = Annotated[str, StringConstraints(pattern=r"^SO-[A-Za-z0-9]{1,13}$")]
OrderText = Annotated[str, StringConstraints(min_length=1, max_length=ORDER_TEXT_MAX_CHARS)]


class AnswerSupervisionOrder(CaseActionCommand):
    """`jiesu.case.answer_supervision_order`: the addressed unit's system answers a supervision order."""

    order_id: OrderId = Field(description="the supervision order answered (SO-...)")
    unit: Name = Field(description="the answering unit: the order's addressee")
    post: Name | None = Field(
        None,
        description="the answerer's post (an order to the unit's head: its head's post; none: unit-wide)",
    )
    reply: OrderText = Field(description="the unit's answer, in words")


class SupervisionOrdered(CaseEvent):
    """`jiesu.case.supervision_ordered`: a supervisor ordered a reply on the case (督办) from a unit or its
    head, by a deadline on the business calendar."""

    order_id: OrderId = Field(description="the order's id (SO-...)")
    unit: Name = Field(description="the addressed unit")
    addressee: Literal["unit", "head"] = Field(description="the unit's workers, or the unit's head")
    ask: OrderText = Field(description="what is asked")
    due_at: AwareDatetime = Field(description="the reply is due by then")
    by: Name = Field(description="the supervisor who issued it")


class SupervisionAnswered(CaseEvent):
    """`jiesu.case.supervision_answered`: the addressed unit answered a supervision order."""

    order_id: OrderId = Field(description="the order's id (SO-...)")
    unit: Name = Field(description="the addressed unit")
    by: Name = Field(description="the person (or system) who answered")
    answer: OrderText = Field(description="the unit's answer, in words")
    late: bool = Field(description="answered after the deadline")


class SupervisionWarning(CaseEvent):
    """`jiesu.case.supervision_warning`: a supervision order's deadline is near (three quarters of its
    time gone) and it is not answered."""

    order_id: OrderId = Field(description="the order's id (SO-...)")
    unit: Name = Field(description="the addressed unit")
    addressee: Literal["unit", "head"] = Field(description="who is warned: the unit's workers, or its head")
    due_at: AwareDatetime = Field(description="the reply is due by then")


class SupervisionOverdue(CaseEvent):
    """`jiesu.case.supervision_overdue`: a supervision order's deadline passed unanswered; escalated to
    `target` (`UNIT:unit_head` for an order to a unit, `center:supervisor` for one to a unit's head)."""

    order_id: OrderId = Field(description="the order's id (SO-...)")
    unit: Name = Field(description="the addressed unit")
    due_at: AwareDatetime = Field(description="the deadline that passed")
    target: Name = Field(description="who the escalation goes to")


class PauseRequested(CaseActed):
    """`jiesu.case.pause_requested`: the unit asks that the case's clock stand still (挂起); a supervisor
    decides."""

    reason_code: PauseCode = Field(description="requester, third_party, court or season")
    reason: Reason = Field(description="what the unit waits for, in words")
    resume_at: AwareDatetime | None = Field(None, description="when the unit expects to resume")


class CasePaused(CaseActed):
    """`jiesu.case.paused`: the pause is approved; the deadlines and SLA timers stand still from `at`."""

    reason_code: PauseCode = Field(description="requester, third_party, court or season")
    reason: Reason = Field(description="what the unit waits for, in words")
    resume_at: AwareDatetime | None = Field(None, description="the case resumes by itself then")


class PauseRejected(CaseActed):
    """`jiesu.case.pause_rejected`: the pause is refused; the clock runs on."""


class CaseResumed(CaseActed):
    """`jiesu.case.resumed`: the clock runs again; every pending deadline moved by the working time paused."""

    paused_since: AwareDatetime = Field(description="when the pause was approved")
    paused_working_minutes: Annotated[int, Field(ge=0)] = Field(
        description="the working time the case stood still, on its unit's working hours and calendar"
    )
    scheduled: bool = Field(description="true: resumed by the date set when the pause was approved")
    deadlines: dict[Stage, Deadline] = Field(
        default_factory=dict, description="the pending stages' deadlines after the move"
    )


# ---- outbound: jiesu.hotspots ------------------------------------------------------------------


class Hotspot(Wire):
    hotspot_id: Name = Field(description="the hotspot's id; also the Kafka key")
    district: Text = Field(description="the district's code")
    street: Text | None = Field(description="the street's (or township's) code; null: the whole district")
    community: Text | None = Field(description="the community's code; null: the whole street or district")
    category: CategoryCode = Field(description="the category, at any level of the tree (2, 4 or 6 digits)")
    window: Literal["1h", "24h", "7d"] = Field(description="the sliding window counted: 1h, 24h or 7d")
    window_start: AwareDatetime = Field(description="the window's first instant")
    window_end: AwareDatetime = Field(description="the window's end: when it was detected, or closed")
    observed: Annotated[int, Field(ge=0)] = Field(description="requests in the window")
    expected: Annotated[float, Field(ge=0)] = Field(
        description="the requests expected in the window: the area and category's share of the city's "
        "requests, learned from its history, times the city's requests in the same window"
    )
    score: Annotated[float, Field(ge=0)] = Field(
        description="-log10 of the tail P(X >= observed) when it was detected: Poisson, or negative "
        "binomial where the expectation comes from a short history"
    )
    first_ticket_id: TicketId | None = Field(description="the window's earliest request the detector holds")
    ticket_ids: list[TicketId] = Field(
        max_length=50, description="the window's requests when it was detected, oldest first (up to 50)"
    )


class HotspotDetected(Hotspot):
    """`jiesu.hotspot.detected`: requests of one category come improbably fast in an area (主动治理)."""


class HotspotClosed(Hotspot):
    """`jiesu.hotspot.closed`: the window's count is back at or below its expectation."""


# ---- governance tasks (主动治理任务): a report on jiesu.actions, the facts on jiesu.hotspots -------------

TaskId = Annotated[str, StringConstraints(pattern=r"^GT-[A-Za-z0-9]{1,13}$")]
TaskText = Annotated[str, StringConstraints(min_length=1, max_length=ORDER_TEXT_MAX_CHARS)]


class ReportGovernanceTask(Wire):
    """`jiesu.governance.report_task`: the unit's system reports the cause of a hotspot dealt with; this
    closes the governance task (once). Keyed by task id."""

    task_id: TaskId = Field(description="the governance task reported (GT-...)")
    unit: Name = Field(description="the reporting unit: the task's unit")
    by: Name = Field(description="the person (or system) reporting")
    at: AwareDatetime
    report: TaskText = Field(description="what was done about the cause, in words")


class GovernanceTask(Wire):
    task_id: TaskId = Field(description="the task's id (GT-...)")
    hotspot_id: Name = Field(description="the hotspot the task is about; also the Kafka key")
    unit: Name = Field(description="the unit the task is for")
    district: Text = Field(description="the hotspot's district (code)")
    category: CategoryCode = Field(description="the hotspot's category")
    at: AwareDatetime = Field(description="when it happened")


class GovernanceTaskCreated(GovernanceTask):
    """`jiesu.governance.task_created`: a supervisor made a hotspot a governance task for a unit, due by a
    deadline on the business calendar; the hotspot's cases are linked to it (they stay individual cases)."""

    ask: TaskText = Field(description="what is asked of the unit")
    due_at: AwareDatetime = Field(description="the cause is to be dealt with by then")
    by: Name = Field(description="the supervisor who created it")
    ticket_ids: list[TicketId] = Field(max_length=50, description="the linked cases (the hotspot's)")


class GovernanceTaskReported(GovernanceTask):
    """`jiesu.governance.task_reported`: the unit reported the cause dealt with; the task is done."""

    by: Name = Field(description="the person (or system) who reported")
    report: TaskText = Field(description="the unit's report, in words")
    late: bool = Field(description="reported after the deadline")


class GovernanceTaskWarning(GovernanceTask):
    """`jiesu.governance.task_warning`: three quarters of the task's time are gone and it is not
    reported."""

    due_at: AwareDatetime = Field(description="the deadline")


class GovernanceTaskOverdue(GovernanceTask):
    """`jiesu.governance.task_overdue`: the task's deadline passed unreported; escalated to `target`
    (level 1: `UNIT:unit_head` at the deadline; level 2: `center:supervisor` one working day later)."""

    due_at: AwareDatetime = Field(description="the deadline that passed")
    target: Name = Field(description="who the escalation goes to")
    level: Annotated[int, Field(ge=1, le=2)] = Field(description="1: the unit's head; 2: the center")


EVENT_TYPES: dict[str, tuple[Topic, type[Wire]]] = {
    "jiesu.complaint.received": (Topic.INTAKE, ComplaintReceived),
    "jiesu.case.acknowledge": (Topic.ACTIONS, AcknowledgeCase),
    "jiesu.case.contact": (Topic.ACTIONS, RecordContact),
    "jiesu.case.return": (Topic.ACTIONS, ReturnCase),
    "jiesu.case.extension": (Topic.ACTIONS, RequestExtension),
    "jiesu.case.resolve": (Topic.ACTIONS, ResolveCase),
    "jiesu.callback.recorded": (Topic.FEEDBACK, CallbackRecorded),
    "jiesu.case.dispatched": (Topic.CASES, CaseDispatched),
    "jiesu.case.queued": (Topic.CASES, CaseQueued),
    "jiesu.case.acknowledged": (Topic.CASES, CaseAcknowledged),
    "jiesu.case.contacted": (Topic.CASES, CaseContacted),
    "jiesu.case.returned": (Topic.CASES, CaseReturned),
    "jiesu.case.redispatched": (Topic.CASES, CaseRedispatched),
    "jiesu.case.return_rejected": (Topic.CASES, ReturnRejected),
    "jiesu.case.extension_requested": (Topic.CASES, ExtensionRequested),
    "jiesu.case.extended": (Topic.CASES, CaseExtended),
    "jiesu.case.extension_rejected": (Topic.CASES, ExtensionRejected),
    "jiesu.case.resolved": (Topic.CASES, CaseResolved),
    "jiesu.case.co_acknowledged": (Topic.CASES, CoHandlerAcknowledged),
    "jiesu.case.co_reported": (Topic.CASES, CoHandlerReported),
    "jiesu.case.linked": (Topic.CASES, CaseLinked),
    "jiesu.case.reopened": (Topic.CASES, CaseReopened),
    "jiesu.case.closed": (Topic.CASES, CaseClosed),
    "jiesu.sla.warning": (Topic.CASES, SlaWarning),
    "jiesu.sla.breached": (Topic.CASES, SlaBreached),
    "jiesu.case.escalated": (Topic.CASES, CaseEscalated),
    "jiesu.case.merged": (Topic.CASES, CaseMerged),
    "jiesu.case.unmerged": (Topic.CASES, CaseUnmerged),
    "jiesu.scores.updated": (Topic.SCORES, ScoresUpdated),
    "jiesu.case.answer_supervision_order": (Topic.ACTIONS, AnswerSupervisionOrder),
    "jiesu.case.supervision_ordered": (Topic.CASES, SupervisionOrdered),
    "jiesu.case.supervision_answered": (Topic.CASES, SupervisionAnswered),
    "jiesu.case.supervision_warning": (Topic.CASES, SupervisionWarning),
    "jiesu.case.supervision_overdue": (Topic.CASES, SupervisionOverdue),
    "jiesu.case.pause": (Topic.ACTIONS, RequestPause),
    "jiesu.case.resume": (Topic.ACTIONS, ResumeCase),
    "jiesu.case.pause_requested": (Topic.CASES, PauseRequested),
    "jiesu.case.paused": (Topic.CASES, CasePaused),
    "jiesu.case.pause_rejected": (Topic.CASES, PauseRejected),
    "jiesu.case.resumed": (Topic.CASES, CaseResumed),
    "jiesu.case.co_acknowledge": (Topic.ACTIONS, CoAcknowledgeCase),
    "jiesu.case.co_report": (Topic.ACTIONS, CoReportCase),
    "jiesu.case.whistled": (Topic.CASES, CaseWhistled),
    "jiesu.case.co_waived": (Topic.CASES, CoHandlerWaived),
    "jiesu.hotspot.detected": (Topic.HOTSPOTS, HotspotDetected),
    "jiesu.hotspot.closed": (Topic.HOTSPOTS, HotspotClosed),
    "jiesu.governance.report_task": (Topic.ACTIONS, ReportGovernanceTask),
    "jiesu.governance.task_created": (Topic.HOTSPOTS, GovernanceTaskCreated),
    "jiesu.governance.task_reported": (Topic.HOTSPOTS, GovernanceTaskReported),
    "jiesu.governance.task_warning": (Topic.HOTSPOTS, GovernanceTaskWarning),
    "jiesu.governance.task_overdue": (Topic.HOTSPOTS, GovernanceTaskOverdue),
    "jiesu.case.whistle": (Topic.ACTIONS, WhistleCase),
}


def types_on(topic: Topic) -> dict[str, type[Wire]]:
    """The event types that may travel on a topic, by their `ce_type`."""
    return {name: model for name, (on, model) in EVENT_TYPES.items() if on is topic}
