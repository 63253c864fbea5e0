"""The hotline operator's pages: the intake form and where a filed request went."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, TypeVar, get_args

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from dispatcher.contract.events import Channel, ComplaintReceived, Kind, Urgency
from dispatcher.domain.access import Action, Principal, Role, check_role
from dispatcher.domain.case import CaseState
from dispatcher.reads import cases
from dispatcher.reads.names import Names, catalog_of
from jiesu.web import schemas as s
from jiesu.web.common import current_intake
from jiesu.web.i18n import term
from jiesu.web.intake_api import AreaCode, areas_of, caller_of, normalized_phone, preview_of
from jiesu.web.pages.base import (
    Me,
    SystemDep,
    forbidden,
    may,
    page,
    words_of,
)
from jiesu.web.session import (
    check_csrf,
    language_of,
)
from rules.catalog import AreaLevel

router = APIRouter(include_in_schema=False)
Facts = TypeVar("Facts", bound=s.RequestFacts)
KINDS: tuple[str, ...] = get_args(Kind)
CHANNELS = tuple(channel for channel in get_args(Channel) if channel != "open311")  # Open311 files its own
URGENCIES: tuple[str, ...] = get_args(Urgency)
# the requester groups offered (the contract takes any; the catalog's rules look for elderly and disabled)
GROUPS = ("elderly", "disabled", "minor", "pregnant")
# the words static/intake.js writes, in the page's language
SCRIPT_WORDS = (
    "category",
    "confidence",
    "urgency",
    "unit",
    "post",
    "person",
    "co_handlers",
    "queued_in",
    "received",
    "nobody_on_duty",
    "place_found",
    "proposals",
    "explain",
    "triage_note",
    "emergency_note",
    "ticket",
    "preview_hint",
    "preview_failed",
    "caller_hint",
    "caller_none",
    "repeat_of",
    "repeat_elsewhere",
    "open_case",
    "state",
    *(f"urgency_{urgency}" for urgency in URGENCIES),
)


@router.get("/intake")
def intake_form(request: Request, me: Me) -> HTMLResponse:
    if check_role(me, Action.PREVIEW) is not None:
        return forbidden(request, me, "")
    return _form(request, me, 200, values={})


def _form(request: Request, me: Principal, status_code: int, **context: object) -> HTMLResponse:
    """The intake form with its choices; the caller's requests are offered to who may look a phone up."""
    language = language_of(request)
    words = words_of(request)
    states = {f"state_{state.value}": term("state", state, language) for state in CaseState}
    return page(
        request,
        "intake.html",
        me,
        status_code,
        kinds=KINDS,
        channels=CHANNELS,
        urgencies=URGENCIES,
        groups=GROUPS,
        may_submit=check_role(me, Action.SUBMIT) is None,
        may_see_callers=check_role(me, Action.CALLERS) is None,
        script_words={key: words.get(key, key) for key in SCRIPT_WORDS} | states,
        **context,
    )


@router.post("/intake")
async def file_request(request: Request, me: Me, system: SystemDep) -> Response:
    posted = await request.form()
    form = {key: str(value).strip() for key, value in posted.items()}
    groups = [group for group in (str(value).strip() for value in posted.getlist("groups")) if group]
    check_csrf(request, form.get("csrf"))
    if check_role(me, Action.SUBMIT) is not None:
        return forbidden(request, me, "")
    ticket = f"W{datetime.now(UTC):%Y%m%d}{uuid.uuid4().hex[:6].upper()}"
    requester: dict[str, object] = {
        "anonymous": bool(form.get("anonymous")),
        "confidential": bool(form.get("confidential")),
        "groups": groups,
    }
    if form.get("name"):
        requester["name"] = form["name"]
    if form.get("phone"):  # as repeats are found by it: without spaces, hyphens, parentheses
        requester["phone"] = normalized_phone(form["phone"])
    data = {
        "ticket_id": ticket,
        "received_at": system.clock(),
        "channel": form.get("channel") or "phone",
        "kind": form.get("kind") or "complaint",
        "description": form.get("description", ""),
        "location": {
            key: form[key] for key in ("district", "street", "community", "address") if form.get(key)
        },
        "requester": requester,
    }
    for key in ("category", "urgency"):
        if form.get(key):
            data[key] = form[key]
    try:
        complaint = ComplaintReceived.model_validate(data)
    except ValidationError as error:  # the form again, as typed, with what is wrong (not what was typed)
        said = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:3])
        values: dict[str, object] = {key: value for key, value in form.items() if key != "csrf"}
        values["groups"] = groups
        return _form(request, me, 422, error=said, values=values)
    current_intake(request).publish(complaint)
    return RedirectResponse(f"/intake/{ticket}", status_code=303)


