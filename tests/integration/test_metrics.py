"""`GET /metrics` over the real system: counts from the database (SQLite and PostgreSQL), the consumer
group's lag from the real broker, and a broker that cannot be reached or does not answer."""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, text, update

from consumers.intake import handle_intake
from consumers.sweeper import sweep
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import upgrade
from dispatcher.adapters.sql import encode_headers
from dispatcher.bootstrap import System, bootstrap
from dispatcher.contract.cloudevents import RejectReason
from dispatcher.domain import commands as c
from dispatcher.domain.case import CaseState
from dispatcher.settings import Settings
from jiesu.web import metrics
from jiesu.web.app import create_app
from tests.conftest import sqlite_url
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog
from tests.support.clock import NOW, Clock

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def closed_port() -> str:
    """A local address where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
def silent_broker() -> Iterator[str]:
    """A local address that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"127.0.0.1:{server.getsockname()[1]}"


def app_with_metrics(system: System) -> FastAPI:
    app = create_app(system.settings, system)
    if not any(getattr(route, "path", None) == "/metrics" for route in app.routes):
        app.include_router(metrics.router)
    return app


def parse(text: str) -> Samples:
    """Samples by name and labels, through prometheus_client's parser."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client: TestClient) -> tuple[Samples, dict[str, str]]:
    """The samples, and each metric's type from its `# TYPE` line (every one has a `# HELP` line too)."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", response.text, re.MULTILINE))
    assert set(re.findall(r"^# HELP (\S+) \S", response.text, re.MULTILINE)) == set(types)
    return parse(response.text), types


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def series(samples: Samples, name: str, label: str) -> dict[str, float]:
    return {dict(labels)[label]: v for (sample, labels), v in samples.items() if sample == name}


def open_case(system: System, ticket: str, **overrides: object) -> str:
    fields = {
        "ticket_id": ticket,
        "category": "0101",
        "urgency": "urgent",
        "location": {"district": "朝阳区"},
    }
    handle_intake(intake_record(make_complaint(**{**fields, **overrides})), system.bus)
    return ticket


def notification(status: str, n: int) -> dict[str, object]:
    return {
        "key": f"event-{n}:p1:sms",
        "event_id": f"event-{n}",
        "ticket_id": None,
        "kind": "case.dispatched",
        "recipient": "p1",
        "channel": "sms",
        "address": "13800000000",
        "subject": "新工单",
        "text": "新工单",
        "urgent": False,
        "status": status,
        "attempts": 1,
        "due_at": NOW,
        "created_at": NOW,
    }


def test_metrics_count_cases_dead_letters_escalations_outbox_and_notifications(
    database_url: str, tmp_path: Path, clock: Clock
):
    catalog = write_catalog(tmp_path / "catalog")
    settings = Settings(database_url=database_url, catalog_dir=catalog, kafka_bootstrap=closed_port())
    system = bootstrap(settings, clock=clock)
    for ticket in ("BJ0", "BJ1", "BJ2"):
        open_case(system, ticket)
    open_case(system, "Q1", description="请帮忙看看这个情况", category=None)  # to triage
    broken = dataclasses.replace(intake_record(make_complaint()), value=b'{"ticket_id": ')
    handle_intake(broken, system.bus)
    open_case(system, "BJ0")  # the same ticket again, as a new event
    with system.engine.begin() as connection:  # a dead letter whose reason the contract does not know
        headers = encode_headers([("jiesu_reason", b"operator_set_aside")])
        connection.execute(
            insert(t.outbox).values(topic="old.deadletter", value=b"{}", headers=headers, created_at=NOW)
        )
        # one stored by an earlier version, whose JSON text has ASCII escapes and ", " between items
        older = json.dumps(encode_headers([("ce_type", "旧".encode()), ("jiesu_reason", b"unknown_type")]))
        as_json = "CAST(:older AS JSON)" if connection.dialect.name == "postgresql" else ":older"
        connection.execute(
            insert(t.outbox).values(topic="old.deadletter", value=b"{}", headers=[], created_at=NOW)
        )
        connection.execute(
            text(f"UPDATE outbox SET headers = {as_json} WHERE id = (SELECT max(id) FROM outbox)"),
            {"older": older},
        )

    clock.now = NOW + timedelta(minutes=10)
    system.bus.handle(c.AcknowledgeCase("BJ1", "p1"))
    clock.now = NOW + timedelta(minutes=61)  # urgent: BJ0 and BJ2 were not acknowledged within 1 h: level 1
    sweep(system.engine, system.bus, clock)
    for command in (c.AcknowledgeCase, c.RecordContact):
        system.bus.handle(command("BJ2", "p1"))
    system.bus.handle(c.ResolveCase("BJ2", "p1", result="已派人检修，暖气恢复。"))  # no longer open

    with system.engine.begin() as connection:
        connection.execute(
            update(t.outbox).where(~t.outbox.c.topic.endswith("deadletter")).values(sent_at=NOW)
        )
        statuses = ["pending", "sent", "sent", "failed"]
        connection.execute(insert(t.notifications), [notification(s, n) for n, s in enumerate(statuses)])

    with TestClient(app_with_metrics(system)) as client:
        samples, types = scrape(client)

    assert value(samples, "jiesu_database_up") == 1
    assert value(samples, "jiesu_events_consumed_total") == 6  # four cases, two dead letters
    cases = series(samples, "jiesu_cases_total", "state")
    assert cases == {
        **dict.fromkeys(CaseState, 0),
        "dispatched": 1,
        "acknowledged": 1,
        "resolved": 1,
        "queued": 1,
    }
    assert value(samples, "jiesu_cases_dispatched_total") == 3
    assert value(samples, "jiesu_cases_closed_direct_total") == 0  # counted in test_knowledge.py
    dead = series(samples, "jiesu_dead_letters_total", "reason")
    assert dead == (
        {
            **dict.fromkeys(RejectReason, 0),
            "invalid_json": 1,
            "duplicate_ticket": 1,
            "unknown_type": 1,
            "other": 1,
        }
    )
    assert series(samples, "jiesu_escalations_open", "level") == {"1": 1}  # BJ0's; BJ2 is resolved
    assert value(samples, "jiesu_outbox_backlog") == 4  # the dead letters
    assert value(samples, "jiesu_outbox_oldest_unsent_seconds") == 61 * 60
    assert series(samples, "jiesu_notifications_total", "status") == {"pending": 1, "sent": 2, "failed": 1}
    assert value(samples, "jiesu_notification_failures_total") == 1
    assert value(samples, "jiesu_broker_up") == 0
    assert not series(samples, "jiesu_consumer_lag", "topic")
    assert types == {
        "jiesu_database_up": "gauge",
        "jiesu_events_consumed_total": "counter",
        "jiesu_cases_total": "gauge",
        "jiesu_cases_dispatched_total": "counter",
        "jiesu_cases_closed_direct_total": "counter",
        "jiesu_dead_letters_total": "counter",
        "jiesu_escalations_open": "gauge",
        "jiesu_outbox_backlog": "gauge",
        "jiesu_outbox_oldest_unsent_seconds": "gauge",
        "jiesu_notifications_total": "gauge",
        "jiesu_notification_failures_total": "counter",
        "jiesu_broker_up": "gauge",
    }

    restarted = bootstrap(settings, clock=clock)  # another process over the same database
    with TestClient(app_with_metrics(restarted)) as client:
        assert scrape(client)[0] == samples
    for each in (system, restarted):
        each.engine.dispose()


