"""吹哨报到 in the case model: a lead calls units in, each with its own deadlines and timers; the lead
resolves once each has reported or a supervisor waived its report; a called unit's timers fire only while
its part is open. And the handler: the unit looked up, its deadlines computed and kept before the lead's."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dispatcher.domain import commands as c
from dispatcher.domain import events as ev
from dispatcher.domain.case import Case, CaseError, TransitionError
from dispatcher.domain.joint import Call, CoDeadlines
from dispatcher.domain.timer_plan import co_timer_changes, co_timers
from dispatcher.service.lifecycle import InvalidActionError
from dispatcher.service.whistle import whistle
from rules.complaint import Complaint, Location, Urgency
from rules.decision import Assignment, Decision
from tests.support.clock import NOW
from tests.support.fakes import FakeUnitOfWork

LEAD = Assignment("street-110105026", "desk", "wang", "noise", "v1", "属地")
ENV = "dept-env"
ACK, REPORT = NOW + timedelta(hours=2), NOW + timedelta(days=3)
DUE = CoDeadlines(ACK, REPORT, "co_acknowledge: 2 working hours; co_report: 3 working days")


def signed_case() -> Case:
    complaint = Complaint(
        "BJ1", NOW, "phone", "complaint", "夜间施工", category="0301", location=Location("朝阳区")
    )
    case = Case.open(complaint, Decision(Urgency.GENERAL, "0301", assignment=LEAD), at=NOW)
    case.reply_due = NOW + timedelta(days=7)
    case.acknowledge("wang", NOW)
    case.events.clear()
    return case


def call(unit: str = ENV, ask: str = "请核查夜间施工许可") -> Call:
    return Call(unit, ask, "desk", f"{unit}.duty", DUE)


def test_a_whistle_makes_the_unit_a_co_handler_with_its_ask_deadlines_and_one_event():
    case = signed_case()
    case.whistle("wang", NOW, [call()])

    co = case.co_handlers[ENV]
    assert (co.source, co.ask, co.acknowledge_due, co.report_due) == (
        "whistle",
        "请核查夜间施工许可",
        ACK,
        REPORT,
    )
    assert case.assignment is not None and case.assignment.co_handlers == (ENV,)
    [event] = case.events
    assert isinstance(event, ev.CaseWhistled)
    assert (event.unit, event.person, event.acknowledge_due, event.report_due) == (
        ENV,
        "dept-env.duty",
        ACK,
        REPORT,
    )
    assert case.audit[-1].action == "whistle" and case.audit[-1].actor == "wang"


@pytest.mark.parametrize(
    ("calls", "refusal"),
    [
        ([], "at least one unit"),
        ([call(ask=" ")], "needs what is asked"),
        ([call(), call()], "named twice"),
        ([call(LEAD.unit)], "leads the case"),
    ],
)
def test_a_whistle_without_a_unit_or_an_ask_or_calling_the_lead_is_refused(calls, refusal):
    case = signed_case()
    with pytest.raises(CaseError, match=refusal):
        case.whistle("wang", NOW, calls)
    assert case.co_handlers == {} and case.events == []


def test_a_unit_is_called_in_only_while_the_lead_handles_the_case_and_not_twice_at_once():
    complaint = Complaint("BJ2", NOW, "phone", "complaint", "夜间施工", location=Location("朝阳区"))
    dispatched = Case.open(complaint, Decision(Urgency.GENERAL, "0301", assignment=LEAD), at=NOW)
    with pytest.raises(TransitionError, match="is dispatched: cannot whistle"):
        dispatched.whistle("wang", NOW, [call()])
    case = signed_case()
    case.whistle("wang", NOW, [call()])
    with pytest.raises(CaseError, match="already co-handles the case and has not reported"):
        case.whistle("wang", NOW, [call(ask="再问一次")])
    case.acknowledge_as_co_handler(ENV, "env", NOW)
    case.report_to_lead(ENV, "env", NOW, "已核查")
    case.whistle("wang", NOW + timedelta(days=1), [call(ask="请复查")])  # reported: may be called again
    assert case.co_handlers[ENV].ask == "请复查" and case.co_handlers[ENV].report is None


def test_the_lead_resolves_only_once_each_called_unit_reported_or_was_waived_whatever_it_says():
    case = signed_case()
    case.whistle("wang", NOW, [call(), call("dept-housing", "请约谈物业")])
    case.contact("wang", NOW)
    with pytest.raises(TransitionError, match="dept-env, dept-housing have not reported"):
        case.resolve("wang", NOW, "已处理", without_reports_reason="等不及了")
    case.acknowledge_as_co_handler(ENV, "env", NOW)
    case.report_to_lead(ENV, "env", NOW, "已核查，许可齐全")
    with pytest.raises(CaseError, match="needs a reason"):
        case.waive_report("dept-housing", "zhao", NOW, "")
    case.waive_report("dept-housing", "zhao", NOW, "物业已书面答复")
    with pytest.raises(CaseError, match="already waived by zhao"):
        case.waive_report("dept-housing", "zhao", NOW, "again")
    case.resolve("wang", NOW, "已处理")
    resolved = case.events[-1]
    assert isinstance(resolved, ev.CaseResolved)
    assert resolved.co_reports == ((ENV, "已核查，许可齐全"),) and resolved.without_reports_reason is None
    assert isinstance(case.events[-2], ev.CoHandlerWaived)


def test_a_called_units_timers_tell_it_and_climb_its_ladder_and_stop_when_its_stage_is_done():
    case = signed_case()
    before = dict(case.co_handlers)
    case.whistle("wang", NOW, [call()])
    changes = co_timer_changes(case, before)
    assert changes.plan == [(ENV, "co_acknowledge"), (ENV, "co_report")] and changes.cancel == []
    timers = co_timers(case, changes.plan)
    assert [(t.timer.stage, t.timer.kind, t.timer.level, t.timer.target) for t in timers[:4]] == [
        ("co_acknowledge", "warning", 0, "dept-env:desk"),
        ("co_acknowledge", "escalation", 1, "dept-env:post_supervisor"),
        ("co_acknowledge", "escalation", 2, "dept-env:unit_head"),
        ("co_acknowledge", "escalation", 3, "center:supervision_order"),
    ]
    assert timers[0].timer.due_at == NOW + timedelta(hours=1, minutes=30)  # 75% of its two hours

    assert case.fire_timer("co_acknowledge", "escalation", 1, ACK, "dept-env:post_supervisor", ACK, ENV)
    breached, escalated = case.events[-2:]
    assert (
        isinstance(breached, ev.SlaBreached) and breached.unit == ENV and breached.stage == "co_acknowledge"
    )
    assert isinstance(escalated, ev.CaseEscalated) and escalated.unit == ENV

    before = dict(case.co_handlers)
    case.acknowledge_as_co_handler(ENV, "env", ACK)
    assert co_timer_changes(case, before).cancel == [(ENV, "co_acknowledge")]
    assert not case.fire_timer("co_acknowledge", "escalation", 2, ACK, "dept-env:unit_head", ACK, ENV)
    assert not case.fire_timer("co_report", "warning", 0, ACK, "dept-env:desk", ACK, ENV)  # another deadline
    before = dict(case.co_handlers)
    case.waive_report(ENV, "zhao", ACK, "已答复")
    assert co_timer_changes(case, before).cancel == [(ENV, "co_report")]
    assert not case.fire_timer("co_report", "escalation", 1, REPORT, "dept-env:post_supervisor", REPORT, ENV)


class Units:
    """The router's catalog look-ups the handler uses."""

    def assignment_for(self, unit_id: str, post_id: str | None, at: datetime, why: str) -> Assignment:
        if unit_id not in ("dept-env", "dept-housing"):
            raise KeyError(f"unknown unit {unit_id}")
        return Assignment(unit_id, "desk", f"{unit_id}.duty", "supervisor", "v1", why)

    def unit_class(self, unit_id: str) -> str:
        return "department"


