"""吹哨报到 on `jiesu.actions`: the lead unit's system calls units in with the fields of the REST body; a
record that breaks the contract is refused with the reason its dead letter carries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from consumers.actions import command_for
from dispatcher.contract.cloudevents import KafkaRecord, RejectedRecord, encode
from dispatcher.contract.events import WhistleCall, WhistleCase
from dispatcher.domain import commands as c
from dispatcher.domain.commands import InboundId

AT = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def record(data: dict[str, Any] | None = None) -> KafkaRecord:
    good = WhistleCase(
        ticket_id="BJ1", by="li", at=AT, calls=[WhistleCall(unit="street-1", ask="请约谈物业")]
    )
    out = encode("jiesu.actions", "jiesu.case.whistle", good, key="BJ1", event_id="w-1", source="/s", time=AT)
    value = out.value if data is None else json.dumps(data).encode()
    return KafkaRecord(out.topic, out.key, value, out.headers)


def fields(**change: Any) -> dict[str, Any]:
    data = {
        "ticket_id": "BJ1",
        "by": "li",
        "at": AT.isoformat(),
        "calls": [{"unit": "street-1", "ask": "请约谈"}],
    }
    data.update(change)
    return data


def test_a_whistle_record_becomes_the_whistle_command_applied_once_by_its_id():
    command = command_for(record())
    assert command == c.Whistle(
        "BJ1", "li", calls=(c.WhistleCall("street-1", "请约谈物业"),), inbound=InboundId("/s", "w-1")
    )


@pytest.mark.parametrize(
    ("data", "reason", "where"),
    [
        (fields(calls=[]), "invalid_value", "calls"),
        ({k: v for k, v in fields().items() if k != "calls"}, "missing_field", "calls"),
        (fields(calls=[{"unit": "street-1"}]), "missing_field", "calls.0.ask"),
        (fields(calls=[{"unit": "street-1", "ask": ""}]), "invalid_value", "calls.0.ask"),
        (fields(calls=[{"unit": "street-1", "ask": "x" * 4001}]), "too_long", "calls.0.ask"),
        (fields(calls=[{"unit": f"u{n}", "ask": "x"} for n in range(21)]), "too_long", "calls"),
        (fields(calls=[{"unit": "street-1", "ask": "x", "due": "tomorrow"}]), "invalid_value", "calls.0.due"),
        (fields(calls="street-1"), "wrong_type", "calls"),
    ],
)
def test_a_malformed_whistle_is_refused_with_its_reason(data, reason, where):
    with pytest.raises(RejectedRecord) as rejected:
        command_for(record(data))
    assert rejected.value.reason == reason
    assert str(rejected.value.detail).startswith(f"{where}:")
