"""A unit's own system answers a supervision order on `jiesu.actions`, to a running `jiesu run`, on the real
broker and each database: the answer is applied once (a repeated event does nothing more), an answer from
another unit comes back on the dead-letter topic with the reason, and the answer goes out on
`jiesu.cases` as `jiesu.case.supervision_answered`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from consumers.intake import handle_intake
from dispatcher.adapters.database import upgrade
from dispatcher.bootstrap import bootstrap
from dispatcher.contract import events as wire
from dispatcher.contract.cloudevents import encode
from dispatcher.domain import commands as c
from dispatcher.reads.supervision import supervision_order
from dispatcher.settings import Settings
from tests.e2e.worker import Worker, consume, wait_for
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog

pytestmark = pytest.mark.kafka


@pytest.fixture
def world(database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> Iterator[Any]:
    upgrade(database_url)
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        consumer_group=f"orders-{uuid.uuid4().hex[:6]}",
        catalog_dir=write_catalog(tmp_path / "catalog"),
        topic_partitions=3,
        relay_poll_seconds=0.2,
    )
    env = {f"JIESU_{k.upper()}": str(v) for k, v in settings.model_dump(mode="json").items()}
    worker = Worker(env, tmp_path / "worker.log").start().wait_joined()
    system = bootstrap(settings)
    yield settings, system, worker
    worker.stop()
    system.engine.dispose()


def answer(settings: Settings, ticket: str, order_id: str, unit: str, event_id: str) -> None:
    data = wire.AnswerSupervisionOrder(
        ticket_id=ticket,
        by=f"{unit}-system",
        at=datetime.now(UTC),
        order_id=order_id,
        unit=unit,
        reply="已更换楼内循环泵，室温恢复",
    )
    record = encode(
        settings.topic("actions"),
        "jiesu.case.answer_supervision_order",
        data,
        key=ticket,
        event_id=event_id,
        source="/unit-system",
        time=datetime.now(UTC),
    )
    with KafkaProducer(bootstrap_servers=settings.kafka_bootstrap) as producer:
        producer.send(record.topic, key=record.key, value=record.value, headers=record.headers).get(10)


def test_the_units_system_answers_an_order_once_and_another_unit_is_refused(world):
    settings, system, worker = world
    ticket = f"BJ-{uuid.uuid4().hex[:8]}"
    handle_intake(intake_record(make_complaint(ticket_id=ticket, category="0101")), system.bus)
    order_id = system.bus.handle(c.IssueSupervisionOrder(ticket, "zhao", ask="请说明暖气不热的原因"))

    answer(settings, ticket, order_id, "ent-heating-b", "wrong-unit")
    answer(settings, ticket, order_id, "ent-heating", "answer-1")
    answer(settings, ticket, order_id, "ent-heating", "answer-1")  # delivered twice: applied once

    [dead] = consume(settings.kafka_bootstrap, settings.topic("deadletter"), expected=1)
    headers = dict(dead.headers)
    assert headers["ce_id"] == b"wrong-unit" and headers["jiesu_reason"] == b"refused"
    assert "addressed to ent-heating, not to ent-heating-b" in headers["jiesu_detail"].decode()

    def answered() -> bool:
        found = supervision_order(system.engine, order_id, datetime.now(UTC))
        return found is not None and found.status == "answered"

    wait_for(answered, 60, f"order {order_id} answered", worker)
    found = supervision_order(system.engine, order_id, datetime.now(UTC))
    assert found is not None and found.answered_by == "ent-heating-system"

    def supervision_events() -> list[dict[str, Any]]:
        records = consume(settings.kafka_bootstrap, settings.topic("cases"), expected=4, settle=1)
        return [
            json.loads(r.value)
            for r in records
            if dict(r.headers)["ce_type"].decode().startswith("jiesu.case.supervision_")
        ]

    events = supervision_events()
    assert [e["order_id"] for e in events] == [order_id, order_id]
    assert events[-1]["by"] == "ent-heating-system" and events[-1]["late"] is False
