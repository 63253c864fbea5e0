"""挂起 (pause) through the REST API, the storage and the SLA sweeper, on SQLite and PostgreSQL: the unit
asks, a supervisor decides, the clock stands still (no timer fires), and the resume (by hand or on its date)
moves the pending deadlines by the working time paused."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import httpx
from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from consumers.intake import handle_intake
from consumers.sweeper import sweep
from dispatcher.adapters import tables as t
from dispatcher.adapters.sql import decode_headers
from dispatcher.bootstrap import System
from dispatcher.domain import commands as c
from jiesu.cli.main import app as cli
from jiesu.web.app import create_app
from tests.support.builders import intake_record, make_complaint
from tests.support.clock import BEIJING, NOW
from tests.support.logins import Caller, add_people, csrf_of, logged_in

STREET = {"category": "02", "description": "物业不清运垃圾", "urgency": "general"}
WANGJING = {"district": "朝阳区", "street": "望京街道"}


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BEIJING)


def open_case(system: System, ticket: str, **overrides: Any) -> str:
    handle_intake(intake_record(make_complaint(ticket_id=ticket, **overrides)), system.bus)
    return ticket


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def signed(caller: Caller, ticket: str) -> None:
    ok(caller.post(f"/api/cases/{ticket}/acknowledge"))
    ok(caller.post(f"/api/cases/{ticket}/contact", json={"note": "已电话联系"}))


def events(system: System, ticket: str) -> list[tuple[str, dict[str, Any]]]:
    """The case's events in the outbox, in order: (type, data)."""
    box = t.outbox.c
    query = select(box.headers, box.value).where(box.key == ticket.encode()).order_by(box.id)
    with system.engine.connect() as connection:
        rows = connection.execute(query).all()
    return [(dict(decode_headers(headers))["ce_type"].decode(), json.loads(value)) for headers, value in rows]


def pending_timers(system: System, ticket: str) -> set[tuple[str, str, datetime]]:
    timer = t.sla_timers.c
    query = select(timer.stage, timer.kind, timer.deadline).where(
        timer.ticket_id == ticket, timer.status == "pending"
    )
    with system.engine.connect() as connection:
        return {(row.stage, row.kind, row.deadline) for row in connection.execute(query)}


def test_a_street_pauses_over_a_weekend_and_gets_back_only_the_working_hours(system, as_, zhao, clock):
    wangjing = as_("wangjing")
    ticket = open_case(system, "BJ-P1", **STREET, location=WANGJING)  # Thursday 10:00
    signed(wangjing, ticket)
    assert (
        ok(wangjing.get(f"/api/cases/{ticket}"))["deadlines"]["reply"]["due_at"]
        == "2026-12-08T00:00:00+08:00"
    )

    clock.now = at(11, 27, 16)  # Friday 16:00: the requester is away until Monday
    asked = ok(
        wangjing.post(
            f"/api/cases/{ticket}/pause",
            json={"reason_code": "requester", "reason": "居民出差，周一回京后入户查看"},
        )
    )
    assert asked["pause"]["status"] == "requested" and "pause_decision" in asked["allowed_actions"]
    [waiting] = ok(zhao.get("/api/queues/pauses"))
    assert (waiting["ticket_id"], waiting["by"], waiting["reason_code"]) == (ticket, "wangjing", "requester")

    paused = ok(zhao.post(f"/api/cases/{ticket}/pause/approve", json={"reason": "同意"}))
    assert paused["pause"]["status"] == "paused" and paused["allowed_actions"] == ["resume"]
    assert "paused since 11-27 16:00 until resumed" in paused["deadlines"]["reply"]["how"]
    assert ok(zhao.get("/api/queues/pauses")) == []
    assert not {timer for timer in pending_timers(system, ticket) if timer[0] == "reply"}
    refused = wangjing.post(f"/api/cases/{ticket}/resolve", json={"result": "已清运"})
    assert refused.status_code == 409 and "allowed now: resume" in refused.json()["detail"]

    clock.now = at(11, 30, 10)  # Monday 10:00
    resumed = ok(wangjing.post(f"/api/cases/{ticket}/resume", json={"note": "居民已回京"}))

    # Friday 16:00-17:30 and Monday 09:00-10:00: 2 h 30 min of working time, not 66 hours
    assert resumed["pause"] is None and resumed["deadlines"]["reply"]["due_at"] == "2026-12-08T11:30:00+08:00"
    assert resumed["deadlines"]["reply"]["how"].endswith(
        "2 h 30 min of working time paused (11-27 16:00..11-30 10:00, working hours 09:00-12:00, "
        "13:30-17:30 on working days) → due 2026-12-08 11:30 +0800"
    )
    assert {deadline for stage, _, deadline in pending_timers(system, ticket) if stage == "reply"} == {
        at(12, 8, 11, 30)
    }
    told = [(kind, body) for kind, body in events(system, ticket) if "pause" in kind or "resume" in kind]
    assert [kind for kind, _ in told] == [
        "jiesu.case.pause_requested",
        "jiesu.case.paused",
        "jiesu.case.resumed",
    ]
    assert told[2][1]["paused_working_minutes"] == 150
    assert told[2][1]["deadlines"] == {"reply": {"due_at": "2026-12-08T11:30:00+08:00", "state": "pending"}}
    timeline = ok(wangjing.get(f"/api/cases/{ticket}/timeline"))
    assert [(e["actor"], e["action"]) for e in timeline][-3:] == [
        ("wangjing", "request_pause"),
        ("zhao", "approve_pause"),
        ("wangjing", "resume"),
    ]


