"""A stored hotspot's row as the domain's value: read by the detector's store and by the cases' (并案 by
hotspot)."""

from __future__ import annotations

from typing import Any

from dispatcher.domain.hotspots import Hotspot


def hotspot_of(row: Any) -> Hotspot:
    return Hotspot(
        hotspot_id=row["hotspot_id"],
        district=row["district"],
        street=row["street"],
        community=row["community"],
        category=row["category"],
        window=row["span"],
        window_start=row["window_start"],
        window_end=row["window_end"],
        observed=row["observed"],
        expected=row["expected"],
        score=row["score"],
        first_ticket_id=row["first_ticket_id"],
        ticket_ids=tuple(row["ticket_ids"]),
        detected_at=row["detected_at"],
        closed_at=row["closed_at"],
    )
