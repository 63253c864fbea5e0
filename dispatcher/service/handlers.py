"""Command handlers: plain functions, the message first, collaborators as keyword parameters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dispatcher.domain.case import Case, CaseError
from dispatcher.domain.commands import DeadLetter, DispatchCase
from dispatcher.service.unit_of_work import UnitOfWork
from rules.routing import Router

Clock = Callable[[], datetime]


class DuplicateTicketError(CaseError):
    """A new event carries a ticket id that already has a case: reported, never merged."""


def dispatch_case(command: DispatchCase, *, uow: UnitOfWork, router: Router, clock: Clock) -> None:
    complaint = command.complaint
    with uow:
        if uow.inbox.seen(command.inbound):
            return
        if uow.cases.exists(complaint.ticket_id):
            raise DuplicateTicketError(
                f"ticket {complaint.ticket_id} already has a case; event {command.inbound.id} not applied"
            )
        now = clock()
        uow.cases.add(Case.open(complaint, router.route(complaint, now), at=now))
        uow.inbox.record(command.inbound)
        uow.commit()


def dead_letter(command: DeadLetter, *, uow: UnitOfWork) -> None:
    with uow:
        if uow.inbox.seen(command.inbound):
            return
        uow.outbox.dead_letter(command)
        uow.inbox.record(command.inbound)
        uow.commit()
