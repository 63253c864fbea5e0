"""Several records in one transaction, on SQLite and PostgreSQL: the same outcome as one by one, with
repeats, duplicates, redeliveries and refusals inside the batch."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from consumers.app import INFLOWS, Inflow, apply_all, apply_one, apply_together
from dispatcher.adapters import tables as t
from dispatcher.adapters.sql import BatchAbortedError
from dispatcher.bootstrap import System
from dispatcher.contract import events as wire
from dispatcher.contract.cloudevents import KafkaRecord, encode
from dispatcher.contract.events import Topic
from tests.integration.test_lifecycle_storage import column, published_types, repeat_of
from tests.support.builders import intake_record, make_complaint
from tests.support.clock import NOW

INTAKE, ACTIONS = INFLOWS[Topic.INTAKE], INFLOWS[Topic.ACTIONS]
ROUTED = {"category": "0101", "location": {"district": "朝阳区", "street": "望京街道"}}  # the test catalog's


def at(record: KafkaRecord, offset: int) -> KafkaRecord:
    return KafkaRecord(record.topic, record.key, record.value, record.headers, 0, offset)


def requests(count: int, prefix: str = "BJ-B") -> list[KafkaRecord]:
    return [
        at(intake_record(make_complaint(ticket_id=f"{prefix}{n:03}", description=f"第{n}号", **ROUTED)), n)
        for n in range(count)
    ]


def apply_in_one_go(system: System, records: list[KafkaRecord]) -> None:
    together = None
    if system.batch is not None:
        batch = system.batch

        def together(taken):  # type: ignore[no-untyped-def]
            apply_together(INTAKE, system.bus, batch, taken)

    asyncio.run(apply_all(lambda record: apply_one(INTAKE, system.bus, record), records, together))


def count(system: System, table) -> int:  # type: ignore[no-untyped-def]
    with system.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


def dead_letter_reasons(system: System) -> list[str]:
    from dispatcher.adapters.sql import decode_headers

    with system.engine.connect() as connection:
        rows = connection.execute(
            select(t.outbox.c.headers).where(t.outbox.c.topic.like("%deadletter")).order_by(t.outbox.c.id)
        ).scalars()
        return [dict(decode_headers(headers))["jiesu_reason"].decode() for headers in rows]


def test_a_batch_opens_every_case_with_its_rows_and_events_in_the_records_order(system):
    records = requests(50)
    apply_together(INTAKE, system.bus, system.batch, records)

    assert column(system, t.cases, "ticket_id") == [f"BJ-B{n:03}" for n in range(50)]
    assert count(system, t.inbox) == 50
    # the first step of each deadline's ladder (its warning): the next is planned when it is taken
    assert count(system, t.deadlines) == count(system, t.sla_timers)
    assert len(set(column(system, t.assignments, "ticket_id"))) == 50
    with system.engine.connect() as connection:
        keys = connection.execute(select(t.outbox.c.key).order_by(t.outbox.c.id)).scalars().all()
    assert [key.decode() for key in keys] == [f"BJ-B{n:03}" for n in range(50)]  # the publishing order
    assert published_types(system) == ["jiesu.case.dispatched"] * 50


def test_a_repeat_of_a_case_opened_earlier_in_the_same_batch_is_linked_to_it(system):
    records = [
        at(intake_record(repeat_of("BJ-FIRST")), 0),
        *requests(5, "BJ-X"),
        at(intake_record(repeat_of("BJ-AGAIN", description="暖气还是不热")), 9),
    ]
    apply_together(INTAKE, system.bus, system.batch, records)

    assert column(system, t.cases, "linked_to", ticket_id="BJ-AGAIN") == ["BJ-FIRST"]
    assert column(system, t.audit, "action", ticket_id="BJ-FIRST") == ["dispatch", "link_repeat"]


def test_the_same_event_twice_in_a_batch_or_again_in_a_later_one_has_one_effect(system):
    records = requests(10)
    apply_in_one_go(system, [*records, records[3]])
    apply_in_one_go(system, records[5:])  # redelivered after a crash

    assert count(system, t.cases) == 10
    assert published_types(system).count("jiesu.case.dispatched") == 10
    assert dead_letter_reasons(system) == []


def test_a_refusal_inside_a_batch_rolls_all_of_it_back(system):
    records = requests(10)
    apply_together(INTAKE, system.bus, system.batch, records[:1])
    again = at(
        intake_record(make_complaint(ticket_id="BJ-B000", **ROUTED)), 77
    )  # a new event, a known ticket

    with pytest.raises(BatchAbortedError) as aborted:
        apply_together(INTAKE, system.bus, system.batch, [*records[1:5], again, *records[5:]])
    assert aborted.value.at == 4  # the position of the refused record in the batch
    assert count(system, t.cases) == 1
    assert count(system, t.outbox) == 1


def test_a_batch_with_bad_records_and_a_duplicate_ticket_ends_as_one_by_one_would(system):
    records = requests(20)
    broken = at(KafkaRecord("jiesu.intake", b"k", b"{not json", records[0].headers, 0, 0), 40)
    duplicate = at(intake_record(make_complaint(ticket_id="BJ-B004", **ROUTED)), 41)
    apply_in_one_go(system, [*records[:10], broken, duplicate, *records[10:]])

    assert count(system, t.cases) == 20
    assert published_types(system).count("jiesu.case.dispatched") == 20
    assert sorted(dead_letter_reasons(system)) == ["duplicate_ticket", "invalid_json"]


def test_a_batch_is_applied_around_its_refused_records_in_order_not_one_by_one(system, caplog):
    records = requests(30)
    duplicates = [at(intake_record(make_complaint(ticket_id=f"BJ-B00{n}", **ROUTED)), 90 + n) for n in (2, 3)]
    taken = [*records[:8], duplicates[0], *records[8:20], duplicates[1], *records[20:]]
    caplog.set_level(logging.DEBUG, logger="consumers.app")

    apply_in_one_go(system, taken)

    assert count(system, t.cases) == 30
    assert dead_letter_reasons(system) == ["duplicate_ticket", "duplicate_ticket"]
    with system.engine.connect() as connection:
        keys = connection.execute(select(t.outbox.c.key).order_by(t.outbox.c.id)).scalars().all()
    assert keys == [record.key for record in taken]  # published in the records' order
    splits = [r.message for r in caplog.records if "applying it alone" in r.message]
    # BJ-B002 again is the 9th of the 32 taken; then BJ-B003 again the 13th of the 23 after it
    assert [message.split(" at record ")[1] for message in splits] == [
        "9 of 32: applying it alone",
        "13 of 23: applying it alone",
    ]
    assert not any("one by one" in r.message for r in caplog.records)


def shape(system: System, ticket: str) -> tuple:
    """What a worker would see of a case: state, unit, deadlines, timers, audit, events."""
    return (
        column(system, t.cases, "state", ticket_id=ticket),
        column(system, t.cases, "version", ticket_id=ticket),
        column(system, t.assignments, "unit", ticket_id=ticket),
        column(system, t.deadlines, "due_at", ticket_id=ticket),
        column(system, t.deadlines, "status", ticket_id=ticket),
        column(system, t.sla_timers, "due_at", ticket_id=ticket),
        column(system, t.sla_timers, "status", ticket_id=ticket),
        column(system, t.audit, "action", ticket_id=ticket),
        len(column(system, t.outbox, "id", key=ticket.encode())),
    )


def actions_on(ticket: str, offset: int) -> list[KafkaRecord]:
    """Sign for, contact, ask for more time, resolve: each record a command on the same case."""
    steps = [
        ("jiesu.case.acknowledge", wire.AcknowledgeCase(ticket_id=ticket, by="li", at=NOW)),
        ("jiesu.case.contact", wire.RecordContact(ticket_id=ticket, by="li", at=NOW, note="已联系")),
        (
            "jiesu.case.extension",
            wire.RequestExtension(
                ticket_id=ticket, by="li", at=NOW, requested_until=NOW + timedelta(days=20), reason="待采购"
            ),
        ),
        ("jiesu.case.resolve", wire.ResolveCase(ticket_id=ticket, by="li", at=NOW, result="已修复")),
    ]
    records = []
    for n, (kind, data) in enumerate(steps):
        out = encode(
            "jiesu.actions", kind, data, key=ticket, event_id=f"{ticket}-{n}", source="/unit", time=NOW
        )
        records.append(KafkaRecord(out.topic, out.key, out.value, out.headers, 0, offset + n))
    return records


def test_several_actions_on_one_case_in_one_batch_end_as_one_by_one_would(system):
    apply_together(INTAKE, system.bus, system.batch, [*requests(2, "BJ-S"), *requests(2, "BJ-T")])
    for record in [*actions_on("BJ-S000", 0), *actions_on("BJ-S001", 10)]:
        apply_one(ACTIONS, system.bus, record)
    # the two cases' actions interleaved, every one in the same transaction
    interleaved = [
        record
        for pair in zip(actions_on("BJ-T000", 0), actions_on("BJ-T001", 10), strict=True)
        for record in pair
    ]
    apply_together(ACTIONS, system.bus, system.batch, interleaved)

    for n in range(2):
        assert shape(system, f"BJ-S00{n}") == shape(system, f"BJ-T00{n}")
    assert column(system, t.cases, "state", ticket_id="BJ-T001") == ["resolved"]
    assert "met" in column(system, t.deadlines, "status", ticket_id="BJ-T001")
    assert "cancelled" in column(system, t.sla_timers, "status", ticket_id="BJ-T001")
    assert dead_letter_reasons(system) == []


def test_one_by_one_and_in_one_batch_store_the_same_cases(system):
    one_by_one, together = requests(30, "BJ-S"), requests(30, "BJ-T")
    for record in one_by_one:
        apply_one(INTAKE, system.bus, record)
    apply_together(INTAKE, system.bus, system.batch, together)

    for n in range(30):
        assert shape(system, f"BJ-S{n:03}") == shape(system, f"BJ-T{n:03}")
    assert shape(system, "BJ-T007")[0] == ["dispatched"]


def test_a_repeat_of_a_case_stored_before_the_batch_is_linked_and_another_phone_is_not(system):
    apply_together(INTAKE, system.bus, system.batch, [at(intake_record(repeat_of("BJ-FIRST")), 0)])
    later = [
        at(intake_record(repeat_of("BJ-OTHER", requester={"phone": "13900000000"})), 1),
        at(intake_record(repeat_of("BJ-AGAIN", description="暖气还是不热")), 2),
    ]
    apply_together(INTAKE, system.bus, system.batch, later)

    assert column(system, t.cases, "linked_to", ticket_id="BJ-AGAIN") == ["BJ-FIRST"]
    assert column(system, t.cases, "state", ticket_id="BJ-OTHER") == ["dispatched"]


def test_a_record_the_database_refuses_to_store_is_dead_lettered_instead_of_retried_for_ever(system):
    def unstorable(record: KafkaRecord, command: object, bus: object) -> None:
        raise DataError("INSERT INTO cases ...", {}, ValueError("invalid byte sequence"))

    apply_one(Inflow(INTAKE.translate, unstorable), system.bus, requests(1)[0])

    assert dead_letter_reasons(system) == ["invalid_value"]
    assert count(system, t.cases) == 0


def test_in_a_batch_a_repeat_without_a_community_is_linked_by_its_street(system):
    on = {"district": "朝阳区", "street": "望京街道"}
    apply_together(
        INTAKE, system.bus, system.batch, [at(intake_record(repeat_of("BJ-STORED", location=on)), 0)]
    )
    later = [
        at(intake_record(repeat_of("BJ-NEW", location=on)), 1),  # repeats the stored case
        at(intake_record(repeat_of("BJ-OTHER", location={"district": "朝阳区", "street": "八里庄街道"})), 2),
        at(
            intake_record(
                repeat_of("BJ-OTHER-AGAIN", location={"district": "朝阳区", "street": "八里庄街道"})
            ),
            3,
        ),
    ]
    apply_together(INTAKE, system.bus, system.batch, later)

    assert column(system, t.cases, "linked_to", ticket_id="BJ-NEW") == ["BJ-STORED"]
    assert column(system, t.cases, "state", ticket_id="BJ-OTHER") == ["dispatched"]
    assert column(system, t.cases, "linked_to", ticket_id="BJ-OTHER-AGAIN") == ["BJ-OTHER"]
