"""Bad input at volume: malformed records of every kind in `bench.malformed`, interleaved with good requests,
through a fresh `jiesu run` on fresh topics; then every record is accounted for.

Each bad record must give exactly one dead letter with its reason (or, for the valid-but-hostile kinds, one
case with its text stored verbatim), each good request exactly one `jiesu.case.dispatched`, and the worker
must still be running at the end. Prints a table per kind; exits 1 if any count is off.

    .venv/bin/python -m bench.bad_input --bad 10000 --good 2000 [--database-url postgresql+psycopg://...]

"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import select

from bench.e2e_dispatch import worker_env
from bench.malformed import CASE_OUTCOMES, IGNORED, MARKER, Planned, kinds_for, mix
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import make_engine, upgrade
from dispatcher.contract.cloudevents import RejectReason
from dispatcher.settings import Settings
from jiesu.localkafka.topics import create_topics

ROOT = Path(__file__).resolve().parent.parent
REASONS = {reason.value for reason in RejectReason}
CASE_EVENTS = {"jiesu.case.dispatched", "jiesu.case.queued", "jiesu.case.linked"}


@dataclass
class Observed:
    dead: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # marker -> reasons
    events: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # ticket -> types
    cases: dict[str, dict[str, str]] = field(default_factory=dict)  # ticket -> stored texts
    stray: int = 0  # dead letters that name no record sent
    seconds: float = 0.0


@dataclass
class Row:
    kind: str
    expect: str
    sent: int = 0
    cases: int = 0
    events: int = 0
    dead: int = 0
    duplicates: int = 0
    lost: int = 0
    unexpected: int = 0
    examples: list[str] = field(default_factory=list)  # what went wrong, a few

    @property
    def clean(self) -> bool:
        return self.duplicates == self.lost == self.unexpected == 0


def produce(bootstrap: str, topic: str, planned: Sequence[Planned]) -> None:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        batch_size=256 * 1024,
        max_in_flight_requests_per_connection=1,
    )
    for item in planned:
        record = item.record
        producer.send(topic, key=record.key, value=record.value, headers=record.headers)
    producer.flush(timeout=120)
    producer.close(timeout=10)


def collect(settings: Settings, planned: Sequence[Planned], timeout: float, settle: float) -> Observed:
    """Read the dead-letter and cases topics until every record that must have an outcome has one, then
    `settle` seconds more (a duplicate would show), or until `timeout`; then the cases in the database."""
    markers = {item.marker for item in planned}
    owned = {item.ticket for item in planned if item.owns}
    needed = sum(1 for item in planned if item.expect != IGNORED)
    observed = Observed()
    consumer = KafkaConsumer(
        settings.topic("deadletter"),
        settings.topic("cases"),
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    began = time.monotonic()
    until = began + timeout
    done_at: float | None = None
    while time.monotonic() < until:
        for batch in consumer.poll(timeout_ms=200).values():
            for message in batch:
                headers = {name: value for name, value in message.headers or ()}
                if message.topic == settings.topic("deadletter"):
                    marker = headers.get(MARKER, b"").decode()
                    if marker in markers:
                        observed.dead[marker].append(headers.get("jiesu_reason", b"").decode())
                    else:
                        observed.stray += 1
                elif (event := headers.get("ce_type", b"").decode()) in CASE_EVENTS and message.key:
                    ticket = message.key.decode()
                    if ticket in owned:
                        observed.events[ticket].append(event)
        if done_at is None and len(observed.dead) + len(observed.events) >= needed:
            done_at = time.monotonic()
            until = done_at + settle
    observed.seconds = (done_at or time.monotonic()) - began
    consumer.close()
    engine = make_engine(settings.database_url)
    c = t.cases.c
    with engine.connect() as connection:
        for ticket, description, location, requester in connection.execute(
            select(c.ticket_id, c.description, c.location, c.requester)
        ):
            observed.cases[ticket] = {
                "description": description,
                "location.address": (location or {}).get("address") or "",
                "requester.name": (requester or {}).get("name") or "",
            }
    engine.dispose()
    return observed


def outcome(item: Planned, observed: Observed) -> str:
    """ok, lost or unexpected (with what was seen)."""
    dead = observed.dead.get(item.marker, [])
    case = observed.cases.get(item.ticket) if item.owns else None
    events = observed.events.get(item.ticket, []) if item.owns else []
    if item.expect == IGNORED:
        return "ok" if not dead else f"unexpected: dead-lettered {dead}"
    if not dead and case is None and not events:
        return "lost"
    if case is not None and any(case.get(path) != sent for path, sent in item.texts):
        return "unexpected: stored text differs from what was sent"
    if item.expect in REASONS:
        right = dead[:1] == [item.expect] and case is None and not events
    else:
        right = not dead and case is not None and events[:1] == [CASE_OUTCOMES[item.expect]]
    return "ok" if right else f"unexpected: dead letters {dead}, case {case is not None}, events {events}"


def tally(planned: Sequence[Planned], observed: Observed) -> list[Row]:
    rows: dict[str, Row] = {}
    for item in planned:
        row = rows.setdefault(item.kind, Row(item.kind, item.expect))
        dead = observed.dead.get(item.marker, [])
        events = observed.events.get(item.ticket, []) if item.owns else []
        row.sent += 1
        row.dead += len(dead)
        row.events += len(events)
        row.cases += 1 if item.owns and item.ticket in observed.cases else 0
        row.duplicates += max(len(dead) - 1, 0) + max(len(events) - 1, 0)
        result = outcome(item, observed)
        if result == "lost":
            row.lost += 1
        elif result != "ok":
            row.unexpected += 1
        if result != "ok" and len(row.examples) < 3:
            row.examples.append(f"{item.marker}: {result}")
    good = [rows.pop("good")] if "good" in rows else []
    return good + sorted(rows.values(), key=lambda row: (row.expect in REASONS, row.kind))


COLUMNS = ("kind", "expected", "sent", "cases created", "events published", "dead-lettered")
FIGURES = ("sent", "cases", "events", "dead", "duplicates", "lost", "unexpected")


def table(rows: Sequence[Row]) -> str:
    """The rows as a markdown table, with a total."""
    lines = ["| " + " | ".join([*COLUMNS, *FIGURES[4:]]) + " |", "|---|---|" + "---:|" * len(FIGURES)]
    total = Row("**total**", "")
    for row in rows:
        expect = f"dead letter `{row.expect}`" if row.expect in REASONS else row.expect
        lines.append(_line(row.kind, expect, row))
        for name in FIGURES:
            setattr(total, name, getattr(total, name) + getattr(row, name))
    lines.append(_line(total.kind, "", total))
    return "\n".join(lines)


def _line(kind: str, expect: str, row: Row) -> str:
    return "| " + " | ".join([kind, expect, *(str(getattr(row, name)) for name in FIGURES)]) + " |"


def stop(worker: subprocess.Popen[bytes], grace: float = 60.0) -> int | None:
    """SIGTERM, as an operator would; the exit code, or None if it had to be killed after `grace` seconds."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    try:
        return worker.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=10)
        return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--bad", type=int, default=10_000)
    parser.add_argument("--good", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--kinds", default="", help="comma-separated kind names (default: all that do not stop the worker)"
    )
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for every outcome")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds to wait for duplicates after that")
    args = parser.parse_args(argv)

    prefix = f"bad{uuid.uuid4().hex[:8]}."
    workdir = Path(tempfile.mkdtemp(prefix="jiesu-bad-input-"))
    url = args.database_url or f"sqlite:///{workdir / 'jiesu.db'}"
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    settings = Settings(
        database_url=url,
        kafka_bootstrap=args.bootstrap,
        topic_prefix=prefix,
        consumer_group=f"{prefix}jiesu",
        state_dir=workdir / "state",
        catalog_dir=ROOT / "config" / "catalog",
    )
    named = [name for name in args.kinds.split(",") if name]
    kinds = kinds_for(named)
    create_topics(settings)
    upgrade(url)
    began = time.monotonic()
    planned = mix(args.bad, args.good, args.seed, kinds)
    generated = time.monotonic() - began
    log = (workdir / "worker.log").open("ab")
    worker = subprocess.Popen(
        [sys.executable, "-m", "jiesu", "run", "--log-level", "warn"],
        env=worker_env(settings),
        stdout=log,
        stderr=log,
    )
    try:
        produce(args.bootstrap, settings.topic("intake"), planned)
        observed = collect(settings, planned, args.timeout, args.settle)
        alive = worker.poll() is None
    finally:
        exit_code = stop(worker)
    rows = tally(planned, observed)
    counts = Counter(item.kind for item in planned)
    kinds_sent = len(counts) - ("good" in counts)
    print(
        f"{args.bad} bad records of {kinds_sent} kinds and {args.good} good requests (seed {args.seed}, "
        f"generated in {generated:.1f} s), database {backend}, worker log {workdir / 'worker.log'}"
    )
    print()
    print(table(rows))
    print()
    print(f"all outcomes in {observed.seconds:.1f} s; dead letters naming no record sent: {observed.stray}")
    stopped = "did not stop within 60 s: killed" if exit_code is None else f"exit code {exit_code}"
    print(f"worker alive at the end: {'yes' if alive else 'NO'}; after SIGTERM: {stopped}")
    for row in rows:
        for example in row.examples:
            print(f"  {example}")
    return 0 if all(row.clean for row in rows) and observed.stray == 0 and alive and exit_code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
