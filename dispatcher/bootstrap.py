"""The composition root: wires real adapters into the message bus. Tests wire fakes the same way."""

from __future__ import annotations

import uuid
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
from dispatcher.domain.case import Case, Deadlines
from dispatcher.domain.commands import DeadLetter, DispatchCase
from dispatcher.domain.joint import CoDeadlines
from dispatcher.service import (
    closed_loop,
    governance,
    handlers,
    lifecycle,
    merging,
    pause,
    supervision,
    whistle,
)
from dispatcher.service import hotspot_merging as hotspot_merges
from dispatcher.service import sla as sla_handlers
from dispatcher.service.lifecycle import ReturnWindowEnds
from dispatcher.service.messagebus import MessageBus
from dispatcher.service.pause import WorkingClockFor
from dispatcher.settings import Settings
from rules.catalog import Catalog
from rules.complaint import Complaint, Urgency
from rules.decision import Decision
from rules.routing import Router
from sla.calendar import Clock
from sla.policy import Duration
from sla.working_time import WorkingClock, working_clock


def utc_now() -> datetime:
    return datetime.now(UTC)


def return_window(settings: Settings) -> Callable[[Urgency], timedelta]:
    def window(urgency: Urgency) -> timedelta:
        urgent = urgency in (Urgency.EMERGENCY, Urgency.URGENT)
        return timedelta(
            hours=settings.return_window_urgent_hours if urgent else settings.return_window_hours
        )

    return window


def unit_class_of(sla: Sla, router: Router, case: Case) -> tuple[str, bool]:
    """The class of the case's unit (its working hours) and whether that class works round the clock."""
    unit_class = router.unit_class(case.assignment.unit) if case.assignment else "default"
    return unit_class, unit_class in sla.round_the_clock


def working_clock_from(sla: Sla, router: Router) -> WorkingClockFor:
    """The working clock of a case's unit, on the SLA file's calendar and working hours: what a pause
    (挂起) counts and moves the deadlines by."""

    def clock_of(case: Case) -> WorkingClock:
        return working_clock(sla.deadlines, *unit_class_of(sla, router, case))

    return clock_of


def return_window_ends(sla: Sla, router: Router) -> ReturnWindowEnds:
    """A tier's return window set in the SLA file (`return_window:`), on the calendar from dispatch."""

    def ends(case: Case) -> tuple[datetime, str] | None:
        duration = sla.return_windows.get(case.urgency.value)
        if duration is None:
            return None
        unit_class, always = unit_class_of(sla, router, case)
        due = sla.deadlines.after(case.dispatched_at, duration, unit_class=unit_class, round_the_clock=always)
        return due.at, str(duration)

    return ends


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


def order_deadline_from(sla: Sla, router: Router) -> supervision.OrderDeadline:
    """A supervision order's deadline: the duration its issuer asked for (or the SLA file's default),
    counted on the operator's calendar in the working hours of the addressed unit's class."""

    def deadline(within: str | None, unit: str, at: datetime) -> tuple[datetime, str]:
        duration = Duration.parse(within) if within else sla.order_within
        source = "asked by the supervisor" if within else "the SLA file's default"
        unit_class = router.unit_class(unit)
        due = sla.deadlines.after(
            at,
            duration,
            source=source,
            unit_class=unit_class,
            round_the_clock=unit_class in sla.round_the_clock,
        )
        facts = "; ".join(due.facts) or "no holiday or make-up day in between"
        return due.at, f"{duration} ({source}) → due {due.at:%Y-%m-%d %H:%M %z}; {facts}"

    return deadline


def head_post_from(router: Router) -> supervision.HeadPost:
    """The post at the top of a unit's ladder in the catalog in force (the one no other post reports to)."""

    def head_post(unit: str) -> str | None:
        catalog: object = getattr(router, "catalog", None)
        if callable(catalog):
            catalog = catalog()
        found = catalog.units.get(unit) if isinstance(catalog, Catalog) else None
        if found is None or not found.posts:
            return None
        return next((post.id for post in found.posts if post.supervisor is None), found.posts[-1].id)

    return head_post


def unit_known_from(router: Router) -> governance.UnitKnown:
    """Whether the catalog in force has the unit."""

    def unit_known(unit: str) -> bool:
        catalog: object = getattr(router, "catalog", None)
        if callable(catalog):
            catalog = catalog()
        return isinstance(catalog, Catalog) and unit in catalog.units

    return unit_known


def new_task_id() -> str:
    return f"GT-{uuid.uuid4().hex[:10].upper()}"


def new_order_id() -> str:
    return f"SO-{uuid.uuid4().hex[:10].upper()}"


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
    working_clock_of = working_clock_from(sla, router)
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
                merge_window=timedelta(minutes=settings.merge_window_minutes) or None,
                merge_hotspots=settings.merge_hotspots,
            ),
            c.MergeHotspot: partial(hotspot_merges.merge_hotspot, uow=uow, clock=clock),
            DeadLetter: partial(handlers.dead_letter, uow=uow),
            c.AcknowledgeCase: partial(lifecycle.acknowledge, uow=uow, clock=clock),
            c.RecordContact: partial(lifecycle.contact, uow=uow, clock=clock),
            c.ReturnCase: partial(
                lifecycle.return_case,
                uow=uow,
                clock=clock,
                router=router,
                window=return_window(settings),
                window_ends=return_window_ends(sla, router),
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
            c.FireTimers: partial(
                sla_handlers.fire_timers, uow=uow, clock=clock, working_clock=working_clock_of
            ),
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
            c.IssueSupervisionOrder: partial(
                supervision.issue_order,
                uow=uow,
                clock=clock,
                deadline=order_deadline_from(sla, router),
                head_post=head_post_from(router),
                new_id=new_order_id,
            ),
            c.AnswerSupervisionOrder: partial(supervision.answer_order, uow=uow, clock=clock),
            c.MergeCases: partial(merging.merge_cases, uow=uow, clock=clock),
            c.UnmergeCase: partial(merging.unmerge_case, uow=uow, clock=clock),
            c.RequestPause: partial(pause.request_pause, uow=uow, clock=clock),
            c.DecidePause: partial(pause.decide_pause, uow=uow, clock=clock),
            c.ResumeCase: partial(pause.resume, uow=uow, clock=clock, working_clock=working_clock_of),
            c.Whistle: partial(
                whistle.whistle, uow=uow, clock=clock, router=router, co_deadlines_for=co_deadlines_from(sla)
            ),
            c.WaiveReport: partial(whistle.waive_report, uow=uow, clock=clock),
            c.CreateGovernanceTask: partial(
                governance.create_task,
                uow=uow,
                clock=clock,
                deadline=order_deadline_from(sla, router),
                unit_known=unit_known_from(router),
                new_id=new_task_id,
            ),
            c.ReportGovernanceTask: partial(governance.report_task, uow=uow, clock=clock),
        }
    )
    return System(settings, engine, bus, clock, assessment, sla, router, uow.batch)
