"""Read models for the web (SQLAlchemy Core, no unit of work): what a case, its timeline and the queues show.

Each read is one statement on its own connection, so a view never mixes a case row with an assignment
from another moment. Reads change nothing; `allowed_actions` comes from the case model itself. Lists and
queues hold only the cases the caller may see (`Visible`); a case view shows the requester as the
caller's role may see it (`dispatcher.domain.privacy`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Engine, RowMapping, Text, and_, cast, false, not_, or_, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.case_rows import assignment_of, case_of
from dispatcher.adapters.database import stored_forms
from dispatcher.domain.access import CaseFacts, Role, Visible
from dispatcher.domain.case import Case, CaseState, PendingReturn
from dispatcher.domain.complaint import Requester, Urgency
from dispatcher.domain.events import Assignment
from dispatcher.domain.privacy import mask_phone, redact, requester_view
from dispatcher.web import schemas as s
from sla.calendar import BEIJING

DONE = (CaseState.RESOLVED.value, CaseState.CLOSED.value)
A = t.assignments
# The current assignment's columns, under the names `case_of` reads; the assignment's co-handlers under
# their own name, since `cases` has a `co_handlers` column of its own (their acknowledgements and reports).
CASE_WITH_ASSIGNMENT = select(
    t.cases,
    A.c.unit,
    A.c.post,
    A.c.person,
    A.c.rule,
    A.c.catalog_version,
    A.c.reason,
    A.c.co_handlers.label("assigned_co_handlers"),
).outerjoin(A, and_(A.c.ticket_id == t.cases.c.ticket_id, A.c.current.is_(True)))
OLDEST_FIRST = (t.cases.c.dispatched_at, t.cases.c.ticket_id)


def case_view(engine: Engine, ticket_id: str, role: Role, now: datetime | None = None) -> s.CaseView | None:
    """The case as a viewer with `role` sees it, with its deadlines and what may be done to it now;
    None if there is none."""
    found = _cases(engine, [t.cases.c.ticket_id == ticket_id])
    if not found:
        return None
    view = _view(found[0], role)
    query = (
        select(t.deadlines.c.stage, t.deadlines.c.due_at, t.deadlines.c.status, t.deadlines.c.how)
        .where(t.deadlines.c.ticket_id == ticket_id)
        .order_by(t.deadlines.c.id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    moment = now or datetime.now(UTC)
    view.deadlines = {
        row.stage: s.DeadlineView(
            due_at=row.due_at.astimezone(BEIJING),
            state="met" if row.status == "met" else ("overdue" if row.due_at <= moment else "pending"),
            how=row.how,
        )
        for row in rows
    }
    return view


def case_access(engine: Engine, ticket_id: str) -> tuple[CaseFacts, CaseState] | None:
    """What access to the case depends on, and its state; None if there is no such case."""
    found = _cases(engine, [t.cases.c.ticket_id == ticket_id])
    if not found:
        return None
    case, assignment = found[0], found[0].assignment
    facts = CaseFacts(
        unit=assignment.unit if assignment else None,
        post=assignment.post if assignment else None,
        co_handlers=assignment.co_handlers if assignment else (),
        district=case.district,
        confidential=case.complaint.requester.confidential,
    )
    return facts, case.state


def requester(engine: Engine, ticket_id: str) -> tuple[Requester, CaseState] | None:
    """The requester as stored, unmasked (for the audited reveal only), and the case's state."""
    found = _cases(engine, [t.cases.c.ticket_id == ticket_id])
    return (found[0].complaint.requester, found[0].state) if found else None


def timeline(engine: Engine, ticket_id: str) -> list[s.AuditView] | None:
    """The audit trail of a case, oldest first; None if there is no such case."""
    exists = select(t.cases.c.ticket_id).where(t.cases.c.ticket_id == ticket_id)
    entries = select(t.audit).where(t.audit.c.ticket_id == ticket_id).order_by(t.audit.c.id)
    with engine.connect() as connection:
        if connection.execute(exists).first() is None:
            return None
        rows = connection.execute(entries).mappings().all()
    return [
        s.AuditView(
            at=row["at"],
            actor=row["actor"],
            action=row["action"],
            from_state=row["from_state"],
            state=row["state"],
            reason=row["reason"],
        )
        for row in rows
    ]


def is_overdue(now: datetime) -> ColumnElement[bool]:
    """The reply deadline has passed and the case is not resolved or closed."""
    due = t.cases.c.reply_due
    return and_(due.is_not(None), due < now, t.cases.c.state.not_in(DONE))


def cases(
    engine: Engine,
    *,
    now: datetime,
    visible: Visible,
    unit: str | None = None,
    state: CaseState | None = None,
    overdue: bool | None = None,
    limit: int = 100,
) -> list[s.CaseSummary]:
    """Visible cases at `unit` (current assignment), in `state`, overdue or not at `now`; oldest first."""
    where = _visible(visible)
    if unit is not None:
        where.append(A.c.unit == unit)
    if state is not None:
        where.append(t.cases.c.state == state.value)
    if overdue is not None:
        where.append(is_overdue(now) if overdue else not_(is_overdue(now)))
    units_view = visible.unit is not None  # a unit reads the text redacted (its requester is masked)
    return [_summary(case, now, redacted=units_view) for case in _cases(engine, where, limit)]


def arbitration_queue(engine: Engine, *, now: datetime, visible: Visible) -> list[s.ReturnedCase]:
    """Returned cases (退单) awaiting the center's decision, with the return and the rules' proposal."""
    found = _cases(engine, [t.cases.c.state == CaseState.RETURNED.value, *_visible(visible)])
    return [
        s.ReturnedCase(**_summary(case, now).model_dump(), pending_return=_return_view(case.pending_return))
        for case in found
        if case.pending_return is not None
    ]


