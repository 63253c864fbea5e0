"""并案 (merge): many requests about one incident (a burst main, a blackout) handled as one matter.

A supervisor, or the rules for a burst at one place (`burst_reason`), merges open cases into an open main
case. A merged case is `merged`: out of every inbox and queue, its own deadlines stand down (their timers
are cancelled) and the main case's govern. It follows the main case: resolved with it (with its result and
its unit, so that its requester is called back and the callback counts for that unit), terminated with it.
Until then a merge can be undone: the case returns to the state it was merged from, its open deadlines moved
by the time it spent merged. The main case's audit trail names each case merged in and out. See
docs/lifecycle.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dispatcher.domain import events as ev
from dispatcher.domain.callbacks import REVIEW_QUEUE
from dispatcher.domain.case import Case, local
from dispatcher.domain.hotspots import Hotspot
from dispatcher.domain.states import OPEN_STATES, AuditEntry, CaseError, CaseState, Merge, TransitionError

OPEN = "open (queued, dispatched, acknowledged, contacted or returned) and not held for callback review"


def check_mergeable(main: Case, case: Case, has_merged: bool = False) -> None:
    """Raise unless `case` may be merged into `main`: both open, distinct, `case` not paused (挂起) and not
    itself the main case of merged cases (`has_merged`): merges do not chain."""
    if case.ticket_id == main.ticket_id:
        raise CaseError(f"case {case.ticket_id} cannot be merged into itself")
    if not _open(main):
        raise TransitionError(
            main.ticket_id,
            "take merged cases",
            main.state,
            main.allowed_actions(),
            f"a main case must be {OPEN}",
        )
    if not _open(case):
        raise TransitionError(
            case.ticket_id, "merge", case.state, case.allowed_actions(), f"only a case {OPEN} can be merged"
        )
    if case.pause is not None and case.pause.active:
        raise CaseError(f"case {case.ticket_id} is paused (挂起): resume it before merging it")
    if has_merged:
        raise CaseError(
            f"case {case.ticket_id} is the main case of merged cases: un-merge them first, or merge "
            f"{main.ticket_id} into it instead"
        )


def merge(
    main: Case,
    case: Case,
    by: str,
    at: datetime,
    reason: str,
    *,
    auto: bool = False,
    has_merged: bool = False,
) -> None:
    """Merge `case` into `main`. A pending return (退单) is settled by the merge (an un-merge brings the
    case back to its unit, in the state it was returned from) and a pending extension request lapses."""
    check_mergeable(main, case, has_merged)
    if not reason.strip():
        raise CaseError(f"case {case.ticket_id}: merging needs a reason")
    returned = case.pending_return
    back_to = returned.back_to if case.state is CaseState.RETURNED and returned else case.state
    notes = [reason]
    notes += ["its return is settled by the merge"] if returned else []
    notes += ["its extension request lapses"] if case.pending_extension else []
    notes += ["its deadlines stand down"] if any(s not in case.met for s in case.deadlines) else []
    case.merged = Merge(main.ticket_id, by, at, back_to, case.queue, auto)
    case.queue, case.pending_return, case.pending_extension = None, None, None
    event = ev.CaseMerged(case.ticket_id, at, main.ticket_id, by, reason, auto, case.state.value)
    case._move(CaseState.MERGED, event, by, "merge", f"into {main.ticket_id}: {'; '.join(notes)}")
    _note(main, at, by, "merge_in", f"{case.ticket_id} merged in: {reason}")


def unmerge(case: Case, main: Case | None, by: str, at: datetime, reason: str) -> None:
    """Undo the merge of `case` (still `merged`: its main case not yet resolved): it is its own case again,
    in the state and queue it was merged from, at its unit, its open deadlines moved by the time it spent
    merged (its timers are planned again)."""
    merged = case.merged
    if case.state is not CaseState.MERGED or merged is None:
        why = "only a case merged into a main case that is not yet resolved can be un-merged"
        raise TransitionError(case.ticket_id, "unmerge", case.state, case.allowed_actions(), why)
    if not reason.strip():
        raise CaseError(f"case {case.ticket_id}: un-merging needs a reason")
    waited, moved = at - merged.at, ""
    if waited >= timedelta(minutes=1):
        open_stages = [stage for stage in case.deadlines if stage not in case.met]
        for stage in open_stages:
            case.deadlines[stage] += waited
            due = local(case.deadlines[stage])
            note = f"merged {_span(waited)} → due {due:%Y-%m-%d %H:%M %z}"
            case.how[stage] = f"{case.how.get(stage, stage)}; {note}"
        moved = f"; deadlines moved by {_span(waited)} merged" if open_stages else ""
    case.merged, case.queue = None, merged.queue
    event = ev.CaseUnmerged(case.ticket_id, at, merged.into, by, reason, merged.back_to.value)
    case._move(merged.back_to, event, by, "unmerge", f"out of {merged.into}: {reason}{moved}")
    if main is not None:
        _note(main, at, by, "merge_out", f"{case.ticket_id} un-merged: {reason}")


def resolve_with(main: Case, case: Case, by: str, at: datetime) -> None:
    """The main case was resolved: the merged `case` is resolved with its result, at its unit (the
    callback of this case's requester counts for that unit)."""
    if case.state is not CaseState.MERGED or main.result is None:
        return
    case.assignment, case.result, case.co_handlers = main.assignment, main.result, {}
    note = f"resolved with main case {main.ticket_id}"
    event = ev.CaseResolved(case.ticket_id, at, by, note, main.result)
    case._move(CaseState.RESOLVED, event, by, "resolve_with_main", f"{note}: {main.result}")


def terminate_with(main: Case, case: Case, by: str, at: datetime, reason: str) -> None:
    """The main case was terminated (终结): the merged `case` ends with it, out of every unit's rates."""
    if case.state is not CaseState.MERGED:
        return
    why = f"main case {main.ticket_id} terminated: {reason}"
    case.terminated = why
    event = ev.CaseClosed(case.ticket_id, at, "terminated", by, why, None, False, case.round)
    case._move(CaseState.CLOSED, event, by, "terminate_with_main", why)


def burst_reason(main: Case, street: str | None, category: str | None, window: timedelta) -> str:
    """Why the rules merged a new request into `main`: what the audit trail says."""
    minutes = int(window.total_seconds() // 60)
    return (
        f"burst: same street {street} and category {category} within {minutes} min of {main.ticket_id} "
        f"(received {local(main.complaint.received_at):%m-%d %H:%M})"
    )


def _open(case: Case) -> bool:
    return case.state in OPEN_STATES and case.queue != REVIEW_QUEUE


def _note(main: Case, at: datetime, by: str, action: str, reason: str) -> None:
    main.audit.append(AuditEntry(main.ticket_id, at, by, action, reason, main.state, main.state))


def _span(duration: timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def hotspot_holds(hotspot: Hotspot, street: str | None, community: str | None, category: str | None) -> bool:
    """Whether a case of this street, community and category lies in the hotspot's area and category:
    only a hotspot of a street or a community merges (a district's is too wide to be one incident)."""
    if hotspot.street is None or street != hotspot.street or not category:
        return False
    if hotspot.community is not None and community != hotspot.community:
        return False
    return category.startswith(hotspot.category)


def hotspot_main(hotspot: Hotspot, first: Case | None) -> str | None:
    """The ticket of the hotspot's main case: its first case, or the case that one was merged into."""
    if first is None:
        return None
    return first.merged.into if first.state is CaseState.MERGED and first.merged else first.ticket_id


def check_hotspot_merge(main: Case, case: Case, has_merged: bool = False) -> None:
    """Raise unless the rules may merge `case` into the hotspot's main case: mergeable as by a supervisor,
    and at the main case's unit (a case another unit handles stays with it)."""
    check_mergeable(main, case, has_merged)
    unit, main_unit = (c.assignment.unit if c.assignment else None for c in (case, main))
    if unit is None or unit != main_unit:
        raise CaseError(
            f"case {case.ticket_id} is at {unit or 'no unit'}, not at the main case's unit {main_unit}"
        )


def hotspot_reason(hotspot: Hotspot, main: Case) -> str:
    """Why the rules merged a case into the hotspot's main case: what the audit trail says."""
    area = f"community {hotspot.community}" if hotspot.community else f"street {hotspot.street}"
    return (
        f"hotspot {hotspot.hotspot_id}: {area} and category {hotspot.category}, "
        f"{hotspot.observed} requests in {hotspot.window} (main case {main.ticket_id})"
    )
