"""`jiesu demo`: local Kafka, the SQLite database, the worker, a simulated feed, and what gets dispatched."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from consumers.publisher import IntakePublisher
from dispatcher.adapters.catalog import MODEL_FILE, catalog_router, save_model
from dispatcher.adapters.database import make_engine, upgrade
from dispatcher.adapters.knowledge_file import KnowledgeFileError
from dispatcher.adapters.people import PeopleStore
from dispatcher.adapters.sla_file import load_sla
from dispatcher.contract.events import ComplaintReceived, Topic
from dispatcher.domain.access import PersonError, Principal, Role
from dispatcher.settings import Settings
from jiesu.cli.demo_day import DayOptions, DemoDay
from jiesu.cli.demo_logins import describe, outcomes, seen_by, showcase
from jiesu.cli.knowledge import load_starter
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
    # a street worker and a department worker whose units the showcase requests reach (demo_logins), and the
    # supervisor of the district they come from
    (Principal("wangjing", Role.WORKER, unit="street-110105026", post="desk"), "望京街道接诉即办专员"),
    (Principal("heating", Role.WORKER, unit="ent-heating", post="dispatch"), "北京热力接诉即办调度员"),
    (Principal("chaoyang", Role.SUPERVISOR, scope="110105"), "朝阳区接诉即办督办"),
    (Principal("hotline", Role.INTAKE), "话务员"),
    (Principal("admin", Role.ADMIN), "系统管理员"),  # keeps the knowledge base (/knowledge)
)


def _demo_people(settings: Settings) -> None:
    """The demo's accounts: made once; one made by an older demo gets this one's unit, post and scope (its
    password stays)."""
    engine = make_engine(settings.database_url)
    people = PeopleStore(engine, lambda: datetime.now(UTC))
    for principal, name in DEMO_PEOPLE:
        if not people.place(principal, name):
            with contextlib.suppress(PersonError):
                people.add(principal, name, DEMO_PASSWORD)
    engine.dispose()


def _demo_knowledge(settings: Settings) -> None:
    """The knowledge base's starter set, into an empty knowledge base (`jiesu knowledge load`)."""
    try:
        stored, path = load_starter(settings)
    except KnowledgeFileError as error:
        print(f"knowledge base: not loaded ({error})")
        return
    if stored:
        print(f"knowledge base: {stored} entries loaded from {path}")


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


def _feed(settings: Settings, count: int, rate: float, first: list[ComplaintReceived]) -> None:
    """`first` (the showcase), then `count` simulated requests, at `rate` a second."""
    publisher = IntakePublisher(settings)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=len(first))
    for complaint in [*first, *complaints(count, start, seed=int(start.timestamp()))]:
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


def run_demo(
    settings: Settings, count: int, rate: float, keep_running: bool, day: DayOptions | None = None
) -> int:
    """Returns the number of requests that reached an outcome (dispatched or queued). With `day`, the past
    days are replayed first and the units and the callback center act on the cases (`demo_day`)."""
    catalog = load_catalog(settings.catalog_dir)
    _text_model(settings.catalog_dir, load_sla(settings.sla_file).calendar)
    broker.start(settings, print)
    topics.create_topics(settings)
    upgrade(settings.database_url)
    print(f"database: {settings.database_url}")
    log_path = Path(settings.state_dir) / "demo-worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    _demo_people(settings)
    _demo_knowledge(settings)
    demo_day = DemoDay(settings, day) if day else None
    if demo_day:
        demo_day.backfill()  # the past days, through the system on a past clock: before the worker starts
    with log_path.open("ab") as log:
        worker = subprocess.Popen([sys.executable, "-m", "jiesu", "run"], stdout=log, stderr=log)
        web = subprocess.Popen([sys.executable, "-m", "jiesu", "web"], stdout=log, stderr=log)
    print(f"worker: started (pid {worker.pid}, log {log_path})")
    print(
        f"web: http://{settings.web_host}:{settings.web_port}/ — log in with the password {DEMO_PASSWORD} as"
    )
    for principal, name in DEMO_PEOPLE:
        print(f"  {principal.username:<9} {principal.role.value:<10} {name}: {describe(principal, catalog)}")
    watcher = _watch_from_now(settings)
    first = list(showcase(datetime.now(UTC).replace(microsecond=0)))
    simulated = 0 if demo_day else count  # the day feeds its own
    threading.Thread(target=_feed, args=(settings, simulated, rate, first), daemon=True).start()
    then = f", then {simulated} simulated ones" if simulated else ""
    print(
        f"feed: {len(first)} showcase requests (望京, for the logins above){then}, at {rate}/s to "
        f"{settings.topic(Topic.INTAKE)}"
    )
    if demo_day:  # the showcase cases stay with the logins: the simulated units leave them alone
        demo_day.start(leave={request.ticket_id for request in first}.__contains__)
    print()
    people = [principal for principal, _ in DEMO_PEOPLE]
    sees: dict[str, list[str]] = {principal.username: [] for principal in people}
    expected = count + outcomes(first)  # a showcase repeat is linked to its case: no outcome of its own
    seen = 0
    deadline = time.monotonic() + 60 + (count + len(first)) / rate
    try:
        while keep_running or (seen < expected and time.monotonic() < deadline):
            for batch in watcher.poll(timeout_ms=500).values():
                for record in batch:
                    ce_type = dict(record.headers).get("ce_type", b"jiesu.deadletter").decode()
                    seen += ce_type in OUTCOMES
                    line = _show(record.value, ce_type, catalog)
                    if ce_type == "jiesu.case.dispatched":
                        data = json.loads(record.value)
                        seeing = seen_by(data, people, catalog)
                        for username in seeing:
                            sees[username].append(data["ticket_id"])
                        line += f"  ⇒ {', '.join(seeing)}"
                    print(line, flush=True)
            if worker.poll() is not None:
                print(f"worker exited with {worker.returncode}; see {log_path}")
                return seen
    except KeyboardInterrupt:
        pass
    finally:
        watcher.close()
        tally = demo_day.stop() if demo_day else None
        for process in (web, worker):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
    if tally is not None:
        print("\nday:\n" + tally.summary(demo_day.player.elapsed if demo_day and demo_day.player else 0.0))
    print(f"\n{seen} requests dispatched or queued. Who sees what (dispatched cases):")
    for username, tickets in sees.items():
        shown = ", ".join(tickets[:4]) + (f" and {len(tickets) - 4} more" if len(tickets) > 4 else "")
        print(f"  {username:<9} {len(tickets):>3}  {shown}")
    print("The broker keeps running: `jiesu kafka down` stops it.")
    return seen - (expected - count)
