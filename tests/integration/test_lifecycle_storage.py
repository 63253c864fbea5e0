"""Actions on stored cases, on SQLite and PostgreSQL: state, audit and events together; races serialized."""

from __future__ import annotations

import contextlib
import json
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from consumers.intake import handle_intake
from dispatcher.adapters import tables as t
from dispatcher.adapters.sql import decode_headers
from dispatcher.bootstrap import bootstrap
from dispatcher.domain import commands as c
from dispatcher.domain.case import CaseError
from dispatcher.settings import Settings
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog
from tests.support.clock import NOW, Clock


def open_case(system, ticket: str = "BJ1", category: str = "0101") -> str:
    complaint = make_complaint(
        ticket_id=ticket, category=category, location={"district": "朝阳区", "street": "望京街道"}
    )
    handle_intake(intake_record(complaint), system.bus)
    return ticket


def column(system, table, name: str, **where) -> list:
    query = select(table.c[name]).order_by(table.c[next(iter(table.c.keys()))])
    for key, value in where.items():
        query = query.where(table.c[key] == value)
    with system.engine.connect() as connection:
        return list(connection.execute(query).scalars())


def published_types(system) -> list[str]:
    with system.engine.connect() as connection:
        rows = connection.execute(select(t.outbox.c.headers).order_by(t.outbox.c.id)).scalars()
        return [dict(decode_headers(headers))["ce_type"].decode() for headers in rows]


def test_a_dispatched_case_gets_its_deadlines_with_how_they_were_computed(system):
    ticket = open_case(system)  # urgent heating: 1 h, 2 h, 24 h
    assert column(system, t.deadlines, "due_at", ticket_id=ticket) == [
        NOW + timedelta(hours=1),
        NOW + timedelta(hours=2),
        NOW + timedelta(hours=24),
    ]
    [reason] = column(system, t.audit, "reason", ticket_id=ticket)
    assert "deadlines: acknowledge: 1 hours (tier urgent)" in reason
    with system.engine.connect() as connection:
        value = connection.execute(select(t.outbox.c.value)).scalar_one()
    assert json.loads(value)["deadlines"]["reply"] == {
        "due_at": "2026-11-27T10:00:00+08:00",
        "state": "pending",
    }
    how = dict(
        zip(
            column(system, t.deadlines, "stage", ticket_id=ticket),
            column(system, t.deadlines, "how", ticket_id=ticket),
            strict=True,
        )
    )
    assert how["reply"].startswith("reply: 24 hours (tier urgent) → due 2026-11-27 10:00 +0800")


def test_each_action_stores_state_audit_and_event_together(system):
    ticket = open_case(system)
    system.bus.handle(c.AcknowledgeCase(ticket, "li"))
    system.bus.handle(c.RecordContact(ticket, "li", note="已电话联系"))
    system.bus.handle(c.ResolveCase(ticket, "li", result="已派人维修，室温恢复"))

    assert column(system, t.cases, "state") == ["resolved"]
    assert column(system, t.audit, "action") == ["dispatch", "acknowledge", "contact", "resolve"]
    assert column(system, t.audit, "from_state") == [None, "dispatched", "acknowledged", "contacted"]
    assert column(system, t.deadlines, "status", ticket_id=ticket) == ["met", "met", "met"]
    assert column(system, t.deadlines, "fired_at", ticket_id=ticket) == [NOW, NOW, NOW]
    assert published_types(system) == [
        "jiesu.case.dispatched",
        "jiesu.case.acknowledged",
        "jiesu.case.contacted",
        "jiesu.case.resolved",
    ]


def test_a_refused_action_changes_nothing(system):
    ticket = open_case(system)
    with pytest.raises(CaseError, match="cannot resolve"):
        system.bus.handle(c.ResolveCase(ticket, "li", result="done"))
    assert column(system, t.cases, "state") == ["dispatched"]
    assert published_types(system) == ["jiesu.case.dispatched"]


def test_return_and_arbitration_redispatch_to_the_rules_proposal(system):
    ticket = open_case(system)
    system.bus.handle(c.ReturnCase(ticket, "li", code="not_our_duty", reason="该小区为自供暖"))
    assert column(system, t.cases, "state") == ["returned"]
    system.bus.handle(c.Arbitrate(ticket, "center-zhao", decision="redispatch", reason="改派"))

    # the catalog has no other heating unit: without ent-heating the proposal is the district government
    assert column(system, t.assignments, "unit") == ["ent-heating", "district-110105"]
    # the new unit gets fresh deadlines from the redispatch (the fake clock has not moved: same values)
    assert "deadlines: acknowledge" in column(system, t.audit, "reason", ticket_id=ticket)[-1]
    assert column(system, t.assignments, "current") == [False, True]
    assert published_types(system)[-2:] == ["jiesu.case.returned", "jiesu.case.redispatched"]


def test_a_rejected_return_keeps_the_unit(system):
    ticket = open_case(system)
    system.bus.handle(c.ReturnCase(ticket, "li", code="wrong_area", reason="不在我们辖区"))
    system.bus.handle(c.Arbitrate(ticket, "center-zhao", decision="reject", reason="在辖区内"))
    assert column(system, t.cases, "state") == ["dispatched"]
    assert column(system, t.assignments, "unit") == ["ent-heating"]
    assert published_types(system)[-1] == "jiesu.case.return_rejected"


