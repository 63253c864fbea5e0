"""Actions from units' own systems: a record on `jiesu.actions` becomes a case command, or a dead letter.

A record that breaks the contract, names an unknown ticket, or asks for something the case does not allow
is dead-lettered with its reason; the agent keeps consuming. Each event is applied at most once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from consumers.intake import dead_letter_for
from dispatcher.contract import events as wire
from dispatcher.contract.cloudevents import KafkaRecord, RejectReason, decode
from dispatcher.domain import commands as c
from dispatcher.domain.case import CaseError
from dispatcher.domain.commands import InboundId
from dispatcher.service.lifecycle import CaseNotFoundError
from dispatcher.service.messagebus import MessageBus
from dispatcher.service.unit_of_work import ConcurrencyError

log = logging.getLogger(__name__)
ACTION_TYPES = wire.types_on(wire.Topic.ACTIONS)

Action = c.CaseCommand | c.GovernanceCommand
COMMANDS: dict[type[wire.Wire], Callable[[Any, InboundId], Action]] = {
    wire.AcknowledgeCase: lambda e, i: c.AcknowledgeCase(e.ticket_id, e.by, inbound=i),
    wire.RecordContact: lambda e, i: c.RecordContact(e.ticket_id, e.by, e.note, inbound=i),
    wire.ReturnCase: lambda e, i: c.ReturnCase(e.ticket_id, e.by, e.code, e.reason, inbound=i),
    wire.RequestExtension: lambda e, i: c.RequestExtension(
        e.ticket_id, e.by, e.requested_until, e.reason, inbound=i
    ),
    wire.ResolveCase: lambda e, i: c.ResolveCase(e.ticket_id, e.by, e.result, inbound=i),
    wire.AnswerSupervisionOrder: lambda e, i: c.AnswerSupervisionOrder(
        e.ticket_id, e.by, e.order_id, e.reply, e.unit, e.post, inbound=i
    ),
    wire.RequestPause: lambda e, i: c.RequestPause(
        e.ticket_id, e.by, e.reason_code, e.reason, e.resume_at, inbound=i
    ),
    wire.ResumeCase: lambda e, i: c.ResumeCase(e.ticket_id, e.by, e.note, inbound=i),
    wire.CoAcknowledgeCase: lambda e, i: c.AcknowledgeAsCoHandler(e.ticket_id, e.by, e.unit, inbound=i),
    wire.CoReportCase: lambda e, i: c.ReportToLead(e.ticket_id, e.by, e.unit, e.report, inbound=i),
    wire.ReportGovernanceTask: lambda e, i: c.ReportGovernanceTask(
        e.by, task_id=e.task_id, report=e.report, unit=e.unit, inbound=i
    ),
    wire.WhistleCase: lambda e, i: c.Whistle(
        e.ticket_id, e.by, calls=tuple(c.WhistleCall(call.unit, call.ask) for call in e.calls), inbound=i
    ),
}


def command_for(record: KafkaRecord) -> Action:
    event = decode(record, ACTION_TYPES)
    return COMMANDS[type(event.data)](event.data, InboundId(event.source, event.id))


def apply_command(record: KafkaRecord, command: Action | c.DeadLetter, bus: MessageBus, what: str) -> None:
    """Apply the record's command exactly once. One that names an unknown ticket or asks what the case
    refuses goes to the dead-letter topic with its reason; a concurrent change is raised, for the agent
    to apply the record again."""
    if isinstance(command, c.DeadLetter):
        bus.handle(command)
        return
    assert command.inbound is not None
    try:
        bus.handle(command)
    except CaseNotFoundError as error:
        bus.handle(dead_letter_for(record, RejectReason.UNKNOWN_TICKET, str(error), command.inbound))
    except ConcurrencyError:
        raise
    except CaseError as error:
        on = command.ticket_id if isinstance(command, c.CaseCommand) else getattr(command, "task_id", "")
        log.warning("%s %s on %s refused: %s", what, type(command).__name__, on, error)
        bus.handle(dead_letter_for(record, RejectReason.REFUSED, str(error), command.inbound))
