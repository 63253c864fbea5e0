"""Governance tasks (主动治理任务) for the web, the CLI and the dashboard: the open ones by deadline (the
overdue first), the done ones newest first, the task of a hotspot, those linking a case; each list scoped
like the cases (a district's supervisor sees its district's, a unit's workers the tasks for their unit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Engine, false, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.domain.access import Visible
from dispatcher.reads.views import Instant

LIMIT = 500
_task, _link = t.governance_tasks.c, t.governance_task_cases.c
Status = Literal["open", "done"]


class GovernanceTaskView(BaseModel):
    task_id: str
    hotspot_id: str
    district: str
    category: str
    unit: str = Field(description="the unit the task is for")
    ask: str = Field(description="what is asked")
    due_at: Instant
    how: str = Field(description="how the deadline was computed on the business calendar")
    ticket_ids: list[str] = Field(description="the linked cases (the hotspot's): they stay individual cases")
    created_by: str
    created_at: Instant
    status: Status
    overdue: bool = Field(description="open and past its deadline")
    report: str | None
    reported_by: str | None
    reported_at: Instant | None


def _within(scope: Visible) -> list[ColumnElement[bool]]:
    if scope.everything:
        return []
    if scope.district is not None:
        return [_task.district == scope.district]
    if scope.unit is not None:
        return [_task.unit == scope.unit]
    return [false()]


def _view(row: Any, now: datetime) -> GovernanceTaskView:
    done = row.reported_at is not None
    return GovernanceTaskView(
        task_id=row.task_id,
        hotspot_id=row.hotspot_id,
        district=row.district,
        category=row.category,
        unit=row.unit,
        ask=row.ask,
        due_at=row.due_at,
        how=row.how,
        ticket_ids=list(row.ticket_ids),
        created_by=row.created_by,
        created_at=row.created_at,
        status="done" if done else "open",
        overdue=not done and now >= row.due_at,
        report=row.report,
        reported_by=row.reported_by,
        reported_at=row.reported_at,
    )


def governance_tasks(
    engine: Engine, scope: Visible, now: datetime, status: Status | None = None, limit: int = LIMIT
) -> list[GovernanceTaskView]:
    """The tasks in `scope`: open ones by deadline, earliest (so the overdue) first, then the done ones,
    latest report first; at most `limit`."""
    query = select(t.governance_tasks).where(*_within(scope))
    if status == "open":
        query = query.where(_task.reported_at.is_(None)).order_by(_task.due_at, _task.task_id)
    elif status == "done":
        query = query.where(_task.reported_at.is_not(None)).order_by(_task.reported_at.desc(), _task.task_id)
    else:
        query = query.order_by(_task.reported_at.is_not(None), _task.due_at, _task.task_id)
    with reading(engine) as connection:
        return [_view(row, now) for row in connection.execute(query.limit(limit))]


def governance_task(engine: Engine, task_id: str, now: datetime) -> GovernanceTaskView | None:
    with reading(engine) as connection:
        row = connection.execute(select(t.governance_tasks).where(_task.task_id == task_id)).first()
    return _view(row, now) if row is not None else None


def task_of_hotspot(engine: Engine, hotspot_id: str, now: datetime) -> GovernanceTaskView | None:
    with reading(engine) as connection:
        row = connection.execute(select(t.governance_tasks).where(_task.hotspot_id == hotspot_id)).first()
    return _view(row, now) if row is not None else None


def tasks_of_hotspots(engine: Engine, hotspot_ids: list[str], now: datetime) -> dict[str, GovernanceTaskView]:
    """The task of each of these hotspots that has one, by hotspot."""
    if not hotspot_ids:
        return {}
    query = select(t.governance_tasks).where(_task.hotspot_id.in_(hotspot_ids))
    with reading(engine) as connection:
        return {row.hotspot_id: _view(row, now) for row in connection.execute(query)}


def tasks_of_case(engine: Engine, ticket_id: str, now: datetime) -> list[GovernanceTaskView]:
    """The governance tasks that link the case, as created."""
    query = (
        select(t.governance_tasks)
        .join(t.governance_task_cases, _link.task_id == _task.task_id)
        .where(_link.ticket_id == ticket_id)
        .order_by(_task.created_at, _task.task_id)
    )
    with reading(engine) as connection:
        return [_view(row, now) for row in connection.execute(query)]
