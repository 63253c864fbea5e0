"""The SQL unit of work, written once, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import json

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, event, func, insert, select, text

from consumers.intake import handle_intake
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import (
    alembic_config,
    make_engine,
    read_aside,
    reading,
    shared_reads,
    upgrade,
)
from dispatcher.adapters.sql import decode_headers
from dispatcher.bootstrap import bootstrap
from dispatcher.settings import Settings
from rules.routing import DefaultUnitRouter, Router
from tests.conftest import sqlite_url
from tests.support.builders import intake_record, make_complaint
from tests.support.clock import NOW, Clock


@pytest.fixture
def engine(database_url: str) -> Engine:
    return make_engine(database_url)


def system(engine: Engine, router: Router | None = None):
    settings = Settings(database_url=str(engine.url), topic_prefix="jiesu.")
    desk = DefaultUnitRouter("center-dispatch", "dispatch-desk", "on-duty")
    return bootstrap(settings, clock=Clock(), engine=engine, router=router or desk)


def rows(engine: Engine, table) -> list[dict]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(table)).mappings()]


def test_migrations_create_exactly_the_schema_the_code_uses(engine: Engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), t.metadata)
    assert differences == []


def test_a_page_reads_on_one_connection_within_shared_reads(engine: Engine):
    checkouts = []
    event.listen(engine.pool, "checkout", lambda *_: checkouts.append(1))
    with shared_reads(engine) as shared:
        for _ in range(3):
            with reading(engine) as connection:
                assert connection is shared and connection.execute(select(t.cases)).all() == []
        with shared_reads(engine) as nested:
            assert nested is shared
        assert not shared.closed  # a read leaves it open for the next
    assert shared.closed and len(checkouts) == 1
    with reading(engine) as alone, reading(engine) as other:  # outside: a connection each, as before
        assert alone is not other and alone is not shared


def count_cases(engine: Engine, shared: Connection | None = None) -> tuple[bool, int]:
    """Whether the read was on `shared`, and how many cases it found."""
    with reading(engine) as connection:
        count = connection.execute(select(func.count()).select_from(t.cases)).scalar_one()
        return connection is shared, int(count)


def test_a_read_aside_reads_the_same_database_on_a_connection_of_its_own(engine: Engine):
    handle_intake(intake_record(make_complaint(ticket_id="ASIDE1")), system(engine).bus)
    with shared_reads(engine) as shared:  # a page's connection
        assert read_aside(engine, lambda: count_cases(engine, shared)).result() == (False, 1)


def test_a_read_aside_of_an_in_memory_database_is_read_in_place():
    engine = make_engine("sqlite://")  # a database per connection, and a connection per thread
    t.metadata.create_all(engine)
    handle_intake(intake_record(make_complaint(ticket_id="ASIDE1")), system(engine).bus)
    assert read_aside(engine, lambda: count_cases(engine)).result() == (False, 1)


def test_a_dispatch_stores_case_assignment_audit_inbox_and_outbox_together(engine: Engine):
    complaint = make_complaint(ticket_id="BJ20261126001", urgency="urgent")
    handle_intake(intake_record(complaint, event_id="evt-1"), system(engine).bus)

    [case] = rows(engine, t.cases)
    assert (case["state"], case["urgency"], case["received_at"]) == (
        "dispatched",
        "urgent",
        complaint.received_at,
    )
    assert case["dispatched_at"] == NOW and case["location"]["street"] == "望京街道"
    [assignment] = rows(engine, t.assignments)
    assert (assignment["unit"], assignment["post"], assignment["current"]) == (
        "center-dispatch",
        "dispatch-desk",
        True,
    )
    [audit] = rows(engine, t.audit)
    assert (audit["action"], audit["actor"], audit["at"]) == ("dispatch", "jiesu", NOW)
    [applied] = rows(engine, t.inbox)
    assert (applied["source"], applied["event_id"]) == ("/tests/hotline", "evt-1")
    [out] = rows(engine, t.outbox)
    assert (out["topic"], out["key"], out["sent_at"]) == ("jiesu.cases", b"BJ20261126001", None)
    headers = dict(decode_headers(out["headers"]))
    assert headers["ce_type"] == b"jiesu.case.dispatched"
    assert json.loads(out["value"])["assignment"]["unit"] == "center-dispatch"


def test_a_failure_mid_transaction_leaves_nothing_behind(engine: Engine):
    class BrokenRouter:
        def route(self, complaint, at):
            raise RuntimeError("catalog exploded")

    with pytest.raises(RuntimeError):
        handle_intake(intake_record(), system(engine, router=BrokenRouter()).bus)
    for table in (t.cases, t.assignments, t.audit, t.inbox, t.outbox):
        assert rows(engine, table) == [], table.name


def test_an_event_applied_twice_has_one_effect(engine: Engine):
    record = intake_record(event_id="evt-dup")
    bus = system(engine).bus
    handle_intake(record, bus)
    handle_intake(record, bus)
    assert len(rows(engine, t.cases)) == 1
    assert len(rows(engine, t.outbox)) == 1


def test_a_duplicate_ticket_goes_to_the_dead_letter_outbox_with_the_original_record(engine: Engine):
    complaint = make_complaint(ticket_id="BJ-DUP")
    bus = system(engine).bus
    handle_intake(intake_record(complaint, event_id="a"), bus)
    second = intake_record(complaint, event_id="b")
    handle_intake(second, bus)

    dead = [row for row in rows(engine, t.outbox) if row["topic"] == "jiesu.deadletter"]
    assert len(dead) == 1
    assert dead[0]["value"] == second.value and dead[0]["key"] == b"BJ-DUP"
    headers = dict(decode_headers(dead[0]["headers"]))
    assert headers["jiesu_reason"] == b"duplicate_ticket"
    assert headers["ce_id"] == b"b"
    assert len(rows(engine, t.cases)) == 1


def test_a_reading_connection_does_not_wait_for_sqlites_write_lock(tmp_path):
    import threading

    from sqlalchemy import text

    from dispatcher.adapters.database import make_engine, reading

    engine = make_engine(f"sqlite:///{tmp_path / 'jiesu.db'}")
    read: list[int] = []
    with engine.begin() as writer:  # BEGIN IMMEDIATE: the write lock is held
        writer.execute(text("CREATE TABLE numbers (n INTEGER)"))

    with engine.begin() as writer:
        writer.execute(text("INSERT INTO numbers VALUES (1)"))

        def reader() -> None:
            with reading(engine) as connection:
                read.append(connection.execute(text("SELECT count(*) FROM numbers")).scalar_one())

        thread = threading.Thread(target=reader)
        thread.start()
        thread.join(timeout=10)  # a writing connection would wait here for the lock (30 s busy timeout)
        assert read == [0]  # it read the last committed state, while the writer still held the lock
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def unmigrated_url(request: pytest.FixtureRequest, tmp_path) -> str:
    return sqlite_url(tmp_path) if request.param == "sqlite" else request.getfixturevalue("postgres_url")


# a case row as a revision before 0028 stored it (no `lead_unit`)
STORED_CASE = {
    "state": "dispatched",
    "urgency": "general",
    "channel": "phone",
    "kind": "complaint",
    "description": "楼道灯坏了",
    "location": {},
    "requester": {},
    "attachments": [],
    "received_at": NOW,
    "dispatched_at": NOW,
    "version": 1,
}


def rows_after_downgrade(url: str, revision: str, table: str) -> int:
    """How many rows `table` holds once the database at `url` is downgraded to `revision`."""
    command.downgrade(alembic_config(url), revision)
    engine = make_engine(url)
    with engine.connect() as connection:
        count = int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    engine.dispose()
    return count


def test_upgrading_gives_the_deadlines_stored_before_their_cases_district(unmigrated_url: str):
    upgrade(unmigrated_url, "0026")  # before the deadlines carried their case's district
    engine = make_engine(unmigrated_url)
    with engine.begin() as connection:
        for ticket, district in (("T1", "110105"), ("T2", None)):
            connection.execute(insert(t.cases).values(ticket_id=ticket, district=district, **STORED_CASE))
            for stage in ("acknowledge", "reply"):
                deadline = {"ticket_id": ticket, "stage": stage, "due_at": NOW, "status": "pending"}
                connection.execute(insert(t.deadlines).values(**deadline))
    engine.dispose()

    upgrade(unmigrated_url)
    engine = make_engine(unmigrated_url)
    found = {(row["ticket_id"], row["stage"]): row["district"] for row in rows(engine, t.deadlines)}
    assert found == {
        ("T1", "acknowledge"): "110105",
        ("T1", "reply"): "110105",
        ("T2", "acknowledge"): None,
        ("T2", "reply"): None,
    }
    engine.dispose()
    assert rows_after_downgrade(unmigrated_url, "0026", "deadlines") == 4  # and back, the deadlines kept


def test_upgrading_gives_the_cases_stored_before_the_unit_of_their_current_assignment(unmigrated_url: str):
    upgrade(unmigrated_url, "0027")  # before a case carried its current unit
    engine = make_engine(unmigrated_url)
    assignment = {"post": "desk", "rule": "r", "catalog_version": "v1", "reason": "", "co_handlers": []}
    with engine.begin() as connection:
        for ticket in ("T1", "T2"):
            connection.execute(insert(t.cases).values(ticket_id=ticket, **STORED_CASE))
        for unit, current in (("street-a", False), ("street-b", True)):  # T1 redispatched from a to b
            values = {"ticket_id": "T1", "unit": unit, "assigned_at": NOW, "current": current, **assignment}
            connection.execute(insert(t.assignments).values(**values))
    engine.dispose()

    upgrade(unmigrated_url)
    engine = make_engine(unmigrated_url)
    assert {row["ticket_id"]: row["lead_unit"] for row in rows(engine, t.cases)} == {
        "T1": "street-b",
        "T2": None,
    }
    engine.dispose()
    assert rows_after_downgrade(unmigrated_url, "0027", "cases") == 2  # and back, the cases kept
