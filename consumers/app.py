"""The faust application and its agents. Built by a function: nothing connects at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

import faust
from sqlalchemy.exc import DBAPIError

from consumers.actions import handle_action
from consumers.feedback import handle_callback
from consumers.intake import handle_intake
from dispatcher.contract.cloudevents import KafkaRecord
from dispatcher.contract.events import Topic
from dispatcher.service.messagebus import MessageBus
from dispatcher.service.unit_of_work import ConcurrencyError
from dispatcher.settings import Settings

log = logging.getLogger(__name__)
RETRY_SECONDS = (0.5, 1, 2, 5, 10)


def record_of(message: Any) -> KafkaRecord:
    headers = [(name, bytes(value or b"")) for name, value in (message.headers or ())]
    return KafkaRecord(message.topic, message.key, message.value, headers, message.partition, message.offset)


async def apply_with_retry(apply: Callable[[KafkaRecord], object], record: KafkaRecord) -> None:
    """Database trouble (down, failover, lock) or a concurrent change pauses consumption and the record is
    applied again; it is never skipped."""
    attempt = 0
    while True:
        try:
            apply(record)
            return
        except (DBAPIError, ConcurrencyError) as error:
            pause = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
            log.warning("%s; retrying in %ss", error.__class__.__name__, pause)
            attempt += 1
            await asyncio.sleep(pause)


def build_app(settings: Settings, bus: MessageBus) -> faust.App:
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
    )
    agents: dict[Topic, Callable[[KafkaRecord, MessageBus], None]] = {
        Topic.INTAKE: handle_intake,
        Topic.ACTIONS: handle_action,
        Topic.FEEDBACK: handle_callback,
    }
    for topic, handle in agents.items():
        add_agent(app, settings.topic(topic), topic.value, partial(_apply, handle, bus))
    return app


def _apply(handle: Callable[[KafkaRecord, MessageBus], None], bus: MessageBus, record: KafkaRecord) -> None:
    handle(record, bus)


def add_agent(app: faust.App, topic_name: str, name: str, apply: Callable[[KafkaRecord], object]) -> None:
    """One agent (concurrency 1: an offset is never committed past a record still in flight) per topic."""
    topic = app.topic(
        topic_name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )

    async def agent(stream: Any) -> None:
        async for event in stream.events():
            await apply_with_retry(apply, record_of(event.message))

    app.agent(topic, concurrency=1, name=name)(agent)
