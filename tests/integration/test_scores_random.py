"""10,000 callbacks over 300 units, in random order with corrections, invalid ones, terminations and
appeals: the live scores (the last `jiesu.scores.updated` of each unit and month) equal the recomputation
from the stored callbacks, and both equal a reference computed here independently, with plain floats.
The callbacks are applied one by one, or as the worker applies records from Kafka: in batches of random
sizes, a case sometimes called back twice in the same batch."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from consumers.app import INFLOWS, apply_all, apply_one, apply_together
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import upgrade
from dispatcher.adapters.sql import decode_headers
from dispatcher.bootstrap import System, bootstrap
from dispatcher.contract import events as wire
from dispatcher.contract.cloudevents import KafkaRecord, encode
from dispatcher.domain import commands as c
from dispatcher.domain.scores import rates
from dispatcher.reads.scores import callback_lines, month_tallies, tallies
from dispatcher.settings import Settings
from tests.conftest import sqlite_url as sqlite_file
from tests.support.catalogs import write_catalog
from tests.support.clock import BEIJING, Clock

START = datetime(2026, 10, 20, 0, 0, tzinfo=UTC)
UNITS = [f"unit-{n:03d}" for n in range(300)]
CASES, CALLBACKS = 8_000, 10_000
# October: the default weights; from November: other weights and another credit for "basically satisfied"
ASSESSMENT = """
weights:
  default: {response: "0.1", resolution: "0.5", satisfaction: "0.4", basic_credit: "0.9"}
  periods:
    - {since: "2026-11", response: "0.3", resolution: "0.35", satisfaction: "0.35", basic_credit: "0.8"}
