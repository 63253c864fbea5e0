"""The REST API over the real system and database (SQLite and PostgreSQL), as units and supervisors use it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer

from consumers.intake import handle_intake
from dispatcher.adapters.database import upgrade
from dispatcher.bootstrap import System, bootstrap
from dispatcher.contract.cloudevents import KafkaRecord, decode
from dispatcher.contract.events import Topic, types_on
from dispatcher.domain import commands as c
from dispatcher.service.messagebus import MessageBus
from dispatcher.service.unit_of_work import ConcurrencyError
from dispatcher.settings import Settings
from dispatcher.web.app import create_app
from tests.builders import intake_record, make_complaint
from tests.catalogs import write_catalog

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # half an hour after the builders' complaints arrive


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def system(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[System]:
    catalog = write_catalog(tmp_path / "catalog")
    system = bootstrap(Settings(database_url=database_url, catalog_dir=catalog), clock=clock)
    yield system
    system.engine.dispose()


@pytest.fixture
def client(system: System) -> Iterator[TestClient]:
    with TestClient(create_app(system.settings, system)) as client:
        yield client


def open_case(system: System, ticket: str = "BJ1", **overrides: Any) -> str:
    handle_intake(
        intake_record(make_complaint(ticket_id=ticket, **{"category": "0101", **overrides})), system.bus
    )
    return ticket


def act(client: TestClient, ticket: str, action: str, **body: Any) -> httpx.Response:
    return client.post(f"/api/cases/{ticket}/{action}", json=body)


def ok(response: httpx.Response) -> Any:
    assert response.status_code in (200, 202), response.text
    return response.json()


def test_a_case_is_acknowledged_contacted_and_resolved_and_the_timeline_tells_it(client, system):
    ticket = open_case(system)
    case = ok(client.get(f"/api/cases/{ticket}"))
    assert (case["state"], case["category"], case["allowed_actions"]) == (
        "dispatched",
        "0101",
        ["acknowledge", "return"],
    )
    assert case["assignment"]["unit"] == "ent-heating" and case["assignment"]["rule"] == "heating"

    assert ok(act(client, ticket, "acknowledge", by="li"))["state"] == "acknowledged"
    assert ok(act(client, ticket, "contact", by="li", note="已电话联系"))["state"] == "contacted"
    resolved = ok(act(client, ticket, "resolve", by="li", result="已派人维修，室温恢复"))

    assert (resolved["state"], resolved["result"], resolved["allowed_actions"]) == (
        "resolved",
        "已派人维修，室温恢复",
        [],
    )
    assert resolved["version"] == case["version"] + 3
    timeline = ok(client.get(f"/api/cases/{ticket}/timeline"))
    assert [(e["actor"], e["action"], e["from_state"], e["state"]) for e in timeline] == [
        ("jiesu", "dispatch", None, "dispatched"),
        ("li", "acknowledge", "dispatched", "acknowledged"),
        ("li", "contact", "acknowledged", "contacted"),
        ("li", "resolve", "contacted", "resolved"),
    ]
    assert timeline[2]["reason"] == "已电话联系" and timeline[0]["at"] == "2026-11-26T02:00:00Z"


def test_a_refused_transition_is_409_naming_the_state_and_what_is_allowed(client, system):
    ticket = open_case(system)
    response = act(client, ticket, "resolve", by="li", result="done")
    assert response.status_code == 409
    body = response.json()
    assert (body["error"], body["state"], body["allowed_actions"]) == (
        "transition",
        "dispatched",
        ["acknowledge", "return"],
    )
    assert "cannot resolve" in body["detail"]
    assert ok(client.get(f"/api/cases/{ticket}"))["state"] == "dispatched"


def test_a_concurrent_change_is_409_conflict(system):
    def changed_meanwhile(command: c.AcknowledgeCase) -> None:
        raise ConcurrencyError(f"case {command.ticket_id} was changed by another action; reload and retry")

    racing = System(
        system.settings, system.engine, MessageBus({c.AcknowledgeCase: changed_meanwhile}), Clock()
    )
    with TestClient(create_app(system.settings, racing)) as client:
        response = act(client, "BJ1", "acknowledge", by="li")
    assert response.status_code == 409
    assert response.json()["error"] == "conflict" and "reload and retry" in response.json()["detail"]


def test_an_unknown_ticket_is_404_with_a_message(client):
    for response in (
        client.get("/api/cases/NOPE"),
        client.get("/api/cases/NOPE/timeline"),
        act(client, "NOPE", "acknowledge", by="li"),
    ):
        assert response.status_code == 404
        assert response.json() == {"error": "not_found", "detail": "no case with ticket id NOPE"}


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("acknowledge", {}, "body.by"),
        ("return", {"by": "li", "code": "too_busy", "reason": "x"}, "body.code"),
        ("extension", {"by": "li", "until": "2026-12-01T18:00:00", "reason": "x"}, "body.until"),
        ("resolve", {"by": "li", "result": "  "}, "body.result"),
    ],
)
def test_a_bad_body_is_422_saying_where(client, system, path, body, where):
    ticket = open_case(system)
    response = act(client, ticket, path, **body)
    assert response.status_code == 422
    assert response.json()["error"] == "validation" and where in response.json()["detail"]
    assert ok(client.get(f"/api/cases/{ticket}/timeline"))[-1]["action"] == "dispatch"


def test_an_invalid_action_is_422(client, system):
    ticket = open_case(system, "Q1", description="请帮忙看看这个情况", category=None)
    response = act(client, ticket, "dispatch", by="center-zhao", unit="ghost")
    assert response.status_code == 422
    assert response.json() == {"error": "invalid", "detail": "unknown unit ghost"}


def test_a_returned_case_waits_for_arbitration_with_the_proposal(client, system):
    upheld, rejected = open_case(system, "BJ1"), open_case(system, "BJ2")
    ok(act(client, upheld, "return", by="li", code="not_our_duty", reason="该小区为自供暖"))
    ok(act(client, rejected, "acknowledge", by="li"))
    ok(act(client, rejected, "return", by="li", code="wrong_area", reason="不在我们辖区"))

    queue = ok(client.get("/api/queues/arbitration"))
    assert [case["ticket_id"] for case in queue] == ["BJ1", "BJ2"]
    pending = queue[0]["pending_return"]
    assert (queue[0]["unit"], pending["by"], pending["code"], pending["reason"]) == (
        "ent-heating",
        "li",
        "not_our_duty",
        "该小区为自供暖",
    )
    assert pending["proposal"]["unit"] == "district-110105"  # the only other choice in the small catalog

    redispatched = ok(act(client, upheld, "arbitration", by="center-zhao", decision="redispatch"))
    assert (redispatched["state"], redispatched["assignment"]["unit"]) == ("dispatched", "district-110105")
    kept = ok(act(client, rejected, "arbitration", by="center-zhao", decision="reject", reason="在辖区内"))
    assert (kept["state"], kept["assignment"]["unit"]) == ("acknowledged", "ent-heating")
    assert ok(client.get("/api/queues/arbitration")) == []
    assert ok(client.get(f"/api/cases/{rejected}/timeline"))[-1]["action"] == "reject_return"


def test_an_approved_extension_moves_reply_due(client, system):
    ticket = open_case(system)
    ok(act(client, ticket, "acknowledge", by="li"))
    asked = ok(
        act(client, ticket, "extension", by="li", until="2026-12-06T18:00:00+08:00", reason="需更换管道")
    )
    assert asked["pending_extension"]["until"] == "2026-12-06T10:00:00Z"
    assert asked["allowed_actions"] == ["contact", "return", "extension_decision"]

    approved = ok(
        act(
            client,
            ticket,
            "extension/decision",
            by="center-zhao",
            approve=True,
            until="2026-12-08T18:00:00+08:00",
        )
    )
    assert (approved["reply_due"], approved["pending_extension"]) == ("2026-12-08T10:00:00Z", None)


def test_a_queued_case_waits_for_triage_and_is_dispatched_by_hand(client, system):
    ticket = open_case(system, "Q1", description="请帮忙看看这个情况", category=None)
    queue = ok(client.get("/api/queues/triage"))
    assert [(case["ticket_id"], case["queue"], case["unit"]) for case in queue] == [(ticket, "triage", None)]
    assert queue[0]["description"] == "请帮忙看看这个情况"

    case = ok(act(client, ticket, "dispatch", by="center-zhao", unit="ent-heating", category="0101"))
    assert (case["state"], case["queue"], case["category"]) == ("dispatched", None, "0101")
    assert (case["assignment"]["unit"], case["assignment"]["rule"]) == ("ent-heating", "supervisor")
    assert ok(client.get("/api/queues/triage")) == []


def test_cases_are_listed_by_unit_state_and_overdue(client, system, clock):
    late, on_time = open_case(system, "BJ1"), open_case(system, "BJ2")
    queued = open_case(system, "Q1", description="请帮忙看看这个情况", category=None)
    ok(act(client, late, "acknowledge", by="li"))
    ok(act(client, late, "extension", by="li", until="2026-11-27T18:00:00+08:00", reason="等配件"))
    ok(act(client, late, "extension/decision", by="center-zhao", approve=True))
    clock.now = NOW + timedelta(days=2)

    def listed(**query: Any) -> list[str]:
        return [case["ticket_id"] for case in ok(client.get("/api/cases", params=query))]

    assert listed() == [late, on_time, queued]
    assert listed(unit="ent-heating") == [late, on_time]
    assert listed(state="acknowledged") == [late]
    assert listed(overdue="true") == [late]
    assert listed(overdue="false") == [on_time, queued]
    assert listed(unit="ent-heating", limit=1) == [late]
    assert ok(client.get("/api/cases", params={"overdue": "true"}))[0]["overdue"] is True
    assert client.get("/api/cases", params={"state": "lost"}).status_code == 422


def test_openapi_describes_every_route_with_a_summary_and_a_response_model(client):
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
    expected = {
        ("POST", "/api/complaints"),
        ("GET", "/api/cases"),
        ("GET", "/api/cases/{ticket_id}"),
        ("GET", "/api/cases/{ticket_id}/timeline"),
        ("GET", "/api/queues/arbitration"),
        ("GET", "/api/queues/triage"),
        ("GET", "/api/health"),
        *(("POST", f"/api/cases/{{ticket_id}}/{name}") for name in [*actions, "dispatch"]),
    }
    assert set(routes) == expected
    for key, op in routes.items():
        assert op.get("summary"), key
        success = op["responses"].get("200") or op["responses"]["202"]
        assert "schema" in success["content"]["application/json"], key
    assert "taken on trust" in routes[("POST", "/api/cases/{ticket_id}/acknowledge")]["description"]
    assert "409" in routes[("POST", "/api/cases/{ticket_id}/resolve")]["responses"]


# ---- intake: the real broker, or none -----------------------------------------------------------


def sqlite_settings(tmp_path: Path, **overrides: Any) -> Settings:
    url = f"sqlite:///{tmp_path / 'jiesu.db'}"
    upgrade(url)
    return Settings(database_url=url, catalog_dir=write_catalog(tmp_path / "catalog"), **overrides)


@pytest.mark.kafka
def test_a_posted_complaint_is_accepted_and_arrives_on_the_intake_topic(
    tmp_path, kafka_bootstrap, topic_prefix
):
    settings = sqlite_settings(tmp_path, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    complaint = make_complaint(ticket_id="WEB1")
    with TestClient(create_app(settings)) as client:
        response = client.post("/api/complaints", json=complaint.model_dump(mode="json"))
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
    settings = sqlite_settings(tmp_path, kafka_bootstrap="127.0.0.1:1")
    complaint = make_complaint(ticket_id="WEB2")
    with TestClient(create_app(settings, kafka_timeout_s=0.5)) as client:
        started = time.monotonic()
        response = client.post("/api/complaints", json=complaint.model_dump(mode="json"))
        elapsed = time.monotonic() - started
        assert client.get("/api/health").json()["status"] == "ok"  # the case API does not need Kafka
    assert response.status_code == 503
    assert response.json()["error"] == "unavailable" and "intake topic" in response.json()["detail"]
    assert elapsed < 5
