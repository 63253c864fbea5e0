"""End-to-end benchmark: N requests through the real broker, `jiesu run` and the database, back out.

Measures, in one run: dispatched cases/s and intake-to-dispatched latency (p50/p95/p99), and the same for a
bare kafka-python consume-and-produce loop on the same broker (the transport limit), with the ratio.

    .venv/bin/python -m bench.e2e_dispatch --events 10000 [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer

from dispatcher.adapters.database import upgrade
from dispatcher.contract.cloudevents import encode
from dispatcher.localkafka.topics import create_topics
from dispatcher.settings import Settings
from dispatcher.simulator import complaints


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


class Watcher(threading.Thread):
    """Consumes a topic and stamps the arrival of each key."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(daemon=True)
        self.arrived: dict[bytes, float] = {}
        self.consumer = KafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        self.running = True

    def run(self) -> None:
        while self.running:
            for batch in self.consumer.poll(timeout_ms=100).values():
                now = time.monotonic()
                for record in batch:
                    self.arrived.setdefault(record.key, now)


def measure(
    name: str,
    bootstrap: str,
    source: str,
    target: str,
    records: list,
    rate: float | None,
    start_process: Callable[[], subprocess.Popen[bytes]],
) -> dict[str, float]:
    watcher = Watcher(bootstrap, target)
    watcher.start()
    process = start_process()
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5, batch_size=256 * 1024)
    warmup, measured = records[0], records[1:]
    producer.send(source, key=warmup.key, value=warmup.value, headers=warmup.headers)
    producer.flush()
    wait_until(lambda: warmup.key in watcher.arrived, 120, f"{name}: warm-up event")
    sent: dict[bytes, float] = {}
    began = time.monotonic()
    for number, record in enumerate(measured):
        if rate:
            time.sleep(max(0.0, began + number / rate - time.monotonic()))
        sent[record.key] = time.monotonic()
        producer.send(source, key=record.key, value=record.value, headers=record.headers)
    producer.flush()
    wait_until(lambda: all(key in watcher.arrived for key in sent), 600, f"{name}: all events")
    watcher.running = False
    process.terminate()
    process.wait(timeout=60)
    latencies = [(watcher.arrived[key] - at) * 1000 for key, at in sent.items()]
    elapsed = max(watcher.arrived[key] for key in sent) - began
    return {
        "events": len(sent),
        "per_second": len(sent) / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
    }


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument(
        "--rate", type=float, default=None, help="requests/s to offer (default: as fast as possible)"
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument(
        "--no-notifications", action="store_true", help="the worker leaves notifications to another process"
    )
    args = parser.parse_args()

    prefix = f"bench{uuid.uuid4().hex[:8]}."
    workdir = Path(tempfile.mkdtemp(prefix="jiesu-bench-"))
    url = args.database_url or f"sqlite:///{workdir / 'jiesu.db'}"
    settings = Settings(
        database_url=url,
        kafka_bootstrap=args.bootstrap,
        topic_prefix=prefix,
        consumer_group=f"{prefix}jiesu",
        state_dir=workdir / "state",
        notifications=not args.no_notifications,
    )
    bare_settings = settings.model_copy(update={"topic_prefix": f"{prefix}bare."})
    create_topics(settings)
    create_topics(bare_settings)
    upgrade(url)
    intake = settings.topic("intake")
    start = time.time()
    records = [
        encode(
            intake,
            "jiesu.complaint.received",
            complaint,
            key=complaint.ticket_id,
            event_id=uuid.uuid4().hex,
            source="/bench",
            time=complaint.received_at,
        )
        for complaint in complaints(
            args.events + 1, start=datetime.now(UTC).replace(microsecond=0), seed=int(start)
        )
    ]
    env = {
        **os.environ,
        **{f"JIESU_{k.upper()}": str(v) for k, v in settings.model_dump(mode="json").items()},
    }
    log = (workdir / "worker.log").open("ab")

    bare_in, bare_out = bare_settings.topic("intake"), bare_settings.topic("cases")
    bare = measure(
        "bare loop",
        args.bootstrap,
        bare_in,
        bare_out,
        records,
        args.rate,
        lambda: subprocess.Popen(
            [sys.executable, "-m", "bench.bare_loop", args.bootstrap, bare_in, bare_out, f"{prefix}bare"],
            stdout=log,
            stderr=log,
        ),
    )
    jiesu = measure(
        "jiesu",
        args.bootstrap,
        intake,
        settings.topic("cases"),
        records,
        args.rate,
        lambda: subprocess.Popen(
            [sys.executable, "-m", "dispatcher.cli", "run", "--log-level", "warn"],
            env=env,
            stdout=log,
            stderr=log,
        ),
    )
    backend = url.split(":", 1)[0]
    offered = f"{args.rate:.0f}/s" if args.rate else "max"
    print(f"{args.events} events, offered {offered}, database {backend}")
    print(f"{'pipeline':<28}{'events/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for name, figures in (("bare kafka-python loop", bare), (f"jiesu ({backend})", jiesu)):
        print(
            f"{name:<28}{figures['per_second']:>10.0f}{figures['p50_ms']:>10.1f}{figures['p95_ms']:>10.1f}"
            f"{figures['p99_ms']:>10.1f}"
        )
    print(f"ratio jiesu / bare loop: {jiesu['per_second'] / bare['per_second']:.2f}")


if __name__ == "__main__":
    main()
