"""`jiesu run`: the agents, the outbox relay, the notifications and the scheduled jobs (SLA sweeper, the
month's final scores, the daily digest) in one process, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import faust

from consumers.app import add_agent, build_app
from consumers.case_events import in_turn
from consumers.hotspot_merge import HotspotMerger
from consumers.hotspots import HotspotCounter
from consumers.monthly import add_monthly_ranking
from consumers.relay import OutboxRelay, make_producer
from consumers.sweeper import start_sweeper
from dispatcher.adapters.catalog import ReloadingRouter
from dispatcher.bootstrap import System, bootstrap
from dispatcher.contract.events import Topic
from dispatcher.settings import Settings
from jiesu.heap import give_back, limit_arenas, settle_heap
from notifications.config import load_notifications
from notifications.service import Notifications, add_daily_digest, build_notifications
from rules.catalog import Catalog
from sla.calendar import ChineseCalendar

log = logging.getLogger(__name__)


def warn_about_calendar(calendar: ChineseCalendar, sla_file: Path, year: int) -> None:
    """A year without a holiday schedule is counted Monday to Friday: say so loudly at start."""
    for uncovered in (y for y in (year, year + 1) if calendar.source(y) == "weekends-only"):
        log.warning(
            "no holiday schedule for %s: its deadlines count Monday to Friday until the State Council's "
            "schedule is added to %s",
            uncovered,
            sla_file,
        )


class Worker(faust.Worker):
    """faust's worker without its terminal spinner: a service's log has no use for one, and installing it
    sets the root logger to DEBUG, so that every library's debug message was built and then dropped (a
    tenth of the worker's time at `--log-level warn`)."""

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        pass


def run(settings: Settings, *, relay: bool = True, loglevel: str = "info") -> None:
    """Run in the foreground: the agents (intake, actions, callbacks; with `notifications`, the case
    events read back by the hotspot counter and the notification planner; with `merge_hotspots`, the
    hotspots' merges), the relay,
    the notification deliverers, and the scheduler (SLA sweeper, final monthly scores, daily digest).
    faust handles the signals and stops the agents; then the rest stops."""
    limit_arenas()
    outbox_relay: OutboxRelay | None = None
    system = bootstrap(settings, on_commit=lambda: outbox_relay.wake() if outbox_relay else None)
    stop = threading.Event()
    threads = []
    if relay:
        outbox_relay = OutboxRelay(
            system.engine,
            make_producer(settings.kafka_bootstrap),
            system.clock,
            settings.relay_batch_size,
            settings.relay_poll_seconds,
        )
        threads.append(threading.Thread(target=outbox_relay.run, args=(stop,), name="relay", daemon=True))
    calendar = system.sla.calendar
    warn_about_calendar(calendar, settings.sla_file, system.clock().year)
    notifications = notifications_of(settings, system) if settings.notifications else None
    app = worker_app(settings, system, notifications)
    worker = Worker(app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    settle_heap()
    for thread in threads:
        thread.start()
    if notifications is not None:
        threads += notifications.start(stop)  # one delivering thread per channel
    sweeper = start_sweeper(system.engine, system.bus, system.clock, settings.sla_sweep_seconds)
    add_monthly_ranking(sweeper, system.bus, calendar.is_working_day, system.clock)
    sweeper.add_job(give_back, "interval", seconds=60, id="give-back-memory", coalesce=True)
    if notifications is not None:
        add_daily_digest(
            sweeper,
            notifications,
            system.engine,
            system.assessment,
            catalog_of(system),
            calendar.is_working_day,
            system.clock,
        )
    log.info("jiesu running: consuming %s, relay %s", settings.topic("intake"), "on" if relay else "off")
    try:
        worker.execute_from_commandline()
    finally:
        sweeper.shutdown(wait=True)
        stop.set()
        if outbox_relay:
            outbox_relay.wake()
        for thread in threads:
            thread.join(timeout=15)
        system.engine.dispose()


def worker_app(settings: Settings, system: System, notifications: Notifications | None) -> faust.App:
    """The faust app with the worker's agents: intake, actions, callbacks; with `merge_hotspots`, the
    hotspots' merges; with notifications, the case events read back (the hotspot counter, then the
    planner) and the governance tasks' events. Without, this process does not subscribe to
    `jiesu.cases`, so its partitions go to the processes of the group that read it."""
    app = build_app(settings, system.bus, system.batch)
    if settings.merge_hotspots:  # 并案 by hotspot
        merger = HotspotMerger(system.bus)
        add_agent(app, settings.topic(Topic.HOTSPOTS), "hotspot-merge", merger.merge_record)
    if notifications is not None:
        counter = HotspotCounter(system.engine, system.clock, settings.topic(Topic.HOTSPOTS))
        planner = notifications.planner
        cases = in_turn(counter.count_records, planner.plan_records)
        add_agent(app, settings.topic(Topic.CASES), "cases", together=cases)
        add_agent(
            app,
            settings.topic(Topic.HOTSPOTS),
            "notify-governance",
            together=planner.plan_governance_records,
        )
    return app


def catalog_of(system: System) -> Callable[[], Catalog]:
    """The catalog in force (reloaded when its files change)."""
    router = system.router
    assert isinstance(router, ReloadingRouter), "notifications need the catalog's people and posts"
    return router.catalog


def notifications_of(settings: Settings, system: System) -> Notifications:
    router = system.router
    assert router is not None

    def on_duty(unit: str, post: str, at: datetime) -> str | None:
        try:
            return router.assignment_for(unit, post, at, "notification").person
        except KeyError:
            return None

    config = load_notifications(settings.notifications_file)
    return build_notifications(system.engine, config, catalog_of(system), on_duty, system.clock)
