"""The REST API over the real system and database (SQLite and PostgreSQL), as units and supervisors use it."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer
from sqlalchemy import select

from consumers.intake import handle_intake
from consumers.sweeper import sweep
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import make_engine, upgrade
from dispatcher.adapters.people import PeopleStore
from dispatcher.bootstrap import System, bootstrap
from dispatcher.contract.cloudevents import KafkaRecord, decode
from dispatcher.contract.events import Topic, types_on
from dispatcher.domain import commands as c
from dispatcher.domain.access import PersonError, Principal, Role
from dispatcher.service.messagebus import MessageBus
from dispatcher.service.unit_of_work import ConcurrencyError
from dispatcher.settings import Settings
from jiesu.web.app import create_app
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import HEATING_RULE, write_catalog
from tests.support.clock import NOW, Clock
from tests.support.fakes import FakeIntake
from tests.support.logins import PASSWORD, Caller


def open_case(system: System, ticket: str = "BJ1", **overrides: Any) -> str:
    handle_intake(
        intake_record(make_complaint(ticket_id=ticket, **{"category": "0101", **overrides})), system.bus
    )
    return ticket


def act(caller: Caller, ticket: str, action: str, **body: Any) -> httpx.Response:
    return caller.post(f"/api/cases/{ticket}/{action}", json=body)


def denials(system: System, ticket: str) -> list[tuple[str, str, str | None, str]]:
    """The denied attempts in the case's audit trail: (actor, action, from_state, state)."""
    with system.engine.connect() as connection:
        rows = connection.execute(select(t.audit).where(t.audit.c.ticket_id == ticket).order_by(t.audit.c.id))
        entries = rows.mappings().all()
    return [
        (row["actor"], row["action"], row["from_state"], row["state"])
        for row in entries
        if row["action"].startswith("denied:")
    ]


def ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 202), response.text
    return response.json()


def refused(response: httpx.Response, status: int = 403) -> str:
    assert response.status_code == status, response.text
    detail: str = response.json()["detail"]
    return detail


def test_a_case_is_acknowledged_contacted_and_resolved_and_the_timeline_tells_it(li, system):
    ticket = open_case(system)
    case = ok(li.get(f"/api/cases/{ticket}"))
    assert (case["state"], case["category"], case["allowed_actions"]) == (
        "dispatched",
        "0101",
        ["acknowledge", "return"],
    )
    assert case["assignment"]["unit"] == "ent-heating" and case["assignment"]["rule"] == "heating"
    # urgent, dispatched at 10:00 Beijing time: 1 h, 2 h, 24 h, each saying how it was computed
    how = {stage: deadline.pop("how") for stage, deadline in case["deadlines"].items()}
    assert case["deadlines"] == {
        "acknowledge": {"due_at": "2026-11-26T11:00:00+08:00", "state": "pending"},
        "contact": {"due_at": "2026-11-26T12:00:00+08:00", "state": "pending"},
        "reply": {"due_at": "2026-11-27T10:00:00+08:00", "state": "pending"},
    }
    assert how["acknowledge"].startswith("acknowledge: 1 hours") and "2026-11-26 11:00" in how["acknowledge"]
    assert how["reply"].startswith("reply: 24 hours") and "2026-11-27 10:00" in how["reply"]

    acknowledged = ok(act(li, ticket, "acknowledge"))
    assert acknowledged["state"] == "acknowledged"
    assert [d["state"] for d in acknowledged["deadlines"].values()] == ["met", "pending", "pending"]
    assert ok(act(li, ticket, "contact", note="已电话联系"))["state"] == "contacted"
    resolved = ok(act(li, ticket, "resolve", result="已派人维修，室温恢复"))

    assert (resolved["state"], resolved["result"], resolved["allowed_actions"]) == (
        "resolved",
        "已派人维修，室温恢复",
        [],
    )
    assert resolved["version"] == case["version"] + 3
    timeline = ok(li.get(f"/api/cases/{ticket}/timeline"))
    assert [(e["actor"], e["action"], e["from_state"], e["state"]) for e in timeline] == [
        ("jiesu", "dispatch", None, "dispatched"),
        ("li", "acknowledge", "dispatched", "acknowledged"),
        ("li", "contact", "acknowledged", "contacted"),
        ("li", "resolve", "contacted", "resolved"),
    ]
    assert timeline[2]["reason"] == "已电话联系" and timeline[0]["at"] == "2026-11-26T02:00:00Z"


