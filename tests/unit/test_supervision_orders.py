"""Supervision orders (督办单) as the domain keeps them: who they go to, who may answer, their timers, and
the events and audit entries they leave on their case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dispatcher.adapters.sla_file import load_sla
from dispatcher.bootstrap import order_deadline_from
from dispatcher.domain import events as ev
from dispatcher.domain.case import Case, Deadlines
from dispatcher.domain.states import NotAllowedError, TransitionError
from dispatcher.domain.supervision import Addressee, OrderError, SupervisionOrder, is_order_timer
from rules.complaint import Complaint, Location, Urgency
from rules.decision import Assignment, Decision
from rules.routing import DefaultUnitRouter
from sla.calendar import BEIJING

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
DUE = T0 + timedelta(days=2)
STREET = "street-110105026"
DESK = Assignment(STREET, "desk", "wang", "property-management", "v1", "属地", co_handlers=("dept-water",))


def new_case() -> Case:
    complaint = Complaint("BJ1", T0, "phone", "complaint", "楼道堆物三次未清", location=Location("朝阳区"))
    deadlines = Deadlines({"reply": T0 + timedelta(days=7)}, {"reply": "reply"})
    case = Case.open(complaint, Decision(Urgency.GENERAL, "020101", assignment=DESK), T0, deadlines)
    case.events.clear()
    case.audit.clear()
    return case


def issue(case: Case, addressee: Addressee = Addressee.UNIT, unit: str | None = None) -> SupervisionOrder:
    return SupervisionOrder.issue(
        case, "SO-1", unit, addressee, "head", "请说明未清理原因", (DUE, "2 working days"), "zhao", T0
    )


def test_an_order_goes_to_the_lead_unit_by_default_and_is_published_and_audited_on_its_case():
    case = new_case()
    order = issue(case)
    assert (order.unit, order.addressee, order.is_open) == (STREET, Addressee.UNIT, True)
    assert case.events == [
        ev.SupervisionOrdered("BJ1", T0, "SO-1", STREET, "unit", "请说明未清理原因", DUE, "zhao")
    ]
    [entry] = case.audit
    assert (entry.actor, entry.action, entry.from_state, entry.state) == (
        "zhao",
        "supervision_order",
        case.state,
        case.state,
    )
    assert "SO-1 to street-110105026" in entry.reason and "请说明未清理原因" in entry.reason


def test_an_order_may_go_to_a_co_handling_unit_but_not_to_a_unit_outside_the_case():
    case = new_case()
    assert issue(case, unit="dept-water").unit == "dept-water"
    with pytest.raises(OrderError, match="not by dept-gas"):
        issue(case, unit="dept-gas")


def test_an_order_needs_a_question_and_a_deadline_after_it():
    case = new_case()
    with pytest.raises(OrderError, match="what is asked"):
        SupervisionOrder.issue(case, "SO-1", None, Addressee.UNIT, None, "  ", (DUE, ""), "zhao", T0)
    with pytest.raises(OrderError, match="not after"):
        SupervisionOrder.issue(case, "SO-1", None, Addressee.UNIT, None, "说明", (T0, ""), "zhao", T0)
    assert case.events == []


def test_no_order_on_a_closed_case_or_one_no_unit_holds():
    case = new_case()
    case.terminate("zhao", T0, "无理诉求")
    with pytest.raises(TransitionError, match="it is closed"):
        issue(case)


def test_only_the_addressed_unit_answers_and_only_once():
    case = new_case()
    order = issue(case)
    case.events.clear()
    with pytest.raises(NotAllowedError, match="addressed to street-110105026, not to dept-water"):
        order.answer_with(case, "已清理", "li", "dept-water", None, T0 + timedelta(hours=1))
    with pytest.raises(OrderError, match="reply in words"):
        order.answer_with(case, " ", "wang", STREET, "desk", T0 + timedelta(hours=1))
    order.answer_with(case, "已约谈物业，明日清理", "wang", STREET, "desk", T0 + timedelta(hours=1))
    assert not order.is_open and order.answered_by == "wang"
    assert case.events == [
        ev.SupervisionAnswered(
            "BJ1", T0 + timedelta(hours=1), "SO-1", STREET, "wang", "已约谈物业，明日清理", False
        )
    ]
    with pytest.raises(TransitionError, match="SO-1 was answered by wang"):
        order.answer_with(case, "再答一次", "wang", STREET, "desk", T0 + timedelta(hours=2))


def test_an_order_to_the_head_is_answered_at_the_head_post_or_by_a_unit_wide_account():
    case = new_case()
    order = issue(case, Addressee.HEAD)
    with pytest.raises(NotAllowedError, match="post head of street-110105026, not to desk"):
        order.answer_with(case, "已处理", "wang", STREET, "desk", T0)
    order.answer_with(case, "已处理", "street-system", STREET, None, T0)
    assert order.answered_by == "street-system"


def test_an_answer_after_the_deadline_is_late():
    case = new_case()
    order = issue(case)
    order.answer_with(case, "已处理", "wang", STREET, None, DUE + timedelta(minutes=1))
    assert isinstance(case.events[-1], ev.SupervisionAnswered) and case.events[-1].late


def test_the_timers_warn_the_addressee_then_escalate_above_it_at_the_deadline():
    case = new_case()
    to_unit, to_head = issue(case), issue(case, Addressee.HEAD)
    warning, escalation = to_unit.timers()
    assert (warning.stage, warning.kind, warning.due_at, warning.target) == (
        "SO-1",
        "warning",
        T0 + (DUE - T0) * 0.75,
        f"{STREET}:unit",
    )
    assert (escalation.kind, escalation.level, escalation.due_at) == ("escalation", 1, DUE)
    assert escalation.target == f"{STREET}:unit_head"
    assert [timer.target for timer in to_head.timers()] == [f"{STREET}:unit_head", "center:supervisor"]
    assert is_order_timer(warning.stage) and not is_order_timer("reply")


def test_a_timer_fires_while_the_order_is_open_and_is_stale_once_answered():
    case = new_case()
    order = issue(case)
    case.events.clear()
    assert order.fire_timer(case, "warning", DUE, f"{STREET}:unit", DUE - timedelta(hours=1))
    assert order.fire_timer(case, "escalation", DUE, f"{STREET}:unit_head", DUE)
    assert [type(event) for event in case.events] == [ev.SupervisionWarning, ev.SupervisionOverdue]
    assert case.events[-1] == ev.SupervisionOverdue("BJ1", DUE, "SO-1", STREET, DUE, f"{STREET}:unit_head")
    assert [entry.action for entry in case.audit[-2:]] == ["supervision_warning", "supervision_overdue"]
    assert not order.fire_timer(case, "warning", DUE + timedelta(days=1), "x", DUE)  # another deadline
    order.answer_with(case, "已处理", "wang", STREET, None, DUE + timedelta(hours=1))
    case.events.clear()
    assert not order.fire_timer(case, "escalation", DUE, f"{STREET}:unit_head", DUE + timedelta(hours=2))
    assert case.events == []


def test_the_deadline_is_counted_in_working_days_over_a_holiday_and_defaults_to_the_sla_file():
    sla = load_sla(Path("does-not-exist.yaml"))
    deadline = order_deadline_from(sla, DefaultUnitRouter(STREET, "desk", None))
    before_national_day = datetime(2026, 9, 30, 10, 0, tzinfo=BEIJING)  # 10-01..10-07 are holidays
    due, how = deadline("2 working days", STREET, before_national_day)
    assert due == datetime(2026, 10, 10, 0, 0, tzinfo=BEIJING)  # the end of 10-09, the second working day
    assert "2 working days (asked by the supervisor)" in how
    due, how = deadline(None, STREET, before_national_day)
    assert "3 working days (the SLA file's default)" in how and due > datetime(2026, 10, 10, tzinfo=BEIJING)
    with pytest.raises(ValueError, match="expected a positive amount"):
        deadline("soon", STREET, before_national_day)
