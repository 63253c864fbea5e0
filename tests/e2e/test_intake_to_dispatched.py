"""A request travels from the real broker through `jiesu run` into the database and out again."""

from __future__ import annotations

import json
import uuid

import pytest
from kafka import KafkaProducer
from sqlalchemy import func, select

from consumers.publisher import IntakePublisher
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import make_engine
from dispatcher.contract.cloudevents import encode
from dispatcher.settings import Settings
from tests.e2e.worker import Worker, consume, wait_for
from tests.support.builders import make_complaint

pytestmark = pytest.mark.kafka


def case_count(settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(t.cases)).scalar_one()
    engine.dispose()
    return int(count)


def headers_of(record) -> dict[str, bytes]:
    return dict(record.headers)


def test_requests_are_dispatched_through_the_catalog_or_queued_and_stored(settings: Settings, worker: Worker):
    worker.start()
    publisher = IntakePublisher(settings)
    heating = [make_complaint(ticket_id=f"BJ-E2E-{n:03d}") for n in range(18)]  # 暖气不热, no category
    vague = [make_complaint(ticket_id=f"BJ-E2E-Q{n}", description="想问一下这个事情怎么办") for n in range(2)]
    for complaint in heating + vague:
        publisher.publish(complaint)
    publisher.close()

    records = consume(settings.kafka_bootstrap, settings.topic("cases"), expected=20)
    by_ticket = {r.key.decode(): (headers_of(r)["ce_type"], json.loads(r.value)) for r in records}
    assert len(records) == len(by_ticket) == 20, worker.tail()
    for complaint in heating:
        ce_type, data = by_ticket[complaint.ticket_id]
        assert ce_type == b"jiesu.case.dispatched"
        assert (data["assignment"]["unit"], data["assignment"]["rule"]) == ("ent-heating", "heating")
        assert data["category"].startswith("01") and data["assignment"]["person"]
    for complaint in vague:
        ce_type, data = by_ticket[complaint.ticket_id]
        assert (ce_type, data["queue"]) == (b"jiesu.case.queued", "triage")
    assert case_count(settings) == 20
    assert worker.stop() == 0


def send_raw(producer: KafkaProducer, topic: str, key: bytes | None, value: bytes, headers: list) -> None:
    producer.send(topic, key=key, value=value, headers=headers)


def test_bad_input_goes_to_the_dead_letter_topic_while_good_requests_flow(settings: Settings, worker: Worker):
    topic = settings.topic("intake")
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap)

    def good(ticket: str, event_id: str | None = None):
        return encode(
            topic,
            "jiesu.complaint.received",
            make_complaint(ticket_id=ticket),
            key=ticket,
            event_id=event_id or uuid.uuid4().hex,
            source="/e2e",
            time=make_complaint().received_at,
        )

    template = good("BJ-BAD")
    data = json.loads(template.value)
    bad = {
        "invalid_json": (template.key, b'{"ticket_id": "BJ-BAD", ', template.headers),
        "missing_field": (
            template.key,
            json.dumps({k: v for k, v in data.items() if k != "kind"}).encode(),
            template.headers,
        ),
        "wrong_type": (
            template.key,
            json.dumps({**data, "received_at": 1764120600}).encode(),
            template.headers,
        ),
        "unknown_type": (
            template.key,
            template.value,
            [(k, b"jiesu.complaint.withdrawn" if k == "ce_type" else v) for k, v in template.headers],
        ),
        "missing_key": (None, template.value, template.headers),
        "too_long": (
            template.key,
            json.dumps({**data, "description": "长" * 4001}).encode(),
            template.headers,
        ),
    }
    first, second, duplicate = good("BJ-G1", "g1"), good("BJ-G2", "g2"), good("BJ-G1", "g1-again")
    worker.start()
    send_raw(producer, topic, first.key, first.value, first.headers)
    for key, value, headers in bad.values():
        send_raw(producer, topic, key, value, headers)
    send_raw(producer, topic, duplicate.key, duplicate.value, duplicate.headers)
    send_raw(producer, topic, second.key, second.value, second.headers)
    producer.flush()

    dead = consume(settings.kafka_bootstrap, settings.topic("deadletter"), expected=len(bad) + 1)
    by_reason = {headers_of(r)["jiesu_reason"].decode(): r for r in dead}
    assert sorted(by_reason) == sorted([*bad, "duplicate_ticket"]), worker.tail()
    assert len(dead) == len(bad) + 1
    for reason, (key, value, headers) in bad.items():
        record = by_reason[reason]
        assert (record.key, record.value) == (key, value), reason
        assert set(headers) <= set(record.headers), f"{reason}: original headers kept"
        assert headers_of(record)["jiesu_original_topic"] == topic.encode()
        assert headers_of(record)["jiesu_detail"], reason
    assert by_reason["duplicate_ticket"].value == duplicate.value

    dispatched = consume(settings.kafka_bootstrap, settings.topic("cases"), expected=2)
    assert sorted(r.key for r in dispatched) == [b"BJ-G1", b"BJ-G2"]
    assert case_count(settings) == 2
    producer.close()


def test_the_same_event_delivered_twice_has_one_effect(settings: Settings, worker: Worker):
    worker.start()
    publisher = IntakePublisher(settings)
    complaint = make_complaint(ticket_id="BJ-TWICE")
    publisher.publish(complaint, event_id="same-id")
    publisher.publish(complaint, event_id="same-id")
    publisher.publish(make_complaint(ticket_id="BJ-AFTER"))
    publisher.close()

    dispatched = consume(settings.kafka_bootstrap, settings.topic("cases"), expected=2, settle=3)
    assert sorted(r.key for r in dispatched) == [b"BJ-AFTER", b"BJ-TWICE"]
    assert consume(settings.kafka_bootstrap, settings.topic("deadletter"), expected=0, settle=1) == []


def test_a_crash_after_commit_loses_no_outbound_event(settings: Settings, worker: Worker):
    worker.start("--no-relay")  # commits cases and outbox rows, publishes nothing: the crash window
    publisher = IntakePublisher(settings)
    tickets = [f"BJ-CRASH-{n:02d}" for n in range(10)]
    for ticket in tickets:
        publisher.publish(make_complaint(ticket_id=ticket))
    publisher.close()
    wait_for(lambda: case_count(settings) == 10, 60, "10 committed cases", worker)
    worker.kill()
    assert consume(settings.kafka_bootstrap, settings.topic("cases"), expected=0, settle=1) == []

    worker.start()
    dispatched = consume(settings.kafka_bootstrap, settings.topic("cases"), expected=10, settle=3)
    assert sorted(r.key.decode() for r in dispatched) == tickets, worker.tail()
    assert case_count(settings) == 10
    assert worker.stop() == 0
