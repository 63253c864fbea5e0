"""Intake: a record from `jiesu.intake` becomes a `DispatchCase` (with its direct answer, for a consultation
closed at intake), or a `DeadLetter` with its reason."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from dispatcher.contract.cloudevents import KafkaRecord, RejectedRecord, RejectReason, decode
from dispatcher.contract.events import ComplaintReceived, Topic, types_on
from dispatcher.contract.mapping import complaint_from_wire, direct_answer_from_wire
from dispatcher.domain.case import CaseError
from dispatcher.domain.commands import DeadLetter, DispatchCase, InboundId
from dispatcher.service.handlers import DuplicateTicketError
from dispatcher.service.messagebus import MessageBus

log = logging.getLogger(__name__)
INTAKE_TYPES = types_on(Topic.INTAKE)
C = TypeVar("C")


def position(record: KafkaRecord) -> InboundId:
    """The identity of a record that has no usable CloudEvents id: where it sits in Kafka."""
    return InboundId(f"kafka:{record.topic}", f"{record.partition}/{record.offset}")


def command_for(record: KafkaRecord) -> DispatchCase:
    """Translate a record into the command; raises `RejectedRecord` if it breaks the contract."""
    event = decode(record, INTAKE_TYPES)
    assert isinstance(event.data, ComplaintReceived)
    data = event.data
    inbound = InboundId(event.source, event.id)
    return DispatchCase(inbound, complaint_from_wire(data), direct_answer_from_wire(data))


def dead_letter_for(record: KafkaRecord, reason: str, detail: str, inbound: InboundId) -> DeadLetter:
    return DeadLetter(
        inbound,
        record.topic,
        record.partition,
        record.offset,
        record.key,
        record.value,
        tuple(record.headers),
        reason,
        detail,
    )


def translate(record: KafkaRecord, command_for: Callable[[KafkaRecord], C], what: str) -> C | DeadLetter:
    """The record's command, or its dead letter if it breaks the contract or cannot be read at all."""
    try:
        return command_for(record)
    except RejectedRecord as rejected:
        log.warning("%s %s/%s rejected: %s", what, record.partition, record.offset, rejected)
        return dead_letter_for(record, rejected.reason, rejected.detail, position(record))
    except Exception as error:  # whatever the record is, it must not stop the agent
        log.exception("%s %s/%s could not be read", what, record.partition, record.offset)
        detail = f"the record could not be read: {error!r}"[:500]
        return dead_letter_for(record, RejectReason.INVALID_VALUE, detail, position(record))


def translate_intake(record: KafkaRecord) -> DispatchCase | DeadLetter:
    return translate(record, command_for, "intake")


def apply_intake(record: KafkaRecord, command: DispatchCase | DeadLetter, bus: MessageBus) -> None:
    """Apply the record's command exactly once; a ticket that already has a case is dead-lettered, and so
    is a request the case model refuses (a direct answer without its text, say)."""
    try:
        bus.handle(command)
    except DuplicateTicketError as duplicate:
        log.warning("intake %s/%s rejected: %s", record.partition, record.offset, duplicate)
        bus.handle(dead_letter_for(record, RejectReason.DUPLICATE_TICKET, str(duplicate), command.inbound))
    except CaseError as refused:
        log.warning("intake %s/%s refused: %s", record.partition, record.offset, refused)
        bus.handle(dead_letter_for(record, RejectReason.REFUSED, str(refused), position(record)))


def handle_intake(record: KafkaRecord, bus: MessageBus) -> None:
    """Apply one intake record exactly once; a rejected record goes to the dead-letter topic."""
    apply_intake(record, translate_intake(record), bus)
