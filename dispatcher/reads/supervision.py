"""Supervision orders (督办单) for the web, the CLI and the dashboard: the open ones by deadline (the
overdue first), the answered ones newest first, those of one case; each list scoped like the cases (a
district's supervisor sees its district's, a unit's workers the orders addressed to their unit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Engine, Select, false, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.domain.access import Visible
from dispatcher.reads.views import Instant

LIMIT = 500
_order, K = t.supervision_orders.c, t.cases.c
Status = Literal["open", "answered"]


class SupervisionOrderView(BaseModel):
    order_id: str
    ticket_id: str
    district: str | None
    unit: str = Field(description="the addressed unit")
    addressee: Literal["unit", "head"] = Field(description="the unit's workers, or its head")
    ask: str = Field(description="what is asked")
    due_at: Instant
    how: str = Field(description="how the deadline was computed on the business calendar")
    issued_by: str
    issued_at: Instant
    status: Status
    overdue: bool = Field(description="open and past its deadline")
    answer: str | None
    answered_by: str | None
    answered_at: Instant | None


def _query() -> Select[Any]:
    return select(
        _order.id,
        _order.ticket_id,
        K.district,
        _order.unit,
        _order.addressee,
        _order.ask,
        _order.due_at,
        _order.how,
        _order.issued_by,
        _order.issued_at,
        _order.answer,
        _order.answered_by,
        _order.answered_at,
    ).join(t.cases, K.ticket_id == _order.ticket_id)


def _within(scope: Visible) -> list[ColumnElement[bool]]:
    if scope.everything:
        return []
    if scope.district is not None:
        return [K.district == scope.district]
    if scope.unit is not None:
        return [_order.unit == scope.unit]
    return [false()]


def _view(row: Any, now: datetime) -> SupervisionOrderView:
    answered = row.answered_at is not None
    return SupervisionOrderView(
        order_id=row.id,
        ticket_id=row.ticket_id,
        district=row.district,
        unit=row.unit,
        addressee=row.addressee,
        ask=row.ask,
        due_at=row.due_at,
        how=row.how,
        issued_by=row.issued_by,
        issued_at=row.issued_at,
        status="answered" if answered else "open",
        overdue=not answered and now >= row.due_at,
        answer=row.answer,
        answered_by=row.answered_by,
        answered_at=row.answered_at,
    )


def supervision_orders(
    engine: Engine, scope: Visible, now: datetime, status: Status | None = None, limit: int = LIMIT
) -> list[SupervisionOrderView]:
    """The orders in `scope`: open ones by deadline, earliest (so the overdue) first, then the answered,
    latest answer first; at most `limit`."""
    query = _query().where(*_within(scope))
    if status == "open":
        query = query.where(_order.answered_at.is_(None)).order_by(_order.due_at, _order.id)
    elif status == "answered":
        query = query.where(_order.answered_at.is_not(None)).order_by(_order.answered_at.desc(), _order.id)
    else:
        query = query.order_by(_order.answered_at.is_not(None), _order.due_at, _order.id)
    with reading(engine) as connection:
        return [_view(row, now) for row in connection.execute(query.limit(limit))]


def orders_of_case(engine: Engine, ticket_id: str, now: datetime) -> list[SupervisionOrderView]:
    """The case's orders, in the order they were issued."""
    query = _query().where(_order.ticket_id == ticket_id).order_by(_order.issued_at, _order.id)
    with reading(engine) as connection:
        return [_view(row, now) for row in connection.execute(query)]


def supervision_order(engine: Engine, order_id: str, now: datetime) -> SupervisionOrderView | None:
    with reading(engine) as connection:
        row = connection.execute(_query().where(_order.id == order_id)).first()
    return _view(row, now) if row is not None else None
