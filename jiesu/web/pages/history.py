"""The dashboard's figures over past days, weeks and months: the daily volume and the 直接办结率 of the last
30 days, the weekly overdue rate, the three rates per month and the month's ranking of the streets. They are
the costliest half of the dashboard (at 200,000 cases, a third of the page's time in PostgreSQL and, with
their charts drawn and rendered, a third of it in the web process), the same for every supervisor of a
district, and a minute changes little in them: each district's are read and drawn again only when the last
read is older than `dashboard_history_seconds` (the page says when they were read), not on every load of
every supervisor's dashboard."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from dispatcher.bootstrap import System
from dispatcher.reads import dashboard as dashboard_figures
from dispatcher.reads import views as v
from sla.calendar import BEIJING

Kept = TypeVar("Kept")


@dataclass(frozen=True)
class History:
    volume: dashboard_figures.Volume
    direct: v.DirectCloses  # 直接办结率, over the volume's days
    missed: dashboard_figures.Missed
    rates: list[dashboard_figures.MonthRates]
    ranking: list[dict[str, Any]]


def read_history(system: System, district: str | None, now: datetime) -> History:
    """The figures of `district` (None: the city's) as of `now`."""
    engine = system.engine
    month = now.astimezone(BEIJING).strftime("%Y-%m")
    volume, direct = dashboard_figures.received(engine, now=now, district=district)  # one pass, two panels
    return History(
        volume,
        direct,
        dashboard_figures.overdue_rate(engine, now=now, district=district),
        dashboard_figures.monthly_rates(engine, system.assessment, month=month, district=district),
        dashboard_figures.street_ranking(engine, system.assessment, month),
    )


class RecentHistory(Generic[Kept]):
    """What was last read (and drawn) for each key (a district, a language) and Beijing day, kept for
    `seconds` of real time (0: nothing kept). Safe to share between the web app's threads; two loads that
    find nothing kept may both read."""

    def __init__(self, seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._monotonic = monotonic
        self._kept: dict[tuple[Hashable, date], tuple[float, Kept]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many keys' figures are kept."""
        return len(self._kept)

    def of(self, key: Hashable, now: datetime, read: Callable[[], Kept]) -> Kept:
        """What is kept for `key` on `now`'s day if it is recent enough, else `read()`, then kept."""
        dated = (key, now.astimezone(BEIJING).date())
        with self._lock:
            kept = self._kept.get(dated)
            if kept is not None and self._monotonic() - kept[0] < self._seconds:
                return kept[1]
        value = read()
        if self._seconds > 0:
            with self._lock:
                taken = self._monotonic()
                self._kept = {k: e for k, e in self._kept.items() if taken - e[0] < self._seconds}
                self._kept[dated] = (taken, value)
        return value
