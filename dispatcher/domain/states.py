"""The vocabulary of the case model: its states, the actions each allows, its errors and records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from rules.decision import Assignment

SYSTEM = "jiesu"


class CaseState(StrEnum):
    QUEUED = "queued"  # at the center: manual dispatch or triage
    DISPATCHED = "dispatched"  # 派单: at a unit, not yet signed for
    ACKNOWLEDGED = "acknowledged"  # 签收
    CONTACTED = "contacted"  # the requester has been contacted
    RETURNED = "returned"  # 退单: awaiting the center's arbitration
    RESOLVED = "resolved"  # 办结: the result is reported, awaiting the callback
    CLOSED = "closed"
    LINKED = "linked"  # a repeat request, linked to an open case instead of being dispatched again
    MERGED = "merged"  # 并案: handled within its main case, which it follows (see dispatcher.domain.merging)


# Open: not yet resolved, closed or linked (a repeat request repeats an open case).
OPEN_STATES = frozenset(
    {CaseState.QUEUED, CaseState.DISPATCHED, CaseState.ACKNOWLEDGED, CaseState.CONTACTED, CaseState.RETURNED}
)
# Open and at a unit (a return awaiting arbitration included): what a worker's inbox holds, and the cases
# whose escalations still stand.
AT_A_UNIT = OPEN_STATES - {CaseState.QUEUED}
# Resolved or closed, or merged into a main case (its own deadlines stand down): its reply deadline runs no
# more, so it is never overdue.
DONE = frozenset({CaseState.RESOLVED, CaseState.CLOSED, CaseState.MERGED})


def values_of(states: Iterable[CaseState]) -> tuple[str, ...]:
    """The states' values in the order `CaseState` declares them (an `IN` list that reads the same each
    time)."""
    wanted = frozenset(states)
    return tuple(state.value for state in CaseState if state in wanted)


class ReturnReason(StrEnum):
    NOT_OUR_DUTY = "not_our_duty"
    WRONG_AREA = "wrong_area"
    DUPLICATE = "duplicate"
    OTHER = "other"


class CaseError(Exception):
    """Base of every refusal by the case model."""


class NotAllowedError(CaseError):
    """The caller may not do this, whatever the case's state (HTTP 403)."""


class TransitionError(CaseError):
    """The action is not allowed in the case's current state."""

    def __init__(
        self, ticket_id: str, action: str, state: CaseState, allowed: list[str], why: str = ""
    ) -> None:
        self.state, self.action, self.allowed = state, action, allowed
        detail = f": {why}" if why else ""
        super().__init__(
            f"case {ticket_id} is {state}: cannot {action}{detail}; "
            f"allowed now: {', '.join(allowed) or 'nothing'}"
        )


ALLOWED: dict[str, frozenset[CaseState]] = {
    "dispatch": frozenset({CaseState.QUEUED}),
    "acknowledge": frozenset({CaseState.DISPATCHED}),
    "contact": frozenset({CaseState.ACKNOWLEDGED, CaseState.CONTACTED}),
    "return": frozenset({CaseState.DISPATCHED, CaseState.ACKNOWLEDGED}),
    "arbitrate": frozenset({CaseState.RETURNED}),
    "extension": frozenset({CaseState.ACKNOWLEDGED, CaseState.CONTACTED}),
    "extension_decision": frozenset({CaseState.ACKNOWLEDGED, CaseState.CONTACTED}),
    "resolve": frozenset({CaseState.CONTACTED}),
    "close": frozenset({CaseState.QUEUED}),  # after a callback review (see callbacks.REVIEW_QUEUE)
    "unmerge": frozenset({CaseState.MERGED}),  # 并案 undone (see dispatcher.domain.merging)
    # 挂起: asked, decided and resumed at a unit that has signed for the case (see domain.pause)
    "pause": frozenset({CaseState.ACKNOWLEDGED, CaseState.CONTACTED}),
    "pause_decision": frozenset({CaseState.ACKNOWLEDGED, CaseState.CONTACTED}),
    "resume": frozenset({CaseState.ACKNOWLEDGED, CaseState.CONTACTED}),
}
ENDED = frozenset({CaseState.CLOSED, CaseState.LINKED})  # nothing more happens to the case itself
# 吹哨报到: the lead calls units in once it has signed for the case (not among `ALLOWED`: an addition the
# lead may make at any point of handling, not a step of the lifecycle)
WHISTLE_STATES = frozenset({CaseState.ACKNOWLEDGED, CaseState.CONTACTED})


@dataclass(frozen=True)
class AuditEntry:
    """One line of the append-only audit trail: who did what, when, from which state to which, and why."""

    ticket_id: str
    at: datetime
    actor: str
    action: str
    reason: str
    from_state: CaseState | None
    state: CaseState


@dataclass(frozen=True)
class Deadlines:
    """A case's deadlines per stage, and in words how each was computed (the calendar facts used)."""

    due: Mapping[str, datetime]
    how: Mapping[str, str]

    @property
    def basis(self) -> str:
        return "; ".join(self.how.values())


@dataclass(frozen=True)
class PendingReturn:
    by: str
    at: datetime
    code: ReturnReason
    reason: str
    back_to: CaseState
    proposal: Assignment | None


@dataclass(frozen=True)
class PendingExtension:
    by: str
    at: datetime
    until: datetime
    reason: str


@dataclass(frozen=True)
class Merge:
    """并案: the case is handled within the main case `into`; `back_to` and `queue` are where an un-merge
    returns it (kept after the main case's resolution, as the link to it)."""

    into: str
    by: str
    at: datetime
    back_to: CaseState
    queue: str | None
    auto: bool = False
