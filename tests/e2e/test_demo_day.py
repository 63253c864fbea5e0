"""The demo's working day against a running `jiesu run`: the history replayed through the system on a past
clock, then the live day in which the simulated units and callback center act on the cases through the
public contract. Cases get signed for, resolved and closed by a callback; a return and an escalation happen;
the month's street ranking has rows."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import func, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.assessment_file import load_assessment
from dispatcher.adapters.database import make_engine
from dispatcher.reads.dashboard import street_ranking
from dispatcher.settings import Settings
from jiesu.cli.demo_day import DayOptions, DemoDay
from jiesu.cli.demo_history import Span
from sla.calendar import BEIJING
from tests.e2e.worker import Worker, wait_for

pytestmark = pytest.mark.kafka

# a history ending at a fixed moment is the same at every run: these two days hold returns and escalations
UNTIL = datetime(2026, 11, 24, 15, 30, tzinfo=BEIJING)


def test_the_demo_day_fills_the_pages_through_the_public_contract(settings: Settings, worker: Worker):
    began = time.monotonic()
    span = Span(days=2, per_day=60.0, months=0)
    options = DayOptions(seed=7, rate=2.0, pace=0.05, span=span, until=UNTIL)
    day = DemoDay(settings, options, say=print)
    day.backfill()  # before the worker: its sweeper would fire the past timers with today's clock
    history = day.handover
    worker.start().wait_joined()
    day.start()
    engine = make_engine(settings.database_url)

    def audited(action: str, prefix: str = "", why: str = "") -> int:
        query = select(func.count()).where(
            t.audit.c.action == action,
            t.audit.c.ticket_id.startswith(prefix),
            t.audit.c.reason.startswith(why),
        )
        with engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    try:
        # live cases (DAY...) signed for, resolved and closed by the callback center within seconds
        wait_for(
            lambda: audited("close", "DAY", "callback") >= 1, 30, "a live case closed by its callback", worker
        )
    finally:
        tally = day.stop()
    assert tally is not None
    assert day.player is not None
    summary = tally.summary(day.player.elapsed) + "\n" + worker.tail()
    assert worker.stop() == 0
    assert time.monotonic() - began < 60, summary

    with engine.connect() as connection:
        states = Counter(
            dict(connection.execute(select(t.cases.c.state, func.count()).group_by(t.cases.c.state)).all())
        )
        fired = connection.execute(
            select(func.count()).where(t.sla_timers.c.kind == "escalation", t.sla_timers.c.status == "fired")
        ).scalar_one()
    print(states, summary)
    assert tally.requests >= 1 and tally.actions["acknowledge"] >= 1, summary
    assert audited("acknowledge", "DAY") >= 1 and audited("resolve", "DAY") >= 1, summary
    assert audited("acknowledge", "HIS") >= 1 and audited("resolve", "HIS") >= 1, states
    assert audited("close", "HIS", "callback") >= 1, states
    assert audited("return") >= 1, states  # a unit returned a case (退单)
    assert fired >= 1, states  # the SLA ladder escalated a late case
    assert states["closed"] >= 1 and states["acknowledged"] + states["contacted"] >= 1, states
    # what the history leaves open is carried on by the live day's people
    assert history.items and history.persons
    ranking = street_ranking(engine, load_assessment(settings.assessment_file), f"{UNTIL:%Y-%m}")
    assert ranking and all(row["composite"] is not None for row in ranking), ranking
    engine.dispose()
