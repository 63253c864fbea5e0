"""Bad input for `jiesu.intake`: named kinds of malformed (or merely hostile) records, each drawn with a
hypothesis strategy and each with the outcome the worker must give it, and a deterministic mix of them with
good requests from the simulator.

A kind draws only what varies (a cut point, a wrong value, a string); `build` applies the draw to a valid
request with a ticket id of its own, so every record can be traced to its outcome: its ticket id names its
case, and the header `bench-case` (kept by the dead-letter topic with the other original headers) names the
record. The reasons are those `dispatcher.contract.cloudevents.decode` and the intake handler give.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

from dispatcher.contract.cloudevents import JSON, SPECVERSION, STRUCTURED, RejectReason
from dispatcher.contract.events import DESCRIPTION_MAX_CHARS
from jiesu.cli.simulator import MATTERS, PLACES, Mix, day_plan

COMPLAINT = "jiesu.complaint.received"
MARKER = "bench-case"  # header naming the record: `<kind>/<number>`
SOURCE = "/bench/bad-input"
BEIJING = timezone(timedelta(hours=8))
GOOD_START = datetime(2026, 11, 26, 9, 0, tzinfo=BEIJING)  # received_at of the good requests: fixed

Headers = list[tuple[str, bytes]]

# What the worker must do with a record besides dead-lettering it with a reason (a RejectReason value).
DISPATCHED = "dispatched"  # a case, published as jiesu.case.dispatched
QUEUED = "queued"  # a case, waiting in a queue at the center: jiesu.case.queued
IGNORED = "ignored"  # no effect at all: the event was applied already
CASE_OUTCOMES = {DISPATCHED: "jiesu.case.dispatched", QUEUED: "jiesu.case.queued"}

INJECTIONS = (
    '<script>alert("jiesu")</script>',
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "'; DROP TABLE cases; --",
    "1' OR '1'='1",
    "{{ 7*7 }}",
    "{% for x in range(3) %}x{% endfor %}",
    "${7*7}",
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "@SUM(A1)",
    "javascript:alert(1)",
    "\r\nBcc: everyone@example.cn",
)
INVALID_UTF8 = (  # each invalid wherever it stands between two whole characters
    b"\xff",
    b"\xfe",
    b"\x80",  # a continuation byte alone
    b"\xc0\xaf",  # overlong
    b"\xe0\x80\xaf",  # overlong
    b"\xed\xa0\x80",  # a UTF-16 surrogate
    b"\xf4\x90\x80\x80",  # beyond U+10FFFF
    b"\xc3",  # a two-byte character cut short
    b"\xe6\x9a",  # a three-byte character cut short
)
TICKET_CHARS = string.ascii_letters + string.digits + "._:-"
TERRITORIAL = ("020101", "080101")  # categories sent to the street of the location (属地)
SAYS = {category: description for category, description, _ in MATTERS}


@dataclass(frozen=True)
class Record:
    key: bytes | None
    value: bytes | None
    headers: Headers


@dataclass(frozen=True)
class Base:
    """A valid request: the data as JSON-ready values and its binary-mode headers (without the marker)."""

    ticket: str
    data: dict[str, Any]
    event_id: str

    def headers(self, **changes: bytes | None) -> Headers:
        """The headers, `ce_type=...` to change one, `=None` to leave it out (`content_type` for
        `content-type`)."""
        values: dict[str, bytes | None] = {
            "ce_specversion": SPECVERSION.encode(),
            "ce_id": self.event_id.encode(),
            "ce_source": SOURCE.encode(),
            "ce_type": COMPLAINT.encode(),
            "ce_time": self.data["received_at"].encode(),
            "content_type": JSON.encode(),
            **changes,
        }
        return [
            (name.replace("_", "-", 1) if name == "content_type" else name, value)
            for name, value in values.items()
            if value is not None
        ]

    def value(self, data: dict[str, Any] | None = None) -> bytes:
        return dumps(self.data if data is None else data)

    def record(self, data: dict[str, Any] | None = None, **headers: bytes | None) -> Record:
        return Record(self.ticket.encode(), self.value(data), self.headers(**headers))

    def envelope(self) -> dict[str, Any]:
        return {
            "specversion": SPECVERSION,
            "id": self.event_id,
            "source": SOURCE,
            "type": COMPLAINT,
            "time": self.data["received_at"],
        }


@dataclass(frozen=True)
class Kind:
    name: str
    what: str  # one line, for the table
    expect: str  # a RejectReason value, or DISPATCHED, QUEUED, IGNORED
    draws: st.SearchStrategy[Any]
    build: Callable[[Base, Any], Record]
    refers: bool = False  # the record repeats a good request's ticket (which must go first)


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


def with_field(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of `data` with `path` (`location.lat`, `attachments.0`) set to `value`."""
    copy = json.loads(json.dumps(data))
    *parents, last = path.split(".")
    target: Any = copy
    for part in parents:
        if part.isdigit():
            target = target[int(part)]
        else:
            target = target.setdefault(part, [] if part in ("attachments", "groups") else {})
    if last.isdigit():
        target[:] = [value]
    else:
        target[last] = value
    return copy


