"""吹哨报到: the lead unit calls units in on a case; a supervisor may waive a called unit's report.

Each unit called is looked up in the catalog (its post and person on duty, who are told) and given its
deadlines on the business calendar: to acknowledge its part and to report it to the lead (the SLA file's
`co_handling`, counted in the called unit's working hours; a report due after the lead's reply deadline is
due at that deadline).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dispatcher.domain import commands as c
from dispatcher.domain.case import Case
from dispatcher.domain.joint import Call, CoDeadlines
from dispatcher.service.lifecycle import InvalidActionError, apply_to_case
from dispatcher.service.unit_of_work import UnitOfWork
from rules.routing import Router
from sla.calendar import BEIJING, Clock

CoDeadlinesFor = Callable[[str, datetime], CoDeadlines | None]
"""A called unit's deadlines from its class and the moment it is called."""


def no_co_deadlines(unit_class: str, at: datetime) -> CoDeadlines | None:
    return None


def whistle(
    command: c.Whistle,
    *,
    uow: UnitOfWork,
    clock: Clock,
    router: Router,
    co_deadlines_for: CoDeadlinesFor = no_co_deadlines,
) -> None:
    if not command.calls:
        raise InvalidActionError("a whistle names at least one unit to call in, and what it is asked")
    for call in command.calls:
        if not call.unit.strip():
            raise InvalidActionError("a unit called in needs its id")
        if not call.ask.strip():
            raise InvalidActionError(f"say what {call.unit} is asked to do")

    def act(case: Case) -> None:
        now = clock()
        calls = []
        for call in command.calls:
            try:
                on_duty = router.assignment_for(call.unit, None, now, f"called in on {case.ticket_id}")
                unit_class = router.unit_class(call.unit)
            except KeyError as error:
                raise InvalidActionError(str(error.args[0])) from None
            due = _capped(co_deadlines_for(unit_class, now), case.reply_due)
            calls.append(Call(call.unit, call.ask.strip(), on_duty.post, on_duty.person, due))
        case.whistle(command.by, now, calls)

    apply_to_case(command, uow, act)


def _capped(due: CoDeadlines | None, reply_due: datetime | None) -> CoDeadlines | None:
    """The called unit reports before the lead must reply: a later report deadline is moved to it."""
    if due is None or reply_due is None or due.report_due <= reply_due:
        return due
    reply_due = reply_due.astimezone(BEIJING)
    note = f"; capped at the lead's reply deadline {reply_due:%Y-%m-%d %H:%M %z}"
    return CoDeadlines(min(due.acknowledge_due, reply_due), reply_due, due.how + note)


def waive_report(command: c.WaiveReport, *, uow: UnitOfWork, clock: Clock) -> None:
    if not command.reason.strip():
        raise InvalidActionError("waiving a report needs a reason")
    apply_to_case(
        command, uow, lambda case: case.waive_report(command.unit, command.by, clock(), command.reason)
    )
