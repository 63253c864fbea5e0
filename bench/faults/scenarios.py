"""The fault scenarios. Each runs on a fresh database and fresh topics of the throwaway infrastructure,
injects its fault while work is under way, lets the system recover, and checks the outcome."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text

from bench.faults.checks import Outcome, check_intake, check_timers, events_of, unsent_outbox
from bench.faults.infra import Broker, Postgres, Worker, wait_for
from bench.faults.traffic import Stream, committed_offsets, end_offsets, read_topic
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import make_engine, upgrade
from dispatcher.settings import Settings
from jiesu.localkafka.topics import create_topics, group_state

ROOT = Path(__file__).resolve().parents[2]
SETTLE_TIMEOUT_S = 300.0
# the lock the sweeper's claim (SELECT ... FOR UPDATE SKIP LOCKED) takes on sla_timers; nothing else takes it
CLAIMED = "RowShareLock"


@dataclass(frozen=True)
class Options:
    count: int = 3000
    rate: float = 200.0
    timer_cases: int = 600
    outage_seconds: float = 30.0
    partitions: int = 6
    notifications: bool = True
    seed: int = 12345


@dataclass
class Run:
    """One scenario's database, topics, consumer group and workers."""

    name: str
    lab: Lab
    settings: Settings
    engine: Engine
    outcome: Outcome
    workers: list[Worker] = field(default_factory=list)

    def worker(self) -> Worker:
        name = f"{self.name}-w{len(self.workers) + 1}"
        url = self.lab.postgres.url(self.settings.database_url.rsplit("/", 1)[1], application=name)
        settings = self.settings.model_copy(
            update={"database_url": url, "state_dir": self.lab.root / name / "state"}
        )
        worker = Worker(name, settings, self.lab.root / f"{name}.log")
        self.workers.append(worker)
        return worker

    def topic(self, name: str) -> str:
        return self.settings.topic(name)

    def stream(self, count: int, rate: float) -> Stream:
        seed = self.lab.options.seed + len(self.name)
        stream = Stream(self.lab.broker.bootstrap, self.topic("intake"), count, rate, seed)
        stream.start()
        return stream

    def scalar(self, query: Any) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def cases(self) -> int:
        return self.scalar(select(func.count()).select_from(t.cases))

    def try_cases(self) -> int:
        """The case count, or -1 while the database does not answer."""
        try:
            return self.cases()
        except Exception:
            return -1

    def locks(self, worker: Worker, table: str, mode: str | None = None) -> list[str]:
        """The worker's open transactions holding a lock on `table` (of `mode` if given): lock mode and the
        statement running or last run, from pg_locks and pg_stat_activity."""
        query = text(
            "SELECT l.mode, a.state, left(a.query, 50) "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE a.application_name = :name AND l.relation = CAST(:table AS regclass) "
            "AND (CAST(:mode AS text) IS NULL OR l.mode = :mode)"
        )
        with self.engine.connect() as connection:
            rows = connection.execute(query, {"name": worker.name, "table": table, "mode": mode})
            return [f"{lock} on {table} ({state}: {' '.join(sql.split())})" for lock, state, sql in rows]

    def kill_inside(
        self, worker: Worker, table: str, mode: str | None = None, within: float = 5.0
    ) -> list[str]:
        """SIGKILL the worker the moment one of its transactions is seen holding a lock on `table`; what
        was seen ([] if none within `within` seconds: killed anyway)."""
        deadline = time.monotonic() + within
        seen: list[str] = []
        while not seen and time.monotonic() < deadline:
            seen = self.locks(worker, table, mode)
        worker.kill()
        return seen

    def settle(self, stream: Stream, timeout: float = SETTLE_TIMEOUT_S) -> None:
        """Wait for the stream to end and the system to drain: a case for every request the broker
        acknowledged, the outbox empty."""
        wait_for(stream.finished.is_set, timeout, "the request stream to end")
        if stream.error is not None:
            raise RuntimeError(f"the request stream failed: {stream.error!r}")
        if stream.failed:
            self.outcome.problem(f"{len(stream.failed)} requests not accepted by the broker")
        expected = len(stream.acked)

        def drained() -> bool:
            self.check_workers()
            return self.try_cases() >= expected and unsent_outbox(self.engine) == 0

        wait_for(drained, timeout, "every request to have its case and the outbox to drain", every=0.5)

    def check_workers(self) -> None:
        """A worker that exited without being told to is a failure of the scenario."""
        for worker in self.workers:
            code = worker.process.poll() if worker.process is not None else None
            if code is not None and not worker.ended_by_us:
                worker.ended_by_us = True
                self.outcome.problem(f"worker {worker.name} exited by itself (exit code {code})")
                raise RuntimeError(
                    f"worker {worker.name} exited by itself (exit code {code}):\n{worker.tail()}"
                )

    def consuming(self, members: int = 1, timeout: float = 120) -> None:
        """Wait until the workers have joined the consumer group and it is stable."""

        def stable() -> bool:
            self.check_workers()
            state, joined = group_state(self.lab.broker.bootstrap, self.settings.consumer_group)
            return state == "Stable" and joined >= members

        wait_for(stable, timeout, f"{members} worker(s) consuming", every=0.5)

    def stop_workers(self, timeout: float = 60) -> None:
        """SIGTERM to every running worker at once, then wait; one still running after `timeout` seconds is
        killed and noted."""
        running = [worker for worker in self.workers if worker.alive]
        for worker in running:
            worker.terminate()
        for worker in running:
            code = worker.wait(timeout)
            if code is None:
                self.outcome.notes.append(
                    f"worker {worker.name} still running {timeout:.0f} s after SIGTERM: killed"
                )
            elif code != 0:
                self.outcome.notes.append(f"worker {worker.name} exited with code {code} on SIGTERM")

    def verify_intake(self, stream: Stream) -> None:
        acked = {sent.ticket: sent.event_id for sent in stream.sent if sent.event_id in stream.acked}
        events = events_of(read_topic(self.lab.broker.bootstrap, self.topic("cases")))
        dead = events_of(read_topic(self.lab.broker.bootstrap, self.topic("deadletter")))
        check_intake(self.outcome, self.engine, acked, self.topic("cases"), events, dead)

    def close(self) -> None:
        for worker in self.workers:
            worker.kill()
        self.engine.dispose()


