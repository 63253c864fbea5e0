"""挂起 (pause): asked by the unit, decided by a supervisor; while paused nothing fires; the resume moves
every pending deadline by the working time paused, on the business calendar."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dispatcher.domain import events as ev
from dispatcher.domain.case import Case, CaseError, Deadlines, ReturnReason, TransitionError
from dispatcher.domain.pause import RESUME_KIND, RESUME_STAGE, PauseReason
from dispatcher.domain.timer_plan import planned_timers, timer_changes
from rules.complaint import Complaint, Location, Urgency
from rules.decision import Assignment, Decision
from sla.calendar import BEIJING, ChineseCalendar
from sla.deadlines import DeadlineCalculator
from sla.working_time import WorkingClock, working_clock

DESK = Assignment("street-110105026", "desk", "wang", "property-management", "v1", "属地")
CALCULATOR = DeadlineCalculator(ChineseCalendar())
OFFICE = working_clock(CALCULATOR, "default", round_the_clock=False)


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING)


def signed_case(dispatched: datetime) -> Case:
    """A general case at a street office, dispatched then, signed for and the requester contacted at once:
    only the reply deadline (7 working days) is pending."""
    complaint = Complaint("BJ1", dispatched, "phone", "complaint", "物业不管", location=Location("朝阳区"))
    due = CALCULATOR.all(dispatched, "general")
    deadlines = Deadlines(
        {s.value: d.at for s, d in due.items()}, {s.value: d.explain() for s, d in due.items()}
    )
    case = Case.open(complaint, Decision(Urgency.GENERAL, "020101", assignment=DESK), dispatched, deadlines)
    case.acknowledge("wang", dispatched + timedelta(minutes=5))
    case.contact("wang", dispatched + timedelta(minutes=30))
    case.events.clear()
    case.audit.clear()
    return case


def dispatched_case(dispatched: datetime) -> Case:
    complaint = Complaint("BJ2", dispatched, "phone", "complaint", "物业不管", location=Location("朝阳区"))
    return Case.open(complaint, Decision(Urgency.GENERAL, "020101", assignment=DESK), dispatched)


def paused_case(dispatched: datetime, since: datetime, until: datetime | None = None) -> Case:
    case = signed_case(dispatched)
    case.request_pause("wang", since, PauseReason.REQUESTER, "居民出差，回京后入户", until)
    case.decide_pause("zhao", since, approve=True, until=None, reason="同意")
    return case


def test_a_weekend_paused_costs_no_working_time_only_the_hours_of_the_working_days_count():
    # Thursday 10:00: the reply is due at 24:00 on Monday 7 December (7 working days)
    case = paused_case(at(11, 26, 10), since=at(11, 27, 16))  # paused on Friday at 16:00
    assert case.reply_due == at(12, 8)

    case.resume("wang", at(11, 30, 10), OFFICE, "居民已回京")  # Monday 10:00

    # paused: Friday 16:00-17:30 and Monday 09:00-10:00, 2 h 30 min; the weekend is no working time
    assert case.reply_due == at(12, 8, 11, 30)
    [resumed] = case.events[-1:]
    assert isinstance(resumed, ev.CaseResumed)
    assert (resumed.paused_minutes, resumed.paused_since, resumed.deadlines) == (
        150,
        at(11, 27, 16),
        (("reply", at(12, 8, 11, 30)),),
    )
    assert case.pause is None and "resume" not in case.allowed_actions()


def test_a_pause_over_the_national_day_holiday_gives_back_only_its_working_days():
    # Monday 28 September 10:00: 7 working days are 09-29, 09-30, 10-08, 10-09, 10-10 (调休), 10-12, 10-13
    case = paused_case(at(9, 28, 10), since=at(9, 30, 15))
    assert case.reply_due == at(10, 14)

    case.resume("wang", at(10, 9, 10), OFFICE)

    # paused: 09-30 15:00-17:30, 10-08 all day (7 h), 10-09 09:00-10:00: 10 h 30 min, not nine days
    assert case.events[-1].paused_minutes == 630  # type: ignore[attr-defined]
    # from 24:00 on 10-13: 10-14 09:00-17:30 (7 h), then 3 h 30 min on 10-15 (09:00-12:00, 13:30-14:00)
    assert case.reply_due == at(10, 15, 14, 0)
    assert "10 h 30 min of working time paused" in case.how["reply"]
    assert case.how["reply"].endswith("→ due 2026-10-15 14:00 +0800")


def test_a_whole_working_day_paused_moves_a_day_counted_deadline_to_the_end_of_the_next_working_day():
    case = paused_case(at(11, 26, 10), since=at(11, 30, 9))  # Monday 09:00
    case.resume("wang", at(11, 30, 17, 30), OFFICE)  # Monday 17:30: one working day
    assert case.reply_due == at(12, 9)  # 24:00 on Tuesday 8 December: 8 working days in all


def test_the_pause_shows_in_the_deadlines_explanation():
    case = paused_case(at(11, 26, 10), since=at(11, 27, 16), until=at(12, 3, 9))
    assert (
        "paused since 11-27 16:00 until 2026-12-03 09:00 (waiting for the requester: 居民出差"
        in (case.how["reply"])
    )
    assert "acknowledge" in case.how and "paused" not in case.how["acknowledge"]  # met: not moved


def test_while_paused_no_timer_fires_and_only_resume_is_allowed():
    case = paused_case(at(11, 26, 10), since=at(11, 27, 16))
    assert case.allowed_actions() == ["resume"]
    assert not case.fire_timer(
        "reply", "escalation", 1, at(12, 8), "street-110105026:post_supervisor", at(12, 8)
    )
    with pytest.raises(TransitionError, match="cannot resolve"):
        case.resolve("wang", at(11, 28), "已处理")
    with pytest.raises(TransitionError, match="cannot extension"):
        case.request_extension("wang", at(11, 28), at(12, 20), "需更多时间")


def test_a_pause_asked_waits_for_a_supervisor_and_the_unit_keeps_working_meanwhile():
    case = signed_case(at(11, 26, 10))
    case.request_pause("wang", at(11, 26, 11), PauseReason.COURT, "等待法院判决", None)
    assert "pause_decision" in case.allowed_actions() and "pause" not in case.allowed_actions()
    assert "resolve" in case.allowed_actions()
    with pytest.raises(TransitionError, match="cannot resume"):
        case.resume("wang", at(11, 26, 12), OFFICE)
    assert case.fire_timer("reply", "warning", 0, at(12, 8), "street-110105026:desk", at(12, 7, 12))


def test_a_rejected_pause_leaves_the_deadlines_and_the_clock_running():
    case = signed_case(at(11, 26, 10))
    case.request_pause("wang", at(11, 26, 11), PauseReason.THIRD_PARTY, "等物业答复", None)
    case.decide_pause("zhao", at(11, 26, 12), approve=False, until=None, reason="可先电话协调")
    assert case.pause is None and case.reply_due == at(12, 8)
    assert isinstance(case.events[-1], ev.PauseRejected)
    assert [entry.action for entry in case.audit] == ["request_pause", "reject_pause"]
    assert "pause" in case.allowed_actions()


def test_a_pause_needs_a_signed_case_a_reason_and_a_resume_date_to_come():
    dispatched = signed_case(at(11, 26, 10))
    with pytest.raises(CaseError, match="needs a reason"):
        dispatched.request_pause("wang", at(11, 26, 11), PauseReason.SEASON, "  ", None)
    with pytest.raises(CaseError, match="has passed"):
        dispatched.request_pause("wang", at(11, 26, 11), PauseReason.SEASON, "供暖季后施工", at(11, 26, 9))
    fresh = dispatched_case(at(11, 26, 10))
    with pytest.raises(TransitionError, match="is dispatched: cannot pause"):
        fresh.request_pause("wang", at(11, 26, 11), PauseReason.REQUESTER, "联系不上", None)


def test_the_resume_date_resumes_only_the_pause_it_was_set_for():
    case = paused_case(at(11, 26, 10), since=at(11, 27, 16), until=at(11, 30, 10))
    assert not case.resume_on_date(at(12, 1), at(12, 1), OFFICE)  # another date: stale
    assert case.resume_on_date(at(11, 30, 10), at(11, 30, 10), OFFICE)
    assert case.reply_due == at(12, 8, 11, 30)
    assert case.events[-1].scheduled and case.audit[-1].actor == "jiesu"  # type: ignore[attr-defined]
    assert not case.resume_on_date(at(11, 30, 10), at(11, 30, 10), OFFICE)  # already resumed


def test_pausing_cancels_the_open_stages_timers_and_plans_the_resume_resuming_plans_them_again():
    case = signed_case(at(11, 26, 10))
    before, met = dict(case.deadlines), dict(case.met)
    case.request_pause("wang", at(11, 27, 16), PauseReason.REQUESTER, "等居民回京", None)
    case.decide_pause("zhao", at(11, 27, 16), True, at(11, 30, 10), "")
    changes = timer_changes(case, before, met)
    assert changes.cancel == ["reply"] and changes.replan == [RESUME_STAGE]
    [resume] = planned_timers(case, changes.replan)
    assert (resume.kind, resume.due_at, resume.deadline) == (RESUME_KIND, at(11, 30, 10), at(11, 30, 10))

    case.events.clear()
    case.resume("wang", at(11, 30, 9, 30), OFFICE)
    changes = timer_changes(case, dict(case.deadlines), met)
    assert "reply" in changes.replan and RESUME_STAGE in changes.cancel
    assert {timer.deadline for timer in planned_timers(case, changes.replan)} == {at(12, 8, 11)}


def test_a_round_the_clock_unit_gets_back_the_clock_time_paused():
    always = WorkingClock(ChineseCalendar(), ((at(1, 1).time(), at(1, 1).time().max),), every_day=True)
    case = paused_case(at(11, 26, 10), since=at(11, 27, 16))
    case.resume("wang", at(11, 28, 16), always)  # a Saturday counts for a 7x24 unit
    assert case.reply_due == at(12, 9)


def test_a_return_window_in_working_hours_ends_on_the_calendar():
    case = dispatched_case(at(11, 27, 16))  # Friday 16:00: 1 h 30 min, then 6 h 30 min on Monday
    ends = (OFFICE.after(at(11, 27, 16), timedelta(hours=8)), "8 working hours")
    assert ends[0] == at(11, 30, 17)
    case.return_case(
        "wang", at(11, 30, 16, 59), ReturnReason.NOT_OUR_DUTY, "不归我们管", timedelta(hours=2), None, ends
    )
    late = dispatched_case(at(11, 27, 16))
    with pytest.raises(TransitionError, match=r"return window of 8 working hours \(until 2026-11-30 17:00\)"):
        late.return_case(
            "wang", at(11, 30, 17, 1), ReturnReason.NOT_OUR_DUTY, "不归我们管", timedelta(days=9), None, ends
        )
