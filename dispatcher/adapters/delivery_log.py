"""The delivery log of notifications in the database: messages added once each (by their key), the due ones
claimed for a lease, then marked sent, failed, or due again later. What to send, to whom and when to try
again is decided in `notifications`; this stores and loads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, select, update

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import insert_on_conflict, reading

N = t.notifications.c
PENDING, SENT, FAILED = "pending", "sent", "failed"
LEASE = (
    update(t.notifications)
    .where(N.id == bindparam("b_id"))
    .values(due_at=bindparam("b_due_at"), attempts=bindparam("b_attempts"))
)


@dataclass(frozen=True)
class NewMessage:
    """A message for the log: to whom, on which channel, what it says, not before when."""

    key: str  # event × recipient × channel: a message with a key already in the log is not added again
    event_id: str
    ticket_id: str | None
    kind: str
    recipient: str
    channel: str
    address: str
    subject: str
    text: str
    html: str | None
    urgent: bool
    due_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class LoggedMessage:
    """A message of the log claimed for delivery, with the attempts made before this one."""

    id: int
    key: str
    event_id: str
    ticket_id: str | None
    kind: str
    recipient: str
    channel: str
    address: str
    subject: str
    text: str
    html: str | None
    urgent: bool
    attempts: int


LOGGED = [field.name for field in fields(LoggedMessage)]
ADD_NEW = insert_on_conflict(t.notifications, "ON CONFLICT DO NOTHING").returning(N.id)


class DeliveryLog:
    """Every method is one transaction of its own (or a read)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, messages: Sequence[NewMessage]) -> int:
        """Add the messages whose key is new, pending; returns how many were."""
        if not messages:
            return 0
        # its fields are plain values: a shallow copy (`asdict` copied each one deeply)
        rows = [{**vars(message), "status": PENDING, "attempts": 0} for message in messages]
        with self._engine.begin() as connection:
            return len(connection.execute(ADD_NEW, rows).all())

    def claim(self, channel: str, now: datetime, lease: timedelta, limit: int) -> list[LoggedMessage]:
        """The channel's pending messages due by `now` (urgent first, then by due time), up to `limit`:
        each counts an attempt and is not due again before `now + lease` (another worker may then take it
        if this one died)."""
        query = (
            select(t.notifications)
            .where(N.status == PENDING, N.channel == channel, N.due_at <= now)
            .order_by(N.urgent.desc(), N.due_at, N.id)
            .limit(limit)
        )
        with reading(self._engine) as connection:  # most polls find nothing: no write lock for those
            if connection.execute(query.with_only_columns(N.id)).first() is None:
                return []
        with self._engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = connection.execute(query).all()
            if rows:  # one statement for the batch
                leased = [{"b_id": r.id, "b_due_at": now + lease, "b_attempts": r.attempts + 1} for r in rows]
                connection.execute(LEASE, leased)
        return [LoggedMessage(**{name: getattr(row, name) for name in LOGGED}) for row in rows]

    def channels_tried(self, event_id: str, recipient: str) -> list[str]:
        """The channels the log holds a message of this event to this recipient on."""
        query = select(N.channel).where(N.event_id == event_id, N.recipient == recipient)
        with reading(self._engine) as connection:
            return list(connection.execute(query).scalars())

    def all_sent(self, message_ids: Sequence[int], at: datetime) -> None:
        """Mark these messages sent, in one transaction."""
        if not message_ids:
            return
        with self._engine.begin() as connection:
            connection.execute(
                update(t.notifications)
                .where(N.id.in_(list(message_ids)))
                .values(status=SENT, sent_at=at, last_error=None)
            )

    def failed(self, message_id: int, error: str) -> None:
        """Failed for good: not tried again."""
        self._mark(message_id, status=FAILED, last_error=error)

    def due_again(self, message_id: int, at: datetime, error: str) -> None:
        """Failed for now: tried again at `at`."""
        self._mark(message_id, due_at=at, last_error=error)

    def _mark(self, message_id: int, **values: Any) -> None:
        with self._engine.begin() as connection:
            connection.execute(update(t.notifications).where(N.id == message_id).values(**values))
