"""The web app's main pages while the worker runs at its maximum, on a city's year of cases.

A fresh PostgreSQL database is filled with a year of cases as `bench/lists.py` makes them (`--cases`, about
2% still open), then `jiesu web` serves it. Its main pages (a street worker's inbox, a district
supervisor's dashboard, a search by phone; `bench/web_probe.py`) are fetched once a second, first with no
worker running (the baseline), then while `jiesu run` works through `--requests` new requests put on the
intake topic at once (its maximum rate). The database is dropped at the end (`--keep-database`: kept as
the load left it, its name printed).

    .venv/bin/python -m bench.web_under_load --cases 200000 --requests 40000
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.e2e_dispatch import intake_records, wait_until
from bench.flow import Collector, Feed, run_settings, start_jiesu, tally
from bench.lists import city, copy_rows, fill_rows, fresh_database
from bench.web_probe import WebProbe
from dispatcher.adapters.database import make_engine, upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000, help="the year of cases filled in first")
    parser.add_argument("--requests", type=int, default=40_000, help="new requests the worker works through")
    parser.add_argument("--idle-seconds", type=float, default=30, help="the baseline, no worker running")
    parser.add_argument("--admin-url", default="postgresql+psycopg://jiesu:jiesu@127.0.0.1:5432/postgres")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--web-port", type=int, default=18_766)
    parser.add_argument("--timeline", action="store_true", help="also each page's fetch times, in order")
    parser.add_argument(
        "--keep-database", action="store_true", help="keep the database as the load left it, to look into"
    )
    args = parser.parse_args()

    name = f"web{uuid.uuid4().hex[:6]}"
    workdir = Path(tempfile.mkdtemp(prefix="jiesu-web-load-"))
    with fresh_database(args.admin_url, keep=args.keep_database) as url:
        upgrade(url)
        rows, _ = fill_rows(args.cases, city(), seed=args.cases)
        copy_rows(url, rows)
        print(f"{len(rows.cases):,} cases filled", flush=True)
        settings = run_settings(url, args.bootstrap, name, workdir, web_port=args.web_port)
        records = intake_records(
            settings.topic("intake"), args.requests, datetime.now(UTC).replace(microsecond=0)
        )
        tickets = {record.key for record in records}
        collector = Collector(args.bootstrap, settings.topic("cases"))
        collector.start()
        engine = make_engine(url)
        log = (workdir / "processes.log").open("ab")
        web = start_jiesu(settings, log, "web")
        worker = None
        probe = WebProbe(engine, lambda: datetime.now(UTC), f"http://127.0.0.1:{args.web_port}")
        try:
            wait_until(lambda: _answers(args.web_port), 60, "jiesu web")
            probe.phase = "no worker"
            probe.start()
            time.sleep(args.idle_seconds)
            Feed(args.bootstrap, settings.topic("intake"), records, None).start().thread.join()
            probe.phase = "worker at its maximum"
            worker = start_jiesu(settings, log, "run", "--log-level", "warn")
            began = time.monotonic()
            wait_until(lambda: len(collector.opened_at) >= len(tickets), 1800, "every request")
            elapsed = time.monotonic() - began
        finally:
            probe.stop()
            for process in (worker, web):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=60)
            collector.stop()
            engine.dispose()
    counts = tally(collector, tickets)
    print(
        f"the worker opened {counts.opened:,} of {counts.sent:,} requests in {elapsed:.0f} s "
        f"({counts.opened / elapsed:.0f}/s, start-up included), duplicates {counts.duplicates}"
    )
    print("\n".join(probe.summary()))
    if args.timeline:
        for (phase, page), taken in probe.timings.items():
            print(f"{phase}, {page}: " + " ".join(f"{ms:.0f}" for ms in taken))


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
