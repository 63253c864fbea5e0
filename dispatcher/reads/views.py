"""What the read side returns: the read models of cases, lists, escalations, appeals, scores and
notifications, as the web API sends them (pydantic models, separate from the event contract and the case
model). Times are RFC 3339; every time the API returns is in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
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


class PauseView(BaseModel):
    """挂起: a pause asked (`status` requested) or approved (paused: the clock stands still)."""

    status: Literal["requested", "paused"]
    by: str = Field(description="who asked")
    at: Instant = Field(description="when it was asked")
    reason_code: Literal["requester", "third_party", "court", "season"]
    reason: str
    resume_at: Instant | None = Field(None, description="the date it resumes by itself, if set")
    approved_by: str | None = None
    since: Instant | None = Field(None, description="paused since (when approved)")


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


class MergedView(BaseModel):
    """A case merged into a main case (并案): it follows the main case, and its requester is called back."""

    ticket_id: str
    state: CaseState
    received_at: Instant
    merged_at: Instant
    merged_by: str
    auto: bool = Field(description="merged by the rules (a burst at one place), not by a supervisor")


class CoDeadlineView(BaseModel):
    due_at: AwareDatetime = Field(description="Beijing time (+08:00)")
    state: Literal["pending", "met", "overdue", "waived"]


class CoHandlerView(BaseModel):
    """A co-handling unit: named by the catalog's rule, or called in by the lead (吹哨报到), with what it
    is asked, its deadlines and how far it got."""

    unit: str
    source: Literal["catalog", "whistle"]
    ask: str | None
    called_by: str | None
    called_at: AwareDatetime | None
    post: str | None
    person: str | None
    acknowledged_by: str | None
    acknowledged_at: AwareDatetime | None
    report: str | None
    reported_by: str | None
    reported_at: AwareDatetime | None
    waived_by: str | None
    waived_at: AwareDatetime | None
    waive_reason: str | None
    deadlines: dict[str, CoDeadlineView] = Field(
        default_factory=dict, description="co_acknowledge, co_report: a called unit's deadlines"
    )
    how: str | None = Field(None, description="how its deadlines were computed")


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
    knowledge_entry: str | None = Field(
        None, description="直接办结: the knowledge base entry that answered the consultation at intake"
    )
    version: int = Field(description="increases with every action on the case")
    allowed_actions: list[str] = Field(description="what may be done to the case in its current state")
    merged_into: str | None = Field(None, description="并案: the main case this case is merged into")
    merged: list[MergedView] = Field(
        default_factory=list, description="并案: the cases merged into this one, oldest first"
    )
    pause: PauseView | None = Field(None, description="挂起: the pause asked or approved, if any")
    co_handlers: list[CoHandlerView] = Field(
        default_factory=list,
        description="the co-handling units, each with what it is asked, its deadlines and its progress",
    )


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
    co_handled: int = Field(
        0, description="吹哨报到: its parts as a unit called in on others' cases, report due in the month"
    )
    co_overdue: int = Field(0, description="of those, the parts with a deadline breached")


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


# ---- the operator's intake page: where a request would go, the gazetteer, a caller's requests ----------


class NamedView(BaseModel):
    """A unit, post or person of the catalog: its id and its name."""

    id: str
    name: str = Field(description="the catalog's name; the id itself when the catalog in force lacks it")


class CategoryView(BaseModel):
    code: str
    name: str = Field(description="the catalog's name; the code itself when the catalog in force lacks it")
    path: list[str] = Field(description="the names from the top-level domain down to this category")


class ProposalView(BaseModel):
    code: str
    name: str
    probability: float = Field(description="the classifier's probability (keywords: the share of the hits)")


class AreaView(BaseModel):
    """A place of the gazetteer (the catalog's areas)."""

    code: str
    name: str
    level: Literal["district", "street", "community"]
    parent: str | None = Field(description="the district of a street, the street of a community")


class PreviewView(BaseModel):
    """Where a request would go if it were filed now, decided by the router the worker uses (nothing kept)."""

    category: CategoryView | None = Field(
        description="the category it would be dispatched with; null: none is confident enough (triage)"
    )
    proposed: CategoryView | None = Field(
        description="the classifier's first choice, confident or not; null when the operator chose the "
        "category or no keyword was found"
    )
    classified_by: Literal["operator", "model", "keywords"]
    confidence: float | None = Field(
        description="the classifier's confidence in `proposed` (with a model: the share of its unit among "
        "the model's first proposals); null when the operator chose the category"
    )
    threshold: float | None = Field(description="the confidence from which the proposal is taken")
    proposals: list[ProposalView] = Field(description="the classifier's first three, with probabilities")
    classification: str | None = Field(description="the classification in words, as the reason has it")
    triage: bool = Field(description="it would wait in the triage queue for a person to choose")
    queue: str | None = Field(description="the queue at the center it would wait in, if not dispatched")
    emergency: bool = Field(description="an emergency: by its words (danger) or by the operator's urgency")
    urgency: Urgency
    unit: NamedView | None
    post: NamedView | None
    person: NamedView | None = Field(description="on duty now at the post; null: nobody on duty")
    co_handlers: list[NamedView]
    rule: str | None = Field(description="the catalog rule that matched, or `fallback`")
    reason: str = Field(description="why, in the rules' words: rule, classification, place, person")
    district: AreaView | None
    street: AreaView | None
    community: AreaView | None
    place_notes: list[str] = Field(description="what of the location was not found or is ambiguous")
    catalog_version: str | None


class CallerCaseView(BaseModel):
    """One of the caller's requests, as the viewer may see it."""

    ticket_id: str
    state: CaseState
    open: bool = Field(description="not yet resolved, closed or linked")
    received_at: Instant
    urgency: Urgency
    category: CategoryView | None
    unit: NamedView | None = Field(description="the unit it is assigned to now")
    queue: str | None
    description: str
    location: LocationView
    requester: RequesterView | None = Field(description="null when hidden: see `requester_shown`")
    requester_shown: Shown
    linked_to: str | None = Field(description="a repeat: the open case it was linked to")


class CallerView(BaseModel):
    """The caller's open requests (any age) and recent ones, newest first, and the open case a request
    with the facts given would be linked to as a repeat (same phone, category and community, else street,
    within the repeat window)."""

    requests: list[CallerCaseView]
    repeat_of: CallerCaseView | None = Field(
        description="the open case the new request would be linked to instead of being dispatched again"
    )
    repeat_elsewhere: bool = Field(
        description="it would be linked to an open case outside what the viewer may see"
    )
    repeat_window_days: float
    recent_days: int = Field(description="how far back requests that are no longer open are listed")


class KnowledgeView(BaseModel):
    """An entry of the knowledge base (知识库)."""

    id: str
    question: str = Field(description="the question as callers ask it")
    answer: str = Field(description="what the operator tells the requester")
    category: str = Field(description="a category code of the catalog, or empty")
    keywords: list[str] = Field(description="the words callers use, for the search")
    source: str = Field(description="what the answer rests on (a regulation, an official notice)")
    valid_from: date | None = Field(description="first day it is right; null: always")
    valid_to: date | None = Field(description="last day it is right; null: open-ended")
    retired: bool = Field(description="retired by an admin: kept, never offered")
    valid_today: bool = Field(description="offered today (Beijing): not retired and within its validity")
    updated_at: Instant
    updated_by: str
    version: int = Field(description="increases with every change")


class KnowledgeMatch(KnowledgeView):
    """An entry found for a question, with how well it matched."""

    score: float | None = Field(
        description="higher is better: keyword and character-bigram overlap, by rarity; null when listed "
        "without a question"
    )
    matched_keywords: list[str] = Field(description="the entry's keywords found whole in the question")


class DirectCloses(BaseModel):
    """直接办结: consultations answered at intake from the knowledge base, among the requests received."""

    since: Instant
    received: int = Field(description="requests received since then (cases opened)")
    consultations: int = Field(description="of which consultations (咨询)")
    direct: int = Field(description="of which closed at intake from the knowledge base")
    rate: float | None = Field(description="直接办结率 = direct / received; null when none was received")
    consultation_rate: float | None = Field(
        description="direct / consultations: the share of consultations answered at once"
    )
