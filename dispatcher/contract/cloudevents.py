"""CloudEvents 1.0 over Kafka: binary mode out, binary or structured mode in.

Binary mode: headers `ce_specversion`, `ce_id`, `ce_source`, `ce_type`, `ce_time`, `content-type:
application/json`; the value is the JSON `data`; the key is the ticket id. Structured mode
(`content-type: application/cloudevents+json`) carries the whole envelope in the value.
`decode` either returns a valid `CloudEvent` or raises `RejectedRecord` with a machine-readable reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from dispatcher.contract.events import Wire

SPECVERSION = "1.0"
JSON = "application/json"
STRUCTURED = "application/cloudevents+json"
ATTRIBUTE_MAX_CHARS = 255  # ce_id and ce_source: the pair identifies an applied event in the inbox
Headers = list[tuple[str, bytes]]


class RejectReason(StrEnum):
    """Why an inbound record went to the dead-letter topic (header `jiesu_reason`)."""

    INVALID_JSON = "invalid_json"
    MISSING_HEADER = "missing_header"
    UNSUPPORTED_SPECVERSION = "unsupported_specversion"
    UNSUPPORTED_CONTENT_TYPE = "unsupported_content_type"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_KEY = "missing_key"
    KEY_MISMATCH = "key_mismatch"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    INVALID_VALUE = "invalid_value"
    TOO_LONG = "too_long"
    DUPLICATE_TICKET = "duplicate_ticket"
    UNKNOWN_TICKET = "unknown_ticket"
    REFUSED = "refused"


class RejectedRecord(Exception):
    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class KafkaRecord:
    """A record as it arrived: kept whole so a rejected one can be dead-lettered unchanged."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers = field(default_factory=list)
    partition: int = -1
    offset: int = -1

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", errors="replace")
        return None


@dataclass(frozen=True)
class CloudEvent:
    id: str
    source: str
    type: str
    time: datetime | None
    data: Wire


@dataclass(frozen=True)
class OutboundRecord:
    topic: str
    key: bytes | None
    value: bytes
    headers: Headers


def encode(
    topic: str,
    event_type: str,
    data: BaseModel,
    *,
    key: str,
    event_id: str,
    source: str,
    time: datetime,
) -> OutboundRecord:
    """Binary mode: the attributes as `ce_*` headers, the data as the JSON value."""
    headers: Headers = [
        ("ce_specversion", SPECVERSION.encode()),
        ("ce_id", event_id.encode()),
        ("ce_source", source.encode()),
        ("ce_type", event_type.encode()),
        ("ce_time", time.isoformat().encode()),
        ("content-type", JSON.encode()),
    ]
    return OutboundRecord(topic, key.encode(), data.model_dump_json().encode(), headers)


def decode(record: KafkaRecord, allowed: dict[str, type[Wire]]) -> CloudEvent:
    """Validate a record against the contract; raise `RejectedRecord` saying what is wrong."""
    if not record.key:
        raise RejectedRecord(RejectReason.MISSING_KEY, "the Kafka key must be the ticket id")
    content_type = (record.header("content-type") or JSON).split(";")[0].strip().lower()
    data: bytes | str
    if content_type == STRUCTURED:
        attributes, data = _structured(record)
    elif content_type == JSON:
        attributes, data = _binary(record)
    else:
        raise RejectedRecord(RejectReason.UNSUPPORTED_CONTENT_TYPE, content_type)
    event_type = attributes["type"]
    model = allowed.get(event_type)
    if model is None:
        raise RejectedRecord(
            RejectReason.UNKNOWN_TYPE,
            f"ce_type {event_type!r} is not accepted on {record.topic}; expected one of "
            + ", ".join(sorted(allowed)),
        )
    try:
        parsed = model.model_validate_json(data, strict=True)
    except ValidationError as error:
        raise _rejection(error) from None
    ticket_id = getattr(parsed, "ticket_id", None)
    if ticket_id is not None and record.key.decode("utf-8", errors="replace") != ticket_id:
        raise RejectedRecord(
            RejectReason.KEY_MISMATCH, f"key {record.key!r} is not the ticket id {ticket_id!r}"
        )
    return CloudEvent(
        id=attributes["id"],
        source=attributes["source"],
        type=event_type,
        time=_time(attributes.get("time")),
        data=parsed,
    )


