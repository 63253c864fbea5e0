"""The month's final scores: published once, on the first working day of the next month.

An APScheduler job checks every morning (and at start, so a day everything was down is caught up): once
today is on or after the month's first working day, last month's scores go out with `final: true`, once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta

from apscheduler.schedulers.base import BaseScheduler

from dispatcher.domain.commands import PublishScores
from dispatcher.domain.scores import previous_month
from dispatcher.service.messagebus import MessageBus
from sla.calendar import BEIJING, Clock

log = logging.getLogger(__name__)


def first_working_day(year: int, month: int, is_working_day: Callable[[date], bool]) -> date:
    day = date(year, month, 1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def publish_final_month(bus: MessageBus, is_working_day: Callable[[date], bool], clock: Clock) -> str | None:
    """Last month's final scores, if today is on or after this month's first working day; the month
    published (or None: not yet). Publishing twice sends nothing the second time."""
    today = clock().astimezone(BEIJING).date()
    if today < first_working_day(today.year, today.month, is_working_day):
        return None
    month = previous_month(f"{today:%Y-%m}")
    units = bus.handle(PublishScores(month, final=True, only_once=True))
    if units:
        log.info("final scores of %s published for %s units", month, units)
    return month


def add_monthly_ranking(
    scheduler: BaseScheduler,
    bus: MessageBus,
    is_working_day: Callable[[date], bool],
    clock: Clock,
) -> None:
    """Every day at 09:00 Beijing time, and once now."""
    scheduler.add_job(
        publish_final_month,
        "cron",
        hour=9,
        args=(bus, is_working_day, clock),
        id="final-scores",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=clock(),
    )
