"""The simulator against a running `jiesu run`: its requests are dispatched, its units sign for, contact and
resolve the cases, and its callback center closes or reopens them."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import make_engine
from dispatcher.settings import Settings
from jiesu.cli.simulate import Simulation
from jiesu.cli.simulator import Conduct, Mix, day_plan
from sla.calendar import BEIJING
from tests.e2e.worker import Worker

pytestmark = pytest.mark.kafka


def states(settings: Settings, prefix: str) -> Counter[str]:
    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(t.cases.c.state).where(t.cases.c.ticket_id.startswith(prefix))
        ).scalars()
        counted = Counter(rows)
    engine.dispose()
    return counted


def test_simulated_units_and_callbacks_drive_cases_from_dispatch_to_closed_or_reopened(
    settings: Settings, worker: Worker
):
    # the simulation stops after 6 quiet seconds: it starts once the worker consumes, not while it boots
    worker.start().wait_joined()
    now = datetime.now(BEIJING)
    start, prefix = now.replace(hour=10, minute=0), f"SIME2E-{now:%H%M%S}"
    plan = day_plan(start, 4.0, seed=11, count=12, time_scale=0.05, mix=Mix(repeat=0.0), ticket_prefix=prefix)
    # a simulated minute lasts 0.05 s: every unit acts within a few seconds; nobody returns a case here
    conduct = Conduct(returns=0.0, late=0.0, callback_minutes=(5.0, 20.0))
    simulation = Simulation(
        settings, plan, seed=11, time_scale=0.05, workers=True, quiet_seconds=6.0, conduct=conduct
    )
    began = time.monotonic()
    tally = simulation.run(progress=False)
    assert time.monotonic() - began < 60, tally.summary(simulation.elapsed)

    summary = tally.summary(simulation.elapsed) + "\n" + worker.tail()
    assert tally.requests == 12
    assert tally.seen["case.dispatched"] >= 1, summary
    assert tally.actions["acknowledge"] == tally.seen["case.dispatched"], summary
    assert tally.seen["case.acknowledged"] == tally.actions["acknowledge"], summary
    assert tally.seen["case.resolved"] >= 1, summary
    assert sum(tally.callbacks.values()) >= tally.seen["case.resolved"], summary
    assert tally.seen["case.closed"] + tally.seen["case.reopened"] >= 1, summary

    stored = states(settings, prefix)
    assert sum(stored.values()) == 12, stored
    assert stored["closed"] >= 1, (stored, summary)
    # every dispatched case went on: nothing waits to be signed for
    assert stored["dispatched"] == 0, (stored, summary)
    print(summary)
    assert worker.stop() == 0
    assert timedelta(0) < timedelta(seconds=simulation.elapsed) < timedelta(seconds=60)
