"""Callbacks from the callback center: a record on `jiesu.feedback` becomes a `RecordCallback`, or a dead
letter with its reason (broken contract, unknown ticket, a case not yet resolved, an older correction,
bad values). Each event is applied at most once (its ce_source + ce_id)."""

from __future__ import annotations

import logging

from dispatcher.contract import events as wire
from dispatcher.contract.cloudevents import KafkaRecord, decode
from dispatcher.domain import commands as c
from dispatcher.domain.commands import InboundId

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
