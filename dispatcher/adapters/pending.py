"""What a transaction reads up front and the rows it writes at its end (see `SqlUnitOfWork.batch`).

A batch of commands asks the same questions many times: was this event applied, does this ticket exist,
what are this requester's open cases, what is this case. `Known` answers them for the whole batch with a
query each. New rows are gathered in `PendingWrites` and written with one statement per table.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier
from sqlalchemy import Connection, Dialect, Insert, Table, bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.types import TypeEngine

from dispatcher.adapters import tables as t
from dispatcher.adapters.callback_store import INSERT_CALLBACK, TallyMoves
from dispatcher.adapters.case_rows import read_cases
from dispatcher.adapters.database import PerDialect, with_lists
from dispatcher.adapters.timers import CANCEL, CANCEL_CO, INSERT_TIMER, REPLAN, UNPLAN
from dispatcher.domain.case import OPEN_STATES, Case
from dispatcher.domain.commands import InboundId
from dispatcher.service.unit_of_work import ConcurrencyError

# Built once: per-call `.values(...)` would recompute SQLAlchemy's cache key on every event.
INSERT_CASE = insert(t.cases)
INSERT_DEADLINE = insert(t.deadlines)
INSERT_ASSIGNMENT = insert(t.assignments)
INSERT_AUDIT = insert(t.audit)
INSERT_INBOX = insert(t.inbox)
INSERT_OUTBOX = insert(t.outbox)
UPDATE_CASE = (
    update(t.cases)
    .where(t.cases.c.ticket_id == bindparam("b_ticket_id"), t.cases.c.version == bindparam("b_version"))
    .values(version=bindparam("b_version") + 1)
)
# plain inserts: on PostgreSQL written with COPY (see `copy_rows`), on SQLite as the driver takes them
# (see `DriverInsert`)
COPIED = {
    INSERT_CASE,
    INSERT_DEADLINE,
    INSERT_ASSIGNMENT,
    INSERT_AUDIT,
    INSERT_INBOX,
    INSERT_OUTBOX,
    INSERT_TIMER,
    INSERT_CALLBACK,
}
_deadline = t.deadlines.c
MOVE_DEADLINE = (
    update(t.deadlines)
    .where(_deadline.ticket_id == bindparam("b_ticket_id"), _deadline.stage == bindparam("b_stage"))
    .values(due_at=bindparam("due_at"), how=bindparam("how"))
)
MARK_DEADLINE = (
    update(t.deadlines)
    .where(_deadline.ticket_id == bindparam("b_ticket_id"), _deadline.stage == bindparam("b_stage"))
    .values(status=bindparam("status"), fired_at=bindparam("fired_at"))
)
RETIRE_ASSIGNMENT = (
    update(t.assignments)
    .where(t.assignments.c.ticket_id == bindparam("b_ticket_id"), t.assignments.c.current.is_(True))
    .values(current=False)
)
UPDATE_CO_HANDLERS = (
    update(t.assignments)
    .where(t.assignments.c.ticket_id == bindparam("b_ticket_id"), t.assignments.c.current.is_(True))
    .values(co_handlers=bindparam("co_handlers"))
)

OPEN_CASES_OF = with_lists(
    lambda among: select(
        t.cases.c.requester_phone,
        t.cases.c.ticket_id,
        t.cases.c.category,
        t.cases.c.community,
        t.cases.c.street,
        t.cases.c.received_at,
    ).where(among(t.cases.c.requester_phone, "phones"), t.cases.c.state.in_([s.value for s in OPEN_STATES]))
)
# Sources and ids apart (then paired in Python): PostgreSQL plans a list of 200 (source, id) pairs
# twenty times slower than a list of ids.
APPLIED_AMONG = with_lists(
    lambda among: select(t.inbox.c.source, t.inbox.c.event_id).where(
        among(t.inbox.c.source, "sources"), among(t.inbox.c.event_id, "ids")
    )
)
EXISTING_AMONG = with_lists(
    lambda among: select(t.cases.c.ticket_id).where(among(t.cases.c.ticket_id, "tickets"))
)


def copy_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """New rows into a PostgreSQL table with COPY: one stream, not a statement per row. Each value goes
    through its column type's bind processing, as an INSERT would send it; a column a row leaves out
    takes its default."""
    dialect = connection.dialect
    cursor = connection.connection.cursor()
    for columns, same in by_columns(rows).items():
        command = SQL("COPY {} ({}) FROM STDIN").format(
            Identifier(table.name), SQL(", ").join(Identifier(name) for name in columns)
        )
        values = [column_values(same, name, copy_processor(table.c[name].type, dialect)) for name in columns]
        try:
            with cursor.copy(command) as stream:
                for row in zip(*values, strict=True):
                    stream.write_row(row)
        except psycopg.Error as error:
            # raised as SQLAlchemy raises an INSERT's: IntegrityError, DataError...
            raise DBAPIError.instance(f"COPY {table.name}", None, error, psycopg.Error) from error


def by_columns(rows: list[dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """The rows by the columns they give, in the order each set of columns first comes."""
    grouped: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(tuple(row), []).append(row)
    return grouped


def copy_processor(kind: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's bind processing on the dialect: a `UtcDateTime`'s is `t.utc_or_none` where the
    dialect's own time type takes the time as it is (PostgreSQL's), called without SQLAlchemy's wrapping."""
    if isinstance(kind, t.UtcDateTime) and kind.impl_instance.bind_processor(dialect) is None:
        return t.utc_or_none
    return kind.bind_processor(dialect)


