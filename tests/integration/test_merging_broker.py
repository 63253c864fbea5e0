"""并案 on the real broker: the merge, and the resolution the merged case follows its main case in, reach
`jiesu.cases` keyed by the merged case's ticket, in order, as the contract has them."""

from __future__ import annotations

import pytest

from consumers.intake import handle_intake
from consumers.relay import OutboxRelay, make_producer
from dispatcher.adapters.database import make_engine
from dispatcher.bootstrap import bootstrap
from dispatcher.contract.cloudevents import KafkaRecord, decode
from dispatcher.contract.events import CaseMerged, CaseResolved, Topic, types_on
from dispatcher.domain import commands as c
from dispatcher.settings import Settings
from tests.integration.test_relay import read_all
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog
from tests.support.clock import Clock

pytestmark = pytest.mark.kafka


def test_a_merge_and_the_resolution_it_follows_are_published_on_the_cases_topic(
    database_url: str, kafka_bootstrap: str, topic_prefix: str, tmp_path
):
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        catalog_dir=write_catalog(tmp_path / "catalog"),
    )
    engine, clock = make_engine(database_url), Clock()
    system = bootstrap(settings, clock=clock, engine=engine)
    for ticket in ("BJ1", "BJ2"):
        handle_intake(intake_record(make_complaint(ticket_id=ticket, category="0101")), system.bus)
    system.bus.handle(c.MergeCases("BJ1", "zhao", tickets=("BJ2",), reason="同一处爆管"))
    for command in (
        c.AcknowledgeCase("BJ1", "li"),
        c.RecordContact("BJ1", "li"),
        c.ResolveCase("BJ1", "li", result="抢修完毕"),
    ):
        system.bus.handle(command)

    relay = OutboxRelay(engine, make_producer(kafka_bootstrap), clock, batch_size=100, poll_seconds=0.1)
    assert (
        relay.relay_once() == 7
    )  # 2 dispatched, 1 merged, BJ1 acknowledged, contacted, resolved; BJ2 resolved

    topic = f"{topic_prefix}cases"
    records = read_all(kafka_bootstrap, topic, expected=7)
    merged = [
        decode(
            KafkaRecord(topic, r.key, r.value, list(r.headers), r.partition, r.offset), types_on(Topic.CASES)
        )
        for r in sorted(records, key=lambda r: r.offset)
        if r.key == b"BJ2"
    ]
    assert [event.type for event in merged] == [
        "jiesu.case.dispatched",
        "jiesu.case.merged",
        "jiesu.case.resolved",
    ]
    [_, merge, resolved] = [event.data for event in merged]
    assert isinstance(merge, CaseMerged) and (merge.main_ticket_id, merge.by) == ("BJ1", "zhao")
    assert isinstance(resolved, CaseResolved) and resolved.note == "resolved with main case BJ1"
    system.engine.dispose()
