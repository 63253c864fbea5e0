"""A surge through `jiesu run`: requests on the intake topic, dispatched, counted by the worker's hotspot
agent, and one `jiesu.hotspot.detected` on the hotspots topic."""

from __future__ import annotations

import json

import pytest

from consumers.publisher import IntakePublisher
from dispatcher.settings import Settings
from jiesu.cli.simulator import MATTERS, PLACES
from tests.e2e.worker import Worker, consume
from tests.support.builders import make_complaint

pytestmark = pytest.mark.kafka
WANGJING = ("朝阳区", "望京街道", "花家地北里社区")
AT_WANGJING = {"district": "朝阳区", "street": "望京街道", "community": "花家地北里社区"}


def test_a_surge_published_to_the_worker_becomes_one_hotspot(settings: Settings, worker: Worker):
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
    publisher.close()

    records = consume(settings.kafka_bootstrap, settings.topic("hotspots"), expected=1, timeout=90)
    assert [dict(r.headers)["ce_type"] for r in records] == [b"jiesu.hotspot.detected"], worker.tail()
    data = json.loads(records[0].value)
    assert (data["district"], data["street"]) == ("110105", "110105026")
    assert data["category"].startswith("01") and set(data["ticket_ids"]) <= {c.ticket_id for c in surge}
    assert worker.stop() == 0
