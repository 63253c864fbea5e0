"""The dashboard's figures over past days, weeks and months: the daily volume and the 直接办结率 of the last
30 days, the weekly overdue rate, the three rates per month and the month's ranking of the streets. They are
the costliest half of the dashboard's reads (at 200,000 cases, a third of the page's time in PostgreSQL and a
fifth of it in the web process), the same for every supervisor of a district, and a minute changes little
in them: each district's are read again only when the last read is older than `dashboard_history_seconds`
(the page says when they were read), not on every load of every supervisor's dashboard."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from dispatcher.bootstrap import System
from dispatcher.reads import dashboard as dashboard_figures
from dispatcher.reads import views as v
from sla.calendar import BEIJING


@dataclass(frozen=True)
class History:
    volume: dashboard_figures.Volume
    direct: v.DirectCloses  # 直接办结率, over the volume's days
    missed: dashboard_figures.Missed
    rates: list[dashboard_figures.MonthRates]
    ranking: list[dict[str, Any]]
    read_at: datetime  # the system's clock when read


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
        now,
    )


class RecentHistory:
    """The last `History` read for each district and Beijing day, kept for `seconds` of real time (0: none
    kept). Safe to share between the web app's threads; two loads that find none kept may both read."""

    def __init__(self, seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._monotonic = monotonic
        self._kept: dict[tuple[str | None, date], tuple[float, History]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many districts' figures are kept."""
        return len(self._kept)

    def of(self, district: str | None, now: datetime, read: Callable[[], History]) -> History:
        key = (district, now.astimezone(BEIJING).date())
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and self._monotonic() - kept[0] < self._seconds:
                return kept[1]
        history = read()
        if self._seconds > 0:
            with self._lock:
                taken = self._monotonic()
                self._kept = {k: e for k, e in self._kept.items() if taken - e[0] < self._seconds}
                self._kept[key] = (taken, history)
        return history
