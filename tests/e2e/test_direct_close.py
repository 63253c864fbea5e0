"""直接办结 end to end: an operator answers a consultation from the knowledge base on the intake page; the
request travels the intake topic like any other into `jiesu run`, which opens the case closed and publishes
`jiesu.case.closed` with `how: direct` and the entry, never `jiesu.case.dispatched`; the callback centre's
call back is applied to it; a direct answer on a complaint is dead-lettered."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaProducer
from sqlalchemy import select

from consumers.publisher import IntakePublisher
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import make_engine
from dispatcher.adapters.knowledge import KnowledgeStore
from dispatcher.adapters.people import PeopleStore
from dispatcher.bootstrap import utc_now
from dispatcher.contract import events as wire
from dispatcher.contract.cloudevents import encode
from dispatcher.domain.access import Principal, Role
from dispatcher.domain.knowledge import KnowledgeEntry
from dispatcher.settings import Settings
from jiesu.web.app import create_app
from tests.e2e.worker import Worker, consume, wait_for
from tests.support.builders import make_complaint

pytestmark = pytest.mark.kafka
PASSWORD = "correct horse battery"
PERMIT = KnowledgeEntry(
    "residence-permit",
    "如何办理北京市居住证？",
    "在京居住半年以上，有合法稳定就业、住所或连续就读的，可到居住地派出所申领居住证。",
    "020102",
    ("居住证", "暂住证"),
    "北京市实施《居住证暂行条例》办法",
)


def prepare(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    PeopleStore(engine, utc_now).add(Principal("hotline", Role.INTAKE), "话务员", PASSWORD)
    KnowledgeStore(engine, utc_now).add(PERMIT, "root")
    engine.dispose()


def answered_on_the_intake_page(settings: Settings) -> str:
    """The operator's browser: log in, find the entry in the 知识库 panel, answer directly. The ticket."""
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        login = client.get("/login").text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', login)
        assert csrf
        client.post("/login", data={"username": "hotline", "password": PASSWORD, "csrf": csrf.group(1)})
        page = client.get("/intake").text
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
        assert csrf and 'id="knowledge-panel"' in page
        described = "我想问一下外地人在北京那个暂住证咋办啊"
        matches = client.post("/knowledge/suggest", data={"csrf": csrf.group(1), "q": described}).json()
        assert matches["matches"][0]["id"] == "residence-permit"
        filed = client.post(
            "/intake/direct",
            data={
                "csrf": csrf.group(1),
                "kind": "consultation",
                "name": "王五",
                "phone": "13912345678",
                "district": "朝阳区",
                "description": described,
                "knowledge_entry": "residence-permit",
            },
            follow_redirects=False,
        )
        assert filed.status_code == 303, filed.text
        return filed.headers["location"].rsplit("/", 1)[-1]


def state_of(settings: Settings, ticket: str) -> tuple[str, dict | None] | None:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                select(t.cases.c.state, t.cases.c.callback).where(t.cases.c.ticket_id == ticket)
            ).first()
    finally:
        engine.dispose()
    return (row.state, row.callback) if row else None


def test_a_direct_answer_is_closed_at_intake_never_dispatched_and_called_back(
    settings: Settings, worker: Worker
):
    prepare(settings)
    worker.start()
    ticket = answered_on_the_intake_page(settings)
    publisher = IntakePublisher(settings, "/hotline/e2e")
    ordinary = make_complaint(ticket_id="BJ-DIRECT-ORDINARY")  # dispatched as usual, alongside
    refused = make_complaint(
        ticket_id="BJ-DIRECT-COMPLAINT",
        kind="consultation",
        direct_answer={"entry_id": "residence-permit", "answer": PERMIT.answer, "by": "hotline"},
    )
    publisher.publish(ordinary)
    # a direct answer on a complaint breaks the contract: sent as a producer that skips validation would
    raw = json.loads(refused.model_dump_json())
    raw["kind"] = "complaint"
    record = encode(
        settings.topic("intake"),
        "jiesu.complaint.received",
        refused,
        key=refused.ticket_id,
        event_id=uuid.uuid4().hex,
        source="/hotline/e2e",
        time=refused.received_at,
    )
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    producer.send(record.topic, key=record.key, value=json.dumps(raw).encode(), headers=list(record.headers))
    publisher.close()

    cases = consume(settings.kafka_bootstrap, settings.topic("cases"), expected=2, settle=3)
    events = [(r.key.decode(), dict(r.headers)["ce_type"].decode(), json.loads(r.value)) for r in cases]
    mine = [(ce_type, data) for key, ce_type, data in events if key == ticket]
    assert [ce_type for ce_type, _ in mine] == ["jiesu.case.closed"], worker.tail()
    closed = mine[0][1]
    assert (closed["how"], closed["knowledge_entry"], closed["by"]) == (
        "direct",
        "residence-permit",
        "hotline",
    )
    assert (closed["counted"], closed["callback_requested"]) == (False, True)
    assert ("BJ-DIRECT-ORDINARY", "jiesu.case.dispatched") in [(key, ce_type) for key, ce_type, _ in events]
    assert not any(key == "BJ-DIRECT-COMPLAINT" for key, _, _ in events)
    dead = consume(settings.kafka_bootstrap, settings.topic("deadletter"), expected=1)
    assert [(r.key.decode(), dict(r.headers)["jiesu_reason"]) for r in dead] == [
        ("BJ-DIRECT-COMPLAINT", b"invalid_value")
    ]

    # the callback centre calls the requester back, as closed asks
    answer = wire.CallbackRecorded(
        ticket_id=ticket,
        recorded_at=datetime.now(UTC),
        contacted=True,
        resolved=True,
        satisfaction="satisfied",
    )
    called = encode(
        settings.topic("feedback"),
        "jiesu.callback.recorded",
        answer,
        key=ticket,
        event_id=uuid.uuid4().hex,
        source="/callcenter",
        time=answer.recorded_at,
    )
    producer.send(called.topic, key=called.key, value=called.value, headers=list(called.headers))
    producer.flush()
    producer.close()
    wait_for(
        lambda: (state_of(settings, ticket) or ("", None))[1] is not None, 60, "the callback kept", worker
    )
    state, kept = state_of(settings, ticket) or ("", None)
    assert state == "closed" and kept is not None and kept["satisfaction"] == "satisfied"
    after = consume(settings.kafka_bootstrap, settings.topic("cases"), expected=len(cases), settle=2)
    assert [
        r for r in after if r.key.decode() == ticket and dict(r.headers)["ce_type"] != b"jiesu.case.closed"
    ] == []
    assert worker.stop() == 0
