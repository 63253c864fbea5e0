"""The SLA sweeper: an APScheduler interval job that fires the timers that came due.

Timers fire through the message bus, a group per transaction (one by one when a group fails), so a crash
between finding a timer and firing it loses nothing (it is still pending at the next sweep) and a second
sweeper process at the same time fires nothing twice (the timer is claimed and checked inside the
transaction). A timer that came due
while everything was down fires at the first sweep after start.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from dispatcher.adapters.timers import due_timers
from dispatcher.domain.commands import FireTimers
from dispatcher.service.messagebus import MessageBus
from dispatcher.service.unit_of_work import ConcurrencyError
from sla.calendar import BEIJING, Clock

log = logging.getLogger(__name__)


def sweep(engine: Engine, bus: MessageBus, clock: Clock, batch: int = 500, together: int = 50) -> int:
    """Fire every timer due by now, `together` per transaction; returns how many were looked at.

    A timer taken plans its ladder's next step (`dispatcher.service.sla`), which may be due already (the
    sweeper was down): the sweep goes on while timers it has not looked at are due, so a ladder overdue
    fires all its steps, in order, in one sweep. One it looked at and that is still pending (locked by
    another sweeper) waits for the next sweep.
    If a group fails, its timers are fired one by one, so one bad timer holds back no other; a timer that
    still fails stays pending and this sweep ends after its batch (the next one tries again)."""
    looked: set[int] = set()
    while True:
        ids = [timer_id for timer_id in due_timers(engine, clock(), batch) if timer_id not in looked]
        failed = False
        for start in range(0, len(ids), together):
            group = tuple(ids[start : start + together])
            try:
                bus.handle(FireTimers(group))
            except Exception:
                log.warning("SLA timers %s..%s failed together; firing them one by one", group[0], group[-1])
                failed = not _one_by_one(bus, group) or failed
        looked.update(ids)
        if failed or not ids:
            return len(looked)


def _one_by_one(bus: MessageBus, group: tuple[int, ...]) -> bool:
    failed = False
    for timer_id in group:
        try:
            bus.handle(FireTimers((timer_id,)))
        except ConcurrencyError:  # another sweeper or an action changed its case first
            log.info("SLA timer %s: its case changed meanwhile; tried again at the next sweep", timer_id)
            failed = True
        except Exception:
            log.exception("SLA timer %s failed; it stays pending and is tried again", timer_id)
            failed = True
    return not failed


def start_sweeper(engine: Engine, bus: MessageBus, clock: Clock, every_seconds: float) -> BackgroundScheduler:
    """One sweep job per process, never two at once, none skipped for being late."""
    scheduler = BackgroundScheduler(timezone=BEIJING)
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
