"""A case's timeline: its audit trail (who did what, when, from which state to which, and why), oldest
first."""

from __future__ import annotations

from sqlalchemy import Engine, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.reads import views as v
from dispatcher.reads.rows import K


def timeline(engine: Engine, ticket_id: str) -> list[v.AuditView] | None:
    """The audit trail of a case, oldest first; None if there is no such case."""
    exists = select(K.ticket_id).where(K.ticket_id == ticket_id)
    entries = select(t.audit).where(t.audit.c.ticket_id == ticket_id).order_by(t.audit.c.id)
    with reading(engine) as connection:
        if connection.execute(exists).first() is None:
            return None
        rows = connection.execute(entries).mappings().all()
    return [
        v.AuditView(
            at=row["at"],
            actor=row["actor"],
            action=row["action"],
            from_state=row["from_state"],
            state=row["state"],
            reason=row["reason"],
        )
        for row in rows
    ]
