"""The pages: server-rendered Jinja2 over the same queries and commands as the API. Workers get their
inbox and case pages, supervisors a live dashboard, operators an intake form. A session cookie logs in;
every form carries a CSRF token; every refusal is shown in words, never carried in a URL (a redirect's
message rides in a one-time cookie). The pages' JavaScript is in `static/`, none inline."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from dispatcher.bootstrap import System
from dispatcher.contract.events import ComplaintReceived
from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Principal, Role, can_act, check_role, visible_cases
from dispatcher.domain.case import AuditEntry, CaseError
from dispatcher.reads import cases, notifications, queues, search, timeline
from dispatcher.reads import dashboard as dashboard_figures
from dispatcher.reads import escalations as fired
from dispatcher.reads import inbox as open_cases
from dispatcher.reads.paging import CursorError, Page
from jiesu.web.auth import TooManyLoginsError, check_password, login_token, people_of, record_reveal
from jiesu.web.common import current_intake, current_system
from jiesu.web.i18n import words
from jiesu.web.schemas import in_range
from jiesu.web.session import (
    COOKIE,
    LANGUAGE,
    LOGIN_CSRF,
    CsrfError,
    LoginRequiredError,
    check_csrf,
    csrf_token,
    current,
    new_login_csrf,
    start,
)
from sla.calendar import BEIJING

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATIC = Path(__file__).parent / "static"  # the pages' scripts, served at /static (jiesu.web.app)
FLASH = "jiesu_flash"  # "ok:<message>" or "error:<message>", shown by the next page, then deleted
HOME = {
    Role.WORKER: "/inbox",
    Role.SUPERVISOR: "/dashboard",
    Role.INTAKE: "/intake",
    Role.ADMIN: "/dashboard",
}
Me = Annotated[Principal, Depends(current)]
SystemDep = Annotated[System, Depends(current_system)]


def page(
    request: Request, name: str, principal: Principal | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    language = request.cookies.get(LANGUAGE, "zh")
    kind, _, said = unquote(request.cookies.get(FLASH, "")).partition(":")
    response = templates.TemplateResponse(
        request,
        name,
        {
            "w": words(language),
            "language": language,
            "me": principal,
            "csrf": csrf_token(request),
            "flash": said if kind == "ok" else None,
            "error": said if kind == "error" else None,
            "local": lambda moment: moment.astimezone(BEIJING).strftime("%m-%d %H:%M") if moment else "",
            **context,
        },
        status_code=status_code,
    )
    if FLASH in request.cookies:
        response.delete_cookie(FLASH, path="/")
    return response


def words_of(request: Request) -> dict[str, str]:
    return words(request.cookies.get(LANGUAGE, "zh"))


def forbidden(request: Request, me: Principal, detail: str) -> HTMLResponse:
    return page(request, "message.html", me, 403, title=words_of(request)["forbidden"], detail=detail)


def back(path: str, *, ok: str | None = None, error: str | None = None) -> RedirectResponse:
    """303 to `path`, the message for the next page in a one-minute cookie: a URL would carry it into
    access logs and browser history, and a refusal may quote what was typed."""
    response = RedirectResponse(path, status_code=303)
    if ok or error:
        said = f"ok:{ok}" if ok else f"error:{error}"
        response.set_cookie(FLASH, quote(said[:500], safe=""), max_age=60, httponly=True, samesite="lax")
    return response


# ---- login ---------------------------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    """The form, with a new login cookie its CSRF token is derived from."""
    value, token = new_login_csrf()
    response = page(request, "login.html", None, csrf=token)
    response.set_cookie(
        LOGIN_CSRF, value, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response


@router.post("/login")
def log_in(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """A wrong password: the form again (401); too many lately for the account or the address: the form
    with how long to wait (429, `Retry-After`); else a session (`auth.login_token`)."""
    check_csrf(request, csrf, login=True)
    w, form = words_of(request), csrf_token(request, login=True)
    try:
        principal = check_password(request, username.strip(), password, "page")
    except TooManyLoginsError as error:
        held = page(
            request,
            "login.html",
            None,
            429,
            csrf=form,
            error=w["too_many_logins"].format(minutes=error.minutes),
        )
        held.headers["Retry-After"] = str(error.retry_after)
        return held
    if principal is None:
        return page(request, "login.html", None, 401, csrf=form, error=w["wrong_login"])
    token = login_token(request, principal, "page")
    response = RedirectResponse(HOME[principal.role], status_code=303)
    start(response, token, request.url.scheme == "https")
    return response


@router.post("/logout")
def log_out(request: Request, me: Me, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    token = request.cookies.get(COOKIE)
    if token:
        people_of(request).revoke(token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/lang/{language}")
def choose_language(request: Request, language: str) -> Response:
    """Back to the page it was chosen on: the path of the Referer (sent within this site only), never
    another site."""
    referer = urlsplit(request.headers.get("referer") or "/")
    where = referer.path + (f"?{referer.query}" if referer.query else "")
    if not where.startswith("/") or where[1:2] in ("/", "\\"):
        where = "/"
    response = RedirectResponse(where, status_code=303)
    response.set_cookie(LANGUAGE, "en" if language == "en" else "zh", samesite="lax", path="/")
    return response


@router.get("/")
def home(me: Me) -> Response:
    return RedirectResponse(HOME[me.role], status_code=303)


# ---- workers -------------------------------------------------------------------------------------


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
    denied = _may(request, me, Action.READ, ticket_id, system)
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
        timeline=timeline.timeline(system.engine, ticket_id) or [],
        notifications=notifications.notifications(system.engine, ticket_id=ticket_id),
        revealed=revealed,
        can_reveal=check_role(me, Action.REVEAL) is None and view.requester_shown == "masked",
    )


@router.post("/cases/{ticket_id}/reveal")
def reveal(
    request: Request, ticket_id: str, me: Me, system: SystemDep, csrf: Annotated[str, Form()] = ""
) -> HTMLResponse:
    check_csrf(request, csrf)
    denied = _may(request, me, Action.REVEAL, ticket_id, system)
    if denied is not None:
        return denied
    found = cases.case_access(system.engine, ticket_id)
    assert found is not None
    if found[0].confidential:
        return _case_page(request, ticket_id, me, system, revealed=False)
    record_reveal(request, me, ticket_id, found[1])
    return _case_page(request, ticket_id, me, system, revealed=True)


Build = Callable[[str, str, dict[str, str]], c.CaseCommand]
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
    return await _submit(request, ticket_id, me, system, needed, build, f"/cases/{ticket_id}")


async def _submit(
    request: Request, ticket_id: str, me: Principal, system: System, needed: Action, build: Build, where: str
) -> Response:
    """A form that acts on a case: its CSRF token checked, the person's right to act checked (a denial
    audited), the command run, and back to `where` with "saved" or the refusal in words."""
    form = {key: str(value) for key, value in (await request.form()).items()}
    check_csrf(request, form.get("csrf"))
    denied = _may(request, me, needed, ticket_id, system)
    if denied is not None:
        return denied
    return _run(system, lambda: build(ticket_id, me.username, form), where, request)


def _run(system: System, build: Callable[[], c.CaseCommand], where: str, request: Request) -> Response:
    try:
        system.bus.handle(build())
    except CaseError as error:
        return back(where, error=str(error))
    return back(where, ok=words_of(request)["saved"])


def _may(
    request: Request, me: Principal, action: Action, ticket_id: str, system: System
) -> HTMLResponse | None:
    """None if `me` may do `action` on the case, else the page saying why (a denial is audited)."""
    found = cases.case_access(system.engine, ticket_id)
    w = words_of(request)
    if found is None:
        return page(request, "message.html", me, 404, title=w["not_found"], detail=ticket_id)
    denied = can_act(me, action, found[0])
    if denied is None:
        return None
    entry = AuditEntry(
        ticket_id, system.clock(), me.username, f"denied:{action}", denied.reason, None, found[1]
    )
    people_of(request).record_access(entry)
    return forbidden(request, me, denied.reason)


# ---- supervisors -----------------------------------------------------------------------------------


PANELS = ("emergencies", "escalations", "returns", "extensions", "triage")


@router.get("/dashboard")
def dashboard(
    request: Request,
    me: Me,
    system: SystemDep,
    q: str = "",
    by: str = "ticket",
    panel: str = "",
    cursor: str = "",
) -> HTMLResponse:
    """The supervisor's panels, each its first page (or, for `panel`, the page at `cursor`). A search in
    the URL (a link to one) is run unless it is by phone: a phone is searched only by the form, which posts
    it (`/dashboard/search`), so that no phone number lands in a URL, a log or the browser's history."""
    if check_role(me, Action.QUEUES) is not None:
        return forbidden(request, me, "")
    by = by if by in search.BY else "ticket"
    found = _search(system, me, by, q, "") if q and by != "phone" else None
    return _dashboard(
        request, me, system, q=q if by != "phone" else "", by=by, found=found, at=(panel, cursor)
    )


