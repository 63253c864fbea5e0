"""The public contract as documents, generated from the models: docs/asyncapi.yaml and docs/events.md tables.

`python -m dispatcher.contract.asyncapi --write` regenerates both files (the AsyncAPI 3.0 document whole,
the marked blocks of docs/events.md in place); without `--write` it prints the YAML, with `--markdown` the
blocks. Every field needs a meaning: a `Field(description=...)` on the model, else an entry in `MEANINGS`.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import yaml

from dispatcher.contract.cloudevents import ATTRIBUTE_MAX_CHARS, JSON, SPECVERSION, RejectReason
from dispatcher.contract.events import EVENT_TYPES, Topic

REGENERATE = "python -m dispatcher.contract.asyncapi --write"
ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI_PATH, EVENTS_MD_PATH = ROOT / "docs" / "asyncapi.yaml", ROOT / "docs" / "events.md"
INBOUND = (Topic.INTAKE, Topic.ACTIONS, Topic.FEEDBACK)
CE_REQUIRED = ["ce_specversion", "ce_id", "ce_source", "ce_type"]
DEAD_LETTER_HEADERS = (
    "jiesu_reason jiesu_detail jiesu_original_topic jiesu_original_partition jiesu_original_offset"
)
KAFKA_BINDING = "0.5.0"
INFO = "CloudEvents 1.0 in Kafka binary mode, keyed by ticket id. Field tables and examples: docs/events.md."
TOPICS = {
    Topic.INTAKE: "Requests recorded by hotline intake systems (受理).",
    Topic.ACTIONS: "Commands from units' own systems: sign for, contact, return, extend, resolve, answer a "
    "supervision order, pause, resume.",
    Topic.FEEDBACK: "Results of the callback centre's calls to requesters (回访).",
    Topic.CASES: "Every change of a case, in order per ticket.",
    Topic.SCORES: "The three rates (三率) of a unit over a period.",
    Topic.DEADLETTER: "Every rejected inbound record, unchanged, with the reason.",
    Topic.HOTSPOTS: "Hotspots: an area where requests of one category come improbably fast (主动治理).",
}
MEANINGS = {
    "CaseAcknowledged": "the person on duty has signed for the case (签收)",
    "CaseContacted": "the handler has contacted the requester (联系)",
    "CaseResolved": "the unit has reported the result (办结); the callback follows",
    "Assignment": "where a case goes and why: the dispatch decision, frozen onto the case",
    "CoReport": "a co-handling unit's report to the lead unit",
    "ticket_id": "the hotline's ticket number (工单号); also the Kafka key",
    "at": "when it happened",
    "by": "the person who acted",
    "note": "free-text note of the person acting",
    "received_at": "when the hotline recorded the request",
    "channel": "how the request came in",
    "kind": "kind of request: 咨询, 求助, 投诉, 举报, 建议",
    "description": "the request in the requester's words, usually Chinese",
    "category": "code in the category tree (2, 4 or 6 digits, GB/T 39666); absent: Jiesu classifies the text",
    "urgency": "tier of the deadlines; absent: from the category",
    "location": "where the matter is (see Location)",
    "requester": "who asked (see Requester); personal data",
    "attachments": "URLs of photos, recordings or documents",
    "related_ticket_id": "an earlier ticket this one follows up",
    "district": "district (区), name or administrative code",
    "street": "street or township (街道/乡镇), name or administrative code",
    "community": "community or village (社区/村), name or code",
    "address": "free-form address",
    "lat": "latitude, decimal degrees",
    "lon": "longitude, decimal degrees",
    "name": "the requester's name; personal data",
    "phone": "the requester's phone number; personal data, masked in notifications",
    "anonymous": "the requester gave no identity (匿名)",
    "confidential": "the requester's identity must not be disclosed to the handling unit (保密)",
    "groups": "groups the requester belongs to, e.g. elderly, disabled",
    "ReturnCase.reason": "why the case is not the unit's duty",
    "RequestExtension.reason": "why more time is needed",
    "requested_until": "the reply deadline the unit asks for",
    "ResolveCase.result": "the result the unit reports (办结)",
    "recorded_at": "when the callback was made",
    "contacted": "the requester confirms the unit contacted them (counts for the response rate)",
    "resolved": "the requester says the matter is solved (counts for the resolution rate)",
    "satisfaction": "the requester's rating (counts for the satisfaction rate)",
    "CaseClosed.satisfaction": "the requester's rating at the callback that closed the loop",
    "valid": "false when the callback does not count for the rates",
    "comment": "the callback agent's note",
    "assignment": "where the case goes (see Assignment)",
    "unit": "the handling unit (承办单位)",
    "post": "the post (岗位) in the unit",
    "person": "the person on duty at the post (责任人); null when none is named",
    "catalog_version": "version of the dispatch catalog (派单目录) that decided",
    "Assignment.reason": "why the case went there, readable by a person",
    "CaseDispatched.category": "the category the case was dispatched under, given or classified",
    "CaseDispatched.urgency": "the tier the deadlines were computed for",
    "CaseDispatched.district": "district from the request's location",
    "CaseDispatched.street": "street or township from the request's location",
    "CaseQueued.reason": "why the case waits at the center instead of going to a unit",
    "CaseQueued.queue": "the center's queue: `manual-dispatch` (no unit found) or `triage` (no category)",
    "CaseQueued.category": "the category code, if known",
    "CaseQueued.urgency": "the urgency tier",
    "CaseReturned.reason": "the unit's reason for returning the case",
    "reply_due": "the new reply deadline",
    "CaseResolved.result": "the result the unit reported",
    "CaseReopened.reason": "why the case was reopened",
    "stage": "which deadline: acknowledge (签收), contact (联系) or reply (答复)",
    "due_at": "the deadline",
    "level": "step of the escalation ladder, 1 = first",
    "target": "who the escalation goes to",
    "ScoresUpdated.unit": "the assessed unit",
    "period_start": "start of the assessment period",
    "period_end": "end of the assessment period",
    "valid_callbacks": "valid callbacks in the period: the denominator of the rates",
    "response_rate": "响应率: contacted / valid callbacks",
    "resolution_rate": "解决率: solved / valid callbacks",
    "satisfaction_rate": "满意率: (satisfied + credit x basically satisfied) / valid callbacks",
    "composite": "weighted sum of the three rates (weights are settings)",
}
REASONS = {
    RejectReason.INVALID_JSON: "the value is not UTF-8 JSON, or there is no value",
    RejectReason.MISSING_HEADER: "a required CloudEvents attribute (id, source, type, specversion) is absent",
    RejectReason.UNSUPPORTED_SPECVERSION: "specversion is not 1.0",
    RejectReason.UNSUPPORTED_CONTENT_TYPE: "content-type is neither application/json nor structured mode",
    RejectReason.UNKNOWN_TYPE: "ce_type is not one of the types accepted on this topic",
    RejectReason.MISSING_KEY: "the record has no Kafka key (it must be the ticket id)",
    RejectReason.KEY_MISMATCH: "the Kafka key is not the ticket_id of the data",
    RejectReason.MISSING_FIELD: "a required field of the data is absent",
    RejectReason.WRONG_TYPE: "a value has the wrong JSON type, or ce_time is not RFC 3339",
    RejectReason.INVALID_VALUE: "a value is outside its allowed values, pattern or range, or unknown field",
    RejectReason.TOO_LONG: "a text or list is longer than its limit",
    RejectReason.DUPLICATE_TICKET: "a new event (new ce_source + ce_id) for a ticket_id that has a case",
    RejectReason.UNKNOWN_TICKET: "an action for a ticket_id that has no case",
    RejectReason.REFUSED: "an action the case's state does not allow, or with wrong data (see the detail)",
}


def _describe(schemas: dict[str, Any]) -> None:
    """Give every property a meaning: the model's own description, else `MEANINGS` (model.field, field)."""
    for title, schema in schemas.items():
        for name, prop in schema["properties"].items():
            meaning = prop.get("description") or MEANINGS.get(f"{title}.{name}") or MEANINGS.get(name)
            if meaning is None:
                raise KeyError(f"{title}.{name}: give it a Field(description=...) or a MEANINGS entry")
            schema["properties"][name] = dict(sorted({**prop, "description": meaning}.items()))


