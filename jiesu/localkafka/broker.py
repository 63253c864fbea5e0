"""A local single-node Apache Kafka broker (KRaft, broker and controller in one JVM) from Maven Central jars.

Jars live in `<kafka_cache_dir>/<kafka_version>/libs`, complete once `libs.complete` lists them; storage
(`data/`), `server.properties`, `cluster.id`, `broker.pid` and `broker.log` in `kafka_data_dir`.
Functions take the settings as a parameter and report each step as one line through `report`;
failures the user can act on raise `LocalKafkaError`.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dispatcher.settings import Settings
from jiesu.localkafka.topics import answers_metadata, endpoint, port_open

POM = Path(__file__).with_name("pom.xml")
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
INSTALL = {
    "java": "install OpenJDK 17 (apt-get install openjdk-17-jre-headless)",
    "mvn": "install Apache Maven (apt-get install maven)",
}
Report = Callable[[str], None]


class LocalKafkaError(Exception):
    """A failure to show as its one-line message; `exit_code` is 2 for a missing tool, 1 otherwise."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Layout:
    """The absolute paths the manager uses for one settings object."""

    libs: Path
    marker: Path
    data: Path
    storage: Path
    properties: Path
    cluster_id: Path
    pid: Path
    log: Path

    @classmethod
    def of(cls, settings: Settings) -> Layout:
        libs = settings.kafka_cache_dir.expanduser().resolve() / settings.kafka_version / "libs"
        data = settings.kafka_data_dir.expanduser().resolve()
        files = ("data", "server.properties", "cluster.id", "broker.pid", "broker.log")
        return cls(libs, libs.with_name("libs.complete"), data, *(data / name for name in files))


def require(tool: str) -> str:
    """The path of `tool` on PATH; if missing, a LocalKafkaError with exit code 2 naming what to install."""
    path = shutil.which(tool)
    if path is None:
        raise LocalKafkaError(f"{tool} not found: {INSTALL[tool]}", exit_code=2)
    return path


