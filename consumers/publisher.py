"""Publishing requests to `jiesu.intake` as CloudEvents (binary mode), as a hotline intake system does."""

from __future__ import annotations

import uuid
from typing import Any

from kafka import KafkaProducer

from dispatcher.contract.cloudevents import encode
from dispatcher.contract.events import ComplaintReceived, Topic
from dispatcher.settings import Settings

COMPLAINT_RECEIVED = "jiesu.complaint.received"


class IntakePublisher:
    def __init__(
        self, settings: Settings, source: str = "/jiesu/simulator", *, timeout_ms: int | None = None
    ) -> None:
        """Connects to the broker now: raises `KafkaError` if none answers within the bootstrap timeout.

        `timeout_ms` bounds every wait (bootstrap, metadata, request, delivery) for callers that must
        answer quickly, such as a web request; None keeps kafka-python's defaults (30 s and more).
        """
        self._topic = settings.topic(Topic.INTAKE)
        self._source = source
        limits: dict[str, int] = {}
        if timeout_ms is not None:
            limits = {
                "bootstrap_timeout_ms": timeout_ms,
                "max_block_ms": timeout_ms,
                "request_timeout_ms": timeout_ms,
                "delivery_timeout_ms": timeout_ms + 5,
            }
        self._producer: Any = KafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap,
            acks="all",
            linger_ms=5,
            client_id="jiesu-intake",
            **limits,
        )

    def publish(self, complaint: ComplaintReceived, event_id: str | None = None) -> Any:
        """Send one request; returns the send future."""
        record = encode(
            self._topic,
            COMPLAINT_RECEIVED,
            complaint,
            key=complaint.ticket_id,
            event_id=event_id or str(uuid.uuid4()),
            source=self._source,
            time=complaint.received_at,
        )
        return self._producer.send(record.topic, key=record.key, value=record.value, headers=record.headers)

    def close(self) -> None:
        self._producer.flush(timeout=30)
        self._producer.close(timeout=10)