def column_values(rows: list[dict[str, Any]], name: str, process: Callable[[Any], Any] | None) -> list[Any]:
    """One column's values, as processed for the database."""
    given = [row[name] for row in rows]
    return given if process is None else list(map(process, given))


def sqlite_time(value: datetime) -> str:
    """A time as SQLAlchemy's SQLite `DateTime` stores a `UtcDateTime`'s: in UTC, to the microsecond,
    without its zone ("2026-12-03 04:05:06.000007", the ISO form's first 26 characters)."""
    return t.in_utc(value).isoformat(" ", "microseconds")[:26]


@dataclass(frozen=True)
class DriverInsert:
    """A plain insert compiled once for SQLite and the columns its rows give, for an `executemany` of rows
    as the driver takes them. `connection.execute` compiles (or finds in its cache) and builds each
    row's parameters anew; this only processes each value as its column's type does (the times with
    `sqlite_time`, each distinct time once)."""

    sql: str
    # in the statement's order: (name, its type's processing if any, whether it is a `UtcDateTime`)
    columns: tuple[tuple[str, Callable[[Any], Any] | None, bool], ...]

    @classmethod
    def of(cls, statement: Insert, dialect: Dialect, names: tuple[str, ...]) -> DriverInsert | None:
        """None for what `connection.execute` must write itself: another database than SQLite, an insert
        with defaults computed in Python, or one whose parameters are not its columns."""
        by_dialect = _DRIVER_INSERTS.setdefault(dialect, {})
        key = (statement, names)
        if key not in by_dialect:
            compiled = statement.compile(dialect=dialect, column_keys=list(names), for_executemany=True)
            order = compiled.positiontup or []
            table = statement.table
            plain = (
                isinstance(table, Table) and not compiled.insert_prefetch and sorted(order) == sorted(names)
            )
            if dialect.name != "sqlite" or not plain:
                by_dialect[key] = None
            else:
                columns: list[tuple[str, Callable[[Any], Any] | None, bool]] = []
                for name in order:
                    kind = table.c[name].type
                    if isinstance(kind, t.UtcDateTime):
                        columns.append((name, sqlite_time, True))
                    else:
                        columns.append((name, kind.dialect_impl(dialect).bind_processor(dialect), False))
                by_dialect[key] = cls(compiled.string, tuple(columns))
        return by_dialect[key]

    def write(self, connection: Connection, rows: list[dict[str, Any]], times: dict[datetime, str]) -> None:
        """The rows with one `executemany`; `times` holds the times converted so far. A row without one of
        the columns, or a value its type refuses, raises a `StatementError`, as `connection.execute` does."""
        try:
            values = list(zip(*[self._column(rows, *column, times) for column in self.columns], strict=True))
        except Exception as error:
            raise StatementError(f"({error.__class__.__name__}) {error}", self.sql, None, error) from error
        connection.exec_driver_sql(self.sql, values)

    @staticmethod
    def _column(
        rows: list[dict[str, Any]],
        name: str,
        process: Callable[[Any], Any] | None,
        of_times: bool,
        times: dict[datetime, str],
    ) -> list[Any]:
        if not of_times:
            return column_values(rows, name, process)
        stored = []
        for value in (row[name] for row in rows):
            # a time with fold=1 (the second of a clock's two readings when it goes back) compares equal to
            # the first: converted apart
            if value is None or value.fold:
                stored.append(None if value is None else sqlite_time(value))
            elif value in times:
                stored.append(times[value])
            else:
                stored.append(times.setdefault(value, sqlite_time(value)))
        return stored


