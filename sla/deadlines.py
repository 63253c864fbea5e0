"""Deadline arithmetic: from a start time, a duration with its unit, the calendar and working hours.

Clock durations count from the start. N days or N working days follow the legal way of counting a period:
the start day does not count, and the period ends at 24:00 of the Nth (working) day after it. Working hours
run only inside the unit class's hours on working days; a round-the-clock (7x24) unit works every hour.
Every result carries the facts used, so anyone can see why a deadline falls where it does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sla.calendar import BEIJING, ChineseCalendar
from sla.policy import OFFICE_HOURS, ROUND_THE_CLOCK, Duration, Policy, Stage, TimeUnit

Hours = tuple[tuple[time, time], ...]


@dataclass(frozen=True)
class Due:
    stage: Stage
    at: datetime
    duration: Duration
    source: str
    facts: tuple[str, ...]

    def explain(self) -> str:
        facts = "; ".join(self.facts) or "no holiday or make-up day in between"
        return f"{self.stage}: {self.duration} ({self.source}) → due {self.at:%Y-%m-%d %H:%M %z}; {facts}"


class DeadlineCalculator:
    def __init__(
        self,
        calendar: ChineseCalendar,
        policy: Policy | None = None,
        hours: Mapping[str, Hours] | None = None,
        tz: tzinfo = BEIJING,
    ) -> None:
        self.calendar = calendar
        self.policy = policy or Policy()
        self.hours = dict(hours or {"default": OFFICE_HOURS})
        self.tz = tz

    def all(
        self,
        start: datetime,
        tier: str,
        category: str | None = None,
        unit_class: str = "default",
        round_the_clock: bool = False,
    ) -> dict[Stage, Due]:
        return {stage: self.due(start, tier, stage, category, unit_class, round_the_clock) for stage in Stage}

    def due(
        self,
        start: datetime,
        tier: str,
        stage: Stage,
        category: str | None = None,
        unit_class: str = "default",
        round_the_clock: bool = False,
    ) -> Due:
        if start.tzinfo is None:
            raise ValueError("a deadline needs a start time with its timezone")
        duration, source = self.policy.duration(tier, stage, category)
        return self.after(start, duration, stage, source, unit_class, round_the_clock)

    def after(
        self,
        start: datetime,
        duration: Duration,
        stage: Stage = Stage.REPLY,
        source: str = "",
        unit_class: str = "default",
        round_the_clock: bool = False,
    ) -> Due:
        local = start.astimezone(self.tz)
        facts: list[str] = []
        if duration.unit is TimeUnit.MINUTES:
            at = local + timedelta(minutes=duration.amount)
        elif duration.unit is TimeUnit.HOURS:
            at = local + timedelta(hours=duration.amount)
        elif duration.unit is TimeUnit.DAYS:
            at = self._end_of(local.date() + timedelta(days=duration.amount))
        elif duration.unit is TimeUnit.WORKING_DAYS:
            last = self._working_days_after(local.date(), duration.amount)
            at = self._end_of(last)
            facts = self.calendar.facts(local.date() + timedelta(days=1), last)
        else:
            hours = ROUND_THE_CLOCK if round_the_clock else self.hours.get(unit_class, self.hours["default"])
            at = self._working_hours_after(local, duration.amount, hours, round_the_clock)
            facts = [] if round_the_clock else self.calendar.facts(local.date(), at.date())
            facts.append(
                "7x24 unit: every hour counts" if round_the_clock else f"working hours {_show(hours)}"
            )
        return Due(stage, at, duration, source, tuple(facts))

    def _end_of(self, day: date) -> datetime:
        """24:00 of `day`, i.e. 00:00 of the next day, local time."""
        return datetime.combine(day + timedelta(days=1), time(0, 0), self.tz)

    def _working_days_after(self, start: date, count: int) -> date:
        day, counted = start, 0
        while counted < count:
            day += timedelta(days=1)
            counted += self.calendar.is_working_day(day)
        return day

    def _working_hours_after(self, start: datetime, amount: int, hours: Hours, every_day: bool) -> datetime:
        remaining = timedelta(hours=amount)
        day = start.date()
        for _ in range(3660):  # ten years of days: a guard against a calendar without working days
            if every_day or self.calendar.is_working_day(day):
                for opens, closes in hours:
                    begin = max(datetime.combine(day, opens, self.tz), start)
                    end = self._end_of(day) if closes == time.max else datetime.combine(day, closes, self.tz)
                    if end <= begin:
                        continue
                    if end - begin >= remaining:
                        return begin + remaining
                    remaining -= end - begin
            day += timedelta(days=1)
        raise ValueError("no working hours found in ten years: check the calendar and the working hours")


def _show(hours: Hours) -> str:
    return ", ".join(f"{a:%H:%M}-{'24:00' if b == time.max else f'{b:%H:%M}'}" for a, b in hours)
