"""Pauses (挂起) for the center: the requests waiting for a supervisor, oldest dispatch first, a page at a
time, and how many visible cases are paused or wait for a decision (the dashboard's figures). Both read
the case's `paused` status (`ix_cases_paused`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.case_rows import pause_of
from dispatcher.adapters.database import reading
from dispatcher.domain.access import Visible
from dispatcher.domain.pause import PauseStatus
from dispatcher.reads import rows as r
from dispatcher.reads.paging import Page

PAUSES = r.keyset("pauses")


@dataclass(frozen=True)
class PauseRequest:
    """A pause asked, waiting for a supervisor's decision."""

    ticket_id: str
    unit: str | None
    by: str
    at: datetime
    reason_code: str
    reason: str
    resume_at: datetime | None
    reply_due: datetime | None


@dataclass(frozen=True)
class PauseCounts:
    paused: int = 0  # the clock stands still
    requested: int = 0  # a pause asked, waiting for a decision


def pause_requests(
    engine: Engine, *, visible: Visible, limit: int = 50, cursor: str | None = None
) -> Page[PauseRequest]:
    """Pause requests waiting for a supervisor's decision, oldest dispatch first."""
    where = [r.K.paused == PauseStatus.REQUESTED.value]
    page = r.line_page(engine, PAUSES, where, visible, limit, cursor, r.K.pause)
    asked = [(row, pause_of(row["pause"])) for row in page.items]
    return Page(
        [
            PauseRequest(
                row["ticket_id"],
                row["unit"],
                pause.by,
                pause.at,
                pause.code.value,
                pause.reason,
                pause.until,
                row["reply_due"],
            )
            for row, pause in asked
            if pause is not None
        ],
        page.next,
    )


def pause_counts(engine: Engine, *, visible: Visible) -> PauseCounts:
    """How many visible cases are paused, and how many wait for a decision on a pause."""
    k = r.K
    with reading(engine) as connection:
        query = (
            select(k.paused, func.count().label("cases"))
            .select_from(r.CASES_AND_ASSIGNMENTS if visible.unit is not None else t.cases)
            .where(k.paused.is_not(None), *r.visible(connection, visible))
            .group_by(k.paused)
        )
        counts = {row.paused: int(row.cases) for row in connection.execute(query)}
    return PauseCounts(counts.get(PauseStatus.PAUSED.value, 0), counts.get(PauseStatus.REQUESTED.value, 0))