def _summary(event_type: str, name: str, doc: str) -> str:
    text = doc.strip().removeprefix(f"`{event_type}`").lstrip(":.").strip() or MEANINGS[name]
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _headers(event_type: str, inbound: bool) -> dict[str, Any]:
    """Binary mode. Jiesu sends all six; it accepts input without ce_time, and without content-type (JSON)."""
    content_type: dict[str, Any] = {"const": JSON, "description": "the value is JSON"}
    if inbound:
        content_type = {
            "type": "string",
            "pattern": r"^application/json\s*(;.*)?$",
            "description": "absent: JSON",
        }
    return {
        "type": "object",
        "required": CE_REQUIRED if inbound else [*CE_REQUIRED, "ce_time", "content-type"],
        "properties": {
            "ce_specversion": {"const": SPECVERSION, "description": "CloudEvents version"},
            "ce_id": {
                "type": "string",
                "minLength": 1,
                "maxLength": ATTRIBUTE_MAX_CHARS,
                "description": "event id, unique per ce_source",
            },
            "ce_source": {
                "type": "string",
                "minLength": 1,
                "maxLength": ATTRIBUTE_MAX_CHARS,
                "description": "URI-reference of the producer",
            },
            "ce_type": {"const": event_type, "description": "the event type"},
            "ce_time": {"type": "string", "format": "date-time", "description": "RFC 3339, with offset"},
            "content-type": content_type,
        },
    }