def _binary(record: KafkaRecord) -> tuple[dict[str, str], bytes]:
    attributes: dict[str, str] = {}
    for name in ("specversion", "id", "source", "type"):
        value = record.header(f"ce_{name}")
        if not value:
            raise RejectedRecord(RejectReason.MISSING_HEADER, f"header ce_{name} is required")
        attributes[name] = value
    time = record.header("ce_time")
    if time:
        attributes["time"] = time
    _check_attributes(attributes)
    if record.value is None:
        raise RejectedRecord(RejectReason.INVALID_JSON, "the record has no value")
    return attributes, record.value


def _structured(record: KafkaRecord) -> tuple[dict[str, str], str]:
    envelope = _json(record.value)
    if not isinstance(envelope, dict):
        raise RejectedRecord(RejectReason.WRONG_TYPE, "a structured event must be a JSON object")
    attributes: dict[str, str] = {}
    for name in ("specversion", "id", "source", "type"):
        value = envelope.get(name)
        if not isinstance(value, str) or not value:
            raise RejectedRecord(RejectReason.MISSING_HEADER, f"attribute {name!r} is required")
        attributes[name] = value
    if isinstance(envelope.get("time"), str):
        attributes["time"] = envelope["time"]
    _check_attributes(attributes)
    if "data" not in envelope:
        raise RejectedRecord(RejectReason.MISSING_FIELD, "attribute 'data' is required")
    return attributes, json.dumps(envelope["data"])


def _check_attributes(attributes: dict[str, str]) -> None:
    version = attributes["specversion"]
    if version != SPECVERSION:
        raise RejectedRecord(RejectReason.UNSUPPORTED_SPECVERSION, f"{version!r}, expected 1.0")
    for name in ("id", "source", "type"):
        if "\x00" in attributes[name]:
            raise RejectedRecord(RejectReason.INVALID_VALUE, f"ce_{name} contains the NUL character")
    for name in ("id", "source"):
        if len(attributes[name]) > ATTRIBUTE_MAX_CHARS:
            raise RejectedRecord(
                RejectReason.TOO_LONG,
                f"ce_{name}: {len(attributes[name])} characters, at most {ATTRIBUTE_MAX_CHARS}",
            )


def _json(value: bytes | None) -> Any:
    if value is None:
        raise RejectedRecord(RejectReason.INVALID_JSON, "the record has no value")
    try:
        return json.loads(value)
    except (ValueError, RecursionError) as error:  # not UTF-8, not JSON, nested too deep, a huge integer
        raise RejectedRecord(RejectReason.INVALID_JSON, str(error)[:500]) from None


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise RejectedRecord(RejectReason.WRONG_TYPE, f"ce_time {value!r} is not RFC 3339") from None


_REASON_BY_ERROR = {
    "json_invalid": RejectReason.INVALID_JSON,
    "missing": RejectReason.MISSING_FIELD,
    "string_too_long": RejectReason.TOO_LONG,
    "too_long": RejectReason.TOO_LONG,
    "literal_error": RejectReason.INVALID_VALUE,
    "enum": RejectReason.INVALID_VALUE,
    "string_pattern_mismatch": RejectReason.INVALID_VALUE,
    "string_too_short": RejectReason.INVALID_VALUE,
    "too_short": RejectReason.INVALID_VALUE,
    "greater_than_equal": RejectReason.INVALID_VALUE,
    "less_than_equal": RejectReason.INVALID_VALUE,
    "timezone_aware": RejectReason.INVALID_VALUE,
    "extra_forbidden": RejectReason.INVALID_VALUE,
    "value_error": RejectReason.INVALID_VALUE,
}


def _rejection(error: ValidationError) -> RejectedRecord:
    first = error.errors(include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"]) or "data"
    if first["type"] == "json_invalid":
        return RejectedRecord(RejectReason.INVALID_JSON, str(first["ctx"].get("error", first["msg"])))
    reason = _REASON_BY_ERROR.get(first["type"], RejectReason.WRONG_TYPE)
    return RejectedRecord(reason, f"{where}: {first['msg']}")
