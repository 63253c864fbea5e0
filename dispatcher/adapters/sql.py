"""The SQL unit of work: cases, audit, inbox and outbox in one transaction (SQLite or PostgreSQL)."""

from __future__ import annotations

import base64
import os
import random
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from types import TracebackType

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    RootTransaction,
    Select,
    and_,
    bindparam,
    or_,
    select,
)

from dispatcher.adapters import tables as t
from dispatcher.adapters.callback_store import SqlCallbacks
from dispatcher.adapters.case_rows import assignment_values, case_values, read_cases, state_values
from dispatcher.adapters.governance_store import SqlGovernanceTasks
from dispatcher.adapters.hotspot_rows import hotspot_of
from dispatcher.adapters.pending import (
    INSERT_ASSIGNMENT,
    INSERT_AUDIT,
    INSERT_CASE,
    INSERT_DEADLINE,
    INSERT_INBOX,
    INSERT_OUTBOX,
    MARK_DEADLINE,
    MOVE_DEADLINE,
    RETIRE_ASSIGNMENT,
    UPDATE_CO_HANDLERS,
    Candidate,
    Known,
    PendingWrites,
)
from dispatcher.adapters.supervision_store import SqlSupervisionOrders
from dispatcher.adapters.timers import (
    CANCEL,
    CANCEL_CO,
    INSERT_TIMER,
    REPLAN,
    UNPLAN,
    SqlTimers,
    co_timer_rows,
    timer_rows,
)
from dispatcher.contract import cloudevents
from dispatcher.contract.events import Topic, Wire
from dispatcher.contract.mapping import event_to_wire, scores_to_wire
from dispatcher.domain.callbacks import REVIEW_QUEUE
from dispatcher.domain.case import OPEN_STATES, Case, CaseState
from dispatcher.domain.commands import DeadLetter, InboundId
from dispatcher.domain.hotspots import Hotspot
from dispatcher.domain.joint import CoHandler
from dispatcher.domain.scores import Tally, UnitScores
from dispatcher.domain.timer_plan import (
    co_timer_changes,
    first_co_timers,
    first_timers,
    planned_timers,
    timer_changes,
)
from rules.complaint import Complaint
from rules.decision import Assignment, Decision
from sla.calendar import Clock

TopicName = Callable[[str], str]
Scorer = Callable[[str, str, str, Tally, bool], UnitScores]
"""A unit's scores from its class, month and tally (and whether they are the month's final ones)."""
SOURCE = "/jiesu/dispatcher"


# Built once: a statement built per call recomputes SQLAlchemy's cache key every time.
def _find_repeat(place: ColumnElement[bool]) -> Select[tuple[str]]:
    return (
        select(t.cases.c.ticket_id)
        .where(
            t.cases.c.requester_phone == bindparam("phone"),
            t.cases.c.category == bindparam("category"),
            place,
            t.cases.c.state.in_([state.value for state in OPEN_STATES]),
            t.cases.c.received_at >= bindparam("since"),
        )
        .order_by(t.cases.c.received_at.desc())
        .limit(1)
    )


_street = t.cases.c.street == bindparam("street")
# A request whose community is known repeats a case of that community, or of its street whose community was
# not known; a request whose community is not known repeats a case of its street.
FIND_REPEAT = {
    True: _find_repeat(
        or_(t.cases.c.community == bindparam("community"), and_(t.cases.c.community.is_(None), _street))
    ),
    False: _find_repeat(_street),
}

_EVENT_IDS = random.Random()  # seeded from the operating system when the process starts
os.register_at_fork(after_in_child=_EVENT_IDS.seed)  # and again in a forked child: no id twice


def new_event_id() -> str:
    """A random (version 4) UUID for an event of ours. From Python's generator, seeded once: `uuid.uuid4`
    asks the operating system for every id, and each such call lets the worker's other threads take the
    interpreter (a twentieth of the worker's time in the profile: see docs/benchmarks.md)."""
    return str(uuid.UUID(int=_EVENT_IDS.getrandbits(128), version=4))