class Lab:
    """The throwaway infrastructure of one `python -m bench.faults` run."""

    def __init__(self, root: Path, postgres: Postgres, broker: Broker, options: Options) -> None:
        self.root = root
        self.postgres = postgres
        self.broker = broker
        self.options = options

    def recover(self) -> None:
        """After a scenario, whatever happened in it: PostgreSQL and the broker are up again."""
        if not self.postgres.running():
            self.postgres.start()
        self.broker.start()

    def fresh(self, name: str) -> Run:
        """A new database (migrated), new topics and a new consumer group for one scenario."""
        tag = uuid.uuid4().hex[:8]
        url = self.postgres.create_database(f"faults_{name.replace('-', '_')}_{tag}")
        upgrade(url)
        settings = Settings(
            database_url=url,
            kafka_bootstrap=self.broker.bootstrap,
            topic_prefix=f"faults{tag}.",
            topic_partitions=self.options.partitions,
            consumer_group=f"faults-{name}-{tag}",
            catalog_dir=ROOT / "config" / "catalog",
            sla_file=ROOT / "config" / "sla.yaml",
            assessment_file=ROOT / "config" / "assessment.yaml",
            notifications_file=ROOT / "config" / "notifications.yaml",
            notifications=self.options.notifications,
            relay_poll_seconds=0.2,
            state_dir=self.root / name / "state",
            kafka_data_dir=self.broker.settings.kafka_data_dir,
        )
        create_topics(settings)
        return Run(name, self, settings, make_engine(url), Outcome(name))


# ---- the scenarios -------------------------------------------------------------------------------


def kill_worker(run: Run) -> None:
    """Stream requests; SIGKILL the worker while it applies them (a transaction open); start another."""
    options = run.lab.options
    first = run.worker().start()
    run.consuming()
    stream = run.stream(options.count, options.rate)
    wait_for(
        lambda: (
            (stream.handed >= options.count * 0.4 and run.try_cases() >= options.count * 0.1)
            or not first.alive
        ),
        300,
        "40% of the requests sent and 10% applied",
    )
    run.check_workers()
    open_then = run.kill_inside(first, "inbox")  # the intake transaction reads the inbox first
    killed_at = datetime.now(UTC)
    committed = committed_offsets(
        run.lab.broker.bootstrap, run.settings.consumer_group, run.topic("intake"), options.partitions
    )
    run.outcome.notes.append(
        f"SIGKILL at {run.cases()} cases, {stream.handed} requests sent; the worker held then: "
        + ("; ".join(open_then) or "nothing")
    )
    if not open_then:
        run.outcome.problem("the worker was not seen inside an intake transaction when killed")
    time.sleep(1.0)
    run.worker().start()
    run.settle(stream)
    run.stop_workers()
    run.verify_intake(stream)
    check_offsets(run, stream, [committed], killed_at, "when the worker was killed")


