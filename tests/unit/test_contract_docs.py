"""The published contract (docs/asyncapi.yaml, docs/events.md) is generated from the models and holds for
real events: what Jiesu encodes validates against it, and what breaks the contract fails it."""

from __future__ import annotations

import functools
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from dispatcher.adapters.pending import INSERT_OUTBOX, PendingWrites
from dispatcher.adapters.sql import SqlOutbox, decode_headers
from dispatcher.contract import asyncapi
from dispatcher.contract import events as pause_wire
from dispatcher.contract.cloudevents import (
    STRUCTURED,
    KafkaRecord,
    OutboundRecord,
    RejectedRecord,
    RejectReason,
    decode,
    encode,
)
from dispatcher.contract.events import (
    EVENT_TYPES,
    AcknowledgeCase,
    AnswerSupervisionOrder,
    Assignment,
    CallbackRecorded,
    CaseAcknowledged,
    CaseClosed,
    CaseContacted,
    CaseDispatched,
    CaseEscalated,
    CaseExtended,
    CaseLinked,
    CaseMerged,
    CaseQueued,
    CaseRedispatched,
    CaseReopened,
    CaseResolved,
    CaseReturned,
    CaseUnmerged,
    CaseWhistled,
    CoAcknowledgeCase,
    CoHandlerAcknowledged,
    CoHandlerReported,
    CoHandlerWaived,
    ComplaintReceived,
    CoReportCase,
    ExtensionRejected,
    ExtensionRequested,
    HotspotClosed,
    HotspotDetected,
    Location,
    RecordContact,
    Requester,
    RequestExtension,
    ResolveCase,
    ReturnCase,
    ReturnRejected,
    ScoresUpdated,
    SlaBreached,
    SlaWarning,
    SupervisionAnswered,
    SupervisionOrdered,
    SupervisionOverdue,
    SupervisionWarning,
    Topic,
    Wire,
    types_on,
)
from dispatcher.domain.commands import DeadLetter, InboundId
from tests.support.clock import BEIJING, Clock

DOCS = Path(__file__).resolve().parents[2] / "docs"
REGENERATE = f"docs are stale: run `.venv/bin/{asyncapi.REGENERATE}` and commit the result"
URI = "urn:jiesu:asyncapi"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
FORMATS = FormatChecker(formats=())
FORMATS.checks("date-time")(lambda value: not isinstance(value, str) or bool(RFC3339.match(value)))

