"""End-to-end benchmark: N requests through the real broker, `jiesu run` and the database, back out.

Measures, in one run: dispatched cases/s and intake-to-dispatched latency (p50/p95/p99), and the same for a
bare kafka-python consume-and-produce loop on the same broker (the transport limit), with the ratio; and the
worker's CPU time (all its threads, user and system) per request while the requests went through, which
the other programs sharing the machine's cores do not change as much as they change the rates.

    .venv/bin/python -m bench.e2e_dispatch --rates 100,500,1000,2000,max [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from dispatcher.adapters.database import upgrade
from dispatcher.contract.cloudevents import OutboundRecord, encode
from dispatcher.settings import Settings
from jiesu.cli.simulator import complaints
from jiesu.localkafka.topics import create_topics

KEPT_UP_SLACK_MS = 100  # see `measure`: how much the last tenth's median may exceed twice the first's


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


class Watcher(threading.Thread):
    """Consumes a topic and stamps the arrival of each key. With aiokafka, whose records are parsed in C:
    the watcher shares the machine with what it measures, and takes as little of it as it can (a
    kafka-python consumer took a fifth of a core at 1,700 records/s)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(daemon=True)
        self.arrived: dict[bytes | None, float] = {}
        self.bootstrap, self.topic = bootstrap, topic
        self.running = True
        self.ready = threading.Event()

    def start(self) -> None:
        super().start()
        if not self.ready.wait(60):
            raise SystemExit(f"the watcher of {self.topic} could not start")

    def run(self) -> None:
        asyncio.run(self._watch())

    async def _watch(self) -> None:
        consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        await consumer.start()
        self.ready.set()
        try:
            while self.running:
                batches = await consumer.getmany(timeout_ms=100)
                now = time.monotonic()
                for batch in batches.values():
                    for record in batch:
                        self.arrived.setdefault(record.key, now)
        finally:
            await consumer.stop()


