"""The faust application and its agents. Built by a function: nothing connects at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import Any

import faust
from sqlalchemy.exc import DataError, DBAPIError, StatementError

from consumers import actions, feedback
from consumers.actions import apply_command
from consumers.intake import apply_intake, dead_letter_for, position, translate, translate_intake
from dispatcher.adapters.sql import BatchAbortedError
from dispatcher.contract.cloudevents import KafkaRecord, RejectReason
from dispatcher.contract.events import Topic
from dispatcher.domain.commands import CaseCommand, DispatchCase, InboundId
from dispatcher.service.messagebus import MessageBus
from dispatcher.service.unit_of_work import ConcurrencyError
from dispatcher.settings import Settings

log = logging.getLogger(__name__)
RETRY_SECONDS = (0.5, 1, 2, 5, 10)
MAX_BATCH = 1000
SPLITS = 10  # failed commands a batch is split around before the rest is applied one by one
Apply = Callable[[KafkaRecord], object]
BatchScope = Callable[
    [Sequence[InboundId], Sequence[str], Sequence[str], Sequence[str]], AbstractContextManager[None]
]
Together = Callable[[Sequence[KafkaRecord]], object]


def record_of(message: Any) -> KafkaRecord:
    headers = [(name, bytes(value or b"")) for name, value in (message.headers or ())]
    return KafkaRecord(message.topic, message.key, message.value, headers, message.partition, message.offset)


async def apply_with_retry(apply: Apply, record: KafkaRecord) -> None:
    """Database trouble (down, failover, lock) or a concurrent change pauses consumption and the record is
    applied again; it is never skipped."""
    attempt = 0
    while True:
        try:
            await asyncio.to_thread(apply, record)
            return
        except (DBAPIError, ConcurrencyError) as error:
            pause = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
            log.warning("%s; retrying in %ss", error.__class__.__name__, pause)
            attempt += 1
            await asyncio.sleep(pause)


@dataclass(frozen=True)
class Inflow:
    """How the records of one topic become commands (or dead letters) and are applied."""

    translate: Callable[[KafkaRecord], Any]
    apply: Callable[[KafkaRecord, Any, MessageBus], None]


INFLOWS = {
    Topic.INTAKE: Inflow(translate_intake, apply_intake),
    Topic.ACTIONS: Inflow(
        partial(translate, command_for=actions.command_for, what="action"),
        partial(apply_command, what="action"),
    ),
    Topic.FEEDBACK: Inflow(
        partial(translate, command_for=feedback.command_for, what="callback"),
        partial(apply_command, what="callback"),
    ),
}


def apply_one(inflow: Inflow, bus: MessageBus, record: KafkaRecord) -> None:
    """Apply one record in its own transaction. If the database refuses its data (a value it cannot
    store), the record goes to the dead-letter topic instead of being retried for ever."""
    command = inflow.translate(record)
    try:
        inflow.apply(record, command, bus)
    except StatementError as error:
        if isinstance(error, DBAPIError) and not isinstance(error, DataError):
            raise  # the database is down, busy or changed meanwhile: retried
        detail = f"the database refused its data: {error.orig}"[:500]
        log.error("%s %s/%s: %s", record.topic, record.partition, record.offset, detail)
        bus.handle(dead_letter_for(record, RejectReason.INVALID_VALUE, detail, position(record)))


def apply_together(
    inflow: Inflow, bus: MessageBus, batch: BatchScope, records: Sequence[KafkaRecord]
) -> None:
    """Apply the records in one transaction (see `SqlUnitOfWork.batch`). If a command fails, the
    `BatchAbortedError` says at which record."""
    commands = [inflow.translate(record) for record in records]
    inbound = [command.inbound for command in commands if command.inbound is not None]
    requests = [command.complaint for command in commands if isinstance(command, DispatchCase)]
    tickets = [request.ticket_id for request in requests]
    phones = [request.requester.phone for request in requests if request.requester.phone]
    acted_on = [command.ticket_id for command in commands if isinstance(command, CaseCommand)]
    with batch(inbound, tickets, phones, acted_on):
        for at, (record, command) in enumerate(zip(records, commands, strict=True)):
            try:
                inflow.apply(record, command, bus)
            except BatchAbortedError as aborted:
                raise BatchAbortedError(str(aborted), at) from aborted.__cause__


async def apply_all(apply: Apply, records: Sequence[KafkaRecord], together: Together | None) -> None:
    """Apply the records in one transaction. If a command fails (a refusal to dead-letter, a duplicate),
    the records before it are applied together again, it alone, and the rest together (up to `SPLITS`
    times; then one by one); if the batch fails otherwise (the database), one by one, each in its own
    transaction, as the retry rules say."""
    rest, splits = list(records), 0
    while together is not None and len(rest) > 1 and splits < SPLITS:
        try:
            await asyncio.to_thread(together, rest)
            return
        except BatchAbortedError as aborted:
            if aborted.at is None:
                log.debug("%s; applying %d records one by one", aborted, len(rest))
                break
            log.debug("%s at record %d of %d: applying it alone", aborted, aborted.at + 1, len(rest))
            ahead, failed, rest = rest[: aborted.at], rest[aborted.at], rest[aborted.at + 1 :]
            await apply_all(apply, ahead, together)
            await apply_with_retry(apply, failed)
            splits += 1
        except Exception as error:
            log.warning("a batch of %d records failed (%r); applying them one by one", len(rest), error)
            break
    for record in rest:
        await apply_with_retry(apply, record)


def build_app(settings: Settings, bus: MessageBus, batch: BatchScope | None = None) -> faust.App:
    (settings.state_dir / "faust").mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.consumer_group,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        datadir=str(settings.state_dir / "faust"),
        web_enabled=False,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        # a crashed worker's partitions move to the others within seconds, not a minute
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        topic_partitions=settings.topic_partitions,
        # at a rebalance or a stop, records taken but not yet applied are simply not acknowledged (they
        # come again, and the inbox drops what was applied meanwhile): nothing to wait for
        stream_wait_empty=False,
    )
    for topic, inflow in INFLOWS.items():
        together = partial(apply_together, inflow, bus, batch) if batch is not None else None
        add_agent(app, settings.topic(topic), topic.value, partial(apply_one, inflow, bus), together)
    return app


def _one(together: Together, record: KafkaRecord) -> object:
    return together([record])


def add_agent(
    app: faust.App,
    topic_name: str,
    name: str,
    apply: Apply | None = None,
    together: Together | None = None,
) -> None:
    """One agent per topic (concurrency 1: records are applied in order). The records already received
    when one is taken (up to `MAX_BATCH`) are applied together (`together`, if given, else one by one);
    they are acknowledged only once applied, so an offset is never committed past a record in flight.
    `apply`, one record alone (a batch that fails is applied one by one), is by default `together` of
    that one record."""
    if apply is None:
        assert together is not None, "an agent needs `apply` or `together`"
        apply = partial(_one, together)
    topic = app.topic(
        topic_name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )

    async def agent(stream: Any) -> None:
        stream.enable_acks = False  # acknowledged below, once applied
        taken: list[Any] = []
        async for event in stream.events():
            taken.append(event)
            if len(taken) < MAX_BATCH and not stream.channel.empty():
                continue  # more are waiting: take them too
            await apply_all(apply, [record_of(event.message) for event in taken], together)
            for event in taken:
                await stream.ack(event)
            taken.clear()

    app.agent(topic, concurrency=1, name=name)(agent)