def same_place(community: str | None, street: str | None, of: Decision) -> bool:
    """Whether an open case's community and street fit a new request's place, as FIND_REPEAT has it."""
    if of.community:
        return community == of.community or (community is None and street == of.street)
    return street == of.street


# 并案: the cases merged into a main case and following it; the open case a burst's new request joins
MERGED_WITH = select(t.cases.c.ticket_id).where(
    t.cases.c.merged_into == bindparam("main"), t.cases.c.state == CaseState.MERGED.value
)
FIND_BURST = (
    select(t.cases.c.ticket_id)
    .where(
        t.cases.c.street == bindparam("street"),
        t.cases.c.category == bindparam("category"),
        t.cases.c.state.in_([state.value for state in OPEN_STATES]),
        or_(t.cases.c.queue.is_(None), t.cases.c.queue != REVIEW_QUEUE),
        t.cases.c.received_at >= bindparam("since"),
    )
    .order_by(t.cases.c.received_at, t.cases.c.ticket_id)
    .limit(1)
)
IN_HOTSPOT = (
    select(t.cases.c.ticket_id)
    .where(
        t.cases.c.street == bindparam("street"),
        or_(
            bindparam("community", type_=t.cases.c.community.type).is_(None),
            t.cases.c.community == bindparam("community", type_=t.cases.c.community.type),
        ),
        t.cases.c.category.like(bindparam("category_like")),
        t.cases.c.state.in_([state.value for state in OPEN_STATES]),
        t.cases.c.dispatched_at >= bindparam("since"),
    )
    .order_by(t.cases.c.dispatched_at, t.cases.c.ticket_id)
    .limit(bindparam("limit"))
)
OPEN_HOTSPOTS_AT = (
    select(t.hotspots)
    .where(t.hotspots.c.status == "open", t.hotspots.c.street == bindparam("street"))
    .order_by(t.hotspots.c.detected_at, t.hotspots.c.hotspot_id)
)
CASE_EXISTS = select(t.cases.c.ticket_id).where(t.cases.c.ticket_id == bindparam("ticket_id"))
INBOX_SEEN = select(t.inbox.c.event_id).where(
    t.inbox.c.source == bindparam("source"), t.inbox.c.event_id == bindparam("event_id")
)


def encode_headers(headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]) -> list[list[str]]:
    return [[name, base64.b64encode(value).decode()] for name, value in headers]


def decode_headers(stored: list[list[str]]) -> list[tuple[str, bytes]]:
    return [(name, base64.b64decode(value)) for name, value in stored]


