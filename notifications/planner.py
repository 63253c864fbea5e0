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
from dispatcher.adapters.database import reading
from dispatcher.contract.cloudevents import KafkaRecord, RejectedRecord, decode
from dispatcher.contract.events import Topic, types_on
from notifications.policy import NOTIFIED_TYPES, CaseFacts, Directory, Intent, intents, kind_of, release_at
from notifications.render import CaseSnapshot, Renderer
from rules.catalog import Catalog

log = logging.getLogger(__name__)
CASE_TYPES = types_on(Topic.CASES)
A = t.assignments.c
CASE_AND_ASSIGNMENT = select(
    t.cases, A.unit.label("a_unit"), A.post.label("a_post"), A.person.label("a_person")
).outerjoin(t.assignments, and_(A.ticket_id == t.cases.c.ticket_id, A.current.is_(True)))


class Planner:
    def __init__(
        self,
        engine: Engine,
        directory: Directory,
        renderer: Renderer,
        catalog: Callable[[], Catalog],
        clock: Callable[[], datetime],
    ) -> None:
        self._engine, self._directory, self._renderer = engine, directory, renderer
        self._catalog, self._clock = catalog, clock

    def plan_record(self, record: KafkaRecord) -> int:
        """Plan the messages of one record from `jiesu.cases`; a record that is not a case event is
        skipped with a warning (it is our own topic: nothing to dead-letter). An event of a type nobody is
        told of (a case closed...) is passed over without being read."""
        event_type = next((value for name, value in record.headers if name == "ce_type"), None)
        if event_type is not None and event_type.decode(errors="replace") not in NOTIFIED_TYPES:
            return 0
        try:
            event = decode(record, CASE_TYPES)
        except RejectedRecord as rejected:
            log.warning("notifications: record %s/%s skipped: %s", record.partition, record.offset, rejected)
            return 0
        return self.plan(event.id, event.type, event.data.model_dump(mode="json"))

    def plan_records(self, records: Sequence[KafkaRecord]) -> int:
        """Plan the messages of records taken together (one hand-over to a worker thread, not one each);
        each is planned as `plan_record` does, so a failure midway loses nothing: planning again plans
        nothing twice."""
        return sum(self.plan_record(record) for record in records)

    def plan(self, event_id: str, event_type: str, data: Mapping[str, Any]) -> int:
        """Store the messages this event causes (none twice); returns how many are new."""
        if kind_of(event_type, data) is None:
            return 0
        with reading(self._engine) as connection:
            query = CASE_AND_ASSIGNMENT.where(t.cases.c.ticket_id == data["ticket_id"])
            found = connection.execute(query).mappings().first()
        if found is None:
            log.warning("notifications: %s for unknown case %s", event_type, data["ticket_id"])
            return 0
        facts = CaseFacts(
            found["a_unit"], found["a_post"], found["a_person"], found["district"], found["urgency"]
        )
        event = {**data, "type": event_type, "approved": event_type == "jiesu.case.extended"}
        case = self._snapshot(found)
        now = self._clock()
        rows = [
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
    return sum(1 for row in rows if connection.execute(statement, row).first() is not None)
