"""The ports the handlers use: cases, the inbox of applied events, the outbox of events to publish.

An implementation must make everything done between `__enter__` and `commit()` one atomic transaction:
after a crash either all of it is stored (case, audit, inbox entry, outbox rows) or none of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol

from dispatcher.domain.callbacks import Appeal, AppealedCallback, AppealStatus, Callback
from dispatcher.domain.case import Case, CaseError
from dispatcher.domain.commands import DeadLetter, InboundId
from dispatcher.domain.governance import GovernanceTask
from dispatcher.domain.hotspots import Hotspot
from dispatcher.domain.supervision import SupervisionOrder
from dispatcher.domain.timer_plan import NextStep
from rules.complaint import Complaint
from rules.decision import Decision


class ConcurrencyError(CaseError):
    """Another action changed the case first: reload it and try again (HTTP 409)."""


class CaseRepository(Protocol):
    def add(self, case: Case) -> None:
        """Store a new case, its audit entries and its events (to the outbox) at commit."""

    def exists(self, ticket_id: str) -> bool: ...

    def find_repeat(self, complaint: Complaint, decision: Decision, since: datetime) -> Case | None:
        """The open case `complaint` repeats, if any (see docs/lifecycle.md); changes to it are saved."""

    def get(self, ticket_id: str) -> Case | None:
        """The stored case; `commit()` writes its changes back, or raises `ConcurrencyError` if another
        action changed it meanwhile."""

    def load(self, ticket_ids: Iterable[str]) -> None:
        """Read these cases at once, so that the `get` of each that follows does not query (a hint)."""

    def merged_with(self, ticket_id: str) -> list[Case]:
        """The cases merged into this main case and still following it (state `merged`); changes to them
        are saved."""

    def find_burst(self, decision: Decision, since: datetime) -> Case | None:
        """The first open case of the decision's street and category received since `since` (the main case
        of a burst of requests about one incident), if any; changes to it are saved."""

    def in_hotspot(self, hotspot: Hotspot, limit: int) -> list[Case]:
        """The open cases in the hotspot's area and category dispatched since its window began (and its
        own tickets still open), oldest first, at most `limit`; changes to them are saved."""

    def open_hotspots_at(self, street: str | None) -> list[Hotspot]:
        """The open hotspots of a street and of its communities, the earliest detected first."""


class Inbox(Protocol):
    def seen(self, inbound: InboundId) -> bool:
        """True if this inbound event was already applied."""

    def record(self, inbound: InboundId) -> None: ...


class Outbox(Protocol):
    def dead_letter(self, command: DeadLetter) -> None:
        """Queue the original record, with the reason, for the dead-letter topic."""

    def scores_due(self, unit: str, month: str, at: datetime, final: bool = False) -> None:
        """Publish `jiesu.scores.updated` for the unit's month with the figures the transaction leaves:
        once per unit and month, however many of its commands moved them."""


class Callbacks(Protocol):
    def record(
        self, case: Case, callback: Callback, unit_class: str, at: datetime, replaces: bool, counted: bool
    ) -> list[tuple[str, str]]:
        """Store the callback as the latest of its case and round, in its unit's tally if it is `counted`
        (if it `replaces` an earlier one of the round, that one no longer counts); returns the (unit,
        month) whose scores it moved."""

    def terminated(self, ticket_id: str) -> None:
        """The case was terminated: none of its callbacks counts any more."""

    def recount(self, month: str) -> None:
        """Rebuild the month's tallies from the callbacks themselves."""

    def units_in(self, month: str) -> list[str]: ...

    def mark_final(self, month: str, at: datetime) -> bool:
        """Record that the month's final scores are out; False if they already were."""

    def is_final(self, month: str) -> bool: ...

    def months_of(self, ticket_id: str, round: int | None = None) -> list[tuple[str, str]]:
        """(unit, month) of every callback of the case (of one round)."""

    def appealed_callback(self, callback_id: int) -> AppealedCallback | None:
        """The callback with the appeals against it so far; None if there is none."""

    def add_appeal(self, callback: AppealedCallback, by: str, reason: str, at: datetime) -> int:
        """Store a pending appeal against the callback; returns its id."""

    def appeal(self, appeal_id: int) -> Appeal | None: ...

    def decide_appeal(self, appeal_id: int, status: AppealStatus, by: str, reason: str, at: datetime) -> None:
        """Store the decision on the appeal."""

    def excluded(self, callback_id: int) -> None:
        """An appeal against the callback was accepted: it counts no more."""


class TimerClaim(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def ticket_id(self) -> str: ...
    @property
    def stage(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def level(self) -> int: ...
    @property
    def deadline(self) -> datetime: ...
    @property
    def target(self) -> str: ...
    @property
    def unit(self) -> str:
        """A called unit's timer: that unit; "" for the lead's stages."""


class Timers(Protocol):
    def claim(self, timer_ids: Sequence[int]) -> Sequence[TimerClaim]:
        """Those of the timers still pending, locked for this transaction (one that fired, was cancelled
        or is locked by another sweeper is left out)."""

    def mark(self, outcomes: Sequence[tuple[int, str]], at: datetime) -> None:
        """Record each timer's outcome: `fired` or `cancelled`."""

    def plan_next(self, steps: Sequence[NextStep]) -> None:
        """Store each ladder's next step, pending (one already stored, by a replan, is left as it is)."""


class SupervisionOrders(Protocol):
    def add(self, order: SupervisionOrder) -> None:
        """Store a new order and its timers at commit."""

    def get(self, order_id: str) -> SupervisionOrder | None:
        """The stored order; `commit()` writes its answer back (and cancels its timers not yet fired)."""


class GovernanceTasks(Protocol):
    def hotspot(self, hotspot_id: str) -> Hotspot | None:
        """The stored hotspot (open or closed)."""

    def of_hotspot(self, hotspot_id: str) -> str | None:
        """The id of the hotspot's governance task, if it has one."""

    def add(self, task: GovernanceTask) -> None:
        """Store a new task, its links to its cases and its timers at commit."""

    def get(self, task_id: str) -> GovernanceTask | None:
        """The stored task; `commit()` writes its report back (and cancels its timers not yet fired), and
        publishes and audits its new facts."""


class UnitOfWork(Protocol):
    @property
    def cases(self) -> CaseRepository: ...

    @property
    def inbox(self) -> Inbox: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def timers(self) -> Timers: ...

    @property
    def callbacks(self) -> Callbacks: ...

    @property
    def orders(self) -> SupervisionOrders: ...

    @property
    def tasks(self) -> GovernanceTasks: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Roll back whatever was not committed."""

    def commit(self) -> None: ...