class SqlCaseRepository:
    def __init__(self, connection: Connection, pending: PendingWrites) -> None:
        self._connection = connection
        self._pending = pending
        self.seen: list[Case] = []
        self._loaded: dict[str, tuple[int, Assignment | None, dict[str, datetime], dict[str, datetime]]] = {}
        self._how: dict[str, dict[str, str]] = {}
        self._co_handlers: dict[str, dict[str, CoHandler]] = {}  # as read: the called units' timers follow

    def add(self, case: Case) -> None:
        """A new case: its rows are written with the transaction's other new rows (see `PendingWrites`)."""
        self._pending.add(INSERT_CASE, case_values(case))
        self._insert_deadlines(case, case.deadlines)
        if case.merged is None:  # a case merged as it opens (a burst's) has no timers of its own
            self._pending.add(INSERT_TIMER, timer_rows(case.ticket_id, first_timers(case, case.deadlines)))
        if case.assignment is not None:
            self._insert_assignment(case.ticket_id, case.assignment, case.dispatched_at)
        self._pending.cases[case.ticket_id] = case
        phone = case.complaint.requester.phone
        if phone in self._pending.known.phones and case.state in OPEN_STATES:
            received = case.complaint.received_at
            candidate = Candidate(case.ticket_id, case.category, case.community, case.street, received)
            self._pending.known.open_cases.setdefault(phone, []).append(candidate)
        self.seen.append(case)

    def exists(self, ticket_id: str) -> bool:
        if ticket_id in self._pending.cases:
            return True
        if ticket_id in self._pending.known.tickets:
            return ticket_id in self._pending.known.existing
        return self._connection.execute(CASE_EXISTS, {"ticket_id": ticket_id}).first() is not None

    def _written(self, ticket_ids: Iterable[str]) -> None:
        """Write the pending rows first if any of these cases has some, so that reads see them."""
        if self._pending.waiting(ticket_ids):
            self._pending.write(self._connection)

    def get(self, ticket_id: str) -> Case | None:
        """The case as stored; changes are written back by `commit()` if nobody changed it meanwhile.
        Within one unit of work, the same ticket gives the same case."""
        known = next((case for case in self.seen if case.ticket_id == ticket_id), None)
        if known is not None:
            return known
        if ticket_id not in self._loaded:
            self.load([ticket_id])
        return next((case for case in self.seen if case.ticket_id == ticket_id), None)

    def load(self, ticket_ids: Iterable[str]) -> None:
        """Read these cases (those not read yet) with their assignments and deadlines: those the batch
        read up front, the others with three queries."""
        wanted = set(ticket_ids) - {case.ticket_id for case in self.seen}
        if not wanted:
            return
        read_before = self._pending.known.cases
        cases = [read_before.pop(ticket) for ticket in sorted(wanted & read_before.keys())]
        wanted -= {case.ticket_id for case in cases}
        if wanted:
            self._written(wanted)
            cases += read_cases(self._connection, sorted(wanted))
        for case in cases:
            self._loaded[case.ticket_id] = (
                case.version,
                case.assignment,
                dict(case.deadlines),
                dict(case.met),
            )
            self._how[case.ticket_id] = dict(case.how)  # a pause changes the words before the time
            self._co_handlers[case.ticket_id] = dict(case.co_handlers)
            self.seen.append(case)

    def find_repeat(self, complaint: Complaint, decision: Decision, since: datetime) -> Case | None:
        """The open case this request repeats: the one it names, or the latest from the same phone
        about the same category in the same community (the same street where the community is not
        known) since `since`."""
        if complaint.related_ticket_id:
            related = self.get(complaint.related_ticket_id)
            return related if related and related.state in OPEN_STATES else None
        phone, category = complaint.requester.phone, decision.category
        if not (phone and category and decision.street):
            return None
        if phone in self._pending.known.phones:  # the batch read this phone's open cases up front
            repeated = [
                candidate
                for candidate in self._pending.known.open_cases.get(phone, ())
                if candidate.category == category
                and same_place(candidate.community, candidate.street, decision)
                and candidate.received_at >= since
            ]
            if not repeated:
                return None
            ticket = max(repeated, key=lambda candidate: candidate.received_at).ticket_id
            self._written([ticket])
            case = self.get(ticket)
            return case if case is not None and case.state in OPEN_STATES else None
        found = {
            "phone": phone,
            "category": category,
            "community": decision.community,
            "street": decision.street,
            "since": since,
        }
        self._written(
            ticket
            for ticket, case in self._pending.cases.items()
            if (case.complaint.requester.phone, case.category) == (phone, category)
            and same_place(case.community, case.street, decision)
        )
        latest = self._connection.execute(FIND_REPEAT[decision.community is not None], found).scalar()
        return self.get(latest) if latest else None

    def merged_with(self, ticket_id: str) -> list[Case]:
        """The cases merged into this main case and still following it (`merged`)."""
        self._written(ticket for ticket, case in self._pending.cases.items() if case.merged is not None)
        tickets = list(self._connection.execute(MERGED_WITH, {"main": ticket_id}).scalars())
        self.load(tickets)
        found = (self.get(ticket) for ticket in tickets)
        return [case for case in found if case is not None and case.state is CaseState.MERGED]

    def find_burst(self, decision: Decision, since: datetime) -> Case | None:
        """The first open case about the same category in the same street received since `since`: the
        main case of a burst (see `dispatcher.domain.merging`)."""
        if not (decision.street and decision.category):
            return None
        self._written(
            ticket
            for ticket, case in self._pending.cases.items()
            if (case.street, case.category) == (decision.street, decision.category)
        )
        found = {"street": decision.street, "category": decision.category, "since": since}
        main = self._connection.execute(FIND_BURST, found).scalar()
        return self.get(main) if main else None

    def in_hotspot(self, hotspot: Hotspot, limit: int) -> list[Case]:
        """The open cases of the hotspot's street (its community, for a community's) whose category lies
        under the hotspot's, dispatched since its window began (the detector counts at dispatch), and its
        own tickets still open: oldest first, at most `limit`; changes to them are saved."""
        if hotspot.street is None:
            return []
        self._written(self._pending.cases)
        found = {
            "street": hotspot.street,
            "community": hotspot.community,
            "category_like": f"{hotspot.category}%",
            "since": hotspot.window_start,
            "limit": limit,
        }
        tickets = list(self._connection.execute(IN_HOTSPOT, found).scalars())
        tickets += [ticket for ticket in hotspot.ticket_ids if ticket not in tickets]
        self.load(tickets)
        cases = (self.get(ticket) for ticket in tickets)
        opened = [case for case in cases if case is not None and case.state in OPEN_STATES]
        return sorted(opened, key=lambda case: (case.complaint.received_at, case.ticket_id))[:limit]

    def open_hotspots_at(self, street: str | None) -> list[Hotspot]:
        """The open hotspots of a street and of its communities, the earliest detected first."""
        if not street:
            return []
        rows = self._connection.execute(OPEN_HOTSPOTS_AT, {"street": street}).mappings()
        return [hotspot_of(row) for row in rows]

    def save_all(self) -> None:
        """Write back every case read and changed here (each only if its version is still the one read:
        see `PendingWrites.update`), then what moved with them."""
        changed = [
            case
            for case in sorted(self.seen, key=lambda case: case.ticket_id)
            if case.ticket_id in self._loaded and (case.events or case.audit)
        ]
        if changed:
            rows = [
                {
                    "b_ticket_id": case.ticket_id,
                    "b_version": self._loaded[case.ticket_id][0],
                    **state_values(case),
                }
                for case in changed
            ]
            self._pending.update(rows)
        for case in changed:
            self._save_rest(case)
        for case in self.seen:
            self._loaded.pop(case.ticket_id, None)
            self._how.pop(case.ticket_id, None)
            self._co_handlers.pop(case.ticket_id, None)

    def _save_rest(self, case: Case) -> None:
        version, assignment, deadlines, met = self._loaded[case.ticket_id]
        case.version = version + 1
        self._save_deadlines(case, deadlines, met)
        self._save_timers(case, deadlines, met)
        self._save_co_timers(case, self._co_handlers.get(case.ticket_id, {}))
        if (
            case.assignment is not None
            and assignment is not None
            and case.assignment != assignment
            and replace(case.assignment, co_handlers=()) == replace(assignment, co_handlers=())
        ):  # units called in (吹哨): the same assignment, more co-handlers
            values = {"b_ticket_id": case.ticket_id, "co_handlers": list(case.assignment.co_handlers)}
            self._pending.add(UPDATE_CO_HANDLERS, values)
        elif case.assignment is not None and case.assignment != assignment:
            self._pending.add(RETIRE_ASSIGNMENT, {"b_ticket_id": case.ticket_id})
            self._insert_assignment(case.ticket_id, case.assignment, case.dispatched_at)

    def _save_timers(self, case: Case, deadlines: dict[str, datetime], met: dict[str, datetime]) -> None:
        """Store what the case's changes do to its timers (`timer_changes`): a fresh plan for the stages
        to re-plan, the pending timers of the stages done cancelled."""
        changes = timer_changes(case, deadlines, met)
        if changes.replan:
            stages = [{"b_ticket_id": case.ticket_id, "b_stage": stage} for stage in changes.replan]
            self._pending.add(UNPLAN, stages)
            self._pending.add(REPLAN, timer_rows(case.ticket_id, planned_timers(case, changes.replan)))
        cancelled = [{"b_ticket_id": case.ticket_id, "b_stage": stage} for stage in changes.cancel]
        self._pending.add(CANCEL, cancelled)

    def _save_co_timers(self, case: Case, before: dict[str, CoHandler]) -> None:
        """The called units' timers (吹哨报到): planned for each deadline set, cancelled for each stage
        done, waived or dropped."""
        changes = co_timer_changes(case, before)
        if changes.plan:
            self._pending.add(
                INSERT_TIMER, co_timer_rows(case.ticket_id, first_co_timers(case, changes.plan))
            )
        cancelled = [
            {"b_ticket_id": case.ticket_id, "b_stage": stage, "b_unit": unit}
            for unit, stage in changes.cancel
        ]
        self._pending.add(CANCEL_CO, cancelled)

    def _save_deadlines(self, case: Case, before: dict[str, datetime], met: dict[str, datetime]) -> None:
        for stage, due_at in case.deadlines.items():
            which = {"b_ticket_id": case.ticket_id, "b_stage": stage}
            if stage not in before:
                self._insert_deadlines(case, {stage: due_at})
            elif before[stage] != due_at or case.how.get(stage) != self._how.get(case.ticket_id, {}).get(
                stage
            ):
                self._pending.add(MOVE_DEADLINE, {**which, "due_at": due_at, "how": case.how.get(stage)})
            if (stage in case.met) != (stage in met):
                status = ("met", case.met[stage]) if stage in case.met else ("pending", None)
                self._pending.add(MARK_DEADLINE, {**which, "status": status[0], "fired_at": status[1]})

    def _insert_deadlines(self, case: Case, deadlines: dict[str, datetime]) -> None:
        rows = [
            {
                "ticket_id": case.ticket_id,
                "stage": stage,
                "due_at": due_at,
                "status": "pending",
                "how": case.how.get(stage),
                "district": case.district,
            }
            for stage, due_at in deadlines.items()
        ]
        self._pending.add(INSERT_DEADLINE, rows)

    def _insert_assignment(self, ticket_id: str, assignment: Assignment, at: datetime) -> None:
        row = {"ticket_id": ticket_id, "assigned_at": at, "current": True, **assignment_values(assignment)}
        self._pending.add(INSERT_ASSIGNMENT, row)


