"""SLA timers in the database: planned when a deadline is set, cancelled when its stage is done or the
deadline changes (rows and statements for the case repository's writes), found when due and claimed for
the sweeper, which fires them a group per transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Select, bindparam, delete, insert, literal_column, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import PerDialect
from dispatcher.domain.case import Case
from sla.ladder import Step, plan

CENTER = "center"
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
REPLAN = PerDialect(
    postgresql.insert(t.sla_timers).on_conflict_do_nothing(),
    sqlite.insert(t.sla_timers).on_conflict_do_nothing(),
)
CANCEL = (
    update(t.sla_timers)
    .where(
        _timer.ticket_id == bindparam("b_ticket_id"),
        _timer.stage == bindparam("b_stage"),
        _timer.status == PENDING,
    )
    .values(status=CANCELLED)
)


def timer_rows(case: Case, stages: Iterable[str]) -> list[dict[str, object]]:
    """The timers of these stages of the case, from its deadlines (none for a stage already met)."""
    return [
        {
            "ticket_id": case.ticket_id,
            "stage": timer.stage,
            "kind": timer.kind,
            "level": timer.level,
            "due_at": timer.due_at,
            "deadline": timer.deadline,
            "target": target_of(case, timer.step),
            "status": PENDING,
        }
        for stage in stages
        if stage in case.deadlines and stage not in case.met
        for timer in plan(stage, case.dispatched_at, case.deadlines[stage], case.urgency.value)
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


def target_of(case: Case, step: Step | None) -> str:
    unit = case.assignment.unit if case.assignment else CENTER
    if step is None:
        return f"{unit}:{case.assignment.post if case.assignment else 'desk'}"  # the handling post itself
    return f"{CENTER if step is Step.SUPERVISION_ORDER else unit}:{step.value}"


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


@dataclass(frozen=True)
class Escalation:
    ticket_id: str
    stage: str
    level: int
    target: str
    fired_at: datetime
    deadline: datetime
    unit: str | None
    state: str


OPEN = ("dispatched", "acknowledged", "contacted", "returned")


def escalations_query(
    level: int | None = None, unit: str | None = None, open_only: bool = True, district: str | None = None
) -> Select[Any]:
    """Escalation steps that fired, newest first, with the case's unit and state: `Escalation`'s columns,
    then the timer's id (the tie-break of the order)."""
    query = (
        select(
            _timer.ticket_id,
            _timer.stage,
            _timer.level,
            _timer.target,
            _timer.fired_at,
            _timer.deadline,
            t.assignments.c.unit,
            t.cases.c.state,
            _timer.id,
        )
        .join(t.cases, t.cases.c.ticket_id == _timer.ticket_id)
        .outerjoin(
            t.assignments,
            (t.assignments.c.ticket_id == _timer.ticket_id) & t.assignments.c.current.is_(True),
        )
        # the partial index ix_sla_timers_fired_escalations holds these rows only, by firing time
        .where(_timer.kind == literal_column("'escalation'"), _timer.status == literal_column(f"'{FIRED}'"))
        .order_by(_timer.fired_at.desc(), _timer.id.desc())
    )
    if level is not None:
        query = query.where(_timer.level == level)
    if unit is not None:
        query = query.where(t.assignments.c.unit == unit)
    if open_only:
        query = query.where(t.cases.c.state.in_(OPEN))
    if district is not None:
        query = query.where(t.cases.c.district == district)
    return query


def escalations(
    engine: Engine,
    level: int | None = None,
    unit: str | None = None,
    open_only: bool = True,
    limit: int = 500,
    district: str | None = None,
) -> list[Escalation]:
    """Escalation steps that fired, newest first: with the case's unit and state (open: not yet resolved)."""
    query = escalations_query(level, unit, open_only, district).limit(limit)
    with engine.connect() as connection:
        return [Escalation(*row[:-1]) for row in connection.execute(query).all()]