def test_while_paused_no_deadline_fires_and_after_the_resume_the_moved_one_does(system, li, zhao, clock):
    ticket = open_case(system, "BJ-P2", category="0101")  # urgent, at a 7x24 enterprise: reply in 24 h
    signed(li, ticket)
    clock.now = at(11, 26, 11)
    ok(li.post(f"/api/cases/{ticket}/pause", json={"reason_code": "third_party", "reason": "等物业开门"}))
    ok(zhao.post(f"/api/cases/{ticket}/pause/approve"))

    clock.now = at(11, 27, 12)  # two hours past the reply deadline (11-27 10:00): the clock stood still
    sweep(system.engine, system.bus, clock)
    assert not [kind for kind, _ in events(system, ticket) if kind.startswith("jiesu.sla")]
    assert ok(li.get(f"/api/cases/{ticket}"))["deadlines"]["reply"]["state"] == "pending"  # not overdue
    assert ok(zhao.get("/api/cases", params={"overdue": True})) == []
    resumed = ok(li.post(f"/api/cases/{ticket}/resume"))
    assert (
        resumed["deadlines"]["reply"]["due_at"] == "2026-11-28T11:00:00+08:00"
    )  # 25 hours paused, every hour counts

    clock.now = at(11, 28, 11, 30)
    sweep(system.engine, system.bus, clock)
    assert ("jiesu.sla.breached", "reply") in {
        (kind, body.get("stage")) for kind, body in events(system, ticket)
    }


def test_the_sweeper_resumes_a_pause_on_its_date(system, as_, zhao, clock):
    wangjing = as_("wangjing")
    ticket = open_case(system, "BJ-P3", **STREET, location=WANGJING)
    signed(wangjing, ticket)
    clock.now = at(11, 27, 16)
    ok(
        wangjing.post(
            f"/api/cases/{ticket}/pause",
            json={"reason_code": "court", "reason": "等待法院裁定", "resume_at": "2026-11-30T10:00:00+08:00"},
        )
    )
    ok(zhao.post(f"/api/cases/{ticket}/pause/approve"))
    assert ("pause", "resume", at(11, 30, 10)) in pending_timers(system, ticket)

    clock.now = at(11, 30, 9, 59)
    sweep(system.engine, system.bus, clock)
    assert ok(wangjing.get(f"/api/cases/{ticket}"))["pause"]["status"] == "paused"
    clock.now = at(11, 30, 10)
    sweep(system.engine, system.bus, clock)

    case = ok(wangjing.get(f"/api/cases/{ticket}"))
    assert case["pause"] is None and case["deadlines"]["reply"]["due_at"] == "2026-12-08T11:30:00+08:00"
    [resumed] = [body for kind, body in events(system, ticket) if kind == "jiesu.case.resumed"]
    assert (resumed["by"], resumed["scheduled"]) == ("jiesu", True)
    assert ok(wangjing.get(f"/api/cases/{ticket}/timeline"))[-1]["reason"].endswith("the resume date came")


def test_a_rejected_pause_keeps_the_clock_and_only_the_scope_may_decide(system, as_, zhao, clock):
    wangjing, haidian = as_("wangjing"), as_("haidian")
    ticket = open_case(system, "BJ-P4", **STREET, location=WANGJING)
    signed(wangjing, ticket)
    ok(wangjing.post(f"/api/cases/{ticket}/pause", json={"reason_code": "season", "reason": "供暖季后施工"}))

    assert wangjing.post(f"/api/cases/{ticket}/pause/approve").status_code == 403  # a unit may not decide
    assert haidian.post(f"/api/cases/{ticket}/pause/approve").status_code == 403  # outside 海淀区
    rejected = ok(zhao.post(f"/api/cases/{ticket}/pause/reject", json={"reason": "可先协调施工"}))
    assert (
        rejected["pause"] is None and rejected["deadlines"]["reply"]["due_at"] == "2026-12-08T00:00:00+08:00"
    )
    assert "jiesu.case.pause_rejected" in [kind for kind, _ in events(system, ticket)]
    assert wangjing.post(f"/api/cases/{ticket}/resume").status_code == 409


