"""Working time on the business calendar (sla/working_time.py): what a pause gives back and where a
deadline lands when it is given back."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sla.calendar import BEIJING, ChineseCalendar
from sla.deadlines import DeadlineCalculator
from sla.working_time import working_clock

CALCULATOR = DeadlineCalculator(
    ChineseCalendar(), hours={"default": ((time(9), time(12)), (time(13, 30), time(17, 30)))}
)
OFFICE = working_clock(CALCULATOR, "default", round_the_clock=False)
ALWAYS = working_clock(CALCULATOR, "default", round_the_clock=True)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING)


def test_the_lunch_break_the_evening_and_the_weekend_are_no_working_time():
    assert OFFICE.between(at(11, 26, 11), at(11, 26, 14)) == timedelta(hours=1, minutes=30)
    assert OFFICE.between(at(11, 26, 17), at(11, 27, 9, 30)) == timedelta(hours=1)
    assert OFFICE.between(at(11, 28, 9), at(11, 29, 18)) == timedelta(0)  # Saturday and Sunday
    assert OFFICE.between(at(11, 27), at(11, 26)) == timedelta(0)


def test_a_make_up_saturday_is_a_working_day_and_the_national_day_is_not():
    assert OFFICE.between(at(10, 10, 9), at(10, 10, 12)) == timedelta(hours=3)  # 调休: worked
    assert OFFICE.between(at(10, 1), at(10, 8)) == timedelta(0)  # 10-01..10-07 off


def test_working_time_is_added_from_the_next_working_hour():
    assert OFFICE.after(at(11, 27, 17), timedelta(hours=1)) == at(11, 30, 9, 30)  # Friday 17:00 + 1 h
    assert OFFICE.after(at(11, 26, 12, 30), timedelta(minutes=30)) == at(11, 26, 14)  # from the lunch break


def test_a_day_counted_deadline_given_a_whole_working_day_ends_at_24_00_of_the_next_one():
    assert OFFICE.shift(at(11, 28), timedelta(hours=7)) == at(12, 1)  # 24:00 Friday + a day: 24:00 Monday
    assert OFFICE.shift(at(11, 28), timedelta(hours=6)) == at(11, 30, 16, 30)  # not moved to 24:00
    assert OFFICE.shift(at(11, 26, 17), timedelta(hours=1)) == at(11, 27, 9, 30)


def test_a_round_the_clock_unit_gets_back_clock_time():
    assert ALWAYS.between(at(11, 28, 9), at(11, 29, 9)) == timedelta(days=1)
    assert ALWAYS.shift(at(11, 28), timedelta(hours=5)) == at(11, 28, 5)
    assert "7x24" in ALWAYS.describe() and "09:00-12:00, 13:30-17:30" in OFFICE.describe()
