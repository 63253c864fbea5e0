"""The dashboard's figures, counted in SQL over the visible cases: the open cases' counts (overdue, waiting at
the center, emergencies, extensions asked) in all and by district, street or category domain (the
drill-down); overdue cases by unit; the daily volume by category domain (first two digits) of the last 30
days; the share of reply deadlines missed per week; the three rates (三率) per month; and the month's
ranking of the streets."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, Literal

from sqlalchemy import ColumnElement, Engine, Integer, case, cast, func, literal, null, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.callback_store import TALLY_COLUMNS
from dispatcher.adapters.database import reading
from dispatcher.domain.access import Visible
from dispatcher.domain.callbacks import Assessment
from dispatcher.domain.case import CaseState
from dispatcher.domain.pause import PauseStatus
from dispatcher.domain.scores import as_float, check_month, previous_month
from dispatcher.reads import rows as r
from dispatcher.reads import views as v
from dispatcher.reads.knowledge import DAYS as DIRECT_DAYS
from dispatcher.reads.knowledge import direct_figures
from dispatcher.reads.scores import ranking
from rules.complaint import Urgency
from sla.calendar import BEIJING

DAYS = 30
WEEKS = 12  # the overdue rate's weeks
MONTHS = 12  # the three rates' months
UNITS = 50  # the units with the most overdue cases
DAY = 86_400  # seconds
assert DAYS == DIRECT_DAYS  # the daily volume and the 直接办结率 read the same days (`received`)


def overdue_by_unit(
    engine: Engine, *, now: datetime, visible: Visible, limit: int = UNITS
) -> list[tuple[str, int]]:
    """(unit, overdue cases) for the units with the most, most first; "—" for cases at no unit. By the
    cases' own current unit (`lead_unit`): joined with the assignments, a planner that misjudged how many
    of a district's open cases were overdue (thousands opened in the last minutes) hashed every current
    assignment of the city, 85 ms where the cases alone take a few."""
    unit = func.coalesce(r.K.lead_unit, "—").label("unit")
    counted = func.count().label("overdue")
    with reading(engine) as connection:
        query = (
            select(unit, counted)
            .where(r.is_overdue(now), *r.visible_among(connection, visible))
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
    return received(engine, now=now, district=district)[0]


def received(engine: Engine, *, now: datetime, district: str | None) -> tuple[Volume, v.DirectCloses]:
    """The cases received over the last 30 days (Beijing days) in `district`, in one pass: per day and
    top-level category (`daily_volume`), and the consultations among them closed at intake from the
    knowledge base (`knowledge.direct_closes`, 直接办结率, over the same days)."""
    start = (now - timedelta(days=DAYS - 1)).astimezone(BEIJING)
    start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    k = r.K
    day = _bucket(engine, k.received_at, start, DAY).label("day")
    category = func.coalesce(func.substr(k.category, 1, 2), "??").label("category")
    consultations = func.count(case((k.kind == "consultation", 1))).label("consultations")
    direct = func.count(k.knowledge_entry).label("direct")
    query = select(day, category, func.count().label("cases"), consultations, direct)
    query = query.where(k.received_at >= start)
    if district:
        query = query.where(k.district == district)
    query = query.group_by(day, category)
    counts: dict[tuple[int, str], int] = defaultdict(int)
    totals = [0, 0, 0]  # received, consultations, closed at intake: every day since `start`
    with reading(engine) as connection:
        for row in connection.execute(query):
            if 0 <= row.day < DAYS:
                counts[(int(row.day), row.category)] += int(row.cases)
            totals = [totals[0] + row.cases, totals[1] + row.consultations, totals[2] + row.direct]
    return Volume(start, dict(counts)), direct_figures(start, *(int(total) for total in totals))


def _bucket(engine: Engine, moment: Any, start: datetime, seconds: int) -> Any:
    """Which interval of `seconds` from `start` a stored time falls in (0 for the first), in SQL."""
    epoch = int(start.timestamp())
    if engine.dialect.name == "postgresql":
        return cast(func.floor((func.extract("epoch", moment) - literal(epoch)) / seconds), Integer)
    # SQLite: the stored text, in UTC; whole seconds divided as integers (none is before the start): `//`,
    # as SQLAlchemy 2's `/` casts to a decimal (true division, every second a bucket of its own)
    return (cast(func.strftime("%s", moment), Integer) - literal(epoch)) // seconds


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


# ---- the open cases' counts and the drill-down ------------------------------------------------------

Level = Literal["district", "street", "domain"]


@dataclass(frozen=True)
class Counts:
    """Open cases (not resolved or closed) of a scope, and among them those in each condition."""

    key: str | None  # the district's or street's code, or the category domain; None: unknown, or all
    open: int = 0
    overdue: int = 0
    queued: int = 0  # waiting in a queue of the center for manual dispatch or triage
    returned: int = 0  # returned by their unit, waiting for arbitration
    emergencies: int = 0
    extensions: int = 0  # an extension asked, waiting for a decision


def _sum(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _counts(now: datetime) -> tuple[Any, ...]:
    """What the index of the cases by district and state (`ix_cases_district_state_due`) says of the open
    ones, read without the cases: the paused among the late are taken off apart (`_asked`)."""
    k = r.K
    return (
        func.count().label("open"),
        _sum(k.reply_due < now).label("late"),
        _sum(k.state == CaseState.QUEUED.value).label("queued"),
        _sum(k.urgency == Urgency.EMERGENCY.value).label("emergencies"),
    )


def _asked(now: datetime) -> dict[str, tuple[tuple[ColumnElement[bool], ...], frozenset[str]]]:
    """The few cases with something asked or decided, each found on its own index, and the states in
    which they count: a return waiting for arbitration, an extension waiting for a decision (migration
    0030), a late case paused (its clock stands still: not overdue)."""
    k = r.K
    return {
        "returned": ((k.state == CaseState.RETURNED.value, r.has(k.pending_return)), frozenset(r.NOT_DONE)),
        "extensions": (
            (r.has(k.pending_extension),),
            frozenset((CaseState.ACKNOWLEDGED.value, CaseState.CONTACTED.value)),
        ),
        "paused_late": ((k.paused == PauseStatus.PAUSED.value, k.reply_due < now), frozenset(r.NOT_DONE)),
    }


def summed(rows: list[Counts]) -> Counts:
    """The counts of the scope that `rows` split (by district, street or domain) in all."""
    return Counts(
        None,
        *(sum(getattr(row, each.name) for row in rows) for each in fields(Counts) if each.name != "key"),
    )


def open_counts(
    engine: Engine,
    *,
    now: datetime,
    visible: Visible,
    district: str | None = None,
    street: str | None = None,
    by: Level | None = None,
) -> list[Counts]:
    """The visible open cases (in `district`, `street` when given) counted in all (`by` None: one row) or
    per district, street or category domain (first two digits of the category), most open first. The
    counts come from `ix_cases_district_state_due` alone (a district's tens of thousands of open cases: a
    few ms, where reading the cases took tens); the returns, the extensions asked and the paused cases
    apart, each from the few rows of its own index (their states checked here, so that no index of the
    cases by state is taken for theirs)."""
    k = r.K
    keys = {"district": k.district, "street": k.street, "domain": func.substr(k.category, 1, 2)}
    key = (keys[by] if by is not None else null()).label("key")
    scope: list[ColumnElement[bool]] = []
    if district is not None:
        scope.append(k.district == district)
    if street is not None:
        scope.append(k.street == street)
    counted = select(key, *_counts(now)).where(k.state.in_(r.NOT_DONE))
    if by is not None:
        counted = counted.group_by(key)  # else one row in all, even of none
    asked: dict[str, Counter[Any]] = {}
    with reading(engine) as connection:
        source = r.CASES_AND_ASSIGNMENTS if visible.unit is not None else t.cases
        scope.extend(r.visible(connection, visible))
        counted = counted.select_from(source).where(*scope).order_by(func.count().desc(), key)
        rows = connection.execute(counted).all()
        for name, (condition, states) in _asked(now).items():
            found = select(key, k.state).select_from(source).where(*scope, *condition)
            asked[name] = Counter(row.key for row in connection.execute(found) if row.state in states)
    return [
        Counts(
            row.key,
            open=int(row.open),
            overdue=int(row.late) - asked["paused_late"][row.key],
            queued=int(row.queued),
            returned=asked["returned"][row.key],
            emergencies=int(row.emergencies),
            extensions=asked["extensions"][row.key],
        )
        for row in rows
    ]


# ---- reply deadlines missed, per week ---------------------------------------------------------------


@dataclass(frozen=True)
class Missed:
    start: datetime  # the first week's Monday, midnight Beijing time
    weeks: list[tuple[int, int]]  # per week, oldest first: (reply deadlines due in it, missed)


def overdue_rate(engine: Engine, *, now: datetime, district: str | None, weeks: int = WEEKS) -> Missed:
    """Per week (Monday to Sunday, Beijing time) of the last `weeks`, this one included: the reply
    deadlines (办结时限) that fell due in it before `now`, and those missed, i.e. not met by then (met
    late, or still open). Their ratio is the overdue rate."""
    local = now.astimezone(BEIJING)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    start = monday - timedelta(weeks=weeks - 1)
    d = t.deadlines.c
    week = _bucket(engine, d.due_at, start, 7 * DAY).label("week")
    missed = _sum((d.status == "pending") | (d.fired_at > d.due_at)).label("missed")
    query = select(week, func.count().label("due"), missed).where(
        d.status.in_(("met", "pending")),  # read on ix_deadlines_stage_due alone
        d.due_at >= start,
        d.due_at < now,
        d.stage == "reply",
    )
    if district is not None:
        query = query.where(d.district == district)
    counts = [(0, 0)] * weeks
    with reading(engine) as connection:
        for row in connection.execute(query.group_by(week)):
            if 0 <= row.week < weeks:
                counts[int(row.week)] = (int(row.due), int(row.missed))
    return Missed(start, counts)


# ---- the three rates per month ----------------------------------------------------------------------


@dataclass(frozen=True)
class MonthRates:
    """The three rates (三率) of a month over every unit in scope; None without a valid callback."""

    month: str
    valid: int
    response: float | None  # 响应率
    resolution: float | None  # 解决率
    satisfaction: float | None  # 满意率, basically satisfied credited with each unit class's k


def monthly_rates(
    engine: Engine, assessment: Assessment, *, month: str, district: str | None, months: int = MONTHS
) -> list[MonthRates]:
    """The three rates of each of the `months` months up to `month` (YYYY-MM), oldest first, over the
    counted callbacks of the units (a district's: of the cases in it). The city's are read from the units'
    monthly tallies, a district's from its cases' callbacks."""
    wanted = [check_month(month)]
    while len(wanted) < months:
        wanted.insert(0, previous_month(wanted[0]))
    if district is None:
        s = t.unit_month_scores.c
        query: Any = select(
            s.month,
            s.unit_class,
            *(func.sum(s[name]).label(name) for name in ("valid", "contacted", "resolved")),
            *(func.sum(s[name]).label(name) for name in ("satisfied", "basically_satisfied")),
        ).where(s.month.in_(wanted))
        query = query.group_by(s.month, s.unit_class)
    else:
        c = t.callbacks.c
        query = (
            select(c.month, c.unit_class, *TALLY_COLUMNS)
            .join(t.cases, t.cases.c.ticket_id == c.ticket_id)
            .where(c.counted.is_(True), c.month.in_(wanted), t.cases.c.district == district)
            .group_by(c.month, c.unit_class)
        )
    totals: dict[str, list[Fraction]] = {}
    with reading(engine) as connection:
        for row in connection.execute(query):
            k = assessment.settings.weights_for(row.month, row.unit_class).basic_credit
            sums = totals.setdefault(row.month, [Fraction(0)] * 4)
            sums[0] += int(row.valid or 0)
            sums[1] += int(row.contacted or 0)
            sums[2] += int(row.resolved or 0)
            sums[3] += int(row.satisfied or 0) + k * int(row.basically_satisfied or 0)
    figures = []
    for which in wanted:
        valid, contacted, resolved, credited = totals.get(which, [Fraction(0)] * 4)
        rates = [as_float(part / valid, 4) if valid else None for part in (contacted, resolved, credited)]
        figures.append(MonthRates(which, int(valid), *rates))
    return figures
