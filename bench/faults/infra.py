"""Throwaway infrastructure for the fault scenarios: a PostgreSQL cluster in a temporary folder, a Kafka
broker on its own port and data folder (the project's local broker manager), and `jiesu run` workers as
child processes. Nothing here touches the shared broker or the shared PostgreSQL cluster."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from bench.e2e_dispatch import worker_env
from dispatcher.settings import Settings
from jiesu.localkafka import broker

PG_BIN = Path(os.environ.get("JIESU_FAULTS_PG_BIN", "/usr/lib/postgresql/15/bin"))
HOST = "127.0.0.1"


class InfraError(Exception):
    """The throwaway infrastructure could not be set up."""


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, port)) != 0


def require_free(*ports: int) -> None:
    busy = [port for port in ports if not port_free(port)]
    if busy:
        raise InfraError(
            f"ports already in use on {HOST}: {busy} (choose others with --kafka-port/--pg-port)"
        )


def quiet(line: str) -> None:
    """Reports of the broker manager are not needed here."""


class Postgres:
    """A PostgreSQL cluster of its own: initdb in a temporary folder, trust on 127.0.0.1, one port.

    As root the server runs as the `postgres` OS user (PostgreSQL refuses to run as root)."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root / "postgres"
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = port

    def _command(self, tool: str, *args: str) -> list[str]:
        command = [str(PG_BIN / tool), *args]
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def _run(self, tool: str, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(
            self._command(tool, *args), capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise InfraError(f"{tool} {' '.join(args[:2])} failed: {(result.stdout + result.stderr).strip()}")

    def init(self) -> None:
        if not (PG_BIN / "initdb").is_file():
            raise InfraError(f"no PostgreSQL binaries in {PG_BIN} (set JIESU_FAULTS_PG_BIN)")
        self.root.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale"
        )
        settings = {
            "port": str(self.port),
            "listen_addresses": f"'{HOST}'",
            "unix_socket_directories": f"'{self.root}'",
            "max_connections": "100",
            "logging_collector": "off",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("".join(f"{name} = {value}\n" for name, value in settings.items()))

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        command = self._command("pg_ctl", "-D", str(self.data), "status")
        return subprocess.run(command, capture_output=True, timeout=30, check=False).returncode == 0

    def url(self, database: str = "postgres", application: str | None = None) -> str:
        query = {"application_name": application} if application else {}
        url = URL.create("postgresql+psycopg", "postgres", None, HOST, self.port, database, query=query)
        return url.render_as_string(hide_password=False)

    def create_database(self, name: str) -> str:
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return self.url(name)

    def destroy(self) -> None:
        """Stop the server if it runs (immediately: its data is thrown away) and remove its folder."""
        if self.data.is_dir():
            with contextlib.suppress(InfraError, subprocess.TimeoutExpired):
                if self.running():
                    self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class Broker:
    """A broker of its own through the project's local broker manager: its port, its data folder, the
    cached jars. Stopped with SIGTERM (a controlled shutdown), as an operator would."""

    def __init__(self, root: Path, port: int, partitions: int) -> None:
        self.settings = Settings(
            kafka_bootstrap=f"{HOST}:{port}",
            kafka_data_dir=root / "kafka",
            topic_partitions=partitions,
        )
        self.bootstrap = self.settings.kafka_bootstrap
        self.log = broker.Layout.of(self.settings).log

    def start(self) -> None:
        if broker.start(self.settings, quiet) is None:
            raise InfraError(f"another broker answers on {self.bootstrap}")

    def stop(self) -> None:
        broker.stop(self.settings, quiet)

    def destroy(self) -> None:
        with contextlib.suppress(broker.LocalKafkaError):
            broker.stop(self.settings, quiet)
        shutil.rmtree(self.settings.kafka_data_dir, ignore_errors=True)


def jiesu_command() -> list[str]:
    script = Path(sys.executable).with_name("jiesu")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "jiesu"]


class Worker:
    """One `jiesu run` child process; its database connections carry its name as application_name."""

    def __init__(self, name: str, settings: Settings, log: Path) -> None:
        self.name = name
        self.settings = settings
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.ended_by_us = False

    def start(self) -> Worker:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*jiesu_command(), "run", "--log-level", "info"],
                env=worker_env(self.settings),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # a Ctrl-C of the harness does not reach it; the harness stops it
            )
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: a crash, nothing is cleaned up."""
        if self.process is not None and self.process.poll() is None:
            self.ended_by_us = True
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def terminate(self) -> None:
        """SIGTERM, as an operator or a supervisor stops it."""
        if self.process is not None and self.process.poll() is None:
            self.ended_by_us = True
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int | None:
        """Its exit code; None if it still ran after `timeout` seconds (then it is killed)."""
        if self.process is None:
            return None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM and wait (SIGKILL if it does not stop in time): the exit code, or None."""
        self.terminate()
        return self.wait(timeout)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def wait_for(condition: Callable[[], object], timeout: float, what: str, every: float = 0.2) -> float:
    """Poll `condition()` until true; the seconds it took. TimeoutError on timeout."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
    return time.monotonic() - began
