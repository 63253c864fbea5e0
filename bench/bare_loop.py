"""The transport limit: a bare kafka-python consume-and-produce loop, no validation, no database.

Run as a process by bench/e2e_dispatch.py: reads `<in>` from the beginning, writes each value to `<out>`.
"""

from __future__ import annotations

import sys

from kafka import KafkaConsumer, KafkaProducer


def main(bootstrap: str, source: str, target: str, group: str) -> None:
    consumer = KafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=True,
    )
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2, batch_size=256 * 1024)
    for record in consumer:
        producer.send(target, key=record.key, value=record.value, headers=record.headers)


if __name__ == "__main__":
    main(*sys.argv[1:5])
