"""The composition root: wires real adapters into the message bus. Tests wire fakes the same way."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import Engine

from dispatcher.adapters.assessment_file import load_assessment
from dispatcher.adapters.catalog import ReloadingRouter
from dispatcher.adapters.database import make_engine
from dispatcher.adapters.sla_file import Sla, load_sla
from dispatcher.adapters.sql import SqlUnitOfWork
from dispatcher.domain import commands as c
from dispatcher.domain.callbacks import Assessment
from dispatcher.domain.case import Deadlines
from dispatcher.domain.commands import DeadLetter, DispatchCase
from dispatcher.domain.joint import CoDeadlines
from dispatcher.service import closed_loop, handlers, lifecycle, whistle
from dispatcher.service import sla as sla_handlers
from dispatcher.service.messagebus import MessageBus
from dispatcher.settings import Settings
from rules.complaint import Complaint, Urgency
from rules.decision import Decision
from rules.routing import Router
from sla.calendar import Clock


def utc_now() -> datetime:
    return datetime.now(UTC)


def return_window(settings: Settings) -> Callable[[Urgency], timedelta]:
    def window(urgency: Urgency) -> timedelta:
        urgent = urgency in (Urgency.EMERGENCY, Urgency.URGENT)
        return timedelta(
            hours=settings.return_window_urgent_hours if urgent else settings.return_window_hours
        )

    return window


def deadlines_from(sla: Sla) -> Callable[[Complaint, Decision, datetime], Deadlines | None]:
    """Deadlines per stage from the tier, the category and the calendar of the operator's SLA file."""
    calculator, round_the_clock = sla.deadlines, sla.round_the_clock

    def deadlines_for(complaint: Complaint, decision: Decision, at: datetime) -> Deadlines | None:
        if decision.assignment is None:
            return None  # queued at the center: the clock starts when a unit has it
        always = decision.round_the_clock or decision.unit_class in round_the_clock
        due = calculator.all(at, decision.urgency.value, decision.category, decision.unit_class, always)
        return Deadlines(
            {stage.value: item.at for stage, item in due.items()},
            {stage.value: item.explain() for stage, item in due.items()},
        )

    return deadlines_for


def co_deadlines_from(sla: Sla) -> Callable[[str, datetime], CoDeadlines | None]:
    """吹哨报到: a called unit's deadlines to acknowledge and to report, from the moment it is called, on
    the calendar and in the working hours of its class (the SLA file's `co_handling`)."""
    calculator, round_the_clock = sla.deadlines, sla.round_the_clock

    def co_deadlines_for(unit_class: str, at: datetime) -> CoDeadlines | None:
        always = unit_class in round_the_clock
        acknowledge = calculator.after(at, sla.co_acknowledge, unit_class=unit_class, round_the_clock=always)
        report = calculator.after(at, sla.co_report, unit_class=unit_class, round_the_clock=always)
        how = "; ".join(
            f"{name}: {due.duration} (co_handling) → due {due.at:%Y-%m-%d %H:%M %z}"
            + (f"; {'; '.join(due.facts)}" if due.facts else "")
            for name, due in (("co_acknowledge", acknowledge), ("co_report", report))
        )
        return CoDeadlines(acknowledge.at, report.at, how)

    return co_deadlines_for


@dataclass
class System:
    settings: Settings
    engine: Engine
    bus: MessageBus
    clock: Clock
    assessment: Assessment
    sla: Sla
    """The operator's SLA file, read once: its calendar is the one the router and the deadlines use."""
    router: Router | None = None
    batch: Callable[..., AbstractContextManager[None]] | None = None
    """Runs the commands sent inside it in one transaction (see `SqlUnitOfWork.batch`)."""


def bootstrap(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    on_commit: Callable[[], None] = lambda: None,
    engine: Engine | None = None,
    router: Router | None = None,
) -> System:
    engine = engine or make_engine(settings.database_url)
    assessment = load_assessment(settings.assessment_file)
    sla = load_sla(settings.sla_file)
    score = partial(closed_loop.unit_scores, assessment)
    uow = SqlUnitOfWork(engine, settings.topic, clock, on_commit, score)
    router = router or ReloadingRouter(settings.catalog_dir, sla.calendar, settings.catalog_reload_seconds)
    deadlines_for = deadlines_from(sla)
    bus = MessageBus(
        {
            DispatchCase: partial(
                handlers.dispatch_case,
                uow=uow,
                router=router,
                clock=clock,
                repeat_window=timedelta(days=settings.repeat_window_days),
                deadlines_for=deadlines_for,
                direct_callback=settings.direct_callback,
            ),
            DeadLetter: partial(handlers.dead_letter, uow=uow),
            c.AcknowledgeCase: partial(lifecycle.acknowledge, uow=uow, clock=clock),
            c.RecordContact: partial(lifecycle.contact, uow=uow, clock=clock),
            c.ReturnCase: partial(
                lifecycle.return_case, uow=uow, clock=clock, router=router, window=return_window(settings)
            ),
            c.Arbitrate: partial(
                lifecycle.arbitrate,
                uow=uow,
                clock=clock,
                router=router,
                deadlines_for=deadlines_for,
                pause=sla.pause_in_arbitration,
            ),
            c.DispatchManually: partial(
                lifecycle.dispatch_manually, uow=uow, clock=clock, router=router, deadlines_for=deadlines_for
            ),
            c.RequestExtension: partial(lifecycle.request_extension, uow=uow, clock=clock),
            c.DecideExtension: partial(lifecycle.decide_extension, uow=uow, clock=clock),
            c.ResolveCase: partial(lifecycle.resolve, uow=uow, clock=clock),
            c.FireTimers: partial(sla_handlers.fire_timers, uow=uow, clock=clock),
            c.AcknowledgeAsCoHandler: partial(lifecycle.acknowledge_as_co_handler, uow=uow, clock=clock),
            c.ReportToLead: partial(lifecycle.report_to_lead, uow=uow, clock=clock),
            c.RecordCallback: partial(
                closed_loop.record_callback,
                uow=uow,
                clock=clock,
                router=router,
                assessment=assessment,
                deadlines_for=deadlines_for,
            ),
            c.CloseAfterReview: partial(closed_loop.close_after_review, uow=uow, clock=clock),
            c.TerminateCase: partial(closed_loop.terminate, uow=uow, clock=clock),
            c.FileAppeal: partial(closed_loop.file_appeal, uow=uow, clock=clock),
            c.DecideAppeal: partial(closed_loop.decide_appeal, uow=uow, clock=clock),
            c.PublishScores: partial(closed_loop.publish_scores, uow=uow, clock=clock),
            c.Whistle: partial(
                whistle.whistle, uow=uow, clock=clock, router=router, co_deadlines_for=co_deadlines_from(sla)
            ),
            c.WaiveReport: partial(whistle.waive_report, uow=uow, clock=clock),
        }
    )
    return System(settings, engine, bus, clock, assessment, sla, router, uow.batch)