T0 = datetime(2026, 11, 26, 9, 30, tzinfo=BEIJING)
TICKET = "BJ12345-20261126-00317"
UNIT = "朝阳区望京街道办事处"
HANDLER = "李建国"
DISPATCHER = "派单中心张敏"
ASSIGNMENT = Assignment(
    unit=UNIT,
    post="城市管理科值班岗",
    person=HANDLER,
    rule="heating.wangjing",
    catalog_version="2026.11-r3",
    reason="类别 060102 供暖不热，地址在望京街道：规则 heating.wangjing",
)
COMPLAINT = ComplaintReceived(
    ticket_id=TICKET,
    received_at=T0,
    channel="phone",
    kind="complaint",
    description="家里暖气不热，室温只有十五度，家中有八十岁老人，请尽快派人检修。",
    category="060102",
    urgency="urgent",
    location=Location(
        district="朝阳区",
        street="望京街道",
        community="花家地北里社区",
        address="花家地北里12号楼3单元501",
        lat=39.9893,
        lon=116.4683,
    ),
    requester=Requester(name="王先生", phone="13812341234", groups=["elderly"]),
    attachments=["https://hotline.example.cn/media/BJ12345-20261126-00317/1.jpg"],
    related_ticket_id="BJ12345-20261119-00042",
)
HOTSPOT: dict[str, Any] = {
    "hotspot_id": "HS202611260214-3f9a1c27be",
    "district": "110105",
    "street": "110105026",
    "community": None,
    "category": "090101",
    "window": "1h",
    "window_start": T0 - timedelta(minutes=59),
    "window_end": T0,
    "observed": 11,
    "expected": 0.21,
    "score": 11.2,
    "first_ticket_id": "12345-20261126-000101",
    "ticket_ids": [f"12345-20261126-{n:06d}" for n in range(101, 112)],
}
EXAMPLES: dict[str, Wire] = {
    "jiesu.complaint.received": COMPLAINT,
    "jiesu.case.acknowledge": AcknowledgeCase(ticket_id=TICKET, by=HANDLER, at=T0 + timedelta(minutes=12)),
    "jiesu.case.contact": RecordContact(
        ticket_id=TICKET,
        by=HANDLER,
        at=T0 + timedelta(minutes=40),
        note="已电话联系王先生，约定下午上门查看。",
    ),
    "jiesu.case.return": ReturnCase(
        ticket_id=TICKET,
        by=HANDLER,
        at=T0 + timedelta(minutes=20),
        reason="该小区由热力集团直供，不属街道职责。",
    ),
    "jiesu.case.extension": RequestExtension(
        ticket_id=TICKET,
        by=HANDLER,
        at=T0 + timedelta(hours=20),
        reason="需更换楼内主管道，须协调燃气公司停气。",
        requested_until=T0 + timedelta(days=5),
    ),
    "jiesu.case.resolve": ResolveCase(
        ticket_id=TICKET, by=HANDLER, at=T0 + timedelta(hours=6), result="已更换暖气阀门，室温恢复到二十度。"
    ),
    "jiesu.callback.recorded": CallbackRecorded(
        ticket_id=TICKET,
        recorded_at=T0 + timedelta(days=2),
        contacted=True,
        resolved=True,
        satisfaction="satisfied",
        comment="诉求人表示暖气已热，满意。",
    ),
    "jiesu.case.dispatched": CaseDispatched(
        ticket_id=TICKET,
        at=T0 + timedelta(seconds=2),
        assignment=ASSIGNMENT,
        category="060102",
        urgency="urgent",
        district="朝阳区",
        street="望京街道",
    ),
    "jiesu.case.queued": CaseQueued(
        ticket_id=TICKET,
        at=T0,
        queue="manual-dispatch",
        reason="派单目录中没有与类别和地址相符的规则",
        category="0101",
        urgency="general",
    ),
    "jiesu.case.acknowledged": CaseAcknowledged(ticket_id=TICKET, at=T0 + timedelta(minutes=12), by=HANDLER),
    "jiesu.case.contacted": CaseContacted(
        ticket_id=TICKET, at=T0 + timedelta(minutes=40), by=HANDLER, note="约定下午上门"
    ),
    "jiesu.case.returned": CaseReturned(
        ticket_id=TICKET, at=T0 + timedelta(minutes=20), by=HANDLER, reason="该小区由热力集团直供"
    ),
    "jiesu.case.redispatched": CaseRedispatched(
        ticket_id=TICKET,
        at=T0 + timedelta(hours=1),
        by=DISPATCHER,
        assignment=Assignment(
            unit="北京市热力集团",
            post="朝阳分公司客服岗",
            person=None,
            rule="manual",
            catalog_version="2026.11-r3",
            reason="仲裁：热力集团直供小区",
        ),
    ),
    "jiesu.case.return_rejected": ReturnRejected(
        ticket_id=TICKET,
        at=T0 + timedelta(minutes=50),
        by=DISPATCHER,
        note="属于本街道职责",
        unit="street-110105026",
    ),
    "jiesu.case.extension_requested": ExtensionRequested(
        ticket_id=TICKET,
        at=T0 + timedelta(hours=20),
        by=HANDLER,
        requested_until=T0 + timedelta(days=5),
        reason="需更换主管道，施工需三天",
    ),
    "jiesu.case.extension_rejected": ExtensionRejected(
        ticket_id=TICKET, at=T0 + timedelta(hours=22), by=DISPATCHER, note="不符合延期条件"
    ),
    "jiesu.case.co_acknowledged": CoHandlerAcknowledged(
        ticket_id=TICKET, at=T0 + timedelta(minutes=12), by="dept-housing.desk-day", unit="dept-housing"
    ),
    "jiesu.case.co_reported": CoHandlerReported(
        ticket_id=TICKET,
        at=T0 + timedelta(hours=4),
        by="dept-housing.desk-day",
        unit="dept-housing",
        report="已联系物业公司，管网改造排入本月计划",
    ),
    "jiesu.case.linked": CaseLinked(
        ticket_id=TICKET,
        at=T0 + timedelta(hours=2),
        repeat_ticket_id="BJ12345-20261126-00412",
        description="暖气还是不热，上午已经打过电话了",
        why="same phone, community and category",
    ),
    "jiesu.case.merged": CaseMerged(
        ticket_id="BJ12345-20261126-00413",
        at=T0 + timedelta(hours=2),
        main_ticket_id=TICKET,
        by="center",
        reason="same burst main on 工体北路",
        auto=False,
        state_before="dispatched",
    ),
    "jiesu.case.unmerged": CaseUnmerged(
        ticket_id="BJ12345-20261126-00413",
        at=T0 + timedelta(hours=3),
        main_ticket_id=TICKET,
        by="center",
        reason="another building, another pipe",
        state="dispatched",
    ),
    "jiesu.case.extended": CaseExtended(
        ticket_id=TICKET,
        at=T0 + timedelta(hours=21),
        by=DISPATCHER,
        note="同意延期",
        reply_due=T0 + timedelta(days=5),
    ),
    "jiesu.case.resolved": CaseResolved(
        ticket_id=TICKET, at=T0 + timedelta(hours=6), by=HANDLER, result="已更换暖气阀门，室温恢复到二十度。"
    ),
    "jiesu.case.reopened": CaseReopened(
        ticket_id=TICKET,
        at=T0 + timedelta(days=2),
        reason="callback: contacted, not resolved, unsatisfied: 暖气仍不热",
        round=2,
        reply_due=T0 + timedelta(days=3),
    ),
    "jiesu.case.closed": CaseClosed(
        ticket_id=TICKET,
        at=T0 + timedelta(days=2),
        how="callback",
        by="jiesu",
        reason="contacted, resolved, basically_satisfied",
        satisfaction="basically_satisfied",
        counted=True,
        round=1,
    ),
    "jiesu.sla.warning": SlaWarning(
        ticket_id=TICKET, at=T0 + timedelta(hours=22), stage="reply", due_at=T0 + timedelta(hours=24)
    ),
    "jiesu.sla.breached": SlaBreached(
        ticket_id=TICKET, at=T0 + timedelta(hours=24), stage="reply", due_at=T0 + timedelta(hours=24)
    ),
    "jiesu.case.escalated": CaseEscalated(
        ticket_id=TICKET, at=T0 + timedelta(hours=24), level=2, target="望京街道办事处主任", stage="reply"
    ),
    "jiesu.scores.updated": ScoresUpdated(
        unit=UNIT,
        unit_class="street",
        month="2026-11",
        period_start=datetime(2026, 11, 1, tzinfo=BEIJING),
        period_end=datetime(2026, 12, 1, tzinfo=BEIJING),
        valid_callbacks=1873,
        contacted=1866,
        resolved=1764,
        satisfied=1700,
        basically_satisfied=80,
        response_rate=0.996263,
        resolution_rate=0.941805,
        satisfaction_rate=0.946076,
        composite=0.9437,
        final=False,
    ),
    "jiesu.case.answer_supervision_order": AnswerSupervisionOrder(
        ticket_id=TICKET,
        by=HANDLER,
        at=T0 + timedelta(days=1, hours=2),
        order_id="SO-3F9A2B7C1D",
        unit=UNIT,
        reply="已约谈物业公司，明日上午完成楼道清理，结果将当面告知诉求人。",
    ),
    "jiesu.case.supervision_ordered": SupervisionOrdered(
        ticket_id=TICKET,
        at=T0 + timedelta(days=1),
        order_id="SO-3F9A2B7C1D",
        unit=UNIT,
        addressee="unit",
        ask="诉求人三次来电反映楼道堆物未清理，请说明原因及完成时间。",
        due_at=datetime(2026, 11, 30, 0, 0, tzinfo=BEIJING),
        by=DISPATCHER,
    ),
    "jiesu.case.supervision_answered": SupervisionAnswered(
        ticket_id=TICKET,
        at=T0 + timedelta(days=1, hours=2),
        order_id="SO-3F9A2B7C1D",
        unit=UNIT,
        by=HANDLER,
        answer="已约谈物业公司，明日上午完成楼道清理，结果将当面告知诉求人。",
        late=False,
    ),
    "jiesu.case.supervision_warning": SupervisionWarning(
        ticket_id=TICKET,
        at=datetime(2026, 11, 29, 6, 0, tzinfo=BEIJING),
        order_id="SO-3F9A2B7C1D",
        unit=UNIT,
        addressee="unit",
        due_at=datetime(2026, 11, 30, 0, 0, tzinfo=BEIJING),
    ),
    "jiesu.case.supervision_overdue": SupervisionOverdue(
        ticket_id=TICKET,
        at=datetime(2026, 11, 30, 0, 0, tzinfo=BEIJING),
        order_id="SO-3F9A2B7C1D",
        unit=UNIT,
        due_at=datetime(2026, 11, 30, 0, 0, tzinfo=BEIJING),
        target=f"{UNIT}:unit_head",
    ),
    "jiesu.case.co_acknowledge": CoAcknowledgeCase(
        ticket_id=TICKET, by="dept-housing.desk-day", at=T0 + timedelta(hours=1), unit="dept-housing"
    ),
    "jiesu.case.co_report": CoReportCase(
        ticket_id=TICKET,
        by="dept-housing.desk-day",
        at=T0 + timedelta(hours=5),
        unit="dept-housing",
        report="已约谈物业公司，明日上午检修管网",
    ),
    "jiesu.case.whistled": CaseWhistled(
        ticket_id=TICKET,
        at=T0 + timedelta(minutes=50),
        by=HANDLER,
        unit="dept-housing",
        ask="请约谈物业公司，核查楼内供暖管网",
        post="desk",
        person="dept-housing.desk-day",
        acknowledge_due=T0 + timedelta(hours=2, minutes=50),
        report_due=T0 + timedelta(days=3),
    ),
    "jiesu.case.co_waived": CoHandlerWaived(
        ticket_id=TICKET,
        at=T0 + timedelta(days=2),
        by="center.supervisor",
        unit="dept-housing",
        reason="住建部门已书面答复，无需另行报到",
    ),
    "jiesu.hotspot.detected": HotspotDetected(**HOTSPOT),
    "jiesu.hotspot.closed": HotspotClosed(
        **{**HOTSPOT, "window_end": T0 + timedelta(hours=2), "observed": 3, "score": 11.2}
    ),
}

