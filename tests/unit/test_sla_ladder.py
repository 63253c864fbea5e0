"""The escalation ladder's timers: a warning at 75%, the breach, then each further step after its delay."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from sla.ladder import Ladder, Step, plan
from tests.support.clock import BEIJING

START = datetime(2026, 11, 26, 10, 0, tzinfo=BEIJING)


def test_an_urgent_reply_warns_at_75_percent_and_escalates_every_two_hours_after_the_breach():
    timers = plan("reply", START, START + timedelta(hours=24), "urgent")
    assert [(t.kind, t.level, t.due_at - START, t.step) for t in timers] == [
        ("warning", 0, timedelta(hours=18), None),
        ("escalation", 1, timedelta(hours=24), Step.POST_SUPERVISOR),
        ("escalation", 2, timedelta(hours=26), Step.UNIT_HEAD),
        ("escalation", 3, timedelta(hours=28), Step.SUPERVISION_ORDER),
    ]
    assert {t.deadline for t in timers} == {START + timedelta(hours=24)}


def test_further_steps_can_be_counted_on_the_business_calendar():
    def next_working_day(moment: datetime, delay: timedelta) -> datetime:
        return moment + timedelta(days=3) if moment.weekday() == 4 else moment + delay  # Friday -> Monday

    friday = datetime(2026, 11, 27, 17, 30, tzinfo=BEIJING)
    timers = plan("reply", START, friday, "general", later=next_working_day)
    assert [t.due_at.strftime("%a %d") for t in timers[1:]] == ["Fri 27", "Mon 30", "Tue 01"]


def test_a_ladder_must_warn_before_the_deadline():
    with pytest.raises(ValueError, match="between 0 and 1"):
        Ladder(warn_at=1.5)
    custom = plan(
        "acknowledge",
        START,
        START + timedelta(minutes=40),
        "emergency",
        Ladder(warn_at=0.5, steps=(Step.UNIT_HEAD,)),
    )
    assert [(t.kind, t.due_at - START) for t in custom] == [
        ("warning", timedelta(minutes=20)),
        ("escalation", timedelta(minutes=40)),
    ]
