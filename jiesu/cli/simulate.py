"""`jiesu simulate`: publish a simulated hotline day and, with `--workers`, act as the units and the
callback center, reacting to what `jiesu run` publishes on the cases topic.

The decisions come from `jiesu.cli.simulator` (pure, seeded); this module only paces them in real time
(a simulated minute lasts `--time-scale` real seconds) and carries them over Kafka. Commands and callbacks
are stamped with the real time at which they are sent.
"""

from __future__ import annotations

import heapq
import re
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import typer
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from consumers.publisher import IntakePublisher
from dispatcher.contract import events as wire
from dispatcher.contract.cloudevents import KafkaRecord, RejectedRecord, decode, encode
from dispatcher.settings import Settings, load_settings
from jiesu.cli.simulator import (
    Conduct,
    PlannedRequest,
    Step,
    callback_for,
    day_plan,
    steps_after_rejected_return,
    steps_after_reopening,
    unit_steps,
)
from jiesu.cli.surges import Surge, with_surges
from sla.calendar import BEIJING

SOURCE_UNITS = "/jiesu/simulator/units"
SOURCE_CALLBACKS = "/jiesu/simulator/callcenter"
CASE_TYPES = wire.types_on(wire.Topic.CASES)
DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s)?\s*$")


def parse_duration(text: str) -> timedelta:
    """`30s`, `10m`, `1h`, `1h30m`; a bare number is seconds."""
    try:
        return timedelta(seconds=float(text))
    except ValueError:
        pass
    match = DURATION.match(text)
    if not match or not any(match.groups()):
        raise typer.BadParameter(f"{text!r}: expected e.g. 30s, 10m, 1h or 1h30m")
    hours, minutes, seconds = (float(part or 0) for part in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


@dataclass
class Tally:
    """What the run did and saw, for the progress line and the summary."""

    requests: int = 0
    categories: Counter[str] = field(default_factory=Counter)
    urgencies: Counter[str] = field(default_factory=Counter)
    repeats: int = 0
    confidential: int = 0
    vulnerable: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    late: int = 0
    callbacks: Counter[str] = field(default_factory=Counter)
    seen: Counter[str] = field(default_factory=Counter)
    dead_letters: Counter[str] = field(default_factory=Counter)

    def count_request(self, planned: PlannedRequest) -> None:
        complaint = planned.complaint
        self.requests += 1
        self.categories[complaint.category or "(to classify)"] += 1
        self.urgencies[complaint.urgency or "general"] += 1
        self.repeats += planned.repeat_of is not None
        if complaint.requester is not None:
            self.confidential += complaint.requester.confidential
            self.vulnerable += bool(complaint.requester.groups)

    def progress(self, elapsed: float) -> str:
        rate = self.requests / elapsed if elapsed > 0 else 0.0
        return (
            f"\rrequests {self.requests}  actions {sum(self.actions.values())}  "
            f"callbacks {sum(self.callbacks.values())}  {rate:.2f}/s  {elapsed:.0f}s "
        )

    def summary(self, elapsed: float) -> str:
        def line(title: str, counts: Counter[str]) -> str:
            return f"{title}: " + (", ".join(f"{k} {v}" for k, v in counts.most_common()) or "none")

        rate = self.requests / elapsed if elapsed > 0 else 0.0
        lines = [
            f"requests: {self.requests} in {elapsed:.1f}s ({rate:.2f}/s); repeats {self.repeats}, "
            f"confidential {self.confidential}, elderly/disabled {self.vulnerable}",
            line("  by category", self.categories),
            line("  by urgency", self.urgencies),
            line("actions", self.actions) + (f" (late acknowledgements {self.late})" if self.late else ""),
            line("callbacks", self.callbacks),
            line("case events seen", self.seen),
            line("dead letters", self.dead_letters),
        ]
        return "\n".join(lines)


@dataclass(order=True)
class Due:
    """Something to send at `at` (time.monotonic())."""

    at: float
    order: int
    what: Any = field(compare=False)


class Simulation:
    """Paces the plan in real time and carries it over Kafka."""

    def __init__(
        self,
        settings: Settings,
        plan: Iterator[PlannedRequest],
        *,
        seed: int,
        time_scale: float,
        workers: bool,
        quiet_seconds: float,
        conduct: Conduct = Conduct(),
        reaction_scale: float | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """`reaction_scale`: real seconds a simulated minute of the units and the callback center lasts
        (default `time_scale`, the requests' own); `stop`: set it to end `run` from another thread."""
        self.settings, self.seed, self.time_scale, self.workers = settings, seed, time_scale, workers
        self.quiet_seconds, self.conduct = quiet_seconds, conduct
        self.reaction_scale = time_scale if reaction_scale is None else reaction_scale
        self.stop = stop or threading.Event()
        self.plan = plan
        self.tally = Tally()
        self.elapsed = 0.0
        self.queue: list[Due] = []
        self.order = 0
        self.persons: dict[str, str] = {}
        self.signed: set[str] = set()
        self.occurrences: Counter[tuple[str, str]] = Counter()
        self.intake = IntakePublisher(settings)
        self.producer: Any = KafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=5, client_id="jiesu-simulator"
        )
        self.cases: Any = None
        self.deadletters: Any = None
        if workers:
            group = f"jiesu-simulator-{uuid.uuid4().hex[:8]}"
            self.cases = self._from_the_end(settings.topic(wire.Topic.CASES), group)
            self.deadletters = self._from_the_end(settings.topic(wire.Topic.DEADLETTER), group + "-dlq")

    def _from_the_end(self, topic: str, group: str) -> Any:
        """A consumer at the current end of every partition, positioned before anything is published."""
        consumer: Any = KafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap, group_id=group, enable_auto_commit=False
        )
        partitions = consumer.partitions_for_topic(topic) or set()
        assigned = [TopicPartition(topic, partition) for partition in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_end(*assigned)
        for partition in assigned:
            consumer.position(partition)
        return consumer

    def real(self, simulated: timedelta) -> float:
        return simulated.total_seconds() * self.time_scale / 60.0

    def later(self, simulated: timedelta) -> float:
        """Real seconds until a unit's or the callback center's step `simulated` after what it reacts to."""
        return simulated.total_seconds() * self.reaction_scale / 60.0

    def schedule(self, at: float, what: Any) -> None:
        self.order += 1
        heapq.heappush(self.queue, Due(at, self.order, what))

    def run(self, progress: bool = True) -> Tally:
        began = last_heard = time.monotonic()
        next_request = next(self.plan, None)
        shown = 0.0
        try:
            while not self.stop.is_set():
                now = time.monotonic()
                while next_request is not None and began + self.real(next_request.after) <= now:
                    self._publish(next_request)
                    next_request = next(self.plan, None)
                    last_heard = now  # the quiet period counts from the last request, not from the start
                while self.queue and self.queue[0].at <= now:
                    self._send(heapq.heappop(self.queue).what)
                    last_heard = now
                if self.cases is not None and self._listen(now):
                    last_heard = now
                if progress and now - shown >= 0.25:
                    print(self.tally.progress(now - began), end="", file=sys.stderr, flush=True)
                    shown = now
                finished = next_request is None and not self.queue
                if finished and (not self.workers or now - last_heard >= self.quiet_seconds):
                    break
                waits = [0.2]
                if next_request is not None:
                    waits.append(began + self.real(next_request.after) - now)
                if self.queue:
                    waits.append(self.queue[0].at - now)
                if self.cases is None:
                    time.sleep(max(0.0, min(waits)))
        except KeyboardInterrupt:
            pass
        finally:
            self.close()
        self.elapsed = time.monotonic() - began
        if progress:
            print(self.tally.progress(self.elapsed), file=sys.stderr, flush=True)
        return self.tally

    def _publish(self, planned: PlannedRequest) -> None:
        complaint = planned.complaint.model_copy(update={"received_at": datetime.now(UTC)})
        self.intake.publish(complaint)
        self.tally.count_request(planned)

    def _send(self, what: Step | wire.CallbackRecorded) -> None:
        now = datetime.now(UTC)
        if isinstance(what, Step):
            command = what.command.model_copy(update={"at": now})
            topic, ce_type, source = wire.Topic.ACTIONS, f"jiesu.case.{what.kind}", SOURCE_UNITS
            self.tally.actions[what.kind] += 1
            self.tally.late += what.late
            data: wire.Wire = command
            ticket = command.ticket_id
        else:
            data = what.model_copy(update={"recorded_at": now})
            topic, ce_type, source = wire.Topic.FEEDBACK, "jiesu.callback.recorded", SOURCE_CALLBACKS
            self.tally.callbacks["invalid" if not what.valid else what.satisfaction] += 1
            ticket = what.ticket_id
        record = encode(
            self.settings.topic(topic),
            ce_type,
            data,
            key=ticket,
            event_id=str(uuid.uuid4()),
            source=source,
            time=now,
        )
        self.producer.send(record.topic, key=record.key, value=record.value, headers=record.headers)

    def _listen(self, now: float) -> bool:
        """Poll the cases topic (and the dead letters); True if a case event arrived."""
        timeout = 100 if not self.queue else max(0, min(100, int((self.queue[0].at - now) * 1000)))
        heard = False
        for batch in self.cases.poll(timeout_ms=timeout).values():
            for message in batch:
                record = KafkaRecord(message.topic, message.key, message.value, list(message.headers or []))
                try:
                    event = decode(record, CASE_TYPES)
                except RejectedRecord:
                    continue
                heard = True
                self.tally.seen[event.type.removeprefix("jiesu.")] += 1
                self._react(event.data, time.monotonic())
        for batch in self.deadletters.poll(timeout_ms=0).values():
            for message in batch:
                reason = dict(message.headers or []).get("jiesu_reason", b"unknown")
                self.tally.dead_letters[reason.decode(errors="replace")] += 1
        return heard

    def _react(self, event: wire.Wire, now: float) -> None:
        steps: list[Step] = []
        if isinstance(event, wire.CaseDispatched | wire.CaseRedispatched):
            kind = type(event).__name__
            self.occurrences[(event.ticket_id, kind)] += 1
            self.persons[event.ticket_id] = event.assignment.person or "worker"
            self.signed.discard(event.ticket_id)
            steps = unit_steps(
                event,
                self.seed,
                self.conduct,
                occurrence=self.occurrences[(event.ticket_id, kind)],
                may_return=isinstance(event, wire.CaseDispatched),
            )
        elif isinstance(event, wire.ReturnRejected):
            by = self.persons.get(event.ticket_id, "worker")
            signed = event.ticket_id in self.signed
            steps = steps_after_rejected_return(
                event.ticket_id, by, event.at, self.seed, signed, self.conduct
            )
        elif isinstance(event, wire.CaseReopened):
            by = self.persons.get(event.ticket_id, "worker")
            steps = steps_after_reopening(event.ticket_id, by, event.at, event.round, self.seed, self.conduct)
        elif isinstance(event, wire.CaseAcknowledged):
            self.signed.add(event.ticket_id)
        elif isinstance(event, wire.CaseResolved):
            self.occurrences[(event.ticket_id, "resolved")] += 1
            rounds = self.occurrences[(event.ticket_id, "resolved")]
            callback = callback_for(event.ticket_id, event.at, self.seed, self.conduct, round_=rounds)
            self.schedule(now + self.later(callback.after), callback.record)
        for step in steps:
            self.schedule(now + self.later(step.after), step)

    def close(self) -> None:
        self.intake.close()
        self.producer.flush(timeout=30)
        self.producer.close(timeout=10)
        if self.cases is not None:
            time.sleep(0.5)
            self._listen(time.monotonic())
            self.cases.close()
            self.deadletters.close()


def simulate(
    rate: float = typer.Option(
        5.0, min=0.01, help="Mean requests per second over a day (the curve shapes it)."
    ),
    duration: str | None = typer.Option(None, help="How long to publish requests: 30s, 10m, 1h (real time)."),
    count: int | None = typer.Option(None, min=1, help="How many requests (default 20 without --duration)."),
    seed: int = typer.Option(12345, help="Same seed, same requests and same decisions."),
    workers: bool = typer.Option(False, help="Also act as the units and the callback center."),
    time_scale: float = typer.Option(1.0, min=0.001, help="Real seconds a simulated minute lasts."),
    start: str | None = typer.Option(None, help="Simulated clock start, HH:MM Beijing time (default: now)."),
    quiet: float = typer.Option(10.0, min=0.0, help="With --workers: stop after this many quiet seconds."),
    surge: list[str] = typer.Option(
        [],
        help="Plant a surge on the day (repeatable): "
        "CATEGORY@DISTRICT/STREET[/COMMUNITY]:RATE/h:STARTh+HOURSh, "
        "e.g. 090101@朝阳区/望京街道:15/h:0.5h+1h (simulated hours from the start).",
    ),
) -> None:
    """Publish a simulated hotline day to the intake topic; with --workers, also handle the cases."""
    settings = load_settings()
    if count is None and duration is None:
        count = 20
    beijing_now = datetime.now(BEIJING)
    clock = beijing_now
    if start is not None:
        try:
            hour, minute = (int(part) for part in start.split(":"))
            clock = beijing_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        except ValueError:
            raise typer.BadParameter(f"--start {start!r}: expected HH:MM") from None
    real = parse_duration(duration) if duration is not None else None
    plan = day_plan(
        clock,
        rate,
        seed,
        count=count,
        duration=real * 60 / time_scale if real is not None else None,
        time_scale=time_scale,
        ticket_prefix=f"SIM{seed}-{datetime.now(UTC):%m%d%H%M%S}",
    )
    try:
        planted = [Surge.parse(text) for text in surge]
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--surge") from None
    if planted:
        plan = with_surges(plan, clock, planted, seed)
    simulation = Simulation(
        settings, plan, seed=seed, time_scale=time_scale, workers=workers, quiet_seconds=quiet
    )
    tally = simulation.run(progress=sys.stderr.isatty() or workers)
    print(tally.summary(simulation.elapsed))
    print(f"published {tally.requests} requests to {settings.topic(wire.Topic.INTAKE)}")
