"""Drive `jiesu run` as a user does: a separate process on the real broker and database."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from kafka import KafkaConsumer

from jiesu.localkafka.topics import group_state
from tests.conftest import JIESU


class Worker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = {**os.environ, **env}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *args: str) -> Worker:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([JIESU, "run", *args], env=self.env, stdout=log, stderr=log)
        return self

    def wait_joined(self, members: int = 1, timeout: float = 90.0) -> Worker:
        """Wait until the worker's consumer group is Stable with `members` members: its partitions are
        assigned and what is published from now on is consumed. Fails with the group's last state and the
        worker's log if that does not happen in time, or if the worker exits."""
        bootstrap, group = self.env["JIESU_KAFKA_BOOTSTRAP"], self.env["JIESU_CONSUMER_GROUP"]
        seen: list[tuple[str, int]] = []

        def joined() -> bool:
            assert self.process and self.process.poll() is None, f"the worker exited\n{self.tail()}"
            seen.append(group_state(bootstrap, group))
            return seen[-1] == ("Stable", members)

        wait_for(
            joined, timeout, lambda: f"group {group} Stable with {members} member(s); seen {seen[-1:]}", self
        )
        return self

    def stop(self) -> int:
        """SIGTERM, as an operator or a supervisor would; returns the exit code."""
        assert self.process
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def kill(self) -> None:
        """SIGKILL: a crash, no chance to clean up."""
        assert self.process
        self.process.kill()
        self.process.wait(timeout=10)

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-40:])


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str | Callable[[], str], worker: Worker | None = None
) -> None:
    """Poll `condition` until it holds; fail after `timeout` seconds saying what was awaited (`what` may be
    a function, to describe what was last seen) and, with a worker, the end of its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    described = what() if callable(what) else what
    raise AssertionError(f"timed out waiting for {described}" + (f"\n{worker.tail()}" if worker else ""))


def consume(bootstrap: str, topic: str, expected: int, timeout: float = 60.0, settle: float = 2.0) -> list:
    """Read a topic from the start until `expected` records arrived, then `settle` seconds more
    so that a duplicate would be seen too."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    records: list = []
    deadline = time.monotonic() + timeout
    settle_until: float | None = None
    while time.monotonic() < (settle_until or deadline):
        for batch in consumer.poll(timeout_ms=200).values():
            records.extend(batch)
        if settle_until is None and len(records) >= expected:
            settle_until = time.monotonic() + settle
    consumer.close()
    return records
