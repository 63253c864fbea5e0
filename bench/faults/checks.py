"""What must hold after a fault, read from the database and the topics (never from logs).

Counting rules: an outbound event is identified by its `ce_id`. The relay is at least once, so after a
crash the same record (same `ce_id`) may be on the topic twice: counted as "redelivered", allowed by the
contract (consumers drop a `ce_id` they have seen). A second event with a different `ce_id` for the same
fact (the same ticket's dispatch, the same timer's escalation) is a duplicate and must never happen.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.sql import decode_headers

DISPATCHED, QUEUED, LINKED = "jiesu.case.dispatched", "jiesu.case.queued", "jiesu.case.linked"
WARNING, BREACHED, ESCALATED = "jiesu.sla.warning", "jiesu.sla.breached", "jiesu.case.escalated"


@dataclass
class Outcome:
    """One scenario's figures and everything found wrong (`problems` empty: it passed)."""

    scenario: str
    sent: int = 0
    cases: int = 0
    dispatch_events: int = 0
    timers_due: int = 0
    timers_fired: int = 0
    sla_events: int = 0
    dead_letters: int = 0
    redelivered: int = 0
    duplicates: int = 0
    lost: int = 0
    unsent: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        self.problems.append(text)


@dataclass(frozen=True)
class Event:
    ce_id: str
    ce_type: str
    key: str
    data: dict[str, Any]
    partition: int
    offset: int


def events_of(records: list[Any]) -> list[Event]:
    found = []
    for record in records:
        headers = {name: bytes(value or b"").decode(errors="replace") for name, value in record.headers}
        try:
            data = json.loads(record.value) if record.value else {}
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
        key = record.key.decode(errors="replace") if record.key else ""
        ce_id, ce_type = headers.get("ce_id", ""), headers.get("ce_type", "")
        found.append(Event(ce_id, ce_type, key, data, record.partition, record.offset))
    return found


def sample(items: Any, count: int = 5) -> str:
    listed = sorted(items)
    more = f" (+{len(listed) - count} more)" if len(listed) > count else ""
    return ", ".join(str(item) for item in listed[:count]) + more


def unsent_outbox(engine: Engine) -> int:
    with engine.connect() as connection:
        query = select(func.count()).select_from(t.outbox).where(t.outbox.c.sent_at.is_(None))
        return int(connection.execute(query).scalar_one())


def outbox_ids(engine: Engine, topic: str) -> Counter[str]:
    """ce_id of every outbox row for `topic` (a Counter: an id written twice would show)."""
    with engine.connect() as connection:
        rows = connection.execute(select(t.outbox.c.headers).where(t.outbox.c.topic == topic))
        return Counter(dict(decode_headers(headers))["ce_id"].decode() for (headers,) in rows)


def check_publication(outcome: Outcome, engine: Engine, topic: str, events: list[Event]) -> None:
    """The topic carries exactly the outbox's rows: each at least once, nothing that is not in the outbox;
    every row is marked sent."""
    outcome.unsent = unsent_outbox(engine)
    if outcome.unsent:
        outcome.problem(f"{outcome.unsent} outbox rows still unsent after the run")
    stored = outbox_ids(engine, topic)
    twice = [ce_id for ce_id, count in stored.items() if count > 1]
    if twice:
        outcome.problem(f"outbox rows with the same ce_id: {sample(twice)}")
    on_topic = Counter(event.ce_id for event in events)
    outcome.redelivered += sum(count - 1 for count in on_topic.values())
    missing = set(stored) - set(on_topic)
    if missing:
        outcome.problem(f"{len(missing)} outbox rows marked sent but not on {topic}: {sample(missing)}")
    foreign = set(on_topic) - set(stored)
    if foreign:
        outcome.problem(f"{len(foreign)} events on {topic} that no outbox row holds: {sample(foreign)}")


