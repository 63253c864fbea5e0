"""Open311's `GET requests`: stored cases by the spec's parameters (ids, or a window of received times,
service codes and open/closed), newest received first, at most `MAX_REQUESTS`; each a `StoredRequest`
with its current unit and the time of its latest change. The window is read on `ix_cases_received`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, Label, RowMapping, func, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.domain.case import CaseState
from dispatcher.domain.states import ENDED, values_of
from dispatcher.reads.rows import CASE_WITH_ASSIGNMENT, K
from rules.complaint import Location

MAX_REQUESTS = 1000
# Open311's `closed`: nothing more happens to the case (closed, or linked to the case it repeats)
CLOSED = values_of(ENDED)
OPEN = values_of(set(CaseState) - ENDED)


@dataclass(frozen=True)
class StoredRequest:
    """A stored case with what Open311 may show of it (the route decides what the public sees)."""

    ticket_id: str
    state: CaseState
    category: str | None
    description: str
    location: Location  # as the hotline recorded it
    requester_name: str | None
    confidential: bool  # 保密: the requester asked that who they are and where stay hidden
    attachments: tuple[str, ...]
    unit: str | None  # the current assignment's
    linked_to: str | None
    received_at: datetime
    updated_at: datetime  # the latest change to the case (its dispatch if nothing changed since)
    reply_due: datetime | None

    @property
    def closed(self) -> bool:
        """Open311's `closed`: nothing more happens to the case."""
        return self.state in ENDED


def stored_request(row: RowMapping) -> StoredRequest:
    location, requester = row["location"] or {}, row["requester"] or {}
    name = requester.get("name")
    return StoredRequest(
        ticket_id=row["ticket_id"],
        state=CaseState(row["state"]),
        category=row["category"],
        description=row["description"],
        location=Location(**location),
        requester_name=name if isinstance(name, str) else None,
        confidential=bool(requester.get("confidential")),
        attachments=tuple(row["attachments"] or ()),
        unit=row["unit"],
        linked_to=row["linked_to"],
        received_at=row["received_at"],
        updated_at=row["updated_at"] or row["dispatched_at"],
        reply_due=row["reply_due"],
    )


def updated_at() -> Label[datetime | None]:
    """The time of the latest entry that changed the case (not a reveal or a denied attempt)."""
    audit = t.audit.c
    return (
        select(func.max(audit.at))
        .where(audit.ticket_id == K.ticket_id, audit.action != "reveal", ~audit.action.like("denied:%"))
        .scalar_subquery()
        .label("updated_at")
    )


def _stored(engine: Engine, where: Sequence[ColumnElement[bool]]) -> list[StoredRequest]:
    query = (
        CASE_WITH_ASSIGNMENT.add_columns(updated_at())
        .where(*where)
        .order_by(K.received_at.desc(), K.ticket_id)
        .limit(MAX_REQUESTS)
    )
    with reading(engine) as connection:
        return [stored_request(row) for row in connection.execute(query).mappings()]


def by_ids(engine: Engine, ids: Sequence[str]) -> list[StoredRequest]:
    """The stored cases among these ticket ids, newest received first."""
    return _stored(engine, [K.ticket_id.in_(list(ids))]) if ids else []


def requests(
    engine: Engine,
    *,
    start: datetime,
    end: datetime,
    service_codes: Sequence[str] = (),
    status: str | None = None,
) -> list[StoredRequest]:
    """Cases received from `start` to `end` (both included), of these categories (any if none), `open` or
    `closed` (either if None): newest received first, at most `MAX_REQUESTS`."""
    where = [K.received_at >= start, K.received_at <= end]
    if service_codes:
        where.append(K.category.in_(list(service_codes)))
    if status == "open":
        where.append(K.state.in_(OPEN))
    elif status == "closed":
        where.append(K.state.in_(CLOSED))
    return _stored(engine, where)
