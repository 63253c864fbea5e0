"""The escalation ladder: for a stage's deadline, the timers that will fire, in order.

A warning at a fraction of the stage (default 75%) to the handler; at the deadline the breach, which is the
first escalation step; then further steps after a delay each. The plan follows from the deadline alone: the
sweeper fires exactly these timers (each identified by ticket, stage, kind, level and the deadline it
belongs to), stored one step at a time (`first`, then the next when the one before it is taken: see
`dispatcher.domain.timer_plan`), and a stage done, a redispatch or an extension cancels what is pending.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class Step(StrEnum):
    """Who hears of a breach, level by level (no official ladder exists: this one is configurable)."""

    POST_SUPERVISOR = "post_supervisor"  # level 1: the post that supervises the handling post
    UNIT_HEAD = "unit_head"  # level 2: the head of the unit
    SUPERVISION_ORDER = "supervision_order"  # level 3: a 督办 order from the center


@dataclass(frozen=True)
class Ladder:
    warn_at: float = 0.75
    steps: tuple[Step, ...] = (Step.POST_SUPERVISOR, Step.UNIT_HEAD, Step.SUPERVISION_ORDER)
    # the wait between steps after the breach, per urgency tier
    delays: Mapping[str, timedelta] = field(
        default_factory=lambda: {
            "emergency": timedelta(hours=1),
            "urgent": timedelta(hours=2),
            "general": timedelta(days=1),
            "complex": timedelta(days=1),
        }
    )

    def __post_init__(self) -> None:
        if not 0 < self.warn_at < 1:
            raise ValueError(f"warn_at {self.warn_at}: a fraction between 0 and 1")


@dataclass(frozen=True)
class Timer:
    stage: str
    kind: str  # "warning" or "escalation"
    level: int  # 0 for the warning; 1 is the breach
    due_at: datetime
    deadline: datetime  # the deadline it belongs to: a timer of an older deadline is stale
    step: Step | None = None


DEFAULT = Ladder()


def first(stage: str, start: datetime, deadline: datetime, ladder: Ladder | None = None) -> Timer:
    """The first timer of one stage's ladder: the warning, at `warn_at` of the time between its start
    and its deadline (the first of `plan`)."""
    warn_at = (ladder or DEFAULT).warn_at
    return Timer(stage, "warning", 0, start + (deadline - start) * warn_at, deadline)


NextWorkingMoment = Callable[[datetime, timedelta], datetime]


def plan(
    stage: str,
    start: datetime,
    deadline: datetime,
    urgency: str,
    ladder: Ladder | None = None,
    later: NextWorkingMoment | None = None,
) -> list[Timer]:
    """The timers of one stage. `later(moment, delay)` places each further step (default: clock time;
    pass a working-day aware function to count "1 day" on the business calendar)."""
    ladder = ladder or DEFAULT
    later = later or (lambda moment, delay: moment + delay)
    timers = [first(stage, start, deadline, ladder)]
    moment = deadline
    for level, step in enumerate(ladder.steps, 1):
        if level > 1:
            moment = later(moment, ladder.delays.get(urgency, timedelta(days=1)))
        timers.append(Timer(stage, "escalation", level, moment, deadline, step))
    return timers
