"""A unit's own system reports a governance task (主动治理任务) done on `jiesu.actions`, to a running
`jiesu run`, on the real broker and each database: the report is applied once (a repeated event does
nothing more), a report from another unit and a second report come back on the dead-letter topic with the
reason, and the task's facts go out on `jiesu.hotspots`, keyed by the hotspot."""

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
from dispatcher.reads.governance import governance_task
from dispatcher.settings import Settings
from tests.e2e.worker import Worker, consume, wait_for
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog
from tests.support.hotspots import store_hotspot

pytestmark = pytest.mark.kafka


@pytest.fixture
def world(database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> Iterator[Any]:
    upgrade(database_url)
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        consumer_group=f"tasks-{uuid.uuid4().hex[:6]}",
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


def report(settings: Settings, task_id: str, unit: str, event_id: str) -> None:
    data = wire.ReportGovernanceTask(
        task_id=task_id,
        unit=unit,
        by=f"{unit}-system",
        at=datetime.now(UTC),
        report="已更换望京片区供热主管网阀门，回访居民室温达标",
    )
    record = encode(
        settings.topic("actions"),
        "jiesu.governance.report_task",
        data,
        key=task_id,
        event_id=event_id,
        source="/unit-system",
        time=datetime.now(UTC),
    )
    with KafkaProducer(bootstrap_servers=settings.kafka_bootstrap) as producer:
        producer.send(record.topic, key=record.key, value=record.value, headers=record.headers).get(10)


def test_the_units_system_reports_a_task_once_and_other_reports_are_dead_lettered(world):
    settings, system, worker = world
    tickets = [f"GV-{uuid.uuid4().hex[:8]}" for _ in range(5)]
    for ticket in tickets:
        handle_intake(intake_record(make_complaint(ticket_id=ticket, category="0101")), system.bus)
    hotspot = store_hotspot(system.engine, tickets, datetime.now(UTC), f"hs-{uuid.uuid4().hex[:8]}")
    task_id = system.bus.handle(
        c.CreateGovernanceTask(
            "zhao", hotspot_id=hotspot.hotspot_id, unit="ent-heating", ask="查明供热管网故障", working_days=5
        )
    )

    report(settings, task_id, "ent-heating-b", "wrong-unit")
    report(settings, task_id, "ent-heating", "report-1")
    report(settings, task_id, "ent-heating", "report-1")  # delivered twice: applied once

    def reported() -> bool:
        found = governance_task(system.engine, task_id, datetime.now(UTC))
        return found is not None and found.status == "done"

    wait_for(reported, 60, f"task {task_id} reported", worker)
    found = governance_task(system.engine, task_id, datetime.now(UTC))
    assert found is not None and found.reported_by == "ent-heating-system"
    report(settings, task_id, "ent-heating", "report-2")  # a second report: refused, not retried

    dead = consume(settings.kafka_bootstrap, settings.topic("deadletter"), expected=2)
    reasons = {dict(r.headers)["ce_id"]: dict(r.headers) for r in dead}
    assert reasons[b"wrong-unit"]["jiesu_reason"] == b"refused"
    assert "is for ent-heating, not for ent-heating-b" in reasons[b"wrong-unit"]["jiesu_detail"].decode()
    assert reasons[b"report-2"]["jiesu_reason"] == b"refused"
    assert "was reported by ent-heating-system" in reasons[b"report-2"]["jiesu_detail"].decode()

    records = [  # the worker's own detector may raise hotspots of these cases too: not looked at here
        r
        for r in consume(settings.kafka_bootstrap, settings.topic("hotspots"), expected=2, settle=1)
        if dict(r.headers)["ce_type"].startswith(b"jiesu.governance.")
    ]
    kinds = [dict(r.headers)["ce_type"].decode() for r in records]
    assert kinds == ["jiesu.governance.task_created", "jiesu.governance.task_reported"]
    assert {r.key for r in records} == {hotspot.hotspot_id.encode()}
    assert json.loads(records[-1].value)["by"] == "ent-heating-system"
