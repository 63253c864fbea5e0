"""Who is told of what, with a directory of our own (a fake of the port), and when quiet hours let it go."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from notifications.message import ChannelKind
from notifications.policy import (
    Address,
    CaseFacts,
    Recipient,
    intents,
    parse_quiet,
    release_at,
    told_of_merge,
)


def person(name: str) -> Recipient:
    return Recipient(name, name, (Address(ChannelKind.CONSOLE, ""),))


class Directory:
    def person(self, username: str) -> Recipient | None:
        return person(username) if username == "on-duty" else None

    def at_post(self, unit: str, post: str) -> list[Recipient]:
        return [person(f"{unit}/{post}")]

    def group(self, unit: str, post: str) -> Recipient | None:
        return person(f"group:{unit}:{post}")

    def supervisors_of(self, unit: str, post: str) -> list[Recipient]:
        return [person(f"supervisor of {unit}/{post}")]

    def unit_heads(self, unit: str) -> list[Recipient]:
        return [person(f"head of {unit}")]

    def center_supervisors(self, district: str | None) -> list[Recipient]:
        return [person(f"center supervisor of {district}")]


CASE = CaseFacts("street-1", "desk", "on-duty", "110105", "general")


@pytest.mark.parametrize(
    ("event_type", "data", "expected"),
    [
        (
            "jiesu.case.dispatched",
            {},
            [("case.dispatched", "on-duty"), ("case.dispatched", "group:street-1:desk")],
        ),
        (
            "jiesu.case.redispatched",
            {},
            [("case.dispatched", "on-duty"), ("case.dispatched", "group:street-1:desk")],
        ),
        ("jiesu.sla.warning", {"stage": "acknowledge"}, [("case.acknowledge_reminder", "on-duty")]),
        ("jiesu.sla.warning", {"stage": "reply"}, [("sla.warning", "on-duty")]),
        ("jiesu.sla.breached", {"stage": "reply"}, [("sla.breached", "on-duty")]),
        (
            "jiesu.case.escalated",
            {"target": "street-1:post_supervisor"},
            [("case.escalated", "supervisor of street-1/desk")],
        ),
        ("jiesu.case.escalated", {"target": "street-1:unit_head"}, [("case.escalated", "head of street-1")]),
        (
            "jiesu.case.escalated",
            {"target": "center:supervision_order"},
            [("case.escalated", "center supervisor of 110105")],
        ),
        (
            "jiesu.case.escalated",
            {"target": "center:supervisor"},
            [("case.escalated", "center supervisor of 110105")],
        ),
        ("jiesu.case.returned", {}, [("case.returned", "center supervisor of 110105")]),
        ("jiesu.case.extension_requested", {}, [("case.extension_requested", "center supervisor of 110105")]),
        ("jiesu.case.pause_requested", {}, [("case.pause_requested", "center supervisor of 110105")]),
        ("jiesu.case.extended", {}, [("case.extension_decided", "on-duty")]),
        ("jiesu.case.extension_rejected", {}, [("case.extension_decided", "on-duty")]),
        ("jiesu.case.reopened", {}, [("case.reopened", "on-duty")]),
        ("jiesu.case.linked", {}, [("case.linked", "on-duty")]),
        ("jiesu.case.merged", {}, [("case.merged", "on-duty")]),
        ("jiesu.case.unmerged", {}, [("case.unmerged", "on-duty")]),
        ("jiesu.case.acknowledged", {}, []),
        ("jiesu.case.closed", {}, []),
    ],
)
def test_each_event_type_tells_its_recipients(event_type, data, expected):
    found = intents(event_type, data, CASE, Directory())
    assert [(intent.kind, intent.recipient.id) for intent in found] == expected


def test_without_a_known_person_on_duty_the_post_is_told():
    case = CaseFacts("street-1", "desk", "someone-unknown", "110105", "general")
    assert [i.recipient.id for i in intents("jiesu.case.reopened", {}, case, Directory())] == [
        "street-1/desk"
    ]


def test_urgency_follows_the_tier_and_escalations():
    urgent_case = CaseFacts("street-1", "desk", "on-duty", "110105", "urgent")
    assert all(i.urgent for i in intents("jiesu.case.dispatched", {}, urgent_case, Directory()))
    assert not any(i.urgent for i in intents("jiesu.case.dispatched", {}, CASE, Directory()))
    assert all(
        i.urgent for i in intents("jiesu.case.escalated", {"target": "center:supervisor"}, CASE, Directory())
    )


def test_quiet_hours_across_midnight_hold_until_they_end():
    quiet = parse_quiet("22:00-07:00")
    late = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)  # 23:30 Beijing
    early = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)  # 06:00 Beijing, the next day
    day = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)  # 12:00 Beijing
    assert release_at(late, quiet, urgent=False) == datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
    assert release_at(early, quiet, urgent=False) == datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
    assert release_at(day, quiet, urgent=False) == day
    assert release_at(late, quiet, urgent=True) == late
    assert parse_quiet("12:00-13:30") == (time(12, 0), time(13, 30))
    with pytest.raises(ValueError, match="HH:MM-HH:MM"):
        parse_quiet("late")


@pytest.mark.parametrize(
    ("event_type", "data", "expected"),
    [
        (  # to the lead unit: its person on duty
            "jiesu.case.supervision_ordered",
            {"unit": "street-1", "addressee": "unit"},
            [("supervision.ordered", "on-duty")],
        ),
        (  # to a co-handling unit: whoever heads it (its post on the case is not known)
            "jiesu.case.supervision_ordered",
            {"unit": "dept-water", "addressee": "unit"},
            [("supervision.ordered", "head of dept-water")],
        ),
        (
            "jiesu.case.supervision_warning",
            {"unit": "street-1", "addressee": "head"},
            [("supervision.warning", "head of street-1")],
        ),
        (
            "jiesu.case.supervision_overdue",
            {"unit": "street-1", "target": "street-1:unit_head"},
            [
                ("supervision.overdue", "head of street-1"),
                ("supervision.overdue", "center supervisor of 110105"),
            ],
        ),
        (
            "jiesu.case.supervision_overdue",
            {"unit": "street-1", "target": "center:supervisor"},
            [("supervision.overdue", "center supervisor of 110105")],
        ),
        (
            "jiesu.case.supervision_answered",
            {"unit": "street-1"},
            [("supervision.answered", "center supervisor of 110105")],
        ),
    ],
)
def test_a_supervision_order_tells_its_addressee_then_those_above_it(event_type, data, expected):
    found = intents(event_type, data, CASE, Directory())
    assert [(intent.kind, intent.recipient.id) for intent in found] == expected
    assert all(intent.urgent for intent in found) is (event_type == "jiesu.case.supervision_overdue")


@pytest.mark.parametrize(
    ("event_type", "data", "expected"),
    [
        (  # the task's unit, whichever unit holds the case it is described by
            "jiesu.governance.task_created",
            {"unit": "dept-water"},
            [("governance.created", "head of dept-water")],
        ),
        ("jiesu.governance.task_warning", {"unit": "street-1"}, [("governance.warning", "head of street-1")]),
        (
            "jiesu.governance.task_overdue",
            {"unit": "street-1", "target": "street-1:unit_head", "level": 1},
            [
                ("governance.overdue", "head of street-1"),
                ("governance.overdue", "center supervisor of 110105"),
            ],
        ),
        (
            "jiesu.governance.task_overdue",
            {"unit": "street-1", "target": "center:supervisor", "level": 2},
            [("governance.overdue", "center supervisor of 110105")],
        ),
        ("jiesu.governance.task_reported", {"unit": "street-1"}, []),
    ],
)
def test_a_governance_task_tells_its_unit_then_those_above_it(event_type, data, expected):
    found = intents(event_type, data, CASE, Directory())
    assert [(intent.kind, intent.recipient.id) for intent in found] == expected
    assert {intent.urgent for intent in found} <= {event_type == "jiesu.governance.task_overdue"}


def test_a_merge_is_told_only_of_a_case_that_was_at_its_unit_before():
    opened = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    later = {"at": "2026-11-26T10:30:00+08:00"}  # 02:30 UTC
    at_once = {"at": "2026-11-26T10:00:00+08:00"}  # merged as it opened (a burst, a hotspot's)
    assert told_of_merge("jiesu.case.merged", later, opened)
    assert not told_of_merge("jiesu.case.merged", at_once, opened)
    assert not told_of_merge("jiesu.sla.warning", later, opened)  # the main case's events tell
    assert not told_of_merge("jiesu.case.merged", later, None)