_DRIVER_INSERTS: weakref.WeakKeyDictionary[
    Dialect, dict[tuple[Insert, tuple[str, ...]], DriverInsert | None]
] = weakref.WeakKeyDictionary()


def insert_rows(
    connection: Connection, statement: Insert, rows: list[dict[str, Any]], times: dict[datetime, str]
) -> None:
    """New rows into a SQLite table with one `executemany` of the statement compiled once, its columns the
    first row's, as `connection.execute` takes them (see `DriverInsert`)."""
    driver = DriverInsert.of(statement, connection.dialect, tuple(rows[0]))
    if driver is None:
        connection.execute(statement, rows)
    else:
        driver.write(connection, rows, times)


@dataclass(frozen=True)
class Candidate:
    """An open case a new request from the same phone may repeat."""

    ticket_id: str
    category: str | None
    community: str | None
    street: str | None
    received_at: datetime


@dataclass
class Known:
    """What a batch read up front: which of its inbound events were applied before, which of its new
    tickets already have a case, its requesters' open cases, and the cases its commands act on (each
    handed out once: a second command on the same case reads it again, as the first one left it). A
    question about anything else goes to the database."""

    inbound: set[tuple[str, str]] = field(default_factory=set)
    applied: set[tuple[str, str]] = field(default_factory=set)
    tickets: set[str] = field(default_factory=set)
    existing: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    open_cases: dict[str, list[Candidate]] = field(default_factory=dict)  # by requester phone
    cases: dict[str, Case] = field(default_factory=dict)  # read for the batch, not handed out yet

    @classmethod
    def read(
        cls,
        connection: Connection,
        inbound: Iterable[InboundId],
        new_tickets: Iterable[str],
        phones: Iterable[str] = (),
        acted_on: Iterable[str] = (),
    ) -> Known:
        known = cls({(event.source, event.id) for event in inbound}, set(), set(new_tickets))
        known.phones = set(phones)
        if known.phones:
            for row in connection.execute(OPEN_CASES_OF.on(connection), {"phones": sorted(known.phones)}):
                known.open_cases.setdefault(row.requester_phone, []).append(Candidate(*row[1:]))
        if known.inbound:
            sources = sorted({source for source, _ in known.inbound})
            ids = sorted({event_id for _, event_id in known.inbound})
            rows = connection.execute(APPLIED_AMONG.on(connection), {"sources": sources, "ids": ids})
            known.applied = {(row.source, row.event_id) for row in rows} & known.inbound
        if known.tickets:
            rows = connection.execute(EXISTING_AMONG.on(connection), {"tickets": sorted(known.tickets)})
            known.existing = set(rows.scalars())
        acted_on = sorted(set(acted_on))
        if acted_on:
            known.cases = {case.ticket_id: case for case in read_cases(connection, acted_on)}
        return known


