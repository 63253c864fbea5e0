"""The knowledge base (知识库) and 直接办结: the ranking finds an entry written the official way from a
question asked the caller's way; entries are offered only within their validity; a consultation answered at
intake opens closed (`how: direct`), is never dispatched, is called back without reopening; the contract
carries the answer in and the entry out."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from functools import partial

import pytest

from consumers.intake import command_for, handle_intake
from dispatcher.contract import events as wire
from dispatcher.contract.cloudevents import KafkaRecord, RejectedRecord, RejectReason, decode
from dispatcher.contract.mapping import event_to_wire
from dispatcher.domain import events as ev
from dispatcher.domain.callbacks import Callback, Outcome, Satisfaction, WhenUnsatisfied
from dispatcher.domain.case import Case, CaseError, CaseState, TransitionError
from dispatcher.domain.commands import DeadLetter, DispatchCase
from dispatcher.domain.knowledge import (
    DirectAnswer,
    KnowledgeEntry,
    KnowledgeError,
    check_entry,
    rank,
    search,
)
from dispatcher.service import handlers
from dispatcher.service.messagebus import MessageBus
from rules.complaint import Complaint, Location, Urgency
from rules.decision import Assignment, Decision
from rules.routing import DefaultUnitRouter
from tests.support.builders import intake_record, make_complaint
from tests.support.fakes import FakeUnitOfWork
from tests.unit.test_contract_docs import encoded, message_of, validator

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
TODAY = date(2026, 11, 26)
PERMIT = KnowledgeEntry(
    "residence-permit",
    "如何办理北京市居住证？",
    "在京居住半年以上，有合法稳定就业、住所或连续就读的，可到居住地派出所申领居住证。",
    "020102",
    ("居住证", "暂住证", "办居住证"),
    "北京市实施《居住证暂行条例》办法",
)
HEATING = KnowledgeEntry(
    "heating-temperature",
    "暖气不热，室温多少度算不达标？",
    "供暖期内卧室、起居室温度应不低于18℃，可联系供热单位上门测温。",
    "010101",
    ("暖气不热", "室温", "测温"),
    "北京市供热采暖管理办法",
)
FEE = KnowledgeEntry(
    "heating-fee",
    "供暖费怎么交？",
    "居民供暖费一般按建筑面积计收，缴费方式以供热单位通知为准。",
    "010301",
    ("供暖费", "暖气费"),
    "北京市居民供热价格有关规定",
)
ENTRIES = [PERMIT, HEATING, FEE]
ANSWER = DirectAnswer("residence-permit", PERMIT.answer, "hotline-op7")


# ---- the ranking --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("我想问一下外地人在北京那个暂住证咋办啊", "residence-permit"),  # a keyword, said the old way
        ("居住证在哪儿申请", "residence-permit"),
        ("家里屋里才十五度，暖气一点都不热", "heating-temperature"),
        ("请问暖气费在哪交", "heating-fee"),
        ("ＡＢＣ 供暖费！！", "heating-fee"),  # full-width forms and punctuation do not matter
    ],
)
def test_a_question_asked_the_callers_way_finds_the_entry_written_the_official_way(question, expected):
    found = rank(question, ENTRIES)
    assert found and found[0].entry.id == expected, found


def test_a_keyword_found_whole_is_named_and_outranks_shared_characters():
    [first, *_] = rank("那个暂住证怎么弄", ENTRIES)
    assert first.entry is PERMIT and first.keywords == ("暂住证",)


def test_fillers_alone_match_nothing_and_an_unrelated_question_finds_nothing():
    assert rank("你好，请问一下，我想咨询一下", ENTRIES) == []
    assert rank("楼下饭馆的油烟太大", ENTRIES) == []
    assert rank("", ENTRIES) == []


def test_only_entries_valid_that_day_are_offered_unless_every_one_is_asked_for():
    expired = KnowledgeEntry(
        "old-fee", "供暖费标准", "旧标准", "010301", ("供暖费",), valid_to=date(2025, 12, 31)
    )
    future = KnowledgeEntry(
        "new-fee", "供暖费新标准", "新标准", "010301", ("供暖费",), valid_from=date(2027, 1, 1)
    )
    retired = KnowledgeEntry("gone", "供暖费怎么交", "停用", "010301", ("供暖费",), retired=True)
    entries = [FEE, expired, future, retired]
    assert [m.entry.id for m in search("供暖费", entries, on=TODAY)] == ["heating-fee"]
    assert {m.entry.id for m in search("供暖费", entries, on=None)} == {
        "heating-fee",
        "old-fee",
        "new-fee",
        "gone",
    }
    assert expired.valid_on(date(2025, 12, 31)) and not expired.valid_on(date(2026, 1, 1))


def test_a_category_or_its_prefix_narrows_the_search():
    assert [m.entry.id for m in search("暖气费 居住证", ENTRIES, on=TODAY, category="01")] == ["heating-fee"]
    assert [m.entry.id for m in search("暖气费 居住证", ENTRIES, on=TODAY, category="0201")] == [
        "residence-permit"
    ]


def test_an_entry_is_checked_before_it_is_stored():
    cleaned = check_entry(KnowledgeEntry("a-1", " 问题 ", " 答复 ", keywords=(" 甲 ", "", "甲", "乙")))
    assert (cleaned.question, cleaned.answer, cleaned.keywords) == ("问题", "答复", ("甲", "乙"))
    for broken, why in [
        (KnowledgeEntry("has space", "问", "答"), "id"),
        (KnowledgeEntry("a", "", "答"), "question"),
        (KnowledgeEntry("a", "问", "答" * 4001), "answer"),
        (KnowledgeEntry("a", "问", "答", keywords=("长" * 33,)), "keyword"),
        (KnowledgeEntry("a", "问", "答", valid_from=TODAY, valid_to=TODAY - timedelta(days=1)), "before"),
    ]:
        with pytest.raises(KnowledgeError, match=why):
            check_entry(broken)


# ---- 直接办结 in the case model -------------------------------------------------------------------


def consultation(kind: str = "consultation") -> Complaint:
    return Complaint("BJ9", T0, "phone", kind, "外地人怎么办居住证", location=Location("朝阳区"))


DECISION = Decision(
    Urgency.GENERAL,
    "020102",
    assignment=Assignment("street-110105026", "desk", "wang", "permit", "v1", "属地"),
    district="110105",
    street="110105026",
)


def closed_directly(callback: bool = True) -> Case:
    return Case.close_directly(consultation(), DECISION, ANSWER, T0, callback)


def test_a_consultation_answered_at_intake_opens_closed_and_is_never_dispatched():
    case = closed_directly()
    assert case.state is CaseState.CLOSED and case.assignment is None and case.deadlines == {}
    assert (case.result, case.knowledge_entry, case.category, case.district) == (
        PERMIT.answer,
        "residence-permit",
        "020102",
        "110105",
    )
    [event] = case.events
    assert isinstance(event, ev.CaseClosed)
    assert (event.how, event.by, event.counted, event.knowledge_entry, event.callback_requested) == (
        "direct",
        "hotline-op7",
        False,
        "residence-permit",
        True,
    )
    [entry] = case.audit
    assert (entry.action, entry.actor, entry.from_state, entry.state) == (
        "close_direct",
        "hotline-op7",
        None,
        "closed",
    )
    assert "residence-permit" in entry.reason and "callback" in entry.reason
    assert not closed_directly(callback=False).events[0].callback_requested  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["complaint", "help", "report", "suggestion"])
def test_only_a_consultation_can_be_closed_at_intake(kind):
    with pytest.raises(CaseError, match=f"only a consultation can be closed at intake.*not a {kind}"):
        Case.close_directly(consultation(kind), DECISION, ANSWER, T0, True)


def test_closing_at_intake_needs_the_entry_the_answer_and_the_operator():
    for answer in (
        DirectAnswer(" ", "答复", "op"),
        DirectAnswer("e", " ", "op"),
        DirectAnswer("e", "答", ""),
    ):
        with pytest.raises(CaseError, match="needs the knowledge base entry"):
            Case.close_directly(consultation(), DECISION, answer, T0, True)


def test_a_case_closed_at_intake_cannot_be_dispatched_acted_on_or_terminated_afterwards():
    case = closed_directly()
    case.events.clear()
    assert case.allowed_actions() == []
    unit = Assignment("street-110105026", "desk", "wang", "manual", "v1", "by hand")
    for act in (
        lambda: case.redispatch("zhao", T0, unit, "manual dispatch"),
        lambda: case.acknowledge("wang", T0),
        lambda: case.resolve("wang", T0, "done"),
        lambda: case.close_after_review("zhao", T0, "closing"),
        lambda: case.terminate("zhao", T0, "终结"),
    ):
        with pytest.raises(TransitionError, match="case BJ9 is closed"):
            act()
    assert case.state is CaseState.CLOSED and case.events == []


def callback(at: datetime, satisfaction: Satisfaction = Satisfaction.SATISFIED) -> Callback:
    return Callback(9, at, True, satisfaction is not Satisfaction.UNSATISFIED, satisfaction)


def test_a_callback_on_a_direct_answer_is_kept_and_the_case_stays_closed():
    case = closed_directly()
    case.events.clear()
    no_reply = lambda: None  # noqa: E731
    first = callback(T0 + timedelta(hours=1), Satisfaction.UNSATISFIED)
    outcome = case.record_callback(first, T0 + timedelta(hours=1), WhenUnsatisfied.REOPEN, no_reply)
    assert outcome is Outcome.RECORDED and case.state is CaseState.CLOSED and case.events == []
    assert case.callback is not None and case.callback.round == 1
    assert case.audit[-1].action == "callback" and "unsatisfied" in case.audit[-1].reason
    later = callback(T0 + timedelta(hours=2))
    assert (
        case.record_callback(later, later.recorded_at, WhenUnsatisfied.REOPEN, no_reply) is Outcome.CORRECTED
    )
    assert case.callback.satisfaction is Satisfaction.SATISFIED and case.state is CaseState.CLOSED
    with pytest.raises(CaseError, match="is not later"):
        case.record_callback(first, first.recorded_at, WhenUnsatisfied.REOPEN, no_reply)


# ---- through the intake handler -----------------------------------------------------------------


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def bus(uow: FakeUnitOfWork) -> MessageBus:
    router = DefaultUnitRouter("center-dispatch", "dispatch-desk", "on-duty")
    dispatch = partial(
        handlers.dispatch_case, uow=uow, router=router, clock=lambda: T0, repeat_window=timedelta(days=7)
    )
    return MessageBus({DispatchCase: dispatch, DeadLetter: partial(handlers.dead_letter, uow=uow)})


def direct_complaint(**overrides) -> wire.ComplaintReceived:
    answer = {"entry_id": "residence-permit", "answer": PERMIT.answer, "by": "hotline-op7"}
    return make_complaint(kind="consultation", direct_answer=answer, **overrides)


def test_the_intake_event_with_a_direct_answer_opens_the_case_closed_once(bus, uow):
    record = intake_record(direct_complaint(ticket_id="BJ-DIRECT"), event_id="direct-1")
    assert command_for(record).direct == ANSWER
    handle_intake(record, bus)
    handle_intake(record, bus)  # delivered twice: applied once
    case = uow.cases.stored["BJ-DIRECT"]
    assert case.state is CaseState.CLOSED and case.assignment is None
    [event] = uow.outbox.published
    assert isinstance(event, ev.CaseClosed) and event.how == "direct"
    handle_intake(intake_record(direct_complaint(ticket_id="BJ-DIRECT"), event_id="direct-2"), bus)
    [dead] = uow.outbox.dead_letters
    assert dead.reason == RejectReason.DUPLICATE_TICKET and len(uow.outbox.published) == 1


def test_a_direct_answer_the_case_model_refuses_is_dead_lettered_not_applied(bus, uow):
    blank = {"entry_id": "residence-permit", "answer": "   ", "by": "hotline-op7"}
    record = intake_record(make_complaint(ticket_id="BJ-BLANK", kind="consultation", direct_answer=blank))
    handle_intake(record, bus)
    [dead] = uow.outbox.dead_letters
    assert (dead.reason, "BJ-BLANK" in uow.cases.stored) == (RejectReason.REFUSED, False)
    assert "needs the knowledge base entry" in dead.detail


# ---- the contract -------------------------------------------------------------------------------


def test_a_direct_answer_travels_in_the_intake_event_and_validates_against_the_document():
    complaint = direct_complaint(ticket_id="BJ12345-20261126-00318", requester=None)
    record = encoded("jiesu.complaint.received", complaint)
    pointer = message_of("jiesu.complaint.received")
    validator(f"{pointer}/payload").validate(json.loads(record.value))
    event = decode(
        KafkaRecord(record.topic, record.key, record.value, record.headers),
        {"jiesu.complaint.received": wire.ComplaintReceived},
    )
    assert event.data == complaint


def test_a_direct_answer_on_anything_but_a_consultation_is_refused_as_invalid():
    record = encoded("jiesu.complaint.received", direct_complaint(ticket_id="BJ1"))
    value = {**json.loads(record.value), "kind": "complaint"}
    with pytest.raises(RejectedRecord) as rejected:
        decode(
            KafkaRecord(record.topic, record.key, json.dumps(value).encode(), record.headers),
            {"jiesu.complaint.received": wire.ComplaintReceived},
        )
    assert rejected.value.reason == RejectReason.INVALID_VALUE
    assert "direct_answer" in rejected.value.detail and "only a consultation" in rejected.value.detail


def test_the_direct_close_goes_out_with_how_direct_and_the_entry_and_validates():
    [event] = closed_directly().events
    event_type, data = event_to_wire(event)
    assert event_type == "jiesu.case.closed"
    assert isinstance(data, wire.CaseClosed)
    assert (data.how, data.knowledge_entry, data.callback_requested, data.counted) == (
        "direct",
        "residence-permit",
        True,
        False,
    )
    record = encoded(event_type, data)
    validator(f"{message_of(event_type)}/payload").validate(json.loads(record.value))