def test_a_refused_transition_is_409_naming_the_state_and_what_is_allowed(li, system):
    ticket = open_case(system)
    response = act(li, ticket, "resolve", result="done")
    assert response.status_code == 409
    body = response.json()
    assert (body["error"], body["state"], body["allowed_actions"]) == (
        "transition",
        "dispatched",
        ["acknowledge", "return"],
    )
    assert "cannot resolve" in body["detail"]
    assert ok(li.get(f"/api/cases/{ticket}"))["state"] == "dispatched"


def test_a_concurrent_change_is_409_conflict(system, tokens):
    def changed_meanwhile(command: c.AcknowledgeCase) -> None:
        raise ConcurrencyError(f"case {command.ticket_id} was changed by another action; reload and retry")

    ticket = open_case(system)
    racing = System(
        system.settings,
        system.engine,
        MessageBus({c.AcknowledgeCase: changed_meanwhile}),
        Clock(),
        system.assessment,
        system.sla,
    )
    with TestClient(create_app(system.settings, racing)) as client:
        response = act(Caller(client, tokens["li"]), ticket, "acknowledge")
    assert response.status_code == 409
    assert response.json()["error"] == "conflict" and "reload and retry" in response.json()["detail"]


def test_an_unknown_ticket_is_404_with_a_message(li):
    for response in (
        li.get("/api/cases/NOPE"),
        li.get("/api/cases/NOPE/timeline"),
        act(li, "NOPE", "acknowledge"),
        act(li, "NOPE", "reveal"),
    ):
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "detail": "no case with ticket id NOPE"}


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("acknowledge", {"by": "li"}, "body.by"),  # who acts is the token's person, never the body's
        ("return", {"code": "too_busy", "reason": "x"}, "body.code"),
        ("extension", {"until": "2026-12-01T18:00:00", "reason": "x"}, "body.until"),
        ("resolve", {"result": "  "}, "body.result"),
    ],
)
def test_a_bad_body_is_422_saying_where(li, system, path, body, where):
    ticket = open_case(system)
    response = act(li, ticket, path, **body)
    assert response.status_code == 422
    assert response.json()["error"] == "validation" and where in response.json()["detail"]
    assert ok(li.get(f"/api/cases/{ticket}/timeline"))[-1]["action"] == "dispatch"


def test_an_invalid_action_is_422(zhao, system):
    ticket = open_case(system, "Q1", description="请帮忙看看这个情况", category=None)
    response = act(zhao, ticket, "dispatch", unit="ghost")
    assert response.status_code == 422
    assert response.json() == {"error": "invalid", "detail": "unknown unit ghost"}


def test_a_returned_case_waits_for_arbitration_with_the_proposal(li, zhao, system):
    upheld, rejected = open_case(system, "BJ1"), open_case(system, "BJ2")
    ok(act(li, upheld, "return", code="not_our_duty", reason="该小区为自供暖"))
    ok(act(li, rejected, "acknowledge"))
    ok(act(li, rejected, "return", code="wrong_area", reason="不在我们辖区"))

    queue = ok(zhao.get("/api/queues/arbitration"))
    assert [case["ticket_id"] for case in queue] == ["BJ1", "BJ2"]
    pending = queue[0]["pending_return"]
    assert (queue[0]["unit"], pending["by"], pending["code"], pending["reason"]) == (
        "ent-heating",
        "li",
        "not_our_duty",
        "该小区为自供暖",
    )
    assert pending["proposal"]["unit"] == "district-110105"  # the only other choice in the small catalog

    redispatched = ok(act(zhao, upheld, "arbitration", decision="redispatch"))
    assert (redispatched["state"], redispatched["assignment"]["unit"]) == ("dispatched", "district-110105")
    kept = ok(act(zhao, rejected, "arbitration", decision="reject", reason="在辖区内"))
    assert (kept["state"], kept["assignment"]["unit"]) == ("acknowledged", "ent-heating")
    assert ok(zhao.get("/api/queues/arbitration")) == []
    assert ok(li.get(f"/api/cases/{rejected}/timeline"))[-1]["action"] == "reject_return"
    assert "assigned to district-110105" in refused(li.get(f"/api/cases/{upheld}"))  # no longer li's


def test_an_approved_extension_moves_reply_due(li, zhao, system):
    ticket = open_case(system)
    ok(act(li, ticket, "acknowledge"))
    asked = ok(act(li, ticket, "extension", until="2026-12-06T18:00:00+08:00", reason="需更换管道"))
    assert asked["pending_extension"]["until"] == "2026-12-06T10:00:00Z"
    assert asked["allowed_actions"] == ["contact", "return", "extension_decision", "pause"]

    approved = ok(act(zhao, ticket, "extension/decision", approve=True, until="2026-12-08T18:00:00+08:00"))
    assert (approved["reply_due"], approved["pending_extension"]) == ("2026-12-08T10:00:00Z", None)
    assert ok(li.get(f"/api/cases/{ticket}/timeline"))[-1]["actor"] == "zhao"


