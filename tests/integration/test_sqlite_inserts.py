"""The new rows of a transaction on SQLite, written by `PendingWrites` with its inserts compiled once
(`pending.DriverInsert`), are stored exactly as SQLAlchemy's `connection.execute(insert, rows)` stores
them: the same text, numbers and bytes in each column, and the same values read back."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, Engine, Insert, select
from sqlalchemy.exc import StatementError

from consumers.app import INFLOWS, apply_together
from dispatcher.adapters import tables as t
from dispatcher.adapters.callback_store import INSERT_CALLBACK
from dispatcher.adapters.database import make_engine, upgrade
from dispatcher.adapters.pending import (
    COPIED,
    INSERT_AUDIT,
    INSERT_DEADLINE,
    INSERT_INBOX,
    INSERT_OUTBOX,
    DriverInsert,
    PendingWrites,
    sqlite_time,
)
from dispatcher.bootstrap import bootstrap
from dispatcher.contract.cloudevents import KafkaRecord
from dispatcher.contract.events import Topic
from dispatcher.domain.callbacks import Satisfaction
from dispatcher.settings import Settings
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog
from tests.support.clock import Clock

ROUTED = {"category": "0101", "location": {"district": "朝阳区", "street": "望京街道"}}  # the test catalog's
NEW_YORK = ZoneInfo("America/New_York")
Writes = list[list[tuple[Insert, list[dict[str, Any]]]]]  # each `PendingWrites.write`: its inserts' rows


def database(tmp_path: Path, name: str) -> Engine:
    url = f"sqlite:///{tmp_path / name}"
    upgrade(url)
    return make_engine(url)


def intake_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Writes:
    """The inserts' rows of a batch of new cases (one a repeat of another, one with attachments) as the
    intake gathers them, taken as `PendingWrites.write` is called."""
    catalog = write_catalog(tmp_path / "catalog")
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    upgrade(url)
    system = bootstrap(Settings(database_url=url, catalog_dir=catalog), clock=Clock())
    caller = {"name": "李女士", "phone": "13800000001"}
    complaints = [
        make_complaint(ticket_id=f"BJ-S{n:03}", description=f"第{n}号暖气不热", **ROUTED) for n in range(6)
    ]
    complaints += [
        make_complaint(ticket_id="BJ-FIRST", requester=caller, attachments=["a.jpg"], **ROUTED),
        make_complaint(ticket_id="BJ-AGAIN", requester=caller, **ROUTED),
        make_complaint(ticket_id="BJ-ELSE", description="噪音扰民", location={"district": "朝阳区"}),
    ]
    records = [
        KafkaRecord(record.topic, record.key, record.value, record.headers, 0, offset)
        for offset, record in enumerate(intake_record(complaint) for complaint in complaints)
    ]
    writes: Writes = []
    write = PendingWrites.write

    def taking(pending: PendingWrites, connection: Connection) -> None:
        writes.append([(s, copy.deepcopy(rows)) for s, rows in pending.rows.items() if rows and s in COPIED])
        write(pending, connection)

    monkeypatch.setattr(PendingWrites, "write", taking)
    assert system.batch is not None
    apply_together(INFLOWS[Topic.INTAKE], system.bus, system.batch, records)
    monkeypatch.undo()
    system.engine.dispose()
    return writes


def odd_rows(ticket: str) -> list[tuple[Insert, list[dict[str, Any]]]]:
    """Rows of the other inserts and values the intake's may not have: booleans, an enum, bytes and no
    bytes, times in other zones (the same instant in two, a clock's two readings of 01:30 when it goes
    back, a year before 1000), no time."""
    utc = datetime(2026, 12, 3, 4, 5, 6, 7, tzinfo=UTC)
    times = [
        utc,
        utc.astimezone(timezone(timedelta(hours=8))),
        datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK),
        datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK, fold=1),
        datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(2026, 12, 3, 20, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
    ]
    callback = {
        "ticket_id": ticket,
        "round": 1,
        "recorded_at": times[1],
        "month": "2026-12",
        "contacted": True,
        "resolved": False,
        "satisfaction": Satisfaction.BASICALLY_SATISFIED,
        "valid": True,
        "comment": None,
        "unit": "ent-heating",
        "post": "worker",
        "person": None,
        "unit_class": "enterprise",
        "current": False,
        "received_at": times[0],
    }
    audit = [
        {
            "ticket_id": ticket,
            "at": at,
            "actor": "system",
            "action": "note",
            "reason": "理由",
            "from_state": None,
            "state": "dispatched",
        }
        for at in times
    ]
    deadline = {"ticket_id": ticket, "stage": "extra", "due_at": times[3], "status": "met", "fired_at": None}
    outbox: list[dict[str, Any]] = [
        {"topic": "t", "key": None, "value": b"\x00\xff", "headers": [], "created_at": times[2]},
        {"topic": "t", "key": b"k", "value": b"", "headers": [["h", "\u4e2d"]], "created_at": times[4]},
    ]
    return [
        (INSERT_DEADLINE, [deadline]),
        (INSERT_CALLBACK, [callback]),
        (INSERT_AUDIT, audit),
        (INSERT_OUTBOX, outbox),
    ]


def stored(engine: Engine) -> dict[str, tuple[list[Any], list[Any]]]:
    """Each table's rows as SQLAlchemy reads them, and as SQLite holds them (each value with its type)."""
    tables: dict[str, tuple[list[Any], list[Any]]] = {}
    with engine.connect() as connection:
        for table in t.metadata.sorted_tables:
            read = list(connection.execute(select(table).order_by(*table.primary_key.columns)))
            raw = connection.exec_driver_sql(f'SELECT * FROM "{table.name}" ORDER BY rowid').all()
            tables[table.name] = (read, [[(type(value), value) for value in row] for row in raw])
    return tables


