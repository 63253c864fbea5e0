"""The case lifecycle: each order allowed only in its states, recorded with who, when and why."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dispatcher.domain import events as ev
from dispatcher.domain.case import Case, CaseError, CaseState, ReturnReason, TransitionError
from dispatcher.domain.states import AT_A_UNIT, DONE, ENDED, OPEN_STATES, values_of
from rules.complaint import Complaint, Location, Urgency
from rules.decision import Assignment, Decision
from tests.support.clock import NOW

DESK = Assignment("street-110105026", "desk", "wang", "property-management", "v1", "属地")
HEATING = Assignment("ent-heating", "dispatch", "li", "heating", "v1", "proposal")


def new_case(urgency: Urgency = Urgency.GENERAL) -> Case:
    complaint = Complaint(
        "BJ1", NOW, "phone", "complaint", "物业不管", category="020101", location=Location("朝阳区")
    )
    case = Case.open(complaint, Decision(urgency, "020101", assignment=DESK), at=NOW)
    case.events.clear()
    case.audit.clear()
    return case


def test_the_happy_path_records_every_step_with_from_and_to_state():
    case = new_case()
    case.acknowledge("wang", NOW + timedelta(minutes=5))
    case.contact("wang", NOW + timedelta(minutes=30), "电话联系了诉求人")
    case.resolve("wang", NOW + timedelta(hours=3), "已督促物业清理楼道")

    assert case.state is CaseState.RESOLVED and case.result == "已督促物业清理楼道"
    assert [(a.action, a.from_state, a.state, a.actor) for a in case.audit] == [
        ("acknowledge", "dispatched", "acknowledged", "wang"),
        ("contact", "acknowledged", "contacted", "wang"),
        ("resolve", "contacted", "resolved", "wang"),
    ]
    assert [type(e) for e in case.events] == [ev.CaseAcknowledged, ev.CaseContacted, ev.CaseResolved]


def test_a_refused_action_names_the_state_and_what_is_allowed():
    case = new_case()
    with pytest.raises(TransitionError) as refused:
        case.resolve("wang", NOW, "done")
    message = str(refused.value)
    assert "case BJ1 is dispatched: cannot resolve" in message
    assert "allowed now: acknowledge, return" in message
    assert case.state is CaseState.DISPATCHED and case.events == []


def test_a_return_inside_the_window_awaits_arbitration_with_the_rules_proposal():
    case = new_case()
    case.return_case(
        "wang",
        NOW + timedelta(hours=1),
        ReturnReason.NOT_OUR_DUTY,
        "热力集团直供",
        timedelta(hours=24),
        HEATING,
    )
    assert case.state is CaseState.RETURNED
    assert case.pending_return and case.pending_return.proposal == HEATING
    assert case.allowed_actions() == ["arbitrate"]


def test_a_return_after_the_window_is_refused():
    case = new_case(Urgency.URGENT)
    with pytest.raises(TransitionError, match="return window of 2:00:00"):
        case.return_case(
            "wang", NOW + timedelta(hours=3), ReturnReason.OTHER, "too late", timedelta(hours=2), None
        )


def test_arbitration_can_redispatch_to_the_proposal():
    case = new_case()
    case.return_case("wang", NOW, ReturnReason.NOT_OUR_DUTY, "不归我们管", timedelta(hours=24), HEATING)
    case.redispatch("zhao", NOW + timedelta(hours=2), HEATING, "proposal accepted")
    assert (case.state, case.assignment, case.pending_return) == (CaseState.DISPATCHED, HEATING, None)
    assert isinstance(case.events[-1], ev.CaseRedispatched)


def test_a_rejected_return_goes_back_to_the_same_unit_in_the_state_it_left():
    case = new_case()
    case.acknowledge("wang", NOW)
    case.return_case("wang", NOW, ReturnReason.WRONG_AREA, "不在辖区", timedelta(hours=24), HEATING)
    case.reject_return("zhao", NOW + timedelta(hours=1), "地址在本街道辖区内")
    assert (case.state, case.assignment) == (CaseState.ACKNOWLEDGED, DESK)
    rejected = case.events[-1]
    assert isinstance(rejected, ev.ReturnRejected) and rejected.unit == "street-110105026"


def test_an_extension_moves_the_deadline_only_when_approved():
    case = new_case()
    case.acknowledge("wang", NOW)
    case.reply_due = NOW + timedelta(days=7)
    case.request_extension("wang", NOW, NOW + timedelta(days=10), "需协调物业公司")
    assert case.allowed_actions() == ["contact", "return", "extension_decision", "pause"]
    case.decide_extension("zhao", NOW, approve=False, until=None, reason="理由不充分")
    assert case.reply_due == NOW + timedelta(days=7)

    case.request_extension("wang", NOW, NOW + timedelta(days=10), "需协调物业公司")
    case.decide_extension("zhao", NOW, approve=True, until=NOW + timedelta(days=9), reason="同意延期两天")
    assert case.reply_due == NOW + timedelta(days=9) and case.pending_extension is None


def test_an_extension_must_propose_a_later_deadline():
    case = new_case()
    case.acknowledge("wang", NOW)
    case.reply_due = NOW + timedelta(days=7)
    with pytest.raises(CaseError, match="is not after"):
        case.request_extension("wang", NOW, NOW + timedelta(days=6), "earlier?")


def test_a_queued_case_is_dispatched_by_hand():
    complaint = Complaint("BJ2", NOW, "phone", "complaint", "请帮忙看看", location=Location())
    case = Case.open(complaint, Decision(Urgency.GENERAL, None, queue="triage", reason="no category"), at=NOW)
    assert case.state is CaseState.QUEUED and case.allowed_actions() == ["dispatch"]
    case.redispatch("zhao", NOW, DESK, "分类研判后派街道")
    assert (case.state, case.queue, case.assignment) == (CaseState.DISPATCHED, None, DESK)


JOINT = Assignment("ent-heating", "dispatch", "li", "heating-old-estate", "v1", "老旧小区", ("dept-housing",))


def joint_case() -> Case:
    complaint = Complaint("BJ3", NOW, "phone", "complaint", "老旧小区暖气不热", category="010101")
    case = Case.open(complaint, Decision(Urgency.URGENT, "010101", assignment=JOINT), at=NOW)
    case.acknowledge("li", NOW)
    case.contact("li", NOW)
    return case


def test_a_co_handler_acknowledges_and_reports_and_the_lead_resolves_with_the_report_attached():
    case = joint_case()
    case.acknowledge_as_co_handler("dept-housing", "zhou", NOW)
    case.report_to_lead("dept-housing", "zhou", NOW, "管网改造已排期")
    case.resolve("li", NOW, "已修复")
    resolved = case.events[-1]
    assert isinstance(resolved, ev.CaseResolved)
    assert (
        resolved.co_reports == (("dept-housing", "管网改造已排期"),)
        and resolved.without_reports_reason is None
    )


def test_the_lead_cannot_resolve_before_the_co_handlers_report_unless_it_says_why():
    case = joint_case()
    with pytest.raises(TransitionError, match="co-handling units dept-housing have not reported"):
        case.resolve("li", NOW, "已修复")
    case.resolve("li", NOW, "已修复", without_reports_reason="住建委已口头确认，书面报告另行补充")
    resolved = case.events[-1]
    assert isinstance(resolved, ev.CaseResolved) and resolved.without_reports_reason
    assert "without ['dept-housing']" in case.audit[-1].reason


def test_only_a_co_handler_that_has_acknowledged_may_report():
    case = joint_case()
    with pytest.raises(CaseError, match="must acknowledge before reporting"):
        case.report_to_lead("dept-housing", "zhou", NOW, "报告")
    with pytest.raises(CaseError, match="not a co-handling unit"):
        case.acknowledge_as_co_handler("dept-market", "x", NOW)
    case.acknowledge_as_co_handler("dept-housing", "zhou", NOW)
    with pytest.raises(CaseError, match="already acknowledged by zhou"):
        case.acknowledge_as_co_handler("dept-housing", "wu", NOW)


def test_the_open_states_come_in_one_order_from_one_definition():
    assert values_of(OPEN_STATES) == ("queued", "dispatched", "acknowledged", "contacted", "returned")
    assert values_of(AT_A_UNIT) == ("dispatched", "acknowledged", "contacted", "returned")
    assert values_of(set(CaseState) - DONE) == (
        "queued",
        "dispatched",
        "acknowledged",
        "contacted",
        "returned",
        "linked",
    )
    assert values_of(ENDED) == ("closed", "linked")
