"""Hotspots through the real broker and each database: requests in, dispatched, their events read back
from the cases topic by the hotspot counter; a surge at one street becomes one `jiesu.hotspot.detected`
on the hotspots topic and an open hotspot in `GET /api/hotspots`, however often the events come again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer
from sqlalchemy import select

from consumers.hotspots import HotspotCounter
from consumers.intake import handle_intake
from consumers.relay import OutboxRelay, make_producer
from dispatcher.adapters import tables as t
from dispatcher.bootstrap import System, bootstrap
from dispatcher.contract.cloudevents import KafkaRecord
from dispatcher.contract.events import Topic
from dispatcher.domain import commands as c
from dispatcher.settings import Settings
from jiesu.web.app import create_app
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog
from tests.support.clock import NOW, Clock
from tests.support.logins import Caller, add_people

pytestmark = pytest.mark.kafka
WANGJING = {"district": "朝阳区", "street": "望京街道", "community": "花家地北里社区"}
HEATING = "家里暖气不热，室温只有十五度，请尽快派人检修。"
VAGUE = "想问一下这个事情怎么办"


@pytest.fixture
def hotline(
    database_url: str, tmp_path: Path, clock: Clock, kafka_bootstrap: str, topic_prefix: str
) -> Iterator[System]:
    settings = Settings(
        database_url=database_url,
        catalog_dir=write_catalog(tmp_path / "catalog"),
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
    )
    system = bootstrap(settings, clock=clock)
    yield system
    system.engine.dispose()


def read(bootstrap: str, topic: str, expected: int) -> list[KafkaRecord]:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=10_000
    )
    records = []
    for message in consumer:
        records.append(
            KafkaRecord(message.topic, message.key, message.value, list(message.headers), message.partition,
                        message.offset)
        )  # fmt: skip
        if len(records) >= expected:
            break
    records += [
        KafkaRecord(m.topic, m.key, m.value, list(m.headers), m.partition, m.offset)
        for batch in consumer.poll(timeout_ms=1000).values()
        for m in batch
    ]
    consumer.close()
    return records


def relay_all(system: System, clock: Clock) -> None:
    relay = OutboxRelay(system.engine, make_producer(system.settings.kafka_bootstrap), clock, 500, 0.1)
    while relay.relay_once():
        pass


def test_a_surge_at_a_street_is_a_hotspot_on_the_topic_and_in_the_api(
    hotline: System, clock: Clock, kafka_bootstrap: str, topic_prefix: str
):
    # a normal day before: one request an hour at each of two other streets
    for hour in range(24, 0, -1):
        clock.now = NOW - timedelta(hours=hour)
        for place, category in ((("海淀区", "八里庄街道"), "02"), (("朝阳区", "八里庄街道"), "01")):
            complaint = make_complaint(
                received_at=clock.now, category=category, location={"district": place[0], "street": place[1]}
            )
            handle_intake(intake_record(complaint), hotline.bus)
    # then eight callers at 望京 about the heating within a quarter of an hour; the first two said too
    # little for the classifier: the center dispatches them from the triage queue (a redispatch)
    surge = []
    for n in range(8):
        clock.now = NOW + timedelta(minutes=2 * n)
        said = {"description": VAGUE} if n < 2 else {"category": "0101", "description": HEATING}
        complaint = make_complaint(received_at=clock.now, location=WANGJING, **said)
        handle_intake(intake_record(complaint), hotline.bus)
        if n < 2:
            triaged = c.DispatchManually(complaint.ticket_id, "zhao", unit="ent-heating", category="0101")
            hotline.bus.handle(triaged)
        surge.append(complaint.ticket_id)
    relay_all(hotline, clock)

    cases = read(kafka_bootstrap, f"{topic_prefix}cases", expected=58)  # and the two queued
    types = [r.header("ce_type") for r in cases]
    assert (types.count("jiesu.case.dispatched"), types.count("jiesu.case.redispatched")) == (54, 2)
    counter = HotspotCounter(hotline.engine, clock, hotline.settings.topic(Topic.HOTSPOTS))
    in_order = sorted(cases, key=lambda r: (r.partition, r.offset))
    for start in range(0, len(in_order), 10):  # as the agent takes them, a few at a time
        counter.count_records(in_order[start : start + 10])
    counter.count_records(in_order)  # all of them again, as after a crash before the offsets were committed
    relay_all(hotline, clock)

    events = read(kafka_bootstrap, f"{topic_prefix}hotspots", expected=1)
    for e in events:
        print(e.header("ce_type"), e.value.decode())
    assert [e.header("ce_type") for e in events] == ["jiesu.hotspot.detected"]
    data = json.loads(events[0].value)
    assert events[0].key is not None and events[0].key.decode() == data["hotspot_id"]
    assert (data["district"], data["street"]) == ("110105", "110105010")
    assert data["category"] in ("01", "0101") and data["window"] == "1h"
    assert data["observed"] >= 5 and data["expected"] < 0.5 and data["score"] > 8
    # the requests counted by then (from any partition), oldest first
    assert set(data["ticket_ids"]) <= set(surge) and len(data["ticket_ids"]) == data["observed"]
    assert data["ticket_ids"] == sorted(data["ticket_ids"], key=surge.index)
    assert data["first_ticket_id"] == data["ticket_ids"][0]
    with hotline.engine.connect() as connection:  # every case counted once, the triaged at their dispatch
        counted = connection.execute(select(t.inbox.c.event_id).where(t.inbox.c.source == "hotspots:case"))
        tickets = [row.event_id for row in counted]
    assert len(tickets) == len(set(tickets)) == 56 and set(surge) <= set(tickets)

    tokens = add_people(hotline, "zhao", "chaoyang", "haidian", "li", password=None)
    with TestClient(create_app(hotline.settings, hotline)) as client:
        listed = Caller(client, tokens["zhao"]).get("/api/hotspots", params={"status": "open"})
        assert listed.status_code == 200, listed.text
        assert [h["hotspot_id"] for h in listed.json()] == [data["hotspot_id"]]
        assert listed.json()[0]["ticket_ids"] == data["ticket_ids"]
        assert Caller(client, tokens["zhao"]).get("/api/hotspots", params={"status": "closed"}).json() == []
        chaoyang = Caller(client, tokens["chaoyang"])
        assert [h["street"] for h in chaoyang.get("/api/hotspots").json()] == ["110105010"]
        refused = chaoyang.get("/api/hotspots", params={"district": "110108"})
        assert refused.status_code == 403 and "outside your scope" in refused.text
        assert Caller(client, tokens["haidian"]).get("/api/hotspots").json() == []
        assert Caller(client, tokens["li"]).get("/api/hotspots").status_code == 403
        assert (
            Caller(client, tokens["zhao"]).get("/api/hotspots", params={"status": "lost"}).status_code == 422
        )