def test_a_queued_case_waits_for_triage_and_is_dispatched_by_hand(zhao, system):
    ticket = open_case(system, "Q1", description="请帮忙看看这个情况", category=None)
    queue = ok(zhao.get("/api/queues/triage"))
    assert [(case["ticket_id"], case["queue"], case["unit"]) for case in queue] == [(ticket, "triage", None)]
    assert queue[0]["description"] == "请帮忙看看这个情况"

    case = ok(act(zhao, ticket, "dispatch", unit="ent-heating", category="0101"))
    assert (case["state"], case["queue"], case["category"]) == ("dispatched", None, "0101")
    assert (case["assignment"]["unit"], case["assignment"]["rule"]) == ("ent-heating", "supervisor")
    assert ok(zhao.get("/api/queues/triage")) == []


def test_cases_are_listed_by_unit_state_and_overdue(li, zhao, system, clock):
    late, on_time = open_case(system, "BJ1"), open_case(system, "BJ2")
    queued = open_case(system, "Q1", description="请帮忙看看这个情况", category=None)
    # Both get an explicit reply deadline (an approved extension), whatever deadline dispatch gave them.
    for ticket, until in ((late, "2026-11-27T18:00:00+08:00"), (on_time, "2026-12-06T18:00:00+08:00")):
        ok(act(li, ticket, "acknowledge"))
        ok(act(li, ticket, "extension", until=until, reason="等配件"))
        ok(act(zhao, ticket, "extension/decision", approve=True))
    clock.now = NOW + timedelta(days=2)

    def listed(caller: Caller = zhao, **query: Any) -> list[str]:
        return [case["ticket_id"] for case in ok(caller.get("/api/cases", params=query))]

    assert listed() == [late, on_time, queued]
    assert listed(unit="ent-heating") == [late, on_time]
    assert listed(state="acknowledged") == [late, on_time]
    assert listed(overdue="true") == [late]
    assert listed(overdue="false") == [on_time, queued]
    assert listed(unit="ent-heating", limit=1) == [late]
    assert listed(li) == [late, on_time]  # a worker lists their unit's cases only
    assert ok(zhao.get("/api/cases", params={"overdue": "true"}))[0]["overdue"] is True
    assert zhao.get("/api/cases", params={"state": "lost"}).status_code == 422


def test_openapi_describes_every_route_with_a_summary_a_response_model_and_the_bearer_scheme(client):
    spec = ok(client.get("/openapi.json"))
    routes = {(method.upper(), path): op for path, ops in spec["paths"].items() for method, op in ops.items()}
    actions = [
        "acknowledge",
        "contact",
        "return",
        "extension",
        "resolve",
        "arbitration",
        "extension/decision",
    ]
    public = {("GET", "/api/health"), ("POST", "/api/login")}
    expected = {
        *public,
        ("POST", "/api/complaints"),
        ("GET", "/api/cases"),
        ("GET", "/api/cases/{ticket_id}"),
        ("GET", "/api/cases/{ticket_id}/timeline"),
        ("GET", "/api/queues/arbitration"),
        ("GET", "/api/queues/triage"),
        ("GET", "/api/escalations"),
        *(("POST", f"/api/cases/{{ticket_id}}/{name}") for name in [*actions, "dispatch", "reveal"]),
        ("POST", "/api/cases/{ticket_id}/co-handling/acknowledge"),
        ("POST", "/api/cases/{ticket_id}/co-handling/report"),
        ("POST", "/api/cases/{ticket_id}/whistle"),
        ("POST", "/api/cases/{ticket_id}/co-handlers/{unit}/waive"),
        ("GET", "/api/cases/{ticket_id}/notifications"),
        ("POST", "/api/cases/{ticket_id}/close"),
        ("POST", "/api/cases/{ticket_id}/terminate"),
        ("POST", "/api/cases/{ticket_id}/merge"),
        ("POST", "/api/cases/{ticket_id}/unmerge"),
        ("GET", "/api/reports/monthly"),
        ("GET", "/api/reports/monthly.csv"),
        ("POST", "/api/callbacks/{callback_id}/appeal"),
        ("POST", "/api/appeals/{appeal_id}/decision"),
        ("GET", "/api/appeals"),
        ("GET", "/api/scores"),
        ("GET", "/api/scores/{unit}/{month}/breakdown"),
        ("GET", "/api/rankings"),
        ("POST", "/api/intake/preview"),
        ("POST", "/api/intake/caller"),
        ("GET", "/api/areas"),
        ("GET", "/api/knowledge"),
        ("POST", "/api/knowledge"),
        ("GET", "/api/knowledge/{entry_id}"),
        ("PUT", "/api/knowledge/{entry_id}"),
        ("DELETE", "/api/knowledge/{entry_id}"),
        ("POST", "/api/cases/{ticket_id}/supervision-orders"),
        ("GET", "/api/cases/{ticket_id}/supervision-orders"),
        ("POST", "/api/supervision-orders/{order_id}/answer"),
        ("GET", "/api/supervision-orders"),
        *(
            ("POST", f"/api/cases/{{ticket_id}}/{name}")
            for name in ("pause", "pause/approve", "pause/reject")
        ),
        ("POST", "/api/cases/{ticket_id}/resume"),
        ("GET", "/api/queues/pauses"),
        ("GET", "/api/hotspots"),
    }
    assert {key for key in routes if key[1].startswith("/api/")} == expected
    assert spec["components"]["securitySchemes"]["token"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from `POST /api/login` (people) or `jiesu users token` (people and systems).",
    }
    for key, op in routes.items():
        if key not in expected:
            continue
        assert op.get("summary"), key
        success = op["responses"].get("200") or op["responses"].get("201") or op["responses"]["202"]
        assert "schema" in success["content"]["application/json"], key
        if key not in public:
            assert op["security"] == [{"token": []}], key
            assert {"401", "403"} <= set(op["responses"]), key
    assert all("security" not in routes[key] for key in public)
    assert (
        "Allowed: a worker of the unit"
        in routes[("POST", "/api/cases/{ticket_id}/acknowledge")]["description"]
    )
    assert "409" in routes[("POST", "/api/cases/{ticket_id}/resolve")]["responses"]