def test_new_rows_are_stored_and_read_back_as_sqlalchemys_own_inserts_leave_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = intake_writes(tmp_path, monkeypatch)
    assert {statement.table.name for write in writes for statement, _ in write} >= {
        "cases",
        "deadlines",
        "assignments",
        "sla_timers",
        "audit",
        "inbox",
        "outbox",
    }
    writes.append(odd_rows("BJ-FIRST"))
    before, after = database(tmp_path, "before.db"), database(tmp_path, "after.db")

    for write in writes:
        with before.begin() as connection:
            for statement, rows in write:
                connection.execute(statement, copy.deepcopy(rows))
        with after.begin() as connection:
            pending = PendingWrites()
            for statement, rows in write:
                assert DriverInsert.of(statement, connection.dialect, tuple(rows[0])) is not None
                pending.add(statement, copy.deepcopy(rows))
            pending.write(connection)

    written, expected = stored(after), stored(before)
    assert sum(len(read) for read, _ in expected.values()) > 60
    for table in t.metadata.sorted_tables:
        assert written[table.name] == expected[table.name], table.name
    before.dispose()
    after.dispose()


@pytest.mark.parametrize(
    "rows",
    [
        [{"source": "s", "event_id": "1", "processed_at": datetime(2026, 12, 3)}],  # naive
        [
            {"source": "s", "event_id": "1", "processed_at": datetime(2026, 12, 3, tzinfo=UTC)},
            {"source": "s", "event_id": "2"},
        ],
        [{"source": "s", "event_id": "1", "processed_at": "2026-12-03"}],
    ],
    ids=["naive time", "a row without a column", "text for a time"],
)
def test_rows_sqlalchemy_refuses_are_refused_the_same_way(tmp_path: Path, rows: list[dict[str, Any]]) -> None:
    def pending_write(connection: Connection) -> None:
        pending = PendingWrites()
        pending.add(INSERT_INBOX, rows)
        pending.write(connection)

    engine = database(tmp_path, "refused.db")
    for write in (lambda connection: connection.execute(INSERT_INBOX, rows), pending_write):
        with pytest.raises(StatementError), engine.begin() as connection:
            write(connection)
    engine.dispose()


def test_times_are_the_text_sqlalchemy_stores_for_them() -> None:
    engine = make_engine("sqlite://")
    sqlalchemys = t.UtcDateTime().dialect_impl(engine.dialect).bind_processor(engine.dialect)
    assert sqlalchemys is not None
    zones = [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30)), NEW_YORK]
    rng = random.Random(12345)
    for _ in range(2000):
        moment = datetime(1, 1, 2, tzinfo=UTC) + timedelta(seconds=rng.randrange(315_000_000_000))
        moment = moment.replace(microsecond=rng.choice([0, 1, 999_999, rng.randrange(1_000_000)]))
        local = moment.astimezone(rng.choice(zones)) if moment.year > 1 else moment
        assert sqlite_time(local) == sqlalchemys(local), local
    engine.dispose()
