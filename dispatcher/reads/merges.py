"""并案: the cases merged into a main case, for its view and its page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, bindparam, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.reads import views as v

K = t.cases.c
MERGED_INTO = (
    select(K.ticket_id, K.state, K.received_at, K.merged)
    .where(K.merged_into == bindparam("main"))
    .order_by(K.received_at, K.ticket_id)
)


def merged_cases(engine: Engine, main: str) -> list[v.MergedView]:
    """The cases merged into `main`, still following it or resolved (or terminated) with it, oldest first."""
    with reading(engine) as connection:
        rows = connection.execute(MERGED_INTO, {"main": main}).all()
    return [
        v.MergedView(
            ticket_id=row.ticket_id,
            state=row.state,
            received_at=row.received_at,
            merged_at=datetime.fromisoformat(row.merged["at"]),
            merged_by=row.merged["by"],
            auto=bool(row.merged.get("auto")),
        )
        for row in rows
    ]
