"""The worker's pages: the inbox of open cases and the case page with the actions on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from dispatcher.adapters.database import shared_reads
from dispatcher.bootstrap import System
from dispatcher.domain import commands as c
from dispatcher.domain.access import (
    Action,
    CaseFacts,
    Principal,
    Role,
    Visible,
    can_act,
    check_role,
    visible_cases,
)
from dispatcher.domain.case import CaseError, CaseState
from dispatcher.domain.states import WHISTLE_STATES
from dispatcher.reads import badges, cases, notifications
from dispatcher.reads import inbox as open_cases
from dispatcher.reads import timeline as trail
from dispatcher.reads.governance import tasks_of_case
from dispatcher.reads.names import catalog_of
from dispatcher.reads.paging import CursorError
from dispatcher.reads.supervision import orders_of_case, supervision_orders
from dispatcher.reads.views import CaseSummary
from jiesu.web.auth import record_reveal
from jiesu.web.pages.base import (
    Build,
    Me,
    SystemDep,
    back,
    may,
    names_of,
    page,
    submit,
    words_of,
)
from jiesu.web.schemas import in_range
from jiesu.web.session import (
    check_csrf,
)
from sla.calendar import BEIJING

router = APIRouter(include_in_schema=False)


@router.get("/inbox")
def inbox(request: Request, me: Me, system: SystemDep, cursor: str = "") -> HTMLResponse:
    """Open cases, the nearest deadline first, with countdowns and badges (emergency or urgent, the
    requester's groups, repeats, reopened, co-handled); a page at a time (`cursor`: the next page's, from
    the page before)."""
    now, visible = system.clock(), visible_cases(me)
    with shared_reads(system.engine):  # its reads on one connection
        return _inbox(request, me, system, now, visible, cursor)


def _inbox(
    request: Request, me: Principal, system: System, now: datetime, visible: Visible, cursor: str
) -> HTMLResponse:
    try:
        listed, total = open_cases.listing(system.engine, now=now, visible=visible, cursor=cursor or None)
    except CursorError:
        listed, total = open_cases.listing(system.engine, now=now, visible=visible)
    w = words_of(request)
    rows = [
        Line(
            row.case,
            row.stage,
            row.due,
            _colour(now, row.started, row.due),
            _countdown(now, row.due, w),
            row.badges,
        )
        for row in listed.items
    ]
    orders = supervision_orders(system.engine, visible, now, "open", limit=50)  # addressed to the unit
    return page(request, "inbox.html", me, rows=rows, total=total, next=listed.next, now=now, orders=orders)


@dataclass(frozen=True, slots=True)
class Line:
    """An inbox line as inbox.html shows it (attributes, which the template reads without a dict's
    failed attribute lookup first)."""

    case: CaseSummary
    stage: str | None
    due: datetime | None
    colour: str
    countdown: str
    badges: badges.Badges


def _countdown(now: datetime, due: datetime | None, w: dict[str, str]) -> str:
    """The stage's time left (剩余 3小时20分), or how long it is overdue, at `now`; inbox.js counts on."""
    if due is None:
        return ""
    minutes = int(abs((due - now).total_seconds()) // 60)
    hours, unit_h, unit_m = minutes // 60, w["hours_short"], w["minutes_short"]
    return f"{w['overdue'] if due <= now else w['due_in']} {hours}{unit_h}{minutes % 60}{unit_m}"


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
    found = cases.case_access(system.engine, ticket_id)
    assert view is not None and found is not None
    timeline = trail.timeline(system.engine, ticket_id) or []
    actors = [entry.actor for entry in timeline]
    for pending in (view.pending_return, view.pending_extension):
        actors += [pending.by] if pending else []
    return page(
        request,
        "case.html",
        me,
        case=view,
        badges=badges.of_case(system.engine, ticket_id),
        timeline=timeline,
        notifications=notifications.notifications(system.engine, ticket_id=ticket_id),
        revealed=revealed,
        can_reveal=check_role(me, Action.REVEAL) is None and view.requester_shown == "masked",
        actions=yours(me, found[0], view.allowed_actions),
        co_handling=_co_handling(me, found[0], found[1], system, ticket_id),
        can_merge=can_act(me, Action.MERGE, found[0]) is None,
        can_whistle=found[1] in WHISTLE_STATES and can_act(me, Action.WHISTLE, found[0]) is None,
        can_waive=found[1] in CO_HANDLED_IN and can_act(me, Action.WAIVE, found[0]) is None,
        units=_units(system, found[0]) if found[1] in WHISTLE_STATES else [],
        names=names_of(system).with_accounts(system.engine, actors),
        orders=orders_of_case(system.engine, ticket_id, system.clock()),  # _case_orders.html
        may_order=check_role(me, Action.SUPERVISION_ORDER) is None,
        may_answer=check_role(me, Action.ANSWER_ORDER) is None,
        tasks=tasks_of_case(system.engine, ticket_id, system.clock()),  # _case_tasks.html
    )


def _units(system: System, facts: CaseFacts) -> list[tuple[str, str]]:
    """The catalog's units a lead may call in (吹哨报到), by name: all but itself."""
    catalog = catalog_of(system.router)
    if catalog is None:
        return []
    found = [(unit.id, unit.name) for unit in catalog.units.values() if unit.id != facts.unit]
    return sorted(found, key=lambda pair: pair[1])


def yours(me: Principal, facts: CaseFacts, allowed: list[str]) -> list[str]:
    """Of the actions the case's state allows, those the viewer may take on it (`can_act`) and that a
    form of this page does: a supervisor or another unit sees none, the lead unit's worker its own."""
    return [name for name in allowed if name in ACTIONS and can_act(me, ACTIONS[name][0], facts) is None]


CO_HANDLED_IN = (CaseState.DISPATCHED, CaseState.ACKNOWLEDGED, CaseState.CONTACTED)


def _co_handling(
    me: Principal, facts: CaseFacts, state: CaseState, system: System, ticket: str
) -> str | None:
    """What the viewer's unit may do as a co-handler now: "co_acknowledge" first, then "co_report" (again,
    to correct it, until the lead unit resolves the case); None if it is not a co-handling unit."""
    if state not in CO_HANDLED_IN or me.unit is None or me.unit not in facts.co_handlers:
        return None
    if can_act(me, Action.CO_ACKNOWLEDGE, facts) is not None:
        return None
    mine = cases.co_handlers(system.engine, ticket).get(me.unit)
    if mine is None:
        return None
    return "co_acknowledge" if mine.acknowledged_by is None else "co_report"


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
    "pause": (
        Action.PAUSE,
        lambda t_, by, f: c.RequestPause(
            t_, by, f.get("code", "requester"), f.get("reason", ""), _until(f.get("until", ""))
        ),
    ),
    "resume": (Action.RESUME, lambda t_, by, f: c.ResumeCase(t_, by, f.get("note") or None)),
    "whistle": (  # 吹哨报到: one unit a form
        Action.WHISTLE,
        lambda t_, by, f: c.Whistle(
            t_, by, calls=(c.WhistleCall(f.get("unit", "").strip(), f.get("ask", "")),)
        ),
    ),
    "waive": (
        Action.WAIVE,
        lambda t_, by, f: c.WaiveReport(t_, by, unit=f.get("unit", ""), reason=f.get("reason", "")),
    ),
}
CO_ACTIONS: dict[str, tuple[Action, Callable[[str, Principal, dict[str, str]], c.CaseCommand]]] = {
    "co_acknowledge": (
        Action.CO_ACKNOWLEDGE,
        lambda t_, me, f: c.AcknowledgeAsCoHandler(t_, me.username, unit=me.unit or ""),
    ),
    "co_report": (
        Action.CO_REPORT,
        lambda t_, me, f: c.ReportToLead(t_, me.username, unit=me.unit or "", report=f.get("report", "")),
    ),
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
    if action in CO_ACTIONS:  # a co-handling unit's part: as the unit of the worker acting
        needed, build_co = CO_ACTIONS[action]
        return await submit(
            request,
            ticket_id,
            me,
            system,
            needed,
            lambda t_, _, f: build_co(t_, me, f),
            f"/cases/{ticket_id}",
        )
    if action not in ACTIONS:
        return back(f"/cases/{ticket_id}", error=f"unknown action {action}")
    needed, build = ACTIONS[action]
    return await submit(request, ticket_id, me, system, needed, build, f"/cases/{ticket_id}")
