"""The hotspot detector's storage: its tallies (JSON, one row per key), the hotspots, their events in the
outbox and the inbox of the events counted, all in the caller's one transaction (`hotspot_transaction`).

On PostgreSQL the tallies read are locked (`FOR UPDATE`, in key order) until the commit; every batch reads
the city's tally, so counters in several workers take turns. SQLite takes its write lock at `BEGIN`."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import insert_on_conflict, with_lists
from dispatcher.adapters.hotspot_rows import hotspot_of
from dispatcher.adapters.sql import SOURCE, encode_headers
from dispatcher.contract import cloudevents
from dispatcher.contract.hotspots import hotspot_to_wire
from dispatcher.domain.commands import InboundId
from dispatcher.domain.hotspot_counts import Tally
from dispatcher.domain.hotspots import Hotspot, HotspotChange, HotspotDetected

Clock = Callable[[], datetime]
Place = tuple[str | None, str | None, str | None, str | None]  # district, street, community, category
H = t.hotspots.c
TALLIES_AMONG = with_lists(
    lambda among: (
        select(t.hotspot_tallies.c.key, t.hotspot_tallies.c.state)
        .where(among(t.hotspot_tallies.c.key, "keys"))
        .order_by(t.hotspot_tallies.c.key)
    )
)
SAVE_TALLIES = insert_on_conflict(
    t.hotspot_tallies,
    'ON CONFLICT ("key") DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at',
)
COUNTED_AMONG = with_lists(
    lambda among: select(t.inbox.c.source, t.inbox.c.event_id).where(
        among(t.inbox.c.source, "sources"), among(t.inbox.c.event_id, "ids")
    )
)


@contextmanager
def hotspot_transaction(engine: Engine, clock: Clock, topic: str) -> Iterator[SqlHotspotStore]:
    """A store whose reads and `save` are one transaction, committed when the block ends."""
    with engine.begin() as connection:
        yield SqlHotspotStore(connection, clock, topic)


class SqlHotspotStore:
    def __init__(self, connection: Connection, clock: Clock, topic: str) -> None:
        self._connection = connection
        self._clock = clock
        self._topic = topic
        self._postgres = connection.dialect.name == "postgresql"

    def places(self, tickets: Sequence[str]) -> dict[str, Place]:
        """The stored cases' district, street and community codes and category, by ticket."""
        return places_of(self._connection, tickets)

    def unseen(self, inbound: Sequence[InboundId]) -> set[InboundId]:
        if not inbound:
            return set()
        rows = self._connection.execute(
            COUNTED_AMONG.on(self._connection),
            {"sources": sorted({i.source for i in inbound}), "ids": [i.id for i in inbound]},
        )
        done = {InboundId(source, event_id) for source, event_id in rows}
        return {i for i in inbound if i not in done}

    def tallies(self, keys: Collection[str]) -> dict[str, Tally]:
        statement = TALLIES_AMONG.on(self._connection)
        if self._postgres:
            statement = statement.with_for_update()
        rows = self._connection.execute(statement, {"keys": list(keys)})
        return {key: Tally.from_dict(state) for key, state in rows}

    def open_hotspots(self) -> list[Hotspot]:
        rows = self._connection.execute(select(t.hotspots).where(H.status == "open")).mappings()
        return [hotspot_of(row) for row in rows]

    def save(
        self, tallies: dict[str, Tally], changes: Sequence[HotspotChange], counted: Sequence[InboundId]
    ) -> None:
        now = self._clock()
        connection = self._connection
        if tallies:
            rows = [{"key": k, "state": v.to_dict(), "updated_at": now} for k, v in sorted(tallies.items())]
            connection.execute(SAVE_TALLIES, rows)
        for change in changes:
            hotspot = change.hotspot
            if isinstance(change, HotspotDetected):
                connection.execute(insert(t.hotspots).values(**row_of(hotspot)))
            else:
                connection.execute(
                    update(t.hotspots)
                    .where(H.hotspot_id == hotspot.hotspot_id)
                    .values(
                        status="closed",
                        closed_at=hotspot.closed_at,
                        window_end=hotspot.closed_at,
                        observed=hotspot.observed,
                        expected=hotspot.expected,
                    )
                )
            event_type, data = hotspot_to_wire(change)
            at = hotspot.closed_at or hotspot.detected_at
            record = cloudevents.encode(
                self._topic, event_type, data, key=hotspot.hotspot_id, event_id=str(uuid.uuid4()),
                source=SOURCE, time=at,
            )  # fmt: skip
            connection.execute(
                insert(t.outbox).values(
                    topic=record.topic,
                    key=record.key,
                    value=record.value,
                    headers=encode_headers(record.headers),
                    created_at=now,
                )
            )
        if counted:
            connection.execute(
                insert(t.inbox),
                [{"source": i.source, "event_id": i.id, "processed_at": now} for i in counted],
            )


def row_of(hotspot: Hotspot) -> dict[str, Any]:
    return {
        "hotspot_id": hotspot.hotspot_id,
        "district": hotspot.district,
        "street": hotspot.street,
        "community": hotspot.community,
        "category": hotspot.category,
        "span": hotspot.window,
        "window_start": hotspot.window_start,
        "window_end": hotspot.window_end,
        "observed": hotspot.observed,
        "expected": hotspot.expected,
        "score": hotspot.score,
        "first_ticket_id": hotspot.first_ticket_id,
        "ticket_ids": list(hotspot.ticket_ids),
        "detected_at": hotspot.detected_at,
        "closed_at": hotspot.closed_at,
        "status": "open" if hotspot.open else "closed",
    }


PLACES_OF = with_lists(
    lambda among: select(
        t.cases.c.ticket_id, t.cases.c.district, t.cases.c.street, t.cases.c.community, t.cases.c.category
    ).where(among(t.cases.c.ticket_id, "tickets"))
)


def places_of(connection: Connection, tickets: Sequence[str]) -> dict[str, Place]:
    """The stored cases' district, street and community codes and category, by ticket (a dispatch's event
    carries the place as the caller gave it, names or codes, and no community; a redispatch no category)."""
    if not tickets:
        return {}
    rows = connection.execute(PLACES_OF.on(connection), {"tickets": list(tickets)})
    return {
        ticket: (district, street, community, category)
        for ticket, district, street, community, category in rows
    }
