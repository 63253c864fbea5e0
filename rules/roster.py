"""Who is on duty at a post at a moment: dated overrides first, then the weekly shifts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from rules.catalog import WEEKDAYS, DayKind, Roster, Shift

IsWorkingDay = Callable[[date], bool]


def _day_matches(shift: Shift, day: date, is_working_day: IsWorkingDay) -> bool:
    if isinstance(shift.days, tuple):
        return WEEKDAYS[day.weekday()] in shift.days
    if shift.days is DayKind.ALL:
        return True
    return is_working_day(day) == (shift.days is DayKind.WORKING)


def _within(moment: time, start: time, end: time) -> bool:
    """`start <= moment < end`, where an `end` of 24:00 (time.max) includes the last instant of the day."""
    return start <= moment and (moment < end or end == time.max)


def on_shift(shift: Shift, local: datetime, is_working_day: IsWorkingDay) -> bool:
    moment, day = local.time(), local.date()
    if shift.start < shift.end:
        return _day_matches(shift, day, is_working_day) and _within(moment, shift.start, shift.end)
    # wraps past midnight: the early hours belong to the shift that began the day before
    return (_day_matches(shift, day, is_working_day) and moment >= shift.start) or (
        _day_matches(shift, day - timedelta(days=1), is_working_day) and moment < shift.end
    )


def on_duty(roster: Roster | None, local: datetime, is_working_day: IsWorkingDay) -> tuple[str | None, str]:
    """The person on duty at `local` (Beijing time) and why; None when the roster has nobody then."""
    if roster is None:
        return None, "the post has no roster"
    for override in roster.overrides:
        if (
            override.on == local.date()
            and override.start <= local.time()
            and _within(local.time(), override.start, override.end)
        ):
            return override.person, f"dated duty override for {override.on}"
    for shift in roster.shifts:
        if on_shift(shift, local, is_working_day):
            days = shift.days if isinstance(shift.days, str) else ",".join(shift.days)
            return shift.person, f"on shift {shift.start:%H:%M}-{shift.end:%H:%M} ({days} days)"
    return None, f"nobody on shift at {local:%a %H:%M}"
