"""What `GET /metrics` counts in the database, read in one connection: every figure is an aggregate (a
count per state, per reason, per level...), so a scrape costs the same at any size of the tables' indexes.
And whether the database answers at all (`GET /api/health`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, Text, cast, func, or_, select, text
from sqlalchemy import case as when

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading, stored_forms
from dispatcher.adapters.sql import encode_headers
from dispatcher.adapters.timers import FIRED
from dispatcher.contract.cloudevents import RejectReason
from dispatcher.contract.events import Topic
from dispatcher.domain.case import CaseState
from dispatcher.domain.states import AT_A_UNIT, values_of

NOTIFICATION_STATUSES = ("pending", "sent", "failed")
REASON_HEADER = "jiesu_reason"
OTHER_REASON = "other"  # a dead letter whose reason is none of the contract's


@dataclass(frozen=True)
class Counts:
    consumed: int  # inbound events applied (the inbox)
    states: dict[str, int]  # cases by state, every state present
    dispatched: int  # cases with an assignment
    dead_letters: dict[str, int]  # by reason, every reason present and `other`
    open_escalations: dict[str, int]  # fired escalation steps on open cases, by level
    backlog: int  # outbox rows not yet relayed
    oldest_unsent_s: float  # age of the oldest of them (0 when none waits)
    notifications: dict[str, int]  # by delivery status, every status present
    direct_closes: int = 0  # consultations closed at intake from the knowledge base (直接办结)


def reason_markers(reason: str) -> set[str]:
    """The reason header as it is stored in `outbox.headers` (JSON, the value in base64)."""
    return stored_forms(encode_headers([(REASON_HEADER, reason.encode())])[0])


def check_database(engine: Engine) -> None:
    """Ask the database a trivial question; raises `SQLAlchemyError` if it does not answer."""
    with reading(engine) as connection:
        connection.execute(text("SELECT 1"))


def counts(engine: Engine, now: datetime) -> Counts:
    """Every count, read in one read-only connection; raises `SQLAlchemyError` if the database does not
    answer."""
    with reading(engine) as connection:
        return _counts(connection, now)


def _counts(connection: Connection, now: datetime) -> Counts:
    cases, outbox, timers, notes = t.cases.c, t.outbox.c, t.sla_timers.c, t.notifications.c
    consumed = connection.execute(select(func.count()).select_from(t.inbox)).scalar_one()

    states: dict[str, int] = dict.fromkeys(CaseState, 0)
    states.update(connection.execute(select(cases.state, func.count()).group_by(cases.state)).tuples().all())
    dispatched = connection.execute(select(func.count(func.distinct(t.assignments.c.ticket_id)))).scalar_one()
    direct = connection.execute(select(func.count(cases.knowledge_entry))).scalar_one()

    # One pass over the dead letters, each reason matched in the stored headers' text: nothing is decoded.
    reasons = [reason.value for reason in RejectReason]
    headers = cast(outbox.headers, Text)
    matched = [
        func.count(
            when((or_(*(headers.contains(form, autoescape=True) for form in reason_markers(reason))), 1))
        )
        for reason in reasons
    ]
    dead_query = select(func.count(), *matched).where(outbox.topic.endswith(Topic.DEADLETTER.value))
    total, *by_reason = connection.execute(dead_query).one()
    dead: dict[str, int] = dict(zip(reasons, by_reason, strict=True))
    dead[OTHER_REASON] = total - sum(by_reason)

    open_escalations = (
        select(timers.level, func.count())
        .select_from(t.sla_timers.join(t.cases, cases.ticket_id == timers.ticket_id))
        .where(timers.kind == "escalation", timers.status == FIRED, cases.state.in_(values_of(AT_A_UNIT)))
        .group_by(timers.level)
        .order_by(timers.level)
    )
    levels = {str(level): count for level, count in connection.execute(open_escalations).tuples()}

    unsent = outbox.sent_at.is_(None)
    backlog = connection.execute(select(func.count()).select_from(t.outbox).where(unsent)).scalar_one()
    # the relay sends in id order: the oldest unsent row is the first one
    oldest = connection.execute(
        select(outbox.created_at).where(unsent).order_by(outbox.id).limit(1)
    ).scalar_one_or_none()
    waiting = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0

    statuses: dict[str, int] = dict.fromkeys(NOTIFICATION_STATUSES, 0)
    statuses.update(
        connection.execute(select(notes.status, func.count()).group_by(notes.status)).tuples().all()
    )
    return Counts(consumed, states, dispatched, dead, levels, backlog, waiting, statuses, direct)
