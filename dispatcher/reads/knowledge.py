"""The knowledge base (知识库) as its readers see it: the search operators and systems make with a question
(`search`: only entries valid today unless asked otherwise), one entry, the admins' list, the categories;
and the consultations it answered at intake (`direct_closes`: 直接办结率).

The entries are few (hundreds to a few thousand) and are ranked in Python (`dispatcher.domain.knowledge`):
one query reads the candidates of the category, the ranking takes milliseconds.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, RowMapping, func, select
from sqlalchemy import case as when

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.domain.knowledge import KnowledgeEntry
from dispatcher.domain.knowledge import search as ranked
from dispatcher.reads import views as v
from sla.calendar import BEIJING

K = t.knowledge
LIMIT = 10
DAYS = 30


def today(now: datetime) -> date:
    """The day in Beijing: validity is by Beijing's calendar."""
    return now.astimezone(BEIJING).date()


def entry_of(row: RowMapping) -> KnowledgeEntry:
    return KnowledgeEntry(
        row["id"],
        row["question"],
        row["answer"],
        row["category"],
        tuple(row["keywords"]),
        row["source"],
        row["valid_from"],
        row["valid_to"],
        row["retired_at"] is not None,
    )


def view_of(row: RowMapping, day: date) -> v.KnowledgeView:
    return v.KnowledgeView(**_fields(row, day))


def _fields(row: RowMapping, day: date) -> dict[str, Any]:
    entry = entry_of(row)
    return {
        "id": entry.id,
        "question": entry.question,
        "answer": entry.answer,
        "category": entry.category,
        "keywords": list(entry.keywords),
        "source": entry.source,
        "valid_from": entry.valid_from,
        "valid_to": entry.valid_to,
        "retired": entry.retired,
        "valid_today": entry.valid_on(day),
        "updated_at": row["updated_at"],
        "updated_by": row["updated_by"],
        "version": row["version"],
    }


def _rows(engine: Engine, category: str | None) -> list[RowMapping]:
    query = select(K).order_by(K.c.category, K.c.id)
    if category:
        query = query.where(K.c.category.startswith(category, autoescape=True))
    with reading(engine) as connection:
        return list(connection.execute(query).mappings().all())


def search(
    engine: Engine,
    q: str,
    *,
    now: datetime,
    category: str | None = None,
    every: bool = False,
    limit: int = LIMIT,
) -> list[v.KnowledgeMatch]:
    """The entries that answer the question `q`, best first: those offered today (every entry, retired
    and out of date ones too, with `every`), of `category` (a code or its prefix) if given."""
    day = today(now)
    rows = {row["id"]: row for row in _rows(engine, category)}
    matches = ranked(q, [entry_of(row) for row in rows.values()], on=None if every else day, limit=limit)
    return [
        v.KnowledgeMatch(
            **_fields(rows[match.entry.id], day), score=match.score, matched_keywords=list(match.keywords)
        )
        for match in matches
    ]


def listing(
    engine: Engine, *, now: datetime, category: str | None = None, retired: bool = True
) -> list[v.KnowledgeView]:
    """Every entry (of `category`), by category and id; without the retired ones unless `retired`."""
    day = today(now)
    return [view_of(row, day) for row in _rows(engine, category) if retired or row["retired_at"] is None]


def entry(engine: Engine, entry_id: str, *, now: datetime) -> v.KnowledgeView | None:
    with reading(engine) as connection:
        row = connection.execute(select(K).where(K.c.id == entry_id)).mappings().first()
    return view_of(row, today(now)) if row is not None else None


def offered(engine: Engine, entry_id: str, *, now: datetime) -> KnowledgeEntry | None:
    """The entry if it is offered today (not retired, within its validity), else None."""
    with reading(engine) as connection:
        row = connection.execute(select(K).where(K.c.id == entry_id)).mappings().first()
    if row is None:
        return None
    found = entry_of(row)
    return found if found.valid_on(today(now)) else None


def categories(engine: Engine) -> list[str]:
    """The categories entries are filed under, in order."""
    with reading(engine) as connection:
        return list(connection.execute(select(K.c.category).distinct().order_by(K.c.category)).scalars())


def direct_closes(engine: Engine, *, now: datetime, district: str | None, days: int = DAYS) -> v.DirectCloses:
    """直接办结率 over the last `days` Beijing days (today included), in `district` (all when None): of the
    requests received, how many were consultations answered at intake from the knowledge base. One pass
    over the cases received since then (the index by reception)."""
    start = (now - timedelta(days=days - 1)).astimezone(BEIJING)
    start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    c = t.cases.c
    query = select(
        func.count(), func.count(when((c.kind == "consultation", 1))), func.count(c.knowledge_entry)
    ).where(c.received_at >= start)
    if district:
        query = query.where(c.district == district)
    with reading(engine) as connection:
        received, consultations, direct = connection.execute(query).one()
    return direct_figures(start, received, consultations, direct)


def direct_figures(start: datetime, received: int, consultations: int, direct: int) -> v.DirectCloses:
    """直接办结率 from the counts of the cases received since `start` (`direct_closes`, or the dashboard's
    one pass over them with the daily volume)."""
    return v.DirectCloses(
        since=start,
        received=received,
        consultations=consultations,
        direct=direct,
        rate=round(direct / received, 4) if received else None,
        consultation_rate=round(direct / consultations, 4) if consultations else None,
    )
