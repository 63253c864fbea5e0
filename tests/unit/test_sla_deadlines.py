"""Deadlines on China's official calendar: holidays, 调休, working hours, 7x24 units, new years as data."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from sla.calendar import ChineseCalendar, YearSchedule, days
from sla.deadlines import DeadlineCalculator
from sla.policy import Duration, Policy, Stage, TimeUnit
from tests.support.clock import BEIJING

deadlines = DeadlineCalculator(ChineseCalendar())


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


def test_seven_working_days_across_national_day_count_the_make_up_saturday():
    due = deadlines.due(at("2026-09-30T15:00"), "general", Stage.REPLY)
    # 10-08, 10-09, 10-10 (a Saturday worked), 10-12, 10-13, 10-14, 10-15 -> 24:00 of 10-15
    assert due.at == at("2026-10-16T00:00")
    assert due.facts == ("10-01..10-07 holiday (National Day)", "10-10 make-up working day")
    assert "7 working days (tier general)" in due.explain()


def test_the_day_of_dispatch_does_not_count_even_at_one_minute_past_midnight():
    early = deadlines.due(at("2026-11-23T00:01"), "general", Stage.REPLY)  # a Monday
    late = deadlines.due(at("2026-11-23T23:59"), "general", Stage.REPLY)
    assert early.at == late.at == at("2026-12-03T00:00")  # Tue..Fri, Mon..Wed: 24:00 of Wednesday 12-02


def test_clock_durations_count_from_dispatch_through_nights_and_holidays():
    due = deadlines.all(at("2026-10-01T23:30"), "emergency")
    assert (due[Stage.ACKNOWLEDGE].at, due[Stage.CONTACT].at, due[Stage.REPLY].at) == (
        at("2026-10-01T23:45"),
        at("2026-10-02T00:30"),
        at("2026-10-02T01:30"),
    )


def test_working_hours_stop_at_lunch_and_the_evening_and_skip_the_weekend():
    eight_hours = Duration(8, TimeUnit.WORKING_HOURS)
    # Fri 11-12 and 13:30-17:30 (5 h), Mon 09-12 (3 h)
    assert deadlines.after(at("2026-11-27T11:00"), eight_hours).at == at("2026-11-30T12:00")
    assert deadlines.after(at("2026-11-27T12:30"), Duration(1, TimeUnit.WORKING_HOURS)).at == at(
        "2026-11-27T14:30"
    )
    assert deadlines.after(at("2026-11-27T17:30"), Duration(1, TimeUnit.WORKING_HOURS)).at == at(
        "2026-11-30T10:00"
    )


def test_a_round_the_clock_unit_counts_every_hour_even_on_holidays():
    due = deadlines.after(at("2026-10-01T22:00"), Duration(8, TimeUnit.WORKING_HOURS), round_the_clock=True)
    assert due.at == at("2026-10-02T06:00") and "7x24 unit" in due.facts[-1]


def test_a_category_override_wins_over_the_tier():
    policy = Policy(categories={"0101": {Stage.REPLY: Duration(3, TimeUnit.DAYS)}})
    due = DeadlineCalculator(ChineseCalendar(), policy).due(
        at("2026-11-26T10:00"), "general", Stage.REPLY, "010101"
    )
    assert (due.at, due.source) == (at("2026-11-30T00:00"), "category 0101")


def test_a_year_from_the_operator_schedule_is_used_as_published():
    schedule = YearSchedule(
        holidays=days(["2027-01-01..2027-01-03"]),
        workdays=days(["2027-01-04"]) - days(["2027-01-04"]),
        names={date(2027, 1, 1): "元旦"},
    )
    calendar = ChineseCalendar({2027: schedule})
    assert calendar.source(2027) == "operator" and calendar.covers(date(2027, 6, 1))
    due = DeadlineCalculator(calendar).due(at("2026-12-31T10:00"), "general", Stage.REPLY)
    # 2027-01-01 (Fri) is a holiday: 01-04 .. 01-12 are the 7 working days
    assert due.at == at("2027-01-13T00:00")
    assert "01-01..01-03 holiday (元旦)" in due.facts


def test_a_year_nobody_covers_falls_back_to_weekends_and_says_so():
    calendar = ChineseCalendar()
    assert calendar.source(2028) == "weekends-only" and not calendar.covers(date(2028, 3, 1))
    due = DeadlineCalculator(calendar).due(at("2028-03-01T10:00"), "general", Stage.REPLY)
    assert due.at == at("2028-03-11T00:00")
    assert "2028 not covered by any schedule: weekends only" in due.facts


def test_durations_are_read_from_words_and_bad_ones_refused():
    assert Duration.parse("7 working days") == Duration(7, TimeUnit.WORKING_DAYS)
    assert Duration.parse("15 min") == Duration(15, TimeUnit.MINUTES)
    with pytest.raises(ValueError, match="expected a positive amount"):
        Duration.parse("soon")


def test_a_start_without_timezone_is_refused():
    with pytest.raises(ValueError, match="timezone"):
        deadlines.due(datetime(2026, 11, 26, 10), "general", Stage.REPLY)
