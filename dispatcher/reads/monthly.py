"""每月一题, the month's recurring problems: the requests received in a month (Beijing time) in the caller's
scope, grouped by category × area and ranked by their number, each group with its count in each of the five
months before (the trend), the share of its requests that were repeats (linked to an open case), that were
reopened (重办: round 2 or later), and of its cases' counted callbacks (the assessment's base) that were
unsatisfied (不满意); and the units that handled them (the current assignment's unit), most cases first.

The category is taken at a level of the code (GB/T 39666: 2+2+2 digits): the domain (1), the second level
(2, the default) or the leaf (the whole code); the area is the street (the district where the street is not
known) or the district. Every figure is counted in SQL that runs alike on SQLite and PostgreSQL: the months
are compared as instants (their Beijing midnights), the groups ranked, tied counts by code, and bounded there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Engine, and_, case, func, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.domain.access import Visible
from dispatcher.domain.callbacks import Satisfaction
from dispatcher.domain.scores import as_float, check_month, month_span, previous_month
from dispatcher.reads import rows as r

Level = Literal["1", "2", "leaf"]
Area = Literal["street", "district"]
LEVELS: tuple[Level, ...] = ("1", "2", "leaf")
AREAS: tuple[Area, ...] = ("street", "district")
MONTHS = 6  # the month and the five before it
TOP = 20  # groups shown unless asked otherwise
MOST = 200  # the most groups one report may ask for
UNITS = 3  # units named per group


class ReportError(ValueError):
    """A report that cannot be made as asked: a month not written YYYY-MM, an unknown level or area."""


@dataclass(frozen=True)
class UnitCount:
    unit: str
    cases: int


@dataclass(frozen=True)
class Problem:
    """A category in an area: its month's figures and its trend."""

    rank: int
    category: str  # the code at the report's level; "" for requests not yet classified
    area: str  # the street's or district's code; "" where the rules placed it nowhere
    cases: int  # requests received in the month
    trend: tuple[int, ...]  # requests per month, oldest first: the five months before, then this one
    repeats: int  # of the month's requests, repeats linked to an open case
    reopened: int  # of the month's requests, reopened after a callback (重办)
    callbacks: int  # the counted callbacks of the month's requests (their rounds, whenever called back)
    unsatisfied: int  # of those, unsatisfied (不满意)
    units: tuple[UnitCount, ...]  # the units that handle them, most cases first (at most `UNITS`)

    @property
    def repeat_share(self) -> float | None:
        return _share(self.repeats, self.cases)

    @property
    def reopened_share(self) -> float | None:
        return _share(self.reopened, self.cases)

    @property
    def unsatisfied_share(self) -> float | None:
        """Unsatisfied callbacks over counted callbacks; None before any callback."""
        return _share(self.unsatisfied, self.callbacks)


@dataclass(frozen=True)
class MonthlyReport:
    month: str
    months: tuple[str, ...]  # the trend's months, oldest first (the last is `month`)
    level: Level
    area: Area
    district: str | None  # the report's district; None: every district the caller sees
    received: int  # requests received in the month in scope, in all groups
    problems: list[Problem]


def _share(part: int, whole: int) -> float | None:
    return as_float(Fraction(part, whole), 4) if whole else None


def months_up_to(month: str, count: int = MONTHS) -> tuple[str, ...]:
    """The `count` months ending with `month`, oldest first."""
    wanted = [month]
    while len(wanted) < count:
        wanted.insert(0, previous_month(wanted[0]))
    return tuple(wanted)


def check_request(month: str, level: str, area: str) -> tuple[str, Level, Area]:
    """The report's parameters, or `ReportError` saying what is wrong."""
    try:
        check_month(month)
    except ValueError as error:
        raise ReportError(f"month: {error}") from None
    if level not in LEVELS:
        raise ReportError(f"level: expected 1, 2 or leaf, got {level!r}")
    if area not in AREAS:
        raise ReportError(f"area: expected street or district, got {area!r}")
    found_level = next(known for known in LEVELS if known == level)
    found_area = next(known for known in AREAS if known == area)
    return month, found_level, found_area


def _category(level: Level) -> Any:
    code = func.coalesce(r.K.category, "")
    return code if level == "leaf" else func.substr(code, 1, 2 * int(level))


def _area(area: Area) -> Any:
    k = r.K
    return func.coalesce(k.street, k.district, "") if area == "street" else func.coalesce(k.district, "")


