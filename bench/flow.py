"""What the scale-out and memory benchmarks share: a stream of requests at a steady rate, a collector of
the events that come out on `jiesu.cases`, the exactly-once count, and `jiesu` processes to start."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from kafka import KafkaConsumer, KafkaProducer

from bench.e2e_dispatch import worker_env
from dispatcher.settings import Settings
from jiesu.localkafka.topics import create_topics

OPENED = {b"jiesu.case.dispatched", b"jiesu.case.queued", b"jiesu.case.linked"}  # a request's first event


class Collector(threading.Thread):
    """Reads `jiesu.cases` from the start: when each ticket's opening event arrived, and every ce_id."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(daemon=True)
        self.opened_at: dict[bytes, float] = {}
        self.openings: defaultdict[bytes, set[bytes]] = defaultdict(set)  # ticket -> ce_ids of openings
        self.records: Counter[bytes] = Counter()  # ce_id -> times seen (a relay repeat keeps its ce_id)
        self.consumer = KafkaConsumer(
            topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
        )
        self.running = True

    def run(self) -> None:
        while self.running:
            for batch in self.consumer.poll(timeout_ms=100).values():
                now = time.monotonic()
                for record in batch:
                    headers = dict(record.headers)
                    self.records[headers.get("ce_id", b"")] += 1
                    if headers.get("ce_type") in OPENED:
                        self.opened_at.setdefault(record.key, now)
                        self.openings[record.key].add(headers.get("ce_id", b""))

    def stop(self) -> None:
        self.running = False
        self.join(timeout=5)
        self.consumer.close()


@dataclass
class Feed:
    """Produces records to a topic at `rate` per second (all at once if None) on its own thread."""

    bootstrap: str
    topic: str
    records: list[Any]
    rate: float | None
    sent: int = 0
    thread: threading.Thread = field(init=False)

    def start(self) -> Feed:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        producer = KafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", linger_ms=5, batch_size=256 * 1024, retries=20
        )
        began = time.monotonic()
        for number, record in enumerate(self.records):
            if self.rate:
                time.sleep(max(0.0, began + number / self.rate - time.monotonic()))
            producer.send(self.topic, key=record.key, value=record.value, headers=record.headers)
            self.sent = number + 1
        producer.flush()
        producer.close()


@dataclass
class Tally:
    sent: int
    opened: int  # tickets with an opening event
    duplicates: int  # tickets opened more than once (different ce_ids)
    lost: int  # tickets sent and never opened
    repeated_records: int  # records seen twice with the same ce_id (the relay's at-least-once)


def tally(collector: Collector, tickets: set[bytes]) -> Tally:
    opened = {ticket for ticket in tickets if collector.openings.get(ticket)}
    duplicates = sum(1 for ticket in tickets if len(collector.openings.get(ticket, ())) > 1)
    repeated = sum(count - 1 for count in collector.records.values() if count > 1)
    return Tally(len(tickets), len(opened), duplicates, len(tickets - opened), repeated)


def start_jiesu(settings: Settings, log: IO[bytes], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "jiesu", *args], env=worker_env(settings), stdout=log, stderr=log
    )


def resident_mb(pid: int) -> float:
    """Resident memory of a process, in MB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no VmRSS for {pid}")


def run_settings(url: str, bootstrap: str, name: str, workdir: Path, **more: Any) -> Settings:
    """Settings of one run apart from any other: its own topics (prefixed `name.`, created here), consumer
    group and state folder."""
    settings = Settings(
        database_url=url,
        kafka_bootstrap=bootstrap,
        topic_prefix=f"{name}.",
        consumer_group=name,
        state_dir=workdir / "state",
        **more,
    )
    create_topics(settings)
    return settings


TICK = os.sysconf("SC_CLK_TCK")


def process_seconds(pid: int) -> float:
    """CPU time of a process so far, all its threads, user and system (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def named(comm: str) -> list[int]:
    """The pids of the processes with this command name (`java` for the broker, `postgres`)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == comm:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def machine_seconds() -> float:
    """Busy CPU time of the whole machine so far, all cores (/proc/stat: all but idle and iowait)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / TICK


class CpuSampler(threading.Thread):
    """Samples, every `every` seconds, the CPU time used so far by groups of processes (each group's pids
    found again at every sample: a worker that starts or ends is counted while it lives) and by the whole
    machine, so the CPU spent over any stretch of a run can be read afterwards (`between`)."""

    def __init__(self, groups: dict[str, Callable[[], Sequence[int]]], every: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.groups, self.every, self.running = groups, every, True
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._seen: dict[str, dict[int, float]] = {name: {} for name in groups}

    def sample(self) -> None:
        totals = {"machine": machine_seconds()}
        for name, pids in self.groups.items():
            seen = self._seen[name]
            for pid in pids():
                seen[pid] = max(seen.get(pid, 0.0), process_seconds(pid))
            totals[name] = sum(seen.values())  # an ended process keeps what it used
        self.samples.append((time.monotonic(), totals))

    def run(self) -> None:
        while self.running:
            self.sample()
            time.sleep(self.every)

    def stop(self) -> None:
        self.running = False
        self.join(timeout=5)
        self.sample()

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds each group (and "machine") used between two moments (the nearest samples)."""
        moments = [at for at, _ in self.samples]

        def at(moment: float) -> dict[str, float]:
            return self.samples[min(bisect_left(moments, moment), len(moments) - 1)][1]

        first, last = at(start), at(end)
        return {name: last[name] - first[name] for name in last}