@router.post("/dashboard/search")
async def dashboard_search(request: Request, me: Me, system: SystemDep) -> HTMLResponse:
    """The dashboard's search form: by ticket, phone, street, category or state, over every case the
    supervisor may see, newest first, a page at a time (the form's `cursor`); the results on a page of
    their own, with the form."""
    form = {key: str(value) for key, value in (await request.form()).items()}
    check_csrf(request, form.get("csrf"))
    if check_role(me, Action.QUEUES) is not None:
        return forbidden(request, me, "")
    by, q = form.get("by", "ticket"), form.get("q", "").strip()
    by = by if by in search.BY else "ticket"
    found = _search(system, me, by, q, form.get("cursor", "")) if q else None
    return page(request, "search.html", me, found=found, q=q, by=by, search_by=search.BY)


def _search(system: System, me: Principal, by: str, q: str, cursor: str) -> Page[Any]:
    if by == "phone" and me.role not in (Role.SUPERVISOR, Role.ADMIN):
        return Page([])
    chosen: search.By = next(key for key in search.BY if key == by)
    now, visible = system.clock(), visible_cases(me)
    try:
        return search.search(system.engine, now=now, visible=visible, by=chosen, q=q, cursor=cursor or None)
    except CursorError:
        return search.search(system.engine, now=now, visible=visible, by=chosen, q=q)


