"""The worker's pages: the inbox of open cases and the case page with the actions on it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from dispatcher.bootstrap import System
from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Role, check_role, visible_cases
from dispatcher.domain.case import CaseError
from dispatcher.reads import cases, notifications
from dispatcher.reads import inbox as open_cases
from dispatcher.reads.paging import CursorError
from jiesu.web.auth import record_reveal
from jiesu.web.pages.base import (
    Build,
    Me,
    SystemDep,
    back,
    may,
    page,
    submit,
)
from jiesu.web.schemas import in_range
from jiesu.web.session import (
    check_csrf,
)
from sla.calendar import BEIJING

router = APIRouter(include_in_schema=False)


@router.get("/inbox")
def inbox(request: Request, me: Me, system: SystemDep, cursor: str = "") -> HTMLResponse:
    """Open cases, the nearest deadline first, with countdowns; a page at a time (`cursor`: the next
    page's, from the page before)."""
    now, visible = system.clock(), visible_cases(me)
    try:
        listed = open_cases.inbox(system.engine, now=now, visible=visible, cursor=cursor or None)
    except CursorError:
        listed = open_cases.inbox(system.engine, now=now, visible=visible)
    rows = [
        {"case": row.case, "stage": row.stage, "due": row.due, "colour": _colour(now, row.started, row.due)}
        for row in listed.items
    ]
    more = bool(cursor) or listed.next is not None  # else this page holds them all
    total = open_cases.count(system.engine, visible=visible) if more else len(listed.items)
    return page(request, "inbox.html", me, rows=rows, total=total, next=listed.next, now=now)


def _colour(now: datetime, start_at: datetime | None, due: datetime | None) -> str:
    """ok, warning (the last quarter of the stage) or breach."""
    if due is None or start_at is None:
        return "ok"
    if due <= now:
        return "breach"
    return "warning" if (now - start_at) >= (due - start_at) * 0.75 else "ok"


@router.get("/cases/{ticket_id}")
def case_page(request: Request, ticket_id: str, me: Me, system: SystemDep) -> HTMLResponse:
    """The case as the caller's role may see it; the requester in full only through `reveal` (audited)."""
    return _case_page(request, ticket_id, me, system, revealed=False)


def _case_page(request: Request, ticket_id: str, me: Me, system: System, *, revealed: bool) -> HTMLResponse:
    denied = may(request, me, Action.READ, ticket_id, system)
    if denied is not None:
        return denied
    view = cases.case_view(
        system.engine, ticket_id, Role.SUPERVISOR if revealed else me.role, now=system.clock()
    )
    assert view is not None
    return page(
        request,
        "case.html",
        me,
        case=view,
        timeline=cases.timeline(system.engine, ticket_id) or [],
        notifications=notifications.notifications(system.engine, ticket_id=ticket_id),
        revealed=revealed,
        can_reveal=check_role(me, Action.REVEAL) is None and view.requester_shown == "masked",
    )


@router.post("/cases/{ticket_id}/reveal")
def reveal(
    request: Request, ticket_id: str, me: Me, system: SystemDep, csrf: Annotated[str, Form()] = ""
) -> HTMLResponse:
    check_csrf(request, csrf)
    denied = may(request, me, Action.REVEAL, ticket_id, system)
    if denied is not None:
        return denied
    found = cases.case_access(system.engine, ticket_id)
    assert found is not None
    if found[0].confidential:
        return _case_page(request, ticket_id, me, system, revealed=False)
    record_reveal(request, me, ticket_id, found[1])
    return _case_page(request, ticket_id, me, system, revealed=True)


ACTIONS: dict[str, tuple[Action, Build]] = {
    "acknowledge": (Action.ACKNOWLEDGE, lambda t_, by, f: c.AcknowledgeCase(t_, by)),
    "contact": (Action.CONTACT, lambda t_, by, f: c.RecordContact(t_, by, f.get("note") or None)),
    "return": (
        Action.RETURN,
        lambda t_, by, f: c.ReturnCase(t_, by, f.get("code", "other"), f.get("reason", "")),
    ),
    "extension": (
        Action.EXTENSION,
        lambda t_, by, f: c.RequestExtension(t_, by, _until(f.get("until", "")), f.get("reason", "")),
    ),
    "resolve": (Action.RESOLVE, lambda t_, by, f: c.ResolveCase(t_, by, result=f.get("result", ""))),
}


def _until(text: str) -> datetime | None:
    """A `datetime-local` field, in Beijing time, within the API's range (`schemas.in_range`)."""
    try:
        moment = datetime.fromisoformat(text).replace(tzinfo=BEIJING) if text else None
    except ValueError:
        raise CaseError(f"{text[:64]!r} is not a date and time") from None
    try:
        return in_range(moment) if moment else None
    except ValueError as error:
        raise CaseError(f"the date {error}") from None


@router.post("/cases/{ticket_id}/act/{action}")
async def act(request: Request, ticket_id: str, action: str, me: Me, system: SystemDep) -> Response:
    if action not in ACTIONS:
        return back(f"/cases/{ticket_id}", error=f"unknown action {action}")
    needed, build = ACTIONS[action]
    return await submit(request, ticket_id, me, system, needed, build, f"/cases/{ticket_id}")
