"""One case (its view, what access to it depends on, its requester, where it went) and the
list of cases (`GET /api/cases`): filtered, scoped, ordered and paged in SQL.

A case view shows the requester as the caller's role may see it (`dispatcher.domain.privacy`); a list holds
only the cases the caller may see (`Visible`), oldest dispatch first, a page at a time.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, not_, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.domain.access import CaseFacts, Role, Visible
from dispatcher.domain.case import Case, CaseState, PendingReturn
from dispatcher.domain.joint import CO_ACKNOWLEDGE, CO_STAGES, CoHandler
from dispatcher.domain.pause import Pause
from dispatcher.domain.privacy import redact, requester_view
from dispatcher.reads import merges
from dispatcher.reads import rows as r
from dispatcher.reads import views as v
from dispatcher.reads.paging import Page
from dispatcher.reads.rows import CASE_WITH_ASSIGNMENT, A, K, case_from, is_overdue, keyset
from rules.complaint import Requester
from rules.decision import Assignment
from sla.calendar import BEIJING

CASES = keyset("cases")


def _case(engine: Engine, ticket_id: str) -> Case | None:
    with reading(engine) as connection:
        row = connection.execute(CASE_WITH_ASSIGNMENT.where(K.ticket_id == ticket_id)).mappings().first()
    return case_from(row) if row is not None else None


def case_view(engine: Engine, ticket_id: str, role: Role, now: datetime | None = None) -> v.CaseView | None:
    """The case as a viewer with `role` sees it, with its deadlines and what may be done to it now;
    None if there is none."""
    found = _case(engine, ticket_id)
    if found is None:
        return None
    view = _view(found, role)
    view.merged_into = found.merged.into if found.merged else None
    view.merged = merges.merged_cases(engine, ticket_id)
    d = t.deadlines.c
    query = select(d.stage, d.due_at, d.status, d.how).where(d.ticket_id == ticket_id).order_by(d.id)
    with reading(engine) as connection:
        rows = connection.execute(query).all()
    moment = now or datetime.now(UTC)
    still = view.pause is not None and view.pause.status == "paused"  # 挂起: the clock stands still
    view.deadlines = {
        row.stage: v.DeadlineView(
            due_at=row.due_at.astimezone(BEIJING),
            state="met"
            if row.status == "met"
            else ("overdue" if row.due_at <= moment and not still else "pending"),
            how=row.how,
        )
        for row in rows
    }
    view.co_handlers = [co_handler_view(co, moment) for co in found.co_handlers.values()]
    return view


def co_handler_view(co: CoHandler, now: datetime) -> v.CoHandlerView:
    """A co-handling unit as the case page shows it: each deadline met, waived, overdue or pending."""
    deadlines = {}
    for stage in CO_STAGES:
        due = co.deadline(stage)
        if due is None:
            continue
        met = co.acknowledged_at if stage == CO_ACKNOWLEDGE else co.reported_at
        state = "met" if met else "waived" if co.waived_by else "overdue" if due <= now else "pending"
        deadlines[stage] = v.CoDeadlineView(due_at=due.astimezone(BEIJING), state=state)
    values = {name: getattr(co, name) for name in v.CoHandlerView.model_fields if name != "deadlines"}
    return v.CoHandlerView(**{**values, "deadlines": deadlines})


def case_access(engine: Engine, ticket_id: str) -> tuple[CaseFacts, CaseState] | None:
    """What access to the case depends on, and its state; None if there is no such case."""
    case = _case(engine, ticket_id)
    if case is None:
        return None
    assignment = case.assignment
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
    case = _case(engine, ticket_id)
    return (case.complaint.requester, case.state) if case else None


def co_handlers(engine: Engine, ticket_id: str) -> dict[str, CoHandler]:
    """The case's co-handling units and, for each, whether it has acknowledged and reported (the case page
    offers each only what it may do next); empty if none, or no such case."""
    case = _case(engine, ticket_id)
    return dict(case.co_handlers) if case else {}


def where_it_went(engine: Engine, ticket_id: str) -> dict[str, Any]:
    """For the operator who filed the request: its state and queue, the current unit, post and person,
    and the reason of its first dispatch (or queueing, or link, or close at intake with the knowledge base
    entry that answered it); `{"found": False}` until it is stored."""
    audit = t.audit.c
    with reading(engine) as connection:
        case = connection.execute(
            select(K.state, K.queue, K.knowledge_entry).where(K.ticket_id == ticket_id)
        ).first()
        if case is None:
            return {"found": False}
        assigned = connection.execute(
            select(A.unit, A.post, A.person).where(A.ticket_id == ticket_id, A.current.is_(True))
        ).first()
        why = connection.execute(
            select(audit.reason)
            .where(
                audit.ticket_id == ticket_id,
                audit.action.in_(["dispatch", "queue", "link", "close_direct"]),
            )
            .order_by(audit.id)
            .limit(1)
        ).scalar()
    return {
        "found": True,
        "state": case.state,
        "queue": case.queue,
        "unit": assigned.unit if assigned else None,
        "post": assigned.post if assigned else None,
        "person": assigned.person if assigned else None,
        "why": why,
        "knowledge_entry": case.knowledge_entry,
    }


def cases(
    engine: Engine,
    *,
    now: datetime,
    visible_to: Visible,
    unit: str | None = None,
    state: CaseState | None = None,
    overdue: bool | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page[v.CaseSummary]:
    """Visible cases at `unit` (current assignment), in `state`, overdue or not at `now`; oldest dispatch
    first, `limit` a page, from `cursor` (`CursorError` if it is not this list's)."""
    where = []
    if unit is not None:
        where.append(A.unit == unit)
    if state is not None:
        where.append(K.state == state.value)
    if overdue is not None:
        where.append(is_overdue(now) if overdue else not_(is_overdue(now)))
    page = r.line_page(engine, CASES, where, visible_to, limit, cursor, by_assignment=unit is not None)
    return r.lines(page, now, visible_to)


def _view(case: Case, role: Role) -> v.CaseView:
    complaint = case.complaint
    shown = requester_view(complaint.requester, role)
    pending = case.pending_extension
    return v.CaseView(
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
        location=v.LocationView(**asdict(complaint.location)),
        requester=requester_model(shown.requester) if shown.requester else None,
        requester_shown=shown.shown,
        received_at=complaint.received_at,
        assignment=assignment_view(case.assignment),
        dispatched_at=case.dispatched_at,
        reply_due=case.reply_due,
        pending_return=return_view(case.pending_return) if case.pending_return else None,
        pending_extension=v.PendingExtensionView(**asdict(pending)) if pending else None,
        result=case.result,
        knowledge_entry=case.knowledge_entry,
        version=case.version,
        allowed_actions=case.allowed_actions(),
        pause=pause_view(case.pause) if case.pause else None,
    )


def pause_view(pause: Pause) -> v.PauseView:
    return v.PauseView(
        status=pause.status.value,
        by=pause.by,
        at=pause.at,
        reason_code=pause.code.value,
        reason=pause.reason,
        resume_at=pause.until,
        approved_by=pause.approved_by,
        since=pause.since,
    )


def requester_model(requester: Requester) -> v.RequesterView:
    return v.RequesterView(**{**asdict(requester), "groups": list(requester.groups)})


def assignment_view(assignment: Assignment | None) -> v.AssignmentView | None:
    if assignment is None:
        return None
    return v.AssignmentView(**{**asdict(assignment), "co_handlers": list(assignment.co_handlers)})


def return_view(pending: PendingReturn) -> v.PendingReturnView:
    return v.PendingReturnView(
        by=pending.by,
        at=pending.at,
        code=pending.code,
        reason=pending.reason,
        back_to=pending.back_to,
        proposal=assignment_view(pending.proposal),
    )