# ---- who may do what ------------------------------------------------------------------------------


def test_without_a_token_or_with_an_unknown_one_it_is_401_with_the_bearer_challenge(client, system):
    ticket = open_case(system)
    for headers, challenge in (
        ({}, "Bearer"),
        ({"Authorization": "Basic bGk6cGFzc3dvcmQ="}, "Bearer"),
        ({"Authorization": "Bearer not-a-token"}, 'Bearer error="invalid_token"'),
    ):
        for method, path in (("GET", "/api/cases"), ("POST", f"/api/cases/{ticket}/acknowledge")):
            response = client.request(method, path, headers=headers)
            assert response.status_code == 401, response.text
            assert response.headers["WWW-Authenticate"] == challenge
            assert response.json()["error"] == "unauthenticated"
    assert ok(client.get("/api/health"))["database"] == "ok"  # public
    assert ok(client.get("/openapi.json"))["info"]["title"]
    assert denials(system, ticket) == []  # nobody to name: a 401 is logged, not audited on the case


def test_a_revoked_token_or_a_deactivated_person_is_401(client, people, li, system):
    ticket = open_case(system)
    token_id, token = people.issue_token("li", "second laptop")
    second = Caller(client, token)
    ok(second.get(f"/api/cases/{ticket}"))
    people.revoke_token(token_id)
    assert "unknown or revoked" in refused(second.get(f"/api/cases/{ticket}"), 401)
    ok(li.get(f"/api/cases/{ticket}"))  # li's other token still works

    people.deactivate("li")
    assert refused(li.get(f"/api/cases/{ticket}"), 401)
    with pytest.raises(PersonError, match="deactivated"):
        people.issue_token("li", "again")


def test_a_worker_of_one_street_can_neither_read_nor_act_on_a_case_of_another(as_, system):
    property_case = {"category": "02", "description": "物业不清运垃圾"}
    wangjing_case = open_case(
        system, "BJ-W", **property_case, location={"district": "朝阳区", "street": "望京街道"}
    )
    wangjing, balizhuang = as_("wangjing"), as_("balizhuang")
    assert ok(wangjing.get(f"/api/cases/{wangjing_case}"))["assignment"]["unit"] == "street-110105010"

    assert "not to street-110105011 of balizhuang" in refused(balizhuang.get(f"/api/cases/{wangjing_case}"))
    assert refused(balizhuang.get(f"/api/cases/{wangjing_case}/timeline"))
    response = act(balizhuang, wangjing_case, "acknowledge")
    assert response.json() == {
        "error": "forbidden",
        "detail": "the case is assigned to street-110105010, not to street-110105011 of balizhuang",
    }
    assert refused(act(balizhuang, wangjing_case, "reveal"))
    assert refused(act(balizhuang, wangjing_case, "arbitration", decision="reject"))
    assert ok(balizhuang.get("/api/cases")) == []

    assert denials(system, wangjing_case) == [
        ("balizhuang", "denied:read", None, "dispatched"),
        ("balizhuang", "denied:read", None, "dispatched"),
        ("balizhuang", "denied:acknowledge", None, "dispatched"),
        ("balizhuang", "denied:reveal", None, "dispatched"),
        ("balizhuang", "denied:arbitrate", None, "dispatched"),
    ]
    timeline = ok(wangjing.get(f"/api/cases/{wangjing_case}/timeline"))
    assert timeline[-1]["reason"] == "balizhuang is a worker and may not arbitrate"
    assert ok(wangjing.get(f"/api/cases/{wangjing_case}"))["state"] == "dispatched"