def check_dead_letters(outcome: Outcome, tickets: set[str], dead: list[Event]) -> None:
    outcome.dead_letters = len(dead)
    good = [event for event in dead if event.key in tickets]
    if good:
        reasons = Counter(str(event.data.get("ticket_id", event.key)) for event in good)
        outcome.problem(f"{len(good)} valid requests dead-lettered: {sample(reasons)}")
    elif dead:
        outcome.problem(f"{len(dead)} dead letters, none expected")


def check_intake(
    outcome: Outcome,
    engine: Engine,
    acked: dict[str, str],
    cases_topic: str,
    events: list[Event],
    dead: list[Event],
) -> None:
    """Every valid request (ticket -> event id, as acknowledged by the broker) has exactly one case, one
    inbox row and exactly one opening event (dispatched, or queued, or for a repeat the linked event on
    the case it repeats); cases are internally consistent; the outbox drained onto the topic."""
    tickets = set(acked)
    outcome.sent = len(tickets)
    with engine.connect() as connection:
        states: dict[str, str] = dict(
            connection.execute(select(t.cases.c.ticket_id, t.cases.c.state)).tuples().all()
        )
        inbox = set(connection.execute(select(t.inbox.c.event_id)).scalars())
        audit = Counter(
            connection.execute(
                select(t.audit.c.ticket_id).where(t.audit.c.action.in_(("dispatch", "queue", "link")))
            ).scalars()
        )
        current = Counter(
            connection.execute(
                select(t.assignments.c.ticket_id).where(t.assignments.c.current.is_(True))
            ).scalars()
        )
        deadlines = Counter(connection.execute(select(t.deadlines.c.ticket_id)).scalars())
        timers = {
            (ticket, stage)
            for ticket, stage in connection.execute(select(t.sla_timers.c.ticket_id, t.sla_timers.c.stage))
        }
        stages = set(connection.execute(select(t.deadlines.c.ticket_id, t.deadlines.c.stage)).tuples())
    outcome.cases = len(states.keys() & tickets)
    strangers = set(states) - tickets
    if strangers:
        outcome.problem(f"{len(strangers)} cases for tickets never sent: {sample(strangers)}")

    opening: dict[str, set[str]] = defaultdict(set)
    types: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.ce_type in (DISPATCHED, QUEUED):
            opening[event.key].add(event.ce_id)
            types[event.key].add(event.ce_type)
        elif event.ce_type == LINKED:
            repeat = str(event.data.get("repeat_ticket_id"))
            opening[repeat].add(event.ce_id)
            types[repeat].add(LINKED)
    outcome.dispatch_events = sum(len(ids) for ticket, ids in opening.items() if ticket in tickets)

    lost = [ticket for ticket in tickets if ticket not in states or not opening.get(ticket)]
    outcome.lost = len(lost)
    if lost:
        no_case = [ticket for ticket in lost if ticket not in states]
        outcome.problem(
            f"{len(lost)} valid requests without a case or an opening event "
            f"({len(no_case)} without a case): {sample(lost)}"
        )
    doubled = {ticket: len(ids) for ticket, ids in opening.items() if len(ids) > 1}
    outcome.duplicates = sum(count - 1 for count in doubled.values())
    if doubled:
        outcome.problem(
            f"tickets with more than one opening event (different ce_id): {sample(doubled.items())}"
        )
    expected = {"queued": {QUEUED}, "linked": {LINKED}}
    wrong = [
        ticket
        for ticket, state in states.items()
        if ticket in opening and types[ticket] != expected.get(state, {DISPATCHED})
    ]
    if wrong:
        outcome.problem(f"opening event does not match the case's state: {sample(wrong)}")
    missing_inbox = [
        ticket for ticket, event_id in acked.items() if ticket in states and event_id not in inbox
    ]
    if missing_inbox:
        outcome.problem(f"cases whose request is not in the inbox: {sample(missing_inbox)}")
    unaudited = [ticket for ticket in states if audit[ticket] != 1]
    if unaudited:
        outcome.problem(f"cases without exactly one opening audit row: {sample(unaudited)}")
    dispatched = [ticket for ticket, state in states.items() if state == "dispatched"]
    badly_assigned = [ticket for ticket in dispatched if current[ticket] != 1 or not deadlines[ticket]]
    badly_assigned += [ticket for ticket, state in states.items() if state == "queued" and current[ticket]]
    if badly_assigned:
        outcome.problem(f"cases without one current assignment and their deadlines: {sample(badly_assigned)}")
    untimed = [f"{ticket}/{stage}" for ticket, stage in stages if (ticket, stage) not in timers]
    if untimed:
        outcome.problem(f"deadlines without SLA timers: {sample(untimed)}")
    check_publication(outcome, engine, cases_topic, events)
    check_dead_letters(outcome, tickets, dead)


