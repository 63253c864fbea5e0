"""Governance tasks (主动治理任务) as the domain keeps them: made of a hotspot, linking its cases; reported by
their unit once; their warning and two escalations, which fire only while the task is open; and the
handlers' refusals and idempotency, with fakes of the ports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import pytest

from dispatcher.domain import commands as c
from dispatcher.domain.access import Visible
from dispatcher.domain.commands import InboundId
from dispatcher.domain.governance import (
    GovernanceTask,
    TaskConflictError,
    TaskError,
    TaskEvent,
    check_scope,
    is_task_timer,
)
from dispatcher.domain.hotspots import Hotspot
from dispatcher.domain.states import NotAllowedError
from dispatcher.service import governance as handlers
from dispatcher.service.lifecycle import CaseNotFoundError, InvalidActionError

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
DUE = T0 + timedelta(days=4)
CENTER_AT = DUE + timedelta(days=1)
HOTSPOT = Hotspot(
    hotspot_id="hs-1",
    district="110105",
    street="110105026",
    community=None,
    category="0101",
    window="1h",
    window_start=T0 - timedelta(hours=1),
    window_end=T0,
    observed=6,
    expected=0.3,
    score=9.0,
    first_ticket_id="A1",
    ticket_ids=("A1", "A2", "A3", "A2", "A4", "A5"),
    detected_at=T0,
)


def make(hotspot: Hotspot = HOTSPOT, **changes: Any) -> GovernanceTask:
    args: dict[str, Any] = {
        "task_id": "GT-1",
        "unit": "ent-heating",
        "ask": "  查明供热管网故障  ",
        "due": (DUE, "4 working days"),
        "center_at": CENTER_AT,
        "by": "zhao",
        "at": T0,
        **changes,
    }
    return GovernanceTask.create(hotspot, **args)


def test_a_task_links_the_hotspots_cases_once_each_and_records_its_creation():
    task = make()
    assert task.ticket_ids == ("A1", "A2", "A3", "A4", "A5")
    assert (task.unit, task.ask, task.district, task.category, task.is_open) == (
        "ent-heating",
        "查明供热管网故障",
        "110105",
        "0101",
        True,
    )
    [fact] = task.facts
    assert (fact.kind, fact.actor, fact.at) == (TaskEvent.CREATED, "zhao", T0)
    assert "GT-1 for ent-heating (hotspot hs-1)" in fact.reason and "查明供热管网故障" in fact.reason


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"ask": " "}, "needs what is asked"),
        ({"ask": "长" * 2001}, "at most 2000"),
        ({"unit": ""}, "needs the unit"),
        ({"due": (T0, "now")}, "is not after"),
        ({"task_id": "X-1"}, "expected GT-"),
    ],
)
def test_what_a_task_needs(changes, said):
    with pytest.raises(TaskError, match=said):
        make(**changes)


def test_a_hotspot_without_cases_is_no_task():
    with pytest.raises(TaskError, match="holds no cases"):
        make(Hotspot(**{**vars(HOTSPOT), "ticket_ids": ()}))


def test_a_district_supervisor_acts_on_its_district_only():
    check_scope(Visible(everything=True), HOTSPOT)
    check_scope(Visible(district="110105"), HOTSPOT)
    with pytest.raises(NotAllowedError, match="outside your scope"):
        check_scope(Visible(district="110108"), HOTSPOT)


def test_only_the_unit_reports_once_and_late_is_said():
    task = make()
    with pytest.raises(NotAllowedError, match="is for ent-heating, not for ent-water"):
        task.report_with("不是我们", "zhou", "ent-water", T0)
    with pytest.raises(TaskError, match="needs the report"):
        task.report_with("  ", "li", "ent-heating", T0)
    task.report_with("已更换阀门", "li", "ent-heating", DUE + timedelta(hours=1))
    assert (task.is_open, task.report, task.reported_by) == (False, "已更换阀门", "li")
    assert (task.facts[-1].kind, task.facts[-1].late) == (TaskEvent.REPORTED, True)
    with pytest.raises(TaskConflictError, match="was reported by li"):
        task.report_with("再报", "root", None, DUE)


def test_its_timers_warn_at_three_quarters_then_escalate_to_the_head_then_the_center():
    task = make()
    timers = task.timers()
    assert all(is_task_timer(timer.stage) for timer in timers)
    assert [(t.kind, t.level, t.due_at, t.target) for t in timers] == [
        ("warning", 0, T0 + timedelta(days=3), "ent-heating:unit"),
        ("escalation", 1, DUE, "ent-heating:unit_head"),
        ("escalation", 2, CENTER_AT, "center:supervisor"),
    ]
    assert task.fire_timer("warning", 0, DUE, "ent-heating:unit", T0 + timedelta(days=3))
    assert task.fire_timer("escalation", 2, DUE, "center:supervisor", CENTER_AT)
    assert [(f.kind, f.target, f.level) for f in task.facts[1:]] == [
        (TaskEvent.WARNING, None, 0),
        (TaskEvent.OVERDUE, "center:supervisor", 2),
    ]
    assert not task.fire_timer("escalation", 1, DUE - timedelta(days=1), "x", DUE)  # another deadline: stale
    task.report_with("已整改", "li", "ent-heating", CENTER_AT)
    assert not task.fire_timer("escalation", 1, DUE, "ent-heating:unit_head", CENTER_AT)  # reported


class FakeTasks:
    def __init__(self) -> None:
        self.hotspots = {HOTSPOT.hotspot_id: HOTSPOT}
        self.stored: dict[str, GovernanceTask] = {}

    def hotspot(self, hotspot_id: str) -> Hotspot | None:
        return self.hotspots.get(hotspot_id)

    def of_hotspot(self, hotspot_id: str) -> str | None:
        return next((t.task_id for t in self.stored.values() if t.hotspot_id == hotspot_id), None)

    def add(self, task: GovernanceTask) -> None:
        self.stored[task.task_id] = task

    def get(self, task_id: str) -> GovernanceTask | None:
        return self.stored.get(task_id)


class FakeInbox:
    def __init__(self) -> None:
        self.applied: set[InboundId] = set()

    def seen(self, inbound: InboundId) -> bool:
        return inbound in self.applied

    def record(self, inbound: InboundId) -> None:
        self.applied.add(inbound)


class FakeUoW:
    def __init__(self) -> None:
        self.tasks, self.inbox, self.commits = FakeTasks(), FakeInbox(), 0

    def __enter__(self) -> FakeUoW:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        pass

    def commit(self) -> None:
        self.commits += 1


def create(uow: FakeUoW, **changes: Any) -> str:
    ids = iter(f"GT-{n}" for n in range(1, 10))
    command = c.CreateGovernanceTask(
        "zhao",
        **{"hotspot_id": "hs-1", "unit": "ent-heating", "ask": "查明原因", "working_days": 4, **changes},
    )
    deadline = lambda within, unit, at: (at + timedelta(days=int(within.split()[0])), within)  # noqa: E731
    return handlers.create_task(
        command,
        uow=uow,  # type: ignore[arg-type]
        clock=lambda: T0,
        deadline=deadline,
        unit_known=lambda unit: unit.startswith("ent-"),
        new_id=lambda: next(ids),
    )


def test_the_handler_makes_one_task_per_hotspot_and_an_event_sent_again_does_nothing_more():
    uow = FakeUoW()
    inbound = InboundId("/supervisor-desk", "e-1")
    task_id = create(uow, inbound=inbound)
    task = uow.tasks.stored[task_id]
    assert (task.due_at, task.center_at) == (T0 + timedelta(days=4), T0 + timedelta(days=5))
    assert create(uow, inbound=inbound) == task_id and uow.commits == 1  # the same event again
    with pytest.raises(TaskConflictError, match=f"already is governance task {task_id}"):
        create(uow)
    assert uow.commits == 1


@pytest.mark.parametrize(
    ("changes", "error", "said"),
    [
        ({"working_days": None}, InvalidActionError, "needs its deadline"),
        ({"due_at": T0 + timedelta(days=1)}, InvalidActionError, "needs its deadline"),  # both
        ({"working_days": 0}, InvalidActionError, "between 1 and 90"),
        ({"working_days": None, "due_at": datetime(2026, 12, 1)}, InvalidActionError, "time zone"),
        ({"unit": "nobody"}, InvalidActionError, "unknown unit"),
        ({"hotspot_id": "hs-none"}, CaseNotFoundError, "no hotspot"),
        ({"district": "110108", "everything": False}, NotAllowedError, "outside your scope"),
    ],
)
def test_the_handler_refuses_what_cannot_be_a_task(changes, error, said):
    uow = FakeUoW()
    with pytest.raises(error, match=said):
        create(uow, **changes)
    assert uow.tasks.stored == {} and uow.commits == 0


def test_a_report_sent_again_does_nothing_more_and_an_unknown_task_is_not_found():
    uow = FakeUoW()
    task_id = create(uow)
    report = c.ReportGovernanceTask(
        "ent-heating-system",
        task_id=task_id,
        report="已整改",
        unit="ent-heating",
        inbound=InboundId("u", "r-1"),
    )
    handlers.report_task(report, uow=uow, clock=lambda: T0)  # type: ignore[arg-type]
    handlers.report_task(report, uow=uow, clock=lambda: T0)  # type: ignore[arg-type]
    assert uow.tasks.stored[task_id].reported_by == "ent-heating-system" and uow.commits == 2
    with pytest.raises(CaseNotFoundError, match="no governance task GT-9"):
        handlers.report_task(
            c.ReportGovernanceTask("li", task_id="GT-9", report="x"), uow=uow, clock=lambda: T0
        )  # type: ignore[arg-type]
