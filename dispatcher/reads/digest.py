"""What the supervisors' daily digest reads of the cases (`notifications.digest`): the overdue deadlines of
open cases, and the requests received in a day by category; in a scope (the city, or a district)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.domain.states import AT_A_UNIT, values_of


@dataclass(frozen=True)
class DigestCases:
    overdue: list[dict[str, Any]]  # ticket_id, unit, stage, due_at: the deadlines passed first
    volume: list[dict[str, Any]]  # category ("" for none), count: the most received first


def digest_cases(
    engine: Engine, *, now: datetime, day: datetime, district: str | None, limit: int
) -> DigestCases:
    """The pending deadlines of open cases that passed by `now` (the first `limit`), and the cases received
    in the 24 hours from `day`, per category; in `district` (None: the city)."""
    cases, deadlines, assignments = t.cases.c, t.deadlines.c, t.assignments.c
    overdue = (
        select(cases.ticket_id, assignments.unit, deadlines.stage, deadlines.due_at)
        .join(t.deadlines, deadlines.ticket_id == cases.ticket_id)
        .join(t.assignments, (assignments.ticket_id == cases.ticket_id) & assignments.current.is_(True))
        .where(deadlines.status == "pending", deadlines.due_at < now, cases.state.in_(values_of(AT_A_UNIT)))
        .order_by(deadlines.due_at)
        .limit(limit)
    )
    volume = (
        select(func.coalesce(cases.category, "").label("category"), func.count().label("count"))
        .where(cases.received_at >= day, cases.received_at < day + timedelta(days=1))
        .group_by(cases.category)
        .order_by(func.count().desc())
    )
    if district is not None:
        overdue, volume = overdue.where(cases.district == district), volume.where(cases.district == district)
    with reading(engine) as connection:
        late = [dict(row) for row in connection.execute(overdue).mappings()]
        counts = [dict(row) for row in connection.execute(volume).mappings()]
    return DigestCases(late, counts)
