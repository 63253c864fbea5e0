"""Handlers of the actions on a case: load it, apply the order, store it with its audit and events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from dispatcher.domain import commands as c
from dispatcher.domain import merging
from dispatcher.domain.case import Case, CaseError, ReturnReason
from dispatcher.service.handlers import DeadlinesFor, no_deadlines
from dispatcher.service.unit_of_work import UnitOfWork
from rules.complaint import Urgency
from rules.decision import Assignment, Decision
from rules.routing import Router
from sla.calendar import Clock

ReturnWindow = Callable[[Urgency], timedelta]
ReturnWindowEnds = Callable[[Case], tuple[datetime, str] | None]
"""Where a tier's return window is set on the business calendar (config/sla.yaml): its end for the case,
and its length in words; None: the clock-hour `ReturnWindow` applies."""


class CaseNotFoundError(CaseError):
    """No case has this ticket id (HTTP 404)."""


class InvalidActionError(CaseError):
    """The action's own data is wrong: an unknown unit, a missing reason (HTTP 422)."""


def apply_to_case(command: c.CaseCommand, uow: UnitOfWork, act: Callable[[Case], None]) -> None:
    with uow:
        if command.inbound and uow.inbox.seen(command.inbound):
            return
        case = uow.cases.get(command.ticket_id)
        if case is None:
            raise CaseNotFoundError(f"no case with ticket id {command.ticket_id}")
        act(case)
        if command.inbound:
            uow.inbox.record(command.inbound)
        uow.commit()


def acknowledge(command: c.AcknowledgeCase, *, uow: UnitOfWork, clock: Clock) -> None:
    apply_to_case(command, uow, lambda case: case.acknowledge(command.by, clock()))


def contact(command: c.RecordContact, *, uow: UnitOfWork, clock: Clock) -> None:
    apply_to_case(command, uow, lambda case: case.contact(command.by, clock(), command.note))


def return_case(
    command: c.ReturnCase,
    *,
    uow: UnitOfWork,
    clock: Clock,
    router: Router,
    window: ReturnWindow,
    window_ends: ReturnWindowEnds | None = None,
) -> None:
    try:
        code = ReturnReason(command.code)
    except ValueError:
        allowed = ", ".join(reason.value for reason in ReturnReason)
        raise InvalidActionError(f"return reason code {command.code!r}: expected one of {allowed}") from None
    if not command.reason.strip():
        raise InvalidActionError("a return needs a reason in words")

    def act(case: Case) -> None:
        now = clock()
        exclude = frozenset({case.assignment.unit}) if case.assignment else frozenset()
        proposal = router.propose(case.complaint, now, exclude).assignment
        ends = window_ends(case) if window_ends else None
        case.return_case(command.by, now, code, command.reason, window(case.urgency), proposal, ends)

    apply_to_case(command, uow, act)


def arbitrate(
    command: c.Arbitrate,
    *,
    uow: UnitOfWork,
    clock: Clock,
    router: Router,
    deadlines_for: DeadlinesFor = no_deadlines,
    pause: bool = False,
) -> None:
    """Arbitration: redispatch (fresh deadlines at the new unit) or reject the return (with `pause`, the
    case's open deadlines move by the time it waited)."""
    if command.decision not in ("redispatch", "reject"):
        raise InvalidActionError(f"arbitration decision {command.decision!r}: expected redispatch or reject")

    def act(case: Case) -> None:
        now = clock()
        if command.decision == "reject":
            case.reject_return(command.by, now, command.reason or "return rejected", pause)
            return
        if command.unit:
            assignment = _assignment(router, command.unit, command.post, now, command.reason)
        elif case.pending_return and case.pending_return.proposal:
            assignment = case.pending_return.proposal
        else:
            raise InvalidActionError("no proposal to redispatch to: name a unit")
        deadlines = deadlines_for(case.complaint, _decision(case, assignment, router), now)
        case.redispatch(command.by, now, assignment, command.reason or "return upheld", deadlines)

    apply_to_case(command, uow, act)


def dispatch_manually(
    command: c.DispatchManually,
    *,
    uow: UnitOfWork,
    clock: Clock,
    router: Router,
    deadlines_for: DeadlinesFor = no_deadlines,
) -> None:
    def act(case: Case) -> None:
        now = clock()
        if command.category:
            case.category = command.category
        assignment = _assignment(router, command.unit, command.post, now, command.reason or "manual dispatch")
        deadlines = deadlines_for(case.complaint, _decision(case, assignment, router), now)
        case.redispatch(command.by, now, assignment, command.reason or "manual dispatch", deadlines)

    apply_to_case(command, uow, act)


def request_extension(command: c.RequestExtension, *, uow: UnitOfWork, clock: Clock) -> None:
    if command.until is None or command.until.tzinfo is None:
        raise InvalidActionError("an extension needs a proposed deadline with its timezone")
    if not command.reason.strip():
        raise InvalidActionError("an extension needs a reason")
    until = command.until
    apply_to_case(
        command, uow, lambda case: case.request_extension(command.by, clock(), until, command.reason)
    )


def decide_extension(command: c.DecideExtension, *, uow: UnitOfWork, clock: Clock) -> None:
    if command.until is not None and command.until.tzinfo is None:
        raise InvalidActionError("the approved deadline needs its timezone")
    apply_to_case(
        command,
        uow,
        lambda case: case.decide_extension(
            command.by, clock(), command.approve, command.until, command.reason
        ),
    )


def resolve(command: c.ResolveCase, *, uow: UnitOfWork, clock: Clock) -> None:
    """办结; the cases merged into this one (并案) are resolved with it."""
    if not command.result.strip():
        raise InvalidActionError("a resolution needs the result in words")

    def act(case: Case) -> None:
        now = clock()
        case.resolve(command.by, now, command.result, command.without_reports_reason)
        for merged in uow.cases.merged_with(case.ticket_id):
            merging.resolve_with(case, merged, command.by, now)

    apply_to_case(command, uow, act)


def acknowledge_as_co_handler(command: c.AcknowledgeAsCoHandler, *, uow: UnitOfWork, clock: Clock) -> None:
    apply_to_case(
        command, uow, lambda case: case.acknowledge_as_co_handler(command.unit, command.by, clock())
    )


def report_to_lead(command: c.ReportToLead, *, uow: UnitOfWork, clock: Clock) -> None:
    if not command.report.strip():
        raise InvalidActionError("a report to the lead unit needs its content")
    apply_to_case(
        command, uow, lambda case: case.report_to_lead(command.unit, command.by, clock(), command.report)
    )


def _decision(case: Case, assignment: Assignment, router: Router) -> Decision:
    """The decision a redispatch amounts to: the deadlines follow the new unit's class (working hours)."""
    return Decision(
        case.urgency, case.category, assignment=assignment, unit_class=router.unit_class(assignment.unit)
    )


def _assignment(router: Router, unit: str, post: str | None, at: datetime, why: str) -> Assignment:
    try:
        return router.assignment_for(unit, post, at, why)
    except KeyError as error:
        raise InvalidActionError(str(error.args[0])) from None
