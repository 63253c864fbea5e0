"""A worker's inbox: the open cases they may see (at a unit, not yet resolved), the nearest pending deadline
first, cases without one last; each with that deadline's stage and its badges (`badges`), a page at a time.

A unit's open cases are read by the unit each case carries (`cases.lead_unit`) and their state, on
`ix_cases_lead_unit_state`, with the cases the unit co-handles: every open case is there, and none of the
resolved ones the unit has behind it is read. The nearest deadline is a correlated subquery per case on
`ix_deadlines_ticket_status_due`, so the order is the database's; the page's tickets are read first (with
their deadline's stage and their repeats), then the columns of their lines (`rows.LINE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, ScalarSelect, func, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.domain.access import Visible
from dispatcher.reads import badges
from dispatcher.reads import rows as r
from dispatcher.reads import views as v
from dispatcher.reads.badges import Badges
from dispatcher.reads.paging import Keyset, Page, after_nulls_last, maybe_moment, text

INBOX = Keyset("inbox", (maybe_moment, text))
PAGE = 100
D = t.deadlines.c


@dataclass(frozen=True)
class InboxRow:
    case: v.CaseSummary
    stage: str | None  # the stage of the nearest pending deadline
    due: datetime | None  # and when it falls due
    started: datetime  # when the case was dispatched: the countdown's start
    badges: Badges  # emergency/urgent, the requester's groups, repeats, reopened, co-handled; its place


def _nearest(column: ColumnElement[Any]) -> ScalarSelect[Any]:
    """The nearest pending deadline's `column`, for the case of the row."""
    query = select(column).where(D.ticket_id == r.K.ticket_id, D.status == "pending")
    return query.order_by(D.due_at, D.id).limit(1).scalar_subquery()


def _open(connection: Connection, visible: Visible) -> list[ColumnElement[bool]]:
    """Open cases in `visible`: a unit's by its own and their state (`rows.visible_among`), however many
    cases the unit has had."""
    return [r.K.state.in_(r.OPEN), *r.visible_among(connection, visible)]


def inbox(
    engine: Engine, *, now: datetime, visible: Visible, limit: int = PAGE, cursor: str | None = None
) -> Page[InboxRow]:
    """Open cases in `visible`, the nearest pending deadline first; `CursorError` for another list's
    cursor."""
    return listing(engine, now=now, visible=visible, limit=limit, cursor=cursor)[0]


def listing(
    engine: Engine, *, now: datetime, visible: Visible, limit: int = PAGE, cursor: str | None = None
) -> tuple[Page[InboxRow], int]:
    """`inbox`, and how many open cases it holds in all: for the first page counted by the statement
    that orders them (a window over the rows it reads anyway), for a later one by a count of its own."""
    key = INBOX.decode(cursor)
    with reading(engine) as connection:
        where = _open(connection, visible)
        # the page's tickets, ordered by their nearest deadline (computed once per open case: NULLS LAST,
        # not `due IS NULL, due`, which ran its subquery once for each mention), with the stage of that
        # deadline and the repeats for the page's rows only (PostgreSQL evaluates those subqueries after
        # the sort and limit); then the lines' columns of those cases, not the cases whole
        listed = (
            select(r.K.ticket_id, _nearest(D.due_at).label("next_due")).where(*where).subquery("open_cases")
        )
        due, ticket = listed.c.next_due, listed.c.ticket_id
        stage = select(D.stage).where(D.ticket_id == ticket, D.status == "pending")
        query = select(
            listed,
            stage.order_by(D.due_at, D.id).limit(1).scalar_subquery().label("next_stage"),
            badges.repeats_of(ticket).scalar_subquery().label("repeats"),
            func.count().over().label("total"),
        )
        query = query.order_by(due.asc().nulls_last(), ticket).limit(limit + 1)
        if key is not None:
            query = query.where(after_nulls_last(due, ticket, key))
        found = connection.execute(query).mappings().all()
        read = r.lines_of(connection, [row["ticket_id"] for row in found])
        lines = {line["ticket_id"]: line for line in read}
        if key is None:
            total = int(found[0]["total"]) if found else 0
        else:
            total = int(
                connection.execute(select(func.count()).select_from(t.cases).where(*where)).scalar_one()
            )
    redacted = visible.unit is not None  # a unit reads the text redacted (its requester is masked)
    rows_found = [
        InboxRow(
            r.line_of(line, now, redacted),
            row["next_stage"],
            row["next_due"],
            line["dispatched_at"],
            badges.of_line(line, row["repeats"]),
        )
        for row in found
        if (line := lines.get(row["ticket_id"])) is not None
    ]
    return INBOX.page(rows_found, limit, lambda row: (row.due, row.case.ticket_id)), total


def count(engine: Engine, *, visible: Visible) -> int:
    """How many open cases the inbox holds in all."""
    with reading(engine) as connection:
        query = select(func.count()).select_from(t.cases).where(*_open(connection, visible))
        return int(connection.execute(query).scalar_one())
