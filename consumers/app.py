"""The faust application and its agents. Built by a function: nothing connects at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import faust
from sqlalchemy.exc import DBAPIError

from consumers.intake import handle_intake
from dispatcher.contract.cloudevents import KafkaRecord
from dispatcher.contract.events import Topic
from dispatcher.service.messagebus import MessageBus
from dispatcher.settings import Settings

log = logging.getLogger(__name__)
RETRY_SECONDS = (0.5, 1, 2, 5, 10)


def record_of(message: Any) -> KafkaRecord:
    headers = [(name, bytes(value or b"")) for name, value in (message.headers or ())]
    return KafkaRecord(message.topic, message.key, message.value, headers, message.partition, message.offset)


async def apply_with_retry(apply: Callable[[KafkaRecord], None], record: KafkaRecord) -> None:
    """Database trouble (down, failover, lock) pauses consumption; the record is never skipped."""
    attempt = 0
    while True:
        try:
            apply(record)
            return
        except DBAPIError as error:
            pause = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
            log.warning("database unavailable (%s); retrying in %ss", error.__class__.__name__, pause)
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
    intake = app.topic(
        settings.topic(Topic.INTAKE),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )

    def apply_intake(record: KafkaRecord) -> None:
        handle_intake(record, bus)

    @app.agent(intake, concurrency=1, name="intake")
    async def intake_agent(stream: Any) -> None:
        async for event in stream.events():
            await apply_with_retry(apply_intake, record_of(event.message))

    return app
