"""What notifications read: the cases the events are about, with their current assignment (for the
planner); and the delivery log: a case's messages (its page and `GET .../notifications`), or a
recipient's or a status's (`jiesu notifications failed`), the latest `LIMIT` of them, oldest first, phone
numbers and webhook keys never shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, RowMapping, and_, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading, with_lists
from dispatcher.domain.privacy import mask_phone
from rules.complaint import Location

LIMIT = 1000
A = t.assignments.c
CASES_AND_ASSIGNMENTS = with_lists(
    lambda among: (
        select(t.cases, A.unit.label("a_unit"), A.post.label("a_post"), A.person.label("a_person"))
        .outerjoin(t.assignments, and_(A.ticket_id == t.cases.c.ticket_id, A.current.is_(True)))
        .where(among(t.cases.c.ticket_id, "tickets"))
    )
)


@dataclass(frozen=True)
class NotifiedCase:
    """A case as the messages about it may describe it, and whom it is at now."""

    ticket_id: str
    category: str | None
    urgency: str
    description: str
    district: str | None  # where the rules placed it: the supervisors' scope
    location: Location  # as the hotline recorded it
    requester_name: str | None
    requester_phone: str | None
    confidential: bool
    unit: str | None  # the current assignment's
    post: str | None
    person: str | None
    reply_due: datetime | None
    state: str = ""  # now: a case merged into a main case (并案) needs no one's action of its own
    # the co-handling units (吹哨报到: those called in), unit → (post, person) on duty when called
    co_handlers: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    dispatched_at: datetime | None = None  # when it opened (a case merged then was never told of)


def notified_cases(engine: Engine, tickets: Sequence[str]) -> dict[str, NotifiedCase]:
    """These cases (those stored) by ticket, read at once."""
    with reading(engine) as connection:
        query = CASES_AND_ASSIGNMENTS.on(connection)
        rows = connection.execute(query, {"tickets": list(tickets)}).mappings().all()
    return {row["ticket_id"]: _notified(row) for row in rows}


def _notified(row: RowMapping) -> NotifiedCase:
    requester = row["requester"] or {}
    return NotifiedCase(
        ticket_id=row["ticket_id"],
        category=row["category"],
        urgency=row["urgency"],
        description=row["description"],
        district=row["district"],
        location=Location(**(row["location"] or {})),
        requester_name=requester.get("name"),
        requester_phone=requester.get("phone"),
        confidential=bool(requester.get("confidential")),
        unit=row["a_unit"],
        post=row["a_post"],
        person=row["a_person"],
        reply_due=row["reply_due"],
        state=row["state"],
        co_handlers={
            unit: (co.get("post"), co.get("person")) for unit, co in (row["co_handlers"] or {}).items()
        },
        dispatched_at=row["dispatched_at"],
    )


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
