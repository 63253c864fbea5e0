"""吹哨报到 on SQLite and PostgreSQL: the lead unit calls a street in on a heating case (the small catalog:
ent-heating leads, urgent, reply within 24 h); the street gets its own deadlines and timers, is told, is
counted; the lead resolves once the street has reported or a supervisor waived its report."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from consumers.intake import handle_intake
from consumers.sweeper import sweep
from dispatcher.adapters import tables as t
from dispatcher.adapters.sql import decode_headers
from dispatcher.bootstrap import System
from dispatcher.domain import commands as c
from dispatcher.domain.case import CaseError, TransitionError
from dispatcher.domain.joint import CO_STAGES
from dispatcher.reads.escalations import latest_escalations
from dispatcher.reads.scores import secondary_indicators
from dispatcher.service.lifecycle import InvalidActionError
from tests.support.builders import intake_record, make_complaint
from tests.support.clock import BEIJING, NOW, Clock

STREET = "street-110105010"  # 望京街道: office hours 09:00-12:00, 13:30-17:30
ASK = "请核查小区内供暖管网，约谈物业公司"


def open_acknowledged_case(system: System, clock: Clock, ticket: str = "BJ1") -> str:
    complaint = make_complaint(
        ticket_id=ticket, category="0101", urgency="urgent", location={"district": "朝阳区"}
    )
    handle_intake(intake_record(complaint), system.bus)
    clock.at(minutes=10)
    system.bus.handle(c.AcknowledgeCase(ticket, "li"))
    return ticket


def whistle(system: System, ticket: str, *units: str, by: str = "li") -> None:
    system.bus.handle(c.Whistle(ticket, by, calls=tuple(c.WhistleCall(unit, ASK) for unit in units)))


def events(system: System) -> list[tuple[str, dict]]:
    with system.engine.connect() as connection:
        rows = connection.execute(select(t.outbox.c.headers, t.outbox.c.value).order_by(t.outbox.c.id))
        return [(dict(decode_headers(h))["ce_type"].decode(), json.loads(v)) for h, v in rows]


def co_timers(system: System) -> list[tuple[str, str, int, str]]:
    """(stage, kind, level, status) of the called units' timers."""
    s = t.sla_timers.c
    query = select(s.stage, s.kind, s.level, s.status).where(s.unit == STREET).order_by(s.stage, s.level)
    with system.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def stored_co_handlers(system: System) -> dict:
    with system.engine.connect() as connection:
        return connection.execute(select(t.cases.c.co_handlers)).scalar_one()


def test_a_called_unit_gets_its_ask_deadlines_timers_and_is_told_whom(system, clock):
    ticket = open_acknowledged_case(system, clock)
    clock.at(minutes=30)  # Thursday 10:30 in Beijing
    whistle(system, ticket, STREET)

    street = stored_co_handlers(system)[STREET]
    assert street["ask"] == ASK and street["source"] == "whistle" and street["called_by"] == "li"
    # 2 working hours from 10:30: 1 h 30 before lunch, 30 min after → 14:00
    assert street["acknowledge_due"] == "2026-11-26T14:00:00+08:00"
    # 3 working days would end on Tuesday; the lead must reply by Friday 10:00: the report is due then
    assert street["report_due"] == (NOW + timedelta(hours=24)).astimezone(BEIJING).isoformat()
    assert "capped at the lead's reply deadline" in street["how"]
    with system.engine.connect() as connection:
        assigned = connection.execute(select(t.assignments.c.co_handlers, t.assignments.c.current)).all()
    assert [tuple(row) for row in assigned] == [([STREET], True)]  # the same assignment, one more co-handler
    # the first step of each ladder: the next is planned when the one before it is taken
    assert [(stage, kind, level) for stage, kind, level, _ in co_timers(system)] == [
        ("co_acknowledge", "warning", 0),
        ("co_report", "warning", 0),
    ]
    kind, data = events(system)[-1]
    assert kind == "jiesu.case.whistled"
    assert data["unit"] == STREET and data["ask"] == ASK and data["by"] == "li"
    assert (data["post"], data["person"]) == ("desk", f"{STREET}.duty")
    assert data["acknowledge_due"] == "2026-11-26T14:00:00+08:00"