def broker_restart(run: Run) -> None:
    """Stream requests; stop the broker (SIGTERM, controlled shutdown) mid-stream, start it again after a
    few seconds; the producer retries, the worker reconnects."""
    options = run.lab.options
    run.worker().start()
    run.consuming()
    stream = run.stream(options.count, options.rate)
    wait_for(
        lambda: stream.handed >= options.count * 0.4 and run.try_cases() >= options.count * 0.1,
        300,
        "40% of the requests sent and 10% applied",
    )
    run.check_workers()
    sent, applied = stream.handed, run.cases()
    began = time.monotonic()
    run.lab.broker.stop()
    stopped = time.monotonic()
    time.sleep(5.0)
    run.lab.broker.start()
    run.outcome.notes.append(
        f"broker stopped at {sent} requests sent, {applied} cases; down {time.monotonic() - began:.1f} s "
        f"(the controlled shutdown took {stopped - began:.1f} s)"
    )
    run.settle(stream)
    run.stop_workers()
    run.verify_intake(stream)


def database_down(run: Run) -> None:
    """Stream requests; stop PostgreSQL for the outage, then start it again. While it is down, the group's
    committed offsets of the intake topic must not pass what was applied before it went down, and nothing
    may be dead-lettered."""
    options = run.lab.options
    run.worker().start()
    run.consuming()
    stream = run.stream(options.count, options.rate)
    wait_for(
        lambda: stream.handed >= options.count * 0.3 and run.try_cases() >= options.count * 0.1,
        300,
        "30% of the requests sent and 10% applied",
    )
    run.check_workers()
    intake, partitions, bootstrap = run.topic("intake"), options.partitions, run.lab.broker.bootstrap
    run.engine.dispose()
    run.lab.postgres.stop("fast")
    stopped_at = datetime.now(UTC)
    before = stream.handed
    snapshots: list[dict[int, int]] = []
    dead_ends: list[int] = []
    outage_end = time.monotonic() + options.outage_seconds
    while time.monotonic() < outage_end:
        snapshots.append(committed_offsets(bootstrap, run.settings.consumer_group, intake, partitions))
        dead_ends.append(sum(end_offsets(bootstrap, run.topic("deadletter"), partitions).values()))
        time.sleep(1.0)
    run.lab.postgres.start()
    run.outcome.notes.append(
        f"PostgreSQL down {options.outage_seconds:.0f} s from {before} requests sent to {stream.handed}; "
        f"{len(snapshots)} readings of the committed offsets during the outage"
    )
    run.check_workers()
    run.settle(stream)
    run.stop_workers()
    run.verify_intake(stream)
    check_offsets(run, stream, snapshots, stopped_at, "during the outage")
    if any(dead_ends):
        run.outcome.problem(f"dead letters published during the outage: up to {max(dead_ends)}")


def check_offsets(
    run: Run, stream: Stream, snapshots: list[dict[int, int]], before: datetime, when: str
) -> None:
    """Every intake record below an offset the group had committed `when` (the readings) was applied
    (its inbox row written) before `before`: an offset is never committed past a record not applied."""
    if not snapshots:
        run.outcome.problem(f"no committed offsets read {when}")
        return
    highest = {p: max(snapshot[p] for snapshot in snapshots) for p in snapshots[0]}
    moved = sum(highest.values()) - sum(snapshots[0].values())
    with run.engine.connect() as connection:
        applied = dict(connection.execute(select(t.inbox.c.event_id, t.inbox.c.processed_at)).tuples().all())
    ahead = []
    for event_id, (partition, offset) in stream.acked.items():
        if offset < highest.get(partition, -1):
            at = applied.get(event_id)
            if at is None or at > before:
                ahead.append(f"{partition}/{offset}")
    if ahead:
        run.outcome.problem(
            f"offsets committed {when} past {len(ahead)} requests not applied by then: "
            f"{', '.join(sorted(ahead)[:5])}"
        )
    moves = f" (moved by {moved} after the first of {len(snapshots)} readings)" if len(snapshots) > 1 else ""
    run.outcome.notes.append(
        f"committed intake offsets {when}, partition: offset: "
        + ", ".join(f"{p}: {o}" for p, o in sorted(highest.items()))
        + f"{moves}; every request below them applied by then: {'yes' if not ahead else 'NO'}"
    )


def due_now(run: Run) -> set[int]:
    """Bring every pending SLA timer due now (its deadline stays): the sweeper fires them all at once."""
    with run.engine.begin() as connection:
        result = connection.execute(
            text(
                "UPDATE sla_timers SET due_at = now() - interval '1 minute' "
                "WHERE status = 'pending' RETURNING id"
            )
        )
        return set(result.scalars())


