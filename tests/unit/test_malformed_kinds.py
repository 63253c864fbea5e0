"""The bad-input generator (`bench.malformed`) against the contract, without a broker: every kind's
hypothesis-drawn records are refused by `decode` with the reason the kind promises (or accepted, for the
hostile-but-valid kinds), the same seed gives the same records, and the mix keeps repeats after originals."""

from __future__ import annotations

import json

import pytest

from bench.malformed import BY_NAME, KINDS, MARKER, Kind, Planned, mix, plan_kind
from dispatcher.contract.cloudevents import KafkaRecord, RejectedRecord, RejectReason, decode
from dispatcher.contract.events import Topic, types_on

INTAKE = types_on(Topic.INTAKE)
AT_THE_DOOR = {reason.value for reason in RejectReason} - {RejectReason.DUPLICATE_TICKET.value}


def decoded(item: Planned) -> str:
    """The reason `decode` refuses the record for, or "accepted"."""
    record = item.record
    try:
        decode(KafkaRecord("jiesu.intake", record.key, record.value, record.headers, 0, 1), INTAKE)
    except RejectedRecord as rejected:
        return rejected.reason.value
    return "accepted"


def planned(kind: Kind, count: int = 40) -> list[Planned]:
    return plan_kind(kind, count, 5, [item for item in mix(0, 3, seed=5) if item.kind == "good"])


@pytest.mark.parametrize("kind", KINDS, ids=[kind.name for kind in KINDS])
def test_each_kind_gets_the_answer_it_promises_at_the_door(kind: Kind) -> None:
    expected = kind.expect if kind.expect in AT_THE_DOOR else "accepted"
    answers = {item.marker: decoded(item) for item in planned(kind)}
    assert set(answers.values()) == {expected}, {m: a for m, a in answers.items() if a != expected}


def test_the_same_seed_gives_the_same_records_in_the_same_order() -> None:
    first, second = mix(300, 50, seed=11), mix(300, 50, seed=11)
    assert [(p.marker, p.record) for p in first] == [(p.marker, p.record) for p in second]
    assert [p.marker for p in mix(300, 50, seed=12)] != [p.marker for p in first]


def test_every_record_is_marked_and_repeats_come_after_their_originals() -> None:
    records = mix(400, 40, seed=2)
    markers = [dict(item.record.headers)[MARKER].decode() for item in records]
    assert markers == [item.marker for item in records] and len(set(markers)) == len(markers)
    position = {item.marker: n for n, item in enumerate(records)}
    repeats = [item for item in records if item.after is not None]
    assert repeats and all(position[item.after] < position[item.marker] for item in repeats)
    for item in repeats:  # same ticket as its original, which is a good request
        assert item.ticket == json.loads(records[position[item.after]].record.value or b"{}")["ticket_id"]


def test_there_are_at_least_twenty_kinds_and_hostile_text_is_among_them() -> None:
    assert len([kind for kind in KINDS if kind.expect in AT_THE_DOOR]) >= 20
    texts = [text for item in planned(BY_NAME["injection_text"], 30) for _, text in item.texts]
    for needle in ("<script>", "onerror=", "DROP TABLE", "{{ 7*7 }}", "=cmd|"):
        assert any(needle in text for text in texts), needle
