"""The center's queues and the dashboard's case panels: cases waiting for triage (manual dispatch), returns
waiting for arbitration, open emergencies, extension requests waiting for a decision. Each is the visible
cases in one state (or a few), oldest dispatch first, a page at a time: `ix_cases_district_state_dispatched`
for a district, `ix_cases_state_dispatched` for the city. The dispatch desk narrows the triage and
arbitration queues further (`QueueFilter`: district, street, category domain, urgency, age, queue) and
counts what waits in each queue.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, func, literal_column, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.case_rows import extension_of, return_of
from dispatcher.adapters.database import reading
from dispatcher.domain.access import Visible
from dispatcher.domain.case import CaseState
from dispatcher.domain.states import ALLOWED, values_of
from dispatcher.reads import rows as r
from dispatcher.reads import views as v
from dispatcher.reads.cases import return_view
from dispatcher.reads.paging import Page
from rules.complaint import Urgency

TRIAGE, ARBITRATION, EMERGENCIES, EXTENSIONS = (
    r.keyset(order) for order in ("triage", "arbitration", "emergencies", "extensions")
)
PAGE = 100
WAITING_FOR_EXTENSION = values_of(ALLOWED["extension_decision"])


@dataclass(frozen=True)
class QueueFilter:
    """What the dispatch desk narrows a queue to; None is any. Codes as the cases store them."""

    district: str | None = None  # the district's code (6 digits)
    street: str | None = None  # the street's or township's code (9 digits)
    domain: str | None = None  # the category's first two digits (its domain, e.g. 01 供暖)
    urgency: Urgency | None = None
    older_than: timedelta | None = None  # received at least this long ago
    queue: str | None = None  # the center's queue a queued case waits in (triage, manual-dispatch...)

    def conditions(self, now: datetime) -> list[ColumnElement[bool]]:
        k, where = r.K, list[ColumnElement[bool]]()
        if self.district is not None:
            where.append(k.district == self.district)
        if self.street is not None:
            where.append(k.street == self.street)
        if self.domain is not None:
            where.append(k.category.startswith(self.domain, autoescape=True))
        if self.urgency is not None:
            where.append(k.urgency == self.urgency.value)
        if self.older_than is not None:
            where.append(k.received_at <= now - self.older_than)
        if self.queue is not None:
            where.append(k.queue == self.queue)
        return where


ANY = QueueFilter()


def triage_queue(
    engine: Engine,
    *,
    now: datetime,
    visible: Visible,
    limit: int = PAGE,
    cursor: str | None = None,
    filters: QueueFilter = ANY,
) -> Page[v.CaseSummary]:
    """Cases waiting at the center for manual dispatch or triage, with their queue."""
    where = [r.K.state == CaseState.QUEUED.value, *filters.conditions(now)]
    return r.lines(r.line_page(engine, TRIAGE, where, visible, limit, cursor), now, visible)


def arbitration_queue(
    engine: Engine,
    *,
    now: datetime,
    visible: Visible,
    limit: int = PAGE,
    cursor: str | None = None,
    filters: QueueFilter = ANY,
) -> Page[v.ReturnedCase]:
    """Returned cases (退单) awaiting the center's decision, with the return and the rules' proposal
    (`filters.queue` does not apply: a returned case is at its unit, in no queue)."""
    where = [r.K.state == CaseState.RETURNED.value, r.has(r.K.pending_return)]
    where += replace(filters, queue=None).conditions(now)
    page = r.line_page(engine, ARBITRATION, where, visible, limit, cursor, r.K.pending_return)
    returns = [(row, return_of(row["pending_return"])) for row in page.items]
    return Page(
        [
            v.ReturnedCase(**r.line_of(row, now).model_dump(), pending_return=return_view(back))
            for row, back in returns
            if back is not None
        ],
        page.next,
    )


def open_emergencies(
    engine: Engine, *, now: datetime, visible: Visible, limit: int = 50, cursor: str | None = None
) -> Page[v.CaseSummary]:
    """Emergency-tier cases not yet resolved, oldest first: the dashboard shows them above everything.
    The urgency is written into the statement, not bound, so that the planner may use the partial index of
    the emergencies (`ix_cases_emergencies`) in a prepared statement's plan too."""
    where = [r.K.urgency == literal_column(f"'{Urgency.EMERGENCY.value}'"), r.K.state.in_(r.NOT_DONE)]
    page = r.line_page(engine, EMERGENCIES, where, visible, limit, cursor)
    return page.map(lambda row: r.line_of(row, now))


@dataclass(frozen=True)
class ExtensionRequest:
    ticket_id: str
    until: str
    reason: str
    reply_due: datetime | None


def pending_extensions(
    engine: Engine, *, visible: Visible, limit: int = 50, cursor: str | None = None
) -> Page[ExtensionRequest]:
    """Extension requests (延期) waiting for a supervisor's decision, oldest dispatch first."""
    where = [r.K.state.in_(WAITING_FOR_EXTENSION), r.has(r.K.pending_extension)]
    page = r.line_page(engine, EXTENSIONS, where, visible, limit, cursor, r.K.pending_extension)
    asked = [(row, extension_of(row["pending_extension"])) for row in page.items]
    return Page(
        [
            ExtensionRequest(
                row["ticket_id"], extension.until.isoformat(), extension.reason, row["reply_due"]
            )
            for row, extension in asked
            if extension is not None
        ],
        page.next,
    )


RETURNS = "returns"  # what `waiting` counts the returned cases under


def waiting(engine: Engine, *, now: datetime, visible: Visible, filters: QueueFilter = ANY) -> dict[str, int]:
    """How many visible cases meeting `filters` wait at the center: per queue (`triage`,
    `manual-dispatch`...), and the returns awaiting arbitration under `RETURNS`."""
    k = r.K
    unqueued = replace(filters, queue=None).conditions(now)
    queued = k.state == CaseState.QUEUED.value
    if filters.queue is not None:
        queued = queued & (k.queue == filters.queue)
    returned = (k.state == CaseState.RETURNED.value) & r.has(k.pending_return)
    with reading(engine) as connection:
        query = (
            select(k.state, k.queue, func.count().label("cases"))
            .select_from(r.CASES_AND_ASSIGNMENTS if visible.unit is not None else t.cases)
            .where(queued | returned, *unqueued, *r.visible(connection, visible))
            .group_by(k.state, k.queue)
        )
        counts: dict[str, int] = {}
        for row in connection.execute(query):
            key = RETURNS if row.state == CaseState.RETURNED.value else (row.queue or "")
            counts[key] = counts.get(key, 0) + int(row.cases)
    return counts