def test_an_intake_system_can_only_submit_requests(client, as_, system, caplog):
    client.app.state.intake = intake = FakeIntake()
    hotline = as_("hotline")
    complaint = make_complaint(ticket_id="WEB1")
    response = hotline.post("/api/complaints", json=complaint.model_dump(mode="json"))
    assert (response.status_code, response.json()) == (202, {"ticket_id": "WEB1", "status": "accepted"})
    assert intake.published == [complaint]

    assert refused(hotline.get("/api/cases")) == "hotline is an intake and may not list"
    assert refused(hotline.get("/api/queues/triage")) == "hotline is an intake and may not queues"
    assert "denied: hotline (intake) may not list on /api/cases" in caplog.text
    ticket = open_case(system)
    assert refused(hotline.get(f"/api/cases/{ticket}")) == "hotline is an intake and may not read"
    assert denials(system, ticket) == [("hotline", "denied:read", None, "dispatched")]
    assert refused(as_("li").post("/api/complaints", json=complaint.model_dump(mode="json")))


def test_a_district_supervisor_sees_and_decides_only_in_their_district(as_, zhao, system):
    chaoyang_queued = open_case(system, "Q-CY", description="请帮忙看看这个情况", category=None)
    haidian_queued = open_case(
        system, "Q-HD", description="请帮忙看看这个情况", category=None, location={"district": "海淀区"}
    )
    haidian_heating = open_case(system, "BJ-HD", location={"district": "海淀区", "street": "八里庄街道"})
    chaoyang = as_("chaoyang")

    def tickets(caller: Caller, path: str) -> list[str]:
        return [case["ticket_id"] for case in ok(caller.get(path))]

    assert tickets(chaoyang, "/api/queues/triage") == [chaoyang_queued]
    assert tickets(zhao, "/api/queues/triage") == [chaoyang_queued, haidian_queued]
    assert tickets(chaoyang, "/api/cases") == [chaoyang_queued]
    ok(act(as_("li"), haidian_heating, "return", code="wrong_area", reason="不在我们服务范围"))
    assert tickets(chaoyang, "/api/queues/arbitration") == []
    assert tickets(zhao, "/api/queues/arbitration") == [haidian_heating]

    detail = refused(act(chaoyang, haidian_queued, "dispatch", unit="ent-heating"))
    assert detail == "the case is in district 110108, outside the scope of chaoyang (110105)"
    assert denials(system, haidian_queued) == [("chaoyang", "denied:dispatch", None, "queued")]
    assert ok(act(chaoyang, chaoyang_queued, "dispatch", unit="ent-heating"))["state"] == "dispatched"
    assert refused(act(chaoyang, chaoyang_queued, "acknowledge"))  # units acknowledge, not supervisors


def test_a_unit_sees_the_requester_masked_and_a_reveal_is_audited(li, zhao, system):
    ticket = open_case(system, requester={"name": "王先生", "phone": "13812341234", "groups": ["elderly"]})
    case = ok(li.get(f"/api/cases/{ticket}"))
    assert (case["requester_shown"], case["requester"]) == (
        "masked",
        {
            "name": "王**",
            "phone": "138****1234",
            "anonymous": False,
            "confidential": False,
            "groups": ["elderly"],
        },
    )
    assert ok(act(li, ticket, "acknowledge"))["requester"]["phone"] == "138****1234"  # every view
    assert ok(zhao.get(f"/api/cases/{ticket}"))["requester"]["phone"] == "13812341234"

    revealed = ok(act(li, ticket, "reveal"))
    assert (revealed["name"], revealed["phone"]) == ("王先生", "13812341234")
    last = ok(zhao.get(f"/api/cases/{ticket}/timeline"))[-1]
    assert (last["actor"], last["action"], last["from_state"], last["state"]) == (
        "li",
        "reveal",
        None,
        "acknowledged",
    )
    assert ok(li.get(f"/api/cases/{ticket}"))["requester"]["name"] == "王**"  # a reveal shows it once


