"""A worker killed (SIGKILL) while it applies a stream of requests: its successor in the same consumer group
applies what the first had not committed, and every request still has exactly one case and one opening
event. The other faults (broker restart, database outage, sweepers killed or doubled) need infrastructure
a test may not stop: `python -m bench.faults` runs them on its own (docs/reliability.md)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import pytest

from consumers.publisher import IntakePublisher
from dispatcher.adapters.database import upgrade
from dispatcher.settings import Settings
from tests.e2e.test_intake_to_dispatched import case_count, headers_of
from tests.e2e.worker import Worker, consume, wait_for
from tests.support.builders import make_complaint

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
REQUESTS = 300
RATE = 100.0  # per second: the stream lasts three seconds, the kill falls inside it


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """PostgreSQL only: the database of a production worker."""
    upgrade(postgres_url)
    return postgres_url


def stream(settings: Settings, tickets: list[str]) -> threading.Thread:
    def publish() -> None:
        publisher = IntakePublisher(settings)
        began = time.monotonic()
        for number, ticket in enumerate(tickets):
            time.sleep(max(0.0, began + number / RATE - time.monotonic()))
            publisher.publish(make_complaint(ticket_id=ticket))
        publisher.close()

    thread = threading.Thread(target=publish, daemon=True)
    thread.start()
    return thread


def test_a_worker_killed_mid_stream_loses_nothing_and_dispatches_nothing_twice(
    settings: Settings, worker: Worker
):
    worker.start()
    tickets = [f"BJ-KILL-{n:03d}" for n in range(REQUESTS)]
    stream(settings, tickets[:1]).join(timeout=30)
    wait_for(lambda: case_count(settings) == 1, 60, "the worker to consume", worker)
    publishing = stream(settings, tickets[1:])
    wait_for(lambda: case_count(settings) >= 30, 60, "the first cases of the stream", worker)
    worker.kill()  # mid-stream: requests keep arriving, some taken and not yet committed
    assert case_count(settings) < REQUESTS / 2
    worker.start()  # its successor, in the same consumer group
    publishing.join(timeout=60)

    wait_for(lambda: case_count(settings) == REQUESTS, 120, f"{REQUESTS} cases", worker)
    records = consume(settings.kafka_bootstrap, settings.topic("cases"), expected=REQUESTS, settle=3)
    events: dict[str, set[bytes]] = defaultdict(set)  # ticket -> ce_ids (a relayed record may repeat)
    for record in records:
        headers = headers_of(record)
        assert headers["ce_type"] in (b"jiesu.case.dispatched", b"jiesu.case.queued")
        events[record.key.decode()].add(headers["ce_id"])
    assert sorted(events) == tickets, worker.tail()
    assert [ticket for ticket, ids in events.items() if len(ids) != 1] == []
    assert consume(settings.kafka_bootstrap, settings.topic("deadletter"), expected=0, settle=1) == []
    assert case_count(settings) == REQUESTS
