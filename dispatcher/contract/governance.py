"""Governance tasks on the wire: a task's facts as `jiesu.governance.task_*` on `jiesu.hotspots`."""

from __future__ import annotations

from typing import Any

from dispatcher.contract import events as wire
from dispatcher.domain.governance import GovernanceTask, TaskEvent, TaskFact
from sla.calendar import BEIJING

MODELS: dict[TaskEvent, type[wire.GovernanceTask]] = {
    TaskEvent.CREATED: wire.GovernanceTaskCreated,
    TaskEvent.REPORTED: wire.GovernanceTaskReported,
    TaskEvent.WARNING: wire.GovernanceTaskWarning,
    TaskEvent.OVERDUE: wire.GovernanceTaskOverdue,
}


def task_fact_to_wire(task: GovernanceTask, fact: TaskFact) -> tuple[str, wire.GovernanceTask]:
    """(ce_type, data) of one fact of the task."""
    common: dict[str, Any] = {
        "task_id": task.task_id,
        "hotspot_id": task.hotspot_id,
        "unit": task.unit,
        "district": task.district,
        "category": task.category,
        "at": fact.at,
    }
    due = task.due_at.astimezone(BEIJING)
    extra: dict[str, Any]
    if fact.kind is TaskEvent.CREATED:
        extra = {"ask": task.ask, "due_at": due, "by": fact.actor, "ticket_ids": list(task.ticket_ids)}
    elif fact.kind is TaskEvent.REPORTED:
        extra = {"by": fact.actor, "report": task.report, "late": fact.late}
    elif fact.kind is TaskEvent.WARNING:
        extra = {"due_at": due}
    else:
        extra = {"due_at": due, "target": fact.target, "level": fact.level}
    return f"jiesu.governance.{fact.kind.value}", MODELS[fact.kind](**common, **extra)
