"""The read side of the assessment: scores per unit, post or person; the monthly ranking; the breakdown of
a unit's month. A month's scores per unit and the ranking read the tallies kept live (`unit_month_scores`);
other ranges, posts, persons and the breakdown are computed from the stored callbacks. The weights in force
are applied when asked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, func, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.callback_store import GroupTally, tallies_in, tally_of
from dispatcher.adapters.database import reading
from dispatcher.domain.callbacks import AppealStatus, Assessment
from dispatcher.domain.scores import (
    Breakdown,
    RankingRow,
    Rates,
    Secondary,
    Tally,
    explain,
    month_span,
    previous_month,
    rank,
    rates,
)
from sla.calendar import BEIJING

c, S = t.callbacks.c, t.unit_month_scores.c


@dataclass(frozen=True)
class Scores:
    key: str  # the unit (or unit:post, or person)
    unit_class: str
    rates: Rates
    secondary: Secondary | None = None


def tallies(
    engine: Engine,
    *,
    months: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    unit: str | None = None,
    unit_class: str | None = None,
    group: str = "unit",
) -> list[GroupTally]:
    """Tallies of the counted callbacks per unit (or post, or person) over months or a time range,
    recomputed from the callbacks themselves."""
    with reading(engine) as connection:
        return tallies_in(
            connection, months=months, since=since, until=until, unit=unit, unit_class=unit_class, group=group
        )


def month_tallies(engine: Engine, month: str, unit_class: str | None = None) -> list[GroupTally]:
    """Each unit's tally for the month as kept live (a row per unit)."""
    query = select(t.unit_month_scores).where(S.month == month).order_by(S.unit)
    if unit_class is not None:
        query = query.where(S.unit_class == unit_class)
    with reading(engine) as connection:
        return [
            GroupTally(row.unit, row.unit_class, tally_of(row))
            for row in connection.execute(query)
            if row.valid > 0
        ]


def scores(
    engine: Engine,
    assessment: Assessment,
    *,
    month: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    unit: str | None = None,
    group: str = "unit",
) -> list[Scores]:
    """Scores per unit (post, person) for a month, or for any time range (with the weights of the month
    the range starts in). Units come with their secondary indicators when asked for a month."""
    weights_month = month or (since.astimezone(BEIJING).strftime("%Y-%m") if since else None)
    if month and group == "unit" and since is None and until is None:  # the live tallies: a row per unit
        found = [row for row in month_tallies(engine, month) if unit is None or row.key == unit]
    else:
        found = tallies(
            engine, months=[month] if month else None, since=since, until=until, unit=unit, group=group
        )
    secondary = secondary_indicators(engine, month, unit) if month and group == "unit" else {}

    def rated(row: GroupTally) -> Scores:
        weights = (
            assessment.settings.weights_for(weights_month, row.unit_class)
            if weights_month
            else assessment.settings.default
        )
        return Scores(row.key, row.unit_class, rates(row.tally, weights), secondary.get(row.key))

    return sorted((rated(row) for row in found), key=lambda found: found.key)


def ranking(
    engine: Engine, assessment: Assessment, month: str, unit_class: str, *, secondary: bool = True
) -> list[RankingRow]:
    """The month's ranking within a class, with each unit's change from the month before; and each unit's
    secondary indicators unless `secondary` is False (the dashboard shows none: they are counted over the
    month's assignments, timers and audit entries, and change no place)."""

    def of(which: str) -> dict[str, Rates]:
        weights = assessment.settings.weights_for(which, unit_class)
        return {row.key: rates(row.tally, weights) for row in month_tallies(engine, which, unit_class)}

    current = of(month)
    indicators = secondary_indicators(engine, month) if secondary and current else {}
    return rank(unit_class, current, of(previous_month(month)), indicators)


@dataclass(frozen=True)
class UnitBreakdown:
    unit: str
    month: str
    unit_class: str
    rates: Rates
    explanation: Breakdown
    callbacks: list[CallbackLine]


def breakdown(engine: Engine, assessment: Assessment, unit: str, month: str) -> UnitBreakdown:
    """Every callback of the unit's month, counted or excluded (and why), and the arithmetic."""
    lines = callback_lines(engine, unit, month)
    found = tallies(engine, months=[month], unit=unit)
    unit_class = found[0].unit_class if found else _class_of(engine, unit)
    weights = assessment.settings.weights_for(month, unit_class)
    unit_rates = rates(found[0].tally if found else Tally(), weights)
    return UnitBreakdown(unit, month, unit_class, unit_rates, explain(unit_rates), lines)


def _class_of(engine: Engine, unit: str) -> str:
    query = select(t.callbacks.c.unit_class).where(t.callbacks.c.unit == unit).limit(1)
    with reading(engine) as connection:
        return connection.execute(query).scalar() or "default"