def open_emergencies(
    engine: Engine, *, now: datetime, visible: Visible, limit: int = 50
) -> list[s.CaseSummary]:
    """Emergency-tier cases not yet resolved, oldest first: the dashboard shows them above everything."""
    where = [t.cases.c.urgency == Urgency.EMERGENCY.value, t.cases.c.state.not_in(DONE), *_visible(visible)]
    return [_summary(case, now) for case in _cases(engine, where, limit)]


def triage_queue(engine: Engine, *, now: datetime, visible: Visible) -> list[s.CaseSummary]:
    """Cases waiting at the center for manual dispatch or triage, with their queue."""
    found = _cases(engine, [t.cases.c.state == CaseState.QUEUED.value, *_visible(visible)])
    return [_summary(case, now) for case in found]


def _cases(engine: Engine, where: Sequence[ColumnElement[bool]], limit: int | None = None) -> list[Case]:
    query = CASE_WITH_ASSIGNMENT.where(*where).order_by(*OLDEST_FIRST).limit(limit)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return [_case(row) for row in rows]


def _case(row: RowMapping) -> Case:
    case = case_of(row, None)
    if row["unit"] is not None:
        case.assignment = assignment_of({**row, "co_handlers": row["assigned_co_handlers"]})
    return case


def _visible(visible: Visible) -> list[ColumnElement[bool]]:
    """The conditions that keep only the cases in `visible`."""
    if visible.everything:
        return []
    if visible.district is not None:
        return [t.cases.c.district == visible.district]
    if visible.unit is None:
        return [false()]
    lead = A.c.unit == visible.unit
    if visible.post is not None:
        lead = and_(lead, A.c.post == visible.post)
    # Co-handlers are a JSON list of unit ids: the unit's JSON string, quotes included, is an element.
    stored = cast(A.c.co_handlers, Text)
    co_handling = (stored.contains(form, autoescape=True) for form in stored_forms(visible.unit))
    return [or_(lead, *co_handling)]


def _summary(case: Case, now: datetime, redacted: bool = False) -> s.CaseSummary:
    due = case.reply_due
    requester = case.complaint.requester
    return s.CaseSummary(
        ticket_id=case.ticket_id,
        state=case.state,
        urgency=case.urgency,
        category=case.category,
        queue=case.queue,
        unit=case.assignment.unit if case.assignment else None,
        description=redact(case.complaint.description, requester.name, requester.confidential)
        if redacted
        else case.complaint.description,
        location=s.LocationView(**asdict(case.complaint.location)),
        dispatched_at=case.dispatched_at,
        reply_due=due,
        overdue=due is not None and due < now and case.state.value not in DONE,
    )


def _view(case: Case, role: Role) -> s.CaseView:
    complaint = case.complaint
    shown = requester_view(complaint.requester, role)
    pending = case.pending_extension
    return s.CaseView(
        ticket_id=case.ticket_id,
        state=case.state,
        urgency=case.urgency,
        category=case.category,
        queue=case.queue,
        channel=complaint.channel,
        kind=complaint.kind,
        # what a unit reads: numbers and the requester's name masked (starred if confidential)
        description=redact(complaint.description, complaint.requester.name, complaint.requester.confidential)
        if role is Role.WORKER
        else complaint.description,
        location=s.LocationView(**asdict(complaint.location)),
        requester=requester_model(shown.requester) if shown.requester else None,
        requester_shown=shown.shown,
        received_at=complaint.received_at,
        assignment=_assignment_view(case.assignment),
        dispatched_at=case.dispatched_at,
        reply_due=case.reply_due,
        pending_return=_return_view(case.pending_return) if case.pending_return else None,
        pending_extension=s.PendingExtensionView(**asdict(pending)) if pending else None,
        result=case.result,
        version=case.version,
        allowed_actions=case.allowed_actions(),
    )


def requester_model(requester: Requester) -> s.RequesterView:
    return s.RequesterView(**{**asdict(requester), "groups": list(requester.groups)})


def _assignment_view(assignment: Assignment | None) -> s.AssignmentView | None:
    if assignment is None:
        return None
    return s.AssignmentView(**{**asdict(assignment), "co_handlers": list(assignment.co_handlers)})


def _return_view(pending: PendingReturn) -> s.PendingReturnView:
    return s.PendingReturnView(
        by=pending.by,
        at=pending.at,
        code=pending.code,
        reason=pending.reason,
        back_to=pending.back_to,
        proposal=_assignment_view(pending.proposal),
    )


def notifications(
    engine: Engine, *, ticket_id: str | None = None, recipient: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """The delivery log, oldest first (phone numbers masked)."""
    n = t.notifications.c
    query = select(
        n.id,
        n.kind,
        n.recipient,
        n.channel,
        n.address,
        n.subject,
        n.status,
        n.attempts,
        n.due_at,
        n.last_error,
        n.created_at,
        n.sent_at,
    ).order_by(n.id)
    for column, value in ((n.ticket_id, ticket_id), (n.recipient, recipient), (n.status, status)):
        if value is not None:
            query = query.where(column == value)
    with engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(query.limit(1000)).mappings()]
    for row in rows:
        row["address"] = shown_address(row["channel"], row["address"])
    return rows


def shown_address(channel: str, address: str) -> str:
    """Where a message went, as the log shows it: a phone masked; a webhook or robot URL only as its host
    (its path and query carry the key that lets anyone post to the group)."""
    if channel == "sms":
        return mask_phone(address) or ""
    if "://" in address:
        parts = urlsplit(address)
        return f"{parts.scheme}://{parts.hostname or ''}/…"
    return address
