"""The hotspot detector: a planted surge found, a normal Poisson day quiet, a restart from stored state
raising nothing twice, a hotspot closing when its window falls back; and the counting service over a
fake store, batches redelivered."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dispatcher.domain.commands import InboundId
from dispatcher.domain.hotspot_counts import Tally, improbable, poisson_tail
from dispatcher.domain.hotspots import (
    CITY,
    Dispatched,
    Hotspot,
    HotspotChange,
    HotspotClosed,
    HotspotDetected,
    HotspotDetector,
    HotspotPolicy,
    hides,
)
from dispatcher.service.hotspots import count_dispatched

START = datetime(2026, 10, 5, tzinfo=UTC)
STREETS = [(f"1101{d:02d}", f"1101{d:02d}{s:03d}") for d in range(1, 5) for s in range(1, 11)]
LEAVES = [f"{a:02d}{b:02d}{c:02d}" for a in range(1, 6) for b in range(1, 3) for c in range(1, 4)]
PER_DAY = 1500


def normal_days(days: int, seed: int, start: datetime = START) -> Iterator[Dispatched]:
    """A Poisson stream over 40 streets (two communities each, or none) and 30 leaves, equally likely."""
    rng = random.Random(seed)
    offset, number = 0.0, 0
    while True:
        offset += rng.expovariate(PER_DAY / 86400)
        if offset > days * 86400:
            return
        district, street = rng.choice(STREETS)
        community = rng.choice([f"{street}001", f"{street}002", None])
        yield Dispatched(
            f"N{seed}-{number}", start + timedelta(seconds=offset), district, street, community,
            rng.choice(LEAVES),
        )  # fmt: skip
        number += 1


def surge(
    at: datetime, count: int, every: timedelta, street: tuple[str, str] = STREETS[3]
) -> list[Dispatched]:
    return [Dispatched(f"S-{n}", at + n * every, street[0], street[1], None, "030201") for n in range(count)]


def merged(*streams: list[Dispatched]) -> list[Dispatched]:
    return sorted((r for s in streams for r in s), key=lambda r: r.at)


def feed(detector: HotspotDetector, requests: list[Dispatched]) -> list[HotspotChange]:
    return [change for request in requests for change in detector.observe(request)]


def opened(changes: list[HotspotChange]) -> list[Hotspot]:
    return [c.hotspot for c in changes if isinstance(c, HotspotDetected)]


@pytest.fixture(scope="module")
def history() -> list[Dispatched]:
    return list(normal_days(8, seed=1))


@pytest.fixture(scope="module")
def learned(history: list[Dispatched]) -> dict:
    """The detector's stored state after eight normal days, as the database would hold it (JSON)."""
    detector = HotspotDetector(HotspotPolicy(), {})
    feed(detector, history)
    return json.loads(json.dumps({key: tally.to_dict() for key, tally in detector.tallies.items()}))


def restored(state: dict, hotspots: dict | None = None) -> HotspotDetector:
    tallies = {key: Tally.from_dict(value) for key, value in state.items()}
    return HotspotDetector(HotspotPolicy(), tallies, dict(hotspots or {}), now=tallies[CITY].as_of)


def test_the_tail_is_poissons():
    assert poisson_tail(10, 1.0) == pytest.approx(1.1142e-7, rel=1e-3)
    assert poisson_tail(0, 3.0) == 1.0
    assert poisson_tail(3, 3.0) == pytest.approx(0.57681, rel=1e-4)


def test_an_expectation_from_a_short_history_is_trusted_less():
    # learned from a long history the test is Poisson's; from a short one its tail is wider
    assert improbable(10, 1.0, shape=1e9, alpha=1.0) == pytest.approx(poisson_tail(10, 1.0), rel=1e-3)
    assert improbable(10, 1.0, shape=5.0, alpha=1.0) > 50 * poisson_tail(10, 1.0)
    # a week's count 25 % above what two weeks of history say: improbable only if the history were long
    assert improbable(770, 617.0, shape=1e7, alpha=1e-8) is not None
    assert improbable(770, 617.0, shape=1150.0, alpha=1e-8) is None
    assert improbable(3, 3.0, shape=100.0, alpha=1.0) is None  # at or below its expectation


def test_a_normal_poisson_day_raises_no_hotspot(learned: dict):
    detector = restored(learned)
    day = list(normal_days(1, seed=2, start=START + timedelta(days=8)))
    assert opened(feed(detector, day)) == []


def test_a_planted_surge_at_a_street_is_found_by_its_tenth_request(learned: dict):
    detector = restored(learned)
    at = START + timedelta(days=8, hours=10)
    planted = surge(at, 12, timedelta(minutes=4))
    changes = feed(detector, merged(list(normal_days(1, seed=3, start=START + timedelta(days=8))), planted))
    found = opened(changes)
    assert len(found) == 1
    hotspot = found[0]
    assert (hotspot.district, hotspot.street, hotspot.category) == (STREETS[3][0], STREETS[3][1], "030201")
    assert hotspot.window == "1h"
    assert hotspot.detected_at <= planted[9].at  # the street sees ~1.2 of that leaf a day
    assert hotspot.first_ticket_id == "S-0"
    assert set(hotspot.ticket_ids) <= {r.ticket_id for r in planted}
    assert hotspot.observed >= 5 and hotspot.expected < 0.1
    closed = [c.hotspot for c in changes if isinstance(c, HotspotClosed)]
    assert [c.hotspot_id for c in closed] == [hotspot.hotspot_id]
    assert closed[0].closed_at is not None and closed[0].closed_at > planted[-1].at + timedelta(minutes=59)