def test_an_approved_extension_moves_the_reply_deadline(system):
    ticket = open_case(system)
    system.bus.handle(c.AcknowledgeCase(ticket, "li"))
    until = NOW + timedelta(days=10)
    system.bus.handle(c.RequestExtension(ticket, "li", until=until, reason="需更换管道"))
    assert column(system, t.cases, "reply_due") == [NOW + timedelta(hours=24)]  # urgent: 24 hours
    system.bus.handle(c.DecideExtension(ticket, "center-zhao", approve=True, reason="同意"))
    assert column(system, t.cases, "reply_due") == [until]
    assert column(system, t.deadlines, "stage") == ["acknowledge", "contact", "reply"]
    assert column(system, t.deadlines, "due_at") == [
        NOW + timedelta(hours=1),
        NOW + timedelta(hours=2),
        until,
    ]
    assert column(system, t.deadlines, "how")[2] == (
        "reply: extension approved by center-zhao (同意), "
        "was due 2026-11-27 10:00 +0800 → due 2026-12-06 10:00 +0800"
    )


def test_two_acknowledgements_at_the_same_moment_one_wins_the_other_is_refused(
    database_url: str, tmp_path: Path
):
    catalog = write_catalog(tmp_path / "catalog")
    both_loaded = threading.Barrier(2)
    waited = threading.local()

    def clock() -> datetime:
        """First called after the case is loaded: hold each worker there until the other has loaded it too.
        SQLite lets only one transaction in at a time, so there the wait gives up and the second worker
        loads the case after the first committed."""
        if threading.current_thread().name.startswith("worker") and not getattr(waited, "done", False):
            waited.done = True
            with contextlib.suppress(threading.BrokenBarrierError):
                both_loaded.wait(timeout=2)
        return NOW

    system = bootstrap(Settings(database_url=database_url, catalog_dir=catalog), clock=clock)
    ticket = open_case(system)
    outcomes: dict[str, str] = {}

    def acknowledge(name: str) -> None:
        try:
            system.bus.handle(c.AcknowledgeCase(ticket, name))
            outcomes[name] = "ok"
        except CaseError as error:
            outcomes[name] = type(error).__name__

    threads = [
        threading.Thread(target=acknowledge, args=(f"worker-{n}",), name=f"worker-{n}") for n in (1, 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) in (["ConcurrencyError", "ok"], ["TransitionError", "ok"]), outcomes
    assert column(system, t.audit, "action").count("acknowledge") == 1
    assert published_types(system).count("jiesu.case.acknowledged") == 1


def repeat_of(ticket: str, **overrides) -> object:
    fields = {
        "ticket_id": ticket,
        "category": "0101",
        "requester": {"name": "王先生", "phone": "13812341234"},
        "location": {"district": "朝阳区", "street": "望京街道", "community": "花家地北里社区"},
    }
    return make_complaint(**{**fields, **overrides})


def test_a_repeat_from_the_same_phone_community_and_category_is_linked_not_dispatched(system):
    handle_intake(intake_record(repeat_of("BJ-FIRST")), system.bus)
    handle_intake(intake_record(repeat_of("BJ-AGAIN", description="暖气还是不热")), system.bus)
    handle_intake(intake_record(repeat_of("BJ-OTHER", requester={"phone": "13900000000"})), system.bus)

    assert column(system, t.cases, "state", ticket_id="BJ-AGAIN") == ["linked"]
    assert column(system, t.cases, "linked_to", ticket_id="BJ-AGAIN") == ["BJ-FIRST"]
    assert column(system, t.cases, "state", ticket_id="BJ-OTHER") == ["dispatched"]
    assert published_types(system).count("jiesu.case.linked") == 1
    assert column(system, t.audit, "action", ticket_id="BJ-FIRST") == ["dispatch", "link_repeat"]
    assert len(column(system, t.assignments, "ticket_id")) == 2  # the repeat got no unit of its own


def test_without_a_community_a_repeat_is_linked_by_phone_street_and_category(system):
    on = {"district": "朝阳区", "street": "望京街道"}
    handle_intake(intake_record(repeat_of("BJ-STREET", location=on)), system.bus)
    handle_intake(intake_record(repeat_of("BJ-SAME", location=on, description="还是不热")), system.bus)
    elsewhere = {"district": "朝阳区", "street": "八里庄街道"}
    handle_intake(intake_record(repeat_of("BJ-ELSEWHERE", location=elsewhere)), system.bus)
    # a later call that names the community of that street repeats the case whose community was unknown
    handle_intake(intake_record(repeat_of("BJ-NAMED")), system.bus)

    assert column(system, t.cases, "linked_to", ticket_id="BJ-SAME") == ["BJ-STREET"]
    assert column(system, t.cases, "state", ticket_id="BJ-ELSEWHERE") == ["dispatched"]
    assert column(system, t.cases, "linked_to", ticket_id="BJ-NAMED") == ["BJ-STREET"]
    assert "same phone, street and category" in column(system, t.audit, "reason", ticket_id="BJ-SAME")[0]


def test_a_request_naming_an_open_case_is_linked_and_one_naming_a_resolved_case_is_not(system):
    handle_intake(intake_record(repeat_of("BJ-A", requester={})), system.bus)
    handle_intake(intake_record(repeat_of("BJ-B", requester={}, related_ticket_id="BJ-A")), system.bus)
    assert column(system, t.cases, "linked_to", ticket_id="BJ-B") == ["BJ-A"]

    for command in (
        c.AcknowledgeCase("BJ-A", "li"),
        c.RecordContact("BJ-A", "li"),
        c.ResolveCase("BJ-A", "li", result="好了"),
    ):
        system.bus.handle(command)
    handle_intake(intake_record(repeat_of("BJ-C", requester={}, related_ticket_id="BJ-A")), system.bus)
    assert column(system, t.cases, "state", ticket_id="BJ-C") == ["dispatched"]


def test_joint_handling_is_stored_and_the_lead_resolves_with_the_co_handlers_report(
    database_url: str, tmp_path: Path
):
    rule = {
        "id": "heating",
        "priority": 10,
        "when": {"category": "01"},
        "then": {"unit": "ent-heating", "co_handlers": ["ent-heating-b"]},
    }
    catalog = write_catalog(tmp_path / "catalog", rules=[rule])
    system = bootstrap(Settings(database_url=database_url, catalog_dir=catalog), clock=Clock())
    ticket = open_case(system)
    for command in (c.AcknowledgeCase(ticket, "li"), c.RecordContact(ticket, "li")):
        system.bus.handle(command)
    system.bus.handle(c.AcknowledgeAsCoHandler(ticket, "zhou", unit="ent-heating-b"))
    with pytest.raises(CaseError, match="have not reported"):
        system.bus.handle(c.ResolveCase(ticket, "li", result="已修复"))
    system.bus.handle(c.ReportToLead(ticket, "zhou", unit="ent-heating-b", report="二次管网已检修"))
    system.bus.handle(c.ResolveCase(ticket, "li", result="已修复"))

    assert column(system, t.assignments, "co_handlers") == [["ent-heating-b"]]
    [stored] = column(system, t.cases, "co_handlers")
    assert stored["ent-heating-b"]["report"] == "二次管网已检修"
    assert published_types(system)[-3:] == [
        "jiesu.case.co_acknowledged",
        "jiesu.case.co_reported",
        "jiesu.case.resolved",
    ]
    with system.engine.connect() as connection:
        value = connection.execute(
            select(t.outbox.c.value).order_by(t.outbox.c.id.desc()).limit(1)
        ).scalar_one()
    assert json.loads(value)["co_reports"] == [{"unit": "ent-heating-b", "report": "二次管网已检修"}]


def test_a_redispatched_case_gets_fresh_deadlines_for_its_new_unit(system, clock):
    ticket = open_case(system)
    clock.at(minutes=30)
    system.bus.handle(c.AcknowledgeCase(ticket, "li"))
    assert column(system, t.deadlines, "status", ticket_id=ticket) == ["met", "pending", "pending"]
    clock.at(hours=1)
    system.bus.handle(c.ReturnCase(ticket, "li", code="not_our_duty", reason="自供暖小区"))
    clock.at(hours=3)
    system.bus.handle(c.Arbitrate(ticket, "center-zhao", decision="redispatch", reason="改派区政府"))
    later = NOW + timedelta(hours=3)
    assert column(system, t.deadlines, "due_at", ticket_id=ticket) == [
        later + timedelta(hours=1),
        later + timedelta(hours=2),
        later + timedelta(hours=24),
    ]
    assert column(system, t.cases, "reply_due", ticket_id=ticket) == [later + timedelta(hours=24)]
    assert column(system, t.deadlines, "status", ticket_id=ticket) == ["pending", "pending", "pending"]


def test_an_action_event_the_case_refuses_for_its_data_is_dead_lettered_not_a_crash(system):
    from consumers.app import INFLOWS, apply_one
    from dispatcher.contract import events as wire
    from dispatcher.contract.cloudevents import KafkaRecord, encode
    from dispatcher.contract.events import Topic

    ticket = open_case(system)
    system.bus.handle(c.AcknowledgeCase(ticket, "li"))
    asked = wire.RequestExtension(
        ticket_id=ticket, at=NOW, by="li", requested_until=NOW, reason="太忙"
    )  # not later
    out = encode(
        "jiesu.actions", "jiesu.case.extension", asked, key=ticket, event_id="x1", source="/unit", time=NOW
    )
    apply_one(
        INFLOWS[Topic.ACTIONS], system.bus, KafkaRecord(out.topic, out.key, out.value, out.headers, 0, 1)
    )
    with system.engine.connect() as connection:
        headers = connection.execute(
            select(t.outbox.c.headers).where(t.outbox.c.topic.like("%deadletter"))
        ).scalar_one()
    reason = dict(decode_headers(headers))["jiesu_reason"]
    assert reason == b"refused"
