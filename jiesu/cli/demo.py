"""`jiesu demo`: local Kafka, the SQLite database, the worker, a simulated feed, and what gets dispatched."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from consumers.publisher import IntakePublisher
from dispatcher.adapters.catalog import MODEL_FILE, catalog_router, save_model
from dispatcher.adapters.database import make_engine, upgrade
from dispatcher.adapters.people import PeopleStore
from dispatcher.adapters.sla_file import load_sla
from dispatcher.contract.events import Topic
from dispatcher.domain.access import PersonError, Principal, Role
from dispatcher.settings import Settings
from jiesu.cli.model import train_catalog
from jiesu.cli.simulator import complaints
from jiesu.localkafka import broker, topics
from rules.catalog import Catalog
from rules.loader import load_catalog
from sla.calendar import ChineseCalendar

OUTCOMES = {"jiesu.case.dispatched", "jiesu.case.queued"}
DEMO_PASSWORD = "demo-12345"
DEMO_PEOPLE = (  # who can log in to the demo's pages, and as what
    (Principal("center", Role.SUPERVISOR, scope="city"), "市民热线服务中心督办"),
    (Principal("chaoyang", Role.WORKER, unit="street-110105010", post="desk"), "望京街道接诉即办专员"),
    (Principal("hotline", Role.INTAKE), "话务员"),
)


def _demo_people(settings: Settings) -> None:
    """The demo's accounts, once (an existing one is left as it is)."""
    engine = make_engine(settings.database_url)
    people = PeopleStore(engine, lambda: datetime.now(UTC))
    for principal, name in DEMO_PEOPLE:
        with contextlib.suppress(PersonError):
            people.add(principal, name, DEMO_PASSWORD)
    engine.dispose()


def _watch_from_now(settings: Settings) -> KafkaConsumer:
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
    partitions = [
        TopicPartition(name, p)
        for name in (settings.topic(Topic.CASES), settings.topic(Topic.DEADLETTER))
        for p in range(settings.topic_partitions)
    ]
    consumer.assign(partitions)
    consumer.seek_to_end()
    for partition in partitions:
        consumer.position(partition)
    return consumer


def _feed(settings: Settings, count: int, rate: float) -> None:
    publisher = IntakePublisher(settings)
    start = datetime.now(UTC).replace(microsecond=0)
    for complaint in complaints(count, start, seed=int(start.timestamp())):
        publisher.publish(complaint)
        time.sleep(1 / rate)
    publisher.close()


def _show(value: bytes, ce_type: str, catalog: Catalog) -> str:
    data = json.loads(value)
    if ce_type == "jiesu.case.queued":
        reason = data["reason"][:60]
        return f"排队 queued     {data['ticket_id']}  {data['urgency']:<9} → {data['queue']}: {reason}"
    if ce_type != "jiesu.case.dispatched":
        return f"{ce_type:<24} {data.get('ticket_id', '?')}"
    target = data["assignment"]
    unit = catalog.units.get(target["unit"])
    post = unit.post(target["post"]) if unit else None
    person = catalog.people.get(target["person"] or "")
    names = " / ".join(
        [
            unit.name if unit else target["unit"],
            post.name if post else target["post"],
            person.name if person else "-",
        ]
    )
    return f"派单 dispatched {data['ticket_id']}  {data['urgency']:<9} → {names}  (rule {target['rule']})"


def _text_model(folder: Path, calendar: ChineseCalendar) -> None:
    """Train the catalog's text classifier once, if it has none yet (`jiesu rules train` does it again)."""
    if (folder / MODEL_FILE).exists() or not (folder / "corpus" / "train").is_dir():
        return
    print("classifier: training the text model on the catalog's corpus (once; under a minute)")
    trained, _ = train_catalog(folder, catalog_router(folder, calendar))
    save_model(trained.model, folder)
    print(f"classifier: model {trained.model.version}, top-1 {trained.accuracy:.1%} on {trained.measured_on}")


def run_demo(settings: Settings, count: int, rate: float, keep_running: bool) -> int:
    """Returns the number of requests that reached an outcome (dispatched or queued)."""
    catalog = load_catalog(settings.catalog_dir)
    _text_model(settings.catalog_dir, load_sla(settings.sla_file).calendar)
    broker.start(settings, print)
    topics.create_topics(settings)
    upgrade(settings.database_url)
    print(f"database: {settings.database_url}")
    log_path = Path(settings.state_dir) / "demo-worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    _demo_people(settings)
    with log_path.open("ab") as log:
        worker = subprocess.Popen([sys.executable, "-m", "jiesu", "run"], stdout=log, stderr=log)
        web = subprocess.Popen([sys.executable, "-m", "jiesu", "web"], stdout=log, stderr=log)
    print(f"worker: started (pid {worker.pid}, log {log_path})")
    logins = ", ".join(f"{principal.username} ({principal.role.value})" for principal, _ in DEMO_PEOPLE)
    print(
        f"web: http://{settings.web_host}:{settings.web_port}/ — log in as {logins}, password {DEMO_PASSWORD}"
    )
    watcher = _watch_from_now(settings)
    threading.Thread(target=_feed, args=(settings, count, rate), daemon=True).start()
    print(f"feed: {count} simulated requests at {rate}/s to {settings.topic(Topic.INTAKE)}\n")
    seen = 0
    deadline = time.monotonic() + 60 + count / rate
    try:
        while keep_running or (seen < count and time.monotonic() < deadline):
            for batch in watcher.poll(timeout_ms=500).values():
                for record in batch:
                    ce_type = dict(record.headers).get("ce_type", b"jiesu.deadletter").decode()
                    seen += ce_type in OUTCOMES
                    print(_show(record.value, ce_type, catalog), flush=True)
            if worker.poll() is not None:
                print(f"worker exited with {worker.returncode}; see {log_path}")
                return seen
    except KeyboardInterrupt:
        pass
    finally:
        watcher.close()
        for process in (web, worker):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
    print(f"\n{seen} requests dispatched or queued. The broker keeps running: `jiesu kafka down` stops it.")
    return seen
