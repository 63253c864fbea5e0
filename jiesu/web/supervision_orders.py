"""Supervision orders (督办单): a supervisor issues one on a case; the addressed unit answers it; both see
the open ones (the dashboard's panel and the case page read the same lists)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import Field, StringConstraints

from dispatcher.bootstrap import System
from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Principal, Role, visible_cases
from dispatcher.domain.commands import InboundId
from dispatcher.domain.states import AuditEntry, NotAllowedError
from dispatcher.domain.supervision import order_id_for
from dispatcher.reads import cases
from dispatcher.reads import supervision as orders
from dispatcher.service.lifecycle import CaseNotFoundError
from jiesu.web import schemas as s
from jiesu.web.auth import allowed, people_of
from jiesu.web.common import AUTH, CASE_ERRORS, NOT_FOUND, SystemDep

router = APIRouter(prefix="/api", tags=["supervision orders"])
IDEMPOTENCY_SOURCE = "/api/supervision-orders"  # the inbox's source of orders issued with a key
IdempotencyKey = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")
]
OrderText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
View = orders.SupervisionOrderView


class OrderBody(s.Body):
    ask: OrderText = Field(description="what is asked of the unit")
    to: s.Name | None = Field(
        None, description="the addressed unit: the lead unit (default) or a co-handling unit of the case"
    )
    addressee: Literal["unit", "head"] = Field(
        "unit", description="the unit's workers (default), or the unit's head (the top post of its ladder)"
    )
    within: s.Name | None = Field(
        None,
        description="the time given, on the business calendar: '2 working days', '8 working hours', "
        "'24 hours'...; default: the SLA file's `supervision_order_within`",
    )


class AnswerBody(s.Body):
    reply: OrderText = Field(description="the unit's answer")


@router.post(
    "/cases/{ticket_id}/supervision-orders",
    summary="Issue a supervision order (督办) on a case (supervisor)",
    status_code=201,
    response_model=View,
    responses={**CASE_ERRORS, 200: {"model": View, "description": "A retried request: the first order."}},
)
def issue(
    ticket_id: str,
    body: OrderBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.SUPERVISION_ORDER))],
    response: Response,
    idempotency_key: Annotated[
        IdempotencyKey | None,
        Header(
            alias="Idempotency-Key",
            description="the client's own key of this order (a UUID, say): a request retried with the same "
            "key on the same case issues nothing more and answers the first order, with 200",
        ),
    ] = None,
) -> View:
    """Orders a reply from the case's unit (or its head) by a deadline computed on the business calendar;
    published as `jiesu.case.supervision_ordered`, with a warning before the deadline and an escalation
    after it while unanswered. With an `Idempotency-Key`, a retried request answers the order the first
    one issued (200) instead of issuing a second (201).

    Allowed: a supervisor whose scope (a district, or the city) holds the case, or an admin."""
    order_id = order_id_for(idempotency_key, principal.username, ticket_id) if idempotency_key else None
    if order_id is not None:
        first = orders.supervision_order(system.engine, order_id, system.clock())
        if first is not None:
            response.status_code = 200
            return first
    command = c.IssueSupervisionOrder(
        ticket_id,
        principal.username,
        ask=body.ask,
        unit=body.to,
        addressee=body.addressee,
        within=body.within,
        order_id=order_id,
        inbound=InboundId(IDEMPOTENCY_SOURCE, order_id) if order_id else None,
    )
    order_id = system.bus.handle(command)
    return _order(system, order_id)


@router.post(
    "/supervision-orders/{order_id}/answer",
    summary="Answer a supervision order (the addressed unit)",
    response_model=View,
    responses={**CASE_ERRORS, 404: {"model": s.ErrorBody, "description": "No such order."}},
)
def answer(
    request: Request,
    order_id: str,
    body: AnswerBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.ANSWER_ORDER))],
) -> View:
    """Answers the order once, published as `jiesu.case.supervision_answered`; its timers not yet fired are
    cancelled.

    Allowed: a worker of the addressed unit (for an order to the unit's head: at its head post, or a
    unit-wide account), or an admin."""
    order = _order(system, order_id)
    unit, post = (None, None) if principal.role is Role.ADMIN else (principal.unit, principal.post)
    command = c.AnswerSupervisionOrder(
        order.ticket_id, principal.username, order_id=order_id, reply=body.reply, unit=unit, post=post
    )
    try:
        system.bus.handle(command)
    except NotAllowedError as error:
        record_refusal(request, system, principal, order.ticket_id, str(error))
        raise
    return _order(system, order_id)


def record_refusal(
    request: Request, system: System, principal: Principal, ticket_id: str, reason: str
) -> None:
    """An answer refused to someone not addressed, in the case's audit trail, as any denial on a case."""
    found = cases.case_access(system.engine, ticket_id)
    if found is not None:
        entry = AuditEntry(
            ticket_id,
            system.clock(),
            principal.username,
            f"denied:{Action.ANSWER_ORDER}",
            reason,
            None,
            found[1],
        )
        people_of(request).record_access(entry)


@router.get(
    "/supervision-orders",
    summary="Supervision orders: open ones by deadline (overdue first), or answered ones",
    response_model=list[View],
    responses=AUTH,
)
def list_orders(
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.LIST))],
    status: Literal["open", "answered"] | None = Query(None, description="open or answered; none: both"),
    limit: Annotated[int, Query(ge=1, le=orders.LIMIT, description="orders at most")] = 200,
) -> list[View]:
    """Scoped like the cases: a district's supervisor sees the orders on its district's cases, a unit's
    workers those addressed to their unit, city supervisors and admins all.

    Allowed: workers, supervisors and admins."""
    return orders.supervision_orders(system.engine, visible_cases(principal), system.clock(), status, limit)


@router.get(
    "/cases/{ticket_id}/supervision-orders",
    summary="A case's supervision orders, as issued",
    response_model=list[View],
    responses=NOT_FOUND,
)
def case_orders(
    ticket_id: str, system: SystemDep, principal: Annotated[Principal, Depends(allowed(Action.READ))]
) -> list[View]:
    """Allowed: whoever may read the case."""
    return orders.orders_of_case(system.engine, ticket_id, system.clock())


def _order(system: SystemDep, order_id: str) -> View:
    found = orders.supervision_order(system.engine, order_id, system.clock())
    if found is None:
        raise CaseNotFoundError(f"no supervision order {order_id}")
    return found