def _dashboard(
    request: Request,
    me: Principal,
    system: System,
    *,
    q: str,
    by: str,
    found: Page[Any] | None,
    at: tuple[str, str],
) -> HTMLResponse:
    now, visible = system.clock(), visible_cases(me)
    district = None if visible.everything else visible.district
    engine = system.engine

    def panel(name: str, read: Callable[[str | None], Page[Any]]) -> Page[Any]:
        """The panel's first page, or the page at the cursor asked for it."""
        wanted, cursor = at
        if wanted == name and cursor:
            try:
                return read(cursor)
            except CursorError:
                pass
        return read(None)

    month = now.astimezone(BEIJING).strftime("%Y-%m")
    return page(
        request,
        "dashboard.html",
        me,
        emergencies=panel(
            "emergencies", lambda c_: queues.open_emergencies(engine, now=now, visible=visible, cursor=c_)
        ),
        escalations=panel(
            "escalations", lambda c_: fired.escalations(engine, district=district, limit=100, cursor=c_)
        ),
        overdue=dashboard_figures.overdue_by_unit(engine, now=now, visible=visible),
        returns=panel(
            "returns",
            lambda c_: queues.arbitration_queue(engine, now=now, visible=visible, limit=50, cursor=c_),
        ),
        extensions=panel(
            "extensions", lambda c_: queues.pending_extensions(engine, visible=visible, cursor=c_)
        ),
        triage=panel(
            "triage", lambda c_: queues.triage_queue(engine, now=now, visible=visible, limit=50, cursor=c_)
        ),
        ranking=dashboard_figures.street_ranking(engine, system.assessment, month),
        chart=_volume_chart(dashboard_figures.daily_volume(engine, now=now, district=district)),
        found=found,
        q=q,
        by=by,
        search_by=search.BY,
        since=now.isoformat(),
    )


