"""The pages: server-rendered Jinja2 over the same queries and commands as the API. Workers get their
inbox and case pages, supervisors a live dashboard, operators an intake form. A session cookie logs in;
every form carries a CSRF token; every refusal is shown in words."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import ColumnElement, Text, cast, or_, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import stored_forms
from dispatcher.adapters.score_queries import ranking
from dispatcher.adapters.timers import OPEN, escalations
from dispatcher.bootstrap import System
from dispatcher.contract.events import ComplaintReceived
from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Principal, Role, can_act, check_role, visible_cases
from dispatcher.domain.case import AuditEntry, CaseError
from dispatcher.domain.scores import as_float
from dispatcher.web import queries
from dispatcher.web.auth import people_of, record_reveal
from dispatcher.web.common import current_intake, current_system
from dispatcher.web.i18n import words
from dispatcher.web.session import (
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
    return templates.TemplateResponse(
        request,
        name,
        {
            "w": words(language),
            "language": language,
            "me": principal,
            "csrf": csrf_token(request),
            "flash": request.query_params.get("ok"),
            "error": request.query_params.get("error"),
            "local": lambda moment: moment.astimezone(BEIJING).strftime("%m-%d %H:%M") if moment else "",
            **context,
        },
        status_code=status_code,
    )


def words_of(request: Request) -> dict[str, str]:
    return words(request.cookies.get(LANGUAGE, "zh"))


def forbidden(request: Request, me: Principal, detail: str) -> HTMLResponse:
    return page(request, "message.html", me, 403, title=words_of(request)["forbidden"], detail=detail)


def back(path: str, *, ok: str | None = None, error: str | None = None) -> RedirectResponse:
    query = f"?ok={quote(ok)}" if ok else f"?error={quote(error)}" if error else ""
    return RedirectResponse(path + query, status_code=303)


# ---- login ---------------------------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
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
    check_csrf(request, csrf)
    people = people_of(request)
    principal = people.verify_password(username.strip(), password)
    if principal is None:
        return back("/login", error=words_of(request)["wrong_login"])
    _, token = people.issue_token(principal.username, "web session")
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
    response = RedirectResponse(request.headers.get("referer") or "/", status_code=303)
    response.set_cookie(LANGUAGE, "en" if language == "en" else "zh", samesite="lax", path="/")
    return response


@router.get("/")
def home(me: Me) -> Response:
    return RedirectResponse(HOME[me.role], status_code=303)


# ---- workers -------------------------------------------------------------------------------------


@router.get("/inbox")
def inbox(request: Request, me: Me, system: SystemDep) -> HTMLResponse:
    """Open cases, the nearest deadline first, with countdowns."""
    now = system.clock()
    listed = queries.cases(system.engine, now=now, visible=visible_cases(me), limit=500)
    open_cases = [case for case in listed if case.state.value in OPEN]
    nearest = _nearest_deadlines(system, [case.ticket_id for case in open_cases])
    rows = []
    for case in open_cases:
        stage, due, start_at = nearest.get(case.ticket_id, (None, None, None))
        rows.append({"case": case, "stage": stage, "due": due, "colour": _colour(now, start_at, due)})
    rows.sort(key=lambda row: (row["due"] is None, row["due"] or now))
    return page(request, "inbox.html", me, rows=rows, now=now)


def _nearest_deadlines(system: System, tickets: list[str]) -> dict[str, tuple[str, datetime, datetime]]:
    if not tickets:
        return {}
    d, k = t.deadlines.c, t.cases.c
    query = (
        select(d.ticket_id, d.stage, d.due_at, k.dispatched_at)
        .join(t.cases, k.ticket_id == d.ticket_id)
        .where(d.status == "pending", d.ticket_id.in_(tickets))
        .order_by(d.due_at)
    )
    found: dict[str, tuple[str, datetime, datetime]] = {}
    with system.engine.connect() as connection:
        for ticket, stage, due, dispatched in connection.execute(query):
            found.setdefault(ticket, (stage, due, dispatched))
    return found


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
    view = queries.case_view(
        system.engine, ticket_id, Role.SUPERVISOR if revealed else me.role, now=system.clock()
    )
    assert view is not None
    return page(
        request,
        "case.html",
        me,
        case=view,
        timeline=queries.timeline(system.engine, ticket_id) or [],
        notifications=queries.notifications(system.engine, ticket_id=ticket_id),
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
    found = queries.case_access(system.engine, ticket_id)
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
    """A `datetime-local` field, in Beijing time."""
    try:
        return datetime.fromisoformat(text).replace(tzinfo=BEIJING) if text else None
    except ValueError:
        raise CaseError(f"{text!r} is not a date and time") from None


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
    found = queries.case_access(system.engine, ticket_id)
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


@router.get("/dashboard")
def dashboard(request: Request, me: Me, system: SystemDep, q: str = "", by: str = "ticket") -> HTMLResponse:
    if check_role(me, Action.QUEUES) is not None:
        return forbidden(request, me, "")
    now, visible = system.clock(), visible_cases(me)
    district = None if visible.everything else visible.district
    listed = queries.cases(system.engine, now=now, visible=visible, limit=1000)
    overdue: dict[str, int] = defaultdict(int)
    for case in listed:
        if case.overdue:
            overdue[case.unit or "—"] += 1
    month = now.astimezone(BEIJING).strftime("%Y-%m")
    return page(
        request,
        "dashboard.html",
        me,
        escalations=escalations(system.engine, open_only=True, limit=100, district=district),
        overdue=sorted(overdue.items(), key=lambda item: -item[1]),
        returns=queries.arbitration_queue(system.engine, now=now, visible=visible),
        extensions=[case for case in _pending_extensions(system, listed)],
        triage=queries.triage_queue(system.engine, now=now, visible=visible),
        emergencies=queries.open_emergencies(system.engine, now=now, visible=visible),
        ranking=[
            {
                "rank": row.rank,
                "unit": row.unit,
                "composite": as_float(row.rates.composite, 4),
                "change": as_float(row.change, 4),
                "bottom": row.bottom_ten,
            }
            for row in ranking(system.engine, system.assessment, month, "street")
        ],
        chart=_volume_chart(system, now, district),
        found=_search(system, me, q, by, now) if q else None,
        q=q,
        by=by,
        since=now.isoformat(),
    )


def _pending_extensions(system: System, listed: list[Any]) -> list[dict[str, Any]]:
    tickets = [case.ticket_id for case in listed if case.state.value in ("acknowledged", "contacted")]
    if not tickets:
        return []
    query = select(t.cases.c.ticket_id, t.cases.c.pending_extension, t.cases.c.reply_due).where(
        t.cases.c.ticket_id.in_(tickets), t.cases.c.pending_extension.is_not(None)
    )
    with system.engine.connect() as connection:
        return [
            {
                "ticket_id": ticket,
                "until": pending.get("until", ""),
                "reason": pending.get("reason", ""),
                "reply_due": due,
            }
            for ticket, pending, due in connection.execute(query)
            if pending
        ]


def _search(system: System, me: Principal, q: str, by: str, now: datetime) -> list[Any]:
    k = t.cases.c
    column = {
        "ticket": k.ticket_id,
        "phone": k.requester_phone,
        "street": k.location,
        "category": k.category,
        "state": k.state,
    }
    if by == "phone" and me.role not in (Role.SUPERVISOR, Role.ADMIN):
        return []
    where: list[ColumnElement[bool]]
    if by == "street":
        located = cast(k.location, Text)  # the text inside a JSON string, as new or older rows store it
        where = [or_(*(located.contains(form[1:-1], autoescape=True) for form in stored_forms(q)))]
    elif by == "category":
        where = [k.category.like(f"{q}%")]
    else:
        where = [column.get(by, k.ticket_id) == q]
    found = queries.cases(system.engine, now=now, visible=visible_cases(me), limit=200)
    with system.engine.connect() as connection:
        tickets = set(connection.execute(select(k.ticket_id).where(*where).limit(200)).scalars())
    return [case for case in found if case.ticket_id in tickets]


def _volume_chart(system: System, now: datetime, district: str | None) -> dict[str, Any]:
    """Daily volume by category (first two digits), last 30 days: bars for an inline SVG."""
    start = (now - timedelta(days=29)).astimezone(BEIJING).replace(hour=0, minute=0, second=0, microsecond=0)
    k = t.cases.c
    query = select(k.received_at, k.category).where(k.received_at >= start)
    if district:
        query = query.where(k.district == district)
    counts: dict[tuple[int, str], int] = defaultdict(int)
    with system.engine.connect() as connection:
        for received, category in connection.execute(query):
            day = (received.astimezone(BEIJING).date() - start.date()).days
            counts[(day, (category or "??")[:2])] += 1
    categories = sorted({category for _, category in counts})
    days = [[counts[(day, category)] for category in categories] for day in range(30)]
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
        "start": start,
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
        cursor = datetime.fromisoformat(since) if since else system.clock()
    except ValueError:
        cursor = system.clock()

    async def stream() -> AsyncIterator[str]:
        # timers are planned at dispatch and fire in any order: follow their firing time, not their id
        moment, seen = cursor, set[int]()
        yield ": connected\n\n"
        while not await request.is_disconnected():
            for row in await asyncio.to_thread(_escalations_since, system, moment, district):
                if row["id"] in seen:
                    continue
                seen.add(row["id"])
                moment = max(moment, row.pop("at"))
                yield f"event: escalation\ndata: {json.dumps(row, ensure_ascii=False)}\n\n"
            await asyncio.sleep(1.0)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


def _escalations_since(system: System, since: datetime, district: str | None) -> list[dict[str, Any]]:
    s_, k, a = t.sla_timers.c, t.cases.c, t.assignments.c
    query = (
        select(s_.id, s_.ticket_id, s_.level, s_.stage, s_.target, s_.fired_at, a.unit)
        .join(t.cases, k.ticket_id == s_.ticket_id)
        .outerjoin(t.assignments, (a.ticket_id == s_.ticket_id) & a.current.is_(True))
        .where(s_.fired_at >= since, s_.kind == "escalation", s_.status == "fired")
        .order_by(s_.fired_at, s_.id)
        .limit(100)
    )
    if district:
        query = query.where(k.district == district)
    with system.engine.connect() as connection:
        return [
            {
                **dict(row),
                "at": row["fired_at"],
                "fired_at": row["fired_at"].astimezone(BEIJING).strftime("%m-%d %H:%M"),
            }
            for row in connection.execute(query).mappings()
        ]


# ---- operators -------------------------------------------------------------------------------------


@router.get("/intake")
def intake_form(request: Request, me: Me) -> HTMLResponse:
    return page(request, "intake.html", me)


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
    except ValueError as error:
        return back(
            "/intake", error=str(error).splitlines()[0] + ": " + "; ".join(str(error).splitlines()[1:3])
        )
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
    a, audit = t.assignments.c, t.audit.c
    with system.engine.connect() as connection:
        case = connection.execute(
            select(t.cases.c.state, t.cases.c.queue).where(t.cases.c.ticket_id == ticket_id)
        ).first()
        if case is None:
            return JSONResponse({"found": False})
        assigned = connection.execute(
            select(a.unit, a.post, a.person, a.reason).where(a.ticket_id == ticket_id, a.current.is_(True))
        ).first()
        why = connection.execute(
            select(audit.reason)
            .where(audit.ticket_id == ticket_id, audit.action.in_(["dispatch", "queue", "link"]))
            .order_by(audit.id)
            .limit(1)
        ).scalar()
    return JSONResponse(
        {
            "found": True,
            "state": case.state,
            "queue": case.queue,
            "unit": assigned.unit if assigned else None,
            "post": assigned.post if assigned else None,
            "person": assigned.person if assigned else None,
            "why": why,
        }
    )


def login_required(_: Request, __: Exception) -> Response:
    return RedirectResponse("/login", status_code=303)


def csrf_refused(request: Request, error: Exception) -> Response:
    return page(request, "message.html", None, 403, title="CSRF", detail=str(error))


__all__ = ["CsrfError", "LoginRequiredError", "csrf_refused", "login_required", "router"]
