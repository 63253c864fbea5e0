"""The demo's day, its pure parts: which past days are replayed, the vague requests of the triage queue, the
co-handling units' steps, and the options' bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dispatcher.domain import commands as c
from jiesu.cli.demo_day import DayOptions, fresh_phones
from jiesu.cli.demo_history import (
    TIER_CONDUCT,
    TRUE_CATEGORY,
    VAGUE,
    Span,
    co_handling_steps,
    lead_resolves,
    with_vague,
)
from jiesu.cli.simulator import day_plan
from sla.calendar import BEIJING

TODAY = date(2026, 11, 26)  # a Thursday


def test_the_span_is_months_of_sparse_days_then_the_recent_days_up_to_today():
    days = Span(days=30, per_day=24.0, months=5, sparse_per_day=2.0, weekend=0.5).plan(TODAY)
    assert len(days) == 30 + 5 * 30
    assert days[-1][0] == TODAY and days[0][0] == TODAY - timedelta(days=179)
    assert [day for day, _ in days] == sorted(day for day, _ in days)
    recent = dict(days[-30:])
    assert recent[TODAY] == 24.0 and recent[date(2026, 11, 22)] == 12.0  # a Sunday: half
    assert dict(days[:-30])[date(2026, 6, 1)] == 2.0
    assert Span(days=0).plan(TODAY) == []


def test_vague_requests_have_no_category_and_are_the_same_for_a_seed():
    start = datetime(2026, 11, 26, 9, tzinfo=BEIJING)

    def plan(seed: int) -> list:
        return list(with_vague(day_plan(start, 5.0, seed, count=400), seed, share=0.1))

    first, again, other = plan(3), plan(3), plan(4)
    assert first == again and first != other
    vague = [p for p in first if p.complaint.description in dict(VAGUE)]
    assert 20 <= len(vague) <= 60
    assert all(p.complaint.category is None and p.repeat_of is None for p in vague)
    # the history's operator knows where each of them belongs
    assert all(p.complaint.description in TRUE_CATEGORY for p in first if p.repeat_of is None)


def test_each_co_handling_unit_signs_for_its_part_then_reports_it_and_then_the_lead_resolves():
    conduct = TIER_CONDUCT["general"]
    steps = co_handling_steps(
        "HIS20261126-000007", ["dept-a", "dept-b"], 1, conduct, lambda unit: f"{unit}.duty"
    )
    assert steps == co_handling_steps(
        "HIS20261126-000007", ["dept-a", "dept-b"], 1, conduct, lambda u: f"{u}.duty"
    )
    for unit in ("dept-a", "dept-b"):
        signed, reported = [s for s in steps if s.command.unit == unit]
        assert isinstance(signed.command, c.AcknowledgeAsCoHandler) and signed.command.by == f"{unit}.duty"
        assert isinstance(reported.command, c.ReportToLead) and reported.command.report
        assert timedelta(0) < signed.after < reported.after
    at = datetime(2026, 11, 26, 2, tzinfo=UTC)
    resolve = lead_resolves("HIS20261126-000007", "lead", at, 1, conduct)
    assert resolve.kind == "resolve" and resolve.command.at == at + resolve.after


@pytest.mark.parametrize("rate, pace", [(0.0, 0.25), (6.0, 0.25), (1.0, 0.0)])
def test_the_live_day_stays_bounded(rate: float, pace: float):
    with pytest.raises(ValueError):
        DayOptions(rate=rate, pace=pace)


def test_each_start_has_its_own_callers_and_a_repeat_keeps_its_callers_number():
    start = datetime(2026, 11, 26, 9, tzinfo=BEIJING)
    plan = list(day_plan(start, 5.0, 3, count=300))
    first = list(fresh_phones(iter(plan), "DAY3-1126090000"))
    again = list(fresh_phones(iter(plan), "DAY3-1126090000"))
    later = list(fresh_phones(iter(plan), "DAY3-1127090000"))
    assert first == again
    phones = [p.complaint.requester.phone for p in first if p.complaint.requester]
    assert len(phones) == 300 and all(len(phone) == 11 and phone.startswith("1") for phone in phones)
    assert not set(phones) & {p.complaint.requester.phone for p in later if p.complaint.requester}
    by_ticket = {p.complaint.ticket_id: p.complaint.requester for p in first}
    repeats = [p for p in first if p.repeat_of is not None]
    assert repeats and all(by_ticket[p.repeat_of] == p.complaint.requester for p in repeats)
