"""The outbox relay against the real broker: committed rows reach Kafka in order, once, then are marked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from kafka import KafkaConsumer
from sqlalchemy import select

from consumers.intake import handle_intake
from consumers.relay import OutboxRelay, make_producer
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import make_engine
from dispatcher.bootstrap import bootstrap
from dispatcher.settings import Settings
from rules.routing import DefaultUnitRouter
from tests.builders import intake_record, make_complaint

pytestmark = pytest.mark.kafka
NOW = datetime(2026, 11, 26, 1, 30, tzinfo=UTC)
DESK = DefaultUnitRouter("center-dispatch", "dispatch-desk", "on-duty")


def read_all(bootstrap: str, topic: str, expected: int, timeout_ms: int = 10_000) -> list:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=timeout_ms,
        enable_auto_commit=False,
    )
    records = []
    for record in consumer:
        records.append(record)
        if len(records) >= expected:
            consumer.poll(timeout_ms=500)  # one more look: anything beyond `expected` is a duplicate
            break
    records += [r for batch in consumer.poll(timeout_ms=1000).values() for r in batch]
    consumer.close()
    return records


def test_relay_publishes_committed_rows_in_order_once(
    database_url: str, kafka_bootstrap: str, topic_prefix: str
):
    settings = Settings(database_url=database_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    engine = make_engine(database_url)
    bus = bootstrap(settings, clock=lambda: NOW, engine=engine, router=DESK).bus
    tickets = [f"BJ{n:04d}" for n in range(30)]
    for ticket in tickets:
        handle_intake(intake_record(make_complaint(ticket_id=ticket)), bus)

    relay = OutboxRelay(engine, make_producer(kafka_bootstrap), lambda: NOW, batch_size=7, poll_seconds=0.1)
    published = [relay.relay_once() for _ in range(6)]
    assert published == [7, 7, 7, 7, 2, 0]

    records = read_all(kafka_bootstrap, f"{topic_prefix}cases", expected=30)
    assert sorted(r.key.decode() for r in records) == tickets
    by_partition: dict[int, list[str]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        by_partition.setdefault(record.partition, []).append(record.key.decode())
    for keys in by_partition.values():
        assert keys == sorted(keys)  # per-partition order follows commit order
    with engine.connect() as connection:
        assert all(row.sent_at == NOW for row in connection.execute(select(t.outbox)))