def secondary_indicators(engine: Engine, month: str | None, unit: str | None = None) -> dict[str, Secondary]:
    """Per unit, for the month: cases received, overdue (a deadline breached), returns rejected by
    arbitration, extensions approved; as a unit called in on others' cases (吹哨报到), its parts due and
    those overdue."""
    if month is None:
        return {}
    start, end = month_span(month)
    a = t.assignments.c
    current = a.current.is_(True)
    counts: dict[str, dict[str, int]] = {}

    def add(name: str, query: Select[tuple[str, int]]) -> None:
        if unit is not None:
            query = query.where(a.unit == unit)
        with reading(engine) as connection:
            for key, count in connection.execute(query.group_by(a.unit)):
                counts.setdefault(key, {})[name] = int(count)

    add(
        "received",
        select(a.unit, func.count()).where(a.assigned_at >= start, a.assigned_at < end),
    )
    timer = t.sla_timers.c
    add(  # a deadline that fell due in the month and breached (its level-1 step fired)
        "overdue",
        select(a.unit, func.count(func.distinct(timer.ticket_id)))
        .join(t.sla_timers, timer.ticket_id == a.ticket_id)
        .where(
            current,
            timer.status == "fired",
            timer.due_at >= start,
            timer.due_at < end,
            timer.kind == "escalation",
            timer.level == 1,
            timer.unit == "",  # the lead's own stages: a called unit's are its own (below)
        ),
    )
    audit = t.audit.c
    for name, action in (("rejected_returns", "reject_return"), ("extensions", "approve_extension")):
        add(
            name,
            select(a.unit, func.count())
            .join(t.audit, audit.ticket_id == a.ticket_id)
            .where(current, audit.action == action, audit.at >= start, audit.at < end),
        )
    for name, only_fired in (("co_handled", False), ("co_overdue", True)):
        # 吹哨报到: a called unit's parts whose report fell due in the month (from its report's warning,
        # the first step of its ladder, planned when the unit is called: the later steps are planned one
        # at a time), and those with a deadline breached (to acknowledge or to report), counted from its
        # own timers' breach steps that fired
        if only_fired:
            which = (timer.kind == "escalation") & (timer.level == 1) & (timer.status == "fired")
            in_month = (timer.due_at >= start) & (timer.due_at < end)
        else:
            which = (timer.kind == "warning") & (timer.stage == "co_report")
            in_month = (timer.deadline >= start) & (timer.deadline < end)
        query = (
            select(timer.unit, func.count(func.distinct(timer.ticket_id)))
            .where(timer.unit != "", which, in_month)
            .group_by(timer.unit)
        )
        if unit is not None:
            query = query.where(timer.unit == unit)
        with reading(engine) as connection:
            for key, count in connection.execute(query):
                counts.setdefault(key, {})[name] = int(count)
    return {key: Secondary(**values) for key, values in counts.items()}


@dataclass(frozen=True)
class CallbackLine:
    id: int
    ticket_id: str
    round: int
    recorded_at: datetime
    contacted: bool
    resolved: bool
    satisfaction: str
    excluded: str | None  # why it does not count; None when it counts


def callback_lines(engine: Engine, unit: str, month: str) -> list[CallbackLine]:
    """Every callback of a unit in a month, each with why it does not count (if it does not)."""
    accepted = (
        select(func.coalesce(t.appeals.c.decision_reason, ""))
        .where(t.appeals.c.callback_id == c.id, t.appeals.c.status == AppealStatus.ACCEPTED.value)
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(c.id, c.ticket_id, c.round, c.recorded_at, c.contacted, c.resolved, c.satisfaction, c.current)
        .add_columns(c.valid, c.counted, t.cases.c.terminated, accepted.label("appeal"))
        .select_from(t.callbacks.join(t.cases, t.cases.c.ticket_id == c.ticket_id))
        .where(c.unit == unit, c.month == month)
        .order_by(c.recorded_at, c.id)
    )
    lines = []
    with reading(engine) as connection:
        for row in connection.execute(query):
            why = None if row.counted else _why_not_counted(row)
            lines.append(
                CallbackLine(
                    row.id,
                    row.ticket_id,
                    row.round,
                    row.recorded_at,
                    row.contacted,
                    row.resolved,
                    row.satisfaction,
                    why,
                )
            )
    return lines


def _why_not_counted(row: Any) -> str:
    if not row.current:
        return "superseded by a later callback of the same round"
    if not row.valid:
        return "marked invalid"
    if row.terminated is not None:
        return f"case terminated (终结): {row.terminated}"
    if row.appeal is not None:
        return f"appeal accepted: {row.appeal}"
    return "not counted"
