"""What a worker should see of a case at a glance, beside its deadline: an emergency or urgent tier, a
requester in a group that needs care (elderly, disabled...), repeat requests linked to it, a reopened case
(重办, round 2 or later), joint handling (its co-handling units, and whether the viewer's unit is one);
and the district, street and community the rules placed it in (codes, named by `names`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, select

from dispatcher.adapters.database import reading
from dispatcher.domain.case import Case
from dispatcher.reads import rows as r
from rules.complaint import Urgency

MARKED = (Urgency.EMERGENCY, Urgency.URGENT)


@dataclass(frozen=True)
class Badges:
    urgency: Urgency
    groups: tuple[str, ...]  # the requester's groups (elderly, disabled, ...)
    repeats: int  # repeat requests linked to the case
    round: int  # 1; 2 and more once reopened after a callback
    co_handlers: tuple[str, ...]  # the co-handling units of the current assignment
    district: str | None  # area codes where the rules placed it
    street: str | None
    community: str | None

    @property
    def marked(self) -> bool:
        """Emergency or urgent: worth a badge."""
        return self.urgency in MARKED

    @property
    def reopened(self) -> bool:
        return self.round > 1

    @property
    def co_handled(self) -> bool:
        return bool(self.co_handlers)


def badges(connection: Connection, cases: Sequence[Case]) -> dict[str, Badges]:
    """The badges of these cases, by ticket (their repeats counted in one statement)."""
    tickets = [case.ticket_id for case in cases]
    repeats: dict[str, int] = {}
    if tickets:
        linked = r.K.linked_to
        query = select(linked, func.count()).where(linked.in_(tickets)).group_by(linked)
        repeats = {ticket: int(count) for ticket, count in connection.execute(query).all()}
    return {
        case.ticket_id: Badges(
            case.urgency,
            tuple(case.complaint.requester.groups),
            repeats.get(case.ticket_id, 0),
            case.round,
            case.assignment.co_handlers if case.assignment else (),
            case.district,
            case.street,
            case.community,
        )
        for case in cases
    }


def of_case(engine: Engine, ticket_id: str) -> Badges | None:
    """The badges of one case; None if there is no such case."""
    with reading(engine) as connection:
        found = r.whole(connection, [ticket_id])
        return badges(connection, found)[ticket_id] if found else None