def _dead_letter() -> dict[str, Any]:
    digits = {"type": "string", "pattern": "^-?[0-9]+$"}
    return {
        "name": "deadletter",
        "title": "rejected inbound record",
        "summary": "The original record, byte for byte, with its original headers and the reason headers.",
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "description": "the original headers, unchanged, followed by the jiesu_* headers",
            "required": DEAD_LETTER_HEADERS.split(),
            "properties": {
                "jiesu_reason": {"enum": [reason.value for reason in RejectReason], "description": "why"},
                "jiesu_detail": {"type": "string", "description": "what exactly was wrong, for a person"},
                "jiesu_original_topic": {"type": "string", "description": "the topic it came from"},
                "jiesu_original_partition": {**digits, "description": "its partition"},
                "jiesu_original_offset": {**digits, "description": "its offset"},
            },
        },
        "payload": {"description": "the original value, unchanged (empty if it had none); maybe not JSON"},
        "bindings": {"kafka": {"key": {"description": "the original key"}, "bindingVersion": KAFKA_BINDING}},
    }


def build_document() -> dict[str, Any]:
    """AsyncAPI 3.0: a channel per topic, a message per event type, payload schemas from the models."""
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    on: dict[Topic, dict[str, Any]] = {topic: {} for topic in Topic}
    for event_type, (topic, model) in EVENT_TYPES.items():
        name = model.__name__
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for part_name, part in [*schema.pop("$defs", {}).items(), (name, schema)]:
            if schemas.setdefault(part_name, part) != part:
                raise ValueError(f"two different schemas are named {part_name}")
        key_field = next(f for f in ("ticket_id", "hotspot_id", "unit") if f in schema["properties"])
        key = {**schema["properties"][key_field], "description": f"the {key_field}"}
        key.pop("title", None)
        messages[name] = {
            "name": event_type,
            "title": event_type,
            "summary": _summary(event_type, name, model.__doc__ or ""),
            "contentType": JSON,
            "headers": _headers(event_type, topic in INBOUND),
            "payload": {"$ref": f"#/components/schemas/{name}"},
            "bindings": {"kafka": {"key": key, "bindingVersion": KAFKA_BINDING}},
        }
        on[topic][name] = {"$ref": f"#/components/messages/{name}"}
    messages["DeadLetter"] = _dead_letter()
    on[Topic.DEADLETTER]["DeadLetter"] = {"$ref": "#/components/messages/DeadLetter"}
    schemas = dict(sorted(schemas.items()))
    _describe(schemas)
    prefix = "The prefix `jiesu.` is configurable (JIESU_TOPIC_PREFIX)."
    channels = {
        topic.value: {
            "address": f"jiesu.{topic}",
            "description": f"{TOPICS[topic]} {prefix}",
            "messages": on[topic],
        }
        for topic in Topic
    }
    operations = {
        f"{_action(topic)}{topic.value.title()}": {
            "action": _action(topic),
            "channel": {"$ref": f"#/channels/{topic}"},
            "summary": f"Jiesu {'consumes' if topic in INBOUND else 'produces'} jiesu.{topic}.",
            "messages": [{"$ref": f"#/channels/{topic}/messages/{name}"} for name in on[topic]],
        }
        for topic in Topic
    }
    info = {"title": "Jiesu (接诉) event contract", "version": "1.0.0", "description": INFO}
    return {
        "asyncapi": "3.0.0",
        "info": info,
        "defaultContentType": JSON,
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _action(topic: Topic) -> str:
    return "receive" if topic in INBOUND else "send"


def render_yaml(document: dict[str, Any]) -> str:
    plain = json.loads(json.dumps(document))  # fresh objects: no YAML anchors for shared ones
    body = yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, width=110)
    return f"# Generated from dispatcher/contract/events.py by `{REGENERATE}`; do not edit.\n{body}"


