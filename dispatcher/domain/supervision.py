"""Supervision orders (督办单): a supervisor orders a reply on a case from its unit, or from the unit's head.

An order names what is asked and a deadline (computed on the business calendar by the service from a
duration the supervisor chose, or the SLA file's default). It has its own two timers, fired by the SLA
sweeper like a case's ladder: a warning to the addressee before the deadline and, when the deadline passes
unanswered, an escalation (to the unit's head for an order to the unit, to the center's supervisors for an
order to the head). Only the addressed unit answers (for an order to the head, its head's post or a
unit-wide account); the answer closes the order and cancels what has not fired.

The order's facts are recorded on its case (events and audit entries), so they are published and audited
with the case, in the same transaction. Pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from dispatcher.domain import events as ev
from dispatcher.domain.case import Case, local
from dispatcher.domain.states import (
    SYSTEM,
    AuditEntry,
    CaseError,
    CaseState,
    NotAllowedError,
    TransitionError,
)
from dispatcher.domain.timer_plan import CENTER, PlannedTimer

ORDER_PREFIX = "SO-"  # an order's id, and the `stage` of its timers among the SLA timers
ASK_MAX_CHARS = 2000
WARN_AT = 0.75  # the warning falls at this fraction of the time given, as on the escalation ladder
NO_ORDER_STATES = frozenset({CaseState.QUEUED, CaseState.LINKED, CaseState.CLOSED})


class Addressee(StrEnum):
    UNIT = "unit"  # the unit's workers
    HEAD = "head"  # the unit's head: the post at the top of its ladder


class OrderError(CaseError):
    """The order's own data is wrong: no question, a unit that does not handle the case (HTTP 422)."""


def is_order_timer(stage: str) -> bool:
    """Whether an SLA timer belongs to a supervision order (its stage is the order's id)."""
    return stage.startswith(ORDER_PREFIX)