def test_a_confidential_requester_is_hidden_from_the_unit_but_shown_to_the_supervisor(li, zhao, system):
    secret = {"name": "张三", "phone": "13912345678", "confidential": True}
    ticket = open_case(system, requester=secret)
    case = ok(li.get(f"/api/cases/{ticket}"))
    assert (case["requester_shown"], case["requester"]) == ("confidential", None)
    assert "confidentiality" in refused(act(li, ticket, "reveal"))
    assert denials(system, ticket) == [("li", "denied:reveal", None, "dispatched")]

    shown = ok(zhao.get(f"/api/cases/{ticket}"))
    assert (shown["requester_shown"], shown["requester"]["name"]) == ("full", "张三")
    assert ok(act(zhao, ticket, "reveal"))["phone"] == "13912345678"


def test_a_co_handling_unit_reads_the_case_but_the_lead_unit_handles_it(as_, li, system):
    joint = {**HEATING_RULE, "then": {"unit": "ent-heating", "co_handlers": ["ent-heating-b"]}}
    catalog = write_catalog(system.settings.catalog_dir.parent / "joint", rules=[joint])
    ticket = open_case(bootstrap(system.settings.model_copy(update={"catalog_dir": catalog})), "BJ-J")
    zhou = as_("zhou")  # ent-heating-b
    assert [case["ticket_id"] for case in ok(zhou.get("/api/cases"))] == [ticket]
    assert ok(zhou.get(f"/api/cases/{ticket}"))["requester_shown"] == "masked"
    assert "only the lead unit ent-heating may acknowledge" in refused(act(zhou, ticket, "acknowledge"))
    assert ok(act(li, ticket, "acknowledge"))["state"] == "acknowledged"

    # its own part: sign for it, report to the lead; the lead resolves with the report attached
    assert "not a co-handling unit" in refused(act(li, ticket, "co-handling/acknowledge"))
    ok(act(zhou, ticket, "co-handling/acknowledge"))
    ok(act(li, ticket, "contact", note="已联系"))
    assert "have not reported" in refused(act(li, ticket, "resolve", result="已修复"), 409)
    ok(act(zhou, ticket, "co-handling/report", report="二次管网已检修"))
    assert ok(act(li, ticket, "resolve", result="已修复"))["state"] == "resolved"
    actions = [entry["action"] for entry in ok(li.get(f"/api/cases/{ticket}/timeline"))]
    assert actions[-4:] == ["co_acknowledge", "contact", "co_report", "resolve"]


def test_a_person_logs_in_with_a_password_and_a_wrong_one_is_401(client, people, system, caplog):
    people.add(Principal("sun", Role.SUPERVISOR, scope="city"), "孙主任", password=PASSWORD)
    ticket = open_case(system)
    response = client.post("/api/login", json={"username": "sun", "password": PASSWORD})
    logged_in = ok(response)
    assert (logged_in["username"], logged_in["role"]) == ("sun", "supervisor")
    assert ok(Caller(client, logged_in["token"]).get(f"/api/cases/{ticket}"))["requester"]["name"] == "王先生"
    [person] = [p for p in people.people() if p.principal.username == "sun"]
    assert [(token.label, token.last_used_at) for token in person.tokens] == [("login", NOW)]

    for username, password in (("sun", "wrong password"), ("nobody", PASSWORD), ("li", "x")):
        response = client.post("/api/login", json={"username": username, "password": password})
        assert refused(response, 401) == "wrong username or password"
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "login refused: nobody" in caplog.text


# ---- intake: the real broker, or none -----------------------------------------------------------


def sqlite_settings(tmp_path: Path, **overrides: Any) -> tuple[Settings, dict[str, str]]:
    """Settings over a migrated SQLite file, and the headers of the hotline's intake system."""
    url = f"sqlite:///{tmp_path / 'jiesu.db'}"
    upgrade(url)
    engine = make_engine(url)
    people = PeopleStore(engine, Clock())
    people.add(Principal("hotline", Role.INTAKE), "12345 热线受理系统")
    _, token = people.issue_token("hotline", "tests")
    engine.dispose()
    settings = Settings(database_url=url, catalog_dir=write_catalog(tmp_path / "catalog"), **overrides)
    return settings, {"Authorization": f"Bearer {token}"}


