"""Callbacks from the callback center: a record on `jiesu.feedback` becomes a `RecordCallback`, or a dead
letter with its reason (broken contract, unknown ticket, a case not yet resolved, an older correction,
bad values). Each event is applied at most once (its ce_source + ce_id)."""

from __future__ import annotations

import logging

from consumers.intake import dead_letter_for, position
from dispatcher.contract import events as wire
from dispatcher.contract.cloudevents import KafkaRecord, RejectedRecord, RejectReason, decode
from dispatcher.domain import commands as c
from dispatcher.domain.case import CaseError
from dispatcher.domain.commands import InboundId
from dispatcher.service.lifecycle import CaseNotFoundError
from dispatcher.service.messagebus import MessageBus
from dispatcher.service.unit_of_work import ConcurrencyError

log = logging.getLogger(__name__)
FEEDBACK_TYPES = wire.types_on(wire.Topic.FEEDBACK)


def command_for(record: KafkaRecord) -> c.RecordCallback:
    event = decode(record, FEEDBACK_TYPES)
    data = event.data
    assert isinstance(data, wire.CallbackRecorded)
    return c.RecordCallback(
        data.ticket_id,
        "callback-center",
        recorded_at=data.recorded_at,
        contacted=data.contacted,
        resolved=data.resolved,
        satisfaction=data.satisfaction,
        valid=data.valid,
        comment=data.comment,
        inbound=InboundId(event.source, event.id),
    )


def handle_callback(record: KafkaRecord, bus: MessageBus) -> None:
    """Apply one callback record exactly once; a rejected or refused one goes to the dead-letter topic."""
    try:
        command = command_for(record)
    except RejectedRecord as rejected:
        log.warning("callback %s/%s rejected: %s", record.partition, record.offset, rejected)
        bus.handle(dead_letter_for(record, rejected.reason, rejected.detail, position(record)))
        return
    assert command.inbound is not None
    try:
        bus.handle(command)
    except CaseNotFoundError as error:
        bus.handle(dead_letter_for(record, RejectReason.UNKNOWN_TICKET, str(error), command.inbound))
    except ConcurrencyError:
        raise  # applied again by the agent
    except CaseError as error:
        log.warning("callback on %s refused: %s", command.ticket_id, error)
        bus.handle(dead_letter_for(record, RejectReason.REFUSED, str(error), command.inbound))
