"""The demo's past: weeks and months of hotline work, replayed through the system itself before the demo's
live day starts, so that the dashboard's charts (30 days of volume, the weekly overdue rate, months of 三率,
the month's ranking) and its queues have something to show.

**How: a compressed simulated history replayed through the same handlers with a clock set in the past.**
Publishing past-dated events was not an option: the system stamps an action with its own clock when it
applies it (the `at` of a command on `jiesu.actions` is informative), so an event dated last month would be
applied today. So this module runs the system in-process (`dispatcher.bootstrap`) on a `VirtualClock` that
every handler, the unit of work, the outbox and the router read, and moves the clock from one simulated
moment to the next, as a discrete-event simulation does:

- the inputs are the records a hotline, the units and the callback center would have published
  (`jiesu.complaint.received`, the `jiesu.case.*` actions, `jiesu.callback.recorded`), encoded as CloudEvents
  and applied by the agents' own code (`consumers.app.INFLOWS`: decode, translate, apply or dead-letter), only
  not read back from the broker;
- the center's decisions (arbitrating returns, extension requests, dispatching the triage queue, closing a
  case held after a second unsatisfied callback) and the co-handling units' parts are the commands the web
  pages and `jiesu case` send, through the same message bus;
- time passes as in `jiesu run`: the SLA sweeper (`consumers.sweeper.sweep`) fires the timers that came due
  before a step (when it last looked five simulated minutes ago or more) and every hour (every three in the
  sparse months), and the month's final scores go out on its first working day at 09:00
  (`consumers.monthly.publish_final_month`);
- what the system publishes is its outbox: read back in order (`dispatcher.reads.outbox`) to react as units
  and the callback center react to `jiesu.cases`, and relayed to the broker by the outbox relay
  (`consumers.relay`) as it goes, so consumers of `jiesu.cases` see the history too.

Nothing is written behind the system's back: every row is the one its handlers wrote at that (virtual) time.
It must run before the worker starts: a worker's sweeper would fire the past timers with today's clock. The
worker, once started, reads the history's events on `jiesu.cases` like any others: its notifications planner
sends their messages then (to the console, in the demo), as it would have at the time.

The decisions come from `jiesu.cli.simulator`, seeded per day (same seed, same history), with units that take
hours to days as real ones do (`TIER_CONDUCT`) and a center that decides within hours (`Center`); a few
requests are too vague for the classifier (`VAGUE`), and the center's operator dispatches them by hand. Days
already in the database (their first ticket, `HIS<yyyymmdd>-000000`, exists) are not replayed: a second
start of the demo adds only the days since. The default span (30 days of 24 requests a working day, five
months of 2 a day before them: some 900 requests, 5,000 commands) takes about 20 seconds of one core.

Whatever the simulated people would do after the history's end (a unit signing for a case at 14:05, a
callback tomorrow) is handed over to the live day (`Handover`), which does it on time; the center's pending
decisions are left to the demo's supervisor.
"""

from __future__ import annotations

import heapq
import logging
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from consumers.app import INFLOWS, apply_one
from consumers.monthly import publish_final_month
from consumers.relay import OutboxRelay, make_producer
from consumers.sweeper import sweep
from dispatcher.adapters.database import make_engine
from dispatcher.bootstrap import System, bootstrap
from dispatcher.contract import events as wire
from dispatcher.contract.cloudevents import KafkaRecord, RejectedRecord, decode, encode
from dispatcher.contract.mapping import complaint_from_wire
from dispatcher.domain import commands as c
from dispatcher.domain.case import CaseError
from dispatcher.reads.cases import case_access
from dispatcher.reads.outbox import last_record, records_after
from dispatcher.settings import Settings
from jiesu.cli.simulate import SOURCE_CALLBACKS, SOURCE_UNITS
from jiesu.cli.simulator import (
    DAY_MATTERS,
    RESULTS,
    Conduct,
    PlannedRequest,
    Step,
    callback_for,
    day_plan,
    steps_after_rejected_return,
    steps_after_reopening,
    unit_steps,
)
from sla.calendar import BEIJING