def broker_pid(layout: Layout) -> int | None:
    """The pid from the pid file if that process is alive and runs this data directory's broker."""
    try:
        pid = int(layout.pid.read_text().strip())
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    except (OSError, ValueError):
        return None
    proc = Path(f"/proc/{pid}")
    try:
        if not proc.is_dir():
            os.kill(pid, 0)
            return pid
        status = (proc / "stat").read_text().rpartition(")")[2].split()[0]
        argv = (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    ours = b"kafka.Kafka" in argv and str(layout.properties).encode() in argv
    return pid if ours and status not in ("Z", "X") else None


def log_tail(layout: Layout, lines: int) -> list[str]:
    """The last `lines` lines of the broker log ([] if there is none)."""
    try:
        text = layout.log.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return text.splitlines()[-lines:] if lines > 0 else []


def _run(command: list[str], what: str, timeout_s: float) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    if result.returncode != 0:
        last = (result.stdout + result.stderr).strip().splitlines()[-3:]
        raise LocalKafkaError(f"{what} failed (exit {result.returncode}): {' | '.join(last)}")


def fetch_jars(settings: Settings, layout: Layout, report: Report) -> None:
    """Copy the broker's runtime jars from Maven Central into the cache unless a complete copy is there."""
    names = layout.marker.read_text().split() if layout.marker.is_file() else []
    if names and all((layout.libs / name).is_file() for name in names):
        report(f"jars: cached in {layout.libs}")
        return
    mvn = require("mvn")
    layout.libs.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    staging = Path(tempfile.mkdtemp(prefix="libs.", dir=layout.libs.parent))
    try:
        command = [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies", "-DincludeScope=runtime"]
        command += [f"-DoutputDirectory={staging}", f"-Dkafka.version={settings.kafka_version}"]
        _run(command, "mvn dependency:copy-dependencies", timeout_s=900)
        names = sorted(path.name for path in staging.glob("*.jar"))
        layout.marker.unlink(missing_ok=True)
        shutil.rmtree(layout.libs, ignore_errors=True)
        staging.chmod(0o755)
        staging.rename(layout.libs)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    layout.marker.write_text("\n".join(names) + "\n")
    report(f"jars: fetched {len(names)} jars into {layout.libs} ({time.monotonic() - started:.1f} s)")


def server_properties(settings: Settings, layout: Layout) -> str:
    """The broker's configuration: one node, PLAINTEXT on kafka_bootstrap, the controller on port + 1."""
    host, port = endpoint(settings.kafka_bootstrap)
    single_node = ("offsets.topic", "transaction.state.log", "share.coordinator.state.topic")
    return "\n".join(
        ["process.roles=broker,controller", "node.id=1"]
        + [f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{port + 1}"]
        + [f"advertised.listeners=PLAINTEXT://{host}:{port}", "controller.listener.names=CONTROLLER"]
        + ["listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"]
        + [f"controller.quorum.bootstrap.servers={host}:{port + 1}", f"log.dirs={layout.storage}"]
        + [f"num.partitions={settings.topic_partitions}", "offsets.topic.num.partitions=6"]
        + [f"{name}.replication.factor=1" for name in single_node]
        + [f"{name}.min.isr=1" for name in single_node[1:]]
        + ["group.initial.rebalance.delay.ms=0", "auto.create.topics.enable=false", ""]
    )


def cluster_id(layout: Layout) -> str:
    """The id kept in the data directory, generated once: 22-char url-safe base64 of a uuid4."""
    if layout.cluster_id.is_file():
        return layout.cluster_id.read_text().strip()
    new = "-"
    while new.startswith("-"):
        new = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    layout.cluster_id.write_text(new + "\n")
    return new


def _java(layout: Layout, heap: str, main: str) -> list[str]:
    tuning = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:+ExitOnOutOfMemoryError"]
    return [require("java"), f"-Xms{heap}", f"-Xmx{heap}", *tuning, "-cp", f"{layout.libs}/*", main]


def format_storage(layout: Layout, report: Report) -> None:
    """Format KRaft storage once; an already formatted storage directory is left as it is."""
    if (layout.storage / "meta.properties").is_file():
        report(f"storage: already formatted in {layout.storage}")
        return
    cid = cluster_id(layout)
    args = ["format", "--standalone", "--ignore-formatted", f"--cluster-id={cid}"]
    command = [*_java(layout, "256m", "kafka.tools.StorageTool"), *args, f"--config={layout.properties}"]
    _run(command, "kafka storage format", timeout_s=120)
    report(f"storage: formatted {layout.storage} (cluster id {cid})")


def _failure(layout: Layout) -> str:
    """The first ERROR line of the log with the exception after it, else the log's last three lines."""
    lines = [line.strip() for line in log_tail(layout, 2000) if line.strip()]
    first = next((i for i, line in enumerate(lines) if " ERROR " in line or " FATAL " in line), None)
    if first is None:
        return " | ".join(lines[-3:])
    return " | ".join([lines[first].partition(" - ")[2], *lines[first + 1 : first + 2]])


def _wait_ready(settings: Settings, layout: Layout, alive: Callable[[], bool], pid: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if not alive():
            layout.pid.unlink(missing_ok=True)
            raise LocalKafkaError(f"broker exited during start-up: {_failure(layout)} (log: {layout.log})")
        if answers_metadata(settings.kafka_bootstrap, timeout_s=3.0):
            return
        time.sleep(0.3)
    raise LocalKafkaError(
        f"broker (pid {pid}) did not answer on {settings.kafka_bootstrap} within {READY_TIMEOUT_S:.0f} s:"
        " see `jiesu kafka logs`; stop it with `jiesu kafka down`"
    )


def start(settings: Settings, report: Report) -> int | None:
    """Start the broker detached and return its pid once it answers a metadata request.

    Idempotent: this data directory's live broker is waited for, never duplicated. If a broker that was
    not started from this data directory answers on kafka_bootstrap, it is left alone and None returned.
    Concurrent calls for one data directory are serialised by a lock file.
    """
    layout = Layout.of(settings)
    require("java")
    layout.data.mkdir(parents=True, exist_ok=True)
    with (layout.data / "up.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _start(settings, layout, report)


def _start(settings: Settings, layout: Layout, report: Report) -> int | None:
    pid = broker_pid(layout)
    if pid is not None:
        _wait_ready(settings, layout, lambda: broker_pid(layout) == pid, pid)
        report(f"broker: already running (pid {pid}) on {settings.kafka_bootstrap}")
        return pid
    if answers_metadata(settings.kafka_bootstrap):
        report(f"broker: one not started from {layout.data} already answers on {settings.kafka_bootstrap}")
        return None
    layout.pid.unlink(missing_ok=True)
    fetch_jars(settings, layout, report)
    layout.storage.mkdir(parents=True, exist_ok=True)
    layout.properties.write_text(server_properties(settings, layout))
    format_storage(layout, report)
    if layout.log.exists():
        layout.log.replace(layout.log.with_name("broker.log.1"))
    started = time.monotonic()
    command = [*_java(layout, settings.kafka_heap, "kafka.Kafka"), str(layout.properties)]
    with layout.log.open("ab") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=layout.data, start_new_session=True
        )
    layout.pid.write_text(f"{process.pid}\n")
    report(f"broker: started (pid {process.pid}), log {layout.log}")
    _wait_ready(settings, layout, lambda: process.poll() is None, process.pid)
    report(f"broker: ready on {settings.kafka_bootstrap} ({time.monotonic() - started:.1f} s)")
    return process.pid


def stop(settings: Settings, report: Report) -> int | None:
    """Stop this data directory's broker (SIGTERM, then SIGKILL after STOP_TIMEOUT_S); its pid, or None."""
    layout = Layout.of(settings)
    pid = broker_pid(layout)
    if pid is None:
        stale = " (removed a stale pid file)" if layout.pid.exists() else ""
        layout.pid.unlink(missing_ok=True)
        report(f"broker: none running from {layout.data}{stale}")
        if port_open(settings.kafka_bootstrap):
            report(f"broker: another process listens on {settings.kafka_bootstrap}; left alone")
        return None
    started = time.monotonic()
    for sig, grace_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        report(f"broker: sent {sig.name} to pid {pid}")
        deadline = time.monotonic() + grace_s
        while broker_pid(layout) == pid and time.monotonic() < deadline:
            time.sleep(0.2)
        if broker_pid(layout) != pid:
            break
    else:
        raise LocalKafkaError(f"broker (pid {pid}) is still alive after SIGKILL")
    layout.pid.unlink(missing_ok=True)
    report(f"broker: stopped pid {pid} ({time.monotonic() - started:.1f} s)")
    return pid
