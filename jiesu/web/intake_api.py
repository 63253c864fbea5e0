"""The intake page's API (受理): where a request would go before it is filed, the gazetteer to complete
district → street → community, and a caller's requests by phone with the open case a new one would be
linked to as a repeat.

The preview runs the router the worker runs (the catalog in force, its classifier and rosters) on the
request as typed; nothing is stored and nothing is published. A phone is only ever in a body, never in a
URL. The page's own JSON routes (`jiesu.web.pages.intake`, over the session) answer with the same
functions.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from dispatcher.adapters.catalog import ReloadingRouter
from dispatcher.bootstrap import System
from dispatcher.contract.events import ComplaintReceived
from dispatcher.contract.mapping import complaint_from_wire
from dispatcher.domain.access import Action, Principal, visible_cases
from dispatcher.reads import intake as reads
from dispatcher.reads import views as v
from jiesu.web import schemas as s
from jiesu.web.auth import allowed
from jiesu.web.common import AUTH, SystemDep
from rules.catalog import AreaLevel, Catalog
from rules.complaint import Complaint
from rules.router import CatalogRouter
from rules.routing import Router

router = APIRouter(prefix="/api")
PREVIEW_TICKET = "PREVIEW"  # the ticket id of a request that is only previewed (never stored)
SEPARATORS = re.compile(r"[\s()-]")
AreaCode = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9]{6,12}$",
        description="a district's code (its streets) or a street's (its communities); none: the city",
    ),
]


def routing(system: System) -> tuple[Router, Catalog | None]:
    """The router the worker routes with now (a reloading one's catalog reloaded first if its files
    changed) and its catalog; no catalog for a router without one (the default unit router)."""
    router = system.router
    if isinstance(router, ReloadingRouter):
        catalog = router.catalog()
        return router.router, catalog
    if isinstance(router, CatalogRouter):
        return router, router.catalog
    if router is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no router is configured: nothing is routed")
    return router, None


def normalized_phone(phone: str) -> str:
    """A phone as stored and compared (repeats are found by it): without spaces, hyphens, parentheses."""
    return SEPARATORS.sub("", phone)


def complaint_of(facts: s.RequestFacts, at: datetime, description: str | None = None) -> Complaint:
    """The request as typed, as the worker would read it from the intake topic (ticket `PREVIEW`)."""
    location = {key: getattr(facts, key) for key in ("district", "street", "community", "address")}
    data = {
        "ticket_id": PREVIEW_TICKET,
        "received_at": at,
        "channel": facts.channel,
        "kind": facts.kind,
        "description": description or facts.description,
        "category": facts.category,
        "urgency": facts.urgency,
        "location": {key: value for key, value in location.items() if value},
        "requester": {"groups": facts.groups},
    }
    try:
        return complaint_from_wire(ComplaintReceived.model_validate(data))
    except ValidationError as error:  # what the body's model let through and the contract does not
        raise RequestValidationError(error.errors()) from None


def preview_of(system: System, body: s.PreviewBody) -> v.PreviewView:
    router, catalog = routing(system)
    now = system.clock()
    return reads.preview(router, catalog, complaint_of(body, now), now)


def areas_of(
    system: System, parent: str | None, level: AreaLevel | None, q: str, limit: int
) -> list[v.AreaView]:
    _, catalog = routing(system)
    if catalog is None:
        return []
    try:
        return reads.areas(catalog, parent=parent, level=level, q=q, limit=limit)
    except reads.UnknownAreaError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from None


def caller_of(system: System, principal: Principal, body: s.CallerBody) -> v.CallerView:
    router, catalog = routing(system)
    now = system.clock()
    decision = None
    if body.description or body.category:  # the repeat depends on where the new request would go
        decision = router.route(complaint_of(body, now, body.description or "-"), now)
    return reads.caller_requests(
        system.engine,
        phone=normalized_phone(body.phone),
        now=now,
        visible=visible_cases(principal),
        role=principal.role,
        catalog=catalog,
        decision=decision,
        window=timedelta(days=system.settings.repeat_window_days),
    )


@router.post(
    "/intake/preview",
    summary="Where a request would go, before it is filed",
    response_model=v.PreviewView,
    responses=AUTH,
    tags=["intake"],
)
def preview(
    body: s.PreviewBody, system: SystemDep, _: Annotated[Principal, Depends(allowed(Action.PREVIEW))]
) -> v.PreviewView:
    """Runs the router the worker uses on the request as typed, now, and says where it would go: the
    category (proposed by the classifier with its confidence and first three proposals, unless the body
    names one), whether it would wait in triage or is an emergency, the unit, post and person on duty,
    and the rules' reason. Creates no case and publishes nothing.

    Allowed: an intake system, a supervisor, or an admin."""
    return preview_of(system, body)


@router.get(
    "/areas",
    summary="The gazetteer: districts, a district's streets, a street's communities",
    response_model=list[v.AreaView],
    responses={**AUTH, 404: {"model": s.ErrorBody, "description": "No area with the `parent` code."}},
    tags=["intake"],
)
def list_areas(
    system: SystemDep,
    _: Annotated[Principal, Depends(allowed(Action.PREVIEW))],
    parent: AreaCode = None,
    level: Annotated[
        AreaLevel | None,
        Query(description="without `parent`: this level in the whole city (default district)"),
    ] = None,
    q: Annotated[str, Query(max_length=64, description="a part of the name or of an alias")] = "",
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many")] = 100,
) -> list[v.AreaView]:
    """The places of the catalog in force, by code, for completing a request's location: the districts,
    the streets and townships of `parent` (a district), or the communities of `parent` (a street); whose
    name or an alias contains `q`.

    Allowed: an intake system, a supervisor, or an admin."""
    return areas_of(system, parent, level, q, limit)


@router.post(
    "/intake/caller",
    summary="A caller's requests by phone, and the open case a new one would repeat",
    response_model=v.CallerView,
    responses=AUTH,
    tags=["intake"],
)
def caller(
    body: s.CallerBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.CALLERS))],
) -> v.CallerView:
    """The caller's open requests (whatever their age) and the others of the last 90 days, newest first,
    among the cases the caller of the API may see; with the request's description or category (and its
    place), also the open case it would be linked to as a repeat instead of being dispatched again (same
    phone and category, same community or else street, within `JIESU_REPEAT_WINDOW_DAYS`). The phone is in
    the body, never in the URL.

    Allowed: a supervisor (the cases in its scope) or an admin."""
    return caller_of(system, principal, body)