SOURCE_HOTLINE = "/jiesu/demo/hotline"
CENTER = "center"  # who decides at the center in the past: the demo's supervisor login
PREFIX = "HIS"  # history tickets: HIS<yyyymmdd>-<number>
IDS = uuid.UUID("6c1c3d0e-56a5-4d54-9a43-1e2a3c0b7d15")  # namespace of the history's event ids
CASE_TYPES = wire.types_on(wire.Topic.CASES)
SWEEP_EVERY = timedelta(minutes=5)  # the sweeper looks for due timers at most this long after the last look
RELAY_AFTER = 500  # records written since the last relay: relayed at the next hour
# Requests so vague that the classifier is not sure (they wait in the center's triage queue), with what the
# operator makes of them once she has called back
VAGUE: tuple[tuple[str, str], ...] = (
    ("我家门口的那个东西一直没人管，已经好几天了，请派人来看看。", "080101"),
    ("楼下那家一直这样，跟他们说了也没用，你们管不管？", "030101"),
    ("楼下那家天天这样，说了好几次也不改，你们管不管？", "030101"),
    ("这个事我已经说了好几遍了，到底有没有人管？", "020101"),
)
VAGUE_SHARE = 0.04
TRUE_CATEGORY = {matter.description: matter.category for matter in DAY_MATTERS} | dict(VAGUE)
CO_REPORTS = (
    "已按职责完成本单位负责部分的处置，现场情况已反馈牵头单位。",
    "已配合牵头单位现场核查，相关材料已移交。",
)

# Units in the past take as long as real ones: minutes for an emergency, hours for an urgent case, days for
# a general or complex one; a few sign late (the SLA ladder fires), return a case or ask for more time.
TIER_CONDUCT: dict[str, Conduct] = {
    "emergency": Conduct(
        returns=0.01,
        late=0.08,
        extension=0.0,
        acknowledge_minutes=(1.0, 12.0),
        contact_minutes=(5.0, 40.0),
        resolve_minutes=(15.0, 90.0),
        callback_minutes=(60.0, 720.0),
    ),
    "urgent": Conduct(
        returns=0.04,
        late=0.08,
        extension=0.03,
        acknowledge_minutes=(2.0, 50.0),
        contact_minutes=(10.0, 100.0),
        resolve_minutes=(60.0, 1500.0),
        callback_minutes=(60.0, 1440.0),
    ),
    "general": Conduct(
        returns=0.06,
        late=0.08,
        extension=0.08,
        acknowledge_minutes=(5.0, 100.0),
        contact_minutes=(30.0, 900.0),
        resolve_minutes=(240.0, 5760.0),
        callback_minutes=(120.0, 2880.0),
    ),
    "complex": Conduct(
        returns=0.06,
        late=0.08,
        extension=0.15,
        acknowledge_minutes=(5.0, 100.0),
        contact_minutes=(60.0, 1200.0),
        resolve_minutes=(1440.0, 14400.0),
        callback_minutes=(120.0, 2880.0),
    ),
}


@dataclass(frozen=True)
class Center:
    """How the center's supervisors decided in the past; minutes after the event."""

    arbitrate_minutes: tuple[float, float] = (20.0, 240.0)
    upheld: float = 0.7  # a return upheld: the case goes where the catalog proposes
    extension_minutes: tuple[float, float] = (30.0, 480.0)
    approved: float = 0.85
    triage_minutes: tuple[float, float] = (10.0, 120.0)
    review_minutes: tuple[float, float] = (60.0, 1440.0)


@dataclass(frozen=True)
class Span:
    """Which past days are replayed: `days` up to today at `per_day` requests (a working day's mean; a
    weekend has `weekend` of it), and `months` before them at `sparse_per_day`, for the three rates'
    months."""

    days: int = 30
    per_day: float = 24.0
    months: int = 5
    sparse_per_day: float = 2.0
    weekend: float = 0.7

    def recent(self, today: date) -> date:
        """The first of the `days` at the full rate."""
        return today - timedelta(days=max(self.days, 1) - 1)

    def plan(self, today: date) -> list[tuple[date, float]]:
        """(day, requests per day), oldest first, today last."""
        recent_from = self.recent(today)
        first = recent_from - timedelta(days=30 * self.months) if self.days > 0 else today
        days: list[tuple[date, float]] = []
        day = first
        while day <= today and self.days > 0:
            rate = self.per_day if day >= recent_from else self.sparse_per_day
            days.append((day, rate * (self.weekend if day.weekday() >= 5 else 1.0)))
            day += timedelta(days=1)
        return days


