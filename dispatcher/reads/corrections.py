"""The center's corrections as labelled examples: each time a supervisor dispatched a queued case (triage or
manual dispatch) or arbitration sent a returned case on, the case's text, its category, the unit it went to
and who decided. They are read from the rows those actions already write (the audit entry `redispatch` and
the assignment made at that moment), so no correction is ever missing from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, func, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from rules.corpus import Example


@dataclass(frozen=True)
class Correction:
    ticket_id: str
    text: str
    category: str | None  # None where the supervisor gave none: counted, not trained on
    unit: str
    by: str
    at: datetime
    after: str  # the state the case left: queued (manual dispatch) or returned (arbitration)

    def example(self) -> Example | None:
        if self.category is None or len(self.category) != 6:
            return None
        return Example(self.text, self.category, f"correction {self.ticket_id} by {self.by}")


def corrections(engine: Engine, since: datetime | None = None) -> list[Correction]:
    """Every correction (since `since`), oldest first."""
    a, c, audit = t.assignments, t.cases, t.audit
    earlier = t.assignments.alias("earlier")
    made_then = (  # the assignment the redispatch made: the newest of the case's at that moment
        select(func.max(earlier.c.id))
        .where(earlier.c.ticket_id == audit.c.ticket_id, earlier.c.assigned_at <= audit.c.at)
        .scalar_subquery()
    )
    query = (
        select(audit.c.ticket_id, c.c.description, c.c.category, a.c.unit, audit.c.actor, audit.c.at)
        .add_columns(audit.c.from_state)
        .join(c, c.c.ticket_id == audit.c.ticket_id)
        .join(a, and_(a.c.ticket_id == audit.c.ticket_id, a.c.id == made_then))
        .where(audit.c.action == "redispatch")
        .order_by(audit.c.at, audit.c.id)
    )
    if since is not None:
        query = query.where(audit.c.at > since)
    with reading(engine) as connection:
        return [Correction(*row) for row in connection.execute(query)]
