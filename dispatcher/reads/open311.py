"""Open311's `GET requests`: stored cases by the spec's parameters (ids, or a window of received times,
service codes and open/closed), newest received first, at most `MAX_REQUESTS`; each with its current unit
and the time of its latest change. The window is read on `ix_cases_received`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, Label, RowMapping, func, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.domain.case import CaseState
from dispatcher.domain.states import ENDED, values_of
from dispatcher.reads.rows import CASE_WITH_ASSIGNMENT, K

MAX_REQUESTS = 1000
# Open311's `closed`: nothing more happens to the case (closed, or linked to the case it repeats)
CLOSED = values_of(ENDED)
OPEN = values_of(set(CaseState) - ENDED)


def updated_at() -> Label[datetime | None]:
    """The time of the latest entry that changed the case (not a reveal or a denied attempt)."""
    audit = t.audit.c
    return (
        select(func.max(audit.at))
        .where(audit.ticket_id == K.ticket_id, audit.action != "reveal", ~audit.action.like("denied:%"))
        .scalar_subquery()
        .label("updated_at")
    )


def _stored(engine: Engine, where: Sequence[ColumnElement[bool]]) -> list[RowMapping]:
    query = (
        CASE_WITH_ASSIGNMENT.add_columns(updated_at())
        .where(*where)
        .order_by(K.received_at.desc(), K.ticket_id)
        .limit(MAX_REQUESTS)
    )
    with reading(engine) as connection:
        return list(connection.execute(query).mappings().all())


def by_ids(engine: Engine, ids: Sequence[str]) -> list[RowMapping]:
    """The stored cases among these ticket ids, newest received first."""
    return _stored(engine, [K.ticket_id.in_(list(ids))]) if ids else []


def requests(
    engine: Engine,
    *,
    start: datetime,
    end: datetime,
    service_codes: Sequence[str] = (),
    status: str | None = None,
) -> list[RowMapping]:
    """Cases received from `start` to `end` (both included), of these categories (any if none), `open` or
    `closed` (either if None): newest received first, at most `MAX_REQUESTS`."""
    where = [K.received_at >= start, K.received_at <= end]
    if service_codes:
        where.append(K.category.in_(list(service_codes)))
    if status == "open":
        where.append(K.state.in_(OPEN))
    elif status == "closed":
        where.append(K.state.in_(CLOSED))
    return _stored(engine, where)
