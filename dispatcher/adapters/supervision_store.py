"""Supervision orders in the database: stored as the domain issues them, with their two SLA timers (the
sweeper fires them with the cases' timers); an answer written back once, its timers not yet fired
cancelled. Used by the SQL unit of work, in the transaction of the case the order is about."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from dispatcher.adapters import tables as t
from dispatcher.adapters.pending import PendingWrites
from dispatcher.adapters.timers import CANCEL, INSERT_TIMER, timer_rows
from dispatcher.domain.supervision import Addressee, SupervisionOrder
from dispatcher.service.unit_of_work import ConcurrencyError

_order = t.supervision_orders.c
INSERT_ORDER = insert(t.supervision_orders)
READ_ORDER = select(t.supervision_orders).where(_order.id == bindparam("order_id"))
ANSWER_ORDER = (
    update(t.supervision_orders)
    .where(_order.id == bindparam("b_id"), _order.answered_at.is_(None))
    .values(answer=bindparam("answer"), answered_by=bindparam("answered_by"), answered_at=bindparam("at"))
)


def order_values(order: SupervisionOrder) -> dict[str, Any]:
    return {
        "id": order.order_id,
        "ticket_id": order.ticket_id,
        "unit": order.unit,
        "addressee": order.addressee.value,
        "head_post": order.head_post,
        "ask": order.ask,
        "due_at": order.due_at,
        "how": order.how,
        "issued_by": order.issued_by,
        "issued_at": order.issued_at,
        "answer": order.answer,
        "answered_by": order.answered_by,
        "answered_at": order.answered_at,
    }


def order_of(row: Any) -> SupervisionOrder:
    return SupervisionOrder(
        row.id,
        row.ticket_id,
        row.unit,
        Addressee(row.addressee),
        row.head_post,
        row.ask,
        row.due_at,
        row.how,
        row.issued_by,
        row.issued_at,
        row.answer,
        row.answered_by,
        row.answered_at,
    )


class SqlSupervisionOrders:
    def __init__(self, connection: Connection, pending: PendingWrites) -> None:
        self._connection = connection
        self._pending = pending
        self._new: list[SupervisionOrder] = []
        self._read: dict[str, tuple[SupervisionOrder, bool]] = {}  # id -> (order, open when read)

    def add(self, order: SupervisionOrder) -> None:
        self._new.append(order)

    def get(self, order_id: str) -> SupervisionOrder | None:
        if order_id in self._read:
            return self._read[order_id][0]
        new = next((order for order in self._new if order.order_id == order_id), None)
        if new is not None:
            return new
        row = self._connection.execute(READ_ORDER, {"order_id": order_id}).first()
        if row is None:
            return None
        order = order_of(row)
        self._read[order_id] = (order, order.is_open)
        return order

    def save_all(self) -> None:
        """Insert the new orders (their timers with the transaction's other rows), write back the answers
        of those read open (`ConcurrencyError` if another transaction answered one first)."""
        if self._new:
            self._connection.execute(INSERT_ORDER, [order_values(order) for order in self._new])
            for order in self._new:
                self._pending.add(INSERT_TIMER, timer_rows(order.ticket_id, order.timers()))
        answered = [order for order, was_open in self._read.values() if was_open and not order.is_open]
        for order in answered:
            row = {"b_id": order.order_id, "answer": order.answer, "answered_by": order.answered_by}
            if self._connection.execute(ANSWER_ORDER, {**row, "at": order.answered_at}).rowcount != 1:
                raise ConcurrencyError(f"supervision order {order.order_id} was answered meanwhile")
            self._pending.add(CANCEL, {"b_ticket_id": order.ticket_id, "b_stage": order.order_id})
        self._new.clear()
        self._read.clear()
