"""Handlers of a case's pause (挂起): ask, decide, resume; the resume date's timer is fired in `sla`."""

from __future__ import annotations

from collections.abc import Callable

from dispatcher.domain import commands as c
from dispatcher.domain.case import Case
from dispatcher.domain.pause import PauseReason
from dispatcher.service.lifecycle import InvalidActionError, apply_to_case
from dispatcher.service.unit_of_work import UnitOfWork
from sla.calendar import Clock
from sla.working_time import WorkingClock

WorkingClockFor = Callable[[Case], WorkingClock]
"""The working clock a case's deadlines count on: its unit's class's working hours, or every hour."""


def request_pause(command: c.RequestPause, *, uow: UnitOfWork, clock: Clock) -> None:
    try:
        code = PauseReason(command.code)
    except ValueError:
        allowed = ", ".join(reason.value for reason in PauseReason)
        raise InvalidActionError(f"pause reason code {command.code!r}: expected one of {allowed}") from None
    if not command.reason.strip():
        raise InvalidActionError("a pause needs a reason in words")
    if command.until is not None and command.until.tzinfo is None:
        raise InvalidActionError("the resume date needs its timezone")
    apply_to_case(
        command,
        uow,
        lambda case: case.request_pause(command.by, clock(), code, command.reason, command.until),
    )


def decide_pause(command: c.DecidePause, *, uow: UnitOfWork, clock: Clock) -> None:
    if command.until is not None and command.until.tzinfo is None:
        raise InvalidActionError("the resume date needs its timezone")
    apply_to_case(
        command,
        uow,
        lambda case: case.decide_pause(command.by, clock(), command.approve, command.until, command.reason),
    )


def resume(command: c.ResumeCase, *, uow: UnitOfWork, clock: Clock, working_clock: WorkingClockFor) -> None:
    apply_to_case(
        command, uow, lambda case: case.resume(command.by, clock(), working_clock(case), command.note)
    )
