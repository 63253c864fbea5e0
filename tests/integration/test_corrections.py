"""The center's corrections become labelled examples for the text classifier: a triaged case dispatched by a
supervisor with a category, and a returned case arbitration sent on, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from consumers.intake import handle_intake
from dispatcher.domain import commands as c
from dispatcher.reads.corrections import corrections
from tests.support.builders import intake_record, make_complaint
from tests.support.clock import NOW


def intake(system, ticket: str, description: str, category: str | None) -> None:
    complaint = make_complaint(
        ticket_id=ticket, description=description, category=category, location={"district": "朝阳区"}
    )
    handle_intake(intake_record(complaint), system.bus)


def test_manual_dispatch_and_arbitration_are_stored_as_examples_with_who_decided(system):
    intake(system, "TRIAGED", "屋里冷得像冰窖，老人直哆嗦", None)  # no keyword: triage
    system.bus.handle(
        c.DispatchManually("TRIAGED", "center-zhao", unit="ent-heating", category="010101", reason="供暖")
    )
    intake(system, "RETURNED", "暖气不热", "0101")
    system.bus.handle(c.ReturnCase("RETURNED", "li", code="not_our_duty", reason="自供暖小区"))
    system.bus.handle(c.Arbitrate("RETURNED", "center-wang", decision="redispatch", unit="district-110105"))
    intake(system, "UNTOUCHED", "暖气不热", "0101")

    found = corrections(system.engine)

    assert [(x.ticket_id, x.unit, x.by, x.after) for x in found] == [
        ("TRIAGED", "ent-heating", "center-zhao", "queued"),
        ("RETURNED", "district-110105", "center-wang", "returned"),
    ]
    example = found[0].example()
    assert example and (example.text, example.category) == ("屋里冷得像冰窖，老人直哆嗦", "010101")
    assert found[1].example() is None  # its category is not a leaf: counted, not trained on
    assert corrections(system.engine, since=NOW) == []  # none after the model's moment
    assert len(corrections(system.engine, since=NOW - timedelta(seconds=1))) == 2
