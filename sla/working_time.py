"""Working time on the business calendar: how much of it lies between two moments, and where a deadline
lands when working time is added to it.

A pause (挂起) gives a unit back the working time its case stood still: the time inside the unit class's
working hours, on working days, between the pause and the resume (every hour for a 7x24 unit). Each pending
deadline then moves by that much working time: counted from the deadline, on the same calendar.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sla.calendar import BEIJING, ChineseCalendar
from sla.deadlines import DeadlineCalculator, Hours
from sla.policy import ROUND_THE_CLOCK

MAX_DAYS = 3660  # ten years of days: a guard against a calendar without working days


@dataclass(frozen=True)
class WorkingClock:
    """The working time of one unit class on the calendar (`every_day`: a 7x24 unit, every hour counts)."""

    calendar: ChineseCalendar
    hours: Hours
    every_day: bool = False

    def describe(self) -> str:
        if self.every_day:
            return "7x24 unit: every hour counts"
        windows = ", ".join(f"{a:%H:%M}-{'24:00' if b == time.max else f'{b:%H:%M}'}" for a, b in self.hours)
        return f"working hours {windows} on working days"

    def between(self, start: datetime, end: datetime) -> timedelta:
        """The working time from `start` to `end` (nothing when `end` is not after `start`)."""
        if end <= start:
            return timedelta(0)
        if self.every_day:
            return end - start
        total = timedelta(0)
        for begin, close in self._windows(start):
            if begin >= end:
                break
            total += min(close, end) - begin
        return total

    def after(self, start: datetime, amount: timedelta) -> datetime:
        """The moment by which `amount` of working time has passed since `start`."""
        if amount <= timedelta(0):
            return start
        if self.every_day:
            return start + amount
        remaining = amount
        for begin, close in self._windows(start):
            if close - begin >= remaining:
                return begin + remaining
            remaining -= close - begin
        raise ValueError("no working hours found in ten years: check the calendar and the working hours")

    def shift(self, deadline: datetime, amount: timedelta) -> datetime:
        """A deadline moved by `amount` of working time. A deadline at 24:00 (counted in days) that lands
        at the close of a working day is set at 24:00 of that day: no working time lies in between, and a
        period counted in days still ends at the end of a day."""
        moved = self.after(deadline, amount)
        local = deadline.astimezone(BEIJING)
        if amount <= timedelta(0) or self.every_day or local.timetz().replace(tzinfo=None) != time(0, 0):
            return moved
        day = moved.astimezone(BEIJING).date()
        closes = [close for _, close in self._bounds(day)]
        if closes and moved == max(closes):
            return datetime.combine(day + timedelta(days=1), time(0, 0), BEIJING)
        return moved

    def _windows(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working windows from `start` on, the first clipped to start there, day after day."""
        day = start.astimezone(BEIJING).date()
        for _ in range(MAX_DAYS):
            for begin, close in self._bounds(day):
                if close > start:
                    yield max(begin, start), close
            day += timedelta(days=1)

    def _bounds(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's working windows (none on a day off)."""
        if not self.calendar.is_working_day(day):
            return []
        bounds = []
        for opens, closes in self.hours:
            begin = datetime.combine(day, opens, BEIJING)
            end = (
                datetime.combine(day + timedelta(days=1), time(0, 0), BEIJING)
                if closes == time.max
                else datetime.combine(day, closes, BEIJING)
            )
            if end > begin:
                bounds.append((begin, end))
        return bounds


def working_clock(calculator: DeadlineCalculator, unit_class: str, round_the_clock: bool) -> WorkingClock:
    """The working clock deadlines of this unit class count on (the SLA file's working hours)."""
    if round_the_clock:
        return WorkingClock(calculator.calendar, ROUND_THE_CLOCK, every_day=True)
    hours = calculator.hours.get(unit_class, calculator.hours["default"])
    return WorkingClock(calculator.calendar, hours)
