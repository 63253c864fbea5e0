"""Appeals against callbacks: one appeal, the unit of a callback, and the list (newest first, a page at a
time; a worker's unit's only)."""

from __future__ import annotations

from sqlalchemy import Engine, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.reads import views as v
from dispatcher.reads.paging import Keyset, Page, after, number

APPEALS = Keyset("appeals", (number,))
PAGE = 500
P = t.appeals.c


def appeal(engine: Engine, appeal_id: int) -> v.AppealView:
    with reading(engine) as connection:
        row = connection.execute(select(t.appeals).where(P.id == appeal_id)).mappings().one()
    return v.AppealView(**row)


def unit_of_callback(engine: Engine, callback_id: int) -> str:
    """The unit a callback assessed; "" if there is no such callback."""
    with reading(engine) as connection:
        unit = connection.execute(select(t.callbacks.c.unit).where(t.callbacks.c.id == callback_id)).scalar()
    return unit or ""


def appeals(
    engine: Engine,
    *,
    status: str | None = None,
    unit: str | None = None,
    limit: int = PAGE,
    cursor: str | None = None,
) -> Page[v.AppealView]:
    """Appeals in `status` against `unit`'s callbacks (any if None), newest first."""
    key = APPEALS.decode(cursor)
    query = select(t.appeals).order_by(P.id.desc()).limit(limit + 1)
    if status is not None:
        query = query.where(P.status == status)
    if unit is not None:
        query = query.where(P.unit == unit)
    if key is not None:
        query = query.where(after((P.id,), key, descending=True))
    with reading(engine) as connection:
        rows = connection.execute(query).mappings().all()
    found = APPEALS.page(rows, limit, lambda row: (row["id"],))
    return found.map(lambda row: v.AppealView(**row))
