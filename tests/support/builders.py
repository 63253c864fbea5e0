"""Builders with overrides: short, intention-revealing test data."""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime
from typing import Any

from dispatcher.contract.cloudevents import KafkaRecord, encode
from dispatcher.contract.events import ComplaintReceived
from tests.support.clock import BEIJING

_numbers = itertools.count(1)


def make_complaint(**overrides: Any) -> ComplaintReceived:
    fields: dict[str, Any] = {
        "ticket_id": f"T{uuid.uuid4().hex[:12].upper()}",
        "received_at": datetime(2026, 11, 26, 9, 30, tzinfo=BEIJING),
        "channel": "phone",
        "kind": "complaint",
        "description": "家里暖气不热，室温只有十五度，请尽快派人检修。",
        "urgency": "urgent",
        "location": {"district": "朝阳区", "street": "望京街道", "community": "花家地北里社区"},
        "requester": {"name": "王先生", "phone": f"138{uuid.uuid4().int % 10**8:08d}"},  # not a repeat caller
    }
    fields.update(overrides)
    return ComplaintReceived.model_validate(fields)


def intake_record(
    complaint: ComplaintReceived | None = None, *, topic: str = "jiesu.intake", event_id: str | None = None
) -> KafkaRecord:
    complaint = complaint or make_complaint()
    out = encode(
        topic,
        "jiesu.complaint.received",
        complaint,
        key=complaint.ticket_id,
        event_id=event_id or str(uuid.uuid4()),
        source="/tests/hotline",
        time=complaint.received_at,
    )
    return KafkaRecord(topic, out.key, out.value, out.headers, partition=0, offset=next(_numbers))
