"""Governance tasks (主动治理任务): a supervisor makes a hotspot a task for a unit; the unit reports it done;
both see the open ones (the dashboard's panel and the case page read the same lists)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime, Field, StringConstraints

from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Principal, Role, visible_cases
from dispatcher.reads import governance as tasks
from dispatcher.service.lifecycle import CaseNotFoundError
from jiesu.web import schemas as s
from jiesu.web.auth import allowed
from jiesu.web.common import AUTH, CASE_ERRORS, SystemDep

router = APIRouter(prefix="/api", tags=["governance tasks"])
TaskText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
View = tasks.GovernanceTaskView
NO_TASK: dict[int | str, dict[str, Any]] = {
    404: {"model": s.ErrorBody, "description": "No such hotspot or task."}
}


class TaskBody(s.Body):
    unit: s.Name = Field(description="the unit the task is for (a unit of the catalog)")
    ask: TaskText = Field(description="what is asked of the unit: the cause to deal with")
    due_working_days: Annotated[int, Field(ge=1, le=90)] | None = Field(
        None, description="the time given, in working days on the business calendar (or give due_at)"
    )
    due_at: AwareDatetime | None = Field(
        None, description="the deadline as a moment (or give due_working_days)"
    )


class ReportBody(s.Body):
    report: TaskText = Field(description="what the unit did about the cause, in words")


@router.post(
    "/hotspots/{hotspot_id}/governance-task",
    summary="Make a hotspot a governance task (主动治理任务) for a unit (supervisor)",
    status_code=201,
    response_model=View,
    responses={**CASE_ERRORS, **NO_TASK},
)
def create(
    hotspot_id: str,
    body: TaskBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.SUPERVISION_ORDER))],
) -> View:
    """Links the hotspot's cases to a task for the unit, due by a deadline on the business calendar (they
    stay individual cases, handled and called back as usual); published as
    `jiesu.governance.task_created`, with a warning at three quarters of the time and, while it is not
    reported, an escalation to the unit's head at the deadline and to the center a working day later. One
    task per hotspot: a second is refused (409).

    Allowed: a supervisor whose scope (a district, or the city) holds the hotspot, or an admin."""
    scope = visible_cases(principal)
    command = c.CreateGovernanceTask(
        principal.username,
        hotspot_id=hotspot_id,
        unit=body.unit,
        ask=body.ask,
        working_days=body.due_working_days,
        due_at=body.due_at,
        district=scope.district,
        everything=scope.everything,
    )
    task_id = system.bus.handle(command)
    return _task(system, task_id)


@router.post(
    "/governance-tasks/{task_id}/report",
    summary="Report a governance task done: the cause is dealt with (the task's unit)",
    response_model=View,
    responses={**CASE_ERRORS, **NO_TASK},
)
def report(
    task_id: str,
    body: ReportBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.ANSWER_ORDER))],
) -> View:
    """Closes the task once, published as `jiesu.governance.task_reported`; its timers not yet fired are
    cancelled. A second report is refused (409).

    Allowed: a worker of the task's unit, or an admin."""
    _task(system, task_id)
    unit = None if principal.role is Role.ADMIN else principal.unit
    system.bus.handle(
        c.ReportGovernanceTask(principal.username, task_id=task_id, report=body.report, unit=unit)
    )
    return _task(system, task_id)


@router.get(
    "/governance-tasks",
    summary="Governance tasks: open ones by deadline (overdue first), or done ones",
    response_model=list[View],
    responses=AUTH,
)
def list_tasks(
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.LIST))],
    status: Literal["open", "done"] | None = Query(None, description="open or done; none: both"),
    limit: Annotated[int, Query(ge=1, le=tasks.LIMIT, description="tasks at most")] = 200,
) -> list[View]:
    """Scoped like the cases: a district's supervisor sees its district's tasks, a unit's workers those
    for their unit, city supervisors and admins all.

    Allowed: workers, supervisors and admins."""
    return tasks.governance_tasks(system.engine, visible_cases(principal), system.clock(), status, limit)


def _task(system: SystemDep, task_id: str) -> View:
    found = tasks.governance_task(system.engine, task_id, system.clock())
    if found is None:
        raise CaseNotFoundError(f"no governance task {task_id}")
    return found
