"""The outbox relay: publishes committed outbox rows to Kafka in order, then marks them sent (the rows are
taken and marked by `dispatcher.adapters.outbox_store`).

At least once: a crash after publishing and before marking re-publishes those rows on restart, with
the same `ce_id`, so consumers can drop the repeat. Nothing committed is ever skipped.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer
from sqlalchemy import Engine

from dispatcher.adapters.outbox_store import OutboxRecord, OutboxStore
from sla.calendar import Clock

log = logging.getLogger(__name__)
LINGER_SECONDS = 0.02
SEND_SECONDS = 30  # how long a batch may take to be acknowledged before the relay tries it again
T = TypeVar("T")


class RelayProducer:
    """Publishes the relay's batches: aiokafka, on an event loop of its own thread, for the relay's
    thread to wait on. aiokafka builds and checksums record batches in C; kafka-python's producer, in
    Python, took about a sixth of a dispatching worker's CPU (profile in docs/benchmarks.md). Idempotent,
    acknowledged by all replicas: per-key order is kept and no acknowledged record is lost."""

    def __init__(self, bootstrap: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="relay-producer", daemon=True)
        self._thread.start()
        try:
            self._producer = self._wait(self._started(bootstrap))
        except BaseException:
            self._stop_loop()
            raise

    @staticmethod
    async def _started(bootstrap: str) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(  # made on the loop it runs on, as aiokafka requires
            bootstrap_servers=bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=0,  # a batch is appended whole before the sender runs: no need to wait for more
            max_batch_size=256 * 1024,
            client_id="jiesu-relay",
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        return producer

    def publish(self, records: Sequence[OutboxRecord]) -> None:
        """Send the records in order and wait until the broker has them all; raises if it refused one or
        did not answer in time (the rows then stay unsent, and are published again)."""
        self._wait(self._send_all(records), SEND_SECONDS)

    async def _send_all(self, records: Sequence[OutboxRecord]) -> None:
        sent = [
            await self._producer.send(record.topic, record.value, key=record.key, headers=record.headers)
            for record in records
        ]
        await asyncio.gather(*sent)

    def close(self, timeout: float = 10) -> None:
        """Deliver what is under way, then disconnect."""
        try:
            self._wait(self._producer.stop(), timeout)
        finally:
            self._stop_loop()

    def _wait(self, work: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout)

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


def make_producer(bootstrap: str) -> RelayProducer:
    """The relay's producer (connects now: raises if no broker answers)."""
    return RelayProducer(bootstrap)


class OutboxRelay:
    def __init__(
        self, engine: Engine, producer: RelayProducer, clock: Clock, batch_size: int, poll_seconds: float
    ):
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
        return self._outbox.relay_batch(self._batch_size, self._producer.publish)

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
        self._producer.close()


def relay_forever(
    engine: Engine, producer: RelayProducer, clock: Clock, batch_size: int, poll_seconds: float
) -> None:
    """`jiesu relay`: only the relay, in the foreground, until Ctrl-C or SIGTERM (for workers started
    with `jiesu run --no-relay`). Without commits in this process to wake it, it looks for new rows
    every `poll_seconds`, and at once after a full batch."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    log.info("jiesu relay running: publishing the outbox every %ss", poll_seconds)
    OutboxRelay(engine, producer, clock, batch_size, poll_seconds).run(stop)