def _volume_chart(volume: dashboard_figures.Volume) -> dict[str, Any]:
    """Daily volume by category (first two digits), last 30 days: bars for an inline SVG."""
    counts = volume.counts
    categories = sorted({category for _, category in counts})
    days = [
        [counts.get((day, category), 0) for category in categories] for day in range(dashboard_figures.DAYS)
    ]
    top = max((sum(day) for day in days), default=0) or 1
    bars = []
    for day, values in enumerate(days):
        y = 100.0
        for index, value in enumerate(values):
            height = 100.0 * value / top
            y -= height
            if value:
                bars.append(
                    {
                        "x": day * 10 + 1,
                        "y": round(y, 2),
                        "h": round(height, 2),
                        "colour": index % 8,
                        "n": value,
                        "category": categories[index],
                    }
                )
    return {
        "bars": bars,
        "categories": [(index % 8, category) for index, category in enumerate(categories)],
        "top": top,
        "start": volume.start,
    }


def _arbitration(ticket: str, by: str, form: dict[str, str]) -> c.CaseCommand:
    decision = "redispatch" if form.get("decision") == "redispatch" else "reject"
    reason = form.get("reason") or ("改派" if decision == "redispatch" else "退单理由不成立")
    return c.Arbitrate(ticket, by, decision=decision, reason=reason)


DECISIONS: dict[str, tuple[Action, Build]] = {
    "arbitrate": (Action.ARBITRATE, _arbitration),
    "extension": (
        Action.EXTENSION_DECISION,
        lambda t_, by, f: c.DecideExtension(
            t_, by, approve=f.get("approve") == "yes", reason=f.get("reason", "")
        ),
    ),
    "dispatch": (
        Action.DISPATCH,
        lambda t_, by, f: c.DispatchManually(t_, by, unit=f.get("unit", "").strip(), reason="人工派单"),
    ),
}


@router.post("/dashboard/{decision}/{ticket_id}")
async def decide(request: Request, decision: str, ticket_id: str, me: Me, system: SystemDep) -> Response:
    """A supervisor's one-click decision: arbitrate a return, decide an extension, dispatch from triage."""
    if decision not in DECISIONS:
        return back("/dashboard", error=f"unknown decision {decision}")
    needed, build = DECISIONS[decision]
    return await _submit(request, ticket_id, me, system, needed, build, "/dashboard")


@router.get("/dashboard/events")
async def dashboard_events(request: Request, me: Me, system: SystemDep, since: str = "") -> Response:
    """Server-sent events: each escalation that fires after `since` (the page's moment), as it fires."""
    if check_role(me, Action.QUEUES) is not None:
        return Response(status_code=403)
    visible = visible_cases(me)
    district = None if visible.everything else visible.district
    try:
        cursor = _since(since) if since else system.clock()
    except ValueError as error:
        return Response(f"since: {error}", status_code=400, media_type="text/plain; charset=utf-8")

    async def stream() -> AsyncIterator[str]:
        # timers are planned at dispatch and fire in any order: follow their firing time, not their id
        moment, seen = cursor, set[int]()
        yield ": connected\n\n"
        while not await request.is_disconnected():
            for row in await asyncio.to_thread(fired.fired_since, system.engine, moment, district):
                if row["id"] in seen:
                    continue
                seen.add(row["id"])
                moment = max(moment, row.pop("at"))
                yield f"event: escalation\ndata: {json.dumps(row, ensure_ascii=False)}\n\n"
            await asyncio.sleep(1.0)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


def _since(text: str) -> datetime:
    """The page's moment: ISO 8601 with its offset, within the API's range; else ValueError saying why."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date-time: {text[:64]}") from None
    if moment.tzinfo is None:
        raise ValueError(f"needs an offset, e.g. 2026-11-26T10:00:00+08:00, not {text[:64]}")
    return in_range(moment)


# ---- operators -------------------------------------------------------------------------------------


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
    if me.role is not Role.INTAKE and _may(request, me, Action.READ, ticket_id, system) is not None:
        return JSONResponse({"detail": "you may not see this case"}, status_code=403)
    return JSONResponse(cases.where_it_went(system.engine, ticket_id))


def login_required(_: Request, __: Exception) -> Response:
    """To the login form, dropping the cookie of a session that ended (expired, idle, revoked)."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def csrf_refused(request: Request, error: Exception) -> Response:
    return page(request, "message.html", None, 403, title="CSRF", detail=str(error))


__all__ = ["CsrfError", "LoginRequiredError", "csrf_refused", "login_required", "router"]
