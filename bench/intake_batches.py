"""In process: the intake agent's batches applied to the database, without Kafka, to profile them.

N simulated `jiesu.complaint.received` records (those of `bench.e2e_dispatch`) are applied the way the
intake agent applies them (`consumers.app.apply_together`: up to `--batch` records per transaction) on a
fresh database, with the same bootstrap as `jiesu run` (router, calendar, deadlines). Prints the rate, the
CPU time per request (this process: nothing else runs in it), the rows written per request, and with
`--profile` the functions that took most of the time (cProfile, cumulative).

    .venv/bin/python -m bench.intake_batches --events 5000 [--profile] [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import func, select

from bench.e2e_dispatch import intake_records
from consumers.app import INFLOWS, apply_together
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import upgrade
from dispatcher.bootstrap import bootstrap
from dispatcher.contract.cloudevents import KafkaRecord
from dispatcher.contract.events import Topic
from dispatcher.settings import Settings

T = TypeVar("T")


def in_batches(
    apply: Callable[[Sequence[T]], object], records: Sequence[T], batch: int, profile: cProfile.Profile | None
) -> tuple[float, float]:
    """Apply the records `batch` at a time (under `profile`, if given); the CPU and wall seconds taken."""
    cpu, wall = time.process_time(), time.perf_counter()
    if profile:
        profile.enable()
    for start in range(0, len(records), batch):
        apply(records[start : start + batch])
    if profile:
        profile.disable()
    return time.process_time() - cpu, time.perf_counter() - wall


def print_profile(profile: cProfile.Profile | None, path: str | None) -> None:
    """The top of the profile, if one was taken, and its statistics saved to `path` if given."""
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
        if path:
            profile.dump_stats(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=200, help="records per transaction")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of the batches")
    parser.add_argument("--profile-file", default=None, help="with --profile: also save the statistics there")
    args = parser.parse_args()

    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='jiesu-bench-')) / 'jiesu.db'}"
    upgrade(url)
    settings = Settings(database_url=url)
    system = bootstrap(settings)
    topic = settings.topic(Topic.INTAKE)
    first = datetime.now(UTC).replace(microsecond=0)
    records = [
        KafkaRecord(topic, record.key, record.value, list(record.headers), 0, offset)
        for offset, record in enumerate(intake_records(topic, args.events + args.batch, first))
    ]
    warmup, measured = records[: args.batch], records[args.batch :]
    inflow = INFLOWS[Topic.INTAKE]
    apply_together(inflow, system.bus, system.batch, warmup)
    with system.engine.connect() as connection:
        rows_before = sum(
            connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in t.metadata.sorted_tables
        )

    profile = cProfile.Profile() if args.profile else None
    cpu, wall = in_batches(
        lambda batch: apply_together(inflow, system.bus, system.batch, batch), measured, args.batch, profile
    )

    with system.engine.connect() as connection:
        counts = {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in t.metadata.sorted_tables
        }
    rows = sum(counts.values()) - rows_before
    n = len(measured)
    print(
        f"{url.split(':', 1)[0]}: {n} requests in batches of {args.batch}: {n / wall:.0f}/s, "
        f"{cpu * 1000 / n:.3f} ms CPU/request, {rows / n:.1f} rows/request "
        f"(sla_timers {counts['sla_timers']}, outbox {counts['outbox']}, deadlines {counts['deadlines']})"
    )
    print_profile(profile, args.profile_file)
    system.engine.dispose()


if __name__ == "__main__":
    main()
