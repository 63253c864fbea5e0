"""The hourly counts of a hotspot's area and category over the last 24 hours, read from the cases (each
counted at its dispatch, as the detector counts it), for the dashboard's sparklines."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.reads.hotspots import HotspotView

HOURS = 24
K = t.cases.c


def hourly_counts(engine: Engine, hotspot: HotspotView, now: datetime, hours: int = HOURS) -> list[int]:
    """Requests dispatched in the hotspot's area (its community, else street, else district) and category
    (its level of the tree: the code's prefix) in each of the last `hours` hours, oldest first; the last
    is the hour ending `now`."""
    start = now - timedelta(hours=hours)
    query = select(K.dispatched_at).where(
        K.dispatched_at > start,
        K.dispatched_at <= now,
        K.district == hotspot.district,
        K.category.startswith(hotspot.category, autoescape=True),
    )
    if hotspot.street is not None:
        query = query.where(K.street == hotspot.street)
    if hotspot.community is not None:
        query = query.where(K.community == hotspot.community)
    counts = [0] * hours
    with reading(engine) as connection:
        for (at,) in connection.execute(query):
            hour = int((at - start).total_seconds() // 3600)
            counts[min(max(hour, 0), hours - 1)] += 1
    return counts