def prepare_timers(run: Run) -> set[int]:
    """Open `timer_cases` cases through a worker, stop it, and make all their timers due (the first step
    of each ladder: `verify_timers` makes the next ones due as they are planned)."""
    options = run.lab.options
    run.worker().start()
    run.consuming()
    stream = run.stream(options.timer_cases, max(options.rate, 300.0))
    run.settle(stream)
    run.stop_workers()
    run.verify_intake(stream)
    due = due_now(run)
    if not due:
        raise RuntimeError("no SLA timers to fire")
    return due


def fired(run: Run) -> int:
    return run.scalar(select(func.count()).select_from(t.sla_timers).where(t.sla_timers.c.status == "fired"))


def pending_due(run: Run) -> int:
    now = datetime.now(UTC)
    query = select(func.count()).where(t.sla_timers.c.status == "pending", t.sla_timers.c.due_at <= now)
    return run.scalar(query)


def verify_timers(run: Run, due: set[int]) -> None:
    """Wait until every due timer fired; each planned the next step of its ladder (due later): those are
    made due in turn, wave after wave, until every ladder has reached its last step."""

    def done() -> bool:
        run.check_workers()
        return pending_due(run) == 0 and unsent_outbox(run.engine) == 0

    while True:
        wait_for(
            done,
            SETTLE_TIMEOUT_S,
            "every due timer to fire and the outbox to drain",
            every=0.5,
        )
        following = due_now(run)
        if not following:
            break
        due |= following
    run.stop_workers()
    events = events_of(read_topic(run.lab.broker.bootstrap, run.topic("cases")))
    dead = events_of(read_topic(run.lab.broker.bootstrap, run.topic("deadletter")))
    check_timers(run.outcome, run.engine, due, run.topic("cases"), events, datetime.now(UTC))
    if dead:
        run.outcome.problem(f"{len(dead)} dead letters, none expected")
    run.outcome.dead_letters = len(dead)


def sweeper_killed(run: Run) -> None:
    """Many timers due at once; SIGKILL the worker (which runs the sweeper) while it fires a group in a
    transaction; start another; each timer fires exactly once."""
    due = prepare_timers(run)
    sweeper = run.worker().start()
    wait_for(
        lambda: fired(run) >= len(due) * 0.25 or not sweeper.alive, 120, "25% of the timers fired", every=0.02
    )
    run.check_workers()
    open_then = run.kill_inside(sweeper, "sla_timers", CLAIMED)
    before = fired(run)
    run.outcome.notes.append(
        f"SIGKILL with {before} of {len(due)} timers fired; the worker held then: "
        + ("; ".join(open_then) or "nothing")
    )
    if before >= len(due):
        run.outcome.problem("the sweeper had fired every timer before it was killed: no fault injected")
    if not open_then:
        run.outcome.problem("the sweeper was not seen inside a firing transaction when killed")
    time.sleep(1.0)
    run.worker().start()
    verify_timers(run, due)


def two_sweepers(run: Run) -> None:
    """Many timers due at once and two workers (each runs the sweeper) started together on the database."""
    due = prepare_timers(run)
    first, second = run.worker(), run.worker()
    first.start()
    second.start()
    overlap = Overlap(run, first, second)
    overlap.start()
    try:
        verify_timers(run, due)
    finally:
        overlap.running = False
        overlap.join(timeout=5)
    run.outcome.notes.append(
        f"both workers firing timers (a claim lock on sla_timers) at the same moment in {overlap.both} of "
        f"{overlap.samples} readings"
    )
    if not overlap.both:
        run.outcome.problem("the two sweepers were never seen firing at the same time")


class Overlap(threading.Thread):
    """Samples pg_locks: how often both workers hold a claim on SLA timers (are firing) at the same moment."""

    def __init__(self, scenario: Run, first: Worker, second: Worker) -> None:
        super().__init__(daemon=True)
        self.scenario = scenario
        self.pair = (first, second)
        self.samples = 0
        self.both = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            try:
                busy = [bool(self.scenario.locks(worker, "sla_timers", CLAIMED)) for worker in self.pair]
            except Exception:
                busy = [False]
            self.samples += 1
            self.both += all(busy)
            time.sleep(0.02)


SCENARIOS: dict[str, Callable[[Run], None]] = {
    "kill-worker": kill_worker,
    "broker-restart": broker_restart,
    "database-down": database_down,
    "sweeper-killed": sweeper_killed,
    "two-sweepers": two_sweepers,
}
