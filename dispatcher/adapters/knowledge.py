"""The knowledge base (知识库) in the database: entries added, edited and retired by admins, and the starter
set loaded once into an empty table. Every method is one transaction of its own.

Entries are reference data, like people: changing one publishes no event. Who changed it last and when is
kept on the row (`updated_by`, `updated_at`, `version`); a retired entry stays, since the cases closed with
it name it (`cases.knowledge_entry`), but is never offered again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from dispatcher.adapters import tables as t
from dispatcher.domain.knowledge import KnowledgeEntry, KnowledgeError, check_entry
from sla.calendar import Clock

K = t.knowledge


class KnowledgeNotFoundError(KnowledgeError):
    """No entry has this id (HTTP 404)."""


class KnowledgeExistsError(KnowledgeError):
    """An entry already has this id (HTTP 409)."""


def new_entry_id() -> str:
    return f"kb-{uuid.uuid4().hex[:10]}"


def entry_values(entry: KnowledgeEntry) -> dict[str, Any]:
    """The columns an edit may change."""
    return {
        "question": entry.question,
        "answer": entry.answer,
        "category": entry.category,
        "keywords": list(entry.keywords),
        "source": entry.source,
        "valid_from": entry.valid_from,
        "valid_to": entry.valid_to,
    }


class KnowledgeStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine, self._clock = engine, clock

    def add(self, entry: KnowledgeEntry, by: str) -> KnowledgeEntry:
        """Store a new entry (checked: `KnowledgeError`); `KnowledgeExistsError` if its id is taken."""
        entry = check_entry(entry)
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(K), [self._row(entry, by)])
        except IntegrityError:
            raise KnowledgeExistsError(f"a knowledge base entry with id {entry.id} exists") from None
        return entry

    def update(self, entry: KnowledgeEntry, by: str) -> KnowledgeEntry:
        """Replace the texts, category, keywords, source and validity of the entry `entry.id`; a retired
        entry may be edited, and stays retired."""
        entry = check_entry(entry)
        with self._engine.begin() as connection:
            changed = connection.execute(
                update(K)
                .where(K.c.id == entry.id)
                .values(
                    **entry_values(entry), updated_at=self._clock(), updated_by=by, version=K.c.version + 1
                )
            )
        if changed.rowcount != 1:
            raise KnowledgeNotFoundError(f"no knowledge base entry with id {entry.id}")
        return entry

    def retire(self, entry_id: str, by: str) -> None:
        """The entry is no longer offered (retiring it again changes nothing)."""
        now = self._clock()
        with self._engine.begin() as connection:
            found = connection.execute(select(K.c.retired_at).where(K.c.id == entry_id)).first()
            if found is None:
                raise KnowledgeNotFoundError(f"no knowledge base entry with id {entry_id}")
            if found.retired_at is None:
                connection.execute(
                    update(K)
                    .where(K.c.id == entry_id)
                    .values(
                        retired_at=now, retired_by=by, updated_at=now, updated_by=by, version=K.c.version + 1
                    )
                )

    def count(self) -> int:
        with self._engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(K)).scalar_one())

    def load_if_empty(self, entries: Sequence[KnowledgeEntry], by: str) -> int:
        """Store `entries` if the knowledge base has none yet, all in one transaction; returns how many
        were stored (0: it had entries, and nothing is changed, so loading twice loads once)."""
        rows = [self._row(check_entry(entry), by) for entry in entries]
        try:
            with self._engine.begin() as connection:
                if connection.execute(select(K.c.id).limit(1)).first() is not None:
                    return 0
                if rows:
                    connection.execute(insert(K), rows)
        except IntegrityError:  # another process loaded it meanwhile
            return 0
        return len(rows)

    def _row(self, entry: KnowledgeEntry, by: str) -> dict[str, Any]:
        now = self._clock()
        return {
            "id": entry.id,
            **entry_values(entry),
            "retired_at": now if entry.retired else None,
            "retired_by": by if entry.retired else None,
            "created_at": now,
            "created_by": by,
            "updated_at": now,
            "updated_by": by,
            "version": 1,
        }
