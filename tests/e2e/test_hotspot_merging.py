"""并案 by hotspot through `jiesu run` with `JIESU_MERGE_HOTSPOTS`: a surge at one community is detected by
the worker's hotspot agent, its `jiesu.hotspot.detected` read back by the merge agent merges the surge's
open cases into the hotspot's first case, and a request of the same place and matter published afterwards
is merged into it as it is dispatched."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, select

from consumers.publisher import IntakePublisher
from dispatcher.adapters import tables as t
from dispatcher.settings import Settings
from jiesu.cli.simulator import MATTERS, PLACES
from tests.e2e.worker import Worker, consume, wait_for
from tests.support.builders import make_complaint

pytestmark = pytest.mark.kafka
WANGJING = ("朝阳区", "望京街道", "花家地北里社区")
AT_WANGJING = {"district": "朝阳区", "street": "望京街道", "community": "花家地北里社区"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"merge_hotspots": True})


def merged_into(settings: Settings, tickets: list[str]) -> dict[str, str | None]:
    engine = create_engine(settings.database_url)
    try:
        query = select(t.cases.c.ticket_id, t.cases.c.merged_into).where(t.cases.c.ticket_id.in_(tickets))
        with engine.connect() as connection:
            return {ticket: main for ticket, main in connection.execute(query)}
    finally:
        engine.dispose()


def test_a_hotspots_cases_are_merged_into_its_first_case(settings: Settings, worker: Worker):
    worker.start()
    publisher = IntakePublisher(settings)
    places = [place for place in PLACES if place != WANGJING]
    matters = [matter for matter in MATTERS if matter[0] != "010101"]
    for n in range(180):  # the city's other requests: other places, other matters
        district, street, community = places[n % len(places)]
        category, description, _ = matters[(n // len(places)) % len(matters)]
        location = {"district": district, "street": street, "community": community}
        publisher.publish(make_complaint(category=category, description=description, location=location))
    surge = [make_complaint(category="010101", location=AT_WANGJING) for _ in range(12)]
    for complaint in surge:
        publisher.publish(complaint)

    [detected] = consume(settings.kafka_bootstrap, settings.topic("hotspots"), expected=1, timeout=90)
    first = json.loads(detected.value)["first_ticket_id"]
    tickets = [complaint.ticket_id for complaint in surge]
    wait_for(
        lambda: sum(main == first for main in merged_into(settings, tickets).values()) >= 2,
        60,
        "the hotspot's cases merged",
        worker,
    )
    later = make_complaint(category="010101", location=AT_WANGJING)
    publisher.publish(later)
    publisher.close()
    merged_later = lambda: merged_into(settings, [later.ticket_id]).get(later.ticket_id) == first  # noqa: E731
    wait_for(merged_later, 60, "the later request merged", worker)

    found = merged_into(settings, tickets)
    assert found[first] is None
    assert set(found.values()) == {None, first}, worker.tail()
    assert worker.stop() == 0
