"""The pause's routes (挂起): the unit asks, a supervisor approves or rejects, the unit or a supervisor
resumes; the queue of pause requests waiting for a decision. Each builds a command and hands it to the bus."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Principal, visible_cases
from dispatcher.reads import pauses
from dispatcher.reads import views as v
from jiesu.web import schemas as s
from jiesu.web.auth import allowed
from jiesu.web.common import AUTH, HANDLER, PAGED, SUPERVISOR, CursorQuery, SystemDep, act, case_action, paged

router = APIRouter(prefix="/api")
EITHER = (
    "Allowed: a worker of the unit the case is assigned to (at its post), a supervisor whose scope holds "
    "the case, or an admin."
)


@case_action(
    router,
    "pause",
    "Ask to pause a case's clock (挂起)",
    "The unit waits for the requester, a third party, a court or a season; a supervisor approves or "
    "rejects. Until then the clock runs.",
    HANDLER,
)
def request_pause(
    ticket_id: str,
    body: s.PauseBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.PAUSE))],
) -> v.CaseView:
    command = c.RequestPause(
        ticket_id, principal.username, code=body.reason_code, reason=body.reason, until=body.resume_at
    )
    return act(system, command, principal)


@case_action(
    router,
    "pause/approve",
    "Approve a pause (supervisor)",
    "The deadlines and SLA timers stand still from now; with `resume_at` (or the date the unit asked) the "
    "case resumes by itself then.",
    SUPERVISOR,
    tag="supervisor",
)
def approve_pause(
    ticket_id: str,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.PAUSE_DECISION))],
    body: s.PauseApprovalBody | None = None,
) -> v.CaseView:
    body = body or s.PauseApprovalBody()
    command = c.DecidePause(
        ticket_id, principal.username, approve=True, until=body.resume_at, reason=body.reason or ""
    )
    return act(system, command, principal)


@case_action(
    router, "pause/reject", "Reject a pause (supervisor)", "The clock runs on.", SUPERVISOR, tag="supervisor"
)
def reject_pause(
    ticket_id: str,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.PAUSE_DECISION))],
    body: s.PauseRejectionBody | None = None,
) -> v.CaseView:
    reason = (body.reason if body else None) or ""
    return act(system, c.DecidePause(ticket_id, principal.username, approve=False, reason=reason), principal)


@case_action(
    router,
    "resume",
    "Resume a paused case",
    "The clock runs again: every pending deadline moves by the working time paused (the unit's working "
    "hours on the business calendar) and its timers are planned afresh.",
    EITHER,
)
def resume(
    ticket_id: str,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.RESUME))],
    body: s.ResumeBody | None = None,
) -> v.CaseView:
    note = body.note if body else None
    return act(system, c.ResumeCase(ticket_id, principal.username, note=note or None), principal)


@router.get(
    "/queues/pauses",
    summary="Pause requests waiting for a decision, a page at a time",
    response_model=list[pauses.PauseRequest],
    responses={**AUTH, **PAGED},
    tags=["supervisor"],
)
def pause_queue(
    request: Request,
    response: Response,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.QUEUES))],
    limit: Annotated[int, Query(ge=1, le=1000, description="cases per page")] = 100,
    cursor: CursorQuery = None,
) -> list[pauses.PauseRequest]:
    """Each pause asked (挂起) with who asked, why and the resume date asked; oldest dispatch first, paged
    as `GET /api/cases` is (`Link`, `X-Next-Cursor`).

    Allowed: supervisors (the cases in their scope) and admins."""
    visible = visible_cases(principal)
    return paged(
        request,
        response,
        lambda: pauses.pause_requests(system.engine, visible=visible, limit=limit, cursor=cursor),
    )
