"""Handlers of governance tasks (主动治理任务): make a hotspot a task for a unit, report it done; their
timers fire in `sla`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dispatcher.domain import commands as c
from dispatcher.domain.access import Visible
from dispatcher.domain.governance import GovernanceTask, TaskConflictError, check_scope
from dispatcher.service.lifecycle import CaseNotFoundError, InvalidActionError
from dispatcher.service.unit_of_work import UnitOfWork
from sla.calendar import Clock

TaskDeadline = Callable[[str, str, datetime], tuple[datetime, str]]
"""(a duration in words, such as '5 working days'; the unit; from when) -> (due at, how computed) on the
business calendar, in the unit's working hours."""
UnitKnown = Callable[[str], bool]
MAX_WORKING_DAYS = 90


def create_task(
    command: c.CreateGovernanceTask,
    *,
    uow: UnitOfWork,
    clock: Clock,
    deadline: TaskDeadline,
    unit_known: UnitKnown,
    new_id: Callable[[], str],
) -> str:
    """主动治理: make the hotspot a governance task for a unit; returns the task's id. One task per
    hotspot: a second is refused. Sent again with the same inbound event, nothing more happens."""
    if (command.working_days is None) == (command.due_at is None):
        raise InvalidActionError("a governance task needs its deadline: in working days, or a due_at")
    if command.working_days is not None and not 1 <= command.working_days <= MAX_WORKING_DAYS:
        raise InvalidActionError(f"working days: between 1 and {MAX_WORKING_DAYS}")
    if command.due_at is not None and command.due_at.tzinfo is None:
        raise InvalidActionError("due_at needs its time zone (an offset such as +08:00)")
    if not unit_known(command.unit):
        raise InvalidActionError(f"unknown unit {command.unit!r}: the catalog has no such unit")
    with uow:
        if command.inbound and uow.inbox.seen(command.inbound):
            return uow.tasks.of_hotspot(command.hotspot_id) or ""
        hotspot = uow.tasks.hotspot(command.hotspot_id)
        if hotspot is None:
            raise CaseNotFoundError(f"no hotspot {command.hotspot_id}")
        check_scope(Visible(everything=command.everything, district=command.district), hotspot)
        existing = uow.tasks.of_hotspot(hotspot.hotspot_id)
        if existing is not None:
            raise TaskConflictError(f"hotspot {hotspot.hotspot_id} already is governance task {existing}")
        now = clock()
        if command.working_days is not None:
            due = deadline(f"{command.working_days} working days", command.unit, now)
        else:
            assert command.due_at is not None
            due = (command.due_at, f"due at {command.due_at.isoformat()} (asked by the supervisor)")
        center_at, _ = deadline("1 working day", command.unit, due[0])
        task = GovernanceTask.create(
            hotspot, new_id(), command.unit, command.ask, due, center_at, command.by, now
        )
        uow.tasks.add(task)
        if command.inbound:
            uow.inbox.record(command.inbound)
        uow.commit()
        return task.task_id


def report_task(command: c.ReportGovernanceTask, *, uow: UnitOfWork, clock: Clock) -> None:
    """The task's unit reports the cause dealt with (once); a repeated inbound event does nothing."""
    with uow:
        if command.inbound and uow.inbox.seen(command.inbound):
            return
        task = uow.tasks.get(command.task_id)
        if task is None:
            raise CaseNotFoundError(f"no governance task {command.task_id}")
        task.report_with(command.report, command.by, command.unit, clock())
        if command.inbound:
            uow.inbox.record(command.inbound)
        uow.commit()
