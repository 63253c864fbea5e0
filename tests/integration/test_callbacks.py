"""The closed loop on SQLite and PostgreSQL: callbacks close, reopen, hold or escalate a case; corrections,
invalid callbacks, termination and appeals move the three rates exactly as the stored callbacks say."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from chinese_calendar import is_workday  # the official calendar, as the SLA uses by default
from sqlalchemy import select

from bench.scores import seed_cases
from consumers.intake import handle_intake
from consumers.monthly import first_working_day, publish_final_month
from dispatcher.adapters import tables as t
from dispatcher.adapters.sql import decode_headers
from dispatcher.bootstrap import System, bootstrap
from dispatcher.domain import commands as c
from dispatcher.domain.callbacks import Assessment, Outcome
from dispatcher.domain.case import CaseError, NotAllowedError, TransitionError
from dispatcher.domain.scores import Tally
from dispatcher.reads.scores import callback_lines, ranking, tallies
from dispatcher.service.lifecycle import CaseNotFoundError, InvalidActionError
from dispatcher.settings import Settings
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog
from tests.support.clock import NOW, Clock


def make_system(database_url: str, tmp_path: Path, clock: Clock, assessment: str | None = None) -> System:
    settings = Settings(database_url=database_url, catalog_dir=write_catalog(tmp_path / "catalog"))
    if assessment is not None:
        path = tmp_path / "assessment.yaml"
        path.write_text(assessment, encoding="utf-8")
        settings = settings.model_copy(update={"assessment_file": path})
    return bootstrap(settings, clock=clock)


def resolved_case(system: System, ticket: str = "BJ1") -> str:
    complaint = make_complaint(
        ticket_id=ticket, category="0101", urgency="urgent", location={"district": "朝阳区"}
    )
    handle_intake(intake_record(complaint), system.bus)
    for command in (
        c.AcknowledgeCase(ticket, "li"),
        c.RecordContact(ticket, "li"),
        c.ResolveCase(ticket, "li", result="已修复"),
    ):
        system.bus.handle(command)
    return ticket


def callback(
    ticket: str, at: datetime, satisfaction: str = "satisfied", **fields: object
) -> c.RecordCallback:
    values: dict[str, object] = {"contacted": True, "resolved": True, **fields}
    return c.RecordCallback(ticket, "center-wu", recorded_at=at, satisfaction=satisfaction, **values)  # type: ignore[arg-type]


def state_of(system: System, ticket: str) -> tuple[str, str | None, int]:
    with system.engine.connect() as connection:
        row = connection.execute(
            select(t.cases.c.state, t.cases.c.queue, t.cases.c.round).where(t.cases.c.ticket_id == ticket)
        ).one()
    return row.state, row.queue, row.round


def published(system: System, prefix: str) -> list[dict]:
    found = []
    with system.engine.connect() as connection:
        for headers, value in connection.execute(
            select(t.outbox.c.headers, t.outbox.c.value).order_by(t.outbox.c.id)
        ):
            kind = dict(decode_headers(headers))["ce_type"].decode()
            if kind.startswith(prefix):
                found.append({"type": kind, **json.loads(value)})
    return found


def unit_tally(system: System, month: str = "2026-11") -> Tally:
    found = tallies(system.engine, months=[month], unit="ent-heating")
    return found[0].tally if found else Tally()


def test_a_satisfied_callback_closes_the_case_and_the_units_scores_follow(system, clock):
    ticket = resolved_case(system)
    clock.now = NOW + timedelta(days=1)
    outcome = system.bus.handle(callback(ticket, NOW + timedelta(hours=20), "basically_satisfied"))
    assert outcome is Outcome.CLOSED
    assert state_of(system, ticket) == ("closed", None, 1)
    [closed] = published(system, "jiesu.case.closed")
    assert (closed["how"], closed["satisfaction"], closed["counted"]) == (
        "callback",
        "basically_satisfied",
        True,
    )
    [scores] = published(system, "jiesu.scores.updated")
    assert (scores["unit"], scores["unit_class"], scores["month"]) == ("ent-heating", "enterprise", "2026-11")
    # one valid callback, contacted, resolved, basically satisfied: 1, 1, 0.9; 0.1 + 0.5 + 0.4 × 0.9
    assert (scores["response_rate"], scores["resolution_rate"], scores["satisfaction_rate"]) == (
        1.0,
        1.0,
        0.9,
    )
    assert scores["composite"] == pytest.approx(0.96)
    assert unit_tally(system) == Tally(1, 1, 1, 0, 1)


def test_callbacks_applied_together_publish_the_units_scores_once_with_all_of_them(system, clock):
    tickets = [resolved_case(system, f"BJ{n}") for n in range(3)]
    clock.now = NOW + timedelta(days=1)
    assert system.batch is not None
    with system.batch([], [], [], tickets):  # one transaction, as the worker applies a batch of records
        system.bus.handle(callback(tickets[0], NOW + timedelta(hours=20), "unsatisfied"))
        for ticket in tickets[1:]:
            system.bus.handle(callback(ticket, NOW + timedelta(hours=20), "satisfied"))
        # the first case's callback corrected later in the same transaction: only the latest counts
        system.bus.handle(callback(tickets[0], NOW + timedelta(hours=21), "satisfied"))

    [scores] = published(system, "jiesu.scores.updated")
    assert (scores["valid_callbacks"], scores["satisfied"], scores["satisfaction_rate"]) == (3, 3, 1.0)
    assert unit_tally(system) == Tally(3, 3, 3, 3, 0)
    assert [state_of(system, ticket)[0] for ticket in tickets] == ["acknowledged", "closed", "closed"]


def test_unsatisfied_reopens_to_the_same_unit_then_a_second_time_goes_to_the_supervisors(system, clock):
    ticket = resolved_case(system)
    clock.now = NOW + timedelta(days=1)
    unsatisfied = callback(ticket, clock.now, "unsatisfied", resolved=False, comment="暖气还是不热")
    assert system.bus.handle(unsatisfied) is Outcome.REOPENED
    assert state_of(system, ticket) == ("acknowledged", None, 2)
    [reopened] = published(system, "jiesu.case.reopened")
    assert reopened["round"] == 2
    # urgent: 24 h from the reopening, on the same unit
    assert datetime.fromisoformat(reopened["reply_due"]) == clock.now + timedelta(hours=24)
    with system.engine.connect() as connection:
        reply = connection.execute(
            select(t.deadlines.c.due_at, t.deadlines.c.status, t.deadlines.c.how).where(
                t.deadlines.c.ticket_id == ticket, t.deadlines.c.stage == "reply"
            )
        ).one()
        assignments = connection.execute(select(t.assignments.c.unit)).scalars().all()
    assert (reply.due_at, reply.status) == (clock.now + timedelta(hours=24), "pending")
    assert reply.how.startswith("reopened in round 2: reply: 24 hours")
    assert assignments == ["ent-heating"]

    clock.now += timedelta(hours=5)
    system.bus.handle(c.RecordContact(ticket, "li"))
    system.bus.handle(c.ResolveCase(ticket, "li", result="更换了阀门"))
    clock.now += timedelta(hours=20)
    assert system.bus.handle(callback(ticket, clock.now, "unsatisfied")) is Outcome.ESCALATED
    assert state_of(system, ticket) == ("queued", "callback-review", 2)
    [escalated] = published(system, "jiesu.case.escalated")
    assert (escalated["stage"], escalated["target"], escalated["level"]) == (
        "callback",
        "center:supervisor",
        1,
    )

    system.bus.handle(c.CloseAfterReview(ticket, "center-zhao", reason="已尽力，诉求人接受"))
    assert state_of(system, ticket)[0] == "closed"
    assert published(system, "jiesu.case.closed")[-1]["how"] == "review"
    # both rounds count, each with its own callback: two valid, one resolved... none resolved, none satisfied
    assert unit_tally(system) == Tally(2, 2, 1, 0, 0)


def test_a_category_set_to_review_holds_the_case_instead_of_reopening(database_url, tmp_path, clock):
    system = make_system(
        database_url, tmp_path, clock, "when_unsatisfied: {default: reopen, categories: {'01': review}}\n"
    )
    ticket = resolved_case(system)
    assert system.bus.handle(callback(ticket, NOW, "unsatisfied")) is Outcome.HELD
    assert state_of(system, ticket) == ("queued", "callback-review", 1)
    # the supervisor sends it back to a unit: a new round with fresh deadlines
    system.bus.handle(c.DispatchManually(ticket, "center-zhao", unit="ent-heating", reason="重办"))
    assert state_of(system, ticket) == ("dispatched", None, 2)


def test_an_invalid_callback_closes_the_case_without_counting(system):
    ticket = resolved_case(system)
    assert system.bus.handle(callback(ticket, NOW, "unsatisfied", valid=False)) is Outcome.CLOSED
    assert published(system, "jiesu.case.closed")[0]["counted"] is False
    assert unit_tally(system) == Tally()
    [line] = callback_lines(system.engine, "ent-heating", "2026-11")
    assert line.excluded == "marked invalid"


def test_a_later_callback_of_the_same_round_corrects_it_an_earlier_one_is_refused(system, clock):
    ticket = resolved_case(system)
    clock.now = NOW + timedelta(hours=3)
    system.bus.handle(callback(ticket, NOW + timedelta(hours=1), "basically_satisfied"))
    with pytest.raises(CaseError, match="is not later"):
        system.bus.handle(callback(ticket, NOW + timedelta(minutes=30), "unsatisfied"))
    assert system.bus.handle(callback(ticket, NOW + timedelta(hours=2), "satisfied")) is Outcome.CORRECTED
    assert state_of(system, ticket) == ("closed", None, 1)  # the outcome stands
    assert unit_tally(system) == Tally(1, 1, 1, 1, 0)  # the rates reflect the latest
    lines = callback_lines(system.engine, "ent-heating", "2026-11")
    assert [line.excluded for line in lines] == ["superseded by a later callback of the same round", None]
    assert published(system, "jiesu.scores.updated")[-1]["satisfaction_rate"] == 1.0


def test_callbacks_that_cannot_apply_are_refused_with_the_reason(system, clock):
    with pytest.raises(CaseNotFoundError):
        system.bus.handle(callback("NOPE", NOW))
    complaint = make_complaint(ticket_id="OPEN1", category="0101", location={"district": "朝阳区"})
    handle_intake(intake_record(complaint), system.bus)
    with pytest.raises(TransitionError, match="not been resolved yet"):
        system.bus.handle(callback("OPEN1", NOW))
    ticket = resolved_case(system)
    with pytest.raises(InvalidActionError, match="satisfaction 'happy'"):
        system.bus.handle(callback(ticket, NOW, "happy"))
    with pytest.raises(InvalidActionError, match="in the future"):
        system.bus.handle(callback(ticket, NOW + timedelta(hours=1)))
    assert state_of(system, ticket)[0] == "resolved"


def test_a_duplicate_callback_event_has_one_effect(system):
    ticket = resolved_case(system)
    inbound = c.InboundId("/callcenter", "cb-1")
    once = c.RecordCallback(
        ticket,
        "center",
        recorded_at=NOW,
        contacted=True,
        resolved=True,
        satisfaction="satisfied",
        inbound=inbound,
    )
    system.bus.handle(once)
    system.bus.handle(once)
    assert len(published(system, "jiesu.scores.updated")) == 1
    assert unit_tally(system).valid == 1


def test_termination_and_accepted_appeals_leave_the_base_rejected_ones_do_not(system, clock):
    first, second, third = (resolved_case(system, ticket) for ticket in ("BJ1", "BJ2", "BJ3"))
    for ticket in (first, second, third):
        system.bus.handle(callback(ticket, NOW, "unsatisfied", resolved=False, valid=True))
    assert unit_tally(system).valid == 3

    system.bus.handle(c.TerminateCase(first, "center-zhao", reason="诉求超出政策范围"))
    assert unit_tally(system).valid == 2
    assert published(system, "jiesu.case.closed")[-1]["how"] == "terminated"
    assert published(system, "jiesu.scores.updated")[-1]["valid_callbacks"] == 2

    [line] = [
        line for line in callback_lines(system.engine, "ent-heating", "2026-11") if line.ticket_id == second
    ]
    appeal = system.bus.handle(
        c.FileAppeal("li", callback_id=line.id, unit="ent-heating", reason="诉求人拒绝入户")
    )
    with pytest.raises(InvalidActionError, match="already has a pending"):
        system.bus.handle(c.FileAppeal("li", callback_id=line.id, unit="ent-heating", reason="again"))
    system.bus.handle(c.DecideAppeal("center-zhao", appeal_id=appeal, accept=True, reason="属实"))
    assert unit_tally(system).valid == 1
    with pytest.raises(InvalidActionError, match="already accepted"):
        system.bus.handle(c.DecideAppeal("center-zhao", appeal_id=appeal, accept=False, reason="x"))

    [line] = [
        line for line in callback_lines(system.engine, "ent-heating", "2026-11") if line.ticket_id == third
    ]
    appeal = system.bus.handle(c.FileAppeal("li", callback_id=line.id, unit="ent-heating", reason="不认可"))
    system.bus.handle(c.DecideAppeal("center-zhao", appeal_id=appeal, accept=False, reason="不属实"))
    assert unit_tally(system).valid == 1
    reasons = {
        line.ticket_id: line.excluded for line in callback_lines(system.engine, "ent-heating", "2026-11")
    }
    assert reasons == {
        first: "case terminated (终结): 诉求超出政策范围",
        second: "appeal accepted: 属实",
        third: None,
    }


def test_another_units_appeal_is_refused(system):
    ticket = resolved_case(system)
    system.bus.handle(callback(ticket, NOW))
    [line] = callback_lines(system.engine, "ent-heating", "2026-11")
    with pytest.raises(NotAllowedError, match="counts for ent-heating"):
        system.bus.handle(c.FileAppeal("wang", callback_id=line.id, unit="street-wangjing", reason="x"))


def test_publishing_a_month_sends_every_units_scores_final(system):
    ticket = resolved_case(system)
    system.bus.handle(callback(ticket, NOW))
    assert system.bus.handle(c.PublishScores("2026-11", final=True)) == 1
    final = published(system, "jiesu.scores.updated")[-1]
    assert (final["unit"], final["final"], final["valid_callbacks"]) == ("ent-heating", True, 1)


def test_the_months_final_scores_go_out_once_on_the_first_working_day_after_it(system, clock):
    ticket = resolved_case(system)
    system.bus.handle(callback(ticket, NOW))
    clock.now = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 00:00 on Tuesday 12-01 in Beijing
    assert publish_final_month(system.bus, is_workday, clock) == "2026-11"
    assert publish_final_month(system.bus, is_workday, clock) == "2026-11"  # again: nothing new
    finals = [event for event in published(system, "jiesu.scores.updated") if event["final"]]
    assert [(event["month"], event["unit"]) for event in finals] == [("2026-11", "ent-heating")]
    # figures published again after the final ones (an appeal decided late) are final too
    system.bus.handle(c.PublishScores("2026-11"))
    assert published(system, "jiesu.scores.updated")[-1]["final"] is True


def test_the_final_scores_wait_for_the_first_working_day_after_a_holiday():
    assert first_working_day(2026, 10, is_workday) == datetime(2026, 10, 8).date()  # 国庆 10-01..10-07
    assert first_working_day(2026, 12, is_workday) == datetime(2026, 12, 1).date()


def test_the_ranking_orders_a_class_by_composite_with_last_months_change(system):
    tickets = iter(seed_cases(system.engine, "K", 12, random.Random(3)))
    rows = []
    # October: A satisfied twice, B unsatisfied twice; November: A once unsatisfied, B satisfied twice
    for unit, month, answers in (
        ("street-a", "2026-10", ["satisfied", "satisfied"]),
        ("street-b", "2026-10", ["unsatisfied", "unsatisfied"]),
        ("street-a", "2026-11", ["unsatisfied", "satisfied"]),
        ("street-b", "2026-11", ["satisfied", "satisfied"]),
        ("dept-c", "2026-11", ["satisfied"]),  # another class: not in the streets' ranking
    ):
        for answer in answers:
            rows.append(
                {
                    "ticket_id": next(tickets),
                    "round": 1,
                    "recorded_at": NOW,
                    "month": month,
                    "contacted": True,
                    "resolved": answer == "satisfied",
                    "satisfaction": answer,
                    "valid": True,
                    "unit": unit,
                    "post": "duty",
                    "unit_class": "department" if unit.startswith("dept") else "street",
                    "current": True,
                    "counted": True,
                    "received_at": NOW,
                }
            )
    with system.engine.begin() as connection:
        connection.execute(t.callbacks.insert(), rows)
    for month in ("2026-10", "2026-11"):  # stored behind the live tallies' back: recomputed
        system.bus.handle(c.PublishScores(month))
    first, second = ranking(system.engine, Assessment(), "2026-11", "street")
    assert (first.unit, first.rank, first.previous_rank, first.rank_change) == ("street-b", 1, 2, 1)
    assert (second.unit, second.rank, second.previous_rank, second.rank_change) == ("street-a", 2, 1, -1)
    assert float(first.change) == pytest.approx(0.9)  # 0.1 → 1.0
    assert float(second.change) == pytest.approx(-0.45)  # 1.0 → 0.1 + 0.5 × 0.5 + 0.4 × 0.5 = 0.55
    assert first.bottom_ten and second.bottom_ten  # fewer than ten ranked: all of them
