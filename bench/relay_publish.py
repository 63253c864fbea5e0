"""The outbox relay's publishing alone: the CPU a record costs to send and have acknowledged, through the
relay's producer (aiokafka, `consumers.relay.RelayProducer`) and through kafka-python's (what the relay used
before: send each, flush, wait for each), on the real local broker.

N simulated requests (those of `bench.e2e_dispatch`) are published in batches as the relay takes them, the
two producers alternately for `--rounds` rounds, each on a fresh topic. The CPU is this process's (all its
threads: both producers do their work on threads of their own); nothing else runs in it.

    .venv/bin/python -m bench.relay_publish --records 20000 --batch 500 --rounds 3
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaProducer

from bench.e2e_dispatch import intake_records
from consumers.relay import RelayProducer
from dispatcher.adapters.outbox_store import OutboxRecord
from dispatcher.settings import Settings
from jiesu.localkafka.topics import create_topics

Publish = Callable[[Sequence[OutboxRecord]], None]


def kafka_python(bootstrap: str) -> tuple[Publish, Callable[[], None]]:
    """The relay's publishing before: kafka-python, configured as the relay configured it."""
    producer: Any = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        batch_size=256 * 1024,
        retries=10,
        client_id="jiesu-relay",
    )

    def publish(records: Sequence[OutboxRecord]) -> None:
        futures = [
            producer.send(record.topic, key=record.key, value=record.value, headers=record.headers)
            for record in records
        ]
        producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)

    return publish, lambda: producer.close(timeout=10)


def relay_producer(bootstrap: str) -> tuple[Publish, Callable[[], None]]:
    producer = RelayProducer(bootstrap)
    return producer.publish, producer.close


def measure(publish: Publish, records: Sequence[OutboxRecord], batch: int) -> tuple[float, float]:
    """CPU ms and wall ms per record."""
    publish(records[:batch])  # warm-up: connections, metadata
    rest = records[batch:]
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(rest), batch):
        publish(rest[start : start + batch])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu * 1000 / len(rest), wall * 1000 / len(rest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500, help="records per relay batch")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    args = parser.parse_args()
    run = uuid.uuid4().hex[:8]
    producers = {"kafka-python (before)": kafka_python, "aiokafka (RelayProducer)": relay_producer}
    print("| round | producer | records | CPU ms/record | wall ms/record |")
    print("|---|---|---|---|---|")
    figures: dict[str, list[float]] = {name: [] for name in producers}
    for round_ in range(1, args.rounds + 1):
        for number, (name, make) in enumerate(producers.items()):
            settings = Settings(kafka_bootstrap=args.bootstrap, topic_prefix=f"bench{run}p{round_}{number}.")
            create_topics(settings)
            topic = settings.topic("cases")
            records = [
                OutboxRecord(topic, r.key, r.value, list(r.headers))
                for r in intake_records(topic, args.records + args.batch, datetime.now(UTC))
            ]
            publish, close = make(args.bootstrap)
            try:
                cpu, wall = measure(publish, records, args.batch)
            finally:
                close()
            figures[name].append(cpu)
            print(f"| {round_} | {name} | {args.records} | {cpu:.3f} | {wall:.3f} |", flush=True)
    before, after = (min(values) for values in figures.values())
    print(f"best of each: {before:.3f} → {after:.3f} ms CPU per record ({after / before:.2f} of before)")


if __name__ == "__main__":
    main()
