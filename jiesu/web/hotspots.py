"""`GET /api/hotspots`: the hotspots (主动治理) the detector opened, for supervisors."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from dispatcher.domain.access import Action, Principal, visible_cases
from dispatcher.domain.hotspots import HotspotScopeError, district_to_list
from dispatcher.reads import hotspots
from jiesu.web.auth import ForbiddenError, allowed
from jiesu.web.common import AUTH, SystemDep

router = APIRouter(prefix="/api")


@router.get(
    "/hotspots",
    summary="Hotspots: open or closed, newest first",
    response_model=list[hotspots.HotspotView],
    responses=AUTH,
    tags=["supervisor"],
)
def list_hotspots(
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.QUEUES))],
    status: Literal["open", "closed"] | None = Query(None, description="only open, or only closed ones"),
    district: str | None = Query(None, max_length=12, description="only this district (its code)"),
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many")] = 200,
) -> list[hotspots.HotspotView]:
    """Areas where requests of one category came improbably fast, as `jiesu.hotspot.detected` and
    `.closed` said (docs/hotspots.md).

    Allowed: supervisors (those of their district, for a district's supervisor; asking for another
    district is refused) and admins."""
    try:
        chosen = district_to_list(visible_cases(principal), district)
    except HotspotScopeError as error:
        raise ForbiddenError(str(error)) from None
    return hotspots.hotspots(system.engine, status=status, district=chosen, limit=limit)