# ---- what the form asks as the operator types (static/intake.js), over the session ----------------


def _refused(me: Principal, action: Action) -> JSONResponse | None:
    denied = check_role(me, action)
    if denied is None:
        return None
    return JSONResponse({"error": "forbidden", "detail": denied.reason}, status_code=403)


async def _body(request: Request, model: type[Facts]) -> Facts:
    """The JSON body intake.js posts; refused (422, saying why) when it does not fit `model`."""
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as error:
        raise RequestValidationError(error.errors()) from None


@router.post("/intake/preview", response_model=None)
async def preview_page(request: Request, me: Me, system: SystemDep) -> Response:
    """Where the request as typed would go (`POST /api/intake/preview`); the form's CSRF token in the
    `X-CSRF-Token` header."""
    check_csrf(request, request.headers.get("x-csrf-token"))
    refused = _refused(me, Action.PREVIEW)
    if refused is not None:
        return refused
    body = await _body(request, s.PreviewBody)
    return JSONResponse(preview_of(system, body).model_dump(mode="json"))


@router.post("/intake/caller", response_model=None)
async def caller_page(request: Request, me: Me, system: SystemDep) -> Response:
    """The caller's requests and the repeat (`POST /api/intake/caller`): the phone in the body, never in
    a URL; only for who may look a phone up."""
    check_csrf(request, request.headers.get("x-csrf-token"))
    refused = _refused(me, Action.CALLERS)
    if refused is not None:
        return refused
    body = await _body(request, s.CallerBody)
    return JSONResponse(caller_of(system, me, body).model_dump(mode="json"))


@router.get("/intake/areas", response_model=None)
def areas_page(
    me: Me,
    system: SystemDep,
    parent: AreaCode = None,
    level: AreaLevel | None = None,
    q: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """The gazetteer's completion for the form's district, street and community (`GET /api/areas`)."""
    refused = _refused(me, Action.PREVIEW)
    if refused is not None:
        return refused
    found = areas_of(system, parent, level, q, limit)
    return JSONResponse([area.model_dump(mode="json") for area in found])


@router.get("/intake/{ticket_id}")
def intake_status_page(request: Request, ticket_id: str, me: Me) -> HTMLResponse:
    return page(request, "intake_status.html", me, ticket=ticket_id)


@router.get("/intake/{ticket_id}/status", response_model=None)
def intake_status(request: Request, ticket_id: str, me: Me, system: SystemDep) -> Response:
    """Where the request went, once it is dispatched: the unit, post and person, and why. For the hotline's
    operators, and for whoever may read the case; anyone else is refused (and the refusal audited)."""
    if me.role is not Role.INTAKE and may(request, me, Action.READ, ticket_id, system) is not None:
        return JSONResponse({"detail": "you may not see this case"}, status_code=403)
    went = cases.where_it_went(system.engine, ticket_id)
    if went.get("found"):
        names = Names(catalog_of(system.router))
        went["unit_name"] = names.unit(went["unit"])
        went["post_name"] = names.post(went["post"], went["unit"])
        went["person_name"] = names.person(went["person"])
    return JSONResponse(went)
