"""SLA timers in the database: stored as the domain plans them (`domain.timer_plan`) when a deadline is
set, cancelled when its stage is done or the deadline changes (rows and statements for the case
repository's writes), found when due and claimed for the sweeper, which fires them a group per transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import insert_on_conflict
from dispatcher.domain.timer_plan import CoTimer, NextStep, PlannedTimer

PENDING, FIRED, CANCELLED = "pending", "fired", "cancelled"

_timer = t.sla_timers.c
# by primary key only: with the status in the query SQLite would walk the (status, due_at) index instead
CLAIM = select(
    _timer.id,
    _timer.ticket_id,
    _timer.stage,
    _timer.kind,
    _timer.level,
    _timer.deadline,
    _timer.target,
    _timer.unit,
    _timer.status,
).where(_timer.id.in_(bindparam("ids", expanding=True)))
CLAIM_POSTGRES = CLAIM.with_for_update(skip_locked=True)
MARK = (
    update(t.sla_timers)
    .where(_timer.id == bindparam("timer_id"))
    .values(status=bindparam("outcome"), fired_at=bindparam("at"))
)


INSERT_TIMER = insert(t.sla_timers)
# Re-planning a stored case's stage: what had not fired is deleted, then the stage's timers inserted
# afresh (one that fired stays: its twin is skipped). Rows per (ticket, stage), for `executemany`.
UNPLAN = delete(t.sla_timers).where(
    _timer.ticket_id == bindparam("b_ticket_id"),
    _timer.stage == bindparam("b_stage"),
    _timer.status != FIRED,
)
REPLAN = insert_on_conflict(t.sla_timers, "ON CONFLICT DO NOTHING")
CANCEL = (
    update(t.sla_timers)
    .where(
        _timer.ticket_id == bindparam("b_ticket_id"),
        _timer.stage == bindparam("b_stage"),
        _timer.status == PENDING,
    )
    .values(status=CANCELLED)
)


# A called unit's stage done, waived or dropped: its pending timers are cancelled.
CANCEL_CO = (
    update(t.sla_timers)
    .where(
        _timer.ticket_id == bindparam("b_ticket_id"),
        _timer.stage == bindparam("b_stage"),
        _timer.unit == bindparam("b_unit"),
        _timer.status == PENDING,
    )
    .values(status=CANCELLED)
)


def co_timer_rows(ticket_id: str, timers: Iterable[CoTimer]) -> list[dict[str, object]]:
    """The rows of a case's called units' planned timers, pending."""
    return [{**row, "unit": co.unit} for co in timers for row in timer_rows(ticket_id, [co.timer])]


def timer_rows(ticket_id: str, timers: Iterable[PlannedTimer]) -> list[dict[str, object]]:
    """The rows of a case's planned timers, pending."""
    return [
        {
            "ticket_id": ticket_id,
            "stage": timer.stage,
            "kind": timer.kind,
            "level": timer.level,
            "due_at": timer.due_at,
            "deadline": timer.deadline,
            "target": timer.target,
            "status": PENDING,
            "unit": "",
        }
        for timer in timers
    ]


@dataclass(frozen=True)
class TimerRow:
    id: int
    ticket_id: str
    stage: str
    kind: str
    level: int
    deadline: datetime
    target: str
    unit: str = ""  # a called unit's timer: that unit


class SqlTimers:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def claim(self, timer_ids: Sequence[int]) -> list[TimerRow]:
        """Those of the timers still pending, locked for this transaction, in the order asked (one that
        another sweeper has locked, or that fired or was cancelled, is left out)."""
        query = CLAIM_POSTGRES if self._connection.dialect.name == "postgresql" else CLAIM
        rows = self._connection.execute(query, {"ids": list(timer_ids)}).all()
        by_id = {row.id: TimerRow(*row[:-1]) for row in rows if row.status == PENDING}
        return [by_id[timer_id] for timer_id in timer_ids if timer_id in by_id]

    def mark(self, outcomes: Sequence[tuple[int, str]], at: datetime) -> None:
        if outcomes:
            rows = [{"timer_id": timer_id, "outcome": status, "at": at} for timer_id, status in outcomes]
            self._connection.execute(MARK, rows)

    def plan_next(self, steps: Sequence[NextStep]) -> None:
        """The ladders' next steps, pending; one a replan already stored (its twin) is skipped."""
        if steps:
            rows = [{**timer_rows(step.ticket_id, [step.timer])[0], "unit": step.unit} for step in steps]
            self._connection.execute(REPLAN, rows)


def due_timers(engine: Engine, now: datetime, limit: int) -> list[int]:
    """Ids of pending timers due by `now`, oldest first (the sweeper fires each in its own transaction)."""
    query = (
        select(t.sla_timers.c.id)
        .where(t.sla_timers.c.status == PENDING, t.sla_timers.c.due_at <= now)
        .order_by(t.sla_timers.c.due_at, t.sla_timers.c.id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())
