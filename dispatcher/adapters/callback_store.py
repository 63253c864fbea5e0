"""Callbacks and appeals in the database, and the tallies the three rates are computed from.

A callback counts if it is the latest of its case and round (`current`), the domain counted it when it was
recorded (`Case.counts`), and neither a termination nor an accepted appeal took it out since: each row's
`counted` says so, kept up to date by the transactions that change one of these (a new callback, a
termination, an appeal decision). The same
transactions move the tally of the unit's month in `unit_month_scores` by the callback's counts, so the
live scores and the monthly ranking read a row per unit; `tallies_in()` recomputes them from the callbacks
themselves, and `recount()` rebuilds a month's tallies from it.

New callbacks and the moves of the tallies wait in the transaction's `PendingWrites` and are written with
one statement each when it ends (or before a read that needs them): a batch of callbacks costs a few
statements, not a few per callback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    bindparam,
    case,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import insert_on_conflict
from dispatcher.domain.callbacks import Appeal, AppealedCallback, AppealStatus, Callback
from dispatcher.domain.case import Case
from dispatcher.domain.scores import Tally, month_of

c = t.callbacks.c
COUNTED = c.counted.is_(True)


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


TALLY_COLUMNS = (
    func.count().label("valid"),
    _count(c.contacted.is_(True)).label("contacted"),
    _count(c.resolved.is_(True)).label("resolved"),
    _count(c.satisfaction == "satisfied").label("satisfied"),
    _count(c.satisfaction == "basically_satisfied").label("basically_satisfied"),
)
COUNTED_FROM = t.callbacks


# Built once: a statement built per call recomputes SQLAlchemy's cache key every time.
SUPERSEDE = (
    update(t.callbacks)
    .where(c.ticket_id == bindparam("ticket"), c.round == bindparam("in_round"), c.current.is_(True))
    .values(current=False, counted=False)
)
INSERT_CALLBACK = insert(t.callbacks)
UNCOUNT = update(t.callbacks).where(c.id == bindparam("b_id")).values(counted=False)
CLASS_OF = select(c.unit_class).where(c.month == bindparam("month"), c.unit == bindparam("unit")).limit(1)
MONTHS_OF = (
    select(c.unit, c.month).where(c.ticket_id == bindparam("ticket")).distinct().order_by(c.unit, c.month)
)
MONTHS_OF_ROUND = MONTHS_OF.where(c.round == bindparam("in_round"))


COUNTED_ROWS = select(c.id, c.unit, c.month, c.unit_class, c.contacted, c.resolved, c.satisfaction).where(
    c.counted.is_(True)
)
S = t.unit_month_scores.c
SCORE_ROWS = select(t.unit_month_scores).where(
    tuple_(S.month, S.unit).in_(bindparam("pairs", expanding=True))
)
COUNTS = ("valid", "contacted", "resolved", "satisfied", "basically_satisfied")


# a row's counts added to the unit's tally for the month (a first row creates it)
MOVE_TALLY = insert_on_conflict(
    t.unit_month_scores,
    "ON CONFLICT (month, unit) DO UPDATE SET "
    + ", ".join(f"{name} = unit_month_scores.{name} + excluded.{name}" for name in COUNTS)
    + ", unit_class = excluded.unit_class",
)


class TallyMoves:
    """Moves of the units' monthly tallies not written yet, summed per unit and month; written with one
    statement, in (month, unit) order so that concurrent writers lock the rows in the same order."""

    def __init__(self) -> None:
        self._moves: dict[tuple[str, str], dict[str, Any]] = {}

    def add(self, month: str, unit: str, unit_class: str, counts: Mapping[str, int]) -> None:
        zero: dict[str, Any] = {"month": month, "unit": unit, **dict.fromkeys(COUNTS, 0)}
        row = self._moves.setdefault((month, unit), zero)
        row["unit_class"] = unit_class
        for name, count in counts.items():
            row[name] += count

    def write(self, connection: Connection) -> None:
        if self._moves:
            rows = [self._moves[key] for key in sorted(self._moves)]
            connection.execute(MOVE_TALLY, rows)
            self._moves.clear()


class Waiting(Protocol):
    """What `SqlCallbacks` needs of the rows its transaction writes at its end (`pending.PendingWrites`,
    which imports this module for `INSERT_CALLBACK` and `TallyMoves`)."""

    tallies: TallyMoves

    def add(self, statement: Any, rows: list[dict[str, Any]] | dict[str, Any]) -> None: ...

    def write(self, connection: Connection) -> None: ...


def tally_of(row: Any) -> Tally:
    return Tally(
        int(row.valid),
        int(row.contacted),
        int(row.resolved),
        int(row.satisfied),
        int(row.basically_satisfied),
    )


class SqlCallbacks:
    """The callbacks port of the unit of work."""

    def __init__(self, connection: Connection, pending: Waiting) -> None:
        self._connection = connection
        self._pending = pending

    def record(
        self, case: Case, callback: Callback, unit_class: str, at: datetime, replaces: bool, counted: bool
    ) -> list[tuple[str, str]]:
        """Store the callback as the latest of its case and round, in its unit's tally if it is `counted`;
        if it `replaces` an earlier one of the round, that one no longer counts. Returns the (unit, month)
        tallies it moved."""
        assert case.assignment is not None
        month = month_of(callback.recorded_at)
        moved = {(case.assignment.unit, month)}
        if replaces:  # `months_of` writes what waits first, so the query sees it
            moved.update(self.months_of(case.ticket_id, callback.round))
            self._uncount(COUNTED_ROWS.where(c.ticket_id == case.ticket_id, c.round == callback.round))
            self._connection.execute(SUPERSEDE, {"ticket": case.ticket_id, "in_round": callback.round})
        row = {
            "ticket_id": case.ticket_id,
            "round": callback.round,
            "recorded_at": callback.recorded_at,
            "month": month,
            "contacted": callback.contacted,
            "resolved": callback.resolved,
            "satisfaction": callback.satisfaction.value,
            "valid": callback.valid,
            "comment": callback.comment,
            "unit": case.assignment.unit,
            "post": case.assignment.post,
            "person": case.assignment.person,
            "unit_class": unit_class,
            "current": True,
            "counted": counted,
            "received_at": at,
        }
        self._pending.add(INSERT_CALLBACK, row)
        if row["counted"]:
            counts = Tally.of(callback.contacted, callback.resolved, callback.satisfaction.value)
            self._pending.tallies.add(month, case.assignment.unit, unit_class, vars(counts))
        return sorted(moved)

    def standing(self, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[str, Tally]]:
        """The class and the tally of each of these (unit, month), as this transaction leaves them."""
        self._pending.tallies.write(self._connection)
        wanted = sorted(set(wanted))
        pairs = [(month, unit) for unit, month in wanted]
        found = {
            (row.unit, row.month): (row.unit_class, tally_of(row))
            for row in self._connection.execute(SCORE_ROWS, {"pairs": pairs})
        }
        for unit, month in wanted:
            if (unit, month) not in found:  # none counts: the class of any of its callbacks
                unit_class = self._connection.execute(CLASS_OF, {"month": month, "unit": unit}).scalar()
                found[(unit, month)] = (unit_class or "default", Tally())
        return found

    def terminated(self, ticket_id: str) -> None:
        """The case was terminated: none of its callbacks counts any more."""
        self._uncount(COUNTED_ROWS.where(c.ticket_id == ticket_id))

    def recount(self, month: str) -> None:
        """Rebuild the month's tallies from the callbacks themselves."""
        self._flush()
        self._connection.execute(t.unit_month_scores.delete().where(S.month == month))
        for found in tallies_in(self._connection, months=[month]):
            self._pending.tallies.add(month, found.key, found.unit_class, vars(found.tally))
        self._pending.tallies.write(self._connection)

    def _flush(self) -> None:
        """Write what waits in the transaction, for a query of the callbacks to see it."""
        self._pending.write(self._connection)

    def _uncount(self, rows: Select[Any]) -> None:
        """These callbacks no longer count: out of their units' tallies."""
        self._flush()
        found = self._connection.execute(rows).all()
        for row in found:
            counts = vars(Tally.of(row.contacted, row.resolved, row.satisfaction))
            negative = {name: -count for name, count in counts.items()}
            self._pending.tallies.add(row.month, row.unit, row.unit_class, negative)
        if found:
            self._connection.execute(UNCOUNT, [{"b_id": row.id} for row in found])

    def mark_final(self, month: str, at: datetime) -> bool:
        """Record that the month's final scores are published; False if they already were."""
        dialect = postgresql if self._connection.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(t.final_months).on_conflict_do_nothing().returning(t.final_months.c.month)
        return self._connection.execute(statement, {"month": month, "published_at": at}).first() is not None

    def is_final(self, month: str) -> bool:
        query = select(t.final_months.c.month).where(t.final_months.c.month == month)
        return self._connection.execute(query).first() is not None

    def units_in(self, month: str) -> list[str]:
        """The units with a callback recorded in the month."""
        self._flush()
        query = select(c.unit).where(c.month == month).distinct().order_by(c.unit)
        return list(self._connection.execute(query).scalars())

    def months_of(self, ticket_id: str, round: int | None = None) -> list[tuple[str, str]]:
        """(unit, month) of every callback of a case (of one round): the scores a change to it moves."""
        self._flush()
        query = MONTHS_OF if round is None else MONTHS_OF_ROUND
        found = self._connection.execute(query, {"ticket": ticket_id, "in_round": round})
        return [(unit, month) for unit, month in found]

    def appealed_callback(self, callback_id: int) -> AppealedCallback | None:
        """The callback with the statuses of the appeals against it, oldest first; None if there is none."""
        self._flush()
        found = self._connection.execute(select(c.ticket_id, c.unit).where(c.id == callback_id)).first()
        if found is None:
            return None
        a = t.appeals.c
        query = select(a.status).where(a.callback_id == callback_id).order_by(a.id)
        appeals = tuple(AppealStatus(status) for status in self._connection.execute(query).scalars())
        return AppealedCallback(callback_id, found.ticket_id, found.unit, appeals)

    def add_appeal(self, callback: AppealedCallback, by: str, reason: str, at: datetime) -> int:
        """申诉: store a pending appeal of the unit against the callback; returns its id."""
        row = {
            "callback_id": callback.id,
            "ticket_id": callback.ticket_id,
            "unit": callback.unit,
            "by": by,
            "reason": reason,
            "filed_at": at,
            "status": AppealStatus.PENDING.value,
        }
        return int(self._connection.execute(insert(t.appeals).returning(t.appeals.c.id), row).scalar_one())

    def appeal(self, appeal_id: int) -> Appeal | None:
        """The appeal with the unit and month of its callback; None if there is none."""
        self._flush()
        query = (
            select(t.appeals.c.status, t.appeals.c.callback_id, c.unit, c.month)
            .join(t.callbacks, c.id == t.appeals.c.callback_id)
            .where(t.appeals.c.id == appeal_id)
        )
        found = self._connection.execute(query).first()
        if found is None:
            return None
        return Appeal(appeal_id, AppealStatus(found.status), found.callback_id, found.unit, found.month)

    def decide_appeal(self, appeal_id: int, status: AppealStatus, by: str, reason: str, at: datetime) -> None:
        """Store a supervisor's decision on an appeal."""
        self._connection.execute(
            update(t.appeals)
            .where(t.appeals.c.id == appeal_id)
            .values(status=status.value, decided_by=by, decided_at=at, decision_reason=reason)
        )

    def excluded(self, callback_id: int) -> None:
        """An appeal against the callback was accepted: it counts no more."""
        self._uncount(COUNTED_ROWS.where(c.id == callback_id))


@dataclass(frozen=True)
class GroupTally:
    key: str
    unit_class: str
    tally: Tally


GROUPS = {"unit": c.unit, "post": c.unit + ":" + c.post, "person": func.coalesce(c.person, "")}


def tallies_in(
    connection: Connection,
    *,
    months: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    unit: str | None = None,
    unit_class: str | None = None,
    group: str = "unit",
) -> list[GroupTally]:
    """Tallies of the counted callbacks per unit (or post, or person) over months or a time range,
    recomputed from the callbacks themselves."""
    key = GROUPS[group].label("key")
    query = select(key, func.max(c.unit_class).label("unit_class"), *TALLY_COLUMNS).select_from(COUNTED_FROM)
    query = query.where(COUNTED).group_by(key)
    if months is not None:
        query = query.where(c.month.in_(list(months)))
    if since is not None:
        query = query.where(c.recorded_at >= since)
    if until is not None:
        query = query.where(c.recorded_at < until)
    if unit is not None:
        query = query.where(c.unit == unit)
    if unit_class is not None:
        query = query.where(c.unit_class == unit_class)
    return [GroupTally(row.key, row.unit_class, tally_of(row)) for row in connection.execute(query)]
