"""Hotspots (主动治理) for supervisors: open or closed, in the city or a district, newest first."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import Engine, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.reads.views import Instant

H = t.hotspots.c


class HotspotView(BaseModel):
    hotspot_id: str
    status: Literal["open", "closed"]
    district: str
    street: str | None
    community: str | None
    category: str
    window: str = Field(description="the sliding window counted: 1h, 24h or 7d")
    window_start: Instant
    window_end: Instant = Field(description="when it was detected, or when it closed")
    observed: int
    expected: float
    score: float = Field(description="-log10 of the tail P(X >= observed) at detection (docs/hotspots.md)")
    first_ticket_id: str | None
    ticket_ids: list[str] = Field(description="the window's requests at detection, oldest first (up to 50)")
    detected_at: Instant
    closed_at: Instant | None


def hotspots(
    engine: Engine, *, status: str | None = None, district: str | None = None, limit: int = 200
) -> list[HotspotView]:
    """Newest first; `district` limits them to one district (a district supervisor's scope)."""
    query = select(t.hotspots).order_by(H.detected_at.desc(), H.hotspot_id.desc()).limit(limit)
    if status is not None:
        query = query.where(H.status == status)
    if district is not None:
        query = query.where(H.district == district)
    with reading(engine) as connection:
        rows = connection.execute(query).mappings().all()
    # the stored row names the window `span`; its other columns are the view's fields
    return [HotspotView.model_validate({**row, "window": row["span"]}) for row in rows]
