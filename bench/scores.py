"""Closed-loop benchmark: callbacks through the real broker with live scores, and the monthly ranking.

In one run: N resolved cases at 400 units in the database; N callbacks published to the feedback topic
and applied by `jiesu run` (each closes or reopens its case, stores the callback and queues the unit's
new scores), measured until every case's outcome event is on the cases topic, against a bare
kafka-python consume-and-produce loop on the same broker; then a month of callbacks (default 800,000,
about Beijing's monthly volume), their tallies rebuilt, and the ranking of the 400 units answered.

    .venv/bin/python -m bench.scores --callbacks 20000 [--workers 2] [--database-url postgresql+psycopg://...]

With `--workers N`, N `jiesu run` processes share the consumer group (and its 6 partitions); the callbacks
are sent once all N have joined it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import Engine, insert

from bench.e2e_dispatch import measure, wait_until, worker_env
from dispatcher.adapters import tables as t
from dispatcher.adapters.callback_store import SqlCallbacks
from dispatcher.adapters.database import make_engine, upgrade
from dispatcher.adapters.pending import PendingWrites
from dispatcher.contract import events as wire
from dispatcher.contract.cloudevents import encode
from dispatcher.domain.callbacks import Assessment
from dispatcher.reads.scores import ranking
from dispatcher.settings import Settings
from jiesu.localkafka.topics import create_topics, group_state

UNITS = [f"street-{n:03d}" for n in range(400)]
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def seed_cases(engine: Engine, prefix: str, count: int, rng: random.Random, chunk: int = 20_000) -> list[str]:
    """`count` resolved cases at random units, with the inbox rows of the events that opened them (as a
    database in service has); returns their tickets."""
    tickets = []
    for start in range(0, count, chunk):
        cases, assignments, inbox = [], [], []
        for n in range(start, min(start + chunk, count)):
            ticket = f"{prefix}{n:07d}"
            tickets.append(ticket)
            cases.append(
                {
                    "ticket_id": ticket,
                    "state": "resolved",
                    "urgency": "general",
                    "channel": "phone",
                    "kind": "complaint",
                    "description": "路灯不亮",
                    "category": "0301",
                    "location": {},
                    "requester": {},
                    "attachments": [],
                    "received_at": T0,
                    "dispatched_at": T0,
                    "result": "已修复",
                    "version": 0,
                }
            )
            inbox.append({"source": "/hotline", "event_id": f"{ticket}-received", "processed_at": T0})
            assignments.append(
                {
                    "ticket_id": ticket,
                    "unit": rng.choice(UNITS),
                    "post": "duty",
                    "person": None,
                    "rule": "bench",
                    "catalog_version": "bench",
                    "reason": "seeded",
                    "co_handlers": [],
                    "assigned_at": T0,
                    "current": True,
                }
            )
        with engine.begin() as connection:
            connection.execute(insert(t.cases), cases)
            connection.execute(insert(t.assignments), assignments)
            connection.execute(insert(t.inbox), inbox)
    with engine.begin() as connection:  # the statistics autovacuum keeps in service
        connection.exec_driver_sql("ANALYZE")
    return tickets


def seed_month(engine: Engine, count: int, rng: random.Random, chunk: int = 20_000) -> None:
    """A month of stored callbacks (November 2026), each for its own case."""
    tickets = seed_cases(engine, f"M{uuid.uuid4().hex[:8]}-", count, rng, chunk)
    for start in range(0, count, chunk):
        rows = [
            {
                "ticket_id": ticket,
                "round": 1,
                "recorded_at": T0 + timedelta(seconds=rng.randint(0, 27 * 86400)),
                "month": "2026-11",
                "contacted": rng.random() < 0.97,
                "resolved": rng.random() < 0.92,
                "satisfaction": rng.choices(["satisfied", "basically_satisfied", "unsatisfied"], [80, 12, 8])[
                    0
                ],
                "valid": rng.random() > 0.03,
                "comment": None,
                "unit": rng.choice(UNITS),
                "post": "duty",
                "person": None,
                "unit_class": "street",
                "current": True,
                "received_at": T0,
            }
            for ticket in tickets[start : start + chunk]
        ]
        with engine.begin() as connection:
            connection.execute(insert(t.callbacks), rows)


def callback_records(topic: str, tickets: list[str], rng: random.Random) -> list:  # type: ignore[type-arg]
    records = []
    for ticket in tickets:
        data = wire.CallbackRecorded(
            ticket_id=ticket,
            recorded_at=datetime.now(UTC).replace(microsecond=0),
            contacted=True,
            resolved=rng.random() < 0.9,
            satisfaction=rng.choices(["satisfied", "basically_satisfied", "unsatisfied"], [80, 12, 8])[0],  # type: ignore[arg-type]
        )
        records.append(
            encode(
                topic,
                "jiesu.callback.recorded",
                data,
                key=ticket,
                event_id=uuid.uuid4().hex,
                source="/bench",
                time=data.recorded_at,
            )
        )
    return records


class Workers:
    """`jiesu run` processes in one consumer group, started and stopped together."""

    def __init__(
        self, count: int, env: dict[str, str], log: IO[bytes], bootstrap: str, group: str, relay_apart: bool
    ) -> None:
        command = [sys.executable, "-m", "jiesu", "run", "--log-level", "warn"]
        command += ["--no-relay"] if relay_apart else []
        self.processes = [subprocess.Popen(command, env=env, stdout=log, stderr=log) for _ in range(count)]
        if relay_apart:
            relay = [sys.executable, "-m", "jiesu", "relay", "--log-level", "warn"]
            self.processes.append(subprocess.Popen(relay, env=env, stdout=log, stderr=log))
        wait_until(
            lambda: group_state(bootstrap, group) == ("Stable", count), 120, f"{count} workers in the group"
        )

    def terminate(self) -> None:
        for process in self.processes:
            process.terminate()

    def wait(self, timeout: float) -> None:
        for process in self.processes:
            process.wait(timeout=timeout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callbacks", type=int, default=20_000, help="callbacks through the broker")
    parser.add_argument("--month", type=int, default=800_000, help="stored callbacks for the ranking")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--workers", type=int, default=1, help="`jiesu run` processes in the group")
    parser.add_argument("--no-notifications", action="store_true", help="workers without notifications")
    parser.add_argument("--relay-apart", action="store_true", help="the outbox relayed by `jiesu relay`")
    parser.add_argument("--skip-broker", action="store_true", help="only the month and its ranking")
    args = parser.parse_args()
    rng = random.Random(20261126)

    prefix = f"bench{uuid.uuid4().hex[:8]}."
    workdir = Path(tempfile.mkdtemp(prefix="jiesu-bench-scores-"))
    url = args.database_url or f"sqlite:///{workdir / 'jiesu.db'}"
    settings = Settings(
        database_url=url,
        kafka_bootstrap=args.bootstrap,
        topic_prefix=prefix,
        consumer_group=f"{prefix}jiesu",
        state_dir=workdir / "state",
        notifications=not args.no_notifications,
    )
    if args.relay_apart:  # a relay in its own process has no commits to wake it: it looks often
        settings = settings.model_copy(update={"relay_poll_seconds": 0.1})
    bare_settings = settings.model_copy(update={"topic_prefix": f"{prefix}bare."})
    create_topics(settings)
    create_topics(bare_settings)
    upgrade(url)
    engine = make_engine(url)
    if not args.skip_broker:
        began = time.perf_counter()
        tickets = seed_cases(engine, f"C{prefix[5:13]}-", args.callbacks + 1, rng)
        print(f"seeded {len(tickets):,} resolved cases in {time.perf_counter() - began:.0f} s")
        records = callback_records(settings.topic("feedback"), tickets, rng)
        env = worker_env(settings)
        log = (workdir / "worker.log").open("ab")
        bare_in, bare_out = bare_settings.topic("feedback"), bare_settings.topic("cases")
        bare = measure(
            "bare loop",
            args.bootstrap,
            bare_in,
            bare_out,
            records,
            None,
            lambda: subprocess.Popen(
                [sys.executable, "-m", "bench.bare_loop", args.bootstrap, bare_in, bare_out, f"{prefix}bare"],
                stdout=log,
                stderr=log,
            ),
        )
        jiesu = measure(
            "jiesu",
            args.bootstrap,
            settings.topic("feedback"),
            settings.topic("cases"),
            records,
            None,
            lambda: Workers(
                args.workers, env, log, args.bootstrap, settings.consumer_group, args.relay_apart
            ),
        )
        backend = url.split(":", 1)[0]
        print(
            f"{args.callbacks:,} callbacks through the broker, database {backend}, "
            f"{args.workers} worker{'s' if args.workers > 1 else ''}"
            f"{', relay apart' if args.relay_apart else ''}"
            f"{', no notifications' if args.no_notifications else ''}"
        )
        print(f"{'pipeline':<34}{'events/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
        for name, figures in (("bare kafka-python loop", bare), (f"jiesu callbacks ({backend})", jiesu)):
            print(
                f"{name:<34}{figures['per_second']:>10.0f}{figures['p50_ms']:>10.1f}{figures['p95_ms']:>10.1f}"
                f"{figures['p99_ms']:>10.1f}"
            )
        print(f"ratio jiesu / bare loop: {jiesu['per_second'] / bare['per_second']:.2f}")

    began = time.perf_counter()
    seed_month(engine, args.month, rng)
    seconds = time.perf_counter() - began
    print(f"seeded a month of {args.month:,} callbacks at {len(UNITS)} units in {seconds:.0f} s")
    began = time.perf_counter()
    with engine.begin() as connection:
        SqlCallbacks(connection, PendingWrites()).recount(
            "2026-11"
        )  # what `jiesu scores recompute` does first
    print(f"recount of the month's tallies from its callbacks: {time.perf_counter() - began:.1f} s")
    assessment = Assessment()
    took = []
    for _ in range(20):
        started = time.perf_counter()
        rows = ranking(engine, assessment, "2026-11", "street")
        took.append((time.perf_counter() - started) * 1000)
    print(
        f"ranking of {len(rows)} units over {args.month:,} callbacks: p50 {statistics.median(took):.0f} ms, "
        f"max {max(took):.0f} ms (20 runs)"
    )


if __name__ == "__main__":
    main()