class PendingWrites:
    """Changed cases and new rows gathered over a transaction and written at its end with one statement
    per table, in an order that keeps foreign keys and the outbox's publishing order, and the moves of the
    units' tallies (`TallyMoves`). A read that needs rows still here (a case read back, a repeat of a new
    one) writes them first: see `SqlCaseRepository`."""

    ORDER = (
        INSERT_CASE,
        INSERT_DEADLINE,
        MOVE_DEADLINE,
        MARK_DEADLINE,  # after the insert: a stage can be added and met by the same command
        RETIRE_ASSIGNMENT,
        INSERT_ASSIGNMENT,  # after the retirement: the new one is current
        UPDATE_CO_HANDLERS,  # units called in (吹哨) on the current assignment
        INSERT_TIMER,
        UNPLAN,
        REPLAN,
        CANCEL,  # after the planning: a stage can be re-planned and done by the same command
        CANCEL_CO,  # a called unit's stage: planned and done by the same transaction, cancelled
        INSERT_CALLBACK,
        INSERT_AUDIT,
        INSERT_INBOX,
        INSERT_OUTBOX,
    )

    def __init__(self, known: Known | None = None) -> None:
        self.rows: dict[Any, list[dict[str, Any]]] = {statement: [] for statement in self.ORDER}
        self.updates: list[dict[str, Any]] = []  # changed cases: `UPDATE_CASE` rows
        self.cases: dict[str, Case] = {}  # new cases not written yet
        self.tickets: set[str] = set()  # the cases with rows not written yet
        self.inbound: set[tuple[str, str]] = set()
        self.tallies = TallyMoves()
        self.scores_due: dict[tuple[str, str], tuple[datetime, bool]] = {}  # (unit, month): (at, final)
        self.known = known or Known()

    def add(self, statement: Any, rows: list[dict[str, Any]] | dict[str, Any]) -> None:
        rows = [rows] if isinstance(rows, dict) else rows
        self.rows[statement].extend(rows)
        for row in rows:
            ticket = row.get("ticket_id") or row.get("b_ticket_id")
            if ticket is not None:
                self.tickets.add(ticket)

    def update(self, rows: list[dict[str, Any]]) -> None:
        """Changed cases, each written only if its version is still `b_version` (else the write raises
        `ConcurrencyError`)."""
        self.updates.extend(rows)
        self.tickets.update(row["b_ticket_id"] for row in rows)

    def waiting(self, tickets: Iterable[str]) -> bool:
        """Whether any of these cases has rows not written yet."""
        return not self.tickets.isdisjoint(tickets)

    def write(self, connection: Connection) -> None:
        copy = connection.dialect.name == "postgresql"
        times: dict[datetime, str] = {}  # on SQLite: each distinct time converted once (`DriverInsert`)
        if self.updates:
            rows = sorted(self.updates, key=lambda row: str(row["b_ticket_id"]))  # one locking order
            updated = connection.execute(UPDATE_CASE, rows).rowcount
            if updated != len(self.updates):
                stale = ", ".join(sorted({row["b_ticket_id"] for row in self.updates}))
                raise ConcurrencyError(f"case {stale} was changed by another action; reload and retry")
            self.updates.clear()
        for statement, rows in self.rows.items():
            if not rows:
                continue
            if statement in COPIED:
                if copy:
                    copy_rows(connection, statement.table, rows)
                else:
                    insert_rows(connection, statement, rows, times)
            else:
                connection.execute(
                    statement.on(connection) if isinstance(statement, PerDialect) else statement, rows
                )
            rows.clear()
        self.tallies.write(connection)
        self.cases.clear()
        self.tickets.clear()
        self.inbound.clear()