def test_the_handler_looks_the_unit_up_and_keeps_its_report_before_the_leads_reply():
    uow = FakeUnitOfWork()
    case = signed_case()
    case.reply_due = NOW + timedelta(days=2)  # before the 3 days the unit would have
    uow.cases.stored[case.ticket_id] = case
    asked: list[tuple[str, datetime]] = []

    def deadlines(unit_class: str, at: datetime) -> CoDeadlines:
        asked.append((unit_class, at))
        return DUE

    command = c.Whistle("BJ1", "wang", calls=(c.WhistleCall(ENV, " 请核查 "),))
    whistle(command, uow=uow, clock=lambda: NOW, router=Units(), co_deadlines_for=deadlines)  # type: ignore[arg-type]

    co = uow.cases.stored["BJ1"].co_handlers[ENV]
    assert asked == [("department", NOW)]
    assert (co.ask, co.person, co.acknowledge_due, co.report_due) == (
        "请核查",
        "dept-env.duty",
        ACK,
        case.reply_due,
    )
    assert co.how is not None and "capped at the lead's reply deadline" in co.how
    assert [type(event) for event in uow.cases.stored["BJ1"].events] == [ev.CaseWhistled]
    assert uow.commits == 1
    with pytest.raises(InvalidActionError, match="unknown unit nowhere"):
        whistle(
            c.Whistle("BJ1", "wang", calls=(c.WhistleCall("nowhere", "x"),)),
            uow=uow,
            clock=lambda: NOW,
            router=Units(),  # type: ignore[arg-type]
        )
