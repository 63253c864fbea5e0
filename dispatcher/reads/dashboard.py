"""The dashboard's figures, counted in SQL over the visible cases: overdue cases by unit, the daily volume by
category (first two digits) of the last 30 days; and the month's ranking of the streets."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Integer, cast, func, literal, select

from dispatcher.adapters.database import reading
from dispatcher.domain.access import Visible
from dispatcher.domain.callbacks import Assessment
from dispatcher.domain.scores import as_float
from dispatcher.reads import rows as r
from dispatcher.reads.scores import ranking
from sla.calendar import BEIJING

DAYS = 30
UNITS = 50  # the units with the most overdue cases


def overdue_by_unit(
    engine: Engine, *, now: datetime, visible: Visible, limit: int = UNITS
) -> list[tuple[str, int]]:
    """(unit, overdue cases) for the units with the most, most first; "—" for cases at no unit."""
    unit = func.coalesce(r.A.unit, "—").label("unit")
    counted = func.count().label("overdue")
    with reading(engine) as connection:
        query = (
            select(unit, counted)
            .select_from(r.CASES_AND_ASSIGNMENTS)
            .where(r.is_overdue(now), *r.visible(connection, visible))
            .group_by(unit)
            .order_by(counted.desc(), unit)
            .limit(limit)
        )
        return [(row.unit, int(row.overdue)) for row in connection.execute(query)]


@dataclass(frozen=True)
class Volume:
    start: datetime  # the first day's midnight, Beijing time
    counts: dict[tuple[int, str], int]  # (day from start, category's first two digits or "??") -> cases


def daily_volume(engine: Engine, *, now: datetime, district: str | None) -> Volume:
    """Cases received per day and top-level category over the last 30 days (Beijing days), in `district`."""
    start = (now - timedelta(days=DAYS - 1)).astimezone(BEIJING)
    start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    k = r.K
    epoch = int(start.timestamp())
    if engine.dialect.name == "postgresql":
        day: Any = cast(func.floor((func.extract("epoch", k.received_at) - literal(epoch)) / 86400), Integer)
    else:  # SQLite: the stored text, in UTC; whole seconds divided as integers (none is before the start)
        day = (cast(func.strftime("%s", k.received_at), Integer) - literal(epoch)) / 86400
    day = day.label("day")
    category = func.coalesce(func.substr(k.category, 1, 2), "??").label("category")
    query = select(day, category, func.count().label("cases")).where(k.received_at >= start)
    if district:
        query = query.where(k.district == district)
    query = query.group_by(day, category)
    counts: dict[tuple[int, str], int] = defaultdict(int)
    with reading(engine) as connection:
        for row in connection.execute(query):
            if 0 <= row.day < DAYS:
                counts[(int(row.day), row.category)] += int(row.cases)
    return Volume(start, dict(counts))


def street_ranking(engine: Engine, assessment: Assessment, month: str) -> list[dict[str, Any]]:
    """The streets' ranking of `month` (YYYY-MM): place, unit, composite rate, change, bottom ten."""
    return [
        {
            "rank": row.rank,
            "unit": row.unit,
            "composite": as_float(row.rates.composite, 4),
            "change": as_float(row.change, 4),
            "bottom": row.bottom_ten,
        }
        for row in ranking(engine, assessment, month, "street", secondary=False)
    ]
