"""并案 by hotspot on SQLite and PostgreSQL (`JIESU_MERGE_HOTSPOTS`): the hotspot counter reads the
dispatches back and opens a hotspot at a community; its `jiesu.hotspot.detected`, read back in turn, merges
the hotspot's open cases at the main case's unit into its first case, once however often it comes; a case
at another unit stays apart with the reason in the log; later cases of the area and category are merged as
they are dispatched while the hotspot is open; with the setting off nothing is merged."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from consumers.hotspot_merge import HotspotMerger
from consumers.hotspots import HotspotCounter
from consumers.intake import handle_intake
from dispatcher.adapters import tables as t
from dispatcher.adapters.sql import decode_headers
from dispatcher.bootstrap import System, bootstrap
from dispatcher.contract.cloudevents import KafkaRecord
from dispatcher.contract.events import Topic
from dispatcher.domain import commands as c
from dispatcher.domain.hotspots import HotspotPolicy
from dispatcher.settings import Settings
from tests.integration.test_merging import outbox, trail
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog
from tests.support.clock import NOW, Clock

WANGJING = {"district": "朝阳区", "street": "望京街道", "community": "花家地北里社区"}
NEIGHBOUR = {"district": "朝阳区", "street": "望京街道", "community": "南湖东园社区"}
EAGER = HotspotPolicy(min_count=4, alpha=1e-3)  # a handful of requests is improbable enough


def records(system: System, topic: Topic, after: int = 0) -> tuple[list[KafkaRecord], int]:
    """The outbox rows of a topic after row `after`, as the consumer reads them back, and the last row."""
    o = t.outbox.c
    query = select(o.id, o.topic, o.key, o.value, o.headers).where(
        o.topic == system.settings.topic(topic), o.id > after
    )
    with system.engine.connect() as connection:
        rows = connection.execute(query.order_by(o.id)).all()
    found = [
        KafkaRecord(row.topic, row.key, row.value, decode_headers(row.headers), 0, row.id) for row in rows
    ]
    return found, max([row.id for row in rows], default=after)


def states(system: System) -> dict[str, tuple[str, str | None]]:
    with system.engine.connect() as connection:
        rows = connection.execute(select(t.cases.c.ticket_id, t.cases.c.state, t.cases.c.merged_into))
        return {row.ticket_id: (row.state, row.merged_into) for row in rows}


def request(system: System, clock: Clock, ticket: str, minutes: int, **said: object) -> str:
    clock.now = NOW + timedelta(minutes=minutes)
    fields = {"category": "0101", "location": WANGJING, **said}
    handle_intake(
        intake_record(make_complaint(ticket_id=ticket, received_at=clock.now, **fields)), system.bus
    )
    return ticket


@pytest.fixture
def world(database_url: str, tmp_path: Path):
    clock = Clock()
    catalog = write_catalog(tmp_path / "catalog")
    on = bootstrap(Settings(database_url=database_url, catalog_dir=catalog, merge_hotspots=True), clock=clock)
    off = bootstrap(Settings(database_url=database_url, catalog_dir=catalog), clock=clock)
    yield on, off, clock
    on.engine.dispose()
    off.engine.dispose()


def test_an_open_hotspot_merges_its_cases_into_its_first_case(world, caplog):
    system, _, clock = world
    first = request(system, clock, "HS1", 0)
    second = request(system, clock, "HS2", 2)
    # a caller too vague for the classifier, dispatched by the center to the street: another unit
    apart = request(system, clock, "HS3", 4, category=None, description="想问一下这个事情怎么办")
    system.bus.handle(c.DispatchManually(apart, "zhao", unit="street-110105010", category="0101"))
    third = request(system, clock, "HS4", 6)
    other_category = request(system, clock, "HS5", 7, category="0201")
    cases, _ = records(system, Topic.CASES)
    counter = HotspotCounter(system.engine, clock, system.settings.topic(Topic.HOTSPOTS), EAGER)

    counter.count_records(cases)
    [detected], _ = records(system, Topic.HOTSPOTS)
    merger = HotspotMerger(system.bus)
    with caplog.at_level(logging.INFO, logger="dispatcher.service.hotspot_merging"):
        merger.merge_record(detected)
        merger.merge_record(detected)  # delivered again, as after a restart: nothing twice

    assert detected.header("ce_type") == "jiesu.hotspot.detected"
    assert {k: v for k, v in states(system).items() if k != other_category} == {
        first: ("dispatched", None),
        second: ("merged", first),
        apart: ("dispatched", None),
        third: ("merged", first),
    }
    assert states(system)[other_category] == ("dispatched", None)
    refused = f"case {apart} is at street-110105010, not at the main case's unit ent-heating"
    assert f"{apart} stays apart from {first}: {refused}" in caplog.text
    hotspot = detected.key.decode()  # type: ignore[union-attr]
    [(_, why)] = [entry for entry in trail(system, second) if entry[0] == "merge"]
    assert why.startswith(f"into {first}: hotspot {hotspot}: community ")
    assert "and category 0101" in why
    assert [action for action, _ in trail(system, first)].count("merge_in") == 2
    [(_, merged)] = [event for event in outbox(system, third) if event[0] == "jiesu.case.merged"]
    assert (merged["main_ticket_id"], merged["by"], merged["auto"]) == (first, "jiesu", True)

    # while it stays open: a later case of the area and category is merged as it is dispatched
    later = request(system, clock, "HS6", 20)
    elsewhere = request(system, clock, "HS7", 21, location=NEIGHBOUR)  # the hotspot is the community's
    assert states(system)[later] == ("merged", first)
    assert states(system)[elsewhere] == ("dispatched", None)
    [(_, why)] = [entry for entry in trail(system, later) if entry[0] == "merge"]
    assert why.startswith(f"into {first}: hotspot {hotspot}")


def test_without_the_setting_an_open_hotspot_merges_nothing(world):
    _, off, clock = world
    for n in range(5):
        request(off, clock, f"OFF{n}", n)
    cases, _ = records(off, Topic.CASES)
    HotspotCounter(off.engine, clock, off.settings.topic(Topic.HOTSPOTS), EAGER).count_records(cases)
    [detected], _ = records(off, Topic.HOTSPOTS)

    later = request(off, clock, "OFF9", 10)

    assert detected.header("ce_type") == "jiesu.hotspot.detected"
    assert {state for state, _ in states(off).values()} == {"dispatched"}
    assert states(off)[later] == ("dispatched", None)


def test_a_hotspot_closed_by_the_time_its_event_is_read_merges_nothing(world):
    system, _, clock = world
    tickets = [request(system, clock, f"LATE{n}", n) for n in range(5)]
    cases, _ = records(system, Topic.CASES)
    HotspotCounter(system.engine, clock, system.settings.topic(Topic.HOTSPOTS), EAGER).count_records(cases)
    [detected], _ = records(system, Topic.HOTSPOTS)
    with system.engine.begin() as connection:  # its window fell back while the merge agent was behind
        connection.execute(update(t.hotspots).values(status="closed", closed_at=clock.now))

    HotspotMerger(system.bus).merge_record(detected)

    assert {states(system)[ticket] for ticket in tickets} == {("dispatched", None)}
