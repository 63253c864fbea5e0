"""The SLA timers a case's deadlines call for, whom each of them tells, and when they are planned again.

Each stage's deadline has the timers of the escalation ladder (`sla.ladder`): a warning to the handling
post, then the breach and the further steps, each to its target: the post's supervisor and the unit's head
at the unit, the supervision order (督办) at the center. Timers follow the deadlines: a stage's timers are
planned afresh when its deadline moves, and every stage's after arbitration rejected a return (the case
stays at its unit, and nothing that fell due while it waited is lost) or an un-merge; a stage done, or every
stage of a case merged into a main case (并案), cancels its timers.
A pause (挂起) cancels the timers of every open stage and plans the one that resumes it on its date; the
resume plans every open stage's timers afresh on the moved deadlines and cancels that one.

A unit called in on the case (吹哨报到) has timers of its own, on its stages `co_acknowledge` and
`co_report` (`co_timers`): planned when it is called, cancelled when it acknowledges, reports or is waived.

A ladder is planned lazily: a new case, or a unit called in, gets the first timer of each ladder only (its
warning: `first_timers`, `first_co_timers`), and each timer the sweeper takes (fired, or stale) plans the
step after it (`next_timer`) while that step could still fire: its stage still open on the same deadline,
its timers not stood down by a pause or a merge. A stage planned afresh (`planned_timers`, on a replan)
gets its whole ladder, as some of its steps may already have fired on that same deadline; the step a
timer plans after it is then already there, and not planned twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from dispatcher.domain.case import Case
from dispatcher.domain.events import CaseMerged, CasePaused, CaseResumed, CaseUnmerged, ReturnRejected
from dispatcher.domain.joint import CoHandler, new_stages, settled_stages
from dispatcher.domain.pause import RESUME_KIND, RESUME_STAGE
from dispatcher.domain.states import CaseState
from sla.ladder import Step, first, plan

CENTER = "center"


@dataclass(frozen=True)
class PlannedTimer:
    stage: str
    kind: str  # "warning" or "escalation"
    level: int  # 0 for the warning; 1 is the breach
    due_at: datetime
    deadline: datetime  # the deadline it belongs to
    target: str  # whom it tells: unit:post, unit:post_supervisor, unit:unit_head, center:supervision_order


@dataclass(frozen=True)
class TimerChanges:
    """What a case's changes do to its timers."""

    replan: list[str]  # stages whose timers not yet fired are replaced by a fresh plan
    cancel: list[str]  # stages done: their pending timers are cancelled


def planned_timers(case: Case, stages: Iterable[str]) -> list[PlannedTimer]:
    """The timers of these stages of the case, from its deadlines (none for a stage already met)."""
    resume = case.pause.until if case.pause is not None and case.pause.active else None
    resuming = [
        PlannedTimer(RESUME_STAGE, RESUME_KIND, 0, resume, resume, target_of(case, None))
        for stage in stages
        if stage == RESUME_STAGE and resume is not None
    ]
    return resuming + [
        PlannedTimer(
            timer.stage, timer.kind, timer.level, timer.due_at, timer.deadline, target_of(case, timer.step)
        )
        for stage in stages
        if stage in case.deadlines and stage not in case.met
        for timer in plan(stage, case.dispatched_at, case.deadlines[stage], case.urgency.value)
    ]


def first_timers(case: Case, stages: Iterable[str]) -> list[PlannedTimer]:
    """The first timer of each of these stages' ladders (the warning; the resume date's timer): the
    steps after it are planned one at a time as the sweeper takes them (`next_timer`)."""
    stages = list(stages)
    post = target_of(case, None)
    resuming = planned_timers(case, [RESUME_STAGE]) if RESUME_STAGE in stages else []
    return resuming + [
        PlannedTimer(stage, warning.kind, 0, warning.due_at, warning.deadline, post)
        for stage in stages
        if stage in case.deadlines and stage not in case.met
        for warning in [first(stage, case.dispatched_at, case.deadlines[stage])]
    ]


