"""The outbox relay: publishes committed outbox rows to Kafka in order, then marks them sent.

At least once: a crash after publishing and before marking re-publishes those rows on restart, with
the same `ce_id`, so consumers can drop the repeat. Nothing committed is ever skipped.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence
from typing import Any

from kafka import KafkaProducer
from sqlalchemy import Connection, Engine, RowMapping, bindparam, select, update

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading, with_lists
from dispatcher.adapters.sql import decode_headers
from sla.calendar import Clock

log = logging.getLogger(__name__)
LINGER_SECONDS = 0.02
MARK_SENT = with_lists(
    lambda among: update(t.outbox).where(among(t.outbox.c.id, "ids")).values(sent_at=bindparam("sent_at"))
)


def make_producer(bootstrap: str) -> Any:
    """A producer that keeps per-key order and does not lose acknowledged records."""
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        batch_size=256 * 1024,
        retries=10,
        client_id="jiesu-relay",
    )


class OutboxRelay:
    def __init__(self, engine: Engine, producer: Any, clock: Clock, batch_size: int, poll_seconds: float):
        self._engine = engine
        self._producer = producer
        self._clock = clock
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._skip_locked = engine.dialect.name == "postgresql"

    def wake(self) -> None:
        """Called after a commit that wrote to the outbox: relay now rather than at the next poll."""
        self._wake.set()

    def relay_once(self) -> int:
        """Publish one batch of unsent rows in id order; return how many were published."""
        query = select(t.outbox).where(t.outbox.c.sent_at.is_(None)).order_by(t.outbox.c.id)
        query = query.limit(self._batch_size)
        if self._skip_locked:  # PostgreSQL: relays in other processes take other rows meanwhile
            with self._engine.begin() as connection:
                rows = connection.execute(query.with_for_update(skip_locked=True)).mappings().all()
                if rows:
                    self._publish(rows)
                    self._mark_sent(connection, rows)
            return len(rows)
        # SQLite has one write lock for the whole database: taken to mark the rows sent, not while the
        # broker acknowledges them (the agents would wait meanwhile). So two relays on one SQLite file may
        # both publish a row (at least once still holds): run one.
        with reading(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        if rows:
            self._publish(rows)
            with self._engine.begin() as connection:
                self._mark_sent(connection, rows)
        return len(rows)

    def _publish(self, rows: Sequence[RowMapping]) -> None:
        """Send the rows and wait until the broker has them all; raises if it refused one (the rows then
        stay unsent and are published again)."""
        futures = [
            self._producer.send(
                row["topic"], key=row["key"], value=row["value"], headers=decode_headers(row["headers"])
            )
            for row in rows
        ]
        self._producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)

    def _mark_sent(self, connection: Connection, rows: Sequence[RowMapping]) -> None:
        ids = [row["id"] for row in rows]
        connection.execute(MARK_SENT.on(connection), {"ids": ids, "sent_at": self._clock()})

    def run(self, stop: threading.Event) -> None:
        """Relay until `stop` is set; errors are logged and retried after a pause."""
        while not stop.is_set():
            try:
                published = self.relay_once()
            except Exception:
                log.exception("outbox relay failed; retrying")
                stop.wait(1.0)
                continue
            if published < self._batch_size:
                self._wake.wait(self._poll_seconds)
                self._wake.clear()
                # Let a burst of commits gather: one relay transaction per burst, not per commit.
                stop.wait(LINGER_SECONDS)
        self._producer.flush(timeout=10)


def relay_forever(engine: Engine, producer: Any, clock: Clock, batch_size: int, poll_seconds: float) -> None:
    """`jiesu relay`: only the relay, in the foreground, until Ctrl-C or SIGTERM (for workers started
    with `jiesu run --no-relay`). Without commits in this process to wake it, it looks for new rows
    every `poll_seconds`, and at once after a full batch."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    log.info("jiesu relay running: publishing the outbox every %ss", poll_seconds)
    OutboxRelay(engine, producer, clock, batch_size, poll_seconds).run(stop)
