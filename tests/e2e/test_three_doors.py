"""The same case scenarios through every door: the REST API, the CLI, and command events on Kafka.

The Kafka door publishes `jiesu.case.*` commands to the actions topic of a running `jiesu run`; a refused
command comes back on the dead-letter topic with its reason, as a unit's own system would see it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import select
from typer.testing import CliRunner

from consumers.intake import handle_intake
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import make_engine, upgrade
from dispatcher.bootstrap import bootstrap
from dispatcher.contract import events as wire
from dispatcher.contract.cloudevents import encode
from dispatcher.domain import commands as c
from dispatcher.settings import Settings
from jiesu.cli.main import app as cli
from jiesu.localkafka.topics import create_topics
from jiesu.web.app import create_app
from tests.conftest import fresh_postgres_database
from tests.e2e.worker import Worker
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog
from tests.support.logins import add_people

pytestmark = pytest.mark.kafka
WIRE = {
    "acknowledge": ("jiesu.case.acknowledge", wire.AcknowledgeCase),
    "contact": ("jiesu.case.contact", wire.RecordContact),
    "return": ("jiesu.case.return", wire.ReturnCase),
    "extension": ("jiesu.case.extension", wire.RequestExtension),
    "resolve": ("jiesu.case.resolve", wire.ResolveCase),
    "pause": ("jiesu.case.pause", wire.RequestPause),
    "resume": ("jiesu.case.resume", wire.ResumeCase),
}


@dataclass
class Outcome:
    ok: bool
    detail: str


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database for the module's scenarios: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('doors-db') / 'jiesu.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, database: str
) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("doors")
    url = database
    upgrade(url)
    settings = Settings(
        database_url=url,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        consumer_group=f"doors-{uuid.uuid4().hex[:6]}",
        catalog_dir=write_catalog(folder / "catalog"),
        topic_partitions=3,
        relay_poll_seconds=0.2,
    )
    create_topics(settings)
    env = {f"JIESU_{k.upper()}": str(v) for k, v in settings.model_dump(mode="json").items()}
    worker = Worker(env, folder / "worker.log").start()
    system = bootstrap(settings)
    # The REST door acts as li, a worker of ent-heating, where the scenarios' cases are dispatched.
    tokens = add_people(system, "li", password=None)
    yield {"settings": settings, "env": env, "system": system, "worker": worker, "tokens": tokens}
    worker.stop()
    system.engine.dispose()


def open_case(world: dict[str, Any]) -> str:
    ticket = f"BJ-{uuid.uuid4().hex[:8]}"
    complaint = make_complaint(ticket_id=ticket, category="0101", location={"district": "朝阳区"})
    handle_intake(intake_record(complaint), world["system"].bus)
    return ticket


def audit_actions(world: dict[str, Any], ticket: str) -> list[str]:
    engine = make_engine(world["settings"].database_url)
    with engine.connect() as connection:
        query = select(t.audit.c.action).where(t.audit.c.ticket_id == ticket).order_by(t.audit.c.id)
        actions = list(connection.execute(query).scalars())
    engine.dispose()
    return actions


def state_of(world: dict[str, Any], ticket: str) -> str:
    engine = make_engine(world["settings"].database_url)
    with engine.connect() as connection:
        state = connection.execute(select(t.cases.c.state).where(t.cases.c.ticket_id == ticket)).scalar_one()
    engine.dispose()
    return str(state)


class CliDoor:
    def __init__(self, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
        for name, value in world["env"].items():
            monkeypatch.setenv(name, value)

    def act(self, verb: str, ticket: str, by: str, **fields: str) -> Outcome:
        args = ["case", verb, ticket, "--as", by]
        for name, value in fields.items():
            args += [f"--{name.replace('_', '-')}", value]
        result = CliRunner().invoke(cli, args)
        return Outcome(result.exit_code == 0, result.output)


class RestDoor:
    """Acts with the bearer token of `by`: who acts is the token's person, not a field of the body."""

    def __init__(self, world: dict[str, Any]) -> None:
        self.client = TestClient(create_app(world["settings"], world["system"]))
        self.tokens: dict[str, str] = world["tokens"]

    def act(self, verb: str, ticket: str, by: str, **fields: str) -> Outcome:
        headers = {"Authorization": f"Bearer {self.tokens[by]}"}
        response = self.client.post(f"/api/cases/{ticket}/{verb}", json=fields, headers=headers)
        body = response.json()
        detail = body.get("detail", "") if response.status_code != 200 else body["state"]
        return Outcome(response.status_code == 200, str(detail))


