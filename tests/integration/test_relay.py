"""The outbox relay against the real broker: committed rows reach Kafka in order, once, then are marked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

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
from tests.support.builders import intake_record, make_complaint
from tests.support.clock import NOW, Clock

pytestmark = pytest.mark.kafka
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
    clock = Clock()
    bus = bootstrap(settings, clock=clock, engine=engine, router=DESK).bus
    tickets = [f"BJ{n:04d}" for n in range(30)]
    for ticket in tickets:
        handle_intake(intake_record(make_complaint(ticket_id=ticket)), bus)

    relay = OutboxRelay(engine, make_producer(kafka_bootstrap), clock, batch_size=7, poll_seconds=0.1)
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


def test_jiesu_relay_publishes_what_workers_commit_until_sigterm(
    database_url: str, kafka_bootstrap: str, topic_prefix: str
):
    settings = Settings(database_url=database_url, kafka_bootstrap=kafka_bootstrap, topic_prefix=topic_prefix)
    engine = make_engine(database_url)
    bus = bootstrap(settings, engine=engine, router=DESK).bus
    before, meanwhile = [f"BJ{n:04d}" for n in range(10)], [f"BJ{n:04d}" for n in range(10, 15)]
    for ticket in before:
        handle_intake(intake_record(make_complaint(ticket_id=ticket)), bus)
    env = {name: value for name, value in os.environ.items() if not name.startswith("JIESU_")}
    env |= {
        "JIESU_DATABASE_URL": database_url,
        "JIESU_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "JIESU_TOPIC_PREFIX": topic_prefix,
        "JIESU_RELAY_POLL_SECONDS": "0.2",
    }
    relay = subprocess.Popen([sys.executable, "-m", "jiesu", "relay", "--log-level", "warn"], env=env)
    try:
        first = read_all(kafka_bootstrap, f"{topic_prefix}cases", expected=10, timeout_ms=30_000)
        for ticket in meanwhile:  # committed while it runs: found at its next look
            handle_intake(intake_record(make_complaint(ticket_id=ticket)), bus)
        every = read_all(kafka_bootstrap, f"{topic_prefix}cases", expected=15, timeout_ms=30_000)
    finally:
        relay.send_signal(signal.SIGTERM)
        code = relay.wait(timeout=30)

    assert sorted(r.key.decode() for r in first) == before
    assert sorted(r.key.decode() for r in every) == before + meanwhile
    assert code == 0
    with engine.connect() as connection:
        assert all(row.sent_at is not None for row in connection.execute(select(t.outbox)))


def test_the_relays_producer_without_a_broker_fails_at_once_and_leaves_no_thread():
    import threading

    from aiokafka.errors import KafkaConnectionError

    before = set(threading.enumerate())
    with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
        make_producer("127.0.0.1:1")  # nothing listens there
    assert set(threading.enumerate()) <= before
