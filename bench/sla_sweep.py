"""SLA sweeper benchmark: many open cases, one sweep with nothing due, and a mass breach.

In one run: N open cases with their timers (4 per stage: warning, breach, two ladder steps) in the
database; the cost of a sweep when nothing is due; then 10,000 cases breaching at the same second, all
fired through the message bus; and the baseline a team would reach for first, one APScheduler date job per
deadline in the SQLAlchemy job store, inserted and fired.

    .venv/bin/python -m bench.sla_sweep --cases 1000000 [--database-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, insert, select

from consumers.sweeper import start_sweeper, sweep
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import make_engine, upgrade
from dispatcher.bootstrap import bootstrap
from dispatcher.settings import Settings
from tests.support.catalogs import write_catalog

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
FIRED = 0
LOCK = threading.Lock()


def fill(engine, cases: int, breaching: int, chunk: int = 20_000) -> None:  # type: ignore[no-untyped-def]
    """`cases` open cases; the first `breaching` breach their acknowledge deadline at T0 + 1 h exactly."""
    for start in range(0, cases, chunk):
        numbers = range(start, min(start + chunk, cases))
        case_rows, timer_rows, deadline_rows = [], [], []
        for n in numbers:
            ticket = f"B{n:08d}"
            due = T0 + timedelta(hours=1) if n < breaching else T0 + timedelta(days=30 + n % 30)
            case_rows.append(
                {
                    "ticket_id": ticket,
                    "state": "dispatched",
                    "urgency": "urgent",
                    "channel": "phone",
                    "kind": "complaint",
                    "description": "暖气不热",
                    "category": "010101",
                    "location": {},
                    "requester": {},
                    "attachments": [],
                    "received_at": T0,
                    "dispatched_at": T0,
                    "version": 0,
                }
            )
            deadline_rows.append(
                {"ticket_id": ticket, "stage": "acknowledge", "due_at": due, "status": "pending"}
            )
            for kind, level, at in (
                ("warning", 0, T0 + (due - T0) * 0.75),
                ("escalation", 1, due),
                ("escalation", 2, due + timedelta(hours=2)),
                ("escalation", 3, due + timedelta(hours=4)),
            ):
                timer_rows.append(
                    {
                        "ticket_id": ticket,
                        "stage": "acknowledge",
                        "kind": kind,
                        "level": level,
                        "due_at": at,
                        "deadline": due,
                        "target": "ent-heating:post_supervisor",
                        "status": "pending",
                    }
                )
        with engine.begin() as connection:
            connection.execute(insert(t.cases), case_rows)
            connection.execute(insert(t.deadlines), deadline_rows)
            connection.execute(insert(t.sla_timers), timer_rows)


def fill_steady(engine, first: int, count: int, start: datetime, every: float) -> None:  # type: ignore[no-untyped-def]
    """`count` more open cases whose acknowledge deadline falls one every `every` seconds after `start`."""
    case_rows, deadline_rows, timer_rows = [], [], []
    for n in range(first, first + count):
        ticket = f"S{n:08d}"
        due = start + timedelta(seconds=every * (n - first + 1))
        case_rows.append(
            {
                "ticket_id": ticket,
                "state": "dispatched",
                "urgency": "urgent",
                "channel": "phone",
                "kind": "complaint",
                "description": "暖气不热",
                "category": "010101",
                "location": {},
                "requester": {},
                "attachments": [],
                "received_at": T0,
                "dispatched_at": T0,
                "version": 0,
            }
        )
        deadline_rows.append(
            {"ticket_id": ticket, "stage": "acknowledge", "due_at": due, "status": "pending"}
        )
        timer_rows.append(
            {
                "ticket_id": ticket,
                "stage": "acknowledge",
                "kind": "escalation",
                "level": 1,
                "due_at": due,
                "deadline": due,
                "target": "ent-heating:post_supervisor",
                "status": "pending",
            }
        )
    with engine.begin() as connection:
        connection.execute(insert(t.cases), case_rows)
        connection.execute(insert(t.deadlines), deadline_rows)
        connection.execute(insert(t.sla_timers), timer_rows)


def steady_delays(engine, system, clock_now, count: int, every: float) -> list[float]:  # type: ignore[no-untyped-def]
    """Deadlines coming due one every `every` seconds, the sweeper running every second on a clock that
    moves with real time: seconds from each deadline to its events committed to the outbox."""
    start = T0 + timedelta(hours=1, minutes=30)  # after the mass breach, before its level-2 steps
    fill_steady(engine, 0, count, start, every)
    began = time.perf_counter()

    clock_now[0] = lambda: start + timedelta(seconds=time.perf_counter() - began)
    scheduler = start_sweeper(engine, system.bus, system.clock, every_seconds=1.0)
    time.sleep(every * count + 3)
    scheduler.shutdown(wait=True)
    with engine.connect() as connection:
        due = dict(
            connection.execute(
                select(t.deadlines.c.ticket_id, t.deadlines.c.due_at).where(
                    t.deadlines.c.ticket_id.like("S%")
                )
            ).all()
        )
        published: dict[str, datetime] = {}
        for key, at in connection.execute(
            select(t.outbox.c.key, t.outbox.c.created_at).where(t.outbox.c.created_at >= start)
        ):
            ticket = key.decode()
            published[ticket] = max(at, published.get(ticket, at))
    return [(published[ticket] - due[ticket]).total_seconds() for ticket in published if ticket in due]


def count_fired() -> None:
    global FIRED
    with LOCK:
        FIRED += 1


def apscheduler_baseline(jobs: int, folder: Path) -> tuple[float, float]:
    """One date job per deadline in a SQLAlchemy job store: jobs inserted per second, and fired per second."""
    store = SQLAlchemyJobStore(url=f"sqlite:///{folder / 'jobs.db'}")
    scheduler = BackgroundScheduler(
        jobstores={"default": store}, executors={"default": ThreadPoolExecutor(4)}, timezone="UTC"
    )
    scheduler.start(paused=True)
    began = time.perf_counter()
    due = datetime.now(UTC) + timedelta(seconds=1)
    for n in range(jobs):
        scheduler.add_job(count_fired, "date", run_date=due, id=f"B{n}", misfire_grace_time=None)
    inserted = jobs / (time.perf_counter() - began)
    began = time.perf_counter()
    scheduler.resume()
    while jobs > FIRED and time.perf_counter() - began < 600:
        time.sleep(0.05)
    fired = FIRED / (time.perf_counter() - began)
    scheduler.shutdown(wait=False)
    return inserted, fired


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--breaching", type=int, default=10_000)
    parser.add_argument("--steady", type=int, default=600, help="deadlines for the delay measure (10/s)")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="jiesu-sla-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'jiesu.db'}"
    upgrade(url)
    engine = make_engine(url)
    began = time.perf_counter()
    fill(engine, args.cases, args.breaching)
    print(
        f"filled {args.cases:,} open cases ({4 * args.cases:,} timers) in {time.perf_counter() - began:.0f} s"
    )

    clock_now = [lambda: T0 + timedelta(minutes=1)]
    system = bootstrap(
        Settings(database_url=url, catalog_dir=write_catalog(folder / "catalog")),
        clock=lambda: clock_now[0](),
        engine=engine,
    )
    empty = []
    for _ in range(50):
        started = time.perf_counter()
        sweep(engine, system.bus, system.clock)
        empty.append((time.perf_counter() - started) * 1000)
    print(
        f"sweep with nothing due: p50 {statistics.median(empty):.2f} ms, max {max(empty):.2f} ms (50 sweeps)"
    )

    clock_now[0] = lambda: T0 + timedelta(minutes=45)  # 75% of the hour: the warnings come due
    started = time.perf_counter()
    warned = sweep(engine, system.bus, system.clock)
    print(f"warnings: {warned:,} fired in {time.perf_counter() - started:.1f} s")

    clock_now[0] = lambda: T0 + timedelta(hours=1)  # the deadline: every breach and level-1 step is due
    started = time.perf_counter()
    looked_at = sweep(engine, system.bus, system.clock)
    elapsed = time.perf_counter() - started
    with engine.connect() as connection:
        fired = connection.execute(
            select(func.count()).where(t.sla_timers.c.status == "fired", t.sla_timers.c.kind == "escalation")
        ).scalar_one()
    print(
        f"mass breach: {args.breaching:,} cases breaching at the same second, {fired:,} escalated "
        f"in {elapsed:.1f} s = {looked_at / elapsed:,.0f} timers/s"
    )

    delays = sorted(steady_delays(engine, system, clock_now, args.steady, 0.1))
    print(
        f"steady load, {args.steady} deadlines at 10/s, sweeper every second: deadline to events in the "
        f"outbox p50 {delays[len(delays) // 2]:.2f} s, p99 {delays[int(len(delays) * 0.99) - 1]:.2f} s, "
        f"max {delays[-1]:.2f} s ({len(delays)} fired)"
    )

    jobs = min(args.breaching, 10_000)
    inserted, fired_rate = apscheduler_baseline(jobs, folder)
    ours = looked_at / elapsed
    print(
        f"baseline: APScheduler date jobs in a SQLAlchemy job store (SQLite): {inserted:,.0f} inserted/s, "
        f"{fired_rate:,.0f} fired/s for {jobs:,} jobs"
    )
    print(f"ratio ours (timers fired/s, with events and audit) / baseline fired/s: {ours / fired_rate:.2f}")


if __name__ == "__main__":
    main()
