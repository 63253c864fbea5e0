"""Governance tasks (主动治理任务) over the real system, on SQLite and PostgreSQL: a supervisor makes an open
hotspot a task for a unit, which links the hotspot's cases; a second task for it is refused; the unit
reports it done; while it is not, the sweeper warns the unit and escalates to its head, then the center.
The clock starts Thursday 26 November 2026, 10:00 in Beijing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from typer.testing import CliRunner

from consumers.intake import handle_intake
from consumers.sweeper import sweep
from dispatcher.adapters import tables as t
from dispatcher.adapters.sql import decode_headers
from dispatcher.bootstrap import System
from dispatcher.reads.hotspot_sparklines import hourly_counts
from dispatcher.reads.hotspots import hotspots
from jiesu.cli.main import app
from jiesu.web.app import create_app
from tests.support.builders import intake_record, make_complaint
from tests.support.clock import BEIJING, NOW
from tests.support.hotspots import store_hotspot
from tests.support.logins import add_people, csrf_of, logged_in


def open_cases(system: System, n: int = 5) -> list[str]:
    """Heating cases at 望京 in 朝阳区, dispatched to ent-heating."""
    tickets = [f"GV{i}" for i in range(n)]
    for ticket in tickets:
        handle_intake(intake_record(make_complaint(ticket_id=ticket, category="0101")), system.bus)
    return tickets


def a_hotspot(system: System, tickets: list[str], hotspot_id: str = "hs-1") -> str:
    return store_hotspot(system.engine, tickets, NOW, hotspot_id).hotspot_id


def published(system: System) -> list[tuple[str, str, dict[str, Any]]]:
    """(topic, ce_type, data) of the governance events in the outbox, in order."""
    found = []
    with system.engine.connect() as connection:
        for topic, headers, value in connection.execute(
            select(t.outbox.c.topic, t.outbox.c.headers, t.outbox.c.value).order_by(t.outbox.c.id)
        ):
            kind = dict(decode_headers(headers))["ce_type"].decode()
            if kind.startswith("jiesu.governance."):
                found.append((topic, kind, json.loads(value)))
    return found


def audit(system: System, ticket: str) -> list[tuple[str, str]]:
    with system.engine.connect() as connection:
        query = select(t.audit.c.actor, t.audit.c.action).where(t.audit.c.ticket_id == ticket)
        return [tuple(row) for row in connection.execute(query.order_by(t.audit.c.id))]  # type: ignore[misc]


def task(caller: Any, hotspot_id: str, **body: Any) -> httpx.Response:
    payload = {"unit": "ent-heating", "ask": "查明望京供热管网故障并整改", "due_working_days": 5, **body}
    return caller.post(f"/api/hotspots/{hotspot_id}/governance-task", json=payload)


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def test_a_supervisor_makes_a_hotspot_a_task_the_unit_reports_it_and_a_second_is_refused(
    system, as_, zhao, li
):
    tickets = open_cases(system)
    hotspot = a_hotspot(system, tickets)
    made = created(task(zhao, hotspot))
    # Thursday 10:00 + 5 working days: the end of Thursday 3 December
    assert datetime.fromisoformat(made["due_at"]) == datetime(2026, 12, 4, 0, 0, tzinfo=BEIJING)
    assert (made["unit"], made["status"], made["ticket_ids"], made["created_by"]) == (
        "ent-heating",
        "open",
        tickets,
        "zhao",
    )
    [(topic, kind, data)] = published(system)
    assert (topic, kind) == ("jiesu.hotspots", "jiesu.governance.task_created")
    assert data == {
        "task_id": made["task_id"],
        "hotspot_id": hotspot,
        "unit": "ent-heating",
        "district": made["district"],
        "category": "0101",
        "at": "2026-11-26T02:00:00Z",
        "ask": "查明望京供热管网故障并整改",
        "due_at": "2026-12-04T00:00:00+08:00",
        "by": "zhao",
        "ticket_ids": tickets,
    }
    for ticket in tickets:  # each case's trail shows the task; the cases stay as they were
        assert ("zhao", "governance_task_created") in audit(system, ticket)
    again = task(as_("chaoyang"), hotspot)
    assert again.status_code == 409 and made["task_id"] in again.json()["detail"]

    open_ids = lambda who: [x["task_id"] for x in as_(who).get("/api/governance-tasks?status=open").json()]  # noqa: E731
    assert open_ids("zhao") == open_ids("chaoyang") == open_ids("li") == [made["task_id"]]
    assert open_ids("haidian") == open_ids("zhou") == []

    wrong = as_("zhou").post(f"/api/governance-tasks/{made['task_id']}/report", json={"report": "不是我们"})
    assert wrong.status_code == 403 and "is for ent-heating" in wrong.json()["detail"]
    done = li.post(f"/api/governance-tasks/{made['task_id']}/report", json={"report": "已更换望京主管网阀门"})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["report"], done.json()["reported_by"]) == (
        "done",
        "已更换望京主管网阀门",
        "li",
    )
    twice = li.post(f"/api/governance-tasks/{made['task_id']}/report", json={"report": "再报"})
    assert twice.status_code == 409 and "was reported by li" in twice.json()["detail"]
    assert open_ids("zhao") == []
    assert [x["task_id"] for x in zhao.get("/api/governance-tasks?status=done").json()] == [made["task_id"]]
    _, kind, data = published(system)[-1]
    assert kind == "jiesu.governance.task_reported" and (data["by"], data["late"]) == ("li", False)
    assert ("li", "governance_task_reported") in audit(system, tickets[-1])
    with system.engine.connect() as connection:
        states = connection.execute(
            select(t.sla_timers.c.kind, t.sla_timers.c.level, t.sla_timers.c.status).where(
                t.sla_timers.c.stage == made["task_id"]
            )
        ).all()
    assert sorted(states) == [
        ("escalation", 1, "cancelled"),
        ("escalation", 2, "cancelled"),
        ("warning", 0, "cancelled"),
    ]


def test_who_may_make_a_task_and_what_it_needs(system, as_, zhao, li):
    tickets = open_cases(system)
    hotspot = a_hotspot(system, tickets)
    assert task(li, hotspot).status_code == 403  # a worker does not make tasks
    outside = task(as_("haidian"), hotspot)  # another district's supervisor
    assert outside.status_code == 403 and "outside your scope" in outside.json()["detail"]
    assert task(zhao, "no-such").status_code == 404
    assert task(zhao, hotspot, unit="no-such-unit").status_code == 422
    assert task(zhao, hotspot, ask="").status_code == 422
    neither = task(zhao, hotspot, due_working_days=None)
    assert neither.status_code == 422 and "deadline" in neither.json()["detail"]
    past = task(zhao, hotspot, due_working_days=None, due_at="2026-11-25T10:00:00+08:00")
    assert past.status_code == 422
    assert li.post("/api/governance-tasks/GT-NONE/report", json={"report": "x"}).status_code == 404
    assert published(system) == []
    made = created(task(as_("chaoyang"), hotspot, due_working_days=None, due_at="2026-11-30T18:00:00+08:00"))
    assert datetime.fromisoformat(made["due_at"]) == datetime(2026, 11, 30, 18, 0, tzinfo=BEIJING)


def test_an_unreported_task_warns_then_escalates_to_the_head_then_the_center_once(system, clock, zhao, li):
    tickets = open_cases(system)
    made = created(task(zhao, a_hotspot(system, tickets), due_working_days=1))
    due = datetime.fromisoformat(made["due_at"])  # Thursday 10:00 + 1 working day: the end of Friday
    assert due == datetime(2026, 11, 28, 0, 0, tzinfo=BEIJING)
    kinds = lambda: [(kind, data.get("target")) for _, kind, data in published(system)][1:]  # noqa: E731
    clock.now = NOW + (due - NOW) * 0.74
    sweep(system.engine, system.bus, clock)
    assert kinds() == []
    clock.now = NOW + (due - NOW) * 0.76
    sweep(system.engine, system.bus, clock)
    assert kinds() == [("jiesu.governance.task_warning", None)]
    clock.now = due + timedelta(minutes=1)
    sweep(system.engine, system.bus, clock)
    sweep(system.engine, system.bus, clock)  # again: nothing new
    assert kinds()[1:] == [("jiesu.governance.task_overdue", "ent-heating:unit_head")]
    [listed] = zhao.get("/api/governance-tasks?status=open").json()
    assert listed["overdue"] is True
    clock.now = due + timedelta(days=4)  # past the next working day (Monday): the center
    sweep(system.engine, system.bus, clock)
    assert kinds()[2:] == [("jiesu.governance.task_overdue", "center:supervisor")]
    assert published(system)[-1][2]["level"] == 2
    assert ("jiesu", "governance_task_overdue") in audit(system, tickets[0])
    late = li.post(f"/api/governance-tasks/{made['task_id']}/report", json={"report": "迟报：已整改"})
    assert late.status_code == 200
    assert published(system)[-1][2]["late"] is True


def test_on_the_dashboard_a_supervisor_sees_the_hotspot_with_its_sparkline_and_makes_it_a_task(system):
    tickets = open_cases(system)
    hotspot = a_hotspot(system, tickets)
    add_people(system, "zhao", "li", "haidian")
    web = create_app(system.settings, system)
    zhao, li = logged_in(web, "zhao"), logged_in(web, "li")
    dashboard = zhao.get("/dashboard").text
    row = dashboard[dashboard.index(f'id="hotspot-{hotspot}"') :].split("</tr>")[0]
    assert "<svg" in row and "<polyline" in row  # the last 24 hours of its street and category
    assert '<span class="muted counts">5</span>' in row  # the five cases, dispatched this hour
    assert "<strong>5</strong> / 0.2" in row and 'action="/hotspots/hs-1/task"' in row
    assert (
        f'id="hotspot-{hotspot}"' not in logged_in(web, "haidian").get("/dashboard").text
    )  # another district
    made = zhao.post(
        f"/hotspots/{hotspot}/task",
        data={"csrf": csrf_of(dashboard), "unit": "ent-heating", "ask": "查明管网故障", "days": "5"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    [(_, _, data)] = published(system)
    dashboard = zhao.get("/dashboard").text
    row = dashboard[dashboard.index(f'id="hotspot-{hotspot}"') :].split("</tr>")[0]
    assert data["task_id"] in row and 'action="/hotspots/hs-1/task"' not in row
    case_page = li.get(f"/cases/{tickets[2]}").text  # each linked case says it belongs to the task
    assert f'id="task-{data["task_id"]}"' in case_page and "查明管网故障" in case_page
    assert "纳入主动治理任务" in case_page  # and its timeline (the audit trail) has the task's line
    reported = li.post(
        f"/governance-tasks/{data['task_id']}/report",
        data={"csrf": csrf_of(case_page), "ticket_id": tickets[2], "report": "已更换阀门，供热恢复"},
        follow_redirects=True,
    )
    assert "已更换阀门，供热恢复" in reported.text
    assert published(system)[-1][1] == "jiesu.governance.task_reported"


def test_the_cli_makes_lists_and_reports_a_task(system, monkeypatch):
    tickets = open_cases(system)
    hotspot = a_hotspot(system, tickets)
    monkeypatch.setenv("JIESU_DATABASE_URL", system.settings.database_url)
    monkeypatch.setenv("JIESU_CATALOG_DIR", str(system.settings.catalog_dir))
    runner = CliRunner()
    listed = runner.invoke(app, ["hotspot", "list"])
    assert listed.exit_code == 0 and hotspot in listed.output and "5/0.2" in listed.output
    made = runner.invoke(
        app,
        [
            "hotspot",
            "task",
            hotspot,
            "--as",
            "zhao",
            "--unit",
            "ent-heating",
            "--ask",
            "查明原因",
            "--days",
            "5",
        ],
    )
    assert made.exit_code == 0, made.output
    task_id = made.output.split()[0]
    assert task_id.startswith("GT-") and "5 cases" in made.output and "5 working days" in made.output
    again = runner.invoke(
        app,
        ["hotspot", "task", hotspot, "--as", "zhao", "--unit", "ent-heating", "--ask", "再立", "--days", "5"],
    )
    assert again.exit_code == 5 and f"already is governance task {task_id}" in again.output
    assert task_id in runner.invoke(app, ["hotspot", "tasks", "--status", "open"]).output
    wrong = runner.invoke(
        app, ["hotspot", "report-task", task_id, "--as", "zhou", "--unit", "ent-heating-b", "--report", "否"]
    )
    assert wrong.exit_code != 0 and "is for ent-heating" in wrong.output
    done = runner.invoke(
        app, ["hotspot", "report-task", task_id, "--as", "li", "--unit", "ent-heating", "--report", "已整改"]
    )
    assert done.exit_code == 0 and "done: 已整改" in done.output
    assert (
        runner.invoke(app, ["hotspot", "report-task", "GT-NONE", "--as", "li", "--report", "x"]).exit_code
        == 3
    )


def test_the_sparkline_counts_the_hotspots_street_and_category_hour_by_hour(system, clock):
    def request(ticket: str, hours_ago: float, street: str = "望京街道", category: str = "0101") -> None:
        clock.now = NOW - timedelta(hours=hours_ago)
        location = {"district": "朝阳区", "street": street}
        complaint = make_complaint(ticket_id=ticket, category=category, location=location)
        handle_intake(intake_record(complaint), system.bus)

    for n in range(3):
        request(f"E{n}", 5.5)  # in the hour ending five hours ago
    request("Y1", 30)  # before the last 24 hours
    request("O1", 0.5, street="八里庄街道")  # another street
    request("O2", 0.5, category="02")  # another category
    request("N1", 0.2)
    request("N2", 0.1)
    clock.now = NOW
    store_hotspot(system.engine, ["N1", "N2"], NOW)
    [hotspot] = hotspots(system.engine, status="open")
    counts = hourly_counts(system.engine, hotspot, NOW)
    assert len(counts) == 24 and sum(counts) == 5
    assert (counts[-6], counts[-1]) == (3, 2)