def next_timer(
    case: Case, stage: str, level: int, deadline: datetime, target: str, unit: str = ""
) -> PlannedTimer | None:
    """The step of the ladder after a timer the sweeper took (at `level` of `stage` on `deadline`, telling
    `target`; `unit` a called unit's), if it can still fire: the stage still open on that same deadline,
    and, for the lead's stages, the case neither paused nor merged (which stand its timers down). None
    after the last step. The step tells the same unit as the one before it, as the whole ladder planned
    at once would have."""
    if unit:
        co = case.co_handlers.get(unit)
        if co is None or co.called_at is None or co.deadline(stage) != deadline or co.done(stage):
            return None
        start = co.called_at
    else:
        if (
            case.deadlines.get(stage) != deadline
            or stage in case.met
            or case.state is CaseState.MERGED
            or (case.pause is not None and case.pause.active)
        ):
            return None
        start = case.dispatched_at
    steps = plan(stage, start, deadline, case.urgency.value)
    if level + 1 >= len(steps):
        return None
    step = steps[level + 1]
    at = CENTER if step.step is Step.SUPERVISION_ORDER else target.split(":", 1)[0]
    return PlannedTimer(stage, step.kind, step.level, step.due_at, deadline, f"{at}:{step.step}")


@dataclass(frozen=True)
class NextStep:
    """A ladder's next step for a case, to be stored pending: `unit` a called unit's, "" the lead's."""

    ticket_id: str
    unit: str
    timer: PlannedTimer


def target_of(case: Case, step: Step | None) -> str:
    """Whom a timer of the case tells: the handling post itself (the warning), or the step's target."""
    unit = case.assignment.unit if case.assignment else CENTER
    if step is None:
        return f"{unit}:{case.assignment.post if case.assignment else 'desk'}"
    return f"{CENTER if step is Step.SUPERVISION_ORDER else unit}:{step.value}"


def timer_changes(case: Case, deadlines: Mapping[str, datetime], met: Mapping[str, datetime]) -> TimerChanges:
    """What the case's changes since it was read (when its deadlines were `deadlines` and its stages done
    `met`) do to its timers."""
    if any(isinstance(event, CaseMerged) for event in case.events):  # 并案: its deadlines stand down
        return TimerChanges([], [stage for stage in case.deadlines if stage not in case.met])
    back = any(isinstance(event, ReturnRejected | CaseUnmerged) for event in case.events)
    resumed = any(isinstance(event, CaseResumed) for event in case.events)
    paused = case.pause is not None and case.pause.active
    moved = [s for s, due in case.deadlines.items() if back or resumed or deadlines.get(s) != due]
    done = [stage for stage in case.met if stage not in met]
    if any(isinstance(event, CasePaused) for event in case.events) and paused:
        # the clock stands still: no stage's timer fires; the resume date's timer is planned
        open_stages = [stage for stage in case.deadlines if stage not in case.met]
        return TimerChanges([RESUME_STAGE], sorted({*done, *open_stages}))
    if resumed:
        done.append(RESUME_STAGE)  # resumed by hand: the resume date's timer is cancelled
    return TimerChanges([] if paused else moved, done)


@dataclass(frozen=True)
class CoTimer:
    """A called unit's timer (吹哨报到): its stage (co_acknowledge, co_report) on that unit's deadline."""

    unit: str
    timer: PlannedTimer


def co_timers(case: Case, stages: Iterable[tuple[str, str]]) -> list[CoTimer]:
    """The timers of these (unit, stage) of the case's called units: a warning to the called unit's post,
    then the breach to its post's supervisor, its head, and the center's supervision order."""
    planned = []
    for unit, stage in stages:
        co = case.co_handlers.get(unit)
        deadline = co.deadline(stage) if co else None
        if co is None or deadline is None or co.done(stage) or co.called_at is None:
            continue
        for timer in plan(stage, co.called_at, deadline, case.urgency.value):
            if timer.step is None:
                target = f"{unit}:{co.post or 'desk'}"
            elif timer.step is Step.SUPERVISION_ORDER:
                target = f"{CENTER}:{timer.step.value}"
            else:
                target = f"{unit}:{timer.step.value}"
            planned.append(
                CoTimer(unit, PlannedTimer(stage, timer.kind, timer.level, timer.due_at, deadline, target))
            )
    return planned


def first_co_timers(case: Case, stages: Iterable[tuple[str, str]]) -> list[CoTimer]:
    """The first timer (the warning) of each of these called units' stages: the steps after it are
    planned one at a time as the sweeper takes them (`next_timer`)."""
    return [co for co in co_timers(case, stages) if co.timer.level == 0]


@dataclass(frozen=True)
class CoTimerChanges:
    """What the case's changes do to its called units' timers."""

    plan: list[tuple[str, str]]  # (unit, stage) whose deadline was set: plan its timers
    cancel: list[tuple[str, str]]  # (unit, stage) done, waived or dropped: its pending timers are cancelled


def co_timer_changes(case: Case, before: Mapping[str, CoHandler]) -> CoTimerChanges:
    """What the case's changes since it was read (when its co-handlers were `before`) do to the called
    units' timers."""
    return CoTimerChanges(new_stages(before, case.co_handlers), settled_stages(before, case.co_handlers))