def test_the_lead_resolves_only_once_the_called_unit_reported_or_was_waived(system, clock):
    ticket = open_acknowledged_case(system, clock)
    whistle(system, ticket, STREET)
    system.bus.handle(c.RecordContact(ticket, "li"))
    with pytest.raises(TransitionError, match="units called in street-110105010 have not reported"):
        system.bus.handle(c.ResolveCase(ticket, "li", result="已修复", without_reports_reason="来不及了"))

    system.bus.handle(c.AcknowledgeAsCoHandler(ticket, "wangjing", unit=STREET))
    assert {status for stage, _, _, status in co_timers(system) if stage == "co_acknowledge"} == {"cancelled"}
    assert {status for stage, _, _, status in co_timers(system) if stage == "co_report"} == {"pending"}
    with pytest.raises(CaseError, match="needs a reason"):
        system.bus.handle(c.WaiveReport(ticket, "zhao", unit=STREET, reason=" "))
    system.bus.handle(c.WaiveReport(ticket, "zhao", unit=STREET, reason="住建部门已书面答复"))
    assert {status for _, _, _, status in co_timers(system)} == {"cancelled"}
    system.bus.handle(c.ResolveCase(ticket, "li", result="已修复"))

    kinds = [kind for kind, _ in events(system)]
    assert kinds[-4:] == [
        "jiesu.case.contacted",
        "jiesu.case.co_acknowledged",
        "jiesu.case.co_waived",
        "jiesu.case.resolved",
    ]
    assert stored_co_handlers(system)[STREET]["waived_by"] == "zhao"


def test_a_report_lets_the_lead_resolve_with_it_attached(system, clock):
    ticket = open_acknowledged_case(system, clock)
    whistle(system, ticket, STREET)
    system.bus.handle(c.AcknowledgeAsCoHandler(ticket, "wangjing", unit=STREET))
    system.bus.handle(c.ReportToLead(ticket, "wangjing", unit=STREET, report="已约谈物业，管网已排查"))
    assert {status for _, _, _, status in co_timers(system)} == {"cancelled"}
    system.bus.handle(c.RecordContact(ticket, "li"))
    system.bus.handle(c.ResolveCase(ticket, "li", result="已修复"))
    kind, data = events(system)[-1]
    assert kind == "jiesu.case.resolved"
    assert data["co_reports"] == [{"unit": STREET, "report": "已约谈物业，管网已排查"}]


def test_whistles_the_case_refuses_are_refused_with_the_reason(system, clock):
    complaint = make_complaint(ticket_id="BJ1", category="0101", location={"district": "朝阳区"})
    handle_intake(intake_record(complaint), system.bus)
    with pytest.raises(TransitionError, match="once the lead unit has acknowledged"):
        whistle(system, "BJ1", STREET)
    system.bus.handle(c.AcknowledgeCase("BJ1", "li"))
    with pytest.raises(InvalidActionError, match="unknown unit nowhere"):
        whistle(system, "BJ1", "nowhere")
    with pytest.raises(CaseError, match="ent-heating leads the case"):
        whistle(system, "BJ1", "ent-heating")
    with pytest.raises(InvalidActionError, match="say what"):
        system.bus.handle(c.Whistle("BJ1", "li", calls=(c.WhistleCall(STREET, "  "),)))
    whistle(system, "BJ1", STREET)
    with pytest.raises(CaseError, match="already co-handles the case"):
        whistle(system, "BJ1", STREET)
    assert [kind for kind, _ in events(system)].count("jiesu.case.whistled") == 1


def test_a_called_units_timers_warn_breach_and_climb_then_stop_once_it_reports(system, clock):
    ticket = open_acknowledged_case(system, clock)
    clock.at(minutes=30)
    whistle(system, ticket, STREET)  # acknowledge by 14:00: the warning at 75% of 3 h 30, 13:07:30

    def co_events() -> list[tuple[str, str, int | None, str | None]]:
        return [
            (kind, data["stage"], data.get("level"), data.get("target"))
            for kind, data in events(system)
            if kind.startswith(("jiesu.sla.", "jiesu.case.escalated")) and data.get("unit") == STREET
        ]

    clock.at(hours=3, minutes=7)
    sweep(system.engine, system.bus, clock)
    assert co_events() == []
    clock.at(hours=3, minutes=8)
    sweep(system.engine, system.bus, clock)
    assert co_events() == [("jiesu.sla.warning", "co_acknowledge", None, None)]
    clock.at(hours=4, minutes=1)
    sweep(system.engine, system.bus, clock)
    sweep(system.engine, system.bus, clock)  # a second sweep fires nothing again
    assert co_events()[1:] == [
        ("jiesu.sla.breached", "co_acknowledge", None, None),
        ("jiesu.case.escalated", "co_acknowledge", 1, f"{STREET}:post_supervisor"),
    ]
    fired = latest_escalations(system.engine, unit=STREET)
    assert [(e.stage, e.level, e.unit) for e in fired] == [("co_acknowledge", 1, STREET)]  # the street's
    assert all(e.stage not in CO_STAGES for e in latest_escalations(system.engine, unit="ent-heating"))
    system.bus.handle(c.AcknowledgeAsCoHandler(ticket, "wangjing", unit=STREET))
    system.bus.handle(c.ReportToLead(ticket, "wangjing", unit=STREET, report="已排查"))
    clock.at(days=3)
    sweep(system.engine, system.bus, clock)
    assert len(co_events()) == 3  # nothing after the report: neither the next step nor the report's timers

    indicators = secondary_indicators(system.engine, "2026-11")
    assert (indicators[STREET].co_handled, indicators[STREET].co_overdue) == (1, 1)
    # the street's breach is its own, not the lead's
    lead_breaches = [
        data["stage"]
        for kind, data in events(system)
        if kind == "jiesu.sla.breached" and data.get("unit") is None
    ]
    assert indicators["ent-heating"].overdue == (1 if lead_breaches else 0)


