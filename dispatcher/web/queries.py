"""Read models for the web (SQLAlchemy Core, no unit of work): what a case, its timeline and the queues show.

Each read is one statement on its own connection, so a view never mixes a case row with an assignment
from another moment. Reads change nothing; `allowed_actions` comes from the case model itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, RowMapping, and_, not_, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.case_rows import case_of
from dispatcher.domain.case import Case, CaseState, PendingReturn
from dispatcher.domain.events import Assignment
from dispatcher.web import schemas as s

DONE = (CaseState.RESOLVED.value, CaseState.CLOSED.value)
A = t.assignments
# The current assignment's columns, under the names `case_of` reads (none clashes with a `cases` column).
CASE_WITH_ASSIGNMENT = select(
    t.cases, A.c.unit, A.c.post, A.c.person, A.c.rule, A.c.catalog_version, A.c.reason, A.c.co_handlers
).outerjoin(A, and_(A.c.ticket_id == t.cases.c.ticket_id, A.c.current.is_(True)))
OLDEST_FIRST = (t.cases.c.dispatched_at, t.cases.c.ticket_id)


def case_view(engine: Engine, ticket_id: str) -> s.CaseView | None:
    """The case as a handler sees it, with what may be done to it now; None if there is no such case."""
    found = _cases(engine, [t.cases.c.ticket_id == ticket_id])
    return _view(found[0]) if found else None


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
    unit: str | None = None,
    state: CaseState | None = None,
    overdue: bool | None = None,
    limit: int = 100,
) -> list[s.CaseSummary]:
    """Cases at `unit` (current assignment), in `state`, overdue or not at `now`; oldest dispatch first."""
    where: list[ColumnElement[bool]] = []
    if unit is not None:
        where.append(A.c.unit == unit)
    if state is not None:
        where.append(t.cases.c.state == state.value)
    if overdue is not None:
        where.append(is_overdue(now) if overdue else not_(is_overdue(now)))
    return [_summary(case, now) for case in _cases(engine, where, limit)]


def arbitration_queue(engine: Engine, *, now: datetime) -> list[s.ReturnedCase]:
    """Returned cases (退单) awaiting the center's decision, with the return and the rules' proposal."""
    found = _cases(engine, [t.cases.c.state == CaseState.RETURNED.value])
    return [
        s.ReturnedCase(**_summary(case, now).model_dump(), pending_return=_return_view(case.pending_return))
        for case in found
        if case.pending_return is not None
    ]


def triage_queue(engine: Engine, *, now: datetime) -> list[s.CaseSummary]:
    """Cases waiting at the center for manual dispatch or triage, with their queue."""
    found = _cases(engine, [t.cases.c.state == CaseState.QUEUED.value])
    return [_summary(case, now) for case in found]


def _cases(engine: Engine, where: Sequence[ColumnElement[bool]], limit: int | None = None) -> list[Case]:
    query = CASE_WITH_ASSIGNMENT.where(*where).order_by(*OLDEST_FIRST).limit(limit)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return [case_of(row, _assignment_part(row)) for row in rows]


def _assignment_part(row: RowMapping) -> RowMapping | None:
    return row if row["unit"] is not None else None


def _summary(case: Case, now: datetime) -> s.CaseSummary:
    due = case.reply_due
    return s.CaseSummary(
        ticket_id=case.ticket_id,
        state=case.state,
        urgency=case.urgency,
        category=case.category,
        queue=case.queue,
        unit=case.assignment.unit if case.assignment else None,
        description=case.complaint.description,
        location=s.LocationView(**asdict(case.complaint.location)),
        dispatched_at=case.dispatched_at,
        reply_due=due,
        overdue=due is not None and due < now and case.state.value not in DONE,
    )


def _view(case: Case) -> s.CaseView:
    complaint = case.complaint
    requester = asdict(complaint.requester)
    pending = case.pending_extension
    return s.CaseView(
        ticket_id=case.ticket_id,
        state=case.state,
        urgency=case.urgency,
        category=case.category,
        queue=case.queue,
        channel=complaint.channel,
        kind=complaint.kind,
        description=complaint.description,
        location=s.LocationView(**asdict(complaint.location)),
        requester=s.RequesterView(**{**requester, "groups": list(requester["groups"])}),
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
