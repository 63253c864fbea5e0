"""The operator's SLA file (config/sla.yaml): calendar years, working hours, durations per tier."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from rules.schema import clock
from sla.calendar import ChineseCalendar, YearSchedule, days
from sla.deadlines import DeadlineCalculator, Hours
from sla.policy import DEFAULTS as DEFAULT_TIERS
from sla.policy import Duration, Policy, Stage, TimeUnit

ORDER_WITHIN = Duration(3, TimeUnit.WORKING_DAYS)  # what a supervision order gives when its issuer names none
Span = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d\d-\d\d(\.\.\d{4}-\d\d-\d\d)?$")]
Window = Annotated[str, StringConstraints(pattern=r"^\d\d:\d\d-\d\d:\d\d$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Holiday(Strict):
    days: Span
    name: str = ""


class Year(Strict):
    holidays: list[Holiday] = []
    workdays: list[Span] = []


CO_ACKNOWLEDGE = Duration(2, TimeUnit.WORKING_HOURS)  # 吹哨报到 defaults
CO_REPORT = Duration(3, TimeUnit.WORKING_DAYS)


class CoHandlingFile(Strict):
    acknowledge: str = "2 working hours"
    report: str = "3 working days"


class SlaFile(Strict):
    calendar: dict[int, Year] = {}
    working_hours: dict[str, list[Window]] = Field(
        default_factory=lambda: {"default": ["09:00-12:00", "13:30-17:30"]}
    )
    round_the_clock: list[str] = ["enterprise"]
    tiers: dict[str, dict[Stage, str]] = {}
    categories: dict[str, dict[Stage, str]] = {}
    pause_in_arbitration: bool = Field(
        True, description="a return that arbitration rejects gives the unit back the time it waited"
    )
    supervision_order_within: str = Field(
        "3 working days", description="the time a supervision order (督办单) gives when its issuer names none"
    )
    return_window: dict[str, str] = Field(
        default_factory=dict,
        description="per tier, how long after dispatch a unit may return a case (退单), "
        "e.g. '8 working hours'; a tier not named here keeps the settings' clock hours",
    )
    co_handling: CoHandlingFile = Field(
        default_factory=lambda: CoHandlingFile(),
        description="吹哨报到: how long a unit called in on a case has to acknowledge and to report",
    )


class SlaFileError(ValueError):
    """The SLA file is wrong; the message says where."""


def _schedule(year: int, spec: Year) -> YearSchedule:
    names: dict[date, str] = {}
    for holiday in spec.holidays:
        for day in days([holiday.days]):
            names[day] = holiday.name
    schedule = YearSchedule(frozenset(names), days(spec.workdays), names)
    strays = sorted(day for day in schedule.holidays | schedule.workdays if day.year != year)
    if strays:
        raise SlaFileError(f"calendar {year}: {strays[0]} is not in {year}")
    return schedule


def _durations(table: dict[str, dict[Stage, str]], where: str) -> dict[str, dict[Stage, Duration]]:
    try:
        return {
            key: {stage: Duration.parse(text) for stage, text in stages.items()}
            for key, stages in table.items()
        }
    except ValueError as error:
        raise SlaFileError(f"{where}: {error}") from None


def read_sla_file(path: Path) -> SlaFile:
    """The file as written; a missing file means the defaults; a wrong one raises `SlaFileError`."""
    if not path.exists():
        return SlaFile()
    try:
        return SlaFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (yaml.YAMLError, ValidationError) as error:
        raise SlaFileError(f"{path}: {error}") from None


@dataclass(frozen=True)
class Sla:
    """What the operator's SLA file sets, built once per process by its composition root (the worker's
    bootstrap, the web app, a CLI command) and passed down: `calendar` is the one calendar that deadlines,
    rosters (who is on duty) and the rules' `working_day` conditions all count working days on."""

    calendar: ChineseCalendar
    deadlines: DeadlineCalculator  # on `calendar`
    round_the_clock: frozenset[str]  # the unit classes that work every hour of every day
    pause_in_arbitration: bool
    order_within: Duration = ORDER_WITHIN  # a supervision order's default time
    return_windows: Mapping[str, Duration] = field(default_factory=dict)  # per tier (退单), when set
    # 吹哨报到: a called unit's time to acknowledge its part and to report it to the lead
    co_acknowledge: Duration = CO_ACKNOWLEDGE
    co_report: Duration = CO_REPORT


def load_sla(path: Path) -> Sla:
    """The calendar (the package's years, then the file's on top), the deadline calculator and the other
    settings the file describes. A missing file means the defaults; a wrong one raises `SlaFileError` saying
    what is wrong."""
    parsed = read_sla_file(path)
    schedules = {year: _schedule(year, spec) for year, spec in parsed.calendar.items()}
    calendar = ChineseCalendar(schedules)
    hours: dict[str, Hours] = {
        name: tuple((clock(w.split("-")[0]), clock(w.split("-")[1])) for w in windows)
        for name, windows in parsed.working_hours.items()
    }
    hours.setdefault("default", next(iter(hours.values())))
    tiers = {
        **DEFAULT_TIERS,
        **{k: {**DEFAULT_TIERS.get(k, {}), **v} for k, v in _durations(parsed.tiers, "tiers").items()},
    }
    policy = Policy(tiers, _durations(parsed.categories, "categories"))
    deadlines = DeadlineCalculator(calendar, policy, hours)
    try:
        order_within = Duration.parse(parsed.supervision_order_within)
    except ValueError as error:
        raise SlaFileError(f"supervision_order_within: {error}") from None
    try:
        windows = {tier: Duration.parse(text) for tier, text in parsed.return_window.items()}
    except ValueError as error:
        raise SlaFileError(f"return_window: {error}") from None
    unknown = sorted(set(windows) - set(tiers))
    if unknown:
        raise SlaFileError(f"return_window: unknown tier {unknown[0]!r}: expected one of {', '.join(tiers)}")
    try:
        co_acknowledge = Duration.parse(parsed.co_handling.acknowledge)
        co_report = Duration.parse(parsed.co_handling.report)
    except ValueError as error:
        raise SlaFileError(f"co_handling: {error}") from None
    return Sla(
        calendar,
        deadlines,
        frozenset(parsed.round_the_clock),
        parsed.pause_in_arbitration,
        order_within,
        windows,
        co_acknowledge,
        co_report,
    )