"""
WEIGHTS = {"2026-10": (0.1, 0.5, 0.4, 0.9), "2026-11": (0.3, 0.35, 0.35, 0.8)}


def seed_resolved_cases(engine, rng: random.Random) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """CASES resolved cases, each at a random unit; ticket -> unit."""
    units = {f"R{n:05d}": rng.choice(UNITS) for n in range(CASES)}
    cases = [
        {
            "ticket_id": ticket,
            "state": "resolved",
            "urgency": "general",
            "channel": "phone",
            "kind": "complaint",
            "description": "路灯不亮",
            "category": "0301",
            "location": {},
            "requester": {},
            "attachments": [],
            "received_at": START - timedelta(days=5),
            "dispatched_at": START - timedelta(days=5),
            "result": "已修复",
            "version": 0,
        }
        for ticket in units
    ]
    assignments = [
        {
            "ticket_id": ticket,
            "unit": unit,
            "post": "duty",
            "person": None,
            "rule": "r",
            "catalog_version": "v",
            "reason": "seeded",
            "co_handlers": [],
            "assigned_at": START - timedelta(days=5),
            "current": True,
        }
        for ticket, unit in units.items()
    ]
    with engine.begin() as connection:
        connection.execute(insert(t.cases), cases)
        connection.execute(insert(t.assignments), assignments)
    return units


def reference(
    units: dict[str, str], latest: dict[str, dict], excluded: set[str]
) -> dict[tuple[str, str], dict]:
    """The rates per (unit, month), from the latest callback of each case, computed the plain way."""
    counts: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for ticket, answer in latest.items():
        if not answer["valid"] or ticket in excluded:
            continue
        month = answer["recorded_at"].astimezone(BEIJING).strftime("%Y-%m")
        row = counts[(units[ticket], month)]
        row[0] += 1
        row[1] += answer["contacted"]
        row[2] += answer["resolved"]
        row[3] += answer["satisfaction"] == "satisfied"
        row[4] += answer["satisfaction"] == "basically_satisfied"
    found = {}
    for (unit, month), (valid, contacted, resolved, satisfied, basic) in counts.items():
        w1, w2, w3, k = WEIGHTS[month]
        response, resolution = contacted / valid, resolved / valid
        satisfaction = (satisfied + k * basic) / valid
        found[(unit, month)] = {
            "valid": valid,
            "response": response,
            "resolution": resolution,
            "satisfaction": satisfaction,
            "composite": w1 * response + w2 * resolution + w3 * satisfaction,
        }
    return found


def feedback_record(ticket: str, answer: dict, offset: int) -> KafkaRecord:
    data = wire.CallbackRecorded(ticket_id=ticket, **answer)
    record = encode(
        "jiesu.feedback",
        "jiesu.callback.recorded",
        data,
        key=ticket,
        event_id=uuid.uuid4().hex,
        source="/callback-center",
        time=data.recorded_at,
    )
    return KafkaRecord(record.topic, record.key, record.value, record.headers, 0, offset)


def apply_in_batches(system: System, records: list[KafkaRecord], rng: random.Random) -> None:
    """As the worker does: each batch in one transaction (one by one if it fails)."""
    feedback, batch = INFLOWS[wire.Topic.FEEDBACK], system.batch
    assert batch is not None

    def together(taken: list[KafkaRecord]) -> None:
        apply_together(feedback, system.bus, batch, taken)

    while records:
        size = rng.randint(1, 200)
        taken, records = records[:size], records[size:]
        asyncio.run(apply_all(lambda record: apply_one(feedback, system.bus, record), taken, together))


def count_dead_letters(system: System) -> int:
    with system.engine.connect() as connection:
        rows = select(t.outbox.c.id).where(t.outbox.c.topic.like("%deadletter"))
        return len(connection.execute(rows).all())


def live_scores(engine) -> dict[tuple[str, str], dict]:  # type: ignore[no-untyped-def]
    """The last `jiesu.scores.updated` of each unit and month, in the order they were queued."""
    found: dict[tuple[str, str], dict] = {}
    with engine.connect() as connection:
        for headers, value in connection.execute(
            select(t.outbox.c.headers, t.outbox.c.value).order_by(t.outbox.c.id)
        ):
            if dict(decode_headers(headers))["ce_type"] == b"jiesu.scores.updated":
                data = json.loads(value)
                found[(data["unit"], data["month"])] = data
    return found


@pytest.mark.parametrize("applied", ["one_by_one", "in_batches"])
def test_live_scores_equal_the_recomputation_and_an_independent_reference(
    tmp_path: Path, applied: str, caplog: pytest.LogCaptureFixture
):
    sqlite_url = sqlite_file(tmp_path)
    rng = random.Random(20261126)
    assessment = tmp_path / "assessment.yaml"
    assessment.write_text(ASSESSMENT, encoding="utf-8")
    settings = Settings(
        database_url=sqlite_url, catalog_dir=write_catalog(tmp_path / "catalog"), assessment_file=assessment
    )
    upgrade(sqlite_url)
    system = bootstrap(settings, clock=Clock(datetime(2026, 12, 1, tzinfo=UTC)))
    units = seed_resolved_cases(system.engine, rng)

    latest: dict[str, dict] = {}
    tickets = list(units)
    rng.shuffle(tickets)
    order = tickets + [rng.choice(tickets) for _ in range(CALLBACKS - CASES)]  # 2,000 corrections
    rng.shuffle(order)
    first: dict[str, dict] = {}
    records: list[KafkaRecord] = []
    at = START
    for ticket in order:
        at += timedelta(seconds=rng.randint(60, 600))  # from 10-20 into November
        answer = {
            "recorded_at": at,
            "contacted": rng.random() < 0.97,
            "resolved": rng.random() < 0.9,
            "satisfaction": rng.choices(["satisfied", "basically_satisfied", "unsatisfied"], [75, 15, 10])[0],
            "valid": rng.random() > 0.05,
        }
        if applied == "one_by_one":
            system.bus.handle(c.RecordCallback(ticket, "center", **answer))
        else:
            records.append(feedback_record(ticket, answer, len(records)))
        latest[ticket] = answer
        if ticket not in first:
            first[ticket] = answer
    assert len(first) == CASES
    with caplog.at_level(logging.DEBUG, logger="consumers.app"):
        apply_in_batches(system, records, rng)
    assert not [line for line in caplog.messages if "one by one" in line]  # every batch applied whole
    assert count_dead_letters(system) == 0

    # a closed case is not terminated; one reopened by its first callback (unresolved or unsatisfied) may be
    reopened = [
        ticket
        for ticket, answer in first.items()
        if answer["valid"] and (not answer["resolved"] or answer["satisfaction"] == "unsatisfied")
    ]
    terminated = set(rng.sample(sorted(reopened), 25))
    for ticket in terminated:
        system.bus.handle(c.TerminateCase(ticket, "center-zhao", reason="终结"))
    appealed = [ticket for ticket in rng.sample(tickets, 60) if ticket not in terminated]
    accepted = set(appealed[:30])
    for ticket in appealed:
        month = latest[ticket]["recorded_at"].astimezone(BEIJING).strftime("%Y-%m")
        [line] = [
            line
            for line in callback_lines(system.engine, units[ticket], month)
            if line.ticket_id == ticket
            and line.excluded != "superseded by a later callback of the same round"
        ]
        appeal = system.bus.handle(
            c.FileAppeal("worker", callback_id=line.id, unit=units[ticket], reason="申诉")
        )
        system.bus.handle(
            c.DecideAppeal("center-zhao", appeal_id=appeal, accept=ticket in accepted, reason="核实")
        )

    expected = reference(units, latest, terminated | accepted)
    live = live_scores(system.engine)
    # recomputed from the callbacks themselves, with the weights of each month
    recomputed = {
        (found.key, month): rates(
            found.tally, system.assessment.settings.weights_for(month, found.unit_class)
        )
        for month in ("2026-10", "2026-11")
        for found in tallies(system.engine, months=[month])
    }
    kept = {
        (found.key, month): found.tally
        for month in ("2026-10", "2026-11")
        for found in month_tallies(system.engine, month)
    }
    assert kept == {key: value.tally for key, value in recomputed.items()}  # the live tallies
    assert len(expected) > 500  # most units have callbacks in both months
    assert set(recomputed) == set(expected)
    for key, want in expected.items():
        again, now = recomputed[key], live[key]
        assert (again.tally.valid, now["valid_callbacks"]) == (want["valid"], want["valid"]), key
        for name, live_name, value in (
            ("response", "response_rate", again.response_rate),
            ("resolution", "resolution_rate", again.resolution_rate),
            ("satisfaction", "satisfaction_rate", again.satisfaction_rate),
            ("composite", "composite", again.composite),
        ):
            assert float(value) == pytest.approx(want[name], abs=1e-9), (key, name)
            assert now[live_name] == pytest.approx(want[name], abs=1e-6), (key, name)  # published to 6 places
    # a unit whose every callback left the base is published with no base at all
    for key, now in live.items():
        if key not in expected:
            assert now["valid_callbacks"] == 0 and now["composite"] is None, key
