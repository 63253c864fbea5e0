"""What the case lists share: the row of a case with its current assignment, the conditions that keep the
cases a caller may see (`Visible`), the states, and a list line (`CaseSummary`) made from a row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    RowMapping,
    Text,
    and_,
    cast,
    false,
    literal_column,
    or_,
    select,
)

from dispatcher.adapters import tables as t
from dispatcher.adapters.case_rows import assignment_of, case_of
from dispatcher.adapters.database import among, reading, stored_forms
from dispatcher.domain.access import Visible
from dispatcher.domain.case import Case, CaseState
from dispatcher.domain.pause import PauseStatus
from dispatcher.domain.privacy import redact
from dispatcher.domain.states import AT_A_UNIT, DONE, values_of
from dispatcher.reads import views as v
from dispatcher.reads.paging import Keyset, Page, after, moment, text
from rules.complaint import Location

K, A = t.cases.c, t.assignments.c
NOT_DONE = values_of(set(CaseState) - DONE)  # an IN list uses the index
OPEN = values_of(AT_A_UNIT)  # at a unit, not yet resolved: what a worker's inbox holds
CASES_AND_ASSIGNMENTS = t.cases.outerjoin(
    t.assignments, and_(A.ticket_id == K.ticket_id, A.current.is_(True))
)
# What a list line (`line_of`) and its badges read of a case: not the case whole.
LINE = (
    K.ticket_id,
    K.state,
    K.urgency,
    K.category,
    K.queue,
    K.description,
    K.location,
    K.requester,
    K.dispatched_at,
    K.reply_due,
    K.district,
    K.street,
    K.community,
    K.round,
    A.unit,
    A.co_handlers.label("assigned_co_handlers"),
)
# The current assignment's columns, under the names `case_of` reads; the assignment's co-handlers under
# their own name, since `cases` has a `co_handlers` column of its own (their acknowledgements and reports).
CASE_WITH_ASSIGNMENT = select(
    t.cases,
    A.unit,
    A.post,
    A.person,
    A.rule,
    A.catalog_version,
    A.reason,
    A.co_handlers.label("assigned_co_handlers"),
).select_from(CASES_AND_ASSIGNMENTS)
# Oldest dispatch first: `/api/cases` and the queues. Newest first: the search.
BY_DISPATCH = (K.dispatched_at, K.ticket_id)
DISPATCH_KEY = (moment, text)
# An assignment with co-handlers: the JSON list is not empty (the partial index ix_assignments_co_handled
# holds only those, and this is its condition word for word).
CO_HANDLED = cast(A.co_handlers, Text) != literal_column("'[]'")


def keyset(order: str) -> Keyset:
    return Keyset(order, DISPATCH_KEY)


def co_handled(connection: Connection, unit: str) -> list[str]:
    """The cases whose current assignment has `unit` among its co-handlers: read alone, on the partial index
    `ix_assignments_co_handled` (the few assignments with co-handlers, their list in the index), so that a
    unit's lists can then be read on `ix_assignments_unit_current` or these tickets."""
    stored = cast(A.co_handlers, Text)  # a JSON list of unit ids: the unit's JSON string, quotes included
    query = select(A.ticket_id).where(
        CO_HANDLED,
        A.current.is_(True),
        or_(*(stored.contains(form, autoescape=True) for form in stored_forms(unit))),
    )
    return list(connection.execute(query).scalars())


def visible(connection: Connection, scope: Visible) -> list[ColumnElement[bool]]:
    """The conditions that keep only the cases in `scope`, on the current assignment (`A`): a unit's
    (at its post), and those it co-handles; a district's; or all."""
    if scope.everything:
        return []
    if scope.district is not None:
        return [K.district == scope.district]
    if scope.unit is None:
        return [false()]
    lead = A.unit == scope.unit
    if scope.post is not None:
        lead = and_(lead, A.post == scope.post)
    helped = co_handled(connection, scope.unit)
    return [or_(lead, among(connection, A.ticket_id, helped))] if helped else [lead]


def visible_among(connection: Connection, scope: Visible) -> list[ColumnElement[bool]]:
    """As `visible`, for a list of open cases: a unit's by the case's own `lead_unit` (their state too on
    `ix_cases_lead_unit_state`: the unit's open cases, not every open case of the city checked against
    the unit's assignments), at its post by its current assignment, and those it co-handles."""
    if scope.unit is None:
        return visible(connection, scope)
    lead = K.lead_unit == scope.unit
    if scope.post is not None:
        at_post = select(A.ticket_id).where(A.unit == scope.unit, A.post == scope.post, A.current.is_(True))
        lead = and_(lead, K.ticket_id.in_(at_post))
    helped = co_handled(connection, scope.unit)
    return [or_(lead, among(connection, K.ticket_id, helped))] if helped else [lead]


def has(column: ColumnElement[Any]) -> ColumnElement[bool]:
    """A JSON column holds a value: neither SQL NULL nor JSON `null` (what `None` is stored as)."""
    return and_(column.is_not(None), cast(column, Text) != literal_column("'null'"))