# ---- the REST API and the CLI ----------------------------------------------------------------------


def post(caller, ticket: str, action: str, **body):
    return caller.post(f"/api/cases/{ticket}/{action}", json=body)


def test_through_the_api_the_lead_whistles_the_street_reports_and_a_supervisor_waives(as_, li, zhao, system):
    wangjing, balizhuang, chaoyang = as_("wangjing"), as_("balizhuang"), as_("chaoyang")
    ticket = open_acknowledged_case(system, system.clock)  # at ent-heating, in 朝阳区
    calls = [{"unit": STREET, "ask": ASK}, {"unit": "street-110105011", "ask": "请协助入户查看"}]

    assert post(wangjing, ticket, "whistle", calls=calls).status_code == 403  # not the lead unit
    assert post(li, ticket, "whistle", calls=[]).status_code == 422
    assert post(li, ticket, "whistle", calls=[{"unit": "nowhere", "ask": "x"}]).status_code == 422
    view = post(li, ticket, "whistle", calls=calls).json()
    assert [(co["unit"], co["source"], co["ask"]) for co in view["co_handlers"]] == [
        (STREET, "whistle", ASK),
        ("street-110105011", "whistle", "请协助入户查看"),
    ]
    assert view["co_handlers"][0]["deadlines"]["co_acknowledge"] == {
        "due_at": "2026-11-26T13:40:00+08:00",  # 2 working hours from 10:10: 1 h 50 before lunch
        "state": "pending",
    }
    assert view["assignment"]["co_handlers"] == [STREET, "street-110105011"]

    # the called street sees the case in its list, acknowledges and reports its part
    assert ticket in [case["ticket_id"] for case in wangjing.get("/api/cases").json()]
    assert post(wangjing, ticket, "co-handling/acknowledge").status_code == 200
    reported = post(wangjing, ticket, "co-handling/report", report="已约谈物业").json()
    assert reported["co_handlers"][0]["deadlines"]["co_report"]["state"] == "met"
    post(li, ticket, "contact")
    refusal = post(li, ticket, "resolve", result="已修复")
    assert refusal.status_code == 409 and "street-110105011 have not reported" in refusal.json()["detail"]

    # only a supervisor waives, with a reason; then the lead resolves
    waive = f"co-handlers/{'street-110105011'}/waive"
    assert post(li, ticket, waive, reason="不需要了").status_code == 403
    assert post(balizhuang, ticket, waive, reason="不需要了").status_code == 403
    assert post(chaoyang, ticket, waive, reason="").status_code == 422
    assert post(chaoyang, ticket, "co-handlers/street-110105012/waive", reason="无").status_code == 422
    waived = post(chaoyang, ticket, waive, reason="住建部门已书面答复").json()
    assert waived["co_handlers"][1]["deadlines"]["co_report"]["state"] == "waived"
    assert post(li, ticket, "resolve", result="已修复").json()["state"] == "resolved"
    timeline = [entry["action"] for entry in li.get(f"/api/cases/{ticket}/timeline").json()]
    assert timeline.count("whistle") == 2 and "waive_report" in timeline


def test_the_cli_whistles_with_one_ask_per_unit(system, clock, monkeypatch):
    from typer.testing import CliRunner

    from jiesu.cli.main import app

    ticket = open_acknowledged_case(system, clock)
    for name, value in system.settings.model_dump(mode="json").items():
        monkeypatch.setenv(f"JIESU_{name.upper()}", str(value))
    args = ["case", "whistle", ticket, "--as", "li", "--unit", STREET, "--unit", "street-110105011"]
    mismatched = CliRunner().invoke(app, [*args, "--ask", "a", "--ask", "b", "--ask", "c"])
    assert mismatched.exit_code == 2 and "one --ask per --unit" in mismatched.output
    done = CliRunner().invoke(app, [*args, "--ask", ASK])
    assert done.exit_code == 0, done.output
    assert sorted(stored_co_handlers(system)) == [STREET, "street-110105011"]
    again = CliRunner().invoke(app, [*args, "--ask", ASK])
    assert again.exit_code == 1 and "already co-handles the case" in again.output
    waived = CliRunner().invoke(
        app, ["case", "waive", ticket, "--as", "zhao", "--unit", STREET, "--reason", "已答复"]
    )
    assert waived.exit_code == 0, waived.output
    assert stored_co_handlers(system)[STREET]["waived_by"] == "zhao"