def _sum(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def monthly_report(
    engine: Engine,
    *,
    month: str,
    visible: Visible,
    level: str = "2",
    area: str = "street",
    district: str | None = None,
    top: int = TOP,
) -> MonthlyReport:
    """The month's `top` category × area groups by requests received, among the cases `visible` (in
    `district` too, when given); `ReportError` for a bad month, level or area."""
    month, chosen_level, chosen_area = check_request(month, level, area)
    top = max(1, min(top, MOST))
    months = months_up_to(month)
    starts = [month_span(which)[0] for which in months]
    end = month_span(month)[1]
    k = r.K
    category, place = _category(chosen_level).label("category"), _area(chosen_area).label("area")
    in_month = k.received_at >= starts[-1]
    where: list[ColumnElement[bool]] = [k.received_at >= starts[0], k.received_at < end]
    if district is not None:
        where.append(k.district == district)
    source = r.CASES_AND_ASSIGNMENTS if visible.unit is not None else t.cases
    counted = _sum(in_month)
    per_month = [
        _sum(and_(k.received_at >= start, k.received_at < stop)).label(f"m{index}")
        for index, (start, stop) in enumerate(zip(starts, [*starts[1:], end], strict=True))
    ]
    query = (
        select(
            category,
            place,
            counted.label("cases"),
            *per_month,
            _sum(and_(in_month, k.linked_to.is_not(None))).label("repeats"),
            _sum(and_(in_month, k.round > 1)).label("reopened"),
        )
        .select_from(source)
        .group_by(category, place)
        .having(counted > 0)
        .order_by(counted.desc(), category, place)
        .limit(top)
    )
    with reading(engine) as connection:
        scope = [*where, *r.visible(connection, visible)]
        groups = list(connection.execute(query.where(*scope)))
        total = select(func.count()).select_from(source).where(*scope, in_month)
        received = int(connection.execute(total).scalar() or 0)
        keys = [(row.category, row.area) for row in groups]
        month_scope = [*scope, in_month]
        tallies = _callbacks(connection, keys, category, place, month_scope, visible)
        units = _units(connection, keys, category, place, month_scope)
    problems = [
        Problem(
            rank,
            row.category,
            row.area,
            int(row.cases),
            tuple(int(getattr(row, f"m{index}")) for index in range(MONTHS)),
            int(row.repeats),
            int(row.reopened),
            *tallies.get((row.category, row.area), (0, 0)),
            units.get((row.category, row.area), ()),
        )
        for rank, row in enumerate(groups, start=1)
    ]
    return MonthlyReport(month, months, chosen_level, chosen_area, district, received, problems)


def _among(keys: Sequence[tuple[str, str]], category: Any, place: Any) -> list[ColumnElement[bool]]:
    """The rows of these groups (the codes of each side: the pairs themselves are picked afterwards)."""
    return [category.in_(sorted({key[0] for key in keys})), place.in_(sorted({key[1] for key in keys}))]


def _callbacks(
    connection: Connection,
    keys: Sequence[tuple[str, str]],
    category: Any,
    place: Any,
    scope: Sequence[ColumnElement[bool]],
    visible: Visible,
) -> dict[tuple[str, str], tuple[int, int]]:
    """(counted callbacks, unsatisfied) of the month's requests, per group."""
    if not keys:
        return {}
    c = t.callbacks.c
    cases = r.CASES_AND_ASSIGNMENTS if visible.unit is not None else t.cases
    query = (
        select(
            category,
            place,
            func.count().label("callbacks"),
            _sum(c.satisfaction == Satisfaction.UNSATISFIED.value).label("unsatisfied"),
        )
        .select_from(t.callbacks.join(cases, r.K.ticket_id == c.ticket_id))
        .where(c.counted.is_(True), *scope, *_among(keys, category, place))
        .group_by(category, place)
    )
    return {
        (row.category, row.area): (int(row.callbacks), int(row.unsatisfied))
        for row in connection.execute(query)
    }


def _units(
    connection: Connection,
    keys: Sequence[tuple[str, str]],
    category: Any,
    place: Any,
    scope: Sequence[ColumnElement[bool]],
) -> dict[tuple[str, str], tuple[UnitCount, ...]]:
    """The units the month's requests of each group are assigned to now, most first, at most `UNITS`."""
    if not keys:
        return {}
    unit = r.A.unit.label("unit")
    query = (
        select(category, place, unit, func.count().label("cases"))
        .select_from(r.CASES_AND_ASSIGNMENTS)
        .where(r.A.unit.is_not(None), *scope, *_among(keys, category, place))
        .group_by(category, place, unit)
    )
    found: dict[tuple[str, str], list[UnitCount]] = defaultdict(list)
    for row in connection.execute(query):
        found[(row.category, row.area)].append(UnitCount(row.unit, int(row.cases)))
    return {
        key: tuple(sorted(counts, key=lambda count: (-count.cases, count.unit))[:UNITS])
        for key, counts in found.items()
    }
