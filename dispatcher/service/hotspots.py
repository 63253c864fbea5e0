"""Counting dispatched requests for hotspots (主动治理): the detector's state is loaded, moved by the
requests not yet counted, and stored with their inbox entries and the hotspots' events in one transaction,
so that a crash or a restart neither loses a count nor raises a hotspot twice."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from dispatcher.domain.commands import InboundId
from dispatcher.domain.hotspot_counts import Tally
from dispatcher.domain.hotspots import (
    CITY,
    Dispatched,
    Hotspot,
    HotspotChange,
    HotspotDetector,
    HotspotPolicy,
    keys_for,
    keys_watched,
)


class HotspotStore(Protocol):
    """One transaction: everything read is locked against other counters until `save` commits it."""

    def unseen(self, inbound: Sequence[InboundId]) -> set[InboundId]:
        """Those not yet counted (the inbox)."""

    def tallies(self, keys: Collection[str]) -> dict[str, Tally]:
        """The stored tallies among these keys (a key never counted is absent)."""

    def open_hotspots(self) -> list[Hotspot]: ...

    def save(
        self, tallies: dict[str, Tally], changes: Sequence[HotspotChange], counted: Sequence[InboundId]
    ) -> None:
        """Store the changed tallies, the opened and closed hotspots, their events (to the outbox) and
        the inbox entries of the requests counted."""


def count_dispatched(
    requests: Sequence[tuple[InboundId, Dispatched]], *, store: HotspotStore, policy: HotspotPolicy
) -> list[HotspotChange]:
    """Count the requests not counted before, in the order they were dispatched; returns the hotspots
    that opened or closed (including those whose window fell back by the last request's time)."""
    fresh = store.unseen([inbound for inbound, _ in requests])
    once: dict[InboundId, Dispatched] = {}
    for inbound, request in requests:  # the first of each, if it came twice in the batch
        if inbound in fresh:
            once.setdefault(inbound, request)
    todo = sorted(once.items(), key=lambda pair: pair[1].at)
    opened = {(hotspot.key, hotspot.window): hotspot for hotspot in store.open_hotspots()}
    keys = {key for _, request in todo for key in keys_for(request)}
    keys |= {key for hotspot in opened.values() for key in keys_watched(hotspot)}
    tallies = store.tallies(sorted(keys | {CITY}))
    city = tallies.get(CITY)
    detector = HotspotDetector(policy, tallies, opened, now=city.as_of if city else 0.0)
    changes: list[HotspotChange] = []
    for _, request in todo:
        changes += detector.observe(request)
    if todo:
        changes += detector.sweep(detector.now)
    store.save({key: tallies[key] for key in detector.touched}, changes, list(once))
    return changes
