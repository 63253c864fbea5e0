"""Callbacks from the callback center travel over the real broker into `jiesu run`: cases close or reopen,
the unit's scores go out on the scores topic, and callbacks that cannot apply come back dead-lettered with
their reason; a callback delivered twice has one effect."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from kafka import KafkaProducer

from consumers.intake import handle_intake
from dispatcher.adapters.database import upgrade
from dispatcher.bootstrap import bootstrap
from dispatcher.contract import events as wire
from dispatcher.contract.cloudevents import encode
from dispatcher.domain import commands as c
from dispatcher.settings import Settings
from tests.e2e.worker import consume
from tests.support.builders import intake_record, make_complaint

pytestmark = pytest.mark.kafka


def prepare(settings: Settings) -> None:
    """Three cases: two resolved (awaiting their callback), one still at its unit."""
    upgrade(settings.database_url)
    system = bootstrap(settings)
    for ticket in ("CB-OK", "CB-BAD", "CB-OPEN"):
        handle_intake(intake_record(make_complaint(ticket_id=ticket, category="0101")), system.bus)
    for ticket in ("CB-OK", "CB-BAD"):
        by = "worker"
        for command in (
            c.AcknowledgeCase(ticket, by),
            c.RecordContact(ticket, by),
            c.ResolveCase(ticket, by, result="已修复"),
        ):
            system.bus.handle(command)
    system.engine.dispose()


def callback(topic: str, ticket: str, satisfaction: str = "satisfied", event_id: str | None = None, **more):
    data = wire.CallbackRecorded(
        ticket_id=ticket,
        recorded_at=datetime.now(UTC),
        contacted=True,
        resolved=satisfaction != "unsatisfied",
        satisfaction=satisfaction,  # type: ignore[arg-type]
        **more,
    )
    return encode(
        topic,
        "jiesu.callback.recorded",
        data,
        key=ticket,
        event_id=event_id or uuid.uuid4().hex,
        source="/callcenter",
        time=data.recorded_at,
    )


def test_callbacks_close_or_reopen_cases_publish_scores_and_dead_letter_what_cannot_apply(settings, worker):
    prepare(settings)
    topic = settings.topic("feedback")
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap)
    good = callback(topic, "CB-OK", event_id="cb-ok")
    bad_value = callback(topic, "CB-OK")
    data = json.loads(bad_value.value)
    records = [
        good,
        callback(topic, "CB-OK", event_id="cb-ok"),  # the same event again
        callback(topic, "CB-BAD", "unsatisfied"),
        callback(topic, "CB-NOWHERE"),  # unknown_ticket
        callback(topic, "CB-OPEN"),  # refused: not resolved yet
    ]
    invalid = (bad_value.key, json.dumps({**data, "satisfaction": "happy"}).encode(), bad_value.headers)
    worker.start()
    for record in records:
        producer.send(topic, key=record.key, value=record.value, headers=list(record.headers))
    producer.send(topic, key=invalid[0], value=invalid[1], headers=list(invalid[2]))
    producer.flush()
    producer.close()

    dead = consume(settings.kafka_bootstrap, settings.topic("deadletter"), expected=3)
    reasons = sorted((dict(r.headers)["jiesu_reason"].decode(), r.key.decode()) for r in dead)
    assert reasons == [
        ("invalid_value", "CB-OK"),
        ("refused", "CB-OPEN"),
        ("unknown_ticket", "CB-NOWHERE"),
    ], worker.tail()
    refused = next(r for r in dead if r.key == b"CB-OPEN")
    assert b"not been resolved yet" in dict(refused.headers)["jiesu_detail"]

    # 3 dispatched, 2 × (acknowledged, contacted, resolved), then closed and reopened
    outcomes = consume(settings.kafka_bootstrap, settings.topic("cases"), expected=11, settle=2)
    types = [(dict(r.headers)["ce_type"].decode(), r.key.decode()) for r in outcomes]
    assert types.count(("jiesu.case.closed", "CB-OK")) == 1
    assert types.count(("jiesu.case.reopened", "CB-BAD")) == 1
    published = consume(settings.kafka_bootstrap, settings.topic("scores"), expected=1, settle=3)
    scores = [json.loads(r.value) for r in published]
    # one per transaction that applied a callback: the two callbacks arrive together or apart (a batch is
    # applied around the refused ones); either way the last has both, and the duplicate added nothing
    assert 1 <= len(scores) <= 2, worker.tail()
    assert scores[-1]["valid_callbacks"] == 2 and scores[-1]["satisfied"] == 1