class Stoppable(Protocol):
    """A process (or a group of them) under measure."""

    pid: int

    def terminate(self) -> None: ...

    def wait(self, timeout: float) -> object: ...


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far, all its threads, user and system (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    name: str,
    bootstrap: str,
    source: str,
    target: str,
    records: Sequence[OutboundRecord],
    rate: float | None,
    start_process: Callable[[], Stoppable],
) -> dict[str, float]:
    """Send the records, wait until each has arrived on `target`, and return the figures. `kept_up`: the
    worker kept pace with the offered rate, judged by the median latency of the last tenth of the requests
    sent against the first tenth's (a backlog that grows for the whole run makes it about 19 times as
    long; one that does not, about the same)."""
    watcher = Watcher(bootstrap, target)
    watcher.start()
    process = start_process()
    warmup, measured = records[0], records[1:]
    asyncio.run(publish(bootstrap, source, [warmup], None, {}))
    wait_until(lambda: warmup.key in watcher.arrived, 120, f"{name}: warm-up event")
    sent: dict[bytes | None, float] = {}
    cpu_before = cpu_seconds(process.pid)
    began = asyncio.run(publish(bootstrap, source, measured, rate, sent))
    wait_until(lambda: all(key in watcher.arrived for key in sent), 600, f"{name}: all events")
    cpu = cpu_seconds(process.pid) - cpu_before
    watcher.running = False
    process.terminate()
    process.wait(timeout=60)
    latencies = [(watcher.arrived[key] - at) * 1000 for key, at in sent.items()]  # in the order sent
    elapsed = max(watcher.arrived[key] for key in sent) - began
    tenth = max(1, len(latencies) // 10)
    first, last = percentile(latencies[:tenth], 50), percentile(latencies[-tenth:], 50)
    return {
        "events": len(sent),
        "per_second": len(sent) / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "cpu_ms": cpu * 1000 / len(sent),
        "last_p50_ms": last,
        "kept_up": last <= 2 * first + KEPT_UP_SLACK_MS,
    }


async def publish(
    bootstrap: str,
    topic: str,
    records: Sequence[OutboundRecord],
    rate: float | None,
    sent: dict[bytes | None, float],
) -> float:
    """Publish the records (at `rate` per second, or at once), stamping each key's sending in `sent`;
    returns when it began. With aiokafka, whose batches are built in C: the sender too shares the machine
    with what it measures (a kafka-python producer took three times its CPU)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=256 * 1024
    )
    await producer.start()
    try:
        began = time.monotonic()
        for number, record in enumerate(records):
            if rate:
                await asyncio.sleep(max(0.0, began + number / rate - time.monotonic()))
            sent[record.key] = time.monotonic()
            await producer.send(topic, key=record.key, value=record.value, headers=record.headers)
        await producer.flush()
    finally:
        await producer.stop()
    return began


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.05)


def intake_records(topic: str, count: int, start: datetime) -> list:  # type: ignore[type-arg]
    """`count` simulated requests; tickets are unique per `start` (one start per row)."""
    return [
        encode(
            topic,
            "jiesu.complaint.received",
            complaint,
            key=complaint.ticket_id,
            event_id=uuid.uuid4().hex,
            source="/bench",
            time=complaint.received_at,
        )
        for complaint in complaints(count, start=start, seed=int(start.timestamp()))
    ]


def worker_env(settings: Settings) -> dict[str, str]:
    """The environment of a `jiesu` child process: the caller's without its JIESU_* variables, then the
    settings."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("JIESU_")}
    env.update({f"JIESU_{k.upper()}": str(v) for k, v in settings.model_dump(mode="json").items()})
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000, help="events of the row at the maximum")
    parser.add_argument(
        "--rates",
        default="max",
        help="comma-separated requests/s to offer, `max` for all at once (e.g. 100,500,1000,2000,max)",
    )
    parser.add_argument("--seconds", type=float, default=20, help="how long each offered rate is held")
    parser.add_argument(
        "--database-url", default=None, help="default: a fresh SQLite file for each row; given: one for all"
    )
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument(
        "--no-notifications", action="store_true", help="the worker leaves notifications to another process"
    )
    args = parser.parse_args()

    run = uuid.uuid4().hex[:8]
    workdir = Path(tempfile.mkdtemp(prefix="jiesu-bench-"))
    log = (workdir / "worker.log").open("ab")
    backend = (args.database_url or "sqlite").split(":", 1)[0].split("+")[0]
    first = datetime.now(UTC).replace(microsecond=0)

    bare_settings = Settings(kafka_bootstrap=args.bootstrap, topic_prefix=f"bench{run}bare.")
    create_topics(bare_settings)
    bare_in, bare_out = bare_settings.topic("intake"), bare_settings.topic("cases")
    bare = measure(
        "bare loop",
        args.bootstrap,
        bare_in,
        bare_out,
        intake_records(bare_in, args.events + 1, first),
        None,
        lambda: subprocess.Popen(
            [sys.executable, "-m", "bench.bare_loop", args.bootstrap, bare_in, bare_out, f"bench{run}bare"],
            stdout=log,
            stderr=log,
        ),
    )
    print(
        f"bare kafka-python loop: {bare['per_second']:.0f} events/s ({args.events} events), "
        f"{bare['cpu_ms']:.2f} ms CPU/request",
        flush=True,
    )
    print(
        "| database | offered | events | jiesu events/s | p50 ms | p95 ms | p99 ms | ratio to bare loop "
        "| worker CPU ms/request | last tenth p50 ms | kept up |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row, offered in enumerate(args.rates.split(",")):
        rate = None if offered == "max" else float(offered)
        count = args.events if rate is None else int(rate * args.seconds)
        # each row on a database of its own: a row's worker would otherwise also read the cases of the rows
        # before it and deliver the notifications they left planned
        row_url = args.database_url or f"sqlite:///{workdir / f'row{row}.db'}"
        upgrade(row_url)
        settings = Settings(
            database_url=row_url,
            kafka_bootstrap=args.bootstrap,
            topic_prefix=f"bench{run}r{row}.",
            consumer_group=f"bench{run}r{row}",
            state_dir=workdir / "state",
            notifications=not args.no_notifications,
        )
        create_topics(settings)
        records = intake_records(settings.topic("intake"), count + 1, first + timedelta(days=row + 1))
        figures = measure(
            "jiesu",
            args.bootstrap,
            settings.topic("intake"),
            settings.topic("cases"),
            records,
            rate,
            lambda settings=settings: subprocess.Popen(  # type: ignore[misc]
                [sys.executable, "-m", "jiesu", "run", "--log-level", "warn"],
                env=worker_env(settings),
                stdout=log,
                stderr=log,
            ),
        )
        print(
            f"| {backend} | {offered if rate is None else f'{rate:.0f}/s'} | {count} | "
            f"{figures['per_second']:.0f} | {figures['p50_ms']:.1f} | {figures['p95_ms']:.1f} | "
            f"{figures['p99_ms']:.1f} | {figures['per_second'] / bare['per_second']:.2f} | "
            f"{figures['cpu_ms']:.2f} | {figures['last_p50_ms']:.1f} | "
            f"{'' if rate is None else 'yes' if figures['kept_up'] else 'no'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
