"""Dispatching a complaint: one case per ticket, applied once per event, duplicates reported."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest

from consumers.intake import handle_intake
from dispatcher.contract.cloudevents import KafkaRecord
from dispatcher.domain.case import CaseState
from dispatcher.domain.commands import DeadLetter, DispatchCase
from dispatcher.domain.events import CaseDispatched
from dispatcher.service import handlers
from dispatcher.service.messagebus import MessageBus
from rules.routing import DefaultUnitRouter
from tests.support.builders import intake_record, make_complaint
from tests.support.clock import NOW, Clock
from tests.support.fakes import FakeUnitOfWork


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def bus(uow: FakeUnitOfWork) -> MessageBus:
    router = DefaultUnitRouter("center-dispatch", "dispatch-desk", "on-duty")
    return MessageBus(
        {
            DispatchCase: partial(
                handlers.dispatch_case,
                uow=uow,
                router=router,
                clock=Clock(),
                repeat_window=timedelta(days=7),
            ),
            DeadLetter: partial(handlers.dead_letter, uow=uow),
        }
    )


def test_a_complaint_becomes_a_dispatched_case_at_the_default_unit(bus: MessageBus, uow: FakeUnitOfWork):
    record = intake_record(make_complaint(ticket_id="BJ2026112600001", urgency=None))
    handle_intake(record, bus)

    case = uow.cases.stored["BJ2026112600001"]
    assert case.state is CaseState.DISPATCHED
    assert (case.assignment.unit, case.assignment.post, case.assignment.person) == (
        "center-dispatch",
        "dispatch-desk",
        "on-duty",
    )
    assert case.assignment.rule == "default"
    assert case.urgency == "general"  # no urgency given and no catalog yet
    [event] = uow.outbox.published
    assert isinstance(event, CaseDispatched)
    assert (event.ticket_id, event.at, event.district) == ("BJ2026112600001", NOW, "朝阳区")


def test_the_dispatch_is_audited_with_its_reason(bus: MessageBus, uow: FakeUnitOfWork):
    handle_intake(intake_record(make_complaint(ticket_id="BJ1")), bus)
    [entry] = uow.cases.stored["BJ1"].audit
    assert (entry.action, entry.actor, entry.state, entry.at) == ("dispatch", "jiesu", "dispatched", NOW)
    assert entry.reason.startswith("to center-dispatch/dispatch-desk: no dispatch catalog loaded")


def test_the_same_event_twice_has_one_effect(bus: MessageBus, uow: FakeUnitOfWork):
    record = intake_record(event_id="evt-1")
    handle_intake(record, bus)
    handle_intake(record, bus)
    assert len(uow.cases.stored) == 1
    assert len(uow.outbox.published) == 1
    assert uow.outbox.dead_letters == []


def test_a_new_event_for_an_existing_ticket_is_dead_lettered_not_merged(bus: MessageBus, uow: FakeUnitOfWork):
    complaint = make_complaint(ticket_id="BJ2")
    handle_intake(intake_record(complaint, event_id="evt-a"), bus)
    handle_intake(
        intake_record(complaint.model_copy(update={"description": "另一件事"}), event_id="evt-b"), bus
    )

    assert uow.cases.stored["BJ2"].complaint.description == complaint.description
    [dead] = uow.outbox.dead_letters
    assert dead.reason == "duplicate_ticket"
    assert "BJ2" in dead.detail


def test_a_broken_record_is_dead_lettered_unchanged_with_its_reason(bus: MessageBus, uow: FakeUnitOfWork):
    good = intake_record()
    broken = KafkaRecord(good.topic, good.key, b"{not json", good.headers, partition=3, offset=41)
    handle_intake(broken, bus)
    handle_intake(broken, bus)  # redelivered after a crash: still one dead letter

    [dead] = uow.outbox.dead_letters
    assert (dead.reason, dead.value, dead.headers, dead.partition, dead.offset) == (
        "invalid_json",
        b"{not json",
        tuple(good.headers),
        3,
        41,
    )
    assert uow.cases.stored == {}
