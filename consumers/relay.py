"""The outbox relay: publishes committed outbox rows to Kafka in order, then marks them sent (the rows are
taken and marked by `dispatcher.adapters.outbox_store`).

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
from sqlalchemy import Engine

from dispatcher.adapters.outbox_store import OutboxRecord, OutboxStore
from sla.calendar import Clock

log = logging.getLogger(__name__)
LINGER_SECONDS = 0.02


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
        self._outbox = OutboxStore(engine, clock)
        self._producer = producer
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._wake = threading.Event()

    def wake(self) -> None:
        """Called after a commit that wrote to the outbox: relay now rather than at the next poll."""
        self._wake.set()

    def relay_once(self) -> int:
        """Publish one batch of unsent rows in id order; return how many were published."""
        return self._outbox.relay_batch(self._batch_size, self._publish)

    def _publish(self, records: Sequence[OutboxRecord]) -> None:
        """Send the records and wait until the broker has them all; raises if it refused one (the rows then
        stay unsent and are published again)."""
        futures = [
            self._producer.send(record.topic, key=record.key, value=record.value, headers=record.headers)
            for record in records
        ]
        self._producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)

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
