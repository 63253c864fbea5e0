"""The case aggregate (工单) and its lifecycle.

Commands on the aggregate are orders (`acknowledge`, `return_case`, ...). Each checks that the case is in a
state that allows it (`TransitionError` names the state and the allowed actions), records an event in
`case.events` and an audit entry (actor, time, from-state, to-state, reason) in `case.audit`. The storage
layer persists both in the same transaction as the state. See docs/lifecycle.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from dispatcher.domain import events as ev
from dispatcher.domain.callbacks import REVIEW_QUEUE, SUPERVISORS, Callback, Outcome, WhenUnsatisfied
from dispatcher.domain.joint import (
    CO_STAGES,
    MAX_CALLS,
    Call,
    CoHandler,
    blocking,
    called,
    co_handlers_of,
    missing_reports,
)
from dispatcher.domain.knowledge import DirectAnswer
from dispatcher.domain.pause import Pause, PauseReason
from dispatcher.domain.states import (
    ALLOWED,
    ENDED,
    OPEN_STATES,
    SYSTEM,
    WHISTLE_STATES,
    AuditEntry,
    CaseError,
    CaseState,
    Deadlines,
    Merge,
    NotAllowedError,
    PendingExtension,
    PendingReturn,
    ReturnReason,
    TransitionError,
)
from rules.complaint import Complaint, Urgency
from rules.decision import Assignment, Decision
from sla.calendar import BEIJING
from sla.working_time import WorkingClock

__all__ = [
    "ALLOWED",
    "OPEN_STATES",
    "SYSTEM",
    "AuditEntry",
    "Case",
    "CaseError",
    "CaseState",
    "Deadlines",
    "NotAllowedError",
    "PendingExtension",
    "PendingReturn",
    "ReturnReason",
    "TransitionError",
]


@dataclass
class Case:
    complaint: Complaint
    state: CaseState
    urgency: Urgency
    category: str | None
    assignment: Assignment | None
    queue: str | None
    dispatched_at: datetime
    pending_return: PendingReturn | None = None
    pending_extension: PendingExtension | None = None
    co_handlers: dict[str, CoHandler] = field(default_factory=dict)
    deadlines: dict[str, datetime] = field(default_factory=dict)  # stage -> due at
    how: dict[str, str] = field(default_factory=dict)  # stage -> how its deadline was computed
    met: dict[str, datetime] = field(default_factory=dict)  # stage -> when it was done
    result: str | None = None
    district: str | None = None
    street: str | None = None
    community: str | None = None
    linked_to: str | None = None
    round: int = 1  # 1, then 2 after the first reopening (重办)...
    callback: Callback | None = None  # the latest callback (of round `callback.round`)
    terminated: str | None = None  # 终结: why a supervisor ended it
    knowledge_entry: str | None = None  # 直接办结: the knowledge base entry that answered it at intake
    merged: Merge | None = None  # 并案: the main case it is merged into (dispatcher.domain.merging)
    pause: Pause | None = None  # 挂起: asked, or approved (the clock stands still)
    version: int = 0
    events: list[ev.Event] = field(default_factory=list, compare=False, repr=False)
    audit: list[AuditEntry] = field(default_factory=list, compare=False, repr=False)

    @property
    def ticket_id(self) -> str:
        return self.complaint.ticket_id

    @property
    def reply_due(self) -> datetime | None:
        """The reply (办结) deadline: the `reply` entry of the deadlines."""
        return self.deadlines.get("reply")

    @reply_due.setter
    def reply_due(self, due: datetime) -> None:
        self.deadlines["reply"] = due

    def allowed_actions(self) -> list[str]:
        pending = self.pending_extension is not None
        hidden = {"extension"} if pending else {"extension_decision"}
        if self.queue != REVIEW_QUEUE:
            hidden.add("close")
        if self.pause is not None and self.pause.active:
            return ["resume"] if self.state in ALLOWED["resume"] else []  # the clock stands still
        hidden |= {"pause", "resume"} if self.pause is not None else {"pause_decision", "resume"}
        return [action for action, states in ALLOWED.items() if self.state in states and action not in hidden]

    def check_allowed(self, action: str, why: str = "") -> None:
        if action not in self.allowed_actions():
            raise TransitionError(self.ticket_id, action, self.state, self.allowed_actions(), why)

    @classmethod
    def open(
        cls, complaint: Complaint, decision: Decision, at: datetime, deadlines: Deadlines | None = None
    ) -> Case:
        """派单: open a case as the rules decided: assigned to a unit, post and person, with its deadlines
        per stage (acknowledge, contact, reply) and how they were computed; or queued at the center."""
        assignment, queue = decision.assignment, decision.queue
        state = CaseState.DISPATCHED if assignment else CaseState.QUEUED
        case = cls(
            complaint,
            state,
            decision.urgency,
            decision.category,
            assignment,
            queue,
            dispatched_at=at,
            district=decision.district,
            street=decision.street,
            community=decision.community,
            co_handlers=co_handlers_of(assignment.co_handlers if assignment else ()),
        )
        location = complaint.location
        if assignment is not None:
            dispatched = ev.CaseDispatched(
                complaint.ticket_id,
                at,
                assignment,
                decision.category,
                decision.urgency,
                location.district,
                location.street,
                tuple(deadlines.due.items()) if deadlines else (),
            )
            if deadlines:
                case.deadlines, case.how = dict(deadlines.due), dict(deadlines.how)
            reason = f"to {assignment.unit}/{assignment.post}: {assignment.reason}"
            reason += f"; deadlines: {deadlines.basis}" if deadlines else ""
            case._record(dispatched, None, actor=SYSTEM, action="dispatch", reason=reason)
        else:
            queued = ev.CaseQueued(
                complaint.ticket_id, at, queue or "", decision.reason, decision.category, decision.urgency
            )
            case._record(
                queued, None, actor=SYSTEM, action="queue", reason=f"to queue {queue}: {decision.reason}"
            )
        return case

    @classmethod
    def close_directly(
        cls, complaint: Complaint, decision: Decision, answer: DirectAnswer, at: datetime, callback: bool
    ) -> Case:
        """直接办结: a consultation the operator answered at intake from the knowledge base is opened closed,
        with the answer as its result: never dispatched, no deadlines, counted in no unit's rates. With
        `callback`, the center calls the requester back (回访) as after any result. Only a consultation
        (咨询) can be; `decision` gives the category and place it is counted under, not a unit."""
        if complaint.kind != "consultation":
            raise CaseError(
                f"case {complaint.ticket_id}: only a consultation can be closed at intake (直接办结), "
                f"not a {complaint.kind}"
            )
        if not answer.entry_id.strip() or not answer.answer.strip() or not answer.by.strip():
            raise CaseError(
                f"case {complaint.ticket_id}: closing at intake needs the knowledge base entry, the answer "
                "given and the operator"
            )
        case = cls(
            complaint,
            CaseState.CLOSED,
            decision.urgency,
            decision.category,
            None,
            None,
            dispatched_at=at,
            result=answer.answer,
            district=decision.district,
            street=decision.street,
            community=decision.community,
            knowledge_entry=answer.entry_id,
        )
        reason = f"answered at intake from knowledge base entry {answer.entry_id}"
        closed = ev.CaseClosed(
            complaint.ticket_id,
            at,
            "direct",
            answer.by,
            reason,
            counted=False,
            knowledge_entry=answer.entry_id,
            callback_requested=callback,
        )
        callback_note = "; callback (回访) requested" if callback else ""
        case._record(closed, None, actor=answer.by, action="close_direct", reason=reason + callback_note)
        return case

    @classmethod
    def link(cls, complaint: Complaint, decision: Decision, original: Case, why: str, at: datetime) -> Case:
        """A repeat request: kept as its own ticket, linked to the open `original`, which is told of it."""
        case = cls(
            complaint,
            CaseState.LINKED,
            decision.urgency,
            decision.category,
            None,
            None,
            dispatched_at=at,
            district=decision.district,
            street=decision.street,
            community=decision.community,
            linked_to=original.ticket_id,
        )
        case.audit.append(
            AuditEntry(
                case.ticket_id, at, SYSTEM, "link", f"repeat of {original.ticket_id}: {why}", None, case.state
            )
        )
        original.told_of_repeat(case, why, at)
        return case

    def told_of_repeat(self, repeat: Case, why: str, at: datetime) -> None:
        """The handler of this case learns of a repeat request (no change of state)."""
        event = ev.CaseLinked(self.ticket_id, at, repeat.ticket_id, repeat.complaint.description, why)
        self._record(
            event, self.state, actor=SYSTEM, action="link_repeat", reason=f"{repeat.ticket_id}: {why}"
        )

    def acknowledge(self, by: str, at: datetime) -> None:
        """签收: the person on duty signs for the case."""
        self.check_allowed("acknowledge")
        self._meet("acknowledge", at)
        self._move(CaseState.ACKNOWLEDGED, ev.CaseAcknowledged(self.ticket_id, at, by), by, "acknowledge", "")

    def contact(self, by: str, at: datetime, note: str | None = None) -> None:
        """The handler has contacted the requester; may be recorded more than once."""
        self.check_allowed("contact")
        self._meet("contact", at)
        self._move(
            CaseState.CONTACTED, ev.CaseContacted(self.ticket_id, at, by, note), by, "contact", note or ""
        )

    def return_case(
        self,
        by: str,
        at: datetime,
        code: ReturnReason,
        reason: str,
        window: timedelta,
        proposal: Assignment | None,
        window_ends: tuple[datetime, str] | None = None,
    ) -> None:
        """退单: the unit says the case is not its duty; the center arbitrates. The window is `window` of
        clock time after dispatch, or, with `window_ends` (the end, and the duration in words: working
        hours on the business calendar), until then."""
        self.check_allowed("return")
        late = at > window_ends[0] if window_ends else at - self.dispatched_at > window
        if late:
            length = (
                f"{window_ends[1]} (until {local(window_ends[0]):%Y-%m-%d %H:%M})"
                if window_ends
                else f"{window}"
            )
            raise TransitionError(
                self.ticket_id,
                "return",
                self.state,
                self.allowed_actions(),
                f"the return window of {length} after dispatch has passed",
            )
        self.pending_return, self.pause = PendingReturn(by, at, code, reason, self.state, proposal), None
        event = ev.CaseReturned(self.ticket_id, at, by, None, code.value, reason, proposal)
        self._move(CaseState.RETURNED, event, by, "return", f"{code}: {reason}")

    def redispatch(
        self, by: str, at: datetime, assignment: Assignment, reason: str, deadlines: Deadlines | None = None
    ) -> None:
        """Arbitration upheld the return: the case goes to another unit (or, from a queue, to its first),
        which gets fresh deadlines."""
        action = "dispatch" if self.state is CaseState.QUEUED else "arbitrate"
        self.check_allowed(action)
        if self.queue == REVIEW_QUEUE:
            self.round += 1  # after a callback review: handled again, in a new round
        self.assignment, self.queue, self.pending_return = assignment, None, None
        self.co_handlers = co_handlers_of(assignment.co_handlers)
        self.dispatched_at = at
        if deadlines is not None:
            self.deadlines, self.how = dict(deadlines.due), dict(deadlines.how)
            self.met = {}  # the new unit starts every stage afresh
            reason += f"; deadlines: {deadlines.basis}"
        fresh = tuple(deadlines.due.items()) if deadlines else ()
        event = ev.CaseRedispatched(self.ticket_id, at, assignment, by, fresh)
        self._move(
            CaseState.DISPATCHED, event, by, "redispatch", f"to {assignment.unit}/{assignment.post}: {reason}"
        )

    def reject_return(self, by: str, at: datetime, reason: str, pause: bool = False) -> None:
        """Arbitration rejected the return: the case goes back to the same unit, in the state it left.
        With `pause`, the clock stood still while the case waited: its open deadlines move by that time."""
        self.check_allowed("arbitrate")
        assert self.pending_return is not None and self.assignment is not None
        returned_at, back_to = self.pending_return.at, self.pending_return.back_to
        self.pending_return = None
        waited = at - returned_at
        if pause and waited > timedelta(0):
            since, until = local(returned_at), local(at)
            note = f"paused {_span(waited)} in arbitration ({since:%m-%d %H:%M}..{until:%m-%d %H:%M})"
            self._shift_open_deadlines(note, lambda due: due + waited)
            reason = f"{reason}; deadlines {note}"
        event = ev.ReturnRejected(self.ticket_id, at, by, reason, self.assignment.unit)
        self._move(back_to, event, by, "reject_return", reason)

    def request_extension(self, by: str, at: datetime, until: datetime, reason: str) -> None:
        """延期: the unit asks for more time, with a reason and a proposed new deadline."""
        self.check_allowed("extension")
        if self.reply_due is not None and until <= self.reply_due:
            raise CaseError(
                f"case {self.ticket_id}: the proposed deadline {until} is not after {self.reply_due}"
            )
        self.pending_extension = PendingExtension(by, at, until, reason)
        event = ev.ExtensionRequested(self.ticket_id, at, by, None, until, reason)
        self._move(
            self.state, event, by, "request_extension", f"until {local(until):%Y-%m-%d %H:%M}: {reason}"
        )

    def decide_extension(
        self, by: str, at: datetime, approve: bool, until: datetime | None, reason: str
    ) -> None:
        """The supervisor approves (perhaps with a new date) or rejects; only approval moves the deadline."""
        self.check_allowed("extension_decision")
        assert self.pending_extension is not None
        pending, self.pending_extension = self.pending_extension, None
        if approve:
            was, due = self.reply_due, until or pending.until
            self.reply_due = due
            self.how["reply"] = (
                f"reply: extension approved by {by} ({reason or pending.reason}), was due "
                + (f"{local(was):%Y-%m-%d %H:%M %z}" if was else "none")
                + f" → due {local(due):%Y-%m-%d %H:%M %z}"
            )
            event: ev.Event = ev.CaseExtended(self.ticket_id, at, by, reason or None, due)
            self._move(self.state, event, by, "approve_extension", f"reply due {local(due):%Y-%m-%d %H:%M}")
        else:
            self._move(
                self.state,
                ev.ExtensionRejected(self.ticket_id, at, by, reason),
                by,
                "reject_extension",
                reason,
            )

    def resolve(self, by: str, at: datetime, result: str, without_reports_reason: str | None = None) -> None:
        """办结: the lead unit reports the result, with its co-handlers' reports attached; without one of
        them only with a recorded reason."""
        self.check_allowed("resolve")
        called_in = blocking(self.co_handlers)
        if called_in:
            raise TransitionError(
                self.ticket_id,
                "resolve",
                self.state,
                self.allowed_actions(),
                f"units called in {', '.join(called_in)} have not reported; a supervisor may waive a report",
            )
        missing = missing_reports(self.co_handlers)
        if missing and not (without_reports_reason or "").strip():
            raise TransitionError(
                self.ticket_id,
                "resolve",
                self.state,
                self.allowed_actions(),
                f"co-handling units {', '.join(missing)} have not reported; give a reason to resolve without",
            )
        self.result, self.pending_extension, self.pause = result, None, None
        reports = tuple((co.unit, co.report) for co in self.co_handlers.values() if co.report is not None)
        why = without_reports_reason if missing else None
        event = ev.CaseResolved(self.ticket_id, at, by, None, result, reports, why)
        self._meet("reply", at)
        self._move(
            CaseState.RESOLVED, event, by, "resolve", result + (f" (without {missing}: {why})" if why else "")
        )

    def record_callback(
        self,
        callback: Callback,
        at: datetime,
        when_unsatisfied: WhenUnsatisfied,
        reply: Callable[[], Deadlines | None],
    ) -> Outcome:
        """回访: the first callback of a resolved case closes it, reopens it (with the new reply deadline
        `reply()` computes, asked only then) or holds it for review; a later callback of the same round is
        a correction (kept only if recorded later; the outcome stands). Raises `TransitionError` when no
        callback is expected and `CaseError` for a correction older than the callback it would replace."""
        if self.knowledge_entry is not None and self.callback is None:
            return self._callback_on_direct_answer(callback, at)
        if self.state is not CaseState.RESOLVED:
            return self._correct_callback(callback, at)
        callback = Callback(**{**vars(callback), "round": self.round})
        self.callback, self.pending_return = callback, None
        if callback.closes:
            closed = ev.CaseClosed(
                self.ticket_id,
                at,
                "callback",
                SYSTEM,
                callback.summary(),
                callback.satisfaction.value,
                callback.valid,
                self.round,
            )
            self._move(CaseState.CLOSED, closed, SYSTEM, "close", f"callback: {callback.summary()}")
            return Outcome.CLOSED
        if self.round > 1:
            self._hold(at, f"unsatisfied again in round {self.round}: {callback.summary()}")
            self._record(
                ev.CaseEscalated(self.ticket_id, at, 1, SUPERVISORS, "callback"),
                self.state,
                actor=SYSTEM,
                action="escalate",
                reason=f"level 1 to {SUPERVISORS} (callback)",
            )
            return Outcome.ESCALATED
        if when_unsatisfied is WhenUnsatisfied.REVIEW:
            self._hold(at, f"callback: {callback.summary()}")
            return Outcome.HELD
        self._reopen(at, f"callback: {callback.summary()}", reply())
        return Outcome.REOPENED

    def _callback_on_direct_answer(self, callback: Callback, at: datetime) -> Outcome:
        """A consultation closed at intake (直接办结) is called back like any result: the callback is kept
        with the case (in no unit's rates: it has no unit), which stays closed. A caller the answer did not
        help calls again: a new request, dispatched as usual."""
        self.callback = Callback(**{**vars(callback), "round": self.round})
        reason = f"callback on the answer from the knowledge base: {self.callback.summary()}"
        self.audit.append(AuditEntry(self.ticket_id, at, SYSTEM, "callback", reason, self.state, self.state))
        return Outcome.RECORDED

    def counts(self, callback: Callback) -> bool:
        """Whether the case's kept `callback` counts in its unit's rates (三率): a valid one, of a case not
        terminated (终结). A later callback of its round, a termination or an accepted appeal takes it out
        afterwards."""
        return callback.valid and self.terminated is None

    def _correct_callback(self, callback: Callback, at: datetime) -> Outcome:
        if self.callback is None:
            raise TransitionError(
                self.ticket_id, "callback", self.state, self.allowed_actions(), "it has not been resolved yet"
            )
        if callback.recorded_at <= self.callback.recorded_at:
            kept = local(self.callback.recorded_at)
            raise CaseError(
                f"case {self.ticket_id}: a callback recorded at {kept:%Y-%m-%d %H:%M:%S} is already kept "
                f"for round {self.callback.round}; this one is not later"
            )
        self.callback = Callback(**{**vars(callback), "round": self.callback.round})
        reason = f"round {self.callback.round} corrected: {self.callback.summary()}"
        entry = AuditEntry(self.ticket_id, at, SYSTEM, "correct_callback", reason, self.state, self.state)
        self.audit.append(entry)
        return Outcome.CORRECTED

    def _hold(self, at: datetime, reason: str) -> None:
        self.queue = REVIEW_QUEUE
        held = ev.CaseQueued(self.ticket_id, at, REVIEW_QUEUE, reason, self.category, self.urgency)
        self._move(CaseState.QUEUED, held, SYSTEM, "hold_for_review", reason)

    def _reopen(self, at: datetime, reason: str, reply: Deadlines | None) -> None:
        self.round += 1
        self.result = None
        self.met.pop("reply", None)
        if reply is not None and "reply" in reply.due:
            self.deadlines["reply"] = reply.due["reply"]
            self.how["reply"] = f"reopened in round {self.round}: {reply.how.get('reply', '')}"
        event = ev.CaseReopened(self.ticket_id, at, reason, self.round, self.reply_due)
        due = f"; reply due {local(self.reply_due):%Y-%m-%d %H:%M}" if self.reply_due else ""
        self._move(CaseState.ACKNOWLEDGED, event, SYSTEM, "reopen", f"round {self.round}: {reason}{due}")

    def close_after_review(self, by: str, at: datetime, reason: str) -> None:
        """A supervisor reviewed a held case and closes it as it stands."""
        self.check_allowed("close", "only a case held for callback review can be closed")
        self.queue = None
        closed = ev.CaseClosed(
            self.ticket_id,
            at,
            "review",
            by,
            reason,
            self.callback.satisfaction.value if self.callback else None,
            True,
            self.round,
        )
        self._move(CaseState.CLOSED, closed, by, "close", reason)

    def terminate(self, by: str, at: datetime, reason: str) -> None:
        """终结: a supervisor ends the case (unreasonable demand, outside any unit's power...); it is
        excluded from the unit's rates. A reason is required."""
        if self.state in ENDED:
            raise TransitionError(self.ticket_id, "terminate", self.state, self.allowed_actions())
        if not reason.strip():
            raise CaseError(f"case {self.ticket_id}: terminating needs a reason")
        self.terminated, self.queue, self.pending_return, self.pending_extension = reason, None, None, None
        self.pause = None
        closed = ev.CaseClosed(self.ticket_id, at, "terminated", by, reason, None, False, self.round)
        self._move(CaseState.CLOSED, closed, by, "terminate", reason)

    def fire_timer(
        self,
        stage: str,
        kind: str,
        level: int,
        deadline: datetime,
        target: str,
        at: datetime,
        unit: str | None = None,
    ) -> bool:
        """An SLA timer came due. It fires (warning, or breach and escalation) only if its stage is still
        open on that same deadline and the case is at a unit; otherwise it is stale and does nothing.
        Returns whether it fired."""
        if stage in CO_STAGES:
            return self._fire_co_timer(unit or "", stage, kind, level, deadline, target, at)
        if (
            self.state not in (CaseState.DISPATCHED, CaseState.ACKNOWLEDGED, CaseState.CONTACTED)
            or self.deadlines.get(stage) != deadline
            or stage in self.met
            or (self.pause is not None and self.pause.active)
        ):
            return False
        if kind == "warning":
            event: ev.Event = ev.SlaWarning(self.ticket_id, at, stage, deadline)
            self._record(
                event,
                self.state,
                actor=SYSTEM,
                action="sla_warning",
                reason=f"{stage} due {local(deadline):%Y-%m-%d %H:%M}",
            )
            return True
        if level == 1:
            breached = ev.SlaBreached(self.ticket_id, at, stage, deadline)
            self._record(
                breached,
                self.state,
                actor=SYSTEM,
                action="sla_breach",
                reason=f"{stage} was due {local(deadline):%Y-%m-%d %H:%M}",
            )
        escalated = ev.CaseEscalated(self.ticket_id, at, level, target, stage)
        self._record(
            escalated,
            self.state,
            actor=SYSTEM,
            action="escalate",
            reason=f"level {level} to {target} ({stage})",
        )
        return True

    def _meet(self, stage: str, at: datetime) -> None:
        """A stage is done: its deadline will not fire (the first time counts)."""
        if stage in self.deadlines:
            self.met.setdefault(stage, at)

    def acknowledge_as_co_handler(self, unit: str, by: str, at: datetime) -> None:
        """A co-handling unit signs for its part of the case."""
        co = self._co_handler(unit, "acknowledge as co-handler")
        if co.acknowledged_by is not None:
            raise CaseError(f"case {self.ticket_id}: {unit} already acknowledged by {co.acknowledged_by}")
        self.co_handlers[unit] = co.acknowledged(by, at)
        event = ev.CoHandlerAcknowledged(self.ticket_id, at, by, None, unit)
        self._move(self.state, event, by, "co_acknowledge", unit)

    def report_to_lead(self, unit: str, by: str, at: datetime, report: str) -> None:
        """A co-handling unit reports its part to the lead unit (may be corrected by a later report)."""
        co = self._co_handler(unit, "report to the lead")
        if co.acknowledged_by is None:
            raise CaseError(f"case {self.ticket_id}: {unit} must acknowledge before reporting")
        self.co_handlers[unit] = co.reported(by, at, report)
        self._move(
            self.state,
            ev.CoHandlerReported(self.ticket_id, at, by, None, unit, report),
            by,
            "co_report",
            report,
        )

    def _co_handler(self, unit: str, action: str) -> CoHandler:
        if self.state not in OPEN_STATES - {CaseState.QUEUED, CaseState.RETURNED}:
            raise TransitionError(self.ticket_id, action, self.state, self.allowed_actions())
        co = self.co_handlers.get(unit)
        if co is None:
            raise CaseError(f"case {self.ticket_id}: {unit} is not a co-handling unit of this case")
        return co

    def request_pause(
        self, by: str, at: datetime, code: PauseReason, reason: str, until: datetime | None
    ) -> None:
        """挂起: the unit asks that the clock stand still, with a reason and perhaps a resume date."""
        self.check_allowed("pause")
        if not reason.strip():
            raise CaseError(f"case {self.ticket_id}: a pause needs a reason in words")
        if until is not None and until <= at:
            raise CaseError(
                f"case {self.ticket_id}: the resume date {local(until):%Y-%m-%d %H:%M} has passed"
            )
        self.pause = Pause(by, at, code, reason, until)
        event = ev.PauseRequested(self.ticket_id, at, by, None, code.value, reason, until)
        when = f" until {local(until):%Y-%m-%d %H:%M}" if until else ""
        self._move(self.state, event, by, "request_pause", f"{self.pause.words()}{when}")

    def decide_pause(self, by: str, at: datetime, approve: bool, until: datetime | None, reason: str) -> None:
        """A supervisor approves (the deadlines and timers stand still from now; `until`, or the date the
        unit asked, resumes it by timer) or rejects (the clock runs on)."""
        self.check_allowed("pause_decision")
        assert self.pause is not None
        if not approve:
            self.pause = None
            self._move(
                self.state,
                ev.PauseRejected(self.ticket_id, at, by, reason or None),
                by,
                "reject_pause",
                reason,
            )
            return
        resume_at = until or self.pause.until
        if resume_at is not None and resume_at <= at:
            raise CaseError(
                f"case {self.ticket_id}: the resume date {local(resume_at):%Y-%m-%d %H:%M} has passed"
            )
        pause = self.pause = self.pause.approved(by, at, resume_at)
        when = f" until {local(resume_at):%Y-%m-%d %H:%M}" if resume_at else " until resumed"
        note = f"paused since {local(at):%m-%d %H:%M}{when} ({pause.words()})"
        for stage in self._open_stages():
            self.how[stage] = f"{self.how.get(stage, stage)}; {note}"
        event = ev.CasePaused(
            self.ticket_id, at, by, reason or None, pause.code.value, pause.reason, resume_at
        )
        self._move(self.state, event, by, "approve_pause", f"{note}{f': {reason}' if reason else ''}")

    def resume(
        self, by: str, at: datetime, clock: WorkingClock, note: str | None = None, scheduled: bool = False
    ) -> None:
        """The clock runs again: every pending deadline moves by the working time paused, on the unit's
        working `clock`, and its timers are planned afresh."""
        self.check_allowed("resume")
        assert self.pause is not None and self.pause.since is not None
        since, self.pause = self.pause.since, None
        paused = clock.between(since, at)
        how = (
            f"resumed {local(at):%m-%d %H:%M}: {_span(paused)} of working time paused "
            f"({local(since):%m-%d %H:%M}..{local(at):%m-%d %H:%M}, {clock.describe()})"
        )
        self._shift_open_deadlines(how, lambda due: clock.shift(due, paused))
        moved = tuple((stage, self.deadlines[stage]) for stage in self._open_stages())
        minutes = int(paused.total_seconds() // 60)
        event = ev.CaseResumed(self.ticket_id, at, by, note, since, minutes, scheduled, moved)
        why = "the resume date came" if scheduled else (note or "")
        self._move(self.state, event, by, "resume", f"{how}{f'; {why}' if why else ''}")

    def resume_on_date(self, until: datetime, at: datetime, clock: WorkingClock) -> bool:
        """The resume-date timer came due: it resumes the case only if the pause it was set for still
        stands with that date (else it is stale). Returns whether it resumed."""
        if self.pause is None or not self.pause.active or self.pause.until != until:
            return False
        if "resume" not in self.allowed_actions():
            return False
        self.resume(SYSTEM, at, clock, scheduled=True)
        return True

    def _open_stages(self) -> list[str]:
        return [stage for stage in self.deadlines if stage not in self.met]

    def _shift_open_deadlines(self, note: str, shift: Callable[[datetime], datetime]) -> None:
        """Move every deadline not yet met by `shift`, saying so in its `how`."""
        for stage in self._open_stages():
            self.deadlines[stage] = shift(self.deadlines[stage])
            due = local(self.deadlines[stage])
            self.how[stage] = f"{self.how.get(stage, stage)}; {note} → due {due:%Y-%m-%d %H:%M %z}"

    def whistle(self, by: str, at: datetime, calls: Sequence[Call]) -> None:
        """吹哨报到: the lead unit (or a supervisor) calls units in on the case, each with what it is asked
        and its own deadlines to acknowledge and to report; the lead resolves once each has reported or a
        supervisor waived its report. A unit already co-handling and not yet settled cannot be called
        again; one that reported (or was waived) may be, for something new."""
        if self.state not in WHISTLE_STATES or self.assignment is None:
            raise TransitionError(
                self.ticket_id,
                "whistle",
                self.state,
                self.allowed_actions(),
                "units are called in once the lead unit has acknowledged the case, until it resolves",
            )
        if not calls:
            raise CaseError(f"case {self.ticket_id}: name at least one unit to call in")
        if len(calls) > MAX_CALLS:
            raise CaseError(f"case {self.ticket_id}: at most {MAX_CALLS} units at once, not {len(calls)}")
        units = [call.unit for call in calls]
        for call in calls:
            if not call.unit.strip() or not call.ask.strip():
                raise CaseError(f"case {self.ticket_id}: each unit called in needs what is asked of it")
            if units.count(call.unit) > 1:
                raise CaseError(f"case {self.ticket_id}: {call.unit} is named twice")
            if call.unit == self.assignment.unit:
                raise CaseError(f"case {self.ticket_id}: {call.unit} leads the case; it cannot be called in")
            already = self.co_handlers.get(call.unit)
            if already is not None and not already.settled:
                raise CaseError(
                    f"case {self.ticket_id}: {call.unit} already co-handles the case and has not reported"
                )
        for call in calls:
            self.co_handlers[call.unit] = called(call, by, at)
            due = call.deadlines
            event = ev.CaseWhistled(
                self.ticket_id,
                at,
                by,
                None,
                call.unit,
                call.ask,
                call.post,
                call.person,
                due.acknowledge_due if due else None,
                due.report_due if due else None,
            )
            reason = f"{call.unit}: {call.ask}" + (f"; deadlines: {due.how}" if due else "")
            self._record(event, self.state, actor=by, action="whistle", reason=reason)
        named = tuple(unit for unit in units if unit not in self.assignment.co_handlers)
        self.assignment = replace(self.assignment, co_handlers=self.assignment.co_handlers + named)

    def waive_report(self, unit: str, by: str, at: datetime, reason: str) -> None:
        """A supervisor lets the lead resolve without a co-handling unit's report (its timers stop)."""
        co = self._co_handler(unit, "waive a report")
        if not reason.strip():
            raise CaseError(f"case {self.ticket_id}: waiving {unit}'s report needs a reason")
        if co.settled:
            done = f"reported by {co.reported_by}" if co.report is not None else f"waived by {co.waived_by}"
            raise CaseError(f"case {self.ticket_id}: {unit} is already {done}")
        self.co_handlers[unit] = co.waived(by, at, reason)
        event = ev.CoHandlerWaived(self.ticket_id, at, by, None, unit, reason)
        self._record(event, self.state, actor=by, action="waive_report", reason=f"{unit}: {reason}")

    def _fire_co_timer(
        self, unit: str, stage: str, kind: str, level: int, deadline: datetime, target: str, at: datetime
    ) -> bool:
        """A called unit's timer: it fires only while the case is at its lead unit, the unit still
        co-handles it on that same deadline, and the stage is not done."""
        co = self.co_handlers.get(unit)
        if (
            self.state not in (CaseState.DISPATCHED, CaseState.ACKNOWLEDGED, CaseState.CONTACTED)
            or co is None
            or co.deadline(stage) != deadline
            or co.done(stage)
        ):
            return False
        when = f"{co.unit} {stage} due {local(deadline):%Y-%m-%d %H:%M}"
        if kind == "warning":
            warned = ev.SlaWarning(self.ticket_id, at, stage, deadline, co.unit)
            self._record(warned, self.state, actor=SYSTEM, action="sla_warning", reason=when)
            return True
        if level == 1:
            breached = ev.SlaBreached(self.ticket_id, at, stage, deadline, co.unit)
            self._record(breached, self.state, actor=SYSTEM, action="sla_breach", reason=f"{when} passed")
        escalated = ev.CaseEscalated(self.ticket_id, at, level, target, stage, co.unit)
        reason = f"level {level} to {target} ({co.unit} {stage})"
        self._record(escalated, self.state, actor=SYSTEM, action="escalate", reason=reason)
        return True

    def _move(self, to: CaseState, event: ev.Event, actor: str, action: str, reason: str) -> None:
        before, self.state = self.state, to
        self._record(event, before, actor=actor, action=action, reason=reason)

    def _record(
        self, event: ev.Event, before: CaseState | None, *, actor: str, action: str, reason: str
    ) -> None:
        self.events.append(event)
        self.audit.append(AuditEntry(self.ticket_id, event.at, actor, action, reason, before, self.state))


def _span(duration: timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def local(moment: datetime) -> datetime:
    """Beijing time, the time every text about a case is written in."""
    return moment.astimezone(BEIJING)