# 挂起: the unit waits for the requester, the center approves, the unit resumes
EXAMPLES.update(
    {
        "jiesu.case.pause": pause_wire.RequestPause(
            ticket_id=TICKET,
            by=HANDLER,
            at=T0 + timedelta(hours=3),
            reason_code="requester",
            reason="居民出差，需其回京后入户查看。",
            resume_at=T0 + timedelta(days=4),
        ),
        "jiesu.case.resume": pause_wire.ResumeCase(
            ticket_id=TICKET, by=HANDLER, at=T0 + timedelta(days=2), note="居民已回京"
        ),
        "jiesu.case.pause_requested": pause_wire.PauseRequested(
            ticket_id=TICKET,
            at=T0 + timedelta(hours=3),
            by=HANDLER,
            reason_code="requester",
            reason="居民出差，需其回京后入户查看。",
            resume_at=T0 + timedelta(days=4),
        ),
        "jiesu.case.paused": pause_wire.CasePaused(
            ticket_id=TICKET,
            at=T0 + timedelta(hours=4),
            by=DISPATCHER,
            reason_code="requester",
            reason="居民出差，需其回京后入户查看。",
            resume_at=T0 + timedelta(days=4),
        ),
        "jiesu.case.pause_rejected": pause_wire.PauseRejected(
            ticket_id=TICKET, at=T0 + timedelta(hours=4), by=DISPATCHER, note="可先电话联系处理"
        ),
        "jiesu.case.resumed": pause_wire.CaseResumed(
            ticket_id=TICKET,
            at=T0 + timedelta(days=2),
            by=HANDLER,
            note="居民已回京",
            paused_since=T0 + timedelta(hours=4),
            paused_working_minutes=900,
            scheduled=False,
            deadlines={
                "reply": pause_wire.Deadline(due_at=T0 + timedelta(days=10), state="pending"),
            },
        ),
    }
)


