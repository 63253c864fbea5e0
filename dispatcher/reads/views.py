"""What the read side returns: the read models of cases, lists, escalations, appeals, scores and
notifications, as the web API sends them (pydantic models, separate from the event contract and the case
model). Times are RFC 3339; every time the API returns is in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from dispatcher.domain.case import CaseState, ReturnReason
from dispatcher.domain.privacy import Shown
from rules.complaint import Urgency


def _in_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# Every time the API returns is in UTC, whatever offset it was given or stored with.
Instant = Annotated[AwareDatetime, AfterValidator(_in_utc)]


class AssignmentView(BaseModel):
    unit: str
    post: str
    person: str | None
    co_handlers: list[str]
    rule: str = Field(description="the catalog rule that matched, `fallback`, `default` or `supervisor`")
    catalog_version: str
    reason: str


class LocationView(BaseModel):
    district: str | None
    street: str | None
    community: str | None
    address: str | None
    lat: float | None
    lon: float | None


class RequesterView(BaseModel):
    name: str | None
    phone: str | None
    anonymous: bool
    confidential: bool
    groups: list[str]


class PendingReturnView(BaseModel):
    by: str
    at: Instant
    code: ReturnReason
    reason: str
    back_to: CaseState = Field(description="the state the case returns to if the return is rejected")
    proposal: AssignmentView | None = Field(description="where the rules would send it instead")


class PendingExtensionView(BaseModel):
    by: str
    at: Instant
    until: Instant
    reason: str


class CaseSummary(BaseModel):
    """A line of a list or queue."""

    ticket_id: str
    state: CaseState
    urgency: Urgency
    category: str | None
    queue: str | None
    unit: str | None
    description: str
    location: LocationView
    dispatched_at: Instant
    reply_due: Instant | None
    overdue: bool = Field(description="reply_due has passed and the case is not resolved or closed")


class ReturnedCase(CaseSummary):
    pending_return: PendingReturnView


class EscalationView(BaseModel):
    ticket_id: str
    stage: str
    level: int
    target: str = Field(
        description="who was told: unit:post_supervisor, unit:unit_head, center:supervision_order"
    )
    fired_at: Instant
    deadline: Instant
    unit: str | None
    state: str


class DeadlineView(BaseModel):
    due_at: AwareDatetime = Field(description="Beijing time (+08:00)")
    state: Literal["pending", "met", "overdue"]
    how: str | None = Field(
        None, description="how it was computed: the duration, its source and the calendar facts used"
    )


class CaseView(BaseModel):
    ticket_id: str
    state: CaseState
    urgency: Urgency
    category: str | None
    queue: str | None
    channel: str
    kind: str
    description: str
    location: LocationView
    requester: RequesterView | None = Field(description="null when hidden: see `requester_shown`")
    requester_shown: Shown = Field(
        description="full; masked (a unit's view: POST .../reveal shows it, audited); confidential "
        "(the requester asked that units not see who they are)"
    )
    received_at: Instant
    assignment: AssignmentView | None
    dispatched_at: Instant
    reply_due: Instant | None
    deadlines: dict[str, DeadlineView] = Field(
        default_factory=dict,
        description="per stage (acknowledge, contact, reply), each with how it was computed; "
        "`jiesu sla due` recomputes one",
    )
    pending_return: PendingReturnView | None
    pending_extension: PendingExtensionView | None
    result: str | None
    version: int = Field(description="increases with every action on the case")
    allowed_actions: list[str] = Field(description="what may be done to the case in its current state")


class AuditView(BaseModel):
    at: Instant
    actor: str
    action: str
    from_state: CaseState | None
    state: CaseState
    reason: str


class AppealView(BaseModel):
    id: int
    callback_id: int
    ticket_id: str
    unit: str
    by: str
    reason: str
    filed_at: Instant
    status: Literal["pending", "accepted", "rejected"]
    decided_by: str | None
    decided_at: Instant | None
    decision_reason: str | None


class SecondaryView(BaseModel):
    received: int = Field(description="cases assigned to the unit in the month")
    overdue: int = Field(description="of its cases, those with a deadline breached in the month")
    rejected_returns: int = Field(description="returns that arbitration rejected in the month")
    extensions: int = Field(description="extensions approved in the month")


class ScoresView(BaseModel):
    key: str = Field(description="the unit (or unit:post, or person) the figures are for")
    unit_class: str
    valid_callbacks: int = Field(description="the base: counted callbacks")
    contacted: int
    resolved: int
    satisfied: int
    basically_satisfied: int
    response_rate: float | None = Field(description="响应率 = contacted / valid; null without a base")
    resolution_rate: float | None = Field(description="解决率 = resolved / valid")
    satisfaction_rate: float | None = Field(
        description="满意率 = (satisfied + k × basically satisfied) / valid"
    )
    composite: float | None = Field(description="w1·响应率 + w2·解决率 + w3·满意率")
    weights: dict[str, float] = Field(description="response, resolution, satisfaction and k in force")
    secondary: SecondaryView | None = Field(None, description="for a unit's month")


class RankingRowView(BaseModel):
    rank: int
    unit: str
    unit_class: str
    scores: ScoresView
    previous_rank: int | None
    previous_composite: float | None
    change: float | None = Field(description="composite − last month's composite")
    rank_change: int | None = Field(description="places climbed since last month (negative: fell)")
    bottom_ten: bool = Field(description="among the ten lowest of the class (后十名)")


class CallbackLineView(BaseModel):
    id: int
    ticket_id: str
    round: int
    recorded_at: Instant
    contacted: bool
    resolved: bool
    satisfaction: str
    counted: bool
    excluded: str | None = Field(description="why it does not count")


class BreakdownView(BaseModel):
    unit: str
    month: str
    scores: ScoresView
    arithmetic: list[str]
    callbacks: list[CallbackLineView]


class NotificationView(BaseModel):
    id: int
    kind: str = Field(description="what it is about: case.dispatched, sla.warning, case.escalated...")
    recipient: str = Field(description="a person's id, or group:unit:post for a group robot")
    channel: str
    address: str = Field(description="where it went; masked for phone numbers")
    subject: str
    status: Literal["pending", "sent", "failed"]
    attempts: int
    due_at: Instant = Field(description="not before (quiet hours, the next retry)")
    last_error: str | None
    created_at: Instant
    sent_at: Instant | None
