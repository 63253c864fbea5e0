"""The SLA timers' handler: each due timer fires once, in the same transaction as its events and audit."""

from __future__ import annotations

from dispatcher.domain.commands import FireTimers
from dispatcher.domain.governance import is_task_timer
from dispatcher.domain.pause import RESUME_KIND
from dispatcher.domain.supervision import is_order_timer
from dispatcher.domain.timer_plan import NextStep, next_timer
from dispatcher.service.pause import WorkingClockFor
from dispatcher.service.unit_of_work import UnitOfWork
from sla.calendar import Clock


def fire_timers(
    command: FireTimers, *, uow: UnitOfWork, clock: Clock, working_clock: WorkingClockFor | None = None
) -> None:
    """Exactly once per timer: a timer already fired or cancelled (or locked by another sweeper) does
    nothing; one that no longer applies (stage done, deadline moved, case not at a unit, a supervision
    order answered, a governance task reported, pause resumed or its date changed) is cancelled. A
    pause's resume-date timer resumes the case on `working_clock`. A ladder's timer, fired or not, plans the
    ladder's next step while that can still fire (`next_timer`): a sweep goes on until nothing it has not
    looked at is due.
    All the timers of the command are fired in one transaction."""
    with uow:
        now = clock()
        timers = uow.timers.claim(command.timer_ids)
        uow.cases.load({timer.ticket_id for timer in timers})
        outcomes, steps = [], []
        for timer in timers:
            case = uow.cases.get(timer.ticket_id)
            if is_task_timer(timer.stage):  # a governance task's: fires while the task is not reported
                task = uow.tasks.get(timer.stage)
                fired = task is not None and task.fire_timer(
                    timer.kind, timer.level, timer.deadline, timer.target, now
                )
            elif case is None:
                fired = False
            elif is_order_timer(timer.stage):  # a supervision order's: fires while the order is open
                order = uow.orders.get(timer.stage)
                fired = order is not None and order.fire_timer(
                    case, timer.kind, timer.deadline, timer.target, now
                )
            elif timer.kind == RESUME_KIND:
                fired = working_clock is not None and case.resume_on_date(
                    timer.deadline, now, working_clock(case)
                )
            else:
                fired = case.fire_timer(
                    timer.stage,
                    timer.kind,
                    timer.level,
                    timer.deadline,
                    timer.target,
                    now,
                    timer.unit or None,
                )
                following = next_timer(
                    case, timer.stage, timer.level, timer.deadline, timer.target, timer.unit
                )
                if following is not None:
                    steps.append(NextStep(timer.ticket_id, timer.unit, following))
            outcomes.append((timer.id, "fired" if fired else "cancelled"))
        uow.timers.mark(outcomes, now)
        uow.timers.plan_next(steps)
        uow.commit()
