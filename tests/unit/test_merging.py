"""并案 (merge) in the case model: which cases may be merged, what a merged case does while it follows its
main case, how it is resolved or terminated with it, and what an un-merge restores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatcher.domain import events as ev
from dispatcher.domain import merging
from dispatcher.domain.callbacks import Callback, Outcome, Satisfaction, WhenUnsatisfied
from dispatcher.domain.case import Case, CaseError, CaseState, Deadlines, ReturnReason, TransitionError
from dispatcher.domain.hotspots import Hotspot
from dispatcher.domain.timer_plan import timer_changes
from rules.complaint import Complaint, Location, Urgency
from rules.decision import Assignment, Decision

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
WATER = Assignment("ent-water", "repair", "zhang", "water-main", "v1", "供水管线")
STREET = Assignment("street-110105026", "desk", "wang", "property-management", "v1", "属地")
DUE = {"acknowledge": T0 + timedelta(hours=2), "reply": T0 + timedelta(days=1)}


def new_case(ticket: str, assignment: Assignment = WATER, at: datetime = T0) -> Case:
    complaint = Complaint(ticket, at, "phone", "complaint", "路上水管爆了", location=Location("朝阳区"))
    deadlines = Deadlines({s: due + (at - T0) for s, due in DUE.items()}, {s: s for s in DUE})
    case = Case.open(
        complaint, Decision(Urgency.URGENT, "0301", assignment=assignment), at=at, deadlines=deadlines
    )
    case.events.clear()
    case.audit.clear()
    return case


def resolved(case: Case, at: datetime) -> None:
    case.acknowledge("zhang", at)
    case.contact("zhang", at)
    case.resolve("zhang", at, "抢修完毕，已恢复供水")


def test_a_merged_case_follows_its_main_case_its_own_deadlines_standing_down():
    main, other = new_case("BJ1"), new_case("BJ2", STREET, T0 + timedelta(minutes=10))
    deadlines, met = dict(other.deadlines), dict(other.met)

    merging.merge(main, other, "zhao", T0 + timedelta(minutes=20), "同一处爆管")

    assert other.state is CaseState.MERGED and other.merged and other.merged.into == "BJ1"
    [merged] = other.events
    assert isinstance(merged, ev.CaseMerged)
    assert (merged.main_ticket_id, merged.by, merged.auto, merged.state_before) == (
        "BJ1",
        "zhao",
        False,
        "dispatched",
    )
    assert [(a.action, a.from_state, a.state) for a in other.audit] == [("merge", "dispatched", "merged")]
    assert "its deadlines stand down" in other.audit[0].reason
    assert [(a.action, a.reason) for a in main.audit] == [("merge_in", "BJ2 merged in: 同一处爆管")]
    assert main.events == [] and main.state is CaseState.DISPATCHED
    # its timers are cancelled; a timer that still came due would not fire
    assert timer_changes(other, deadlines, met).cancel == ["acknowledge", "reply"]
    assert not other.fire_timer(
        "reply", "warning", 0, other.deadlines["reply"], "x", T0 + timedelta(hours=20)
    )


def test_a_merged_case_takes_no_action_of_its_own_but_an_unmerge():
    main, other = new_case("BJ1"), new_case("BJ2")
    merging.merge(main, other, "zhao", T0, "同一处爆管")
    with pytest.raises(TransitionError, match="BJ2 is merged: cannot acknowledge; allowed now: unmerge"):
        other.acknowledge("zhang", T0)
    with pytest.raises(TransitionError, match="cannot callback"):
        other.record_callback(
            Callback(1, T0, True, True, Satisfaction.SATISFIED), T0, WhenUnsatisfied.REOPEN, lambda: None
        )


def test_only_open_cases_merge_into_an_open_main_case_and_merges_do_not_chain():
    main, other = new_case("BJ1"), new_case("BJ2")
    with pytest.raises(CaseError, match="cannot be merged into itself"):
        merging.merge(main, main, "zhao", T0, "x")
    with pytest.raises(CaseError, match="is the main case of merged cases"):
        merging.merge(main, other, "zhao", T0, "x", has_merged=True)
    with pytest.raises(CaseError, match="merging needs a reason"):
        merging.merge(main, other, "zhao", T0, " ")

    done = new_case("BJ3")
    resolved(done, T0)
    with pytest.raises(TransitionError, match="BJ3 is resolved: cannot merge: only a case open"):
        merging.merge(main, done, "zhao", T0, "x")
    with pytest.raises(TransitionError, match="BJ3 is resolved: cannot take merged cases: a main case must"):
        merging.merge(done, other, "zhao", T0, "x")
    merging.merge(main, other, "zhao", T0, "x")
    with pytest.raises(TransitionError, match="BJ2 is merged: cannot take merged cases"):
        merging.merge(other, new_case("BJ4"), "zhao", T0, "x")
    assert other.merged and other.merged.into == "BJ1"


def test_the_main_cases_resolution_resolves_each_merged_case_at_its_unit_and_each_callback_counts():
    main, other = new_case("BJ1"), new_case("BJ2", STREET)
    merging.merge(main, other, "zhao", T0, "同一处爆管")
    other.events.clear()
    resolved(main, T0 + timedelta(hours=3))

    merging.resolve_with(main, other, "zhang", T0 + timedelta(hours=3))

    assert other.state is CaseState.RESOLVED and other.result == "抢修完毕，已恢复供水"
    assert other.assignment == WATER  # the main case's unit: the callback counts for it
    [event] = other.events
    assert isinstance(event, ev.CaseResolved) and event.note == "resolved with main case BJ1"
    assert other.audit[-1].action == "resolve_with_main"
    assert other.merged and other.merged.into == "BJ1"  # still linked to its main case

    callback = Callback(1, T0 + timedelta(days=2), True, True, Satisfaction.SATISFIED)
    outcome = other.record_callback(callback, T0 + timedelta(days=2), WhenUnsatisfied.REOPEN, lambda: None)
    assert outcome is Outcome.CLOSED and other.state is CaseState.CLOSED
    assert other.callback is not None and other.counts(other.callback)
    with pytest.raises(TransitionError, match="only a case merged into a main case that is not yet"):
        merging.unmerge(other, main, "zhao", T0 + timedelta(days=3), "x")


def test_a_terminated_main_case_ends_its_merged_cases_out_of_the_rates():
    main, other = new_case("BJ1"), new_case("BJ2")
    merging.merge(main, other, "zhao", T0, "同一处爆管")
    main.terminate("zhao", T0 + timedelta(hours=1), "诉求人要求不合理")

    merging.terminate_with(main, other, "zhao", T0 + timedelta(hours=1), "诉求人要求不合理")

    assert (
        other.state is CaseState.CLOSED and other.terminated == "main case BJ1 terminated: 诉求人要求不合理"
    )
    closed = other.events[-1]
    assert isinstance(closed, ev.CaseClosed) and (closed.how, closed.counted) == ("terminated", False)


def test_an_unmerge_restores_the_state_and_moves_the_open_deadlines_by_the_time_merged():
    main, other = new_case("BJ1"), new_case("BJ2", STREET)
    other.acknowledge("wang", T0 + timedelta(minutes=30))
    merging.merge(main, other, "zhao", T0 + timedelta(hours=1), "同一处爆管")
    other.events.clear()
    deadlines, met = dict(other.deadlines), dict(other.met)

    merging.unmerge(other, main, "zhao", T0 + timedelta(hours=4), "不是同一处")

    assert other.state is CaseState.ACKNOWLEDGED and other.merged is None
    assert other.assignment == STREET
    assert other.deadlines["reply"] == DUE["reply"] + timedelta(hours=3)
    assert other.deadlines["acknowledge"] == DUE["acknowledge"]  # met before the merge: it stands
    assert "merged 3 h 00 min" in other.how["reply"]
    [event] = other.events
    assert isinstance(event, ev.CaseUnmerged) and (event.main_ticket_id, event.state) == (
        "BJ1",
        "acknowledged",
    )
    assert timer_changes(other, deadlines, met).replan == ["acknowledge", "reply"]
    assert main.audit[-1].action == "merge_out"
    other.contact("wang", T0 + timedelta(hours=5))  # handled on its own again


def test_a_returned_case_merged_has_its_return_settled_and_an_unmerge_brings_it_back_to_its_unit():
    main, other = new_case("BJ1"), new_case("BJ2", STREET)
    other.acknowledge("wang", T0)
    other.return_case("wang", T0, ReturnReason.DUPLICATE, "与BJ1同一处爆管", timedelta(hours=24), None)

    merging.merge(main, other, "zhao", T0 + timedelta(minutes=5), "退单称重复")

    assert other.pending_return is None and "its return is settled by the merge" in other.audit[-1].reason
    merging.unmerge(other, main, "zhao", T0 + timedelta(minutes=5), "不是同一处")
    assert other.state is CaseState.ACKNOWLEDGED


def test_the_rules_say_why_they_merged_a_burst():
    main = new_case("BJ1")
    why = merging.burst_reason(main, "110105026", "0301", timedelta(minutes=30))
    assert why == "burst: same street 110105026 and category 0301 within 30 min of BJ1 (received 11-26 10:00)"


def hotspot(street: str | None = "110105026", community: str | None = None, category: str = "03") -> Hotspot:
    return Hotspot(
        hotspot_id="HS202611260230-0a1b2c3d4e",
        district="110105",
        street=street,
        community=community,
        category=category,
        window="1h",
        window_start=T0,
        window_end=T0 + timedelta(minutes=30),
        observed=6,
        expected=0.2,
        score=9.1,
        first_ticket_id="BJ1",
        ticket_ids=("BJ1", "BJ2"),
        detected_at=T0 + timedelta(minutes=30),
    )


def test_a_hotspot_of_a_street_or_community_holds_the_cases_of_its_area_and_category():
    street, community = hotspot(), hotspot(community="110105026001", category="0301")
    assert merging.hotspot_holds(street, "110105026", None, "030102")
    assert not merging.hotspot_holds(street, "110105010", None, "0301")  # another street
    assert not merging.hotspot_holds(street, "110105026", None, "0401")  # another matter
    assert not merging.hotspot_holds(street, "110105026", None, None)
    assert merging.hotspot_holds(community, "110105026", "110105026001", "0301")
    assert not merging.hotspot_holds(community, "110105026", "110105026002", "0301")  # the next community
    assert not merging.hotspot_holds(hotspot(street=None), "110105026", None, "0301")  # a district's


def test_a_hotspot_merges_only_at_the_main_cases_unit_and_into_the_case_its_first_follows():
    main, same, elsewhere = new_case("BJ1"), new_case("BJ2"), new_case("BJ3", STREET)
    merging.check_hotspot_merge(main, same)
    with pytest.raises(CaseError, match="BJ3 is at street-110105026, not at the main case's unit ent-water"):
        merging.check_hotspot_merge(main, elsewhere)
    with pytest.raises(CaseError, match="the main case of merged cases"):
        merging.check_hotspot_merge(main, same, has_merged=True)
    assert merging.hotspot_main(hotspot(), main) == "BJ1"
    merging.merge(new_case("BJ0"), main, "zhao", T0, "同一处爆管")
    assert merging.hotspot_main(hotspot(), main) == "BJ0"  # its first case was merged already
    assert merging.hotspot_main(hotspot(), None) is None
    assert merging.hotspot_reason(hotspot(), same) == (
        "hotspot HS202611260230-0a1b2c3d4e: street 110105026 and category 03, 6 requests in 1h "
        "(main case BJ2)"
    )