@pytest.mark.kafka
def test_consumer_lag_is_what_the_group_has_not_committed_cached_for_a_few_seconds(
    kafka_bootstrap: str, topic_prefix: str, tmp_path: Path
):
    url = sqlite_url(tmp_path)
    upgrade(url)
    group = f"metrics-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        database_url=url,
        catalog_dir=write_catalog(tmp_path / "catalog"),
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        consumer_group=group,
    )
    intake, actions = settings.topic("intake"), settings.topic("actions")
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for n in range(5):
        producer.send(intake, b"{}", partition=n % 3)  # 2, 2 and 1 records on partitions 0, 1, 2
    for _ in range(2):
        producer.send(actions, b"{}", partition=0)
    producer.flush()
    producer.close()

    system = bootstrap(settings)
    app = app_with_metrics(system)
    ticks = [0.0]
    topics = [settings.topic(name) for name in ("intake", "actions", "feedback", "cases")]
    app.state.broker_probe = metrics.BrokerProbe(kafka_bootstrap, group, topics, clock=lambda: ticks[0])
    with TestClient(app) as client:
        samples, _ = scrape(client)
        assert value(samples, "jiesu_broker_up") == 1
        expected = {intake: 5, actions: 2, settings.topic("feedback"): 0, settings.topic("cases"): 0}
        assert series(samples, "jiesu_consumer_lag", "topic") == expected

        consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
        consumer.commit(
            {TopicPartition(intake, 0): OffsetAndMetadata(2), TopicPartition(intake, 1): OffsetAndMetadata(1)}
        )
        consumer.close(autocommit=False)
        assert series(scrape(client)[0], "jiesu_consumer_lag", "topic")[intake] == 5  # still the cached look
        ticks[0] += metrics.BROKER_CACHE_S
        assert series(scrape(client)[0], "jiesu_consumer_lag", "topic")[intake] == 2  # 0, 1 and 1 left
    system.engine.dispose()
    assert metrics.broker_up(kafka_bootstrap, 2.0)


@pytest.mark.parametrize("where", ["closed", "silent"])
def test_a_broker_out_of_reach_reads_down_without_lag_within_the_timeout(
    where: str, silent_broker: str, tmp_path: Path
):
    url = sqlite_url(tmp_path)
    upgrade(url)
    bootstrap_servers = closed_port() if where == "closed" else silent_broker
    settings = Settings(
        database_url=url, catalog_dir=write_catalog(tmp_path / "catalog"), kafka_bootstrap=bootstrap_servers
    )
    system = bootstrap(settings)
    with TestClient(app_with_metrics(system)) as client:
        started = time.monotonic()
        samples, types = scrape(client)
        assert time.monotonic() - started < metrics.BROKER_TIMEOUT_S + 3
        assert value(samples, "jiesu_broker_up") == 0
        assert value(samples, "jiesu_database_up") == 1
        assert "jiesu_consumer_lag" not in types and not series(samples, "jiesu_consumer_lag", "topic")
        started = time.monotonic()
        scrape(client)
        assert time.monotonic() - started < 1  # the look is cached
    system.engine.dispose()
    started = time.monotonic()
    assert not metrics.broker_up(bootstrap_servers, 1.0)
    assert time.monotonic() - started < 2.5