@functools.cache
def document() -> dict[str, Any]:
    """docs/asyncapi.yaml as committed: what integrators read, not what the generator would write now."""
    path = DOCS / "asyncapi.yaml"
    assert path.is_file(), REGENERATE
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


def message_of(event_type: str) -> str:
    """The JSON pointer of the event type's message, found through its topic's channel."""
    topic, _ = EVENT_TYPES[event_type]
    for ref in document()["channels"][topic.value]["messages"].values():
        pointer = str(ref["$ref"]).removeprefix("#")
        if document()["components"]["messages"][pointer.rsplit("/", 1)[-1]]["name"] == event_type:
            return pointer
    raise AssertionError(f"no message {event_type} on channel {topic.value}")


def validator(pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer` in the document; `$ref`s resolve within the document."""
    resource = Resource.from_contents(document(), default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(URI, resource)
    return Draft202012Validator({"$ref": f"{URI}#{pointer}"}, registry=registry, format_checker=FORMATS)


def encoded(event_type: str, data: Wire) -> OutboundRecord:
    topic, _ = EVENT_TYPES[event_type]
    fields = data.model_dump()
    # scores belong to a unit, hotspots to themselves, the rest to a ticket
    key = fields.get("ticket_id") or fields.get("hotspot_id") or fields["unit"]
    return encode(
        f"jiesu.{topic}",
        event_type,
        data,
        key=key,
        event_id="0b7e6c1e-4f0e-4d55-9d6e-3c1f2a9b8e01",
        source="/hotline/beijing-12345",
        time=T0,
    )


def strings(headers: list[tuple[str, bytes]]) -> dict[str, str]:
    return {name: value.decode() for name, value in headers}


def test_asyncapi_yaml_is_generated_from_the_models() -> None:
    text = (DOCS / "asyncapi.yaml").read_text(encoding="utf-8")
    assert text == asyncapi.render_yaml(asyncapi.build_document()), REGENERATE


def test_events_md_holds_the_generated_tables() -> None:
    text = (DOCS / "events.md").read_text(encoding="utf-8")
    blocks = asyncapi.markdown_blocks()
    assert all(f"<!-- generated:{name} -->" in text for name in blocks)
    assert asyncapi.splice(text, blocks) == text, REGENERATE
    assert all(f"`{reason}`" in blocks["reasons"] for reason in RejectReason)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_type_is_a_message_on_its_topic(event_type: str) -> None:
    topic, model = EVENT_TYPES[event_type]
    pointer = message_of(event_type)
    channel = document()["channels"][topic.value]
    assert channel["address"] == f"jiesu.{topic}"
    assert document()["components"]["messages"][model.__name__]["headers"]["properties"]["ce_type"] == {
        "const": event_type,
        "description": "the event type",
    }
    action = "receive" if topic in (Topic.INTAKE, Topic.ACTIONS, Topic.FEEDBACK) else "send"
    [operation] = [
        op for op in document()["operations"].values() if op["channel"]["$ref"] == f"#/channels/{topic}"
    ]
    assert operation["action"] == action
    assert {"$ref": f"#/channels/{topic}/messages/{model.__name__}"} in operation["messages"]
    assert pointer == f"/components/messages/{model.__name__}"


def test_every_topic_is_a_channel_and_every_event_type_has_an_example() -> None:
    assert set(document()["channels"]) == {topic.value for topic in Topic}
    assert set(EXAMPLES) == set(EVENT_TYPES)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_real_event_validates_against_the_document(event_type: str) -> None:
    record = encoded(event_type, EXAMPLES[event_type])
    pointer = message_of(event_type)
    validator(f"{pointer}/payload").validate(json.loads(record.value))
    validator(f"{pointer}/headers").validate(strings(record.headers))
    assert record.key is not None
    validator(f"{pointer}/bindings/kafka/key").validate(record.key.decode())
    topic, _ = EVENT_TYPES[event_type]
    if topic in (Topic.INTAKE, Topic.ACTIONS, Topic.FEEDBACK):  # and Jiesu's own decoder takes it
        event = decode(KafkaRecord(record.topic, record.key, record.value, record.headers), types_on(topic))
        assert event.data == EXAMPLES[event_type]


def complaint_json(**changes: Any) -> dict[str, Any]:
    value = json.loads(encoded("jiesu.complaint.received", COMPLAINT).value)
    value.update(changes)
    return {name: field for name, field in value.items() if field is not ...}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (complaint_json(ticket_id=...), RejectReason.MISSING_FIELD),
        (complaint_json(description="暖" * 4001), RejectReason.TOO_LONG),
        (complaint_json(channel="fax"), RejectReason.INVALID_VALUE),
        (complaint_json(priority="high"), RejectReason.INVALID_VALUE),
        (complaint_json(received_at="2026-11-26T09:30:00"), RejectReason.INVALID_VALUE),
        (complaint_json(category="6-1-2"), RejectReason.INVALID_VALUE),
        (complaint_json(location={"district": "朝阳区", "lat": 139.9}), RejectReason.INVALID_VALUE),
        (complaint_json(attachments=["https://hotline.example.cn/1.jpg"] * 21), RejectReason.TOO_LONG),
    ],
    ids=[
        "missing-ticket",
        "description-4001",
        "unknown-channel",
        "unknown-field",
        "naive-time",
        "bad-category",
        "latitude",
        "21-attachments",
    ],
)
def test_contract_breaking_payload_fails_the_schema_and_the_decoder(
    value: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValidationError):
        validator(f"{message_of('jiesu.complaint.received')}/payload").validate(value)
    record = encoded("jiesu.complaint.received", COMPLAINT)
    with pytest.raises(RejectedRecord) as rejected:
        decode(
            KafkaRecord(record.topic, record.key, json.dumps(value).encode(), record.headers),
            types_on(Topic.INTAKE),
        )
    assert rejected.value.reason == reason


@pytest.mark.parametrize(
    "change",
    [
        {"ce_type": "jiesu.case.resolve"},
        {"ce_id": None},
        {"ce_specversion": "0.3"},
        {"content-type": "text/xml"},
    ],
    ids=["other-type", "no-id", "old-specversion", "xml"],
)
def test_wrong_headers_fail_the_schema(change: dict[str, str | None]) -> None:
    headers = {**strings(encoded("jiesu.complaint.received", COMPLAINT).headers), **change}
    headers = {name: value for name, value in headers.items() if value is not None}
    with pytest.raises(ValidationError):
        validator(f"{message_of('jiesu.complaint.received')}/headers").validate(headers)


def test_dead_letter_written_by_the_outbox_matches_the_document() -> None:
    original = encoded("jiesu.complaint.received", COMPLAINT)
    value = json.dumps(complaint_json(description="暖" * 4001)).encode()
    pending = PendingWrites()
    outbox = SqlOutbox(None, lambda name: f"jiesu.{name}", Clock(T0), pending)  # type: ignore[arg-type]
    outbox.dead_letter(
        DeadLetter(
            InboundId("kafka:jiesu.intake", "3/1042"),
            "jiesu.intake",
            3,
            1042,
            original.key,
            value,
            tuple(original.headers),
            RejectReason.TOO_LONG,
            "description: String should have at most 4000 characters",
        )
    )
    row = pending.rows[INSERT_OUTBOX][0]
    headers = strings(decode_headers(row["headers"]))
    assert (row["topic"], row["key"], row["value"]) == ("jiesu.deadletter", original.key, value)
    validator("/components/messages/DeadLetter/headers").validate(headers)
    assert headers["ce_id"] == "0b7e6c1e-4f0e-4d55-9d6e-3c1f2a9b8e01"
    with pytest.raises(ValidationError):
        validator("/components/messages/DeadLetter/headers").validate({**headers, "jiesu_reason": "too_big"})


def examples_in_events_md() -> dict[str, str]:
    text = (DOCS / "events.md").read_text(encoding="utf-8")
    return dict(re.findall(r"<!-- example:(\S+) -->\n```\w*\n(.*?)```", text, re.DOTALL))


def kafka_lines(block: str) -> tuple[bytes, list[tuple[str, bytes]]]:
    pairs = [line.split(": ", 1) for line in block.strip().splitlines()]
    key = next(value for name, value in pairs if name == "key")
    return key.encode(), [(name, value.encode()) for name, value in pairs if name != "key"]


def test_envelope_examples_in_events_md_are_accepted() -> None:
    examples = examples_in_events_md()
    key, headers = kafka_lines(examples["binary-record"])
    binary = decode(
        KafkaRecord("jiesu.intake", key, examples["binary-value"].encode(), headers), types_on(Topic.INTAKE)
    )
    key, headers = kafka_lines(examples["structured-record"])
    structured = decode(
        KafkaRecord("jiesu.intake", key, examples["structured-value"].encode(), headers),
        types_on(Topic.INTAKE),
    )
    assert dict(headers)["content-type"].decode() == STRUCTURED
    assert binary.data == structured.data
    assert (binary.id, binary.source, binary.type) == (structured.id, structured.source, structured.type)
    validator(f"{message_of('jiesu.complaint.received')}/payload").validate(
        json.loads(examples["binary-value"])
    )
