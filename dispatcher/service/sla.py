"""The SLA timers' handler: each due timer fires once, in the same transaction as its events and audit."""

from __future__ import annotations

from dispatcher.domain.commands import FireTimers
from dispatcher.service.unit_of_work import UnitOfWork
from sla.calendar import Clock


def fire_timers(command: FireTimers, *, uow: UnitOfWork, clock: Clock) -> None:
    """Exactly once per timer: a timer already fired or cancelled (or locked by another sweeper) does
    nothing; one that no longer applies (stage done, deadline moved, case not at a unit) is cancelled.
    All the timers of the command are fired in one transaction."""
    with uow:
        now = clock()
        timers = uow.timers.claim(command.timer_ids)
        uow.cases.load({timer.ticket_id for timer in timers})
        outcomes = []
        for timer in timers:
            case = uow.cases.get(timer.ticket_id)
            fired = case is not None and case.fire_timer(
                timer.stage, timer.kind, timer.level, timer.deadline, timer.target, now, timer.unit or None
            )
            outcomes.append((timer.id, "fired" if fired else "cancelled"))
        uow.timers.mark(outcomes, now)
        uow.commit()
