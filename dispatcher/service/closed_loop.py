"""Handlers of the closed loop: callbacks (回访), review, termination (终结), appeals (申诉), and the
`jiesu.scores.updated` each of them moves."""

from __future__ import annotations

from datetime import datetime, timedelta

from dispatcher.domain import commands as c
from dispatcher.domain import merging
from dispatcher.domain.callbacks import (
    AppealStatus,
    Assessment,
    Callback,
    Outcome,
    Satisfaction,
    check_appellant,
)
from dispatcher.domain.case import Case, Deadlines
from dispatcher.domain.scores import Tally, UnitScores, check_month, rates
from dispatcher.service.handlers import DeadlinesFor, no_deadlines
from dispatcher.service.lifecycle import CaseNotFoundError, InvalidActionError, apply_to_case
from dispatcher.service.unit_of_work import UnitOfWork
from rules.decision import Decision
from rules.routing import Router
from sla.calendar import Clock

CLOCK_SKEW = timedelta(minutes=5)  # a callback recorded further in the future than this is refused


def record_callback(
    command: c.RecordCallback,
    *,
    uow: UnitOfWork,
    clock: Clock,
    router: Router,
    assessment: Assessment,
    deadlines_for: DeadlinesFor = no_deadlines,
) -> Outcome | None:
    """Apply a callback once: close, reopen, hold or escalate the case (or correct the round's callback),
    store it where the rates count it, and publish the unit's new scores for the month."""
    try:
        satisfaction = Satisfaction(command.satisfaction)
    except ValueError:
        allowed = ", ".join(level.value for level in Satisfaction)
        raise InvalidActionError(
            f"satisfaction {command.satisfaction!r}: expected one of {allowed}"
        ) from None
    if command.recorded_at is None:
        raise InvalidActionError("a callback needs the time it was recorded")
    outcome: list[Outcome] = []

    def act(case: Case, now: datetime) -> None:
        if command.recorded_at is not None and command.recorded_at > now + CLOCK_SKEW:
            raise InvalidActionError(
                f"the callback is recorded in the future ({command.recorded_at.isoformat()})"
            )
        callback = Callback(
            case.round,
            command.recorded_at or now,
            command.contacted,
            command.resolved,
            satisfaction,
            command.valid,
            command.comment,
        )

        def reply() -> Deadlines | None:  # the same unit's deadlines from now: only if the case reopens
            if case.assignment is None:
                return None
            unit_class = router.unit_class(case.assignment.unit)
            decision = Decision(
                case.urgency, case.category, assignment=case.assignment, unit_class=unit_class
            )
            return deadlines_for(case.complaint, decision, now)

        outcome.append(case.record_callback(callback, now, assessment.when_unsatisfied(case.category), reply))
        kept = case.callback
        if kept is None or case.assignment is None:
            return
        unit_class = router.unit_class(case.assignment.unit)
        corrects, counted = outcome[-1] is Outcome.CORRECTED, case.counts(kept)
        # the month (and unit) it counts in, and those of a callback it corrected: both moved
        for unit, month in uow.callbacks.record(case, kept, unit_class, now, corrects, counted):
            uow.outbox.scores_due(unit, month, now)

    apply_to_case(command, uow, lambda case: act(case, clock()))
    return outcome[0] if outcome else None


def close_after_review(command: c.CloseAfterReview, *, uow: UnitOfWork, clock: Clock) -> None:
    if not command.reason.strip():
        raise InvalidActionError("closing after review needs a reason")
    apply_to_case(command, uow, lambda case: case.close_after_review(command.by, clock(), command.reason))


def terminate(command: c.TerminateCase, *, uow: UnitOfWork, clock: Clock) -> None:
    """终结: the case closes and its callbacks leave the rates of the units they counted for."""
    if not command.reason.strip():
        raise InvalidActionError("terminating a case needs a reason")

    def act(case: Case, now: datetime) -> None:
        case.terminate(command.by, now, command.reason)
        for merged in uow.cases.merged_with(case.ticket_id):  # 并案: they end with their main case
            merging.terminate_with(case, merged, command.by, now, command.reason)
        uow.callbacks.terminated(case.ticket_id)
        for unit, month in uow.callbacks.months_of(case.ticket_id):
            uow.outbox.scores_due(unit, month, now)

    apply_to_case(command, uow, lambda case: act(case, clock()))


def file_appeal(command: c.FileAppeal, *, uow: UnitOfWork, clock: Clock) -> int:
    """申诉: the unit a callback counts for asks that it not count (`NotAllowedError` for another unit);
    refused while another appeal against it is pending or after one was accepted."""
    if not command.reason.strip():
        raise InvalidActionError("an appeal needs a reason")
    with uow:
        callback = uow.callbacks.appealed_callback(command.callback_id)
        if callback is None:
            raise CaseNotFoundError(f"no callback {command.callback_id}")
        check_appellant(callback, command.unit)
        if callback.has_standing_appeal:
            raise InvalidActionError(f"callback {callback.id} already has a pending or accepted appeal")
        appeal = uow.callbacks.add_appeal(callback, command.by, command.reason, clock())
        uow.commit()
    return appeal


def decide_appeal(command: c.DecideAppeal, *, uow: UnitOfWork, clock: Clock) -> None:
    """A supervisor accepts (the callback leaves the base) or rejects a pending appeal, with a reason."""
    if not command.reason.strip():
        raise InvalidActionError("deciding an appeal needs a reason")
    with uow:
        now = clock()
        appeal = uow.callbacks.appeal(command.appeal_id)
        if appeal is None:
            raise CaseNotFoundError(f"no appeal {command.appeal_id}")
        if appeal.status is not AppealStatus.PENDING:
            raise InvalidActionError(f"appeal {appeal.id} was already {appeal.status}")
        status = AppealStatus.ACCEPTED if command.accept else AppealStatus.REJECTED
        uow.callbacks.decide_appeal(appeal.id, status, command.by, command.reason, now)
        if command.accept:
            uow.callbacks.excluded(appeal.callback_id)
            uow.outbox.scores_due(appeal.unit, appeal.month, now)
        uow.commit()


def publish_scores(command: c.PublishScores, *, uow: UnitOfWork, clock: Clock) -> int:
    """`jiesu.scores.updated` for every unit with callbacks in the month, its tallies first rebuilt from
    the callbacks themselves; returns how many units. Figures published again after the month's final
    ones are final too (they correct them)."""
    month = check_month(command.month)
    with uow:
        now = clock()
        already_final = command.final and not uow.callbacks.mark_final(month, now)
        if already_final and command.only_once:
            return 0
        final = command.final or uow.callbacks.is_final(month)
        uow.callbacks.recount(month)
        units = uow.callbacks.units_in(month)
        for unit in units:
            uow.outbox.scores_due(unit, month, now, final)
        uow.commit()
    return len(units)


def unit_scores(
    assessment: Assessment, unit: str, unit_class: str, month: str, tally: Tally, final: bool
) -> UnitScores:
    """The unit's scores for the month from its tally, with the weights of its class in that month."""
    weights = assessment.settings.weights_for(month, unit_class)
    return UnitScores(unit, unit_class, month, rates(tally, weights), final)
