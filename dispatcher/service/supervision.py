"""Handlers of supervision orders (督办单): issue one on a case, answer it; their timers fire in `sla`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dispatcher.domain import commands as c
from dispatcher.domain.case import Case
from dispatcher.domain.supervision import Addressee, SupervisionOrder
from dispatcher.service.lifecycle import CaseNotFoundError, InvalidActionError, apply_to_case
from dispatcher.service.unit_of_work import UnitOfWork
from sla.calendar import Clock

OrderDeadline = Callable[[str | None, str, datetime], tuple[datetime, str]]
"""(the duration asked, in words, or None for the default; the unit; from when) -> (due at, how computed);
raises ValueError for a duration it cannot read."""
HeadPost = Callable[[str], str | None]
"""The post at the top of a unit's ladder (its head), if the catalog knows it."""


def issue_order(
    command: c.IssueSupervisionOrder,
    *,
    uow: UnitOfWork,
    clock: Clock,
    deadline: OrderDeadline,
    head_post: HeadPost,
    new_id: Callable[[], str],
) -> str:
    """督办: a supervisor orders a reply from the case's unit (or its head); returns the order's id. Sent
    again with the same inbound event, nothing more happens (an order issued from Kafka, or a retried
    request that gives its `order_id`, is issued once) and the command's `order_id` is returned."""
    try:
        addressee = Addressee(command.addressee)
    except ValueError:
        raise InvalidActionError(f"addressee {command.addressee!r}: expected unit or head") from None
    issued: list[str] = []

    def act(case: Case) -> None:
        now = clock()
        unit = command.unit or (case.assignment.unit if case.assignment else "")
        try:
            due = deadline(command.within, unit, now)
        except ValueError as error:
            raise InvalidActionError(f"--within {command.within!r}: {error}") from None
        order_id = command.order_id or new_id()
        order = SupervisionOrder.issue(
            case, order_id, command.unit, addressee, head_post(unit), command.ask, due, command.by, now
        )
        uow.orders.add(order)
        issued.append(order.order_id)

    apply_to_case(command, uow, act)
    return issued[0] if issued else (command.order_id or "")


def answer_order(command: c.AnswerSupervisionOrder, *, uow: UnitOfWork, clock: Clock) -> None:
    """The addressed unit answers the order (once); a repeated inbound event does nothing."""

    def act(case: Case) -> None:
        order = uow.orders.get(command.order_id)
        if order is None or order.ticket_id != case.ticket_id:
            raise CaseNotFoundError(f"no supervision order {command.order_id} on case {case.ticket_id}")
        order.answer_with(case, command.reply, command.by, command.unit, command.post, clock())

    apply_to_case(command, uow, act)