class SqlInbox:
    def __init__(self, connection: Connection, clock: Clock, pending: PendingWrites) -> None:
        self._connection = connection
        self._clock = clock
        self._pending = pending

    def seen(self, inbound: InboundId) -> bool:
        event = (inbound.source, inbound.id)
        if event in self._pending.inbound:
            return True
        if event in self._pending.known.inbound:
            return event in self._pending.known.applied
        found = self._connection.execute(INBOX_SEEN, {"source": inbound.source, "event_id": inbound.id})
        return found.first() is not None

    def record(self, inbound: InboundId) -> None:
        row = {"source": inbound.source, "event_id": inbound.id, "processed_at": self._clock()}
        self._pending.add(INSERT_INBOX, row)
        self._pending.inbound.add((inbound.source, inbound.id))


class SqlOutbox:
    def __init__(
        self, connection: Connection, topic: TopicName, clock: Clock, pending: PendingWrites
    ) -> None:
        self._connection = connection
        self._topic = topic
        self._clock = clock
        self._pending = pending

    def publish(self, cases: Iterable[Case]) -> None:
        """Queue the cases' new events for `jiesu.cases`, keyed by ticket id."""
        rows = []
        for case in cases:
            for event in case.events:
                rows.append(self._event_row(Topic.CASES, *event_to_wire(event), case.ticket_id, event.at))
            case.events.clear()
        self._pending.add(INSERT_OUTBOX, rows)

    def publish_event(self, topic: Topic, event_type: str, data: Wire, key: str, at: datetime) -> None:
        """Queue one event of ours for `topic` (governance tasks on `jiesu.hotspots`, keyed by hotspot)."""
        self._pending.add(INSERT_OUTBOX, self._event_row(topic, event_type, data, key, at))

    def scores_due(self, unit: str, month: str, at: datetime, final: bool = False) -> None:
        """Publish the unit's scores for the month as they stand when the transaction ends: once, however
        many of its commands moved them (see `queue_scores`)."""
        before = self._pending.scores_due.get((unit, month))
        if before is not None:
            at, final = max(at, before[0]), final or before[1]
        self._pending.scores_due[(unit, month)] = (at, final)

    def queue_scores(self, callbacks: SqlCallbacks, score: Scorer) -> None:
        """Queue `jiesu.scores.updated` for each unit and month due, from its tally as this transaction
        leaves it (read after the transaction's own moves: on PostgreSQL, the rows are locked until it
        commits, so the figures are those of the commit)."""
        due = self._pending.scores_due
        if not due:
            return
        standing = callbacks.standing(due)
        for (unit, month), (at, final) in sorted(due.items()):
            unit_class, tally = standing[(unit, month)]
            event_type, data = scores_to_wire(score(unit, unit_class, month, tally, final))
            self._pending.add(INSERT_OUTBOX, self._event_row(Topic.SCORES, event_type, data, unit, at))
        due.clear()

    def dead_letter(self, command: DeadLetter) -> None:
        headers = [
            *command.headers,
            ("jiesu_reason", command.reason.encode()),
            ("jiesu_detail", command.detail.encode()),
            ("jiesu_original_topic", command.topic.encode()),
            ("jiesu_original_partition", str(command.partition).encode()),
            ("jiesu_original_offset", str(command.offset).encode()),
        ]
        self._pending.add(
            INSERT_OUTBOX,
            self._row(self._topic(Topic.DEADLETTER), command.key, command.value or b"", headers),
        )

    def _event_row(
        self, topic: Topic, event_type: str, data: Wire, key: str, at: datetime
    ) -> dict[str, object]:
        """An event of ours as an outbox row: a CloudEvent with a new id, keyed by ticket or unit."""
        record = cloudevents.encode(
            self._topic(topic), event_type, data, key=key, event_id=new_event_id(), source=SOURCE, time=at
        )
        return self._row(record.topic, record.key, record.value, record.headers)

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


