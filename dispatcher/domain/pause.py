"""挂起 (pause): a case's clock stands still while the unit waits for something outside its power.

A unit asks, with a reason (`PauseReason`) and perhaps the date it expects to resume; a supervisor approves
(perhaps with another date) or rejects. While paused, the case's deadlines and SLA timers stand still and
the unit may only resume it. Resuming (by the unit, a supervisor, or the resume date's timer) moves every
pending deadline by the working time paused, on the unit's working clock (`sla.working_time`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

RESUME_STAGE, RESUME_KIND = "pause", "resume"  # the timer that resumes a pause on its date


class PauseReason(StrEnum):
    REQUESTER = "requester"  # waiting for the requester (材料, 不在家...)
    THIRD_PARTY = "third_party"  # waiting for another party (物业, 开发商...)
    COURT = "court"  # waiting for a court, an arbitration or an administrative ruling
    SEASON = "season"  # waiting for a season (供暖季, 植树季...)


WORDS = {
    PauseReason.REQUESTER: "waiting for the requester",
    PauseReason.THIRD_PARTY: "waiting for a third party",
    PauseReason.COURT: "waiting for a court or a ruling",
    PauseReason.SEASON: "waiting for a season",
}


class PauseStatus(StrEnum):
    REQUESTED = "requested"  # asked, waiting for a supervisor
    PAUSED = "paused"  # approved: the clock stands still


@dataclass(frozen=True)
class Pause:
    """A case's pause: asked by `by` at `at`; once approved, paused `since` then, until resumed (on `until`
    by the timer, if a date was set)."""

    by: str
    at: datetime
    code: PauseReason
    reason: str
    until: datetime | None = None  # the resume date asked, then the one approved
    approved_by: str | None = None
    since: datetime | None = None

    @property
    def status(self) -> PauseStatus:
        return PauseStatus.PAUSED if self.since is not None else PauseStatus.REQUESTED

    @property
    def active(self) -> bool:
        return self.since is not None

    def approved(self, by: str, at: datetime, until: datetime | None) -> Pause:
        return replace(self, approved_by=by, since=at, until=until)

    def words(self) -> str:
        return f"{WORDS[self.code]}: {self.reason}"
