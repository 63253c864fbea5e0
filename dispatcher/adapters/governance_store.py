"""Governance tasks in the database: stored as the domain creates them, with the cases they link and their
three SLA timers (carried by the first linked case; the sweeper fires them with the cases' timers); a
report written back once, the timers not yet fired cancelled. Each fact of a task goes to the outbox
(`jiesu.hotspots`, keyed by hotspot) and to the audit trail of every linked case. Used by the SQL unit of
work, in its transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import with_lists
from dispatcher.adapters.pending import INSERT_AUDIT, PendingWrites
from dispatcher.adapters.timers import CANCEL, INSERT_TIMER, timer_rows
from dispatcher.contract.events import Topic, Wire
from dispatcher.contract.governance import task_fact_to_wire
from dispatcher.domain.governance import GovernanceTask
from dispatcher.domain.hotspots import Hotspot
from dispatcher.service.unit_of_work import ConcurrencyError

_task, H = t.governance_tasks.c, t.hotspots.c
INSERT_TASK = insert(t.governance_tasks)
INSERT_LINK = insert(t.governance_task_cases)
READ_TASK = select(t.governance_tasks).where(_task.task_id == bindparam("task_id"))
REPORT_TASK = (
    update(t.governance_tasks)
    .where(_task.task_id == bindparam("b_id"), _task.reported_at.is_(None))
    .values(report=bindparam("report"), reported_by=bindparam("reported_by"), reported_at=bindparam("at"))
)
STATES_OF = with_lists(
    lambda among: select(t.cases.c.ticket_id, t.cases.c.state).where(among(t.cases.c.ticket_id, "tickets"))
)


class Publish(Protocol):
    def __call__(self, topic: Topic, event_type: str, data: Wire, key: str, at: datetime) -> None: ...


def task_values(task: GovernanceTask) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "hotspot_id": task.hotspot_id,
        "district": task.district,
        "category": task.category,
        "unit": task.unit,
        "ask": task.ask,
        "due_at": task.due_at,
        "how": task.how,
        "center_at": task.center_at,
        "ticket_ids": list(task.ticket_ids),
        "created_by": task.created_by,
        "created_at": task.created_at,
        "report": task.report,
        "reported_by": task.reported_by,
        "reported_at": task.reported_at,
    }


def task_of(row: Any) -> GovernanceTask:
    return GovernanceTask(
        row.task_id,
        row.hotspot_id,
        row.district,
        row.category,
        row.unit,
        row.ask,
        row.due_at,
        row.how,
        row.center_at,
        tuple(row.ticket_ids),
        row.created_by,
        row.created_at,
        row.report,
        row.reported_by,
        row.reported_at,
    )


class SqlGovernanceTasks:
    def __init__(self, connection: Connection, pending: PendingWrites, publish: Publish) -> None:
        self._connection = connection
        self._pending = pending
        self._publish = publish
        self._new: list[GovernanceTask] = []
        self._read: dict[str, tuple[GovernanceTask, bool]] = {}  # id -> (task, open when read)

    def hotspot(self, hotspot_id: str) -> Hotspot | None:
        row = self._connection.execute(select(t.hotspots).where(H.hotspot_id == hotspot_id)).first()
        if row is None:
            return None
        return Hotspot(
            hotspot_id=row.hotspot_id,
            district=row.district,
            street=row.street,
            community=row.community,
            category=row.category,
            window=row.span,
            window_start=row.window_start,
            window_end=row.window_end,
            observed=row.observed,
            expected=row.expected,
            score=row.score,
            first_ticket_id=row.first_ticket_id,
            ticket_ids=tuple(row.ticket_ids),
            detected_at=row.detected_at,
            closed_at=row.closed_at,
        )

    def of_hotspot(self, hotspot_id: str) -> str | None:
        """The id of the hotspot's task, if it has one."""
        if any(task.hotspot_id == hotspot_id for task in self._new):
            return next(task.task_id for task in self._new if task.hotspot_id == hotspot_id)
        found = self._connection.execute(select(_task.task_id).where(_task.hotspot_id == hotspot_id))
        return found.scalar()

    def add(self, task: GovernanceTask) -> None:
        self._new.append(task)

    def get(self, task_id: str) -> GovernanceTask | None:
        if task_id in self._read:
            return self._read[task_id][0]
        new = next((task for task in self._new if task.task_id == task_id), None)
        if new is not None:
            return new
        row = self._connection.execute(READ_TASK, {"task_id": task_id}).first()
        if row is None:
            return None
        task = task_of(row)
        self._read[task_id] = (task, task.is_open)
        return task

    def save_all(self) -> None:
        """Insert the new tasks, their links and timers; write back the reports of those read open
        (`ConcurrencyError` if another transaction reported one, or made the hotspot a task, first);
        publish and audit every task's new facts."""
        for task in self._new:
            try:
                with self._connection.begin_nested():
                    self._connection.execute(INSERT_TASK, task_values(task))
            except IntegrityError:
                raise ConcurrencyError(
                    f"hotspot {task.hotspot_id} was made a governance task meanwhile"
                ) from None
            links = [{"task_id": task.task_id, "ticket_id": ticket} for ticket in task.ticket_ids]
            self._connection.execute(INSERT_LINK, links)
            self._pending.add(INSERT_TIMER, timer_rows(task.ticket_ids[0], task.timers()))
        for task, was_open in self._read.values():
            if was_open and not task.is_open:
                row = {"b_id": task.task_id, "report": task.report, "reported_by": task.reported_by}
                if self._connection.execute(REPORT_TASK, {**row, "at": task.reported_at}).rowcount != 1:
                    raise ConcurrencyError(f"governance task {task.task_id} was reported meanwhile")
                self._pending.add(CANCEL, {"b_ticket_id": task.ticket_ids[0], "b_stage": task.task_id})
        for task in [*self._new, *(task for task, _ in self._read.values())]:
            self._record(task)
        self._new.clear()
        self._read.clear()

    def _record(self, task: GovernanceTask) -> None:
        if not task.facts:
            return
        states = self._states(task.ticket_ids)
        for fact in task.facts:
            event_type, data = task_fact_to_wire(task, fact)
            self._publish(Topic.HOTSPOTS, event_type, data, task.hotspot_id, fact.at)
            action = f"governance_{fact.kind.value}"
            self._pending.add(
                INSERT_AUDIT,
                [
                    {
                        "ticket_id": ticket,
                        "at": fact.at,
                        "actor": fact.actor,
                        "action": action,
                        "reason": fact.reason,
                        "from_state": state,
                        "state": state,
                    }
                    for ticket, state in states
                ],
            )
        task.facts.clear()

    def _states(self, tickets: Sequence[str]) -> list[tuple[str, str]]:
        """The linked cases' states now, in the task's order (the audit line changes none of them)."""
        rows = self._connection.execute(STATES_OF.on(self._connection), {"tickets": list(tickets)})
        found = dict(rows.tuples().all())
        return [(ticket, found[ticket]) for ticket in tickets if ticket in found]
