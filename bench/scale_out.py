"""Scale-out: one, two and three `jiesu run` workers in one consumer group, and a worker that joins and one
that leaves while requests flow.

For each worker count: N requests are waiting on the intake topic (6 partitions) when the workers start;
the rate is taken between the 10th and the 90th percentile of the openings (start-up and the group's
first rebalance left out). Then the join/leave run: one worker; requests at a steady rate; a second
worker joins after a third of the run; the first leaves (SIGTERM) after two thirds. Every run is
checked: each request opened exactly once (one `jiesu.case.dispatched`, `.queued` or `.linked` with
one ce_id), none lost.

Over the same p10-p90 stretch, the CPU time per request opened of the workers, the broker (the `java`
process), PostgreSQL (every `postgres` process), this benchmark (its producer and collector) and the whole
machine (/proc/stat: whatever else runs is in it too), and the rate the machine's cores would allow at
that cost (cores x 1000 / machine ms): what bounds the opened/s once the cores are all busy.

    .venv/bin/python -m bench.scale_out --database-url postgresql+psycopg://jiesu:jiesu@127.0.0.1:5432/jiesu_bench
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.e2e_dispatch import intake_records, wait_until
from bench.flow import Collector, CpuSampler, Feed, named, start_jiesu, tally
from dispatcher.adapters.database import upgrade
from dispatcher.settings import Settings
from jiesu.localkafka.topics import create_topics


def settings_for(args: argparse.Namespace, name: str, workdir: Path) -> Settings:
    settings = Settings(
        database_url=args.database_url,
        kafka_bootstrap=args.bootstrap,
        topic_prefix=f"{name}.",
        consumer_group=name,
        state_dir=workdir / name,
        notifications=not args.no_notifications,
    )
    create_topics(settings)
    return settings


def with_workers(args: argparse.Namespace, count: int, run: str, start: datetime, workdir: Path) -> str:
    settings = settings_for(args, f"scale{run}w{count}", workdir)
    records = intake_records(settings.topic("intake"), args.events, start)
    tickets = {record.key for record in records}
    Feed(args.bootstrap, settings.topic("intake"), records, None).start().thread.join()
    collector = Collector(args.bootstrap, settings.topic("cases"))
    collector.start()
    log = (workdir / f"workers-{count}.log").open("ab")
    workers: list[subprocess.Popen[bytes]] = []
    sampler = CpuSampler(
        {
            "workers": lambda: [worker.pid for worker in workers],
            "broker": lambda: named("java"),
            "database": lambda: named("postgres"),
            "benchmark": lambda: [os.getpid()],
        }
    )
    sampler.start()
    workers += [start_jiesu(settings, log, "run", "--log-level", "warn") for _ in range(count)]
    try:
        wait_until(lambda: len(collector.opened_at) >= len(tickets), 900, f"{count} workers: every request")
        time.sleep(3)  # a duplicate would show by now
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
        collector.stop()
        sampler.stop()
    arrivals = sorted(collector.opened_at[ticket] for ticket in tickets)
    low, high = arrivals[len(arrivals) // 10], arrivals[len(arrivals) * 9 // 10]
    opened = len(arrivals) * 0.8
    rate = opened / (high - low)
    cpu = {name: seconds * 1000 / opened for name, seconds in sampler.between(low, high).items()}
    ceiling = (os.cpu_count() or 1) * 1000 / cpu["machine"]
    counts = tally(collector, tickets)
    return (
        f"| {count} | {args.events} | {rate:.0f} | {counts.opened} | {counts.duplicates} | {counts.lost} | "
        f"{counts.repeated_records} | {cpu['workers']:.2f} | {cpu['broker']:.2f} | {cpu['database']:.2f} | "
        f"{cpu['benchmark']:.2f} | {cpu['machine']:.2f} | {ceiling:.0f} |"
    )


def join_and_leave(args: argparse.Namespace, run: str, start: datetime, workdir: Path) -> str:
    settings = settings_for(args, f"scale{run}jl", workdir)
    count = int(args.rate * args.seconds)
    records = intake_records(settings.topic("intake"), count, start)
    tickets = {record.key for record in records}
    collector = Collector(args.bootstrap, settings.topic("cases"))
    collector.start()
    log = (workdir / "join-leave.log").open("ab")
    first = start_jiesu(settings, log, "run", "--log-level", "warn")
    second = None
    try:
        Feed(args.bootstrap, settings.topic("intake"), records[:1], None).start().thread.join()
        wait_until(lambda: records[0].key in collector.opened_at, 120, "the first worker's first case")
        feed = Feed(args.bootstrap, settings.topic("intake"), records[1:], args.rate).start()
        wait_until(lambda: feed.sent >= count // 3, args.seconds * 3, "a third of the requests sent")
        second = start_jiesu(settings, log, "run", "--log-level", "warn")
        wait_until(lambda: feed.sent >= count * 2 // 3, args.seconds * 3, "two thirds sent")
        first.terminate()
        first.wait(timeout=60)
        feed.thread.join()
        wait_until(lambda: len(collector.opened_at) >= len(tickets), 900, "join/leave: every request")
        time.sleep(3)
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=60)
        collector.stop()
    counts = tally(collector, tickets)
    return (
        f"| join at 1/3, leave at 2/3 | {count} at {args.rate:.0f}/s | - | {counts.opened} | "
        f"{counts.duplicates} | {counts.lost} | {counts.repeated_records} | | | | | | |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="PostgreSQL: the workers share it")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--events", type=int, default=20_000, help="requests per worker count")
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--rate", type=float, default=200, help="requests/s of the join/leave run")
    parser.add_argument("--seconds", type=float, default=60, help="length of the join/leave run")
    parser.add_argument("--no-notifications", action="store_true")
    args = parser.parse_args()
    upgrade(args.database_url)
    run = uuid.uuid4().hex[:6]
    workdir = Path(tempfile.mkdtemp(prefix="jiesu-scale-"))
    start = datetime.now(UTC).replace(microsecond=0)
    print(
        "| workers | requests | opened/s (p10-p90) | opened | duplicates | lost | relay repeats "
        "| CPU ms/request: workers | broker | PostgreSQL | benchmark | machine | machine ceiling/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row, count in enumerate(int(n) for n in args.workers.split(",")):
        print(with_workers(args, count, run, start + timedelta(days=row + 1), workdir), flush=True)
    print(join_and_leave(args, run, start, workdir), flush=True)


if __name__ == "__main__":
    main()