def write_audit(pending: PendingWrites, cases: Iterable[Case]) -> None:
    for case in cases:
        pending.add(INSERT_AUDIT, [dict(vars(entry)) for entry in case.audit])  # flat: no deep copy
        case.audit.clear()


class BatchAbortedError(Exception):
    """A command of the batch failed: nothing of the batch is kept. `at` is the position of the record
    whose command failed, when the caller knows it (see `consumers.app.apply_together`)."""

    def __init__(self, message: str, at: int | None = None) -> None:
        super().__init__(message)
        self.at = at


@dataclass
class _Batch:
    """One transaction shared by several units of work (see `SqlUnitOfWork.batch`)."""

    connection: Connection
    pending: PendingWrites
    failed: BaseException | None = None


@dataclass
class _Work:
    connection: Connection
    transaction: RootTransaction | None  # None inside a batch: the batch commits
    pending: PendingWrites
    cases: SqlCaseRepository
    inbox: SqlInbox
    outbox: SqlOutbox
    timers: SqlTimers
    callbacks: SqlCallbacks
    orders: SqlSupervisionOrders
    tasks: SqlGovernanceTasks


class SqlUnitOfWork:
    """One connection and transaction per `with` block and thread; `commit()` also writes audit and outbox.

    One instance serves every thread: the work under way is kept per thread. Inside `batch()` the `with`
    blocks of that thread share one transaction, committed once at the end of the batch."""

    def __init__(
        self, engine: Engine, topic: TopicName, clock: Clock, on_commit: Callable[[], None], score: Scorer
    ) -> None:
        self._engine = engine
        self._topic = topic
        self._clock = clock
        self._on_commit = on_commit
        self._score = score
        self._local = threading.local()

    @property
    def _work(self) -> _Work:
        work: _Work | None = getattr(self._local, "work", None)
        if work is None:
            raise RuntimeError("the unit of work is used outside its `with` block")
        return work

    @property
    def cases(self) -> SqlCaseRepository:
        return self._work.cases

    @property
    def inbox(self) -> SqlInbox:
        return self._work.inbox

    @property
    def outbox(self) -> SqlOutbox:
        return self._work.outbox

    @property
    def timers(self) -> SqlTimers:
        return self._work.timers

    @property
    def callbacks(self) -> SqlCallbacks:
        return self._work.callbacks

    @property
    def orders(self) -> SqlSupervisionOrders:
        return self._work.orders

    @property
    def tasks(self) -> SqlGovernanceTasks:
        return self._work.tasks

    @contextmanager
    def batch(
        self,
        inbound: Iterable[InboundId] = (),
        new_tickets: Iterable[str] = (),
        phones: Iterable[str] = (),
        acted_on: Iterable[str] = (),
    ) -> Iterator[None]:
        """Run the commands sent inside this block in one transaction, committed when it ends: one commit
        and one insert per table for all of them. All or nothing: if any command fails (even one its
        caller then handles, such as a refusal), the whole batch is rolled back and `BatchAbortedError`
        raised, for the caller to apply the commands one by one.

        `inbound` (the commands' event ids), `new_tickets` (the tickets they open), `phones` (their
        requesters', for repeats) and `acted_on` (the cases they change) are read at the start with a
        query or three each, instead of as many per command. The units' scores the commands moved are
        published once per unit and month, as the batch leaves them."""
        connection = self._engine.connect()
        try:
            transaction = connection.begin()
            known = Known.read(connection, inbound, new_tickets, phones, acted_on)
            batch = self._local.batch = _Batch(connection, PendingWrites(known))
            yield
            if batch.failed is not None:
                raise BatchAbortedError(f"a command failed: {batch.failed!r}") from batch.failed
            self._write(connection, batch.pending)
            transaction.commit()
        finally:
            self._local.batch = None
            connection.close()  # rolls back what was not committed
        self._on_commit()

    def __enter__(self) -> SqlUnitOfWork:
        batch: _Batch | None = getattr(self._local, "batch", None)
        if batch is not None:
            if batch.failed is not None:
                raise BatchAbortedError(f"a command failed: {batch.failed!r}") from batch.failed
            connection, transaction, pending = batch.connection, None, batch.pending
        else:
            connection = self._engine.connect()
            transaction, pending = connection.begin(), PendingWrites()
        timers = SqlTimers(connection)
        outbox = SqlOutbox(connection, self._topic, self._clock, pending)
        self._local.work = _Work(
            connection,
            transaction,
            pending,
            SqlCaseRepository(connection, pending),
            SqlInbox(connection, self._clock, pending),
            outbox,
            timers,
            SqlCallbacks(connection, pending),
            SqlSupervisionOrders(connection, pending),
            SqlGovernanceTasks(connection, pending, outbox.publish_event),
        )
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        work, self._local.work = self._work, None
        if work.transaction is None:  # in a batch
            if error is not None:
                self._local.batch.failed = error
            return
        if work.transaction.is_active:
            work.transaction.rollback()
        work.connection.close()

    def commit(self) -> None:
        work = self._work
        work.cases.save_all()
        work.orders.save_all()
        work.tasks.save_all()
        write_audit(work.pending, work.cases.seen)
        work.outbox.publish(work.cases.seen)
        if work.transaction is None:
            return  # the batch writes and commits
        self._write(work.connection, work.pending)
        work.transaction.commit()
        self._on_commit()

    def _write(self, connection: Connection, pending: PendingWrites) -> None:
        """Write what the transaction gathered, the scores it moved last."""
        outbox = SqlOutbox(connection, self._topic, self._clock, pending)
        outbox.queue_scores(SqlCallbacks(connection, pending), self._score)
        pending.write(connection)
