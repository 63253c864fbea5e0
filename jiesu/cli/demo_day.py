"""The demo's working day: a past that fills the charts, and a live day in which the units and the callback
center act on the cases, so that a minute after `jiesu demo` starts the pages look like a center at work.

`DemoDay` is what `jiesu demo` runs, in two parts:

1. before the worker starts, the **history** (`jiesu.cli.demo_history`): the past days replayed through the
   system's own handlers with a clock set in the past (its docstring says how, and why not past-dated
   events): 30 days of volume, months of callbacks for the three rates, fired escalations, open cases
   still in hand at each stage;
2. once the worker runs, the **live day** (`DayPlayer`): a simulated hotline at a steady `rate` (requests per
   second, a few at most; some too vague for the classifier, for the triage queue), and the people around
   the system playing their part through the public contract, as `jiesu simulate --workers` does: the
   units sign for (`jiesu.case.acknowledge`), contact, return, ask for more time and resolve on
   `jiesu.actions` (now and then one signs late: after its deadline on the wall clock, so that the worker's
   sweeper warns and escalates for real); the callback center calls
   back on `jiesu.feedback` (satisfied, basically, unsatisfied: the case is reopened, or invalid); a case's
   co-handling units sign for and report their part as `jiesu case co-acknowledge` / `co-report` do. A
   simulated minute of their work lasts `pace` real seconds (0.25: a case goes from dispatch to callback
   in one to two minutes). They act on every case the worker publishes: the simulated day's, the
   history's still open (their next steps come on time), a request filed on the operator's page, a case
   redispatched from the supervisor's arbitration; except those `leave` names (the showcase cases kept for
   the demo's logins), which only the callback center calls back once someone resolves them.

The center's own decisions are left to the demo's supervisor: returns to arbitrate, extension requests and
the triage queue fill up on the dashboard. Everything is seeded (`seed`): the same requests and the same
decisions; only the wall clock and the callers' numbers (`fresh_phones`) differ from one start to the next.
Ctrl-C (or `stop`) ends the live day at once.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from dispatcher.bootstrap import bootstrap
from dispatcher.contract import events as wire
from dispatcher.domain.case import CaseError
from dispatcher.settings import Settings
from jiesu.cli.demo_history import (
    CoStep,
    Handover,
    History,
    Span,
    co_handling_steps,
    lead_resolves,
    returned_first,
    with_vague,
)
from jiesu.cli.simulate import Simulation, Tally
from jiesu.cli.simulator import (
    Conduct,
    Mix,
    PlannedRequest,
    Step,
    day_plan,
    steps_after_rejected_return,
    unit_steps,
)
from sla.calendar import BEIJING

FLAT = (1.0,) * 24  # the live day's requests come at a steady rate, whatever the hour


@dataclass(frozen=True)
class DayOptions:
    """`jiesu demo`'s day: `rate` requests per second (at most 5), `pace` real seconds per simulated minute of
    the units' and callback center's work, the `span` of history (ending `until`, default now: a history
    ending at a fixed moment is the same at every run); `count` requests, or until stopped."""

    seed: int = 12345
    rate: float = 0.5
    pace: float = 0.25
    span: Span = field(default_factory=Span)
    count: int | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if not 0 < self.rate <= 5:
            raise ValueError(f"rate {self.rate}: between 0 and 5 requests a second")
        if self.pace <= 0:
            raise ValueError(f"pace {self.pace}: real seconds per simulated minute, above 0")


def fresh_phones(plan: Iterator[PlannedRequest], salt: str) -> Iterator[PlannedRequest]:
    """The plan with its callers' phone numbers made this run's own (a repeat keeps its caller's): the same
    seed gives the same requests at every start, and a caller of an earlier run must not make today's
    request a repeat of a case still open from then."""
    for planned in plan:
        requester = planned.complaint.requester
        if requester is not None and requester.phone:
            digest = hashlib.sha256(f"{salt}:{requester.phone}".encode()).hexdigest()
            phone = f"1{3 + int(digest[0], 16) % 7}{int(digest[1:12], 16) % 10**9:09d}"
            complaint = planned.complaint.model_copy(
                update={"requester": requester.model_copy(update={"phone": phone})}
            )
            planned = replace(planned, complaint=complaint)
        yield planned


class DayPlayer(Simulation):
    """The live day: the simulated hotline and the people around the system (see the module)."""

    def __init__(
        self,
        settings: Settings,
        options: DayOptions,
        *,
        handover: Handover | None = None,
        leave: Callable[[str], bool] = lambda ticket: False,
        conduct: Conduct = Conduct(),
        stop: threading.Event | None = None,
    ) -> None:
        started = datetime.now(UTC)
        prefix = f"DAY{options.seed}-{started:%m%d%H%M%S}"
        plan = day_plan(
            started.astimezone(BEIJING),
            options.rate,
            options.seed,
            count=options.count,
            duration=None if options.count else timedelta(days=7),
            time_scale=60.0,  # the requests arrive in real time; the people act at `pace`
            mix=Mix(curve=FLAT, repeat=0.0 if options.count else Mix.repeat),
            ticket_prefix=prefix,
        )
        super().__init__(
            settings,
            with_vague(fresh_phones(plan, prefix), options.seed),
            seed=options.seed,
            time_scale=60.0,
            workers=True,
            quiet_seconds=10.0,
            conduct=conduct,
            reaction_scale=options.pace,
            stop=stop,
        )
        self.system = bootstrap(settings)  # the co-handling units' commands, and who is on duty there
        self.leave = leave
        handover = handover or Handover()
        self.persons.update(handover.persons)
        self.signed |= handover.signed
        self.co_pending: dict[str, set[str]] = {t: set(units) for t, units in handover.co_pending.items()}
        self.co_units: dict[str, list[str]] = {t: sorted(units) for t, units in handover.co_pending.items()}
        self.refused = 0
        now, clock = time.monotonic(), datetime.now(UTC)
        for at, what in handover.items:  # the history's people carry on, on time
            self.schedule(now + max(0.0, (at - clock).total_seconds()), what)

    def _react(self, event: wire.Wire, now: float) -> None:
        if not isinstance(event, wire.CaseEvent):
            return
        ticket = event.ticket_id
        if self.leave(ticket) and not isinstance(event, wire.CaseResolved):
            return  # kept for the demo's logins: only the callback center calls back
        if isinstance(event, wire.CaseDispatched | wire.CaseRedispatched):
            self._dispatched(event, now)
        elif isinstance(event, wire.ReturnRejected) and self.co_units.get(ticket):
            self._kept_with_co_handlers(event, now)
        elif isinstance(event, wire.CoHandlerReported):
            waiting = self.co_pending.get(ticket)
            if waiting is None:
                return
            waiting.discard(event.unit)
            if not waiting:
                del self.co_pending[ticket]
                by = self.persons.get(ticket, "worker")
                step = lead_resolves(ticket, by, event.at, self.seed, self.conduct)
                self.schedule(now + self.later(step.after), step)
        else:
            super()._react(event, now)

    def _dispatched(self, event: wire.CaseDispatched | wire.CaseRedispatched, now: float) -> None:
        """As `Simulation` does, but a unit that signs late does so after the deadline on the wall clock, so
        that the worker's sweeper warns, marks the breach and escalates for real."""
        ticket, kind = event.ticket_id, type(event).__name__
        self.occurrences[(ticket, kind)] += 1
        self.persons[ticket] = event.assignment.person or "worker"
        self.signed.discard(ticket)
        dispatched = isinstance(event, wire.CaseDispatched)
        occurrence = self.occurrences[(ticket, kind)]
        steps = unit_steps(event, self.seed, self.conduct, occurrence=occurrence, may_return=dispatched)
        shift = 0.0
        deadline = event.deadlines.get("acknowledge")
        if steps and steps[0].late and deadline is not None:
            simulated = deadline.due_at - event.at  # the late step comes this long, then a little, after
            shift = max(0.0, (deadline.due_at - datetime.now(UTC)).total_seconds()) - self.later(simulated)
        for step in steps:
            self.schedule(now + shift + self.later(step.after), step)
        self._co_handling(event, now + shift, steps)  # co-handlers wait for a late lead too

    def _co_handling(
        self, event: wire.CaseDispatched | wire.CaseRedispatched, now: float, steps: list[Step]
    ) -> None:
        """The lead unit contacts the requester (`steps`); its co-handlers sign for and report their parts,
        and the lead reports the result once they all have."""
        ticket, units = event.ticket_id, list(event.assignment.co_handlers)
        self.co_units[ticket] = units
        self.co_pending.pop(ticket, None)
        if not units or returned_first(steps):
            return
        occurrence = self.occurrences[(ticket, type(event).__name__)]
        self.co_pending[ticket] = set(units)
        for co in co_handling_steps(ticket, units, self.seed, self.conduct, self._on_duty, occurrence):
            self.schedule(now + self.later(co.after), co)

    def _kept_with_co_handlers(self, event: wire.ReturnRejected, now: float) -> None:
        ticket, units = event.ticket_id, self.co_units[event.ticket_id]
        by, signed = self.persons.get(ticket, "worker"), ticket in self.signed
        steps = steps_after_rejected_return(ticket, by, event.at, self.seed, signed, self.conduct)
        kept: list[Step | CoStep] = [step for step in steps if step.kind in ("acknowledge", "contact")]
        kept += co_handling_steps(ticket, units, self.seed, self.conduct, self._on_duty, "kept")
        self.co_pending[ticket] = set(units)
        for step in kept:
            self.schedule(now + self.later(step.after), step)

    def _on_duty(self, unit: str) -> str:
        router = self.system.router
        assert router is not None
        try:
            person = router.assignment_for(unit, None, datetime.now(UTC), "co-handling").person
        except KeyError:
            person = None
        return person or "worker"

    def _send(self, what: Any) -> None:
        if not isinstance(what, CoStep):
            super()._send(what)
            return
        self.tally.actions[what.kind] += 1
        try:
            self.system.bus.handle(what.command)
        except CaseError:
            self.refused += 1  # the case moved on meanwhile (returned, say)

    def close(self) -> None:
        super().close()
        self.system.engine.dispose()


class DemoDay:
    """The history, then the live day in a thread of its own, until `stop`."""

    def __init__(self, settings: Settings, options: DayOptions, say: Callable[[str], None] = print) -> None:
        self.settings, self.options, self.say = settings, options, say
        self.handover = Handover()
        self.player: DayPlayer | None = None
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()

    def backfill(self) -> None:
        """Replay the past days not yet in the database; before the worker starts."""
        options = self.options
        history = History(
            self.settings, seed=options.seed, span=options.span, end=options.until, say=self.say
        )
        self.handover = history.run()

    def start(self, leave: Callable[[str], bool] = lambda ticket: False) -> None:
        """Start the live day (the worker must be running, or about to)."""
        self.player = DayPlayer(
            self.settings, self.options, handover=self.handover, leave=leave, stop=self.stopping
        )
        self.thread = threading.Thread(target=self.player.run, args=(False,), name="demo-day", daemon=True)
        self.thread.start()
        pace = self.options.pace
        self.say(
            f"day: simulated requests at {self.options.rate}/s; units and the callback center act on the "
            f"cases (a simulated minute of their work lasts {pace:g} s); arbitration, extensions and triage "
            f"are left to the supervisor"
        )

    def stop(self) -> Tally | None:
        """End the live day; returns what it did."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=60)
        return self.player.tally if self.player else None
