"""Translation between the wire (contract models) and the case model (dataclasses)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from dispatcher.contract import events as wire
from dispatcher.domain import events as domain
from dispatcher.domain.knowledge import DirectAnswer
from dispatcher.domain.scores import UnitScores, month_span, rate_figures
from rules.complaint import Complaint, Location, Requester, Urgency
from rules.decision import Assignment
from sla.calendar import BEIJING


def complaint_from_wire(event: wire.ComplaintReceived) -> Complaint:
    location = event.location or wire.Location()
    requester = event.requester or wire.Requester()
    return Complaint(
        ticket_id=event.ticket_id,
        received_at=event.received_at,
        channel=event.channel,
        kind=event.kind,
        description=event.description,
        category=event.category,
        urgency=Urgency(event.urgency) if event.urgency else None,
        location=Location(**_fields(location)),
        requester=Requester(**{**_fields(requester), "groups": tuple(requester.groups)}),
        attachments=tuple(event.attachments),
        related_ticket_id=event.related_ticket_id,
    )


def _fields(model: wire.Wire) -> dict[str, Any]:
    """A contract model's fields by name, as `model_dump()` gives those of a model of plain values (a
    location, a requester), without serializing them (a tenth of the cost)."""
    return dict(vars(model))


def direct_answer_from_wire(event: wire.ComplaintReceived) -> DirectAnswer | None:
    """The knowledge base answer a consultation was closed with at intake (直接办结), if any."""
    direct = event.direct_answer
    return DirectAnswer(direct.entry_id, direct.answer, direct.by) if direct else None


def assignment_to_wire(assignment: Assignment) -> wire.Assignment:
    return wire.Assignment(**{**vars(assignment), "co_handlers": list(assignment.co_handlers)})


def _acted(event: domain.CaseActed) -> dict[str, Any]:
    return {"ticket_id": event.ticket_id, "at": event.at, "by": event.by, "note": event.note}


def _dispatched(event: domain.CaseDispatched) -> wire.Wire:
    return wire.CaseDispatched(
        ticket_id=event.ticket_id,
        at=event.at,
        assignment=assignment_to_wire(event.assignment),
        category=event.category,
        urgency=event.urgency.value,
        district=event.district,
        street=event.street,
        deadlines=_deadlines(event.deadlines),
    )


def _deadlines(deadlines: tuple[tuple[str, datetime], ...]) -> dict[str, wire.Deadline]:
    """Fresh deadlines: all pending, in Beijing time."""
    return {stage: wire.Deadline(due_at=due.astimezone(BEIJING), state="pending") for stage, due in deadlines}


def _queued(event: domain.CaseQueued) -> wire.Wire:
    return wire.CaseQueued(
        ticket_id=event.ticket_id,
        at=event.at,
        queue=event.queue,
        reason=event.reason,
        category=event.category,
        urgency=event.urgency.value,
    )


def _returned(event: domain.CaseReturned) -> wire.Wire:
    proposal = assignment_to_wire(event.proposal) if event.proposal else None
    return wire.CaseReturned(
        **_acted(event),
        reason=event.reason,
        reason_code=event.reason_code,
        proposal=proposal,
    )


def _redispatched(event: domain.CaseRedispatched) -> wire.Wire:
    return wire.CaseRedispatched(
        ticket_id=event.ticket_id,
        at=event.at,
        assignment=assignment_to_wire(event.assignment),
        by=event.by,
        deadlines=_deadlines(event.deadlines),
    )


def _extension_requested(event: domain.ExtensionRequested) -> wire.Wire:
    return wire.ExtensionRequested(
        **_acted(event), requested_until=event.requested_until, reason=event.reason
    )


def _resolved(event: domain.CaseResolved) -> wire.Wire:
    reports = [wire.CoReport(unit=unit, report=report) for unit, report in event.co_reports]
    return wire.CaseResolved(
        **_acted(event),
        result=event.result,
        co_reports=reports,
        without_reports_reason=event.without_reports_reason,
    )


def _pause_requested(event: domain.PauseRequested) -> wire.Wire:
    return wire.PauseRequested(
        **_acted(event), reason_code=event.reason_code, reason=event.reason, resume_at=event.resume_at
    )


def _paused(event: domain.CasePaused) -> wire.Wire:
    return wire.CasePaused(
        **_acted(event), reason_code=event.reason_code, reason=event.reason, resume_at=event.resume_at
    )


def _resumed(event: domain.CaseResumed) -> wire.Wire:
    return wire.CaseResumed(
        **_acted(event),
        paused_since=event.paused_since or event.at,
        paused_working_minutes=event.paused_minutes,
        scheduled=event.scheduled,
        deadlines=_deadlines(event.deadlines),
    )


WIRE: dict[type[domain.Event], tuple[str, Callable[[Any], wire.Wire]]] = {
    domain.CaseDispatched: ("jiesu.case.dispatched", _dispatched),
    domain.CaseQueued: ("jiesu.case.queued", _queued),
    domain.CaseAcknowledged: ("jiesu.case.acknowledged", lambda e: wire.CaseAcknowledged(**_acted(e))),
    domain.CaseContacted: ("jiesu.case.contacted", lambda e: wire.CaseContacted(**_acted(e))),
    domain.CaseReturned: ("jiesu.case.returned", _returned),
    domain.CaseRedispatched: ("jiesu.case.redispatched", _redispatched),
    domain.ReturnRejected: (
        "jiesu.case.return_rejected",
        lambda e: wire.ReturnRejected(**_acted(e), unit=e.unit),
    ),
    domain.ExtensionRequested: ("jiesu.case.extension_requested", _extension_requested),
    domain.CaseExtended: (
        "jiesu.case.extended",
        lambda e: wire.CaseExtended(**_acted(e), reply_due=e.reply_due),
    ),
    domain.ExtensionRejected: (
        "jiesu.case.extension_rejected",
        lambda e: wire.ExtensionRejected(**_acted(e)),
    ),
    domain.CaseLinked: (
        "jiesu.case.linked",
        lambda e: wire.CaseLinked(
            ticket_id=e.ticket_id,
            at=e.at,
            repeat_ticket_id=e.repeat_ticket_id,
            description=e.description,
            why=e.why,
        ),
    ),
    domain.CaseResolved: ("jiesu.case.resolved", lambda e: _resolved(e)),
    domain.SlaWarning: (
        "jiesu.sla.warning",
        lambda e: wire.SlaWarning(
            ticket_id=e.ticket_id, at=e.at, stage=e.stage, due_at=e.due_at, unit=e.unit
        ),
    ),
    domain.SlaBreached: (
        "jiesu.sla.breached",
        lambda e: wire.SlaBreached(
            ticket_id=e.ticket_id, at=e.at, stage=e.stage, due_at=e.due_at, unit=e.unit
        ),
    ),
    domain.CaseEscalated: (
        "jiesu.case.escalated",
        lambda e: wire.CaseEscalated(
            ticket_id=e.ticket_id, at=e.at, level=e.level, target=e.target, stage=e.stage, unit=e.unit
        ),
    ),
    domain.CaseReopened: (
        "jiesu.case.reopened",
        lambda e: wire.CaseReopened(
            ticket_id=e.ticket_id, at=e.at, reason=e.reason, round=e.round, reply_due=e.reply_due
        ),
    ),
    domain.CaseClosed: (
        "jiesu.case.closed",
        lambda e: wire.CaseClosed(
            ticket_id=e.ticket_id,
            at=e.at,
            how=e.how,
            by=e.by,
            reason=e.reason,
            satisfaction=e.satisfaction,
            counted=e.counted,
            round=e.round,
            knowledge_entry=e.knowledge_entry,
            callback_requested=e.callback_requested,
        ),
    ),
    domain.CoHandlerAcknowledged: (
        "jiesu.case.co_acknowledged",
        lambda e: wire.CoHandlerAcknowledged(**_acted(e), unit=e.unit),
    ),
    domain.CoHandlerReported: (
        "jiesu.case.co_reported",
        lambda e: wire.CoHandlerReported(**_acted(e), unit=e.unit, report=e.report),
    ),
    domain.SupervisionOrdered: (
        "jiesu.case.supervision_ordered",
        lambda e: wire.SupervisionOrdered(
            ticket_id=e.ticket_id,
            at=e.at,
            order_id=e.order_id,
            unit=e.unit,
            addressee=e.addressee,
            ask=e.ask,
            due_at=e.due_at,
            by=e.by,
        ),
    ),
    domain.SupervisionAnswered: (
        "jiesu.case.supervision_answered",
        lambda e: wire.SupervisionAnswered(
            ticket_id=e.ticket_id,
            at=e.at,
            order_id=e.order_id,
            unit=e.unit,
            by=e.by,
            answer=e.answer,
            late=e.late,
        ),
    ),
    domain.SupervisionWarning: (
        "jiesu.case.supervision_warning",
        lambda e: wire.SupervisionWarning(
            ticket_id=e.ticket_id,
            at=e.at,
            order_id=e.order_id,
            unit=e.unit,
            addressee=e.addressee,
            due_at=e.due_at,
        ),
    ),
    domain.SupervisionOverdue: (
        "jiesu.case.supervision_overdue",
        lambda e: wire.SupervisionOverdue(
            ticket_id=e.ticket_id, at=e.at, order_id=e.order_id, unit=e.unit, due_at=e.due_at, target=e.target
        ),
    ),
    domain.CaseMerged: (
        "jiesu.case.merged",
        lambda e: wire.CaseMerged(
            ticket_id=e.ticket_id,
            at=e.at,
            main_ticket_id=e.main_ticket_id,
            by=e.by,
            reason=e.reason,
            auto=e.auto,
            state_before=e.state_before,
        ),
    ),
    domain.CaseUnmerged: (
        "jiesu.case.unmerged",
        lambda e: wire.CaseUnmerged(
            ticket_id=e.ticket_id,
            at=e.at,
            main_ticket_id=e.main_ticket_id,
            by=e.by,
            reason=e.reason,
            state=e.state,
        ),
    ),
    domain.PauseRequested: ("jiesu.case.pause_requested", _pause_requested),
    domain.CasePaused: ("jiesu.case.paused", _paused),
    domain.PauseRejected: ("jiesu.case.pause_rejected", lambda e: wire.PauseRejected(**_acted(e))),
    domain.CaseResumed: ("jiesu.case.resumed", _resumed),
    domain.CaseWhistled: (
        "jiesu.case.whistled",
        lambda e: wire.CaseWhistled(
            **_acted(e),
            unit=e.unit,
            ask=e.ask,
            post=e.post,
            person=e.person,
            acknowledge_due=_beijing(e.acknowledge_due),
            report_due=_beijing(e.report_due),
        ),
    ),
    domain.CoHandlerWaived: (
        "jiesu.case.co_waived",
        lambda e: wire.CoHandlerWaived(**_acted(e), unit=e.unit, reason=e.reason),
    ),
}


def _beijing(moment: datetime | None) -> datetime | None:
    return moment.astimezone(BEIJING) if moment else None


def event_to_wire(event: domain.Event) -> tuple[str, wire.Wire]:
    """The contract's `ce_type` and data for a domain event."""
    try:
        event_type, convert = WIRE[type(event)]
    except KeyError:
        raise TypeError(f"no contract event for {type(event).__name__}") from None
    return event_type, convert(event)


def scores_to_wire(scores: UnitScores) -> tuple[str, wire.ScoresUpdated]:
    start, end = month_span(scores.month)
    tally = scores.rates.tally
    return "jiesu.scores.updated", wire.ScoresUpdated(
        unit=scores.unit,
        unit_class=scores.unit_class,
        month=scores.month,
        period_start=start,
        period_end=end,
        valid_callbacks=tally.valid,
        contacted=tally.contacted,
        resolved=tally.resolved,
        satisfied=tally.satisfied,
        basically_satisfied=tally.basically_satisfied,
        **rate_figures(scores.rates),
        final=scores.final,
    )
