"""A hotspot in the database as the detector stores one, over given cases (where they are, a category)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.hotspot_store import row_of
from dispatcher.domain.hotspots import Hotspot


def store_hotspot(
    engine: Engine, tickets: list[str], at: datetime, hotspot_id: str = "hs-1", category: str = "0101"
) -> Hotspot:
    """An open hotspot of the hour at the first case's street, holding these cases."""
    with engine.begin() as connection:
        row = connection.execute(
            select(t.cases.c.district, t.cases.c.street).where(t.cases.c.ticket_id == tickets[0])
        ).one()
        hotspot = Hotspot(
            hotspot_id=hotspot_id,
            district=row.district,
            street=row.street,
            community=None,
            category=category,
            window="1h",
            window_start=at - timedelta(hours=1),
            window_end=at,
            observed=len(tickets),
            expected=0.2,
            score=9.5,
            first_ticket_id=tickets[0],
            ticket_ids=tuple(tickets),
            detected_at=at,
        )
        connection.execute(insert(t.hotspots).values(**row_of(hotspot)))
    return hotspot
