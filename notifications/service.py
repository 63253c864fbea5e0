"""Notifications, put together for `jiesu run`: the planner (fed by an agent on `jiesu.cases`), the
deliverer's threads, and the daily digest job."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import Engine

from dispatcher.domain.callbacks import Assessment
from notifications.channels import build_channels
from notifications.config import NotificationsFile
from notifications.delivery import Deliverer
from notifications.digest import plan_digests
from notifications.directory import OnDuty, SqlDirectory
from notifications.planner import Planner
from notifications.render import Renderer
from rules.catalog import Catalog
from sla.calendar import BEIJING, Clock

log = logging.getLogger(__name__)


@dataclass
class Notifications:
    planner: Planner
    deliverer: Deliverer
    directory: SqlDirectory
    renderer: Renderer
    config: NotificationsFile

    def start(self, stop: threading.Event) -> list[threading.Thread]:
        return self.deliverer.run(stop)


def build_notifications(
    engine: Engine,
    config: NotificationsFile,
    catalog: Callable[[], Catalog],
    on_duty: OnDuty,
    clock: Clock,
) -> Notifications:
    directory = SqlDirectory(engine, catalog, on_duty, config.group_addresses(), clock)
    renderer = Renderer(config.templates, config.short_limit)
    channels = build_channels({kind.value: options for kind, options in config.channels.items()})
    planner = Planner(engine, directory, renderer, catalog, clock)
    return Notifications(planner, Deliverer(engine, channels, directory, clock), directory, renderer, config)


def add_daily_digest(
    scheduler: BaseScheduler,
    notifications: Notifications,
    engine: Engine,
    assessment: Assessment,
    catalog: Callable[[], Catalog],
    is_working_day: Callable[[date], bool],
    clock: Clock,
) -> None:
    """At the configured time (Beijing) on working days: one digest per supervisor, once a day."""

    def digest() -> None:
        now = clock()
        if not is_working_day(now.astimezone(BEIJING).date()):
            return
        planned = plan_digests(
            engine, assessment, catalog(), notifications.renderer, notifications.directory.supervisors(), now
        )
        log.info("daily digest: %s planned", planned)

    at = notifications.config.digest_at
    scheduler.add_job(digest, "cron", hour=at.hour, minute=at.minute, id="daily-digest", coalesce=True)
