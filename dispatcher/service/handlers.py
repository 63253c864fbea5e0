"""Command handlers: plain functions, the message first, collaborators as keyword parameters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from dispatcher.domain import merging
from dispatcher.domain.case import SYSTEM, Case, CaseError, Deadlines
from dispatcher.domain.commands import DeadLetter, DispatchCase
from dispatcher.service import hotspot_merging
from dispatcher.service.unit_of_work import UnitOfWork
from rules.complaint import Complaint
from rules.decision import Decision
from rules.routing import Router
from sla.calendar import Clock


class DuplicateTicketError(CaseError):
    """A new event carries a ticket id that already has a case: reported, never merged."""


DeadlinesFor = Callable[[Complaint, Decision, datetime], Deadlines | None]


def no_deadlines(complaint: Complaint, decision: Decision, at: datetime) -> Deadlines | None:
    return None


def dispatch_case(
    command: DispatchCase,
    *,
    uow: UnitOfWork,
    router: Router,
    clock: Clock,
    repeat_window: timedelta,
    deadlines_for: DeadlinesFor = no_deadlines,
    direct_callback: bool = True,
    merge_window: timedelta | None = None,
    merge_hotspots: bool = False,
) -> None:
    """Open a case as the rules decide, or link a repeat request to the open case it repeats; a
    consultation answered at intake (`command.direct`) is opened closed, never dispatched, and called back
    if `direct_callback`. The rules still read it, for the category and place it is counted under. With
    `merge_window`, a request about the same category in the same street as an open case received at most
    that long before it is merged into that case (并案, `dispatcher.domain.merging`); with `merge_hotspots`,
    one in the area and category of an open hotspot into the hotspot's main case (`hotspot_merging`)."""
    complaint = command.complaint
    with uow:
        if uow.inbox.seen(command.inbound):
            return
        if uow.cases.exists(complaint.ticket_id):
            raise DuplicateTicketError(
                f"ticket {complaint.ticket_id} already has a case; event {command.inbound.id} not applied"
            )
        now = clock()
        decision = router.route(complaint, now)
        if command.direct is not None:
            uow.cases.add(Case.close_directly(complaint, decision, command.direct, now, direct_callback))
            uow.inbox.record(command.inbound)
            uow.commit()
            return
        original = uow.cases.find_repeat(complaint, decision, now - repeat_window)
        if original is None:
            since = complaint.received_at - merge_window if merge_window else None
            main = uow.cases.find_burst(decision, since) if since else None
            case = Case.open(complaint, decision, at=now, deadlines=deadlines_for(complaint, decision, now))
            if main is not None and merge_window:  # 并案 by the rules: a burst at one place
                why = merging.burst_reason(main, decision.street, decision.category, merge_window)
                merging.merge(main, case, SYSTEM, now, why, auto=True)
            elif merge_hotspots and case.assignment is not None:  # 并案 by an open hotspot
                hotspot_merging.merge_into_open_hotspot(uow.cases, case, now)
            uow.cases.add(case)
        else:
            place = "community" if decision.community else "street"
            why = (
                "names it as related" if complaint.related_ticket_id else f"same phone, {place} and category"
            )
            uow.cases.add(Case.link(complaint, decision, original, why, at=now))
        uow.inbox.record(command.inbound)
        uow.commit()


def dead_letter(command: DeadLetter, *, uow: UnitOfWork) -> None:
    with uow:
        if uow.inbox.seen(command.inbound):
            return
        uow.outbox.dead_letter(command)
        uow.inbox.record(command.inbound)
        uow.commit()