def test_bad_pauses_are_refused_with_a_clear_reason(system, as_, clock):
    wangjing = as_("wangjing")
    ticket = open_case(system, "BJ-P5", **STREET, location=WANGJING)
    early = wangjing.post(
        f"/api/cases/{ticket}/pause", json={"reason_code": "requester", "reason": "联系不上"}
    )
    assert early.status_code == 409 and "is dispatched: cannot pause" in early.json()["detail"]
    signed(wangjing, ticket)
    unknown = wangjing.post(f"/api/cases/{ticket}/pause", json={"reason_code": "holiday", "reason": "x"})
    assert unknown.status_code == 422
    past = wangjing.post(
        f"/api/cases/{ticket}/pause",
        json={"reason_code": "requester", "reason": "x", "resume_at": "2026-11-26T09:00:00+08:00"},
    )
    assert past.status_code == 422 and "has passed" in past.text
    assert at(11, 26, 10) == NOW  # the requests above were refused at dispatch time


def test_the_pages_show_the_pause_to_the_unit_and_let_the_supervisor_decide_it(system, clock):
    add_people(system, "wangjing", "zhao")
    app = create_app(system.settings, system)
    worker, supervisor = logged_in(app, "wangjing"), logged_in(app, "zhao")
    ticket = open_case(system, "BJ-P6", **STREET, location=WANGJING)
    system.bus.handle(c.AcknowledgeCase(ticket, "wangjing"))
    system.bus.handle(c.RecordContact(ticket, "wangjing"))

    page = worker.get(f"/cases/{ticket}").text
    assert 'id="do-pause"' in page and 'id="do-resume"' not in page
    form = {"csrf": csrf_of(page), "code": "court", "reason": "等待法院裁定", "until": "2026-12-10T09:00"}
    worker.post(f"/cases/{ticket}/act/pause", data=form)

    dashboard = supervisor.get("/dashboard").text
    assert re.search(r'id="count-pause-requested">1<', dashboard) and "等待法院裁定" in dashboard
    answer = supervisor.post(
        f"/dashboard/pause/{ticket}", data={"csrf": csrf_of(dashboard), "approve": "yes"}
    )
    assert answer.status_code in (200, 303), answer.text
    dashboard = supervisor.get("/dashboard").text
    assert re.search(r'id="count-paused">1<', dashboard) and re.search(
        r'id="count-pause-requested">0<', dashboard
    )

    page = worker.get(f"/cases/{ticket}").text
    assert "挂起中" in page and "等待法院或裁决" in page and "2026-12-10 09:00" in page
    assert 'id="do-resume"' in page and 'id="do-resolve"' not in page


def test_the_cli_asks_decides_and_resumes_a_pause(system, monkeypatch):
    """The CLI acts on the wall clock: the resume date is years ahead."""
    monkeypatch.setenv("JIESU_DATABASE_URL", system.settings.database_url)
    monkeypatch.setenv("JIESU_CATALOG_DIR", str(system.settings.catalog_dir))
    ticket = open_case(system, "BJ-P7", **STREET, location=WANGJING)
    system.bus.handle(c.AcknowledgeCase(ticket, "wangjing"))

    def case(*args: str) -> Result:
        return CliRunner().invoke(cli, ["case", *args, ticket])

    asked = case("pause", "--as", "wangjing", "--code", "third_party", "--reason", "等物业提供图纸")
    assert asked.exit_code == 0, asked.output
    rejected = case("reject-pause", "--as", "zhao", "--reason", "可先现场查看")
    assert rejected.exit_code == 0, rejected.output
    assert case("resume", "--as", "wangjing").exit_code == 4  # not paused: refused, saying so
    case("pause", "--as", "wangjing", "--code", "season", "--reason", "供暖季后施工")
    approved = case("approve-pause", "--as", "zhao", "--until", "2030-12-01T09:00:00+08:00")
    assert approved.exit_code == 0, approved.output
    assert case("resume", "--as", "wangjing", "--note", "物业已答复").exit_code == 0
    with system.engine.connect() as connection:
        query = select(t.audit.c.action).where(t.audit.c.ticket_id == ticket).order_by(t.audit.c.id)
        actions = list(connection.execute(query).scalars())
    assert actions[-5:] == ["request_pause", "reject_pause", "request_pause", "approve_pause", "resume"]