@dataclass
class VirtualClock:
    """The system's clock in the past: moved forward by the history, read by everything in the system."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


# ---- co-handling: the units that help the lead unit (pure, seeded) --------------------------------


@dataclass(frozen=True)
class CoStep:
    """A co-handling unit's part, `after` (simulated) the dispatch: signing for it, reporting to the lead.
    Not on the public contract: sent as `jiesu case co-acknowledge` / `co-report` and the case page do."""

    after: timedelta
    command: c.AcknowledgeAsCoHandler | c.ReportToLead

    @property
    def kind(self) -> str:
        return "co_acknowledge" if isinstance(self.command, c.AcknowledgeAsCoHandler) else "co_report"


def _rng(seed: int, ticket: str, *about: object) -> random.Random:
    return random.Random(":".join(str(part) for part in (seed, ticket.rsplit("-", 1)[-1], *about)))


def _minutes(rng: random.Random, span: tuple[float, float], share: float = 1.0) -> timedelta:
    return timedelta(minutes=rng.uniform(*span) * share)


def co_handling_steps(
    ticket: str,
    units: list[str],
    seed: int,
    conduct: Conduct,
    on_duty: Callable[[str], str],
    occurrence: object = 1,
) -> list[CoStep]:
    """Each co-handling unit signs for its part and, later, reports it to the lead unit."""
    rng = _rng(seed, ticket, "co", occurrence)
    steps: list[CoStep] = []
    for unit in units:
        by = on_duty(unit)
        signed = _minutes(rng, conduct.acknowledge_minutes)
        reported = (
            signed + _minutes(rng, conduct.contact_minutes) + _minutes(rng, conduct.resolve_minutes, 0.5)
        )
        report = rng.choice(CO_REPORTS)
        steps.append(CoStep(signed, c.AcknowledgeAsCoHandler(ticket, by, unit=unit)))
        steps.append(CoStep(reported, c.ReportToLead(ticket, by, unit=unit, report=report)))
    return steps


def lead_resolves(ticket: str, by: str, at: datetime, seed: int, conduct: Conduct, round_: int = 1) -> Step:
    """Once every co-handling unit has reported, the lead unit reports the result."""
    rng = _rng(seed, ticket, "lead", round_)
    after = _minutes(rng, conduct.resolve_minutes, 0.25)
    return Step(after, wire.ResolveCase(ticket_id=ticket, by=by, at=at + after, result=rng.choice(RESULTS)))


def returned_first(steps: list[Step]) -> bool:
    return bool(steps) and steps[0].kind == "return"


def with_vague(
    plan: Iterable[PlannedRequest], seed: int, share: float = VAGUE_SHARE
) -> Iterator[PlannedRequest]:
    """The plan with `share` of its new requests said vaguely, without a category: the triage queue's."""
    for planned in plan:
        complaint = planned.complaint
        rng = _rng(seed, complaint.ticket_id, "vague")
        if planned.repeat_of is None and rng.random() < share:
            description, _ = rng.choice(VAGUE)
            complaint = complaint.model_copy(update={"description": description, "category": None})
            planned = replace(planned, complaint=complaint)
        yield planned


# ---- the history ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CenterStep:
    """A decision of the center's supervisor (arbitration, extension, triage, review), as the web sends."""

    command: c.CaseCommand


@dataclass(frozen=True)
class Tick:
    """The hour: the sweeper looks for timers, the outbox is relayed; at 09:00 the month's final scores."""


@dataclass(frozen=True)
class Arrival:
    complaint: wire.ComplaintReceived