def is_overdue(now: datetime) -> ColumnElement[bool]:
    """The reply deadline has passed and the case is not resolved, closed or paused (挂起: its clock
    stands still)."""
    not_paused = or_(K.paused.is_(None), K.paused != PauseStatus.PAUSED.value)
    return and_(K.reply_due.is_not(None), K.reply_due < now, K.state.in_(NOT_DONE), not_paused)


def case_from(row: RowMapping) -> Case:
    case = case_of(row, None)
    if row["unit"] is not None:
        case.assignment = assignment_of({**row, "co_handlers": row["assigned_co_handlers"]})
    return case


def line_of(row: RowMapping, now: datetime, redacted: bool = False) -> v.CaseSummary:
    """A list line from a row of the `LINE` columns; `redacted` for a unit's eyes: numbers and the
    requester's name masked in the text."""
    requester, due, state = row["requester"], row["reply_due"], CaseState(row["state"])
    description = row["description"]
    if redacted:
        description = redact(description, requester.get("name"), requester.get("confidential", False))
    return v.CaseSummary(
        ticket_id=row["ticket_id"],
        state=state,
        urgency=row["urgency"],
        category=row["category"],
        queue=row["queue"],
        unit=row["unit"],
        description=description,
        location=v.LocationView(**asdict(Location(**row["location"]))),
        dispatched_at=row["dispatched_at"],
        reply_due=due,
        overdue=due is not None and due < now and state not in DONE,
    )


def line_page(
    engine: Engine,
    keys: Keyset,
    where: Sequence[ColumnElement[bool]],
    scope: Visible,
    limit: int,
    cursor: str | None,
    *extra: ColumnElement[Any],
    newest_first: bool = False,
    by_assignment: bool = False,
) -> Page[RowMapping]:
    """A page of the cases in `scope` meeting `where` (on the current assignment too if `by_assignment`),
    by dispatch (oldest first, or newest), from `cursor` (`CursorError` if it is not a cursor of `keys`):
    the rows of their `LINE` columns (a list line: `line_of`) and `extra`.

    Read in two statements: the page's tickets (narrow rows on the lists' indexes, joined with the
    assignments only when the scope or a condition is on them), then those rows, by primary key. One
    statement would leave the planner to weigh the wide join against the order and limit, and a
    misestimate there walks the whole table."""
    with reading(engine) as connection:
        found = _page_tickets(connection, keys, where, scope, limit, cursor, newest_first, by_assignment)
        rows = lines_of(connection, found, *extra)
    return keys.page(rows, limit, lambda row: (row["dispatched_at"], row["ticket_id"]))


def _page_tickets(
    connection: Connection,
    keys: Keyset,
    where: Sequence[ColumnElement[bool]],
    scope: Visible,
    limit: int,
    cursor: str | None,
    newest_first: bool,
    by_assignment: bool,
) -> list[str]:
    """The tickets of `line_page`'s page and of the one row after it."""
    key = keys.decode(cursor)
    conditions = [*where] if key is None else [*where, after(BY_DISPATCH, key, descending=newest_first)]
    order = [column.desc() for column in BY_DISPATCH] if newest_first else list(BY_DISPATCH)
    joined = by_assignment or scope.unit is not None
    tickets = (
        select(K.ticket_id)
        .select_from(CASES_AND_ASSIGNMENTS if joined else t.cases)
        .where(*conditions, *visible(connection, scope))
        .order_by(*order)
        .limit(limit + 1)
    )
    return list(connection.execute(tickets).scalars())


def whole(connection: Connection, tickets: Sequence[str], *extra: ColumnElement[Any]) -> list[Case]:
    """These cases with their current assignment, in the order of `tickets`."""
    rows = rows_of(connection, tickets, *extra)
    return [case_from(row) for row in rows]


def rows_of(connection: Connection, tickets: Sequence[str], *extra: ColumnElement[Any]) -> list[RowMapping]:
    """The rows of `CASE_WITH_ASSIGNMENT` (with `extra` columns) of these cases, in the order of `tickets`."""
    if not tickets:
        return []
    query = CASE_WITH_ASSIGNMENT.add_columns(*extra).where(among(connection, K.ticket_id, tickets))
    by_ticket = {row["ticket_id"]: row for row in connection.execute(query).mappings()}
    return [by_ticket[ticket] for ticket in tickets if ticket in by_ticket]


def lines_of(connection: Connection, tickets: Sequence[str], *extra: ColumnElement[Any]) -> list[RowMapping]:
    """The `LINE` columns (and `extra`) of these cases, in the order of `tickets`."""
    if not tickets:
        return []
    query = (
        select(*LINE, *extra)
        .select_from(CASES_AND_ASSIGNMENTS)
        .where(among(connection, K.ticket_id, tickets))
    )
    by_ticket = {row["ticket_id"]: row for row in connection.execute(query).mappings()}
    return [by_ticket[ticket] for ticket in tickets if ticket in by_ticket]


def lines(page: Page[RowMapping], now: datetime, scope: Visible) -> Page[v.CaseSummary]:
    """The lines of a `line_page`; a unit reads the text redacted."""
    return page.map(lambda row: line_of(row, now, redacted=scope.unit is not None))
