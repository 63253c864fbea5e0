"""吹哨报到 through the real broker: a unit called in on a case acknowledges and reports from its own system
with `jiesu.case.co_acknowledge` and `jiesu.case.co_report` on the actions topic of a running `jiesu run`;
each is applied once, a refused one comes back on the dead-letter topic with its reason."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import select

from consumers.intake import handle_intake
from dispatcher.adapters import tables as t
from dispatcher.bootstrap import System, bootstrap
from dispatcher.contract import events as wire
from dispatcher.contract.cloudevents import encode
from dispatcher.domain import commands as c
from dispatcher.settings import Settings
from tests.e2e.worker import Worker
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog

pytestmark = pytest.mark.kafka
STREET = "street-110105010"


@pytest.fixture
def world(database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path: Path) -> Iterator[Any]:
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        catalog_dir=write_catalog(tmp_path / "catalog"),
        consumer_group=f"whistle-{uuid.uuid4().hex[:6]}",
        relay_poll_seconds=0.2,
    )
    env = {f"JIESU_{k.upper()}": str(v) for k, v in settings.model_dump(mode="json").items()}
    worker = Worker(env, tmp_path / "worker.log").start()
    system = bootstrap(settings)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    yield settings, system, worker, producer
    producer.close()
    worker.stop()
    system.engine.dispose()


def send(world: Any, event_type: str, data: wire.Wire, event_id: str) -> None:
    settings, _, _, producer = world
    record = encode(
        settings.topic("actions"),
        event_type,
        data,
        key=data.ticket_id,  # type: ignore[attr-defined]
        event_id=event_id,
        source="/street-system",
        time=datetime.now(UTC),
    )
    producer.send(record.topic, key=record.key, value=record.value, headers=record.headers).get(10)


def actions(system: System, ticket: str) -> list[str]:
    query = select(t.audit.c.action).where(t.audit.c.ticket_id == ticket).order_by(t.audit.c.id)
    with system.engine.connect() as connection:
        return list(connection.execute(query).scalars())


def wait_for(world: Any, what: str, ok: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ok():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen\n{world[2].tail()}")


def dead_letter(world: Any, event_id: str) -> str | None:
    settings = world[0]
    consumer = KafkaConsumer(
        settings.topic("deadletter"),
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=500,
        enable_auto_commit=False,
    )
    try:
        for record in consumer:
            headers = dict(record.headers)
            if headers.get("ce_id") == event_id.encode():
                return f"{headers['jiesu_reason'].decode()}: {headers['jiesu_detail'].decode()}"
    finally:
        consumer.close()
    return None


def test_a_called_unit_acknowledges_and_reports_from_its_own_system(world):
    _, system, _, _ = world
    ticket = f"BJ-{uuid.uuid4().hex[:8]}"
    complaint = make_complaint(ticket_id=ticket, category="0101", location={"district": "朝阳区"})
    handle_intake(intake_record(complaint), system.bus)
    system.bus.handle(c.AcknowledgeCase(ticket, "li"))
    system.bus.handle(c.Whistle(ticket, "li", calls=(c.WhistleCall(STREET, "请约谈物业公司"),)))
    now = datetime.now(UTC)

    acknowledge = wire.CoAcknowledgeCase(ticket_id=ticket, by="wangjing", at=now, unit=STREET)
    send(world, "jiesu.case.co_acknowledge", acknowledge, "co-ack-1")
    wait_for(world, "the acknowledgement", lambda: "co_acknowledge" in actions(system, ticket))
    report = wire.CoReportCase(
        ticket_id=ticket, by="wangjing", at=now, unit=STREET, report="已约谈物业，明日检修"
    )
    send(world, "jiesu.case.co_report", report, "co-report-1")
    send(world, "jiesu.case.co_report", report, "co-report-1")  # the same event again: applied once
    stranger = wire.CoReportCase(ticket_id=ticket, by="x", at=now, unit="street-110105011", report="不是我们")
    send(world, "jiesu.case.co_report", stranger, "co-report-2")
    wait_for(world, "the refusal", lambda: dead_letter(world, "co-report-2") is not None)

    assert dead_letter(world, "co-report-2") == (
        f"refused: case {ticket}: street-110105011 is not a co-handling unit of this case"
    )
    assert actions(system, ticket).count("co_report") == 1
    with system.engine.connect() as connection:
        stored = connection.execute(
            select(t.cases.c.co_handlers).where(t.cases.c.ticket_id == ticket)
        ).scalar()
    assert (stored[STREET]["acknowledged_by"], stored[STREET]["report"]) == (
        "wangjing",
        "已约谈物业，明日检修",
    )
    system.bus.handle(c.RecordContact(ticket, "li"))
    system.bus.handle(c.ResolveCase(ticket, "li", result="已修复"))  # the called unit reported: no waiver
    assert actions(system, ticket)[-1] == "resolve"


def test_the_lead_units_system_calls_units_in_over_kafka(world):
    _, system, _, _ = world
    ticket = f"BJ-{uuid.uuid4().hex[:8]}"
    complaint = make_complaint(ticket_id=ticket, category="0101", location={"district": "朝阳区"})
    handle_intake(intake_record(complaint), system.bus)
    system.bus.handle(c.AcknowledgeCase(ticket, "li"))
    now = datetime.now(UTC)
    call = wire.WhistleCall(unit=STREET, ask="请约谈物业公司")
    whistle = wire.WhistleCase(ticket_id=ticket, by="li", at=now, calls=[call])

    send(world, "jiesu.case.whistle", whistle, "whistle-1")
    send(world, "jiesu.case.whistle", whistle, "whistle-1")  # redelivered: applied once
    stranger = wire.WhistleCase(
        ticket_id=ticket, by="li", at=now, calls=[wire.WhistleCall(unit="no-such-unit", ask="来一下")]
    )
    send(world, "jiesu.case.whistle", stranger, "whistle-2")
    settings, _, _, producer = world
    empty = encode(
        settings.topic("actions"),
        "jiesu.case.whistle",
        wire.CoAcknowledgeCase(ticket_id=ticket, by="li", at=now, unit=STREET),  # no `calls`
        key=ticket,
        event_id="whistle-3",
        source="/street-system",
        time=now,
    )
    producer.send(empty.topic, key=empty.key, value=empty.value, headers=empty.headers).get(10)
    wait_for(
        world, "the refusals", lambda: dead_letter(world, "whistle-3") and dead_letter(world, "whistle-2")
    )

    assert actions(system, ticket).count("whistle") == 1
    assert dead_letter(world, "whistle-1") is None
    assert dead_letter(world, "whistle-2") == "refused: unknown unit no-such-unit"
    assert str(dead_letter(world, "whistle-3")).startswith("missing_field: calls")
    with system.engine.connect() as connection:
        stored = connection.execute(
            select(t.cases.c.co_handlers).where(t.cases.c.ticket_id == ticket)
        ).scalar()
    assert stored[STREET]["ask"] == "请约谈物业公司"
    # the called unit's part, from its own system, as before
    acknowledge = wire.CoAcknowledgeCase(ticket_id=ticket, by="wangjing", at=now, unit=STREET)
    send(world, "jiesu.case.co_acknowledge", acknowledge, "whistle-co-ack")
    wait_for(world, "the acknowledgement", lambda: "co_acknowledge" in actions(system, ticket))
