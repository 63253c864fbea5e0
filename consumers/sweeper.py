"""The SLA sweeper: an APScheduler interval job that fires the timers that came due.

Each timer fires in its own transaction through the message bus, so a crash between finding a timer and
firing it loses nothing (it is still pending at the next sweep) and a second sweeper process at the same
time fires nothing twice (the timer is claimed and checked inside the transaction). A timer that came due
while everything was down fires at the first sweep after start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from dispatcher.adapters.timers import due_timers
from dispatcher.domain.commands import FireTimer
from dispatcher.service.messagebus import MessageBus

log = logging.getLogger(__name__)


def sweep(engine: Engine, bus: MessageBus, clock: Callable[[], datetime], batch: int = 500) -> int:
    """Fire every timer due by now; returns how many were looked at."""
    seen = 0
    while True:
        ids = due_timers(engine, clock(), batch)
        for timer_id in ids:
            try:
                bus.handle(FireTimer(timer_id))
            except Exception:
                log.exception("SLA timer %s failed; it stays pending and is tried again", timer_id)
                return seen
        seen += len(ids)
        if len(ids) < batch:
            return seen


def start_sweeper(
    engine: Engine, bus: MessageBus, clock: Callable[[], datetime], every_seconds: float
) -> BackgroundScheduler:
    """One sweep job per process, never two at once, none skipped for being late."""
    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    scheduler.add_job(
        sweep,
        "interval",
        seconds=every_seconds,
        args=(engine, bus, clock),
        id="sla-sweep",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=clock(),
    )
    scheduler.start()
    return scheduler
