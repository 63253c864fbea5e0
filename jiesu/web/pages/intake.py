"""The hotline operator's pages: the intake form and where a filed request went."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError

from dispatcher.contract.events import ComplaintReceived
from dispatcher.domain.access import Action, Role, check_role
from dispatcher.reads import cases
from jiesu.web.common import current_intake
from jiesu.web.pages.base import (
    Me,
    SystemDep,
    forbidden,
    may,
    page,
)
from jiesu.web.session import (
    check_csrf,
)

router = APIRouter(include_in_schema=False)


@router.get("/intake")
def intake_form(request: Request, me: Me) -> HTMLResponse:
    return page(request, "intake.html", me, values={})


@router.post("/intake")
async def file_request(request: Request, me: Me, system: SystemDep) -> Response:
    form = {key: str(value).strip() for key, value in (await request.form()).items()}
    check_csrf(request, form.get("csrf"))
    if check_role(me, Action.SUBMIT) is not None:
        return forbidden(request, me, "")
    ticket = f"W{datetime.now(UTC):%Y%m%d}{uuid.uuid4().hex[:6].upper()}"
    data = {
        "ticket_id": ticket,
        "received_at": system.clock(),
        "channel": "phone",
        "kind": form.get("kind") or "complaint",
        "description": form.get("description", ""),
        "location": {key: form[key] for key in ("district", "street", "address") if form.get(key)},
        "requester": {key: form[key] for key in ("name", "phone") if form.get(key)},
    }
    if form.get("category"):
        data["category"] = form["category"]
    try:
        complaint = ComplaintReceived.model_validate(data)
    except ValidationError as error:  # the form again, as typed, with what is wrong (not what was typed)
        said = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:3])
        values = {key: value for key, value in form.items() if key != "csrf"}
        return page(request, "intake.html", me, 422, error=said, values=values)
    current_intake(request).publish(complaint)
    return RedirectResponse(f"/intake/{ticket}", status_code=303)


@router.get("/intake/{ticket_id}")
def intake_status_page(request: Request, ticket_id: str, me: Me) -> HTMLResponse:
    return page(request, "intake_status.html", me, ticket=ticket_id)


@router.get("/intake/{ticket_id}/status", response_model=None)
def intake_status(request: Request, ticket_id: str, me: Me, system: SystemDep) -> Response:
    """Where the request went, once it is dispatched: the unit, post and person, and why. For the hotline's
    operators, and for whoever may read the case; anyone else is refused (and the refusal audited)."""
    if me.role is not Role.INTAKE and may(request, me, Action.READ, ticket_id, system) is not None:
        return JSONResponse({"detail": "you may not see this case"}, status_code=403)
    return JSONResponse(cases.where_it_went(system.engine, ticket_id))
