"""Joint handling (首接负责): the lead unit handles the case, co-handling units report to it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime


@dataclass(frozen=True)
class CoHandler:
    """One co-handling unit's own acknowledgement and report to the lead."""

    unit: str
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    report: str | None = None
    reported_by: str | None = None
    reported_at: datetime | None = None

    def acknowledged(self, by: str, at: datetime) -> CoHandler:
        return replace(self, acknowledged_by=by, acknowledged_at=at)

    def reported(self, by: str, at: datetime, report: str) -> CoHandler:
        return replace(self, report=report, reported_by=by, reported_at=at)


def co_handlers_of(units: tuple[str, ...]) -> dict[str, CoHandler]:
    return {unit: CoHandler(unit) for unit in units}


def missing_reports(co_handlers: dict[str, CoHandler]) -> list[str]:
    return [unit for unit, co in co_handlers.items() if co.report is None]
