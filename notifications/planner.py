"""From an event on `jiesu.cases` to the messages it causes: who, on which channel, what it says, when it
may go. Each message is a row of the delivery log, keyed by event × recipient × channel, so an event read
twice plans nothing twice. Planning never sends: the deliverer does."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine

from dispatcher.adapters.delivery_log import DeliveryLog, NewMessage
from dispatcher.contract.cloudevents import KafkaRecord, RejectedRecord, decode
from dispatcher.contract.events import Topic, types_on
from dispatcher.domain.states import CaseState
from dispatcher.reads.governance import governance_task
from dispatcher.reads.notifications import NotifiedCase, notified_cases
from notifications.policy import (
    GOVERNANCE_TYPES,
    NOTIFIED_TYPES,
    CaseFacts,
    Directory,
    Intent,
    addressed,
    intents,
    kind_of,
    release_at,
    told_of_merge,
)
from notifications.render import CaseSnapshot, Renderer
from rules.catalog import Catalog
from sla.calendar import Clock

log = logging.getLogger(__name__)
CASE_TYPES = types_on(Topic.CASES)
HOTSPOT_TYPES = types_on(Topic.HOTSPOTS)


class RememberingDirectory(Directory, Protocol):
    def remembering(self, people: Collection[str] = ()) -> Directory:
        """The same directory, each person read once: for the events of one batch (`people`, those it
        names, read at once)."""


class Planner:
    def __init__(
        self,
        engine: Engine,
        directory: RememberingDirectory,
        renderer: Renderer,
        catalog: Callable[[], Catalog],
        clock: Clock,
    ) -> None:
        self._engine, self._log = engine, DeliveryLog(engine)
        self._directory, self._renderer = directory, renderer
        self._catalog, self._clock = catalog, clock

    def plan_records(self, records: Sequence[KafkaRecord]) -> int:
        """Plan the messages of records from `jiesu.cases` taken together: their cases read in one query,
        their messages stored in one transaction. A record that is not a case event is skipped with a
        warning (it is our own topic: nothing to dead-letter); an event of a type nobody is told of (a
        case closed...) is passed over without being read, and so is an event about a case merged into a
        main case by then (并案: the main case's events tell), but for its merge (`told_of_merge`).
        Planning again plans nothing twice."""
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

    def plan_governance_records(self, records: Sequence[KafkaRecord]) -> int:
        """Plan the messages of governance tasks' events from `jiesu.hotspots` (主动治理任务: created,
        warning, overdue); each is described by the task's first linked case not merged into another, as
        the unit knows it. The hotspots' own events, and a task that is not stored, are passed over."""
        events = []
        now = self._clock()
        for record in records:
            if record.header("ce_type") not in GOVERNANCE_TYPES:
                continue
            try:
                event = decode(record, HOTSPOT_TYPES)
            except RejectedRecord as rejected:
                log.warning(
                    "notifications: record %s/%s skipped: %s", record.partition, record.offset, rejected
                )
                continue
            data = event.data.model_dump(mode="json")
            task = governance_task(self._engine, data["task_id"], now)
            if task is None:
                log.warning("notifications: %s for unknown task %s", event.type, data["task_id"])
                continue
            linked = notified_cases(self._engine, list(task.ticket_ids))
            ticket = next(  # merged into a main case (并案), a case tells no one: the next one describes it
                (t for t in task.ticket_ids if t in linked and linked[t].state != CaseState.MERGED), None
            )
            if ticket is not None:
                events.append((event.id, event.type, {**data, "ticket_id": ticket}))
        return self.plan(events)

    def plan(self, events: Sequence[tuple[str, str, Mapping[str, Any]]]) -> int:
        """Store the messages these events (id, type, data) cause, none twice; returns how many are new."""
        events = [
            (event_id, kind, data) for event_id, kind, data in events if kind_of(kind, data) is not None
        ]
        if not events:
            return 0
        found = notified_cases(self._engine, sorted({data["ticket_id"] for _, _, data in events}))
        now = self._clock()
        directory = self._directory.remembering(named_in(found.values()))
        messages = []
        for event_id, event_type, data in events:
            notified = found.get(data["ticket_id"])
            if notified is None:
                log.warning("notifications: %s for unknown case %s", event_type, data["ticket_id"])
                continue
            if notified.state == CaseState.MERGED and not told_of_merge(
                event_type, data, notified.dispatched_at
            ):  # 并案: its main case's events tell whom they must; its merge tells its unit
                continue
            facts = CaseFacts(
                notified.unit, notified.post, notified.person, notified.district, notified.urgency
            )
            facts = addressed(event_type, data, facts, notified.co_handlers)
            event = {**data, "type": event_type, "approved": event_type == "jiesu.case.extended"}
            case = self._snapshot(notified)
            messages += [
                self._message(event_id, intent, case, event, now)
                for intent in intents(event_type, data, facts, directory)
            ]
        return self._log.add(messages)  # reads above, apart: SQLite's write lock is taken only here

    def _message(
        self, event_id: str, intent: Intent, case: CaseSnapshot, event: Mapping[str, Any], now: datetime
    ) -> NewMessage:
        person = intent.recipient
        address = person.addresses[0]
        rendered = self._renderer.render(
            intent.kind, person.language, case=case, event=event, recipient=person.name
        )
        return NewMessage(
            key=f"{event_id}:{person.id}:{address.channel.value}",
            event_id=event_id,
            ticket_id=case.ticket_id,
            kind=intent.kind,
            recipient=person.id,
            channel=address.channel.value,
            address=address.address,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            urgent=intent.urgent,
            due_at=release_at(now, person.quiet, intent.urgent),
            created_at=now,
        )

    def _snapshot(self, notified: NotifiedCase) -> CaseSnapshot:
        category = self._catalog().categories.get(notified.category or "")
        return CaseSnapshot(
            ticket_id=notified.ticket_id,
            category=notified.category,
            category_name=category.name if category else None,
            urgency=notified.urgency,
            description=notified.description,
            district=notified.location.district,
            street=notified.location.street,
            address=notified.location.address,
            requester_name=notified.requester_name,
            requester_phone=notified.requester_phone,
            confidential=notified.confidential,
            unit=notified.unit,
            post=notified.post,
            person=notified.person,
            reply_due=notified.reply_due,
        )


def named_in(cases: Iterable[NotifiedCase]) -> set[str]:
    """The people on duty these cases name, at their unit and at the units called in (吹哨报到): most of
    whom the messages of their events go to."""
    people = set()
    for case in cases:
        people |= {person for person in (case.person, *(p for _, p in case.co_handlers.values())) if person}
    return people
