"""Hotspots on the wire: the domain's changes as `jiesu.hotspot.detected` and `.closed`, and a
dispatched case's event as what the detector counts."""

from __future__ import annotations

from dispatcher.contract import events as wire
from dispatcher.domain.hotspots import Dispatched, HotspotChange, HotspotDetected

DISPATCHED, REDISPATCHED = "jiesu.case.dispatched", "jiesu.case.redispatched"
Dispatch = wire.CaseDispatched | wire.CaseRedispatched


def hotspot_to_wire(change: HotspotChange) -> tuple[str, wire.Hotspot]:
    hotspot = change.hotspot
    detected = isinstance(change, HotspotDetected)
    model: type[wire.Hotspot] = wire.HotspotDetected if detected else wire.HotspotClosed
    return f"jiesu.hotspot.{'detected' if detected else 'closed'}", model(
        hotspot_id=hotspot.hotspot_id,
        district=hotspot.district,
        street=hotspot.street,
        community=hotspot.community,
        category=hotspot.category,
        window=hotspot.window,
        window_start=hotspot.window_start,
        window_end=hotspot.closed_at or hotspot.window_end,
        observed=hotspot.observed,
        expected=round(hotspot.expected, 6),
        score=round(hotspot.score, 3),
        first_ticket_id=hotspot.first_ticket_id,
        ticket_ids=list(hotspot.ticket_ids),
    )


def dispatched_of(
    event: Dispatch, stored: tuple[str | None, str | None, str | None, str | None]
) -> Dispatched:
    """What the detector counts of a dispatch: its time, and the place (district, street, community
    codes) and category the stored case has (the event carries the place as the caller said it, and a
    redispatch no category)."""
    district, street, community, category = stored
    if category is None and isinstance(event, wire.CaseDispatched):
        category = event.category
    return Dispatched(event.ticket_id, event.at, district, street, community, category)
