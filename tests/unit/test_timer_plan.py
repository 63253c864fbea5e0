"""A case's SLA timers as the domain plans them: whom each tells, and which stages are planned again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatcher.domain.case import Case, Deadlines, ReturnReason
from dispatcher.domain.timer_plan import (
    PlannedTimer,
    TimerChanges,
    first_timers,
    next_timer,
    planned_timers,
    timer_changes,
)
from rules.complaint import Complaint, Location, Urgency
from rules.decision import Assignment, Decision

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
DESK = Assignment("street-110105026", "desk", "wang", "property-management", "v1", "属地")
DUE = {"acknowledge": T0 + timedelta(hours=2), "reply": T0 + timedelta(days=7)}


def new_case() -> Case:
    complaint = Complaint("BJ1", T0, "phone", "complaint", "物业不管", location=Location("朝阳区"))
    deadlines = Deadlines(DUE, {stage: stage for stage in DUE})
    case = Case.open(
        complaint, Decision(Urgency.GENERAL, "020101", assignment=DESK), at=T0, deadlines=deadlines
    )
    case.events.clear()
    return case


def test_a_warning_tells_the_post_and_each_step_its_target():
    timers = planned_timers(new_case(), ["acknowledge"])
    assert [(timer.kind, timer.level, timer.target) for timer in timers] == [
        ("warning", 0, "street-110105026:desk"),
        ("escalation", 1, "street-110105026:post_supervisor"),
        ("escalation", 2, "street-110105026:unit_head"),
        ("escalation", 3, "center:supervision_order"),
    ]
    assert {timer.deadline for timer in timers} == {DUE["acknowledge"]}


def test_a_stage_met_or_without_a_deadline_has_no_timers():
    case = new_case()
    case.acknowledge("wang", T0 + timedelta(minutes=5))
    assert {timer.stage for timer in planned_timers(case, ["acknowledge", "contact", "reply"])} == {"reply"}


def test_a_stage_done_cancels_its_timers_and_nothing_is_planned_again():
    case = new_case()
    deadlines, met = dict(case.deadlines), dict(case.met)
    case.acknowledge("wang", T0 + timedelta(minutes=5))
    assert timer_changes(case, deadlines, met) == TimerChanges(replan=[], cancel=["acknowledge"])


def test_a_deadline_that_moves_is_planned_again():
    case = new_case()
    case.acknowledge("wang", T0 + timedelta(minutes=5))
    case.contact("wang", T0 + timedelta(minutes=30))
    case.events.clear()
    deadlines, met = dict(case.deadlines), dict(case.met)
    case.request_extension("wang", T0 + timedelta(hours=1), T0 + timedelta(days=10), "需协调")
    case.decide_extension("zhao", T0 + timedelta(hours=2), True, None, "同意")
    assert timer_changes(case, deadlines, met) == TimerChanges(replan=["reply"], cancel=[])


def test_after_a_rejected_return_every_stage_is_planned_again():
    case = new_case()
    case.return_case(
        "wang", T0 + timedelta(hours=1), ReturnReason.NOT_OUR_DUTY, "不归我们", timedelta(days=1), None
    )
    case.events.clear()
    deadlines, met = dict(case.deadlines), dict(case.met)
    case.reject_return("zhao", T0 + timedelta(hours=3), "属地负责")
    assert timer_changes(case, deadlines, met) == TimerChanges(replan=["acknowledge", "reply"], cancel=[])


def ladder_one_at_a_time(case: Case, first: PlannedTimer) -> list[PlannedTimer]:
    """The ladder as the sweeper plans it: each timer taken plans the next."""
    timers = [first]
    while (
        following := next_timer(case, first.stage, timers[-1].level, first.deadline, timers[-1].target)
    ) is not None:
        timers.append(following)
    return timers


def test_a_new_case_gets_the_first_step_of_each_ladder_and_the_rest_one_at_a_time():
    case = new_case()
    firsts = first_timers(case, case.deadlines)
    assert [(timer.stage, timer.kind, timer.level) for timer in firsts] == [
        ("acknowledge", "warning", 0),
        ("reply", "warning", 0),
    ]
    for first in firsts:  # the same timers, targets and times as the whole ladder planned at once
        assert ladder_one_at_a_time(case, first) == planned_timers(case, [first.stage])


def test_no_next_step_once_its_stage_is_done_or_its_deadline_moved():
    case = new_case()
    warning = first_timers(case, ["acknowledge", "reply"])
    case.acknowledge("wang", T0 + timedelta(minutes=5))
    assert next_timer(case, "acknowledge", 0, DUE["acknowledge"], warning[0].target) is None
    assert next_timer(case, "reply", 0, DUE["reply"], warning[1].target) is not None
    assert next_timer(case, "reply", 0, DUE["reply"] - timedelta(hours=1), warning[1].target) is None
    assert next_timer(case, "reply", 3, DUE["reply"], "center:supervision_order") is None  # the last step
