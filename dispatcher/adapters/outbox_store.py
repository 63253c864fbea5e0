"""The outbox as the relay works it: unsent rows taken in id order, handed to a publisher, then marked sent.

A row is marked sent only after the publisher returned: if it raises (the broker refused a record, or did
not answer in time), the rows stay unsent and are handed out again. On PostgreSQL the rows are locked while
they are published and others are skipped (`SKIP LOCKED`), so relays in several processes take different
rows; on SQLite they are read without a lock and marked afterwards (see `OutboxStore.relay_batch`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, RowMapping, bindparam, select, update

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading, with_lists
from dispatcher.adapters.sql import decode_headers
from sla.calendar import Clock

MARK_SENT = with_lists(
    lambda among: update(t.outbox).where(among(t.outbox.c.id, "ids")).values(sent_at=bindparam("sent_at"))
)


@dataclass(frozen=True)
class OutboxRecord:
    """An outbox row as a Kafka record: its topic, key, value and headers."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]


Publish = Callable[[Sequence[OutboxRecord]], None]
"""Publishes the records in order and returns once the broker has them all; raises if it refused one."""


class OutboxStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._skip_locked = engine.dialect.name == "postgresql"

    def relay_batch(self, limit: int, publish: Publish) -> int:
        """Hand up to `limit` unsent rows, in id order, to `publish`, then mark them sent; returns how many
        were published."""
        query = select(t.outbox).where(t.outbox.c.sent_at.is_(None)).order_by(t.outbox.c.id).limit(limit)
        if self._skip_locked:  # PostgreSQL: relays in other processes take other rows meanwhile
            with self._engine.begin() as connection:
                rows = connection.execute(query.with_for_update(skip_locked=True)).mappings().all()
                if rows:
                    publish(_records(rows))
                    self._mark_sent(connection, rows)
            return len(rows)
        # SQLite has one write lock for the whole database: taken to mark the rows sent, not while the
        # broker acknowledges them (the agents would wait meanwhile). So two relays on one SQLite file may
        # both publish a row (at least once still holds): run one.
        with reading(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        if rows:
            publish(_records(rows))
            with self._engine.begin() as connection:
                self._mark_sent(connection, rows)
        return len(rows)

    def _mark_sent(self, connection: Connection, rows: Sequence[RowMapping]) -> None:
        ids = [row["id"] for row in rows]
        connection.execute(MARK_SENT.on(connection), {"ids": ids, "sent_at": self._clock()})


def _records(rows: Sequence[RowMapping]) -> list[OutboxRecord]:
    return [
        OutboxRecord(row["topic"], row["key"], row["value"], decode_headers(row["headers"])) for row in rows
    ]
