"""Translation between the wire (contract models) and the case model (dataclasses)."""

from __future__ import annotations

from dispatcher.contract import events as wire
from dispatcher.domain import events as domain
from dispatcher.domain.complaint import Complaint, Location, Requester, Urgency


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
        location=Location(**location.model_dump()),
        requester=Requester(**{**requester.model_dump(), "groups": tuple(requester.groups)}),
        attachments=tuple(event.attachments),
        related_ticket_id=event.related_ticket_id,
    )


def event_to_wire(event: domain.Event) -> tuple[str, wire.Wire]:
    """The contract's `ce_type` and data for a domain event."""
    if isinstance(event, domain.CaseDispatched):
        return "jiesu.case.dispatched", wire.CaseDispatched(
            ticket_id=event.ticket_id,
            at=event.at,
            assignment=wire.Assignment(
                **{**vars(event.assignment), "co_handlers": list(event.assignment.co_handlers)}
            ),
            category=event.category,
            urgency=event.urgency.value,
            district=event.district,
            street=event.street,
        )
    if isinstance(event, domain.CaseQueued):
        return "jiesu.case.queued", wire.CaseQueued(
            ticket_id=event.ticket_id,
            at=event.at,
            queue=event.queue,
            reason=event.reason,
            category=event.category,
            urgency=event.urgency.value,
        )
    raise TypeError(f"no contract event for {type(event).__name__}")
