"""The simulated hotline: a seeded plan of a day's requests, and what units and the callback center do."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from dispatcher.contract import events as wire
from jiesu.cli.simulator import (
    Conduct,
    Mix,
    callback_for,
    complaints,
    day_plan,
    steps_after_rejected_return,
    steps_after_reopening,
    unit_steps,
)
from jiesu.cli.surges import Surge, with_surges
from sla.calendar import BEIJING

WINTER_DAY = datetime(2026, 1, 12, tzinfo=BEIJING)
SUMMER_DAY = datetime(2026, 7, 13, tzinfo=BEIJING)
DISPATCHED_AT = datetime(2026, 1, 12, 10, 0, tzinfo=UTC)


def a_day(start: datetime = WINTER_DAY, seed: int = 7, mix: Mix = Mix()) -> list:
    """About 4,300 requests over one simulated day (real time: a simulated minute lasts 60 s)."""
    return list(day_plan(start, 0.05, seed, duration=timedelta(days=1), time_scale=60.0, mix=mix))


def dispatched(ticket: str = "SIM1-000001", co_handlers: list[str] | None = None) -> wire.CaseDispatched:
    def due(hours: float) -> wire.Deadline:
        return wire.Deadline(due_at=DISPATCHED_AT + timedelta(hours=hours), state="pending")

    return wire.CaseDispatched(
        ticket_id=ticket,
        at=DISPATCHED_AT,
        assignment=wire.Assignment(
            unit="street-wangjing",
            post="desk",
            person="wang.fang",
            rule="property",
            catalog_version="v1",
            reason="territorial",
            co_handlers=co_handlers or [],
        ),
        category="020101",
        urgency="general",
        district="朝阳区",
        street="望京街道",
        deadlines={"acknowledge": due(2), "contact": due(24), "reply": due(24 * 7)},
    )


def test_the_plan_is_the_same_for_a_seed_and_differs_for_another():
    first = list(day_plan(WINTER_DAY, 5.0, seed=1, count=200))
    again = list(day_plan(WINTER_DAY, 5.0, seed=1, count=200))
    other = list(day_plan(WINTER_DAY, 5.0, seed=2, count=200))
    assert first == again
    assert [p.complaint.description for p in first] != [p.complaint.description for p in other]
    assert len({p.complaint.ticket_id for p in first}) == 200
    assert all(a.after <= b.after for a, b in itertools.pairwise(first))


def test_the_plan_stops_at_its_duration_and_runs_at_the_day_mean_rate():
    plan = a_day()
    assert all(p.after <= timedelta(days=1) for p in plan)
    assert 0.05 * 86_400 * 0.9 < len(plan) < 0.05 * 86_400 * 1.1


def test_the_daily_curve_peaks_in_the_morning_and_afternoon_and_is_quiet_at_night():
    by_hour = Counter(p.complaint.received_at.astimezone(BEIJING).hour for p in a_day())
    night = sum(by_hour[h] for h in range(1, 6))
    morning = sum(by_hour[h] for h in (9, 10))
    noon = by_hour[12]
    afternoon = sum(by_hour[h] for h in (14, 15))
    assert morning > 1.4 * 2 * noon and afternoon > 1.4 * 2 * noon
    assert night < morning / 5
    assert max(by_hour, key=lambda h: by_hour[h]) in (9, 10, 14, 15)


def test_in_a_compressed_run_requests_arrive_at_the_rate_times_the_curve():
    """A simulated minute lasting one real second: from 10:00, within the morning peak, 2/s becomes ~4.3/s."""
    start = WINTER_DAY.replace(hour=10)
    plan = list(day_plan(start, 2.0, seed=3, count=200, time_scale=1.0))
    real_seconds = plan[-1].after.total_seconds() / 60.0
    rate = len(plan) / real_seconds
    factor = Mix().factor(start)
    assert 0.8 * 2.0 * factor < rate < 1.2 * 2.0 * factor


def test_the_mix_of_categories_urgency_confidential_and_repeats_is_as_configured():
    mix = Mix()
    plan = a_day(mix=mix)
    fresh = [p.complaint for p in plan if p.repeat_of is None]
    repeats = [p for p in plan if p.repeat_of is not None]
    assert len(repeats) / len(plan) == pytest.approx(mix.repeat, abs=0.015)
    # shares of categories among requests the operator classified, against the matters' weights
    weights = {m.category: m.weight for m in mix.matters}
    total = sum(weights.values())
    categorised = [c.category for c in fresh if c.category]
    assert len(categorised) / len(fresh) == pytest.approx(mix.with_category, abs=0.03)
    shares = Counter(categorised)
    for category, weight in weights.items():
        assert shares[category] / len(categorised) == pytest.approx(weight / total, abs=0.025), category
    urgent = sum(c.urgency in ("urgent", "emergency") for c in fresh) / len(fresh)
    expected = sum(m.weight for m in mix.matters if m.urgency in ("urgent", "emergency")) / total
    assert urgent == pytest.approx(expected, abs=0.03)
    requesters = [c.requester for c in fresh if c.requester]
    assert sum(r.confidential for r in requesters) / len(fresh) == pytest.approx(mix.confidential, abs=0.01)
    elderly = sum("elderly" in r.groups for r in requesters) / len(fresh)
    assert elderly == pytest.approx(mix.elderly, abs=0.015)
    assert sum("disabled" in r.groups for r in requesters) > 0


def test_heating_is_asked_about_in_the_heating_season_only():
    winter = Counter(p.complaint.category for p in a_day(WINTER_DAY) if p.complaint.category)
    summer = Counter(p.complaint.category for p in a_day(SUMMER_DAY) if p.complaint.category)
    assert winter.most_common(1)[0][0] == "010101"
    assert summer["010101"] == 0 and summer["020101"] > 0


def test_a_repeat_has_the_phone_community_and_category_of_an_earlier_request():
    plan = a_day()
    by_ticket = {p.complaint.ticket_id: p.complaint for p in plan}
    repeats = [p for p in plan if p.repeat_of is not None]
    assert repeats
    for repeat in repeats:
        earlier, again = by_ticket[repeat.repeat_of], repeat.complaint  # type: ignore[index]
        assert again.requester and earlier.requester and again.requester.phone == earlier.requester.phone
        assert again.location == earlier.location and again.category
        assert again.description.startswith("再次反映：")
        assert again.received_at > earlier.received_at


def test_the_old_feed_still_yields_the_same_requests():
    start = datetime(2026, 1, 12, 9, tzinfo=UTC)
    feed = list(complaints(5, start, seed=1))
    assert [c.ticket_id for c in feed] == [f"SIM20260112090000-{n:06d}" for n in range(5)]
    assert feed == list(complaints(5, start, seed=1))


def test_a_unit_signs_contacts_and_resolves_in_order_as_the_assigned_person():
    steps = unit_steps(dispatched(), seed=1, conduct=Conduct(returns=0, late=0, extension=0))
    assert [s.kind for s in steps] == ["acknowledge", "contact", "resolve"]
    assert all(s.command.by == "wang.fang" for s in steps)
    assert [s.after for s in steps] == sorted(s.after for s in steps)
    assert steps[0].after <= timedelta(minutes=20)
    assert all(s.command.at == DISPATCHED_AT + s.after for s in steps)
    assert steps == unit_steps(dispatched(), seed=1, conduct=Conduct(returns=0, late=0, extension=0))


def test_unit_decisions_follow_the_configured_probabilities():
    conduct = Conduct(returns=0.1, late=0.2, extension=0.15)
    plans = [unit_steps(dispatched(f"SIM1-{n:06d}"), seed=5, conduct=conduct) for n in range(4000)]
    returned = [p for p in plans if p[0].kind == "return"]
    signed = [p for p in plans if p[0].kind == "acknowledge"]
    assert len(returned) / len(plans) == pytest.approx(0.1, abs=0.02)
    assert all(len(p) == 1 for p in returned)
    assert {p[0].command.code for p in returned} == {"not_our_duty", "wrong_area", "duplicate"}  # type: ignore[attr-defined]
    late = [p for p in signed if p[0].late]
    assert len(late) / len(signed) == pytest.approx(0.2, abs=0.025)
    assert all(p[0].after > timedelta(hours=2) for p in late)  # after the acknowledge deadline
    assert all(p[0].after <= timedelta(minutes=20) for p in signed if not p[0].late)
    extended = [p for p in signed if any(s.kind == "extension" for s in p)]
    assert len(extended) / len(signed) == pytest.approx(0.15, abs=0.025)
    for plan in extended:
        extension = next(s.command for s in plan if s.kind == "extension")
        assert extension.requested_until > DISPATCHED_AT + timedelta(days=7)  # type: ignore[attr-defined]
    assert all(p[-1].kind == "resolve" for p in signed)


def test_decisions_depend_on_the_seed_and_the_event_not_on_the_order_they_are_seen_in():
    tickets = [f"SIM9-{n:06d}" for n in range(50)]
    forwards = {t: unit_steps(dispatched(t), seed=9) for t in tickets}
    backwards = {t: unit_steps(dispatched(t), seed=9) for t in reversed(tickets)}
    assert forwards == backwards
    # the same request number under another ticket prefix: the same decisions
    assert [s.kind for s in unit_steps(dispatched("SIM9-0112-000003"), seed=9)] == [
        s.kind for s in forwards["SIM9-000003"]
    ]
    other_seed = [[s.after for s in unit_steps(dispatched(t), seed=10)] for t in tickets]
    assert other_seed != [[s.after for s in forwards[t]] for t in tickets]


def test_a_co_handled_case_stops_at_the_contact_and_a_redispatch_is_not_returned_again():
    steps = unit_steps(dispatched(co_handlers=["dept-housing"]), seed=1, conduct=Conduct(returns=0, late=0))
    assert [s.kind for s in steps] == ["acknowledge", "contact"]
    never = [unit_steps(dispatched(f"SIM1-{n:06d}"), seed=1, may_return=False) for n in range(300)]
    assert all(p[0].kind == "acknowledge" for p in never)


def test_after_a_rejected_return_or_a_reopening_the_unit_handles_the_case_again():
    signed = steps_after_rejected_return("SIM1-000001", "wang.fang", DISPATCHED_AT, 1, signed=True)
    unsigned = steps_after_rejected_return("SIM1-000001", "wang.fang", DISPATCHED_AT, 1, signed=False)
    assert [s.kind for s in signed][-2:] == ["contact", "resolve"] and signed[0].kind == "contact"
    assert unsigned[0].kind == "acknowledge" and unsigned[-1].kind == "resolve"
    again = steps_after_reopening("SIM1-000001", "wang.fang", DISPATCHED_AT, 2, seed=1)
    assert [s.kind for s in again] == ["contact", "resolve"]


def test_callbacks_are_mostly_satisfied_with_some_unsatisfied_and_invalid():
    conduct = Conduct()
    callbacks = [callback_for(f"SIM1-{n:06d}", DISPATCHED_AT, seed=3) for n in range(4000)]
    outcomes = Counter(c.outcome for c in callbacks)
    for outcome, share in conduct.satisfaction:
        assert outcomes[outcome] / len(callbacks) == pytest.approx(share, abs=0.02), outcome
    for callback in callbacks:
        record = callback.record
        assert record.recorded_at == DISPATCHED_AT + callback.after > DISPATCHED_AT
        if record.satisfaction != "unsatisfied":
            assert record.resolved
    unsatisfied = [c.record for c in callbacks if c.outcome == "unsatisfied"]
    unresolved = sum(not r.resolved for r in unsatisfied) / len(unsatisfied)
    assert unresolved == pytest.approx(conduct.unresolved_when_unsatisfied, abs=0.1)
    assert callback_for("SIM1-000001", DISPATCHED_AT, 3) == callbacks[1]


def test_a_planted_surge_adds_its_requests_at_its_place_and_time_on_top_of_the_day():
    surge = Surge.parse("090101@朝阳区/望京街道/花家地北里社区:30/h:9h+2h")
    assert (surge.street, surge.community, surge.per_hour) == ("望京街道", "花家地北里社区", 30.0)
    day = a_day()
    planted = list(with_surges(iter(day), WINTER_DAY, [surge], seed=7))
    extra = [p for p in planted if p.complaint.ticket_id.startswith("SURGE")]
    assert len(planted) == len(day) + len(extra) and 40 <= len(extra) <= 85  # ~60 in two hours
    assert [p.after for p in planted] == sorted(p.after for p in planted)
    assert all(timedelta(hours=9) <= p.after <= timedelta(hours=11) for p in extra)
    assert {(p.complaint.category, p.complaint.location.street) for p in extra} == {("090101", "望京街道")}
    assert len({p.complaint.requester.phone for p in extra}) == len(extra)  # different callers
    with pytest.raises(ValueError, match="expected CATEGORY@"):
        Surge.parse("090101@朝阳区:30/h")
