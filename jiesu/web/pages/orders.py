"""Supervision orders (督办单) on the pages: a supervisor issues one from the case page; the addressed
unit's worker answers it there. The dashboard's panel and the case page's list read
`dispatcher.reads.supervision`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Role, check_role
from dispatcher.domain.case import CaseError, NotAllowedError
from dispatcher.reads.supervision import supervision_order
from jiesu.web.pages.base import Me, SystemDep, back, forbidden, may, page, words_of
from jiesu.web.session import check_csrf
from jiesu.web.supervision_orders import record_refusal

router = APIRouter(include_in_schema=False)


@router.post("/cases/{ticket_id}/orders")
async def issue_order(request: Request, ticket_id: str, me: Me, system: SystemDep) -> Response:
    form = {key: str(value) for key, value in (await request.form()).items()}
    check_csrf(request, form.get("csrf"))
    denied = may(request, me, Action.SUPERVISION_ORDER, ticket_id, system)
    if denied is not None:
        return denied
    command = c.IssueSupervisionOrder(
        ticket_id,
        me.username,
        ask=form.get("ask", "").strip(),
        addressee=form.get("addressee", "unit"),
        unit=form.get("to") or None,
        within=form.get("within", "").strip() or None,
    )
    where = f"/cases/{ticket_id}#orders"
    try:
        order_id = system.bus.handle(command)
    except CaseError as error:
        return back(where, error=str(error))
    return back(where, ok=f"{words_of(request)['order_issued']}: {order_id}")


@router.post("/orders/{order_id}/answer")
async def answer_order(request: Request, order_id: str, me: Me, system: SystemDep) -> Response:
    """Only the addressed unit's worker (or an admin) answers: the unit is checked by the order itself."""
    form = {key: str(value) for key, value in (await request.form()).items()}
    check_csrf(request, form.get("csrf"))
    denied = check_role(me, Action.ANSWER_ORDER)
    if denied is not None:
        return forbidden(request, me, denied.reason)
    found = supervision_order(system.engine, order_id, system.clock())
    if found is None:
        w = words_of(request)
        return page(request, "message.html", me, 404, title=w["not_found"], detail=order_id)
    unit, post = (None, None) if me.role is Role.ADMIN else (me.unit, me.post)
    command = c.AnswerSupervisionOrder(
        found.ticket_id,
        me.username,
        order_id=order_id,
        reply=form.get("reply", "").strip(),
        unit=unit,
        post=post,
    )
    where = f"/cases/{found.ticket_id}#orders"
    try:
        system.bus.handle(command)
    except NotAllowedError as error:
        record_refusal(request, system, me, found.ticket_id, str(error))
        return forbidden(request, me, str(error))
    except CaseError as error:
        return back(where, error=str(error))
    return back(where, ok=words_of(request)["order_done"])
