"""回访: the center's call back to the requester after the unit reported, and what it decides.

A satisfied (or basically satisfied) requester whose problem is resolved closes the case. Otherwise the
case is handled again (重办) by the same unit with a new reply deadline, or held for a supervisor's review,
as configured per category; a second unsatisfied callback is escalated to the center's supervisors. A
callback the center marks invalid closes the case without counting in the unit's rates.

申诉: the unit a callback counts for may appeal against it, once while an appeal is pending or after one was
accepted; a supervisor decides a pending appeal, and an accepted one takes the callback out of the rates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from dispatcher.domain.scores import ScoreSettings
from dispatcher.domain.states import NotAllowedError

REVIEW_QUEUE = "callback-review"
SUPERVISORS = "center:supervisor"


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"


class WhenUnsatisfied(StrEnum):
    """What an unresolved or unsatisfied first callback does to a case."""

    REOPEN = "reopen"  # 重办 by the same unit, with a new reply deadline
    REVIEW = "review"  # held at the center for a supervisor to decide


class Outcome(StrEnum):
    CLOSED = "closed"
    REOPENED = "reopened"
    HELD = "held"  # waiting in the review queue
    ESCALATED = "escalated"  # a second unsatisfied callback: held, and the supervisors are told
    CORRECTED = "corrected"  # a later callback of the same round replaced the one before
    RECORDED = "recorded"  # on a consultation closed at intake (直接办结): kept; the case stays closed


@dataclass(frozen=True)
class Callback:
    """One callback, of the case's `round` (1, then 2 after a first reopening...)."""

    round: int
    recorded_at: datetime
    contacted: bool
    resolved: bool
    satisfaction: Satisfaction
    valid: bool = True
    comment: str | None = None

    @property
    def closes(self) -> bool:
        """Closes the case: invalid (not counted), or resolved to the requester's (basic) satisfaction."""
        return not self.valid or (self.resolved and self.satisfaction is not Satisfaction.UNSATISFIED)

    def summary(self) -> str:
        if not self.valid:
            return "invalid callback (not counted)"
        contacted = "contacted" if self.contacted else "not contacted"
        resolved = "resolved" if self.resolved else "not resolved"
        comment = f": {self.comment[:400]}" if self.comment else ""
        return f"{contacted}, {resolved}, {self.satisfaction}{comment}"


@dataclass(frozen=True)
class Assessment:
    """The assessment settings: what an unsatisfied callback does per category, and the rates' weights."""

    settings: ScoreSettings = field(default_factory=ScoreSettings)
    default: WhenUnsatisfied = WhenUnsatisfied.REOPEN
    categories: dict[str, WhenUnsatisfied] = field(default_factory=dict)

    def when_unsatisfied(self, category: str | None) -> WhenUnsatisfied:
        """The setting of the longest category prefix that matches, else the default."""
        matching = [prefix for prefix in self.categories if category and category.startswith(prefix)]
        return self.categories[max(matching, key=len)] if matching else self.default


class AppealStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


# an appeal in one of these stands: no other may be filed against the same callback
STANDING = frozenset({AppealStatus.PENDING, AppealStatus.ACCEPTED})


@dataclass(frozen=True)
class AppealedCallback:
    """A callback as an appeal against it needs it: its case, the unit it counts for, its appeals so far."""

    id: int
    ticket_id: str
    unit: str
    appeals: tuple[AppealStatus, ...] = ()

    @property
    def has_standing_appeal(self) -> bool:
        return any(status in STANDING for status in self.appeals)


def check_appellant(callback: AppealedCallback, unit: str) -> None:
    """Only the unit a callback counts for may appeal against it: `NotAllowedError` for any other."""
    if callback.unit != unit:
        raise NotAllowedError(f"callback {callback.id} counts for {callback.unit}, not {unit}")


@dataclass(frozen=True)
class Appeal:
    """An appeal as deciding it needs it: its status, its callback, and the unit and month it counts in."""

    id: int
    status: AppealStatus
    callback_id: int
    unit: str
    month: str