@dataclass
class Handover:
    """What the history leaves to the live day: the simulated people's next steps after its end (unit
    steps, callbacks, co-handlers' parts) with their times, and what is known of the open cases."""

    items: list[tuple[datetime, Step | wire.CallbackRecorded | CoStep]] = field(default_factory=list)
    persons: dict[str, str] = field(default_factory=dict)
    signed: set[str] = field(default_factory=set)
    co_pending: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class Replayed:
    """What the history did."""

    days: int = 0
    skipped: int = 0
    requests: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    callbacks: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        def counts(counter: Counter[str]) -> str:
            return ", ".join(f"{name} {n}" for name, n in counter.most_common()) or "none"

        escalations = self.events["case.escalated"]
        return (
            f"history: {self.days} days replayed ({self.skipped} already there), {self.requests} requests, "
            f"{sum(self.actions.values())} unit actions, {sum(self.callbacks.values())} callbacks, "
            f"{sum(self.decisions.values())} center decisions, {escalations} escalations "
            f"in {self.seconds:.0f}s\n  actions: {counts(self.actions)}\n  center: {counts(self.decisions)}"
        )


@contextmanager
def quiet_agents() -> Iterator[None]:
    """The agents' warnings (an action refused, dead-lettered) are the history's, not the demo's: kept off
    the terminal while it runs."""
    logger = logging.getLogger("consumers")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def day_seed(seed: int, day: date) -> int:
    return seed * 1_000_000 + day.toordinal()


def first_ticket(day: date) -> str:
    return f"{PREFIX}{day:%Y%m%d}-000000"


