"""In process: the case events read back from `jiesu.cases` (the hotspot counter, then the notification
planner), without Kafka, to profile them.

N simulated requests (those of `bench.e2e_dispatch`) are applied through the intake (`apply_together`)
on a fresh database, with the same bootstrap as `jiesu run`; the outbox rows they wrote are taken as the
relay takes them (`OutboxStore.relay_batch`), and those for `jiesu.cases` are handed as Kafka records, in
batches of `--batch`, to the reader the worker builds for its `cases` agent. The first batch warms up.
Prints the rate, the CPU time per record and per dispatched case (this process: nothing else runs in
it), the messages planned, and with `--profile` the functions that took most of the time (cProfile,
cumulative).

    .venv/bin/python -m bench.case_events --events 3000 --batch 25 [--profile] [--database-url ...]
"""

from __future__ import annotations

import argparse
import cProfile
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from bench.e2e_dispatch import intake_records
from bench.intake_batches import in_batches, print_profile
from consumers.app import INFLOWS, apply_together
from consumers.case_events import in_turn
from consumers.hotspots import HotspotCounter
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import upgrade
from dispatcher.adapters.outbox_store import OutboxRecord, OutboxStore
from dispatcher.bootstrap import bootstrap
from dispatcher.contract.cloudevents import KafkaRecord
from dispatcher.contract.events import Topic
from dispatcher.settings import Settings
from jiesu.heap import settle_heap
from jiesu.worker import notifications_of

INTAKE_BATCH = 200


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000, help="requests applied through the intake")
    parser.add_argument("--batch", type=int, default=25, help="case events per batch read")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of the batches")
    parser.add_argument("--profile-file", default=None, help="with --profile: also save the statistics there")
    args = parser.parse_args()

    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='jiesu-bench-')) / 'jiesu.db'}"
    upgrade(url)
    settings = Settings(database_url=url)
    system = bootstrap(settings)
    assert system.batch is not None
    # as `jiesu.worker.worker_app` builds the `cases` agent's reader
    counter = HotspotCounter(system.engine, system.clock, settings.topic(Topic.HOTSPOTS))
    planner = notifications_of(settings, system).planner
    read = in_turn(counter.count_records, planner.plan_records)
    settle_heap()  # as `jiesu run` does once built, before reading anything
    first = datetime.now(UTC).replace(microsecond=0)
    intake = settings.topic(Topic.INTAKE)
    requests = [
        KafkaRecord(intake, record.key, record.value, list(record.headers), 0, offset)
        for offset, record in enumerate(intake_records(intake, args.events, first))
    ]
    for start in range(0, len(requests), INTAKE_BATCH):
        apply_together(
            INFLOWS[Topic.INTAKE], system.bus, system.batch, requests[start : start + INTAKE_BATCH]
        )

    published: list[OutboxRecord] = []

    def publish(records: Sequence[OutboxRecord]) -> None:
        published.extend(records)

    outbox = OutboxStore(system.engine, system.clock)
    while outbox.relay_batch(1000, publish):
        pass
    cases_topic = settings.topic(Topic.CASES)
    records = [
        KafkaRecord(r.topic, r.key, r.value, r.headers, 0, offset)
        for offset, r in enumerate(r for r in published if r.topic == cases_topic)
    ]

    warmup, measured = records[: args.batch], records[args.batch :]
    read(warmup)
    with system.engine.connect() as connection:
        planned_before = connection.execute(select(func.count()).select_from(t.notifications)).scalar_one()

    profile = cProfile.Profile() if args.profile else None
    cpu, wall = in_batches(read, measured, args.batch, profile)

    with system.engine.connect() as connection:
        planned = connection.execute(select(func.count()).select_from(t.notifications)).scalar_one()
        hotspots = connection.execute(select(func.count()).select_from(t.hotspots)).scalar_one()
    n = len(measured)
    dispatched = sum(
        r.header("ce_type") in ("jiesu.case.dispatched", "jiesu.case.redispatched") for r in measured
    )
    print(
        f"{url.split(':', 1)[0]}: {n} case events ({dispatched} dispatched) in batches of {args.batch}: "
        f"{n / wall:.0f}/s, {cpu * 1000 / n:.3f} ms CPU/record, {cpu * 1000 / max(dispatched, 1):.3f} ms "
        f"CPU/dispatched case, {planned - planned_before} messages planned, {hotspots} hotspots"
    )
    print_profile(profile, args.profile_file)
    system.engine.dispose()


if __name__ == "__main__":
    main()
