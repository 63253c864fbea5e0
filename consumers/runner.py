"""`jiesu run`: the agents and the outbox relay in one process, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import logging
import threading

import faust

from consumers.app import build_app
from consumers.monthly import add_monthly_ranking
from consumers.relay import OutboxRelay, make_producer
from consumers.sweeper import start_sweeper
from dispatcher.adapters.sla_file import load_sla
from dispatcher.bootstrap import bootstrap
from dispatcher.settings import Settings

log = logging.getLogger(__name__)


def warn_about_calendar(settings: Settings, year: int) -> None:
    """A year without a holiday schedule is counted Monday to Friday: say so loudly at start."""
    calendar = load_sla(settings.sla_file)[0].calendar
    for uncovered in (y for y in (year, year + 1) if calendar.source(y) == "weekends-only"):
        log.warning(
            "no holiday schedule for %s: its deadlines count Monday to Friday until the State Council's "
            "schedule is added to %s",
            uncovered,
            settings.sla_file,
        )


def run(settings: Settings, *, relay: bool = True, loglevel: str = "info") -> None:
    """Run in the foreground: the agents, the outbox relay and the SLA sweeper. faust handles the signals
    and stops the agents; then the sweeper and the relay stop."""
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
    warn_about_calendar(settings, system.clock().year)
    app = build_app(settings, system.bus)
    worker = faust.Worker(app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    for thread in threads:
        thread.start()
    sweeper = start_sweeper(system.engine, system.bus, system.clock, settings.sla_sweep_seconds)
    calendar = load_sla(settings.sla_file)[0].calendar
    add_monthly_ranking(sweeper, system.bus, calendar.is_working_day, system.clock)
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
