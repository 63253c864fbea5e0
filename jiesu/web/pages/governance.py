"""Hotspots and governance tasks (主动治理) on the pages: the dashboard's panel of open hotspots (each with a
sparkline of its area and category's last 24 hours) where a supervisor makes one a governance task; the
case page shows the tasks that link the case, where the unit's worker reports one done. The lists read
`dispatcher.reads.hotspots` and `dispatcher.reads.governance`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dispatcher.bootstrap import System
from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Role, Visible, check_role, visible_cases
from dispatcher.domain.case import CaseError, NotAllowedError
from dispatcher.reads import governance, hotspots
from dispatcher.reads.hotspot_sparklines import HOURS, hourly_counts
from jiesu.web import charts
from jiesu.web.pages.base import Me, SystemDep, back, forbidden, page, words_of
from jiesu.web.session import check_csrf
from sla.calendar import BEIJING

router = APIRouter(include_in_schema=False)
PANEL_LIMIT = 20


def hotspot_panel(system: System, visible: Visible, now: datetime) -> list[dict[str, Any]]:
    """The open hotspots in the viewer's scope (a district's supervisor: its district's), newest first,
    each with its sparkline and its governance task, if it has one (`_hotspots_panel.html`)."""
    district = None if visible.everything else visible.district
    if not visible.everything and district is None:
        return []
    found = hotspots.hotspots(system.engine, status="open", district=district, limit=PANEL_LIMIT)
    tasks = governance.tasks_of_hotspots(system.engine, [h.hotspot_id for h in found], now)
    first = now - timedelta(hours=HOURS - 1)
    labels = [f"{(first + timedelta(hours=i)).astimezone(BEIJING):%H}:00" for i in range(HOURS)]
    rows = []
    for hotspot in found:
        counts = hourly_counts(system.engine, hotspot, now)
        rows.append(
            {
                "hotspot": hotspot,
                "spark": charts.sparkline(counts, labels),
                "counts": counts,
                "task": tasks.get(hotspot.hotspot_id),
            }
        )
    return rows


@router.post("/hotspots/{hotspot_id}/task")
async def make_task(request: Request, hotspot_id: str, me: Me, system: SystemDep) -> Response:
    """The dashboard's form: a supervisor makes the hotspot a governance task (its scope is checked by the
    handler, as on the API)."""
    form = {key: str(value) for key, value in (await request.form()).items()}
    check_csrf(request, form.get("csrf"))
    denied = check_role(me, Action.SUPERVISION_ORDER)
    if denied is not None:
        return forbidden(request, me, denied.reason)
    where = "/dashboard#hotspots"
    days = form.get("days", "").strip()
    if not days.isdigit():
        return back(where, error=f"{words_of(request)['task_days']}: {days or '—'}")
    scope = visible_cases(me)
    command = c.CreateGovernanceTask(
        me.username,
        hotspot_id=hotspot_id,
        unit=form.get("unit", "").strip(),
        ask=form.get("ask", "").strip(),
        working_days=int(days),
        district=scope.district,
        everything=scope.everything,
    )
    try:
        task_id = system.bus.handle(command)
    except NotAllowedError as error:
        return forbidden(request, me, str(error))
    except CaseError as error:
        return back(where, error=str(error))
    return back(where, ok=f"{words_of(request)['task_made']}: {task_id}")


@router.post("/governance-tasks/{task_id}/report")
async def report_task(request: Request, task_id: str, me: Me, system: SystemDep) -> Response:
    """Only the task's unit's worker (or an admin) reports: the unit is checked by the task itself."""
    form = {key: str(value) for key, value in (await request.form()).items()}
    check_csrf(request, form.get("csrf"))
    denied = check_role(me, Action.ANSWER_ORDER)
    if denied is not None:
        return forbidden(request, me, denied.reason)
    found = governance.governance_task(system.engine, task_id, system.clock())
    if found is None:
        w = words_of(request)
        return page(request, "message.html", me, 404, title=w["not_found"], detail=task_id)
    ticket = form.get("ticket_id", "")
    where = f"/cases/{ticket if ticket in found.ticket_ids else found.ticket_ids[0]}#tasks"
    unit = None if me.role is Role.ADMIN else me.unit
    command = c.ReportGovernanceTask(
        me.username, task_id=task_id, report=form.get("report", "").strip(), unit=unit
    )
    try:
        system.bus.handle(command)
    except NotAllowedError as error:
        return forbidden(request, me, str(error))
    except CaseError as error:
        return back(where, error=str(error))
    return back(where, ok=words_of(request)["task_reported"])