def without(data: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    return {name: value for name, value in data.items() if name not in names}


# ---- the draws ------------------------------------------------------------------------------------------

text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
printable = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=40)
small_int = st.integers(-(2**53), 2**53)
finite = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.one_of(st.none(), st.booleans(), small_int, finite, text)
JSON_TYPES: dict[str, st.SearchStrategy[Any]] = {
    "null": st.none(),
    "bool": st.booleans(),
    "int": small_int,
    "float": finite.filter(lambda x: not x.is_integer()),
    "string": text,
    "array": st.lists(scalars, max_size=3),
    "object": st.dictionaries(st.text(string.ascii_lowercase, max_size=6), scalars, max_size=3),
}
# each field with the JSON types it must not have (a Literal field would say invalid_value instead)
WRONG_TYPES: dict[str, tuple[str, ...]] = {
    "ticket_id": ("null", "bool", "int", "float", "array", "object"),
    "received_at": ("null", "bool", "int", "float", "array", "object"),
    "description": ("null", "bool", "int", "float", "array", "object"),
    "category": ("bool", "int", "float", "array", "object"),
    "related_ticket_id": ("bool", "int", "float", "array", "object"),
    "location": ("bool", "int", "float", "string", "array"),
    "location.address": ("bool", "int", "float", "array", "object"),
    "location.lat": ("bool", "string", "array", "object"),
    "location.lon": ("bool", "string", "array", "object"),
    "requester": ("bool", "int", "float", "string", "array"),
    "requester.name": ("bool", "int", "float", "array", "object"),
    "requester.phone": ("bool", "int", "float", "array", "object"),
    "requester.anonymous": ("null", "int", "float", "string", "array", "object"),
    "requester.confidential": ("null", "int", "float", "string", "array", "object"),
    "requester.groups": ("null", "bool", "int", "float", "string", "object"),
    "requester.groups.0": ("null", "bool", "int", "float", "array", "object"),
    "attachments": ("null", "bool", "int", "float", "string", "object"),
    "attachments.0": ("null", "bool", "int", "float", "array", "object"),
}
REQUIRED = ("ticket_id", "received_at", "channel", "kind", "description")
ENUMS = {
    "channel": ("phone", "web", "wechat", "app", "open311", "other"),
    "kind": ("consultation", "help", "complaint", "report", "suggestion"),
    "urgency": ("emergency", "urgent", "general", "complex"),
}
# field, its limit, the character it is filled with
TEXT_LIMITS = (
    ("ticket_id", 64, "A"),
    ("related_ticket_id", 64, "A"),
    ("location.district", 500, "区"),
    ("location.street", 500, "街"),
    ("location.community", 500, "社"),
    ("location.address", 500, "号"),
    ("requester.name", 500, "王"),
    ("requester.phone", 32, "1"),
    ("requester.groups.0", 64, "e"),
    ("attachments.0", 2000, "u"),
)
LIST_LIMITS = (("attachments", 20, "https://example.cn/a.jpg"), ("requester.groups", 10, "elderly"))
CE_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type")


def wrong_type_draw() -> st.SearchStrategy[tuple[str, Any]]:
    return st.sampled_from(sorted(WRONG_TYPES)).flatmap(
        lambda path: st.tuples(st.just(path), st.one_of(*(JSON_TYPES[t] for t in WRONG_TYPES[path])))
    )