def _cell(prop: dict[str, Any]) -> tuple[str, str]:
    """The type and the limits of a property, for a markdown table."""
    options = prop.get("anyOf", [prop])
    inner = next(option for option in options if option != {"type": "null"})
    if "$ref" in inner:
        ref = inner["$ref"].rsplit("/", 1)[-1]
        kind = f"[{ref}](#{ref.lower()})"
    elif inner.get("type") == "array":
        kind = f"array of {_cell(inner['items'])[0]}"
    else:
        kind = "date-time" if inner.get("format") == "date-time" else inner.get("type", "any")
    limits = [", ".join(f"`{value}`" for value in inner["enum"])] if "enum" in inner else []
    if "maxLength" in inner:
        low = f"{inner['minLength']}–" if "minLength" in inner else "≤ "
        limits.append(f"{low}{inner['maxLength']} chars")
    if "pattern" in inner:
        limits.append(f"pattern `{inner['pattern']}`")
    if "minimum" in inner and "maximum" in inner:
        limits.append(f"{inner['minimum']} to {inner['maximum']}")
    elif "minimum" in inner or "maximum" in inner:
        limits.append(f"≥ {inner['minimum']}" if "minimum" in inner else f"≤ {inner['maximum']}")
    if "maxItems" in inner:
        limits.append(f"at most {inner['maxItems']} items, each {_cell(inner['items'])[1]}")
    if kind == "date-time":
        limits.append("RFC 3339 with offset")
    nullable = " or null" if {"type": "null"} in options else ""
    return kind + nullable, "; ".join(limits).replace("|", "\\|")


def _table(schema: dict[str, Any]) -> str:
    rows = ["| field | type | required | limits / allowed values | meaning |", "|---|---|---|---|---|"]
    for name, prop in schema["properties"].items():
        kind, limits = _cell(prop)
        default = prop.get("default", [] if prop.get("type") == "array" else None)
        required = "**yes**" if name in schema.get("required", []) else "no"
        required += f" (default `{json.dumps(default)}`)" if default is not None else ""
        rows.append(f"| `{name}` | {kind} | {required} | {limits} | {prop['description']} |")
    return "\n".join(rows)


def markdown_blocks() -> dict[str, str]:
    """The generated parts of docs/events.md, by block name."""
    document = build_document()
    schemas = document["components"]["schemas"]
    topics = ["| topic | direction | event types |", "|---|---|---|"]
    for topic in Topic:
        names = [f"`{event}`" for event, (on, _) in EVENT_TYPES.items() if on is topic]
        direction = "in (Jiesu receives)" if topic in INBOUND else "out (Jiesu sends)"
        topics.append(
            f"| `jiesu.{topic}` | {direction} | {', '.join(names) or 'any rejected inbound record'} |"
        )
    reasons = [
        "| `jiesu_reason` | meaning |",
        "|---|---|",
        *(f"| `{r}` | {REASONS[r]} |" for r in RejectReason),
    ]
    sections = [
        f"### `{event}`\n\nOn `jiesu.{topic}` ({'received' if topic in INBOUND else 'sent'} by Jiesu). "
        f"{_summary(event, model.__name__, model.__doc__ or '')}"
        f"\n\n{_table(schemas[model.__name__])}"
        for event, (topic, model) in EVENT_TYPES.items()
    ]
    payloads = {model.__name__ for _, model in EVENT_TYPES.values()}
    sections += [
        f"### {name}\n\n{_summary('', name, schemas[name].get('description', ''))}\n\n{_table(schemas[name])}"
        for name in sorted(set(schemas) - payloads)
    ]
    return {"topics": "\n".join(topics), "reasons": "\n".join(reasons), "events": "\n\n".join(sections)}


def splice(text: str, blocks: dict[str, str]) -> str:
    """`text` with the body of each `<!-- generated:NAME -->` ... `<!-- /generated:NAME -->` replaced."""
    for name, body in blocks.items():
        found = re.search(rf"<!-- generated:{name} -->\n(.*?)<!-- /generated:{name} -->", text, re.DOTALL)
        if found is None:
            raise ValueError(f"no <!-- generated:{name} --> ... <!-- /generated:{name} --> block")
        text = f"{text[: found.start(1)]}{body}\n{text[found.end(1) :]}"
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate docs/asyncapi.yaml and the docs/events.md tables.")
    parser.add_argument("--write", action="store_true", help="rewrite docs/asyncapi.yaml and docs/events.md")
    parser.add_argument("--markdown", action="store_true", help="print the generated markdown blocks")
    args = parser.parse_args(argv)
    if args.write:
        ASYNCAPI_PATH.write_text(render_yaml(build_document()), encoding="utf-8")
        text = EVENTS_MD_PATH.read_text(encoding="utf-8")
        EVENTS_MD_PATH.write_text(splice(text, markdown_blocks()), encoding="utf-8")
    elif args.markdown:
        for name, body in markdown_blocks().items():
            print(f"<!-- generated:{name} -->\n{body}\n<!-- /generated:{name} -->\n")
    else:
        print(render_yaml(build_document()), end="")


if __name__ == "__main__":
    main()