class History:
    """Replays the past days of `span` up to `end` (now by default) through the system on a virtual clock."""

    def __init__(
        self,
        settings: Settings,
        *,
        seed: int = 12345,
        span: Span = Span(),
        center: Center = Center(),
        conduct: dict[str, Conduct] | None = None,
        end: datetime | None = None,
        say: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.settings, self.seed, self.span, self.center = settings, seed, span, center
        self.conduct = conduct or TIER_CONDUCT
        self.end = (end or datetime.now(UTC)).astimezone(BEIJING)
        self.say = say
        self.replayed = Replayed()
        self.queue: list[tuple[datetime, int, Any]] = []
        self.order = 0
        self.requests: dict[str, wire.ComplaintReceived] = {}
        self.seeds: dict[str, int] = {}
        self.urgency: dict[str, str] = {}
        self.handover = Handover()
        self.occurrences: Counter[tuple[str, str]] = Counter()
        self.rounds: Counter[str] = Counter()
        self.clock = VirtualClock(self.end)
        self.system: System | None = None
        self.relay: OutboxRelay | None = None
        self.read_up_to = 0
        self.unrelayed = 0
        self.swept = datetime.min.replace(tzinfo=UTC)
        self.co_handlers: dict[str, list[str]] = {}

    # -- which days ---------------------------------------------------------------------------------

    def days_to_replay(self) -> list[tuple[date, list[PlannedRequest]]]:
        """The span's days with requests, and those, whose first ticket is not in the database yet."""
        engine = make_engine(self.settings.database_url)
        try:
            days = [(day, self.requests_of(day, rate)) for day, rate in self.span.plan(self.end.date())]
            days = [(day, planned) for day, planned in days if planned]
            missing = [
                (day, planned) for day, planned in days if case_access(engine, first_ticket(day)) is None
            ]
        finally:
            engine.dispose()
        self.replayed.skipped = len(days) - len(missing)
        return missing

    def requests_of(self, day: date, rate: float) -> list[PlannedRequest]:
        """The day's requests (up to the end), `after` its midnight: the same for a seed and a day."""
        midnight = datetime.combine(day, datetime.min.time(), BEIJING)
        length = min(timedelta(days=1), self.end - midnight)
        if length <= timedelta(0) or rate <= 0:
            return []
        seed = day_seed(self.seed, day)
        prefix = f"{PREFIX}{day:%Y%m%d}"
        plan = day_plan(midnight, rate / 86_400, seed, duration=length, time_scale=60.0, ticket_prefix=prefix)
        return list(with_vague(plan, seed))

    # -- the run ------------------------------------------------------------------------------------

    def run(self) -> Handover:
        """Replay the missing days; returns what the live day should carry on with."""
        began = time.monotonic()
        if self.span.days <= 0:
            return self.handover
        days = self.days_to_replay()
        if not days:
            self.say(f"history: the last {self.span.days} days are already in the database")
            return self.handover
        start = datetime.combine(days[0][0], datetime.min.time(), BEIJING)
        self.say(
            f"history: replaying {len(days)} days from {start:%Y-%m-%d} through the system on a clock set in "
            f"the past (once: under a minute)"
        )
        self.clock.now = start
        self.system = bootstrap(self.settings, clock=self.clock)
        producer = make_producer(self.settings.kafka_bootstrap)
        self.relay = OutboxRelay(self.system.engine, producer, self.clock, 500, 0.5)
        self.read_up_to = last_record(self.system.engine)
        try:
            for day, planned in days:
                midnight = datetime.combine(day, datetime.min.time(), BEIJING)
                for request in planned:
                    self.seeds[request.complaint.ticket_id] = day_seed(self.seed, day)
                    self._push(midnight + request.after, Arrival(request.complaint))
            self._push(start, Tick())
            with quiet_agents():
                self._loop()
            self.clock.now = max(self.clock.now, self.end)
            self._relay()
        finally:
            producer.close(timeout=30)
            self.system.engine.dispose()
        self.replayed.days = len(days)
        self.replayed.seconds = time.monotonic() - began
        self._hand_over()
        self.say(self.replayed.summary())
        return self.handover

    def _push(self, at: datetime, what: Any) -> None:
        self.order += 1
        heapq.heappush(self.queue, (at, self.order, what))

    def _loop(self) -> None:
        assert self.system is not None
        shown = time.monotonic()
        while self.queue and self.queue[0][0] <= self.end:
            at, order, what = heapq.heappop(self.queue)
            self.clock.now = max(self.clock.now, at)
            if isinstance(what, Tick) or self.clock.now - self.swept >= SWEEP_EVERY:
                sweep(self.system.engine, self.system.bus, self.clock)
                self.swept = self.clock.now
            self._apply(what, order)
            self._react()
            if time.monotonic() - shown > 5:
                shown = time.monotonic()
                self.say(
                    f"history: {self.clock.now:%Y-%m-%d %H:%M}, {self.replayed.requests} requests so far"
                )

    # -- applying -----------------------------------------------------------------------------------

    def _apply(self, what: Any, order: int) -> None:
        assert self.system is not None
        now = self.clock.now
        if isinstance(what, Tick):
            if self.unrelayed >= RELAY_AFTER:
                self._relay()
            if now.astimezone(BEIJING).hour == 9:
                publish_final_month(self.system.bus, self.system.sla.calendar.is_working_day, self.clock)
            sparse = now.astimezone(BEIJING).date() < self.span.recent(self.end.date())
            self._push(now + timedelta(hours=3 if sparse else 1), Tick())
        elif isinstance(what, Arrival):
            complaint = what.complaint.model_copy(update={"received_at": now})
            self.requests[complaint.ticket_id] = complaint
            self.replayed.requests += 1
            self._inbound(
                wire.Topic.INTAKE,
                "jiesu.complaint.received",
                complaint,
                complaint.ticket_id,
                SOURCE_HOTLINE,
                order,
            )
        elif isinstance(what, Step):
            self.replayed.actions[what.kind] += 1
            command = what.command.model_copy(update={"at": now})
            ce_type = f"jiesu.case.{what.kind}"
            self._inbound(wire.Topic.ACTIONS, ce_type, command, command.ticket_id, SOURCE_UNITS, order)
        elif isinstance(what, wire.CallbackRecorded):
            self.replayed.callbacks["invalid" if not what.valid else what.satisfaction] += 1
            record = what.model_copy(update={"recorded_at": now})
            ce_type = "jiesu.callback.recorded"
            self._inbound(wire.Topic.FEEDBACK, ce_type, record, record.ticket_id, SOURCE_CALLBACKS, order)
        elif isinstance(what, CoStep):
            self.replayed.actions[what.kind] += 1
            self._command(what.command)
        elif isinstance(what, CenterStep):
            self.replayed.decisions[type(what.command).__name__] += 1
            self._command(what.command)

    def _inbound(
        self, topic: wire.Topic, ce_type: str, data: wire.Wire, ticket: str, source: str, order: int
    ) -> None:
        """The record as its producer would publish it, applied by the agent's own code."""
        assert self.system is not None
        event_id = str(uuid.uuid5(IDS, f"{self.seed}:{ticket}:{order}"))
        out = encode(
            self.settings.topic(topic),
            ce_type,
            data,
            key=ticket,
            event_id=event_id,
            source=source,
            time=self.clock.now,
        )
        record = KafkaRecord(out.topic, out.key, out.value, out.headers)
        apply_one(INFLOWS[topic], self.system.bus, record)

    def _command(self, command: c.CaseCommand) -> None:
        assert self.system is not None
        try:
            self.system.bus.handle(command)
        except CaseError:
            self.replayed.refused += 1

    def _relay(self) -> None:
        assert self.relay is not None
        while self.relay.relay_once():
            pass
        self.unrelayed = 0

    # -- reacting to what the system published --------------------------------------------------------

    def _react(self) -> None:
        assert self.system is not None
        cases_topic = self.settings.topic(wire.Topic.CASES)
        for record in records_after(self.system.engine, self.read_up_to):
            self.read_up_to = record.offset
            self.unrelayed += 1
            if record.topic != cases_topic:
                if record.topic == self.settings.topic(wire.Topic.DEADLETTER):
                    self.replayed.refused += 1
                continue
            try:
                event = decode(record, CASE_TYPES)
            except RejectedRecord:
                continue
            self.replayed.events[event.type.removeprefix("jiesu.")] += 1
            self._on(event.data)

    def _on(self, event: wire.Wire) -> None:
        assert self.system is not None
        now = self.clock.now
        if not isinstance(event, wire.CaseEvent):
            return
        ticket = event.ticket_id
        seed = self.seeds.get(ticket, self.seed)
        conduct = self.conduct.get(self.urgency.get(ticket, "general"), self.conduct["general"])
        persons, signed = self.handover.persons, self.handover.signed
        steps: list[Step] = []
        if isinstance(event, wire.CaseDispatched | wire.CaseRedispatched):
            if isinstance(event, wire.CaseDispatched):
                self.urgency[ticket] = event.urgency
                conduct = self.conduct.get(event.urgency, self.conduct["general"])
            kind = type(event).__name__
            self.occurrences[(ticket, kind)] += 1
            occurrence = self.occurrences[(ticket, kind)]
            persons[ticket] = event.assignment.person or "worker"
            signed.discard(ticket)
            steps = unit_steps(
                event, seed, conduct, occurrence=occurrence, may_return=isinstance(event, wire.CaseDispatched)
            )
            self.co_handlers[ticket] = list(event.assignment.co_handlers)
            if event.assignment.co_handlers and not returned_first(steps):
                self.handover.co_pending[ticket] = set(event.assignment.co_handlers)
                units = event.assignment.co_handlers
                for co in co_handling_steps(ticket, units, seed, conduct, self._on_duty, occurrence):
                    self._push(now + co.after, co)
        elif isinstance(event, wire.CaseQueued):
            self._triage(event, seed)
        elif isinstance(event, wire.CaseReturned):
            self._arbitrate(event, seed)
        elif isinstance(event, wire.ReturnRejected):
            by = persons.get(ticket, "worker")
            steps = steps_after_rejected_return(ticket, by, now, seed, ticket in signed, conduct)
            if self.co_handlers.get(ticket):  # the lead reports once its co-handlers have (see above)
                steps = [step for step in steps if step.kind in ("acknowledge", "contact")]
                self.handover.co_pending[ticket] = set(self.co_handlers[ticket])
                units = self.co_handlers[ticket]
                for co in co_handling_steps(ticket, units, seed, conduct, self._on_duty, "kept"):
                    self._push(now + co.after, co)
        elif isinstance(event, wire.ExtensionRequested):
            rng = _rng(seed, ticket, "extension")
            approve = rng.random() < self.center.approved
            reason = "同意延期，请在新的期限内办结。" if approve else "理由不充分，请按原期限办结。"
            decide = c.DecideExtension(
                ticket,
                CENTER,
                approve=approve,
                until=event.requested_until if approve else None,
                reason=reason,
            )
            self._push(now + _minutes(rng, self.center.extension_minutes), CenterStep(decide))
        elif isinstance(event, wire.CaseReopened):
            self.rounds[ticket] = event.round
            steps = steps_after_reopening(
                ticket, persons.get(ticket, "worker"), now, event.round, seed, conduct
            )
        elif isinstance(event, wire.CaseAcknowledged):
            signed.add(ticket)
        elif isinstance(event, wire.CaseResolved):
            self.occurrences[(ticket, "resolved")] += 1
            round_ = self.occurrences[(ticket, "resolved")]
            callback = callback_for(ticket, now, seed, conduct, round_=round_)
            self._push(now + callback.after, callback.record)
        elif isinstance(event, wire.CoHandlerReported):
            waiting = self.handover.co_pending.get(ticket)
            if waiting is not None:
                waiting.discard(event.unit)
                if not waiting:
                    del self.handover.co_pending[ticket]
                    round_ = self.rounds.get(ticket, 1)
                    steps = [lead_resolves(ticket, persons.get(ticket, "worker"), now, seed, conduct, round_)]
        elif isinstance(event, wire.CaseEscalated) and event.stage == "callback":
            rng = _rng(seed, ticket, "review")
            reason = "经复核，承办单位已尽责办理，诉求人诉求已答复。"
            close = c.CloseAfterReview(ticket, CENTER, reason=reason)
            self._push(now + _minutes(rng, self.center.review_minutes), CenterStep(close))
        for step in steps:
            self._push(now + step.after, step)

    def _on_duty(self, unit: str) -> str:
        assert self.system is not None and self.system.router is not None
        try:
            person = self.system.router.assignment_for(unit, None, self.clock.now, "co-handling").person
        except KeyError:
            person = None
        return person or "worker"

    def _triage(self, event: wire.CaseQueued, seed: int) -> None:
        """The center's operator reads the request and dispatches it where its matter belongs."""
        assert self.system is not None and self.system.router is not None
        request = self.requests.get(event.ticket_id)
        if request is None:
            return
        category = event.category or TRUE_CATEGORY.get(request.description.removeprefix("再次反映："))
        if category is None:
            return
        complaint = complaint_from_wire(request.model_copy(update={"category": category}))
        assignment = self.system.router.route(complaint, self.clock.now).assignment
        if assignment is None:
            return
        rng = _rng(seed, event.ticket_id, "triage")
        dispatch = c.DispatchManually(
            event.ticket_id,
            CENTER,
            unit=assignment.unit,
            post=assignment.post,
            category=category,
            reason="分拨：按诉求内容派至主责单位",
        )
        self._push(self.clock.now + _minutes(rng, self.center.triage_minutes), CenterStep(dispatch))

    def _arbitrate(self, event: wire.CaseReturned, seed: int) -> None:
        rng = _rng(seed, event.ticket_id, "arbitrate", self.occurrences[(event.ticket_id, "returned")])
        self.occurrences[(event.ticket_id, "returned")] += 1
        upheld = event.proposal is not None and rng.random() < self.center.upheld
        arbitrate = c.Arbitrate(
            event.ticket_id,
            CENTER,
            decision="redispatch" if upheld else "reject",
            reason="退单理由成立，改派" if upheld else "属于本单位职责范围，退单不予支持",
        )
        self._push(self.clock.now + _minutes(rng, self.center.arbitrate_minutes), CenterStep(arbitrate))

    # -- the end ------------------------------------------------------------------------------------

    def _hand_over(self) -> None:
        """The people's steps after the end go to the live day; the center's decisions stay undone."""
        for at, _, what in sorted(self.queue, key=lambda item: (item[0], item[1])):
            if isinstance(what, Step | wire.CallbackRecorded | CoStep):
                self.handover.items.append((at, what))
        self.queue.clear()