def not_iso_time(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return True
    return False


def _aware(moment: datetime, minutes: int) -> str:
    return moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat()


offsets = st.integers(-12 * 60, 14 * 60).map(lambda m: m - m % 15)
future_times = st.builds(_aware, st.datetimes(datetime(2100, 1, 1), datetime(9000, 12, 31)), offsets)


def _past_the_ends(last: bool, hours: int, minute: int) -> str:
    """An instant that exists in its own offset but not in UTC: past 9999-12-31 or before 0001-01-01."""
    if last:
        local = datetime.combine(date(9999, 12, 31), time(23, minute))
        return _aware(local, -hours * 60)
    return _aware(datetime.combine(date(1, 1, 1), time(0, minute)), hours * 60)


def _with_description_bytes(base: Base, where: float, raw: bytes) -> bytes:
    sentinel = "@@RAW@@"
    description = base.data["description"]
    at = int(where * len(description))
    value = base.value({**base.data, "description": description[:at] + sentinel + description[at:]})
    return value.replace(sentinel.encode(), raw)


def _unknown_place(parts: tuple[str, str, str]) -> dict[str, Any]:
    district, street, community = parts
    return {"district": district + "区", "street": street + "街道", "community": community + "社区"}


nowhere = st.text("火星乌有虚构甲乙丙丁戊", min_size=1, max_size=6)
injection = st.lists(st.sampled_from(INJECTIONS), min_size=1, max_size=3).map("".join)


def _injected(base: Base, draw: tuple[str, str, str, str]) -> Record:
    said, description, address, name = draw
    data = {
        **base.data,
        "description": (said + description)[:DESCRIPTION_MAX_CHARS] or "暖气不热",
        "location": {**base.data["location"], "address": address[:500]},
        "requester": {**base.data["requester"], "name": name[:500]},
    }
    return base.record(data)


def _structured(base: Base, envelope: Any) -> Record:
    return Record(base.ticket.encode(), dumps(envelope), [("content-type", STRUCTURED.encode())])


def _raw_structured(base: Base, data: bytes) -> Record:
    head = dumps(base.envelope())[:-1] + b', "data": '
    return Record(base.ticket.encode(), head + data + b"}", [("content-type", STRUCTURED.encode())])


def _at_the_limits(base: Base, fill: str) -> Record:
    data = {
        **base.data,
        "description": (base.data["description"] + fill * DESCRIPTION_MAX_CHARS)[:DESCRIPTION_MAX_CHARS],
        "location": {**base.data["location"], "address": fill * 500},
        "requester": {**base.data["requester"], "name": fill * 500, "groups": ["g" * 64] * 10},
        "attachments": ["https://example.cn/" + "a" * 1981] * 20,
    }
    return base.record(data)


R = RejectReason
KINDS: tuple[Kind, ...] = (
    Kind(
        "broken_json",
        "the JSON cut short, or followed by junk",
        R.INVALID_JSON,
        st.tuples(st.booleans(), st.floats(0, 1, exclude_max=True), printable.filter(str.strip)),
        lambda b, d: Record(
            b.ticket.encode(),
            b.value()[: max(1, int(d[1] * len(b.value())))] if d[0] else b.value() + d[2].encode(),
            b.headers(),
        ),
    ),
    Kind(
        "empty_value",
        "an empty value, or only whitespace",
        R.INVALID_JSON,
        st.text(" \t\r\n", max_size=8),
        lambda b, d: Record(b.ticket.encode(), d.encode(), b.headers()),
    ),
    Kind(
        "null_value",
        "no value at all (a tombstone)",
        R.INVALID_JSON,
        st.just(None),
        lambda b, d: Record(b.ticket.encode(), None, b.headers()),
    ),
    Kind(
        "not_an_object",
        "valid JSON that is not an object: array, string, number, true, null",
        R.WRONG_TYPE,
        st.one_of(scalars, st.lists(scalars, max_size=4)),
        lambda b, d: Record(b.ticket.encode(), dumps(d), b.headers()),
    ),
    Kind(
        "wrong_field_type",
        "a field of the wrong JSON type (number for text, text for number, ...)",
        R.WRONG_TYPE,
        wrong_type_draw(),
        lambda b, d: b.record(with_field(b.data, d[0], d[1])),
    ),
    Kind(
        "missing_field",
        "one or more required fields left out",
        R.MISSING_FIELD,
        st.sets(st.sampled_from(REQUIRED), min_size=1),
        lambda b, d: b.record(without(b.data, sorted(d))),
    ),
    Kind(
        "unknown_enum_value",
        "channel, kind or urgency outside its values",
        R.INVALID_VALUE,
        st.tuples(st.sampled_from(sorted(ENUMS)), text).filter(lambda d: d[1] not in ENUMS[d[0]]),
        lambda b, d: b.record({**b.data, d[0]: d[1]}),
    ),
    Kind(
        "bad_category_code",
        "a category that is not 2, 4 or 6 digits",
        R.INVALID_VALUE,
        text.filter(lambda s: not (s.isascii() and s.isdigit() and len(s) in (2, 4, 6))),
        lambda b, d: b.record({**b.data, "category": d}),
    ),
    Kind(
        "unknown_field",
        "a field the contract does not have, at the top or in location/requester",
        R.INVALID_VALUE,
        st.tuples(
            st.sampled_from(["", "location.", "requester."]),
            st.text(string.ascii_lowercase + "_", min_size=1, max_size=12),
            scalars,
        ),
        lambda b, d: b.record(with_field(b.data, d[0] + "x_" + d[1], d[2])),
    ),
    Kind(
        "received_at_without_offset",
        "received_at without a time zone",
        R.INVALID_VALUE,
        st.datetimes(datetime(1970, 1, 1), datetime(2100, 1, 1)),
        lambda b, d: b.record({**b.data, "received_at": d.isoformat()}),
    ),
    Kind(
        "received_at_not_a_time",
        "received_at text that is no date",
        R.WRONG_TYPE,
        st.text(string.ascii_letters + " :-/年月日", max_size=30),
        lambda b, d: b.record({**b.data, "received_at": d}),
    ),
    Kind(
        "huge_description",
        "a description of 4,001 to 20,000 characters",
        R.TOO_LONG,
        st.tuples(st.integers(1, 16_000), st.sampled_from(["很", "a", "😀", " "])),
        lambda b, d: b.record({**b.data, "description": d[1] * (DESCRIPTION_MAX_CHARS + d[0])}),
    ),
    Kind(
        "huge_text_field",
        "ticket id, place, address, name, phone, group or attachment over its limit",
        R.TOO_LONG,
        st.tuples(st.sampled_from(TEXT_LIMITS), st.integers(1, 3000)),
        lambda b, d: b.record(with_field(b.data, d[0][0], d[0][2] * (d[0][1] + d[1]))),
    ),
    Kind(
        "too_many_items",
        "more than 20 attachments or 10 groups",
        R.TOO_LONG,
        st.tuples(st.sampled_from(LIST_LIMITS), st.integers(1, 200)),
        lambda b, d: b.record(with_field(b.data, d[0][0], [d[0][2]] * (d[0][1] + d[1]))),
    ),
    Kind(
        "huge_ce_id",
        "a ce_id or ce_source over 255 characters",
        R.TOO_LONG,
        st.tuples(st.sampled_from(["ce_id", "ce_source"]), st.integers(256, 5000)),
        lambda b, d: Record(b.ticket.encode(), b.value(), b.headers(**{d[0]: b"/" * d[1]})),
    ),
    Kind(
        "invalid_utf8_value",
        "bytes that are not UTF-8 in the JSON text",
        R.INVALID_JSON,
        st.tuples(st.floats(0, 1), st.sampled_from(INVALID_UTF8)),
        lambda b, d: Record(b.ticket.encode(), _with_description_bytes(b, d[0], d[1]), b.headers()),
    ),
    Kind(
        "invalid_utf8_key",
        "a Kafka key that is not UTF-8",
        R.KEY_MISMATCH,
        st.tuples(st.integers(0, 8), st.sampled_from(INVALID_UTF8)),
        lambda b, d: Record(
            b.ticket.encode()[: d[0]] + d[1] + b.ticket.encode()[d[0] :], b.value(), b.headers()
        ),
    ),
    Kind(
        "invalid_utf8_ce_type",
        "a ce_type header that is not UTF-8",
        R.UNKNOWN_TYPE,
        st.tuples(st.integers(0, len(COMPLAINT)), st.sampled_from(INVALID_UTF8)),
        lambda b, d: b.record(ce_type=COMPLAINT.encode()[: d[0]] + d[1] + COMPLAINT.encode()[d[0] :]),
    ),
    Kind(
        "unknown_ce_type",
        "a ce_type not accepted on the intake topic",
        R.UNKNOWN_TYPE,
        st.one_of(
            st.sampled_from(
                [
                    "jiesu.case.acknowledge",
                    "jiesu.callback.recorded",
                    "jiesu.complaint.withdrawn",
                    COMPLAINT.upper(),
                ]
            ),
            printable,
        ).filter(lambda s: s != COMPLAINT),
        lambda b, d: b.record(ce_type=d.encode()),
    ),
    Kind(
        "missing_ce_header",
        "ce_specversion, ce_id, ce_source or ce_type absent or empty",
        R.MISSING_HEADER,
        st.tuples(st.sets(st.sampled_from(CE_HEADERS), min_size=1), st.booleans()),
        lambda b, d: b.record(**{name: (b"" if d[1] else None) for name in d[0]}),
    ),
    Kind(
        "wrong_specversion",
        "a specversion other than 1.0",
        R.UNSUPPORTED_SPECVERSION,
        st.one_of(st.sampled_from(["0.3", "1", "1.0 ", "2.0", "v1.0"]), printable).filter(
            lambda s: s != SPECVERSION
        ),
        lambda b, d: b.record(ce_specversion=d.encode()),
    ),
    Kind(
        "unsupported_content_type",
        "a content-type that is neither JSON nor structured CloudEvents",
        R.UNSUPPORTED_CONTENT_TYPE,
        st.one_of(
            st.sampled_from(["text/plain", "application/xml", "application/avro", " "]), printable
        ).filter(lambda s: s.split(";")[0].strip().lower() not in (JSON, STRUCTURED)),
        lambda b, d: b.record(content_type=d.encode()),
    ),
    Kind(
        "missing_key",
        "no Kafka key, or an empty one",
        R.MISSING_KEY,
        st.sampled_from([None, b""]),
        lambda b, d: Record(d, b.value(), b.headers()),
    ),
    Kind(
        "key_mismatch",
        "a Kafka key that is not the ticket id",
        R.KEY_MISMATCH,
        st.text(TICKET_CHARS, min_size=1, max_size=64),
        lambda b, d: Record(("K" + d).encode(), b.value(), b.headers()),
    ),
    Kind(
        "bad_ce_time",
        "a ce_time that is not RFC 3339",
        R.WRONG_TYPE,
        st.one_of(
            st.sampled_from(["yesterday", "26/11/2026 09:30", "2026-13-45T25:61:00Z"]), printable
        ).filter(not_iso_time),
        lambda b, d: b.record(ce_time=d.encode()),
    ),
    Kind(
        "location_out_of_range",
        "lat beyond ±90 or lon beyond ±180, NaN or Infinity",
        R.INVALID_VALUE,
        st.one_of(
            st.tuples(st.just("lat"), st.floats().filter(lambda x: not -90 <= x <= 90)),
            st.tuples(st.just("lon"), st.floats().filter(lambda x: not -180 <= x <= 180)),
        ),
        lambda b, d: b.record(with_field(b.data, "location." + d[0], d[1])),
    ),
    Kind(
        "structured_without_data",
        "a structured CloudEvent without its data",
        R.MISSING_FIELD,
        st.dictionaries(
            st.sampled_from(["subject", "dataschema", "traceparent", "x_hotline"]), text, max_size=2
        ),
        lambda b, d: _structured(b, {**b.envelope(), **d}),
    ),
    Kind(
        "structured_not_an_object",
        "a structured CloudEvent that is not a JSON object",
        R.WRONG_TYPE,
        st.one_of(scalars, st.lists(scalars, max_size=3)),
        _structured,
    ),
    Kind(
        "structured_missing_attribute",
        "a structured CloudEvent without id, source, type or specversion",
        R.MISSING_HEADER,
        st.tuples(
            st.sampled_from(["id", "source", "type", "specversion"]), st.sampled_from([None, "", 1, []])
        ),
        lambda b, d: _structured(
            b, {**without(b.envelope(), [d[0]]), **({} if d[1] is None else {d[0]: d[1]}), "data": b.data}
        ),
    ),
    Kind(
        "duplicate_ticket",
        "a good request's ticket again, with a new ce_id",
        R.DUPLICATE_TICKET,
        text,
        lambda b, d: b.record({**b.data, "description": "再次：" + d}),
        refers=True,
    ),
    Kind(
        "redelivered",
        "a good request delivered again (same ce_source and ce_id)",
        IGNORED,
        st.just(None),
        lambda b, d: b.record(),
        refers=True,
    ),
    Kind(
        "injection_text",
        "HTML/script, SQL, template and spreadsheet-formula strings in description, address and name",
        DISPATCHED,
        st.tuples(text, injection, injection, injection),
        _injected,
    ),
    Kind(
        "unicode_text",
        "any Unicode text (emoji, right-to-left, zero-width, control characters) as the description",
        DISPATCHED,
        st.text(
            st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1, max_size=300
        ),
        lambda b, d: b.record({**b.data, "description": d}),
    ),
    Kind(
        "at_the_limits",
        "description of 4,000, address and name of 500, 10 groups of 64, 20 attachments of 2,000",
        DISPATCHED,
        st.sampled_from(["很", "a", "😀"]),
        _at_the_limits,
    ),
    Kind(
        "future_dated",
        "received_at and ce_time in the years 2100 to 9000",
        DISPATCHED,
        st.tuples(future_times, future_times),
        lambda b, d: b.record({**b.data, "received_at": d[0]}, ce_time=d[1].encode()),
    ),
    Kind(
        "unknown_location",
        "district, street and community that do not exist, on a matter handled by the street",
        QUEUED,
        st.tuples(st.sampled_from(TERRITORIAL), st.tuples(nowhere, nowhere, nowhere)),
        lambda b, d: b.record(
            {**b.data, "category": d[0], "description": SAYS[d[0]], "location": _unknown_place(d[1])}
        ),
    ),
    # ---- kinds that once stopped the intake ------------------------------------------------------------
    Kind(
        "structured_deep_nesting",
        "structured mode, data nested 2,000 to 50,000 arrays deep",
        R.INVALID_JSON,
        st.integers(2_000, 50_000),
        lambda b, d: _raw_structured(b, b"[" * d + b"]" * d),
    ),
    Kind(
        "structured_huge_integer",
        "structured mode, a number of more than 4,300 digits in the data",
        R.INVALID_JSON,
        st.integers(4_301, 20_000),
        lambda b, d: _raw_structured(b, b'{"lat": ' + b"9" * d + b"}"),
    ),
    Kind(
        "received_at_out_of_range",
        "received_at past 9999-12-31 or before 0001-01-01 in UTC",
        R.INVALID_VALUE,
        st.tuples(st.booleans(), st.integers(1, 12), st.integers(0, 59)),
        lambda b, d: b.record({**b.data, "received_at": _past_the_ends(*d)}),
    ),
    Kind(
        "nul_in_text",
        "a NUL character (U+0000) in the description",
        R.INVALID_VALUE,
        st.tuples(st.floats(0, 1), st.integers(1, 3)),
        lambda b, d: b.record(
            {
                **b.data,
                "description": b.data["description"][: int(d[0] * len(b.data["description"]))]
                + "\x00" * d[1]
                + b.data["description"][int(d[0] * len(b.data["description"])) :],
            }
        ),
    ),
    Kind(
        "nul_in_ce_id",
        "a NUL character in ce_id",
        R.INVALID_VALUE,
        st.integers(0, 8),
        lambda b, d: b.record(ce_id=b.event_id.encode()[:d] + b"\x00" + b.event_id.encode()[d:]),
    ),
)
BY_NAME = {kind.name: kind for kind in KINDS}


def examples(strategy: st.SearchStrategy[Any], count: int, seed: int) -> list[Any]:
    """Up to `count` examples of `strategy`, the same ones for the same seed (fewer when the strategy has
    fewer distinct values)."""
    found: list[Any] = []

    @fixed_seed(seed)
    @settings(
        max_examples=max(count, 1),
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found[:count]


# ---- the mix --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """One record to send, what it is, and what must come of it."""

    kind: str  # a kind's name, or "good"
    marker: str  # the `bench-case` header: `<kind>/<number>`
    ticket: str  # the ticket the record is about
    owns: bool  # the record's ticket is its own (a case for it is its outcome)
    expect: str
    record: Record
    after: str | None = None  # the marker of the record that must be sent first
    texts: tuple[tuple[str, str], ...] = ()  # fields a case must store verbatim: (path, text)


def base_request(ticket: str, number: int, kind_number: int = 0) -> Base:
    """A valid request that the demo catalog dispatches; its phone is its own, so it repeats no other."""
    district, street, community = PLACES[number % len(PLACES)]
    category, description, urgency = MATTERS[(number // len(PLACES)) % len(MATTERS)]
    location = {"district": district, "street": street} | ({"community": community} if community else {})
    data = {
        "ticket_id": ticket,
        "received_at": (GOOD_START + timedelta(seconds=number)).isoformat(),
        "channel": "phone",
        "kind": "complaint",
        "description": description,
        "category": category,
        "urgency": urgency,
        "location": location,
        "requester": {"name": "王女士", "phone": f"10{kind_number:02d}{number:08d}"},
    }
    return Base(ticket, data, f"bad-{ticket}")


def good_requests(count: int, seed: int) -> list[Base]:
    """`count` requests of a simulated hotline day, all with a category (so the catalog dispatches each),
    no repeats."""
    plan = day_plan(
        GOOD_START,
        rate=5.0,
        seed=seed,
        count=count,
        mix=Mix(with_category=1.0, repeat=0.0),
        ticket_prefix=f"G{seed}",
    )
    return [
        Base(planned.complaint.ticket_id, json.loads(planned.complaint.model_dump_json()), f"good-{n}")
        for n, planned in enumerate(plan)
    ]


def marked(record: Record, marker: str) -> Record:
    return Record(record.key, record.value, [*record.headers, (MARKER, marker.encode())])


def stored_texts(record: Record) -> tuple[tuple[str, str], ...]:
    """The free text of a valid record, as a case must store it."""
    data = json.loads(record.value or b"{}")
    return (
        ("description", data["description"]),
        ("location.address", (data.get("location") or {}).get("address") or ""),
        ("requester.name", (data.get("requester") or {}).get("name") or ""),
    )


def header(record: Record, name: str) -> bytes | None:
    return next((value for key, value in record.headers if key == name), None)


def plan_kind(kind: Kind, count: int, seed: int, goods: Sequence[Planned]) -> list[Planned]:
    number = KINDS.index(kind)
    draws = examples(kind.draws, count, seed * 1000 + number)
    rng = random.Random(f"{seed}:{kind.name}")
    planned = []
    for n in range(count):
        draw = draws[n % len(draws)]
        marker = f"{kind.name}/{n}"
        if kind.refers:
            if not goods:
                raise ValueError(f"{kind.name} repeats good requests: send at least one good one")
            original = rng.choice(goods)
            event_id = (header(original.record, "ce_id") or b"").decode()
            again = event_id if kind.expect == IGNORED else f"again-{marker}"
            base = Base(original.ticket, json.loads(original.record.value or b"{}"), again)
            record = marked(kind.build(base, draw), marker)
            planned.append(
                Planned(kind.name, marker, base.ticket, False, kind.expect, record, original.marker)
            )
            continue
        ticket = f"B{number:02d}-{n:06d}"
        record = marked(kind.build(base_request(ticket, n, number), draw), marker)
        texts = stored_texts(record) if kind.expect in CASE_OUTCOMES else ()
        planned.append(Planned(kind.name, marker, ticket, True, kind.expect, record, texts=texts))
    return planned


def mix(bad: int, good: int, seed: int = 1, kinds: Sequence[Kind] = KINDS) -> list[Planned]:
    """`bad` records shared evenly among `kinds` and `good` requests, shuffled by `seed`; a record that
    repeats a good request comes after it. The same arguments give the same records in the same order."""
    goods = []
    for n, base in enumerate(good_requests(good, seed)):
        record = marked(base.record(), f"good/{n}")
        goods.append(
            Planned("good", f"good/{n}", base.ticket, True, DISPATCHED, record, texts=stored_texts(record))
        )
    shares = [bad // len(kinds) + (1 if n < bad % len(kinds) else 0) for n in range(len(kinds))]
    records = list(goods)
    for kind, share in zip(kinds, shares, strict=True):
        records += plan_kind(kind, share, seed, goods)
    random.Random(seed).shuffle(records)
    ordered: list[Planned] = []
    sent: set[str] = set()
    waiting: dict[str, list[Planned]] = {}

    def emit(item: Planned) -> None:
        ordered.append(item)
        sent.add(item.marker)
        for later in waiting.pop(item.marker, []):
            emit(later)

    for item in records:
        if item.after is not None and item.after not in sent:
            waiting.setdefault(item.after, []).append(item)
        else:
            emit(item)
    return ordered


def kinds_for(names: Sequence[str] | None = None) -> list[Kind]:
    """The named kinds, or all of them."""
    return [BY_NAME[name] for name in names] if names else list(KINDS)
