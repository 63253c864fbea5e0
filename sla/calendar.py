"""The business calendar: China's official working days, holidays and 调休 (weekend days that are worked).

Sources, first that knows the year wins: the operator's schedule (a mapping of years to holidays and
make-up working days, loaded from YAML by the caller), then `chinesecalendar` (2004-2026), then "Monday to
Friday", which is a guess: `covers()` says so, so callers can warn.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import chinese_calendar

BEIJING = ZoneInfo("Asia/Shanghai")  # every local time: calendar days, working hours, rosters, months


class Clock(Protocol):
    """What tells the time now, as an aware datetime (UTC in service); tests pass one they move by hand."""

    def __call__(self) -> datetime: ...


@dataclass(frozen=True)
class YearSchedule:
    """One year as the State Council publishes it: days off and the weekend days that are worked."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    names: Mapping[date, str] = field(default_factory=dict)

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


class ChineseCalendar:
    def __init__(self, schedules: Mapping[int, YearSchedule] | None = None) -> None:
        self._schedules = dict(schedules or {})
        # answers never change for a calendar: remember them (a deadline asks about the same few days)
        self._working: dict[date, bool] = {}
        self._facts: dict[tuple[date, date], tuple[str, ...]] = {}

    def source(self, year: int) -> str:
        """Who knows the year: `operator`, `chinesecalendar`, or `weekends-only` (a guess)."""
        if year in self._schedules:
            return "operator"
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return "weekends-only"
        return "chinesecalendar"

    def covers(self, day: date) -> bool:
        return self.source(day.year) != "weekends-only"

    def is_working_day(self, day: date) -> bool:
        known = self._working.get(day)
        if known is None:
            known = self._working[day] = self._is_working_day(day)
        return known

    def _is_working_day(self, day: date) -> bool:
        schedule = self._schedules.get(day.year)
        if schedule is not None:
            return schedule.is_working_day(day)
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return day.weekday() < 5

    def facts(self, start: date, end: date) -> list[str]:
        """The calendar facts between two days that a deadline depends on, e.g.
        "10-01..10-07 holiday (National Day)", "10-10 make-up working day", "2027 not covered"."""
        known = self._facts.get((start, end))
        if known is None:
            known = self._facts[(start, end)] = tuple(self._find_facts(start, end))
        return list(known)

    def _find_facts(self, start: date, end: date) -> list[str]:
        found: list[str] = []
        run: list[date] = []
        day = start
        uncovered = sorted(
            {year for year in range(start.year, end.year + 1) if not self.covers(date(year, 1, 1))}
        )
        while day <= end:
            weekend = day.weekday() >= 5
            working = self.is_working_day(day)
            if not working and (not weekend or self._name(day) is not None):
                run.append(day)
            else:
                found += _holiday_run(run, self._name(run[0]) if run else None)
                run = []
                if working and weekend:
                    found.append(f"{day:%m-%d} make-up working day")
            day += timedelta(days=1)
        found += _holiday_run(run, self._name(run[0]) if run else None)
        found += [f"{year} not covered by any schedule: weekends only" for year in uncovered]
        return found

    def _name(self, day: date) -> str | None:
        schedule = self._schedules.get(day.year)
        if schedule is not None:
            return schedule.names.get(day, "" if day in schedule.holidays else None)
        try:
            return chinese_calendar.get_holiday_detail(day)[1]  # type: ignore[no-any-return]
        except NotImplementedError:
            return None


def _holiday_run(run: list[date], name: str | None) -> list[str]:
    if not run:
        return []
    span = f"{run[0]:%m-%d}" if len(run) == 1 else f"{run[0]:%m-%d}..{run[-1]:%m-%d}"
    return [f"{span} holiday" + (f" ({name})" if name else "")]


def days(spec: Iterable[str]) -> frozenset[date]:
    """Dates from `2027-01-01` or ranges `2027-02-06..2027-02-12`."""
    found: set[date] = set()
    for item in spec:
        first, _, last = item.partition("..")
        day, end = date.fromisoformat(first), date.fromisoformat(last or first)
        if end < day:
            raise ValueError(f"{item}: the range ends before it starts")
        while day <= end:
            found.add(day)
            day += timedelta(days=1)
    return frozenset(found)
