"""The supervisor's pages: the dashboard (counts of what is open and waiting, drilled down by district,
street and category domain with links that filter the dispatch desk; emergencies, escalations, returns and
extensions; charts of the daily volume, the overdue rate and the three rates, drawn on the server), search,
one-click decisions and the live escalations. The dispatch desk itself is `desk`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from markupsafe import Markup

from dispatcher.adapters.database import read_aside, shared_reads
from dispatcher.bootstrap import System
from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Principal, Role, Visible, check_role, visible_cases
from dispatcher.reads import dashboard as dashboard_figures
from dispatcher.reads import escalations as fired
from dispatcher.reads import pauses, queues, search
from dispatcher.reads import views as v
from dispatcher.reads.names import Names, catalog_of
from dispatcher.reads.paging import CursorError, Page
from dispatcher.reads.supervision import supervision_orders
from jiesu.web import charts
from jiesu.web.i18n import term
from jiesu.web.pages import governance as governance_pages
from jiesu.web.pages.base import (
    Build,
    Me,
    SystemDep,
    back,
    forbidden,
    page,
    submit,
    templates,
    words_of,
)
from jiesu.web.pages.desk import FilterError, bad_filter, parse_filters
from jiesu.web.pages.history import RecentHistory, read_history
from jiesu.web.schemas import in_range
from jiesu.web.session import (
    check_csrf,
    language_of,
)
from sla.calendar import BEIJING

router = APIRouter(include_in_schema=False)


PANELS = ("emergencies", "escalations", "returns", "extensions", "triage", "pauses")


@router.get("/dashboard")
def dashboard(
    request: Request,
    me: Me,
    system: SystemDep,
    q: str = "",
    by: str = "ticket",
    panel: str = "",
    cursor: str = "",
    district: str = "",
    street: str = "",
) -> HTMLResponse:
    """The supervisor's panels, each its first page (or, for `panel`, the page at `cursor`); the open cases
    counted by district, or by street within `district`, or by category domain within `street`. A search in
    the URL (a link to one) is run unless it is by phone: a phone is searched only by the form, which posts
    it (`/dashboard/search`), so that no phone number lands in a URL, a log or the browser's history."""
    if check_role(me, Action.QUEUES) is not None:
        return forbidden(request, me, "")
    try:
        area = parse_filters({"district": district, "street": street}, catalog_of(system.router))
    except FilterError as error:
        return bad_filter(request, me, str(error))
    by = by if by in search.BY else "ticket"
    now, visible = system.clock(), visible_cases(me)
    # read meanwhile, each on a connection of its own: the escalations, the overdue cases by unit (the two
    # costliest where a district has thousands of open cases) and the other lists of cases
    engine, at = system.engine, (panel, cursor)
    escalations = read_aside(engine, partial(_lists, system, visible, now, at, ("escalations",)))
    overdue = read_aside(engine, partial(dashboard_figures.overdue_by_unit, engine, now=now, visible=visible))
    lists = read_aside(
        engine, partial(_lists, system, visible, now, at, ("emergencies", "returns", "extensions", "pauses"))
    )
    with shared_reads(engine):  # its other panels on one connection, while the lists are read
        found = _search(system, me, by, q, "") if q and by != "phone" else None
        shown = _counts(request, system, now, visible, (area.read.district, area.read.street))
    return page(
        request,
        "dashboard.html",
        me,
        **shown,
        **escalations.result(),
        **lists.result(),
        overdue=overdue.result(),
        returns_key=queues.RETURNS,
        found=found,
        q=q if by != "phone" else "",
        by=by,
        search_by=search.BY,
        since=now.isoformat(),
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


def _lists(
    system: System, visible: Visible, now: datetime, at: tuple[str, str], names: tuple[str, ...]
) -> dict[str, Any]:
    """The dashboard's lists of cases, each its first page, or the page at the cursor asked for it
    (`at`: the panel's name and the cursor)."""
    engine, district = system.engine, None if visible.everything else visible.district
    reads: dict[str, Callable[[str | None], Page[Any]]] = {
        "emergencies": lambda c_: queues.open_emergencies(engine, now=now, visible=visible, cursor=c_),
        "escalations": lambda c_: fired.escalations(engine, district=district, limit=100, cursor=c_),
        "returns": lambda c_: queues.arbitration_queue(engine, now=now, visible=visible, limit=10, cursor=c_),
        "extensions": lambda c_: queues.pending_extensions(engine, visible=visible, cursor=c_),
        "pauses": lambda c_: pauses.pause_requests(engine, visible=visible, cursor=c_),
    }
    return {name: _page_at(name, reads[name], at) for name in names}


def _page_at(name: str, read: Callable[[str | None], Page[Any]], at: tuple[str, str]) -> Page[Any]:
    """The panel's page at the cursor asked for it (`at`: a panel's name and a cursor), else its first."""
    wanted, cursor = at
    if wanted == name and cursor:
        try:
            return read(cursor)
        except CursorError:
            pass
    return read(None)


def _counts(
    request: Request,
    system: System,
    now: datetime,
    visible: Visible,
    area: tuple[str | None, str | None],
) -> dict[str, Any]:
    """The dashboard's counts: the drill-down (narrowed to `area`), the open cases in all, what waits;
    the charts (kept a while: `history`), the supervision orders, the hotspots. (The overdue cases by unit
    and the lists are read aside: `dashboard`.)"""
    engine, district = system.engine, None if visible.everything else visible.district
    names = Names(catalog_of(system.router))
    drill = _drill(system, visible.district, area, now=now, visible=visible, names=names)
    # the drill-down's rows split every visible open case unless it is narrowed to a district or street
    whole = area[1] is None and (visible.district is not None or area[0] is None)
    totals = (
        dashboard_figures.summed([line["row"] for line in drill["rows"]])
        if whole
        else dashboard_figures.open_counts(engine, now=now, visible=visible)[0]
    )
    kept: RecentHistory[Charts] = request.app.state.history
    w = words_of(request)
    shown = kept.of((district, language_of(request)), now, lambda: _charts(system, district, now, names, w))
    return {
        "drill": drill,
        "totals": totals,
        "pause_counts": pauses.pause_counts(engine, visible=visible),
        "waiting": queues.waiting(engine, now=now, visible=visible),
        "ranking": shown.ranking,
        "charts": shown.html,
        "direct": shown.direct,  # 直接办结率 (_direct_rate.html)
        "orders": supervision_orders(engine, visible, now, "open", limit=50),  # _orders_panel.html
        "hotspot_rows": governance_pages.hotspot_panel(system, visible, now),  # _hotspots_panel.html
    }


def _drill(
    system: System,
    scope: str | None,
    area: tuple[str | None, str | None],
    *,
    now: datetime,
    visible: Visible,
    names: Names,
) -> dict[str, Any]:
    """The drill-down: the open cases by district (the city), by street (a district), or by category
    domain (a street); each row's name a link one level down (or, for a domain, to the desk filtered),
    its waiting counts links to the desk's lists narrowed to it."""
    district, street = area
    district = scope or district or (street[:6] if street else None)
    level: dashboard_figures.Level = "domain" if street else "street" if district else "district"
    rows = dashboard_figures.open_counts(
        system.engine, now=now, visible=visible, district=district, street=street, by=level
    )
    path = []  # the way back up: (name, link)
    if district and not scope:
        path.append(("", "/dashboard#areas"))
    if district:
        path.append((names.area(district), f"/dashboard?{urlencode({'district': district})}#areas"))
    if street:
        path.append(
            (names.area(street), f"/dashboard?{urlencode({'district': district, 'street': street})}#areas")
        )
    lines = []
    for row in rows:
        narrowed = {"district": district or "", "street": street or "", level: row.key or ""}
        if level == "domain":
            name = names.category(row.key, path=False) if row.key else ""
            deeper = f"/desk?{urlencode({k: v for k, v in narrowed.items() if v})}" if row.key else None
        else:
            name = names.area(row.key)
            down = {k: v for k, v in narrowed.items() if v and k in ("district", "street")}
            deeper = f"/dashboard?{urlencode(down)}#areas" if row.key else None
        desk_query = urlencode({k: v for k, v in narrowed.items() if v})
        lines.append({"row": row, "name": name, "deeper": deeper, "desk": desk_query})
    return {"level": level, "rows": lines, "path": path, "district": district, "street": street}


@dataclass(frozen=True)
class Charts:
    """A district's figures over past days, weeks and months as the dashboard shows them, kept a while
    (`history`): the charts section rendered (_charts.html), the month's ranking, the 直接办结率."""

    html: Markup
    ranking: list[dict[str, Any]]
    direct: v.DirectCloses


def _charts(system: System, district: str | None, now: datetime, names: Names, w: dict[str, str]) -> Charts:
    history = read_history(system, district, now)
    html = templates.get_template("_charts.html").render(
        w=w,
        volume=_volume_chart(history.volume, names, w),
        missed=_missed_chart(history.missed, w),
        rates=_rates_chart(history.rates, w),
        read_at=now.astimezone(BEIJING).strftime("%H:%M:%S"),
    )
    return Charts(Markup(html), history.ranking, history.direct)


def _volume_chart(volume: dashboard_figures.Volume, names: Names, w: dict[str, str]) -> dict[str, Any]:
    """Daily volume by category domain, last 30 days: stacked bars, the seven busiest domains by name and
    the rest together; with the same figures as a table."""
    counts = volume.counts
    totals: dict[str, int] = {}
    for (_, domain), count in counts.items():
        totals[domain] = totals.get(domain, 0) + count
    ranked = sorted(totals, key=lambda domain: (-totals[domain], domain))
    shown, rest = ranked[: len(charts.PALETTE) - 1], ranked[len(charts.PALETTE) - 1 :]
    series = [
        f"{domain} {names.category(domain, path=False)}" if domain != "??" else w["unclassified"]
        for domain in shown
    ]
    if rest:
        series.append(w["other_domains"])
    days = [volume.start + timedelta(days=day) for day in range(dashboard_figures.DAYS)]
    values = []
    for day in range(dashboard_figures.DAYS):
        column = [counts.get((day, domain), 0) for domain in shown]
        if rest:
            column.append(sum(counts.get((day, domain), 0) for domain in rest))
        values.append(column)
    labels = [moment.strftime("%m-%d") for moment in days]
    colours = [*charts.PALETTE[: len(shown)], *([charts.OTHER] if rest else [])]
    chart = charts.stacked_bars(values, series, labels, every=5, colours=colours, width=charts.WIDE)
    return {
        "chart": chart,
        "series": series,
        "rows": [(label, column, sum(column)) for label, column in zip(labels, values, strict=True)],
        "total": sum(totals.values()),
        "start": labels[0],
        "end": labels[-1],
    }


def _missed_chart(missed: dashboard_figures.Missed, w: dict[str, str]) -> dict[str, Any]:
    """The overdue rate per week: the reply deadlines due that week that were missed; no bar for a week
    with none due."""
    labels = [(missed.start + timedelta(weeks=week)).strftime("%m-%d") for week in range(len(missed.weeks))]
    rates = [missed_ / due if due else None for due, missed_ in missed.weeks]
    return {
        "chart": charts.rate_bars(rates, labels, every=2, what=w["overdue_rate_short"]),
        "rows": [
            (label, due, missed_, charts.percent(rate) if rate is not None else "—")
            for label, (due, missed_), rate in zip(labels, missed.weeks, rates, strict=True)
        ],
        "weeks": sum(1 for rate in rates if rate is not None),
    }


def _rates_chart(months: list[dashboard_figures.MonthRates], w: dict[str, str]) -> dict[str, Any]:
    """The three rates per month: a line each, a point per month with valid callbacks."""
    labels = [month.month for month in months]
    series = [
        (w["response_rate"], [month.response for month in months]),
        (w["resolution_rate"], [month.resolution for month in months]),
        (w["satisfaction_rate"], [month.satisfaction for month in months]),
    ]
    shown = [charts.percent(rate) if rate is not None else "—" for _, rates in series for rate in rates]
    per_month = len(months)
    return {
        "chart": charts.rate_lines(series, labels, every=2),
        "rows": [
            (month.month, month.valid, shown[index], shown[per_month + index], shown[2 * per_month + index])
            for index, month in enumerate(months)
        ],
        "months": sum(1 for month in months if month.valid),
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
    "pause": (
        Action.PAUSE_DECISION,
        lambda t_, by, f: c.DecidePause(
            t_, by, approve=f.get("approve") == "yes", reason=f.get("reason", "")
        ),
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
    names, language = Names(catalog_of(system.router)), language_of(request)
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
                row["unit_name"], row["stage_name"] = (
                    names.unit(row["unit"]),
                    term("stage", row["stage"], language),
                )
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
