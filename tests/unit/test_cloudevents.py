"""The contract at the door: every way a record can be wrong is named, good ones pass in both modes."""

from __future__ import annotations

import json

import pytest

from dispatcher.contract.cloudevents import KafkaRecord, RejectedRecord, decode
from dispatcher.contract.events import ComplaintReceived, Topic, types_on
from tests.support.builders import intake_record, make_complaint

INTAKE = types_on(Topic.INTAKE)


def with_value(record: KafkaRecord, data: object) -> KafkaRecord:
    return KafkaRecord(record.topic, record.key, json.dumps(data).encode(), record.headers)


def with_header(record: KafkaRecord, name: str, value: str | None) -> KafkaRecord:
    headers = [(key, raw) for key, raw in record.headers if key != name]
    if value is not None:
        headers.append((name, value.encode()))
    return KafkaRecord(record.topic, record.key, record.value, headers)


def good_data() -> dict[str, object]:
    return json.loads(make_complaint(ticket_id="BJ1").model_dump_json())


def reason_of(record: KafkaRecord) -> str:
    with pytest.raises(RejectedRecord) as rejected:
        decode(record, INTAKE)
    return rejected.value.reason


def test_binary_mode_event_decodes_to_the_complaint():
    complaint = make_complaint(ticket_id="BJ1")
    event = decode(intake_record(complaint, event_id="e-1"), INTAKE)
    assert (event.id, event.source, event.type) == ("e-1", "/tests/hotline", "jiesu.complaint.received")
    assert event.data == complaint


def test_structured_mode_is_accepted_on_input():
    envelope = {
        "specversion": "1.0",
        "id": "e-2",
        "source": "/hotline/x",
        "type": "jiesu.complaint.received",
        "time": "2026-11-26T09:30:00+08:00",
        "data": good_data(),
    }
    record = KafkaRecord(
        "jiesu.intake",
        b"BJ1",
        json.dumps(envelope).encode(),
        [("content-type", b"application/cloudevents+json; charset=utf-8")],
    )
    event = decode(record, INTAKE)
    assert isinstance(event.data, ComplaintReceived)
    assert (event.id, event.data.ticket_id) == ("e-2", "BJ1")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda r: KafkaRecord(r.topic, r.key, b"\xff{oops", r.headers), "invalid_json"),
        (lambda r: KafkaRecord(r.topic, None, r.value, r.headers), "missing_key"),
        (lambda r: KafkaRecord(r.topic, b"OTHER", r.value, r.headers), "key_mismatch"),
        (lambda r: with_header(r, "ce_id", None), "missing_header"),
        (lambda r: with_header(r, "ce_type", "jiesu.complaint.deleted"), "unknown_type"),
        (lambda r: with_header(r, "ce_specversion", "0.3"), "unsupported_specversion"),
        (lambda r: with_header(r, "content-type", "text/plain"), "unsupported_content_type"),
        (lambda r: with_value(r, {k: v for k, v in good_data().items() if k != "channel"}), "missing_field"),
        (lambda r: with_value(r, {**good_data(), "received_at": 12}), "wrong_type"),
        (lambda r: with_value(r, {**good_data(), "received_at": "2026-11-26T09:30:00"}), "invalid_value"),
        (lambda r: with_value(r, {**good_data(), "channel": "fax"}), "invalid_value"),
        (lambda r: with_value(r, {**good_data(), "description": "很" * 4001}), "too_long"),
        (lambda r: with_value(r, ["not", "an", "object"]), "wrong_type"),
        (lambda r: with_header(r, "ce_id", "e" * 256), "too_long"),
        (lambda r: with_header(r, "ce_source", "/" + "s" * 255), "too_long"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_each_broken_record_is_rejected_with_its_reason(change, reason):
    good = intake_record(make_complaint(ticket_id="BJ1"))
    assert reason_of(change(good)) == reason


def test_the_reason_detail_names_the_field():
    good = intake_record(make_complaint(ticket_id="BJ1"))
    with pytest.raises(RejectedRecord) as rejected:
        decode(with_value(good, {k: v for k, v in good_data().items() if k != "description"}), INTAKE)
    assert rejected.value.detail.startswith("description:")


def test_ids_and_sources_up_to_255_characters_pass_in_both_modes():
    """The pair ce_source + ce_id is what marks an event as applied: longer ones are refused at the door in
    both modes, not by the database later."""
    longest = with_header(
        with_header(intake_record(make_complaint(ticket_id="BJ1")), "ce_id", "e" * 255),
        "ce_source",
        "/" * 255,
    )
    assert decode(longest, INTAKE).id == "e" * 255
    envelope = {
        "specversion": "1.0",
        "id": "e" * 256,
        "source": "/s",
        "type": "jiesu.complaint.received",
        "data": good_data(),
    }
    structured = KafkaRecord(
        "jiesu.intake",
        b"BJ1",
        json.dumps(envelope).encode(),
        [("content-type", b"application/cloudevents+json")],
    )
    assert reason_of(structured) == "too_long"
