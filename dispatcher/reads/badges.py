"""What a worker should see of a case at a glance, beside its deadline: an emergency or urgent tier, a
requester in a group that needs care (elderly, disabled...), repeat requests linked to it, a reopened case
(重办, round 2 or later), joint handling (its co-handling units, and whether the viewer's unit is one);
and the district, street and community the rules placed it in (codes, named by `names`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, RowMapping, Select, func, literal, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
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


def repeats_of(ticket: ColumnElement[Any]) -> Select[Any]:
    """How many repeat requests are linked to `ticket` (a ticket, or the column of one to correlate)."""
    return select(func.count()).select_from(t.cases).where(r.K.linked_to == ticket)


def of_line(row: RowMapping, repeats: int) -> Badges:
    """The badges of a case from its row of `rows.LINE`, and its repeats (`repeats_of`)."""
    return Badges(
        Urgency(row["urgency"]),
        tuple(row["requester"].get("groups", ())),
        int(repeats),
        row["round"],
        tuple(row["assigned_co_handlers"] or ()),
        row["district"],
        row["street"],
        row["community"],
    )


def of_case(engine: Engine, ticket_id: str) -> Badges | None:
    """The badges of one case; None if there is no such case."""
    with reading(engine) as connection:
        found = r.lines_of(connection, [ticket_id])
        if not found:
            return None
        return of_line(found[0], connection.execute(repeats_of(literal(ticket_id))).scalar_one())