@dataclass
class SupervisionOrder:
    order_id: str
    ticket_id: str
    unit: str
    addressee: Addressee
    head_post: str | None  # the unit's head post when the order was issued (who answers an order to the head)
    ask: str
    due_at: datetime
    how: str  # how the deadline was computed
    issued_by: str
    issued_at: datetime
    answer: str | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.answered_at is None

    def overdue(self, now: datetime) -> bool:
        return self.is_open and now >= self.due_at

    @classmethod
    def issue(
        cls,
        case: Case,
        order_id: str,
        unit: str | None,
        addressee: Addressee,
        head_post: str | None,
        ask: str,
        due: tuple[datetime, str],
        by: str,
        at: datetime,
    ) -> SupervisionOrder:
        """督办: order the case's unit (or a co-handling unit; by default the lead) to answer `ask` by
        `due` (the deadline and how it was computed). Refused on a case no unit holds or already closed."""
        if not order_id.startswith(ORDER_PREFIX) or len(order_id) > 16:
            raise OrderError(f"order id {order_id!r}: expected {ORDER_PREFIX} and at most 16 characters")
        if not ask.strip():
            raise OrderError("a supervision order needs what is asked, in words")
        if len(ask) > ASK_MAX_CHARS:
            raise OrderError(f"what is asked is {len(ask)} characters long; at most {ASK_MAX_CHARS}")
        if case.state in NO_ORDER_STATES or case.assignment is None:
            why = "it is closed" if case.state is CaseState.CLOSED else "no unit holds it"
            raise TransitionError(
                case.ticket_id, "supervision_order", case.state, case.allowed_actions(), why
            )
        handling = [case.assignment.unit, *case.co_handlers]
        unit = unit or case.assignment.unit
        if unit not in handling:
            raise OrderError(
                f"case {case.ticket_id} is handled by {', '.join(handling)}, not by {unit}: "
                "an order goes to a unit that handles the case"
            )
        due_at, how = due
        if due_at <= at:
            raise OrderError(f"the deadline {due_at.isoformat()} is not after the order's time")
        order = cls(order_id, case.ticket_id, unit, addressee, head_post, ask.strip(), due_at, how, by, at)
        whom = f"{unit}'s head" if addressee is Addressee.HEAD else unit
        reason = f"{order_id} to {whom}, reply due {local(due_at):%Y-%m-%d %H:%M} ({how}): {order.ask}"
        event = ev.SupervisionOrdered(
            case.ticket_id, at, order_id, unit, addressee.value, order.ask, due_at, by
        )
        _record(case, event, by, "supervision_order", reason)
        return order

    def check_answerer(self, unit: str | None, post: str | None) -> None:
        """Raise `NotAllowedError` unless the answer comes from the addressed unit (for an order to the head,
        its head's post or a unit-wide account). `unit` None: the operator or an admin, who may."""
        if unit is None:
            return
        if unit != self.unit:
            raise NotAllowedError(f"order {self.order_id} is addressed to {self.unit}, not to {unit}")
        if self.addressee is Addressee.HEAD and post is not None and post != self.head_post:
            head = f"post {self.head_post}" if self.head_post else "the unit's head"
            raise NotAllowedError(
                f"order {self.order_id} is addressed to {head} of {self.unit}, not to {post}"
            )

    def answer_with(
        self, case: Case, reply: str, by: str, unit: str | None, post: str | None, at: datetime
    ) -> None:
        """The addressee answers: the order is closed (once: a second answer is refused), its timers
        not yet fired no longer apply. An answer after the deadline is recorded as late."""
        self.check_answerer(unit, post)
        if not reply.strip():
            raise OrderError("an answer to a supervision order needs the reply in words")
        if len(reply) > ASK_MAX_CHARS:
            raise OrderError(f"the reply is {len(reply)} characters long; at most {ASK_MAX_CHARS}")
        if not self.is_open:
            assert self.answered_at is not None
            raise TransitionError(
                case.ticket_id,
                "answer_order",
                case.state,
                case.allowed_actions(),
                f"order {self.order_id} was answered by {self.answered_by} at "
                f"{local(self.answered_at):%Y-%m-%d %H:%M}",
            )
        self.answer, self.answered_by, self.answered_at = reply.strip(), by, at
        late = at > self.due_at
        event = ev.SupervisionAnswered(case.ticket_id, at, self.order_id, self.unit, by, self.answer, late)
        reason = f"{self.order_id}{' (late)' if late else ''}: {self.answer}"
        _record(case, event, by, "supervision_answer", reason)

    def timers(self) -> list[PlannedTimer]:
        """The order's warning (to the addressee) and its escalation at the deadline."""
        warn = self.issued_at + (self.due_at - self.issued_at) * WARN_AT
        whom = "unit_head" if self.addressee is Addressee.HEAD else "unit"
        above = f"{self.unit}:unit_head" if self.addressee is Addressee.UNIT else f"{CENTER}:supervisor"
        return [
            PlannedTimer(self.order_id, "warning", 0, warn, self.due_at, f"{self.unit}:{whom}"),
            PlannedTimer(self.order_id, "escalation", 1, self.due_at, self.due_at, above),
        ]

    def fire_timer(self, case: Case, kind: str, deadline: datetime, target: str, at: datetime) -> bool:
        """A timer of the order came due: it fires only while the order is open on that deadline (else it
        is stale and does nothing). Returns whether it fired."""
        if not self.is_open or deadline != self.due_at:
            return False
        due = f"reply due {local(deadline):%Y-%m-%d %H:%M}"
        if kind == "warning":
            warning = ev.SupervisionWarning(
                case.ticket_id, at, self.order_id, self.unit, self.addressee.value, deadline
            )
            _record(case, warning, SYSTEM, "supervision_warning", f"{self.order_id}: {due}")
            return True
        overdue = ev.SupervisionOverdue(case.ticket_id, at, self.order_id, self.unit, deadline, target)
        _record(
            case, overdue, SYSTEM, "supervision_overdue", f"{self.order_id}: {due}, escalated to {target}"
        )
        return True


def _record(case: Case, event: ev.Event, actor: str, action: str, reason: str) -> None:
    """An order's fact on its case: published and audited with it (the case's state does not change)."""
    case.events.append(event)
    case.audit.append(AuditEntry(case.ticket_id, event.at, actor, action, reason, case.state, case.state))


def order_id_for(key: str, by: str, ticket_id: str) -> str:
    """The id of the order a request with this idempotency key issues: the same key from the same person
    on the same case names the same order, so a retried request finds the first one."""
    digest = hashlib.sha256(f"{by}\x00{ticket_id}\x00{key}".encode()).hexdigest()
    return f"{ORDER_PREFIX}{digest[:10].upper()}"
