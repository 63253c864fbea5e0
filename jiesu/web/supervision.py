"""The supervisors' routes: arbitration of returns, extension decisions, manual dispatch, the queues."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Principal, visible_cases
from dispatcher.reads import escalations, queues
from dispatcher.reads import views as v
from jiesu.web import schemas as s
from jiesu.web.auth import allowed
from jiesu.web.common import AUTH, PAGED, SUPERVISOR, CursorQuery, SystemDep, act, case_action, paged

router = APIRouter(prefix="/api")


@case_action(
    router,
    "arbitration",
    "Arbitrate a returned case (supervisor)",
    "Redispatch (to `unit`, or else to the rules' proposal) or reject the return.",
    SUPERVISOR,
    tag="supervisor",
)
def arbitrate(
    ticket_id: str,
    body: s.ArbitrationBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.ARBITRATE))],
) -> v.CaseView:
    command = c.Arbitrate(
        ticket_id,
        principal.username,
        decision=body.decision,
        unit=body.unit,
        post=body.post,
        reason=body.reason or "",
    )
    return act(system, command, principal)


@case_action(
    router,
    "extension/decision",
    "Decide an extension request (supervisor)",
    "Approval moves `reply_due` (to `until`, or else to the date asked for); rejection keeps it.",
    SUPERVISOR,
    tag="supervisor",
)
def decide_extension(
    ticket_id: str,
    body: s.ExtensionDecisionBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.EXTENSION_DECISION))],
) -> v.CaseView:
    command = c.DecideExtension(
        ticket_id, principal.username, approve=body.approve, until=body.until, reason=body.reason or ""
    )
    return act(system, command, principal)


@case_action(
    router,
    "dispatch",
    "Dispatch a queued case manually (supervisor)",
    "Sends a case waiting in a center queue to a unit (and post); may set its category.",
    SUPERVISOR,
    tag="supervisor",
)
def dispatch(
    ticket_id: str,
    body: s.DispatchBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.DISPATCH))],
) -> v.CaseView:
    command = c.DispatchManually(
        ticket_id,
        principal.username,
        unit=body.unit,
        post=body.post,
        category=body.category,
        reason=body.reason or "",
    )
    return act(system, command, principal)


@router.get(
    "/queues/arbitration",
    summary="Returned cases awaiting arbitration, a page at a time",
    response_model=list[v.ReturnedCase],
    responses={**AUTH, **PAGED},
    tags=["supervisor"],
)
def arbitration_queue(
    request: Request,
    response: Response,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.QUEUES))],
    limit: Annotated[int, Query(ge=1, le=1000, description="cases per page")] = 100,
    cursor: CursorQuery = None,
) -> list[v.ReturnedCase]:
    """Each returned case (退单) with who returned it, why, and where the rules would send it instead;
    oldest dispatch first, paged as `GET /api/cases` is (`Link`, `X-Next-Cursor`).

    Allowed: supervisors (the cases in their scope) and admins."""
    visible = visible_cases(principal)
    return paged(
        request,
        response,
        lambda: queues.arbitration_queue(
            system.engine, now=system.clock(), visible=visible, limit=limit, cursor=cursor
        ),
    )


@router.get(
    "/queues/triage",
    summary="Queued cases awaiting manual dispatch, a page at a time",
    response_model=list[v.CaseSummary],
    responses={**AUTH, **PAGED},
    tags=["supervisor"],
)
def triage_queue(
    request: Request,
    response: Response,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.QUEUES))],
    limit: Annotated[int, Query(ge=1, le=1000, description="cases per page")] = 100,
    cursor: CursorQuery = None,
) -> list[v.CaseSummary]:
    """Cases the rules could not send to a unit, with the queue each waits in; oldest dispatch first, paged
    as `GET /api/cases` is (`Link`, `X-Next-Cursor`).

    Allowed: supervisors (the cases in their scope) and admins."""
    visible = visible_cases(principal)
    return paged(
        request,
        response,
        lambda: queues.triage_queue(
            system.engine, now=system.clock(), visible=visible, limit=limit, cursor=cursor
        ),
    )


@router.get(
    "/escalations",
    summary="Escalations that fired, newest first, a page at a time",
    response_model=list[v.EscalationView],
    responses={**AUTH, **PAGED},
    tags=["supervisor"],
)
def list_escalations(
    request: Request,
    response: Response,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.QUEUES))],
    level: int | None = Query(None, ge=1, le=10, description="only this ladder level (1 = the breach)"),
    unit: str | None = Query(None, description="only cases at this unit"),
    open: bool = Query(True, description="only cases not yet resolved"),
    limit: Annotated[int, Query(ge=1, le=1000, description="escalations per page")] = 500,
    cursor: CursorQuery = None,
) -> list[v.EscalationView]:
    """Each escalation step that fired: the case, the stage, the level, who was told, and when; paged as
    `GET /api/cases` is (`Link`, `X-Next-Cursor`).

    Allowed: supervisors (the cases in their scope) and admins."""
    district = visible_cases(principal).district
    return paged(
        request,
        response,
        lambda: escalations.escalations(
            system.engine,
            district=district,
            level=level,
            unit=unit,
            open_only=open,
            limit=limit,
            cursor=cursor,
        ),
    )
