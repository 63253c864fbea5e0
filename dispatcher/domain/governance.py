"""Governance tasks (主动治理任务): a supervisor makes a hotspot a task for one unit, to deal with its cause.

A task names the unit, what is asked and a deadline (computed on the business calendar by the service from
a number of working days, or given as a moment). It links the hotspot's cases: they stay individual cases,
handled and called back as usual; the task is about the cause behind them. The unit reports when the cause
is dealt with, in words: that closes the task (once). Like a supervision order it has its own timers, fired
by the SLA sweeper: a warning to the unit at three quarters of its time, and while it is not reported, an
escalation at the deadline to the unit's head, then one working day later to the center's supervisors.

One task per hotspot. Its facts are recorded on the task (`facts`): the storage publishes each on
`jiesu.hotspots` and writes it to the audit trail of every linked case, in the same transaction.
Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dispatcher.domain.access import Visible
from dispatcher.domain.case import local
from dispatcher.domain.hotspots import Hotspot
from dispatcher.domain.states import SYSTEM, CaseError, NotAllowedError
from dispatcher.domain.timer_plan import CENTER, PlannedTimer

TASK_PREFIX = "GT-"  # a task's id, and the `stage` of its timers among the SLA timers
TEXT_MAX_CHARS = 2000
WARN_AT = 0.75  # the warning falls at this fraction of the time given, as for supervision orders


class TaskError(CaseError):
    """The task's own data is wrong: no ask, a deadline in the past, no cases to link (HTTP 422)."""


class TaskConflictError(CaseError):
    """The hotspot already is a task, or the task was already reported (HTTP 409); not retried."""


class TaskEvent(StrEnum):
    CREATED = "task_created"
    REPORTED = "task_reported"
    WARNING = "task_warning"
    OVERDUE = "task_overdue"


@dataclass(frozen=True)
class TaskFact:
    """One fact of a task: published as `jiesu.governance.<kind>`, audited on each linked case."""

    kind: TaskEvent
    at: datetime
    actor: str
    reason: str  # the audit trail's line
    target: str | None = None  # overdue: whom it was escalated to
    level: int = 0  # overdue: 1 the unit's head, 2 the center
    late: bool = False  # reported after the deadline


def is_task_timer(stage: str) -> bool:
    """Whether an SLA timer belongs to a governance task (its stage is the task's id)."""
    return stage.startswith(TASK_PREFIX)


def check_scope(scope: Visible, hotspot: Hotspot) -> None:
    """A district's supervisor acts on its district's hotspots only; the city's supervisors on any."""
    if not scope.everything and scope.district != hotspot.district:
        where = scope.district or "none"
        raise NotAllowedError(
            f"hotspot {hotspot.hotspot_id} is in district {hotspot.district}, outside your scope ({where})"
        )


def _text(what: str, text: str) -> str:
    if not text.strip():
        raise TaskError(f"a governance task needs {what}, in words")
    if len(text) > TEXT_MAX_CHARS:
        raise TaskError(f"{what} is {len(text)} characters long; at most {TEXT_MAX_CHARS}")
    return text.strip()


@dataclass
class GovernanceTask:
    task_id: str
    hotspot_id: str
    district: str
    category: str
    unit: str
    ask: str
    due_at: datetime
    how: str  # how the deadline was computed
    center_at: datetime  # when an unreported task goes up to the center
    ticket_ids: tuple[str, ...]  # the hotspot's cases, linked: the first carries the task's timers
    created_by: str
    created_at: datetime
    report: str | None = None
    reported_by: str | None = None
    reported_at: datetime | None = None
    facts: list[TaskFact] = field(default_factory=list, compare=False)

    @property
    def is_open(self) -> bool:
        return self.reported_at is None

    def overdue(self, now: datetime) -> bool:
        return self.is_open and now >= self.due_at

    @classmethod
    def create(
        cls,
        hotspot: Hotspot,
        task_id: str,
        unit: str,
        ask: str,
        due: tuple[datetime, str],
        center_at: datetime,
        by: str,
        at: datetime,
    ) -> GovernanceTask:
        """主动治理: make the hotspot a task for `unit`, asked `ask`, due by `due` (the deadline and how it
        was computed); linked to the hotspot's cases."""
        if not task_id.startswith(TASK_PREFIX) or len(task_id) > 16:
            raise TaskError(f"task id {task_id!r}: expected {TASK_PREFIX} and at most 16 characters")
        if not unit.strip():
            raise TaskError("a governance task needs the unit it is for")
        ask = _text("what is asked", ask)
        due_at, how = due
        if due_at <= at:
            raise TaskError(f"the deadline {due_at.isoformat()} is not after the task's time")
        if not hotspot.ticket_ids:
            raise TaskError(f"hotspot {hotspot.hotspot_id} holds no cases to link")
        task = cls(
            task_id,
            hotspot.hotspot_id,
            hotspot.district,
            hotspot.category,
            unit.strip(),
            ask,
            due_at,
            how,
            max(center_at, due_at),
            tuple(dict.fromkeys(hotspot.ticket_ids)),
            by,
            at,
        )
        due_text = f"{local(due_at):%Y-%m-%d %H:%M}"
        reason = f"{task_id} for {task.unit} (hotspot {hotspot.hotspot_id}), due {due_text}: {ask}"
        task.facts.append(TaskFact(TaskEvent.CREATED, at, by, reason))
        return task

    def report_with(self, text: str, by: str, unit: str | None, at: datetime) -> None:
        """The unit reports the cause dealt with: the task is closed (once), its timers not yet fired no
        longer apply. `unit` None: an admin or the operator, who may report for it. Late if past due."""
        if unit is not None and unit != self.unit:
            raise NotAllowedError(f"governance task {self.task_id} is for {self.unit}, not for {unit}")
        text = _text("the report", text)
        if not self.is_open:
            when = f"{local(self.reported_at):%Y-%m-%d %H:%M}" if self.reported_at else "?"
            raise TaskConflictError(
                f"governance task {self.task_id} was reported by {self.reported_by} at {when}"
            )
        self.report, self.reported_by, self.reported_at = text, by, at
        late = at > self.due_at
        reason = f"{self.task_id}{' (late)' if late else ''}: {text}"
        self.facts.append(TaskFact(TaskEvent.REPORTED, at, by, reason, late=late))

    def timers(self) -> list[PlannedTimer]:
        """The warning to the unit, the escalation to its head at the deadline, to the center after."""
        warn = self.created_at + (self.due_at - self.created_at) * WARN_AT
        return [
            PlannedTimer(self.task_id, "warning", 0, warn, self.due_at, f"{self.unit}:unit"),
            PlannedTimer(self.task_id, "escalation", 1, self.due_at, self.due_at, f"{self.unit}:unit_head"),
            PlannedTimer(self.task_id, "escalation", 2, self.center_at, self.due_at, f"{CENTER}:supervisor"),
        ]

    def fire_timer(self, kind: str, level: int, deadline: datetime, target: str, at: datetime) -> bool:
        """A timer of the task came due: it fires only while the task is open on that deadline (else it is
        stale and does nothing). Returns whether it fired."""
        if not self.is_open or deadline != self.due_at:
            return False
        due = f"due {local(deadline):%Y-%m-%d %H:%M}"
        if kind == "warning":
            self.facts.append(TaskFact(TaskEvent.WARNING, at, SYSTEM, f"{self.task_id}: {due}"))
            return True
        reason = f"{self.task_id}: {due}, escalated to {target}"
        self.facts.append(TaskFact(TaskEvent.OVERDUE, at, SYSTEM, reason, target=target, level=level))
        return True
