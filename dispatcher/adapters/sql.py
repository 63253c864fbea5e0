"""The SQL unit of work: cases, audit, inbox and outbox in one transaction (SQLite or PostgreSQL)."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from types import TracebackType

from sqlalchemy import Connection, Engine, bindparam, insert, select

from dispatcher.adapters import tables as t
from dispatcher.contract import cloudevents
from dispatcher.contract.events import Topic
from dispatcher.contract.mapping import event_to_wire
from dispatcher.domain.case import Case
from dispatcher.domain.commands import DeadLetter, InboundId

Clock = Callable[[], datetime]
TopicName = Callable[[str], str]
SOURCE = "/jiesu/dispatcher"

# Built once: per-call `.values(...)` would recompute SQLAlchemy's cache key on every event.
INSERT_CASE = insert(t.cases)
INSERT_ASSIGNMENT = insert(t.assignments)
INSERT_AUDIT = insert(t.audit)
INSERT_INBOX = insert(t.inbox)
INSERT_OUTBOX = insert(t.outbox)
CASE_EXISTS = select(t.cases.c.ticket_id).where(t.cases.c.ticket_id == bindparam("ticket_id"))
INBOX_SEEN = select(t.inbox.c.event_id).where(
    t.inbox.c.source == bindparam("source"), t.inbox.c.event_id == bindparam("event_id")
)


def encode_headers(headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]) -> list[list[str]]:
    return [[name, base64.b64encode(value).decode()] for name, value in headers]


def decode_headers(stored: list[list[str]]) -> list[tuple[str, bytes]]:
    return [(name, base64.b64decode(value)) for name, value in stored]


class SqlCaseRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.added: list[Case] = []

    def add(self, case: Case) -> None:
        complaint = case.complaint
        self._connection.execute(
            INSERT_CASE,
            dict(
                ticket_id=case.ticket_id,
                state=case.state.value,
                urgency=case.urgency.value,
                channel=complaint.channel,
                kind=complaint.kind,
                description=complaint.description,
                category=case.category,
                queue=case.queue,
                location=asdict(complaint.location),
                requester=asdict(complaint.requester),
                attachments=list(complaint.attachments),
                related_ticket_id=complaint.related_ticket_id,
                received_at=complaint.received_at,
                dispatched_at=case.dispatched_at,
                version=case.version,
            ),
        )
        if case.assignment is not None:
            assignment = {**asdict(case.assignment), "co_handlers": list(case.assignment.co_handlers)}
            row = {
                "ticket_id": case.ticket_id,
                "assigned_at": case.dispatched_at,
                "current": True,
                **assignment,
            }
            self._connection.execute(INSERT_ASSIGNMENT, row)
        self.added.append(case)

    def exists(self, ticket_id: str) -> bool:
        return self._connection.execute(CASE_EXISTS, {"ticket_id": ticket_id}).first() is not None


class SqlInbox:
    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._connection = connection
        self._clock = clock

    def seen(self, inbound: InboundId) -> bool:
        found = self._connection.execute(INBOX_SEEN, {"source": inbound.source, "event_id": inbound.id})
        return found.first() is not None

    def record(self, inbound: InboundId) -> None:
        row = {"source": inbound.source, "event_id": inbound.id, "processed_at": self._clock()}
        self._connection.execute(INSERT_INBOX, row)


class SqlOutbox:
    def __init__(self, connection: Connection, topic: TopicName, clock: Clock) -> None:
        self._connection = connection
        self._topic = topic
        self._clock = clock

    def publish(self, case: Case) -> None:
        """Queue the case's new events for `jiesu.cases`, keyed by ticket id."""
        rows = []
        for event in case.events:
            event_type, data = event_to_wire(event)
            record = cloudevents.encode(
                self._topic(Topic.CASES),
                event_type,
                data,
                key=case.ticket_id,
                event_id=str(uuid.uuid4()),
                source=SOURCE,
                time=event.at,
            )
            rows.append(self._row(record.topic, record.key, record.value, record.headers))
        if rows:
            self._connection.execute(INSERT_OUTBOX, rows)
        case.events.clear()

    def dead_letter(self, command: DeadLetter) -> None:
        headers = [
            *command.headers,
            ("jiesu_reason", command.reason.encode()),
            ("jiesu_detail", command.detail.encode()),
            ("jiesu_original_topic", command.topic.encode()),
            ("jiesu_original_partition", str(command.partition).encode()),
            ("jiesu_original_offset", str(command.offset).encode()),
        ]
        row = self._row(self._topic(Topic.DEADLETTER), command.key, command.value or b"", headers)
        self._connection.execute(INSERT_OUTBOX, row)

    def _row(
        self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]
    ) -> dict[str, object]:
        return {
            "topic": topic,
            "key": key,
            "value": value,
            "headers": encode_headers(headers),
            "created_at": self._clock(),
        }


def write_audit(connection: Connection, case: Case) -> None:
    if case.audit:
        connection.execute(INSERT_AUDIT, [asdict(entry) for entry in case.audit])
        case.audit.clear()


class SqlUnitOfWork:
    """One connection and transaction per `with` block; `commit()` also writes audit and outbox."""

    def __init__(self, engine: Engine, topic: TopicName, clock: Clock, on_commit: Callable[[], None]) -> None:
        self._engine = engine
        self._topic = topic
        self._clock = clock
        self._on_commit = on_commit

    def __enter__(self) -> SqlUnitOfWork:
        self._connection = self._engine.connect()
        self._transaction = self._connection.begin()
        self.cases = SqlCaseRepository(self._connection)
        self.inbox = SqlInbox(self._connection, self._clock)
        self.outbox = SqlOutbox(self._connection, self._topic, self._clock)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._transaction.is_active:
            self._transaction.rollback()
        self._connection.close()

    def commit(self) -> None:
        for case in self.cases.added:
            write_audit(self._connection, case)
            self.outbox.publish(case)
        self._transaction.commit()
        self._on_commit()
