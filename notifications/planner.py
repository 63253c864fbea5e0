"""From an event on `jiesu.cases` to the messages it causes: who, on which channel, what it says, when it
may go. Each message is a row of the delivery log, keyed by event × recipient × channel, so an event read
twice plans nothing twice. Planning never sends: the deliverer does."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, and_, select
from sqlalchemy.dialects import postgresql, sqlite

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading, with_lists
from dispatcher.contract.cloudevents import KafkaRecord, RejectedRecord, decode
from dispatcher.contract.events import Topic, types_on
from notifications.policy import NOTIFIED_TYPES, CaseFacts, Directory, Intent, intents, kind_of, release_at
from notifications.render import CaseSnapshot, Renderer
from rules.catalog import Catalog
from sla.calendar import Clock

log = logging.getLogger(__name__)
CASE_TYPES = types_on(Topic.CASES)
A = t.assignments.c
CASES_AND_ASSIGNMENTS = with_lists(
    lambda among: (
        select(t.cases, A.unit.label("a_unit"), A.post.label("a_post"), A.person.label("a_person"))
        .outerjoin(t.assignments, and_(A.ticket_id == t.cases.c.ticket_id, A.current.is_(True)))
        .where(among(t.cases.c.ticket_id, "tickets"))
    )
)


class Planner:
    def __init__(
        self,
        engine: Engine,
        directory: Directory,
        renderer: Renderer,
        catalog: Callable[[], Catalog],
        clock: Clock,
    ) -> None:
        self._engine, self._directory, self._renderer = engine, directory, renderer
        self._catalog, self._clock = catalog, clock

    def plan_record(self, record: KafkaRecord) -> int:
        """Plan the messages of one record from `jiesu.cases` (see `plan_records`)."""
        return self.plan_records([record])

    def plan_records(self, records: Sequence[KafkaRecord]) -> int:
        """Plan the messages of records from `jiesu.cases` taken together: their cases read in one query,
        their messages stored in one transaction. A record that is not a case event is skipped with a
        warning (it is our own topic: nothing to dead-letter); an event of a type nobody is told of (a
        case closed...) is passed over without being read. Planning again plans nothing twice."""
        events = []
        for record in records:
            event_type = record.header("ce_type")
            if event_type is not None and event_type not in NOTIFIED_TYPES:
                continue
            try:
                event = decode(record, CASE_TYPES)
            except RejectedRecord as rejected:
                log.warning(
                    "notifications: record %s/%s skipped: %s", record.partition, record.offset, rejected
                )
                continue
            events.append((event.id, event.type, event.data.model_dump(mode="json")))
        return self.plan(events)

    def plan(self, events: Sequence[tuple[str, str, Mapping[str, Any]]]) -> int:
        """Store the messages these events (id, type, data) cause, none twice; returns how many are new."""
        events = [
            (event_id, kind, data) for event_id, kind, data in events if kind_of(kind, data) is not None
        ]
        if not events:
            return 0
        tickets = sorted({data["ticket_id"] for _, _, data in events})
        with reading(self._engine) as connection:
            query = CASES_AND_ASSIGNMENTS.on(connection)
            found = {
                row["ticket_id"]: row for row in connection.execute(query, {"tickets": tickets}).mappings()
            }
        now = self._clock()
        rows = []
        for event_id, event_type, data in events:
            row = found.get(data["ticket_id"])
            if row is None:
                log.warning("notifications: %s for unknown case %s", event_type, data["ticket_id"])
                continue
            facts = CaseFacts(row["a_unit"], row["a_post"], row["a_person"], row["district"], row["urgency"])
            event = {**data, "type": event_type, "approved": event_type == "jiesu.case.extended"}
            case = self._snapshot(row)
            rows += [
                self._row(event_id, intent, case, event, now)
                for intent in intents(event_type, data, facts, self._directory)
            ]
        with self._engine.begin() as connection:  # reads above, outside: SQLite's write lock is taken here
            return insert_new(connection, rows)

    def _row(
        self, event_id: str, intent: Intent, case: CaseSnapshot, event: Mapping[str, Any], now: datetime
    ) -> dict[str, Any]:
        person = intent.recipient
        address = person.addresses[0]
        rendered = self._renderer.render(
            intent.kind, person.language, case=case, event=event, recipient=person.name
        )
        return {
            "key": f"{event_id}:{person.id}:{address.channel.value}",
            "event_id": event_id,
            "ticket_id": case.ticket_id,
            "kind": intent.kind,
            "recipient": person.id,
            "channel": address.channel.value,
            "address": address.address,
            "subject": rendered.subject,
            "text": rendered.text,
            "html": rendered.html,
            "urgent": intent.urgent,
            "status": "pending",
            "attempts": 0,
            "due_at": release_at(now, person.quiet, intent.urgent),
            "created_at": now,
        }

    def _snapshot(self, row: RowMapping) -> CaseSnapshot:
        location, requester = row["location"] or {}, row["requester"] or {}
        category = self._catalog().categories.get(row["category"] or "")
        return CaseSnapshot(
            ticket_id=row["ticket_id"],
            category=row["category"],
            category_name=category.name if category else None,
            urgency=row["urgency"],
            description=row["description"],
            district=location.get("district"),
            street=location.get("street"),
            address=location.get("address"),
            requester_name=requester.get("name"),
            requester_phone=requester.get("phone"),
            confidential=bool(requester.get("confidential")),
            unit=row["a_unit"],
            post=row["a_post"],
            person=row["a_person"],
            reply_due=row["reply_due"],
        )


def insert_new(connection: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert the messages whose key is new; returns how many were."""
    if not rows:
        return 0
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(t.notifications).on_conflict_do_nothing().returning(t.notifications.c.id)
    return len(connection.execute(statement, rows).all())
