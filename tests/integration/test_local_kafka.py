"""`jiesu kafka up|down|status|logs` and `jiesu topics create` against a broker of their own.

The broker listens on 127.0.0.1:19092 (controller 19093) with its data in a temporary directory, so it
never touches a developer's broker on 9092; the jar cache is the default one, shared. The tests that use
`running` run in file order against one broker: `test_down_stops_the_broker` stops it, the next restarts
and stops it again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dispatcher.settings import Settings
from jiesu.localkafka import broker
from jiesu.localkafka.topics import admin_client, answers_metadata, contract_topics, create_topics, port_open

pytestmark = pytest.mark.kafka

BOOTSTRAP = "127.0.0.1:19092"
JIESU = str(Path(sys.executable).with_name("jiesu"))


@dataclass(frozen=True)
class LocalBroker:
    settings: Settings
    env: dict[str, str]
    up: subprocess.CompletedProcess[str]

    def jiesu(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return run_jiesu(list(args), {**self.env, **env}, self.settings.kafka_data_dir.parent)

    @property
    def pid(self) -> int | None:
        return broker.broker_pid(broker.Layout.of(self.settings))


def run_jiesu(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([JIESU, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def clean_env(**jiesu: str) -> dict[str, str]:
    """The environment without the developer's JIESU_* variables, plus the given ones."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("JIESU_")}
    return env | {f"JIESU_{name.upper()}": value for name, value in jiesu.items()}


def broker_processes(properties: Path) -> list[int]:
    """Pids of every live kafka.Kafka JVM started with this server.properties."""
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"kafka.Kafka" in argv and str(properties).encode() in argv:
            pids.append(int(proc.name))
    return pids


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A broker started with `jiesu kafka up`; always stopped at the end of the module."""
    if port_open(BOOTSTRAP) or port_open("127.0.0.1:19093"):
        pytest.skip("127.0.0.1:19092 or :19093 is already in use")
    data = tmp_path_factory.mktemp("local-kafka") / "kafka"
    settings = Settings(kafka_bootstrap=BOOTSTRAP, kafka_data_dir=data)
    env = clean_env(kafka_bootstrap=BOOTSTRAP, kafka_data_dir=str(data))
    try:
        yield LocalBroker(settings, env, run_jiesu(["kafka", "up"], env, data.parent))
    finally:
        broker.stop(settings, lambda line: None)


def test_up_starts_a_broker_with_the_contract_topics(running: LocalBroker) -> None:
    assert running.up.returncode == 0, running.up.stderr
    steps = [line.split(":")[0] for line in running.up.stdout.splitlines()]
    assert steps == ["jars", "storage", "broker", "broker", "topics"]
    assert running.pid is not None
    assert answers_metadata(BOOTSTRAP)
    with admin_client(BOOTSTRAP) as admin:
        described = admin.describe_topics(contract_topics(running.settings))
    names = ("intake", "actions", "feedback", "cases", "scores", "deadletter", "hotspots")
    assert sorted(topic["name"] for topic in described) == sorted(f"jiesu.{name}" for name in names)
    assert {topic["error_code"] for topic in described} == {0}
    assert {len(topic["partitions"]) for topic in described} == {6}


def test_a_second_up_keeps_the_one_broker(running: LocalBroker) -> None:
    pid = running.pid
    again = running.jiesu("kafka", "up")
    assert again.returncode == 0, again.stderr
    assert f"already running (pid {pid})" in again.stdout
    assert "topics: existing" in again.stdout
    assert running.pid == pid
    assert broker_processes(broker.Layout.of(running.settings).properties) == [pid]


def test_status_of_a_running_broker(running: LocalBroker) -> None:
    status = running.jiesu("kafka", "status")
    assert status.returncode == 0, status.stderr
    assert "state: running" in status.stdout
    assert f"pid: {running.pid}" in status.stdout
    assert f"bootstrap: {BOOTSTRAP}" in status.stdout
    assert "jiesu.deadletter" in status.stdout


def test_create_topics_reports_created_then_existing(running: LocalBroker) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    settings = Settings(kafka_bootstrap=BOOTSTRAP, topic_prefix=prefix, topic_partitions=2)
    assert create_topics(settings) == contract_topics(settings)
    assert create_topics(settings) == []
    cli = running.jiesu("topics", "create", JIESU_TOPIC_PREFIX=prefix)
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.strip() == f"topics: existing {', '.join(contract_topics(settings))}"


def test_logs_prints_the_tail(running: LocalBroker) -> None:
    logs = running.jiesu("kafka", "logs", "-n", "5")
    assert logs.returncode == 0, logs.stderr
    assert len(logs.stdout.splitlines()) == 5


def test_down_stops_the_broker(running: LocalBroker) -> None:
    pid = running.pid
    started = time.monotonic()
    down = running.jiesu("kafka", "down")
    assert down.returncode == 0, down.stderr
    assert f"stopped pid {pid}" in down.stdout
    assert time.monotonic() - started < 30
    assert running.pid is None
    assert broker_processes(broker.Layout.of(running.settings).properties) == []
    assert not port_open(BOOTSTRAP)
    assert not broker.Layout.of(running.settings).pid.exists()
    status = running.jiesu("kafka", "status")
    assert status.returncode == 1
    assert "state: stopped" in status.stdout
    again = running.jiesu("kafka", "down")
    assert again.returncode == 0
    assert "none running" in again.stdout


def test_a_restart_uses_the_cached_jars_without_maven(running: LocalBroker, tmp_path: Path) -> None:
    java_only = java_only_path(tmp_path)
    up = running.jiesu("kafka", "up", PATH=java_only)
    assert up.returncode == 0, up.stderr
    assert "jars: cached in" in up.stdout
    assert "storage: already formatted" in up.stdout
    assert answers_metadata(BOOTSTRAP)
    down = running.jiesu("kafka", "down", PATH=java_only)
    assert down.returncode == 0, down.stderr
    assert not port_open(BOOTSTRAP)


def java_only_path(tmp_path: Path) -> str:
    """A PATH with java and nothing else."""
    java = shutil.which("java")
    if java is None:
        pytest.skip("java is not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "java").symlink_to(java)
    return str(bin_dir)


def test_up_without_java_is_a_one_line_error(tmp_path: Path) -> None:
    env = clean_env(kafka_bootstrap="127.0.0.1:19192", kafka_data_dir=str(tmp_path / "kafka"))
    result = run_jiesu(["kafka", "up"], env | {"PATH": str(Path(JIESU).parent)}, tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: java not found: install OpenJDK 17 (apt-get install openjdk-17-jre-headless)"
    ]
    assert not (tmp_path / "kafka" / "broker.pid").exists()


def test_up_without_maven_and_no_cached_jars_is_a_one_line_error(tmp_path: Path) -> None:
    env = clean_env(
        kafka_bootstrap="127.0.0.1:19192",
        kafka_data_dir=str(tmp_path / "kafka"),
        kafka_cache_dir=str(tmp_path / "cache"),
    )
    result = run_jiesu(["kafka", "up"], env | {"PATH": java_only_path(tmp_path)}, tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: mvn not found: install Apache Maven (apt-get install maven)"
    ]
