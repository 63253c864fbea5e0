"""What the system published, read back from its outbox: the records written after a given one, in order, as
the relay sends them (topic, key, value, headers). The demo's history (`jiesu.cli.demo_history`) reacts to
them the way units and the callback center react to `jiesu.cases`, without a round trip through the broker
for each one; the relay still publishes every row."""

from __future__ import annotations

from sqlalchemy import Engine, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.adapters.sql import decode_headers
from dispatcher.contract.cloudevents import KafkaRecord


def records_after(engine: Engine, after: int, limit: int = 1000) -> list[KafkaRecord]:
    """The outbox's records with an id above `after`, oldest first, at most `limit`; each record's `offset`
    is its row's id (pass the last one as `after` to read on)."""
    o = t.outbox.c
    query = select(o.id, o.topic, o.key, o.value, o.headers).where(o.id > after).order_by(o.id).limit(limit)
    with reading(engine) as connection:
        return [
            KafkaRecord(row.topic, row.key, row.value, decode_headers(row.headers), offset=row.id)
            for row in connection.execute(query)
        ]


def last_record(engine: Engine) -> int:
    """The id of the outbox's last record (0 when it is empty)."""
    with reading(engine) as connection:
        return int(
            connection.execute(select(t.outbox.c.id).order_by(t.outbox.c.id.desc()).limit(1)).scalar() or 0
        )
