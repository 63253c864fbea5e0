"""Supervision orders (督办单) over the real system, on SQLite and PostgreSQL: a supervisor issues one
through the API or the CLI, the addressed unit answers it, its warning and escalation fire through the
sweeper while it is open and never once it is answered. The clock starts Thursday 26 November 2026, 10:00
in Beijing."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from typer.testing import CliRunner

from consumers.intake import handle_intake
from consumers.sweeper import sweep
from dispatcher.adapters import tables as t
from dispatcher.adapters.sql import decode_headers
from dispatcher.bootstrap import System
from dispatcher.domain.access import Visible
from dispatcher.reads.supervision import supervision_order, supervision_orders
from jiesu.cli.main import app
from jiesu.web.app import create_app
from tests.support.builders import intake_record, make_complaint
from tests.support.clock import BEIJING
from tests.support.logins import Caller, add_people, csrf_of, logged_in


def open_case(system: System, ticket: str = "BJ1") -> str:
    """A heating case in 朝阳区, dispatched to ent-heating (post `dispatch`, also the top of its ladder)."""
    complaint = make_complaint(ticket_id=ticket, category="0101", urgency="general")
    handle_intake(intake_record(complaint), system.bus)
    return ticket


def published(system: System, prefix: str = "jiesu.case.supervision_") -> list[tuple[str, dict[str, Any]]]:
    """(ce_type, data) of the supervision order events in the outbox, in order."""
    found = []
    with system.engine.connect() as connection:
        for headers, value in connection.execute(
            select(t.outbox.c.headers, t.outbox.c.value).order_by(t.outbox.c.id)
        ):
            kind = dict(decode_headers(headers))["ce_type"].decode()
            if kind.startswith(prefix):
                found.append((kind, json.loads(value)))
    return found


def audit(system: System, ticket: str) -> list[tuple[str, str]]:
    with system.engine.connect() as connection:
        query = select(t.audit.c.actor, t.audit.c.action).where(t.audit.c.ticket_id == ticket)
        return [tuple(row) for row in connection.execute(query.order_by(t.audit.c.id))]  # type: ignore[misc]


def order(caller: Caller, ticket: str, **body: Any) -> httpx.Response:
    return caller.post(
        f"/api/cases/{ticket}/supervision-orders", json={"ask": "请说明暖气仍不热的原因", **body}
    )


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def test_a_supervisor_orders_the_unit_which_answers_and_everyone_sees_it(system, as_, zhao, li):
    ticket = open_case(system)
    issued = created(order(zhao, ticket, within="2 working days"))
    # Thursday 10:00 + 2 working days: the end of Monday 30 November
    assert datetime.fromisoformat(issued["due_at"]) == datetime(2026, 12, 1, 0, 0, tzinfo=BEIJING)
    assert (issued["unit"], issued["addressee"], issued["status"], issued["overdue"]) == (
        "ent-heating",
        "unit",
        "open",
        False,
    )
    assert "2 working days (asked by the supervisor)" in issued["how"]
    assert published(system) == [
        (
            "jiesu.case.supervision_ordered",
            {
                "ticket_id": ticket,
                "at": "2026-11-26T02:00:00Z",
                "order_id": issued["order_id"],
                "unit": "ent-heating",
                "addressee": "unit",
                "ask": "请说明暖气仍不热的原因",
                "due_at": "2026-12-01T00:00:00+08:00",
                "by": "zhao",
            },
        )
    ]
    open_ids = lambda who: [o["order_id"] for o in as_(who).get("/api/supervision-orders?status=open").json()]  # noqa: E731
    assert open_ids("zhao") == open_ids("chaoyang") == open_ids("li") == [issued["order_id"]]
    assert open_ids("haidian") == open_ids("zhou") == []
    [on_case] = li.get(f"/api/cases/{ticket}/supervision-orders").json()
    assert on_case["order_id"] == issued["order_id"]

    refused = as_("zhou").post(
        f"/api/supervision-orders/{issued['order_id']}/answer", json={"reply": "不是我们"}
    )
    assert refused.status_code == 403 and "addressed to ent-heating" in refused.json()["detail"]
    assert ("zhou", "denied:answer_order") in audit(system, ticket)
    answered = li.post(f"/api/supervision-orders/{issued['order_id']}/answer", json={"reply": "已更换循环泵"})
    assert answered.status_code == 200, answered.text
    assert (answered.json()["status"], answered.json()["answer"], answered.json()["answered_by"]) == (
        "answered",
        "已更换循环泵",
        "li",
    )
    again = li.post(f"/api/supervision-orders/{issued['order_id']}/answer", json={"reply": "再答"})
    assert again.status_code == 409 and "was answered by li" in again.json()["detail"]
    assert open_ids("zhao") == []
    assert [o["order_id"] for o in zhao.get("/api/supervision-orders?status=answered").json()] == [
        issued["order_id"]
    ]
    kind, data = published(system)[-1]
    assert kind == "jiesu.case.supervision_answered" and (data["by"], data["late"]) == ("li", False)
    assert ("zhao", "supervision_order") in audit(system, ticket)
    assert ("li", "supervision_answer") in audit(system, ticket)


def test_who_may_order_and_what_an_order_needs(system, as_, zhao, li):
    ticket = open_case(system)
    assert order(li, ticket).status_code == 403  # a worker does not issue orders
    assert order(as_("haidian"), ticket).status_code == 403  # outside the supervisor's district
    assert order(zhao, "NO-SUCH").status_code == 404
    assert order(zhao, ticket, within="soon").status_code == 422
    wrong_unit = order(zhao, ticket, to="street-110105010")
    assert wrong_unit.status_code == 422 and "handled by ent-heating" in wrong_unit.json()["detail"]
    assert order(zhao, ticket, ask="").status_code == 422
    assert li.post("/api/supervision-orders/SO-NONE/answer", json={"reply": "x"}).status_code == 404
    assert zhao.post("/api/supervision-orders/SO-NONE/answer", json={"reply": "x"}).status_code == 403
    assert published(system) == []
    issued = created(order(as_("chaoyang"), ticket))  # no duration: the SLA file's default
    assert "3 working days (the SLA file's default)" in issued["how"]


def test_an_order_to_the_head_is_answered_at_the_head_post_and_by_an_admin(system, as_, zhao):
    ticket = open_case(system)
    issued = created(order(zhao, ticket, addressee="head"))
    assert issued["addressee"] == "head"
    answered = as_("root").post(
        f"/api/supervision-orders/{issued['order_id']}/answer", json={"reply": "已约谈"}
    )
    assert answered.status_code == 200 and answered.json()["answered_by"] == "root"


def test_the_order_warns_then_escalates_through_the_sweeper_once_and_not_after_its_answer(
    system, clock, zhao, li
):
    ticket = open_case(system)
    clock.at(hours=1)  # the case's own timers aside: acknowledge and contact it
    li.post(f"/api/cases/{ticket}/acknowledge")
    li.post(f"/api/cases/{ticket}/contact", json={"note": "已联系"})
    sweep(system.engine, system.bus, clock)
    late = created(order(zhao, ticket, within="4 hours"))  # due 15:00
    answered = created(order(zhao, ticket, within="4 hours"))
    ok = li.post(f"/api/supervision-orders/{answered['order_id']}/answer", json={"reply": "已处理"})
    assert ok.status_code == 200
    clock.at(hours=3, minutes=59)  # issued at 11:00, due 15:00: no warning before 14:00
    sweep(system.engine, system.bus, clock)
    assert [kind for kind, _ in published(system)][3:] == []
    clock.at(hours=4, minutes=1)  # the warning at three quarters of the time: 14:00
    sweep(system.engine, system.bus, clock)
    assert [kind for kind, _ in published(system)][3:] == ["jiesu.case.supervision_warning"]
    clock.at(hours=5, minutes=1)
    sweep(system.engine, system.bus, clock)
    sweep(system.engine, system.bus, clock)  # again: nothing new
    kinds = [(kind, data["order_id"]) for kind, data in published(system)][3:]
    assert kinds == [
        ("jiesu.case.supervision_warning", late["order_id"]),
        ("jiesu.case.supervision_overdue", late["order_id"]),
    ]
    assert published(system)[-1][1]["target"] == "ent-heating:unit_head"
    assert ("jiesu", "supervision_overdue") in audit(system, ticket)
    [listed] = zhao.get("/api/supervision-orders?status=open").json()
    assert listed["order_id"] == late["order_id"] and listed["overdue"] is True
    with system.engine.connect() as connection:
        statuses = dict(
            connection.execute(
                select(t.sla_timers.c.kind, t.sla_timers.c.status).where(
                    t.sla_timers.c.stage == answered["order_id"]
                )
            ).all()
        )
    assert statuses == {"warning": "cancelled", "escalation": "cancelled"}
    late_answer = li.post(f"/api/supervision-orders/{late['order_id']}/answer", json={"reply": "迟复"})
    assert late_answer.status_code == 200
    assert published(system)[-1][1]["late"] is True


def test_the_cli_orders_lists_and_answers(system, monkeypatch):
    ticket = open_case(system)
    monkeypatch.setenv("JIESU_DATABASE_URL", system.settings.database_url)
    monkeypatch.setenv("JIESU_CATALOG_DIR", str(system.settings.catalog_dir))
    runner = CliRunner()
    result = runner.invoke(
        app, ["case", "order", ticket, "--as", "zhao", "--ask", "请说明原因", "--within", "2 working days"]
    )
    assert result.exit_code == 0, result.output
    order_id = result.output.split(":")[0]
    assert order_id.startswith("SO-") and "ent-heating (unit)" in result.output
    listed = runner.invoke(app, ["case", "orders", "--status", "open"])
    assert order_id in listed.output and ticket in listed.output
    wrong = runner.invoke(
        app, ["case", "answer-order", order_id, "--as", "zhou", "--unit", "ent-heating-b", "--reply", "否"]
    )
    assert wrong.exit_code != 0 and "addressed to ent-heating" in wrong.output
    answered = runner.invoke(
        app, ["case", "answer-order", order_id, "--as", "li", "--unit", "ent-heating", "--reply", "已修复"]
    )
    assert answered.exit_code == 0, answered.output
    assert published(system)[-1][0] == "jiesu.case.supervision_answered"
    assert (
        runner.invoke(app, ["case", "answer-order", "SO-NONE", "--as", "li", "--reply", "x"]).exit_code == 3
    )


def test_on_the_pages_a_supervisor_issues_from_the_case_the_unit_answers_and_the_dashboard_lists_it(system):
    ticket = open_case(system)
    add_people(system, "zhao", "li", "zhou")
    web = create_app(system.settings, system)
    zhao, li = logged_in(web, "zhao"), logged_in(web, "li")
    case_page = zhao.get(f"/cases/{ticket}").text
    assert 'id="issue-order"' in case_page
    issued = zhao.post(
        f"/cases/{ticket}/orders",
        data={
            "csrf": csrf_of(case_page),
            "ask": "请当日说明暖气不热原因",
            "to": "ent-heating",
            "within": "8 working hours",
        },
        follow_redirects=False,
    )
    assert issued.status_code == 303
    [listed] = supervision_orders(system.engine, Visible(everything=True), system.clock())
    dashboard = zhao.get("/dashboard").text
    assert listed.order_id in dashboard and "请当日说明暖气不热原因" in dashboard
    assert 'id="issue-order"' not in li.get(f"/cases/{ticket}").text
    assert listed.order_id in li.get("/inbox").text  # the unit sees what it is asked, until it answers
    zhou = logged_in(web, "zhou")  # another unit's worker: the order's unit refuses it
    refused = zhou.post(
        f"/orders/{listed.order_id}/answer",
        data={"csrf": csrf_of(zhou.get("/inbox").text), "reply": "不是我们"},
        follow_redirects=False,
    )
    assert refused.status_code == 403 and "addressed to ent-heating" in refused.text
    assert supervision_order(system.engine, listed.order_id, system.clock()).status == "open"  # type: ignore[union-attr]
    answered = li.post(
        f"/orders/{listed.order_id}/answer",
        data={"csrf": csrf_of(li.get(f"/cases/{ticket}").text), "reply": "已派人检修，当日恢复"},
        follow_redirects=True,
    )
    assert "已派人检修，当日恢复" in answered.text
    assert "请当日说明暖气不热原因" not in zhao.get("/dashboard").text
    assert listed.order_id not in li.get("/inbox").text


def test_a_retried_order_with_its_idempotency_key_returns_the_first_order(system, zhao):
    ticket = open_case(system)

    def issue(key: str | None, ask: str = "请说明暖气仍不热的原因") -> httpx.Response:
        headers = {**zhao.headers, **({"Idempotency-Key": key} if key else {})}
        body = {"ask": ask, "within": "2 working days"}
        return zhao.client.post(f"/api/cases/{ticket}/supervision-orders", json=body, headers=headers)

    first = issue("2f1c9e0a-retry")
    again = issue("2f1c9e0a-retry")  # the answer was lost: the client sends the same request again
    other = issue("7b33d1c4-another")  # a second order, meant as one

    assert first.status_code == 201, first.text
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert other.status_code == 201 and other.json()["order_id"] != first.json()["order_id"]
    ordered = [
        data["order_id"] for kind, data in published(system) if kind == "jiesu.case.supervision_ordered"
    ]
    assert ordered == [first.json()["order_id"], other.json()["order_id"]]
    assert audit(system, ticket).count(("zhao", "supervision_order")) == 2
    assert issue(None).status_code == issue(None).status_code == 201  # without a key: each is an order
    bad = issue("not a key")  # spaces are not allowed
    assert bad.status_code == 422 and "Idempotency-Key" in bad.text