def check_timers(
    outcome: Outcome, engine: Engine, due: set[int], cases_topic: str, events: list[Event], at: datetime
) -> None:
    """Each timer that was due fired exactly once: its status, one audit row, and one event per fact on
    the cases topic (a warning; a breach and level 1; each further level)."""
    outcome.timers_due = len(due)
    with engine.connect() as connection:
        rows = connection.execute(
            select(
                t.sla_timers.c.id,
                t.sla_timers.c.ticket_id,
                t.sla_timers.c.stage,
                t.sla_timers.c.kind,
                t.sla_timers.c.level,
                t.sla_timers.c.status,
                t.sla_timers.c.due_at,
            )
        ).all()
        audit = Counter(
            connection.execute(
                select(t.audit.c.ticket_id, t.audit.c.action, t.audit.c.reason).where(
                    t.audit.c.action.in_(("sla_warning", "sla_breach", "escalate"))
                )
            ).tuples()
        )
    status = Counter(row.status for row in rows if row.id in due)
    outcome.timers_fired = status["fired"]
    if status["pending"]:
        outcome.problem(f"{status['pending']} due timers still pending")
    if status["cancelled"]:
        outcome.problem(f"{status['cancelled']} due timers cancelled although their cases stayed open")
    late = [row.id for row in rows if row.id not in due and row.status == "pending" and row.due_at <= at]
    if late:
        outcome.problem(f"{len(late)} other timers due and pending: {sample(late)}")

    expected: Counter[tuple[str, str, str, int | None]] = Counter()
    for row in rows:
        if row.status != "fired":
            continue
        if row.kind == "warning":
            expected[(WARNING, row.ticket_id, row.stage, None)] += 1
            continue
        if row.level == 1:
            expected[(BREACHED, row.ticket_id, row.stage, None)] += 1
        expected[(ESCALATED, row.ticket_id, row.stage, row.level)] += 1
    seen: dict[tuple[str, str, str, int | None], set[str]] = defaultdict(set)
    for event in events:
        if event.ce_type in (WARNING, BREACHED, ESCALATED):
            level = event.data.get("level") if event.ce_type == ESCALATED else None
            seen[(event.ce_type, event.key, str(event.data.get("stage")), level)].add(event.ce_id)
    outcome.sla_events = sum(len(ids) for ids in seen.values())
    lost = [key for key in expected if not seen.get(key)]
    outcome.lost += len(lost)
    if lost:
        outcome.problem(f"{len(lost)} fired timers without their event: {sample(lost)}")
    doubled = {key: len(ids) for key, ids in seen.items() if len(ids) > expected.get(key, 0) > 0}
    outcome.duplicates += sum(count - expected[key] for key, count in doubled.items())
    if doubled:
        outcome.problem(f"timer facts with more than one event (different ce_id): {sample(doubled.items())}")
    unexpected = [key for key in seen if key not in expected]
    if unexpected:
        outcome.problem(f"{len(unexpected)} SLA events without a fired timer: {sample(unexpected)}")
    twice = [key for key, count in audit.items() if count > 1]
    if twice:
        outcome.problem(f"SLA audit rows written more than once: {sample(twice)}")
    check_publication(outcome, engine, cases_topic, events)
