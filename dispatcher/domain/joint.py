"""Joint handling (首接负责): the lead unit handles the case, co-handling units report to it.

Co-handling units come from the catalog's rule (named at dispatch), or are called in by the lead unit on
an open case (吹哨报到: the street blows the whistle, the departments report): a called unit is asked for
something in words, and gets its own deadlines to acknowledge its part and to report it to the lead, with
SLA timers of its own (stages `co_acknowledge` and `co_report`, see `timer_plan`). The lead resolves once
every called unit has reported, or a supervisor has waived a unit's report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

CATALOG, WHISTLE = "catalog", "whistle"
CO_ACKNOWLEDGE, CO_REPORT = "co_acknowledge", "co_report"  # a called unit's stages (timer stage names)
CO_STAGES = (CO_ACKNOWLEDGE, CO_REPORT)


@dataclass(frozen=True)
class CoDeadlines:
    """A called unit's deadlines: to acknowledge its part and to report it to the lead, and how each was
    computed (the business calendar's facts)."""

    acknowledge_due: datetime
    report_due: datetime
    how: str


@dataclass(frozen=True)
class CoHandler:
    """One co-handling unit's own acknowledgement and report to the lead."""

    unit: str
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    report: str | None = None
    reported_by: str | None = None
    reported_at: datetime | None = None
    source: str = CATALOG  # catalog: named by the dispatch rule; whistle: called in on the case (吹哨)
    ask: str | None = None  # what the lead asks of it
    called_by: str | None = None
    called_at: datetime | None = None
    acknowledge_due: datetime | None = None
    report_due: datetime | None = None
    how: str | None = None  # how its deadlines were computed
    waived_by: str | None = None  # a supervisor let the lead resolve without its report
    waived_at: datetime | None = None
    waive_reason: str | None = None
    post: str | None = None  # the called unit's post and person on duty when it was called
    person: str | None = None

    def acknowledged(self, by: str, at: datetime) -> CoHandler:
        return replace(self, acknowledged_by=by, acknowledged_at=at)

    def reported(self, by: str, at: datetime, report: str) -> CoHandler:
        return replace(self, report=report, reported_by=by, reported_at=at)

    def waived(self, by: str, at: datetime, reason: str) -> CoHandler:
        return replace(self, waived_by=by, waived_at=at, waive_reason=reason)

    @property
    def whistled(self) -> bool:
        return self.source == WHISTLE

    @property
    def settled(self) -> bool:
        """Its part no longer holds the lead back: reported, or waived by a supervisor."""
        return self.report is not None or self.waived_by is not None

    def deadline(self, stage: str) -> datetime | None:
        return {CO_ACKNOWLEDGE: self.acknowledge_due, CO_REPORT: self.report_due}.get(stage)

    def done(self, stage: str) -> bool:
        """Whether the stage is done (its timers have nothing more to say)."""
        if stage == CO_ACKNOWLEDGE:
            return self.acknowledged_by is not None or self.settled
        return self.settled

    def open_stages(self) -> list[str]:
        """The stages with a deadline still to meet."""
        return [stage for stage in CO_STAGES if self.deadline(stage) is not None and not self.done(stage)]


@dataclass(frozen=True)
class Call:
    """One unit called in (吹哨): what is asked of it, who is on duty there, and its deadlines."""

    unit: str
    ask: str
    post: str | None = None
    person: str | None = None
    deadlines: CoDeadlines | None = None


MAX_CALLS = 20  # units called in at once


def co_handlers_of(units: tuple[str, ...]) -> dict[str, CoHandler]:
    return {unit: CoHandler(unit) for unit in units}


def called(call: Call, by: str, at: datetime) -> CoHandler:
    """A unit called in on the case (吹哨), with what it is asked and its deadlines."""
    deadlines = call.deadlines
    return CoHandler(
        call.unit,
        source=WHISTLE,
        ask=call.ask,
        called_by=by,
        called_at=at,
        acknowledge_due=deadlines.acknowledge_due if deadlines else None,
        report_due=deadlines.report_due if deadlines else None,
        how=deadlines.how if deadlines else None,
        post=call.post,
        person=call.person,
    )


def missing_reports(co_handlers: dict[str, CoHandler]) -> list[str]:
    """Co-handlers that have neither reported nor been waived."""
    return [unit for unit, co in co_handlers.items() if not co.settled]


def blocking(co_handlers: dict[str, CoHandler]) -> list[str]:
    """Called units (吹哨) that have neither reported nor been waived: the lead cannot resolve until they
    have, whatever reason it gives (a catalog co-handler's missing report can be explained instead)."""
    return [unit for unit, co in co_handlers.items() if co.whistled and not co.settled]


def settled_stages(before: Mapping[str, CoHandler], after: Mapping[str, CoHandler]) -> list[tuple[str, str]]:
    """(unit, stage) of every called unit's stage done (or dropped) between `before` and `after`."""
    done = []
    for unit, was in before.items():
        now = after.get(unit)
        for stage in was.open_stages():
            if now is None or now.deadline(stage) != was.deadline(stage) or now.done(stage):
                done.append((unit, stage))
    return done


def new_stages(before: Mapping[str, CoHandler], after: Mapping[str, CoHandler]) -> list[tuple[str, str]]:
    """(unit, stage) of every called unit's deadline set between `before` and `after`."""
    fresh = []
    for unit, now in after.items():
        was = before.get(unit)
        for stage in now.open_stages():
            if was is None or was.deadline(stage) != now.deadline(stage):
                fresh.append((unit, stage))
    return fresh