class KafkaDoor:
    def __init__(self, world: dict[str, Any]) -> None:
        self.world = world
        self.settings: Settings = world["settings"]
        self.producer = KafkaProducer(bootstrap_servers=self.settings.kafka_bootstrap)

    def act(self, verb: str, ticket: str, by: str, **fields: str) -> Outcome:
        event_type, model = WIRE[verb]
        if "until" in fields:
            fields["requested_until"] = fields.pop("until")
        data = model.model_validate(
            {"ticket_id": ticket, "by": by, "at": datetime.now(UTC).isoformat(), **fields}
        )
        event_id = uuid.uuid4().hex
        record = encode(
            self.settings.topic("actions"),
            event_type,
            data,
            key=ticket,
            event_id=event_id,
            source="/unit-system",
            time=datetime.now(UTC),
        )
        before = len(audit_actions(self.world, ticket))
        self.producer.send(record.topic, key=record.key, value=record.value, headers=record.headers).get(10)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if len(audit_actions(self.world, ticket)) > before:
                return Outcome(True, "applied")
            dead = self._dead_letter(event_id)
            if dead is not None:
                return Outcome(False, dead)
            time.sleep(0.2)
        raise AssertionError(f"no outcome for {verb} on {ticket}\n{self.world['worker'].tail()}")

    def _dead_letter(self, event_id: str) -> str | None:
        consumer = KafkaConsumer(
            self.settings.topic("deadletter"),
            bootstrap_servers=self.settings.kafka_bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=500,
            enable_auto_commit=False,
        )
        try:
            for record in consumer:
                headers = dict(record.headers)
                if headers.get("ce_id") == event_id.encode():
                    return f"{headers['jiesu_reason'].decode()}: {headers['jiesu_detail'].decode()}"
        finally:
            consumer.close()
        return None


@pytest.fixture(params=["rest", "cli", "kafka"])
def door(request: pytest.FixtureRequest, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch):
    if request.param == "rest":
        return RestDoor(world)
    if request.param == "cli":
        return CliDoor(world, monkeypatch)
    return KafkaDoor(world)


def test_sign_contact_resolve(door, world):
    ticket = open_case(world)
    assert door.act("acknowledge", ticket, "li").ok
    assert door.act("contact", ticket, "li", note="已电话联系诉求人").ok
    assert door.act("resolve", ticket, "li", result="已派人更换阀门").ok
    assert state_of(world, ticket) == "resolved"
    assert audit_actions(world, ticket) == ["dispatch", "acknowledge", "contact", "resolve"]


def test_an_action_the_state_does_not_allow_is_refused_with_the_state_named(door, world):
    ticket = open_case(world)
    outcome = door.act("resolve", ticket, "li", result="想直接办结")
    assert not outcome.ok
    assert "is dispatched: cannot resolve" in outcome.detail and "acknowledge" in outcome.detail
    assert state_of(world, ticket) == "dispatched"


def test_a_return_goes_to_arbitration(door, world):
    ticket = open_case(world)
    assert door.act("return", ticket, "li", code="not_our_duty", reason="该小区为自供暖").ok
    assert state_of(world, ticket) == "returned"


def test_an_extension_request_waits_for_the_supervisor(door, world):
    ticket = open_case(world)
    assert door.act("acknowledge", ticket, "li").ok
    until = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    assert door.act("extension", ticket, "li", until=until, reason="需更换主管道").ok
    assert audit_actions(world, ticket)[-1] == "request_extension"


def test_an_action_on_an_unknown_ticket_is_refused(door, world):
    outcome = door.act("acknowledge", "BJ-NOPE", "li")
    assert not outcome.ok and "BJ-NOPE" in outcome.detail


def test_a_pause_is_asked_approved_and_resumed(door, world):
    ticket = open_case(world)
    refused = door.act("pause", ticket, "li", reason_code="requester", reason="居民出差")
    assert not refused.ok and "is dispatched: cannot pause" in refused.detail
    assert door.act("acknowledge", ticket, "li").ok
    assert door.act("pause", ticket, "li", reason_code="requester", reason="居民出差，回京后入户").ok
    world["system"].bus.handle(c.DecidePause(ticket, "zhao", approve=True, reason="同意"))
    assert door.act("resume", ticket, "li", note="居民已回京").ok
    assert audit_actions(world, ticket)[-3:] == ["request_pause", "approve_pause", "resume"]
    assert state_of(world, ticket) == "acknowledged"
