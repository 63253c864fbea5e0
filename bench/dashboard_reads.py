"""The dashboard's reads of one district, each timed alone on a database that is already there (SQLite or
PostgreSQL): as many open cases as a run of `bench/memory.py` or `bench/web_under_load.py --keep-database`
left, or a center's own copy. Each read through the read-side function the page calls (`dispatcher.reads`),
after a warm-up; then, with `--plans`, the plan each of its statements got.

    .venv/bin/python -m bench.dashboard_reads --database-url sqlite:////tmp/jiesu-memory-…/jiesu.db
    .venv/bin/python -m bench.dashboard_reads --database-url postgresql+psycopg://… --district 110105 --plans

Prints the open cases of the district, then the median and the slowest of `--reps` timings of each read,
in ms; the sum of the medians is what the page would take reading them one after the other.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event, func, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import make_engine
from dispatcher.domain.access import Visible
from dispatcher.reads import dashboard, pauses, queues
from dispatcher.reads import escalations as fired
from dispatcher.reads import rows as r


def reads(engine: Engine, district: str, now: datetime) -> dict[str, Callable[[], Any]]:
    """The district supervisor's dashboard's reads of its cases, by the panel's name."""
    scope = Visible(district=district)
    return {
        "drill-down (open cases by street)": lambda: dashboard.open_counts(
            engine, now=now, visible=scope, district=district, by="street"
        ),
        "overdue cases by unit": lambda: dashboard.overdue_by_unit(engine, now=now, visible=scope),
        "escalations": lambda: fired.escalations(engine, district=district, limit=100),
        "open emergencies": lambda: queues.open_emergencies(engine, now=now, visible=scope),
        "returns to arbitrate": lambda: queues.arbitration_queue(engine, now=now, visible=scope, limit=10),
        "extensions asked": lambda: queues.pending_extensions(engine, visible=scope),
        "pauses asked": lambda: pauses.pause_requests(engine, visible=scope),
        "pauses counted": lambda: pauses.pause_counts(engine, visible=scope),
        "waiting at the center": lambda: queues.waiting(engine, now=now, visible=scope),
    }


def busiest_district(engine: Engine) -> tuple[str, int]:
    """The district with the most open cases, and how many."""
    k = t.cases.c
    query = (
        select(k.district, func.count())
        .where(k.state.in_(r.NOT_DONE))
        .group_by(k.district)
        .order_by(func.count().desc())
        .limit(1)
    )
    with engine.connect() as connection:
        district, count = connection.execute(query).one()
    return str(district), int(count)


def plans(engine: Engine, read: Callable[[], Any]) -> list[str]:
    """The plan of each statement `read` sends."""
    said: list[tuple[str, Any]] = []

    def listen(*args: Any) -> None:
        said.append((args[2], args[3]))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        read()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    lines = []
    with engine.connect() as connection:
        for statement, parameters in said:
            if statement.lstrip().upper().startswith("SELECT"):
                steps = connection.exec_driver_sql(explain + statement, parameters)
                lines.extend(str(step[-1]) for step in steps)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--district", default=None, help="default: the one with the most open cases")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--plans", action="store_true", help="also each statement's plan")
    args = parser.parse_args()
    engine = make_engine(args.database_url)
    if args.district is None:
        district, count = busiest_district(engine)
        print(f"district {district}: {count:,} open cases")
    else:
        district = args.district
        print(f"district {district}")
    print("| read | median ms | slowest ms |")
    print("|---|---|---|")
    total = 0.0
    now = datetime.now(UTC)
    for name, read in reads(engine, district, now).items():
        read()  # warm-up
        timings = []
        for _ in range(args.reps):
            start = time.perf_counter()
            read()
            timings.append((time.perf_counter() - start) * 1000)
        total += statistics.median(timings)
        print(f"| {name} | {statistics.median(timings):.1f} | {max(timings):.1f} |", flush=True)
        if args.plans:
            for line in plans(engine, read):
                print(f"|   {line} | | |")
    print(f"| all, one after the other | {total:.1f} | |")
    engine.dispose()


if __name__ == "__main__":
    main()
