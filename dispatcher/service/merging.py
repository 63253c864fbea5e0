"""Handlers of 并案 (merge): a supervisor merges cases into a main case, or undoes a merge; the rules' own
merge of a burst is in `handlers.dispatch_case`, and a main case's resolution and termination carry its
merged cases along in `lifecycle.resolve` and `closed_loop.terminate`."""

from __future__ import annotations

from dispatcher.domain import commands as c
from dispatcher.domain import merging
from dispatcher.domain.case import Case, CaseState
from dispatcher.service.lifecycle import CaseNotFoundError, InvalidActionError, apply_to_case
from dispatcher.service.unit_of_work import UnitOfWork
from sla.calendar import Clock

MAX_TICKETS = 200  # merged in one command: a burst's calls, not a bulk operation


def merge_cases(command: c.MergeCases, *, uow: UnitOfWork, clock: Clock) -> None:
    """Merge every ticket named into the main case, in one transaction: a ticket refused (not found, not
    open, the main case of others) refuses the whole command. A ticket already merged into this main case
    is left as it is, so that sending the same merge again changes nothing."""
    tickets = [ticket.strip() for ticket in dict.fromkeys(command.tickets) if ticket.strip()]
    if not tickets:
        raise InvalidActionError("name the tickets to merge into the main case")
    if len(tickets) > MAX_TICKETS:
        raise InvalidActionError(f"{len(tickets)} tickets: at most {MAX_TICKETS} are merged at once")
    if not command.reason.strip():
        raise InvalidActionError("a merge needs a reason")

    def act(main: Case) -> None:
        now = clock()
        uow.cases.load(tickets)
        for ticket in tickets:
            case = uow.cases.get(ticket)
            if case is None:
                raise CaseNotFoundError(f"no case with ticket id {ticket}")
            if case.state is CaseState.MERGED and case.merged and case.merged.into == main.ticket_id:
                continue  # already merged into it
            has_merged = bool(uow.cases.merged_with(ticket))
            merging.merge(main, case, command.by, now, command.reason, has_merged=has_merged)

    apply_to_case(command, uow, act)


def unmerge_case(command: c.UnmergeCase, *, uow: UnitOfWork, clock: Clock) -> None:
    """Undo a merge while the main case is not yet resolved: the case is handled on its own again."""
    if not command.reason.strip():
        raise InvalidActionError("un-merging needs a reason")

    def act(case: Case) -> None:
        main = uow.cases.get(case.merged.into) if case.merged else None
        merging.unmerge(case, main, command.by, clock(), command.reason)

    apply_to_case(command, uow, act)
