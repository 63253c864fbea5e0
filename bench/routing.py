"""In process: routing a request alone, with the router `jiesu run` uses, to profile it.

The simulated `jiesu.complaint.received` records of `bench.e2e_dispatch` are decoded the way the intake
agent decodes them (`consumers.intake.command_for`) into complaints, which the router of
`dispatcher.bootstrap.bootstrap` routes (`route(complaint, received_at)`: the place, the classifier and text
model for those without a category, the rules, the person on duty). Nothing else: no database, no events.
Prints requests/s and ms of CPU per request (this process's CPU time, for a shared machine) of each of
`--rounds` passes after one warm-up pass, and with `--profile` the top of a cProfile of one more pass.

    .venv/bin/python -m bench.routing [--requests 3000] [--rounds 5] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time
from datetime import UTC, datetime

from bench.e2e_dispatch import intake_records
from consumers.intake import command_for
from dispatcher.adapters.catalog import ReloadingRouter
from dispatcher.bootstrap import bootstrap
from dispatcher.contract.cloudevents import KafkaRecord
from dispatcher.contract.events import Topic
from dispatcher.settings import Settings
from rules.complaint import Complaint

START = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # fixed: the same requests in every run


def requests(settings: Settings, count: int) -> list[Complaint]:
    topic = settings.topic(Topic.INTAKE)
    return [
        command_for(KafkaRecord(topic, record.key, record.value, list(record.headers), 0, offset)).complaint
        for offset, record in enumerate(intake_records(topic, count, START))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of one pass")
    parser.add_argument("--top", type=int, default=30, help="with --profile: functions listed")
    args = parser.parse_args()

    settings = Settings(database_url="sqlite://")
    router = bootstrap(settings).router
    assert isinstance(router, ReloadingRouter)
    complaints = requests(settings, args.requests)
    without = sum(complaint.category is None for complaint in complaints)
    print(f"{len(complaints)} requests, {without} without a category; router {router.catalog().version}")

    def one_pass() -> float:
        began = time.process_time()
        for complaint in complaints:
            router.route(complaint, complaint.received_at)
        return time.process_time() - began

    one_pass()  # warm-up
    cpu = [one_pass() for _ in range(args.rounds)]
    n = len(complaints)
    for seconds in cpu:
        print(f"  {n / seconds:,.0f} requests/s, {seconds * 1000 / n:.3f} ms CPU/request")
    best, median = min(cpu), statistics.median(cpu)
    print(f"median {median * 1000 / n:.3f} ms CPU/request ({n / median:,.0f}/s), best {best * 1000 / n:.3f}")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        one_pass()
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
