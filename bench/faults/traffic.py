"""Traffic and reading back: a steady stream of valid requests to the intake topic, whole topics read from
the start, and a consumer group's committed offsets."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition

from dispatcher.contract.cloudevents import encode
from jiesu.cli.simulator import complaints

SOURCE = "/bench/faults"
COMPLAINT_RECEIVED = "jiesu.complaint.received"


@dataclass(frozen=True)
class Sent:
    ticket: str
    event_id: str


class Stream(threading.Thread):
    """Produces `count` valid requests (from the simulator) at `rate` per second, as a hotline intake
    system does: acks from every replica, idempotent, retrying through a broker that goes away for a while.
    Where each record landed (partition, offset) is kept per event id."""

    def __init__(self, bootstrap: str, topic: str, count: int, rate: float, seed: int) -> None:
        super().__init__(name="stream", daemon=True)
        self.bootstrap = bootstrap
        self.topic = topic
        self.rate = rate
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=count)  # received in the past
        self.requests = list(complaints(count, start=start, seed=seed))
        self.sent: list[Sent] = []
        self.acked: dict[str, tuple[int, int]] = {}  # event id -> (partition, offset)
        self.failed: dict[str, str] = {}  # event id -> error
        self.error: BaseException | None = None
        self.finished = threading.Event()

    @property
    def handed(self) -> int:
        return len(self.sent)

    def run(self) -> None:
        try:
            self._produce()
        except BaseException as error:  # reported by the scenario
            self.error = error
        finally:
            self.finished.set()

    def _produce(self) -> None:
        producer: Any = KafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            retries=2_147_483_647,
            delivery_timeout_ms=300_000,
            max_block_ms=300_000,
            request_timeout_ms=10_000,
            client_id="faults-intake",
        )
        began = time.monotonic()
        try:
            for number, complaint in enumerate(self.requests):
                time.sleep(max(0.0, began + number / self.rate - time.monotonic()))
                event_id = uuid.uuid4().hex
                record = encode(
                    self.topic,
                    COMPLAINT_RECEIVED,
                    complaint,
                    key=complaint.ticket_id,
                    event_id=event_id,
                    source=SOURCE,
                    time=complaint.received_at,
                )
                future = producer.send(
                    record.topic, key=record.key, value=record.value, headers=record.headers
                )
                future.add_callback(self._acked, event_id)
                future.add_errback(self._failed, event_id)
                self.sent.append(Sent(complaint.ticket_id, event_id))
            producer.flush(timeout=300)
        finally:
            producer.close(timeout=30)

    def _acked(self, event_id: str, metadata: Any) -> None:
        self.acked[event_id] = (metadata.partition, metadata.offset)

    def _failed(self, event_id: str, error: BaseException) -> None:
        self.failed[event_id] = f"{error.__class__.__name__}: {error}"


def read_topic(bootstrap: str, topic: str, timeout: float = 120) -> list[Any]:
    """Every record of a topic, from the first offset to the end offsets seen when called."""
    consumer: Any = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, consumer_timeout_ms=1000
    )
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            raise RuntimeError(f"topic {topic} has no partitions")
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic}: not at the end offsets after {timeout:.0f} s")
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close(autocommit=False)


def committed_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    """The group's committed offset per partition of `topic` (-1: never committed)."""
    admin: Any = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5_000)
    try:
        wanted = [TopicPartition(topic, p) for p in range(partitions)]
        found = admin.list_group_offsets({group: wanted}).get(group, {})
        return {tp.partition: (found[tp].offset if tp in found else -1) for tp in wanted}
    finally:
        admin.close()


def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    consumer: Any = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        wanted = [TopicPartition(topic, p) for p in range(partitions)]
        return {tp.partition: offset for tp, offset in consumer.end_offsets(wanted).items()}
    finally:
        consumer.close(autocommit=False)