def test_a_street_with_no_history_has_a_small_expectation_from_the_prior(learned: dict):
    detector = restored(learned)
    newcomer = ("110199", "110199001")  # a street the history never saw
    at = START + timedelta(days=8, hours=9)
    found = opened(feed(detector, surge(at, 6, timedelta(minutes=2), street=newcomer)))
    assert [h.street for h in found] == ["110199001"]
    assert 0 < found[0].expected < 0.05


def test_a_restart_from_stored_state_raises_nothing_twice(learned: dict):
    at = START + timedelta(days=8, hours=10)
    day = merged(
        list(normal_days(1, seed=4, start=START + timedelta(days=8))), surge(at, 15, timedelta(minutes=3))
    )
    whole = feed(restored(learned), day)
    assert opened(whole)[0].window == "1h"  # then its day's window, once the hour's has closed

    first = restored(learned)
    half = next(n for n, r in enumerate(day) if r.ticket_id == "S-12")  # after it opened, before it closed
    before = feed(first, day[:half])
    stored = {key: first.tallies[key].to_dict() for key in first.touched}  # what the consumer writes
    state = {**learned, **json.loads(json.dumps(stored))}
    again = restored(state, first.hotspots)
    after = feed(again, day[half:])

    assert [type(c).__name__ + c.hotspot.hotspot_id for c in before + after] == [
        type(c).__name__ + c.hotspot.hotspot_id for c in whole
    ]


class FakeHotspotStore:
    """The store's port in memory, as the database keeps it between transactions: tallies as JSON."""

    def __init__(self, state: dict) -> None:
        self.state = dict(state)
        self.rows: dict[str, Hotspot] = {}
        self.events: list[str] = []
        self.inbox: set[InboundId] = set()

    def unseen(self, inbound):
        return {i for i in inbound if i not in self.inbox}

    def tallies(self, keys):
        return {k: Tally.from_dict(json.loads(json.dumps(self.state[k]))) for k in keys if k in self.state}

    def open_hotspots(self):
        return [h for h in self.rows.values() if h.open]

    def save(self, tallies, changes, counted):
        self.state.update({k: v.to_dict() for k, v in tallies.items()})
        for change in changes:
            assert isinstance(change, HotspotClosed) or change.hotspot.hotspot_id not in self.rows
            self.rows[change.hotspot.hotspot_id] = change.hotspot
            self.events.append(f"{type(change).__name__} {change.hotspot.hotspot_id}")
        self.inbox |= set(counted)


def test_counting_in_batches_again_and_again_raises_each_hotspot_once(learned: dict):
    at = START + timedelta(days=8, hours=10)
    day = merged(
        list(normal_days(1, seed=5, start=START + timedelta(days=8))), surge(at, 15, timedelta(minutes=3))
    )
    pairs = [(InboundId("/jiesu/dispatcher", r.ticket_id), r) for r in day]
    store = FakeHotspotStore(learned)
    for start in range(0, len(pairs), 40):  # batches, each one transaction, most without the surge's keys
        count_dispatched(pairs[start : start + 40], store=store, policy=HotspotPolicy())
        count_dispatched(pairs[max(0, start - 40) : start + 40], store=store, policy=HotspotPolicy())  # again
    assert count_dispatched(pairs, store=store, policy=HotspotPolicy()) == []  # all redelivered: nothing
    opened_ = [e for e in store.events if e.startswith("HotspotDetected")]
    closed_ = [e for e in store.events if e.startswith("HotspotClosed")]
    assert len(set(closed_)) == len(closed_)
    assert len(opened_) >= 1 and len(set(opened_)) == len(opened_)
    first = opened_[0].split()[1]
    assert store.rows[first].street == STREETS[3][1]
    # it stayed open while batches without its keys came, and closed once the hour had passed
    assert store.rows[first].closed_at is not None
    assert store.rows[first].closed_at >= at + 14 * timedelta(minutes=3) + timedelta(minutes=59)


def test_a_week_long_hotspot_does_not_hide_an_hours_burst_beneath_it():
    at = START + timedelta(days=8)
    district, street = STREETS[3]
    week = Hotspot(
        "HS-W", district, None, None, "03", "7d", at - timedelta(days=7), at, 900, 700.0, 9.0, None, (), at
    )
    hour = replace(week, window="1h")
    assert not hides(week, (district, street, None), "030201", "1h")  # sharper: it opens
    assert hides(week, (district, street, None), "030201", "7d")  # the same rise, seen more finely
    assert hides(hour, (district, street, None), "030201", "24h")  # the same burst, seen over longer
    assert not hides(hour, (district, street, None), "040101", "1h")  # another matter
    assert not hides(hour, ("110102", None, None), "03", "1h")  # another district
