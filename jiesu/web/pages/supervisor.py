"""The supervisor's pages: the dashboard's panels, search, one-click decisions and the live escalations."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from dispatcher.bootstrap import System
from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Principal, Role, check_role, visible_cases
from dispatcher.reads import dashboard as dashboard_figures
from dispatcher.reads import escalations as fired
from dispatcher.reads import queues, search
from dispatcher.reads.paging import CursorError, Page
from jiesu.web.pages.base import (
    Build,
    Me,
    SystemDep,
    back,
    forbidden,
    page,
    submit,
)
from jiesu.web.schemas import in_range
from jiesu.web.session import (
    check_csrf,
)
from sla.calendar import BEIJING

router = APIRouter(include_in_schema=False)


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
    return await submit(request, ticket_id, me, system, needed, build, "/dashboard")


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
