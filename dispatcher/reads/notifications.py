"""The delivery log of notifications: a case's messages (its page and `GET .../notifications`), or a
recipient's or a status's (`jiesu notifications failed`); the latest `LIMIT` of them, oldest first, phone
numbers and webhook keys never shown."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.domain.privacy import mask_phone

LIMIT = 1000


def notifications(
    engine: Engine, *, ticket_id: str | None = None, recipient: str | None = None, status: str | None = None
) -> list[dict[str, Any]]:
    """The delivery log, its latest `LIMIT` messages oldest first (phone numbers masked)."""
    n = t.notifications.c
    query = select(
        n.id,
        n.kind,
        n.recipient,
        n.channel,
        n.address,
        n.subject,
        n.status,
        n.attempts,
        n.due_at,
        n.last_error,
        n.created_at,
        n.sent_at,
    ).order_by(n.id.desc())
    for column, value in ((n.ticket_id, ticket_id), (n.recipient, recipient), (n.status, status)):
        if value is not None:
            query = query.where(column == value)
    with reading(engine) as connection:
        rows = [dict(row) for row in connection.execute(query.limit(LIMIT)).mappings()][::-1]
    for row in rows:
        row["address"] = shown_address(row["channel"], row["address"])
    return rows


def shown_address(channel: str, address: str) -> str:
    """Where a message went, as the log shows it: a phone masked; a webhook or robot URL only as its host
    (its path and query carry the key that lets anyone post to the group)."""
    if channel == "sms":
        return mask_phone(address) or ""
    if "://" in address:
        parts = urlsplit(address)
        return f"{parts.scheme}://{parts.hostname or ''}/…"
    return address