@pytest.mark.kafka
def test_a_posted_complaint_is_accepted_and_arrives_on_the_intake_topic(
    tmp_path, kafka_bootstrap, topic_prefix
):
    settings, hotline = sqlite_settings(tmp_path, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    complaint = make_complaint(ticket_id="WEB1")
    with TestClient(create_app(settings)) as client:
        response = client.post("/api/complaints", json=complaint.model_dump(mode="json"), headers=hotline)
    assert (response.status_code, response.json()) == (202, {"ticket_id": "WEB1", "status": "accepted"})

    consumer = KafkaConsumer(
        settings.topic(Topic.INTAKE),
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=10_000,
    )
    arrived = next(iter(consumer))
    consumer.close()
    record = KafkaRecord(arrived.topic, arrived.key, arrived.value, list(arrived.headers))
    event = decode(record, types_on(Topic.INTAKE))
    assert (event.source, event.data) == ("/jiesu/web", complaint)


def test_a_complaint_is_503_fast_when_kafka_is_unreachable(tmp_path):
    settings, hotline = sqlite_settings(tmp_path, kafka_bootstrap="127.0.0.1:1")
    complaint = make_complaint(ticket_id="WEB2")
    with TestClient(create_app(settings, kafka_timeout_s=0.5)) as client:
        started = time.monotonic()
        response = client.post("/api/complaints", json=complaint.model_dump(mode="json"), headers=hotline)
        elapsed = time.monotonic() - started
        assert client.get("/api/health").json()["database"] == "ok"  # the case API does not need Kafka
    assert response.status_code == 503
    assert response.json()["error"] == "unavailable" and "intake topic" in response.json()["detail"]
    assert elapsed < 5


def test_health_warns_while_next_year_has_no_holiday_schedule(system, tmp_path):
    with TestClient(create_app(system.settings, system)) as client:
        health = ok(client.get("/api/health"))
    assert health["calendar"] == {"2026": "chinesecalendar", "2027": "weekends-only"}
    assert health["status"] == "warning" and health["warnings"][0].startswith("2027: no holiday schedule")

    sla = tmp_path / "sla.yaml"
    sla.write_text("calendar:\n  2027:\n    holidays: [{days: '2027-01-01', name: 元旦}]\n", encoding="utf-8")
    settings = system.settings.model_copy(update={"sla_file": sla})
    operated = bootstrap(settings, clock=system.clock, engine=system.engine)  # the file is read at start
    with TestClient(create_app(settings, operated)) as client:
        health = ok(client.get("/api/health"))
    assert (health["status"], health["calendar"]["2027"], health["warnings"]) == ("ok", "operator", [])


def test_escalations_are_listed_for_supervisors_within_their_scope(as_, zhao, li, system, clock):
    open_case(system, "BJ-CY", location={"district": "朝阳区"})
    open_case(system, "BJ-HD", location={"district": "海淀区"})
    clock.now = NOW + timedelta(hours=1, minutes=5)  # urgent: the acknowledge deadline (1 h) has passed
    sweep(system.engine, system.bus, clock)

    everything = ok(zhao.get("/api/escalations"))
    assert {(e["ticket_id"], e["level"], e["target"]) for e in everything} == {
        ("BJ-CY", 1, "ent-heating:post_supervisor"),
        ("BJ-HD", 1, "ent-heating:post_supervisor"),
    }
    assert [e["ticket_id"] for e in ok(as_("chaoyang").get("/api/escalations"))] == ["BJ-CY"]
    assert ok(zhao.get("/api/escalations", params={"level": 2})) == []
    assert refused(li.get("/api/escalations"), 403)


def test_a_unit_reads_numbers_and_the_name_masked_in_the_text_and_nothing_of_them_if_confidential(
    li, zhao, system
):
    said = "我是王建国，电话138.1111.2222，座机6512-3456"
    open_case(system, "BJ-PLAIN", description=said, requester={"name": "王建国", "phone": "13811112222"})
    secret = {"name": "王建国", "phone": "13911112222", "confidential": True}  # another caller: no repeat
    open_case(system, "BJ-SECRET", description=said, requester=secret)

    assert ok(li.get("/api/cases/BJ-PLAIN"))["description"] == "我是王**，电话138****2222，座机******56"
    assert ok(li.get("/api/cases/BJ-SECRET"))["description"] == "我是***，电话***********，座机********"
    listed = {case["ticket_id"]: case["description"] for case in ok(li.get("/api/cases"))}
    assert listed["BJ-SECRET"] == "我是***，电话***********，座机********"
    assert ok(zhao.get("/api/cases/BJ-SECRET"))["description"] == said  # the center reads it as said


def test_the_delivery_log_shows_a_robots_host_not_the_url_that_carries_its_key(li, system):
    ticket = open_case(system)
    hook = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-secret"
    with system.engine.begin() as connection:
        connection.execute(
            t.notifications.insert().values(
                key="e1:group:wecom",
                ticket_id=ticket,
                event_id="e1",
                kind="case.dispatched",
                recipient="group",
                channel="wecom",
                address=hook,
                subject="",
                text="",
                urgent=False,
                status="sent",
                attempts=1,
                due_at=NOW,
                created_at=NOW,
            )
        )
    shown = li.get(f"/api/cases/{ticket}/notifications")
    assert shown.status_code == 200 and "693a91f6" not in shown.text and "qyapi.weixin.qq.com" in shown.text


# ---- token expiry and login limits ------------------------------------------------------------------


def test_a_token_past_its_expiry_is_401_and_one_without_an_expiry_lasts(client, people, li, system, clock):
    ticket = open_case(system)
    _, token = people.issue_token("li", "contractor", expires_at=NOW + timedelta(hours=1))
    contractor = Caller(client, token)
    ok(contractor.get(f"/api/cases/{ticket}"))
    clock.now = NOW + timedelta(hours=1)
    assert "expired" in refused(contractor.get(f"/api/cases/{ticket}"), 401)
    ok(li.get(f"/api/cases/{ticket}"))  # issued without an expiry: lasts until revoked
    [person] = [p for p in people.people() if p.principal.username == "li"]
    assert [token.expires_at for token in person.tokens] == [None, NOW + timedelta(hours=1)]


def test_a_token_from_the_api_login_lasts_the_configured_hours(client, people, system, clock):
    people.add(Principal("sun", Role.SUPERVISOR, scope="city"), "孙主任", password=PASSWORD)
    ticket = open_case(system)
    sun = Caller(
        client, ok(client.post("/api/login", json={"username": "sun", "password": PASSWORD}))["token"]
    )
    [person] = [p for p in people.people() if p.principal.username == "sun"]
    assert [token.expires_at for token in person.tokens] == [NOW + timedelta(hours=12)]  # the default
    clock.now = NOW + timedelta(hours=11, minutes=59)
    ok(sun.get(f"/api/cases/{ticket}"))
    clock.now = NOW + timedelta(hours=12)
    refused(sun.get(f"/api/cases/{ticket}"), 401)

    settings = Settings(database_url=system.settings.database_url, api_login_hours=1)
    with TestClient(create_app(settings, system)) as other:
        ok(other.post("/api/login", json={"username": "sun", "password": PASSWORD}))
    [person] = [p for p in people.people() if p.principal.username == "sun"]
    assert person.tokens[-1].expires_at == clock.now + timedelta(hours=1)


def test_logins_are_limited_per_account_and_per_address_with_a_clear_429(client, people, clock, caplog):
    caplog.set_level(logging.INFO, logger="jiesu.access")
    for username in ("sun", "qian"):
        people.add(Principal(username, Role.SUPERVISOR, scope="city"), username, password=PASSWORD)

    def log_in(username: str, password: str) -> httpx.Response:
        return client.post("/api/login", json={"username": username, "password": password})

    for _ in range(5):
        refused(log_in("sun", "hunter2-guess"), 401)
    held = log_in("sun", PASSWORD)  # even the right password: the account waits
    assert held.status_code == 429 and held.json()["error"] == "too_many_logins", held.text
    assert int(held.headers["Retry-After"]) == 15 * 60
    assert (
        held.json()["detail"].startswith("too many failed logins") and "15 minutes" in held.json()["detail"]
    )
    ok(log_in("qian", PASSWORD))  # another account, from the same address: not held up
    clock.now = NOW + timedelta(minutes=5)
    assert int(log_in("sun", PASSWORD).headers["Retry-After"]) == 10 * 60
    clock.now = NOW + timedelta(minutes=15)
    ok(log_in("sun", PASSWORD))

    for guess in range(20):  # one address trying many accounts
        refused(log_in(f"guess{guess}", "hunter2-guess"), 401)
    assert log_in("qian", PASSWORD).status_code == 429

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    infos = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any(m.startswith("login refused: sun from testclient") for m in warnings), warnings
    assert any(m.startswith("login refused: sun from testclient") and "too many" in m for m in warnings)
    assert any(m.startswith("login: qian from testclient") for m in infos), infos
    assert "hunter2" not in caplog.text and PASSWORD not in caplog.text
