"""Bad input at volume through `jiesu run` on the real broker: malformed records of every kind in
`bench.malformed` (hypothesis-drawn) interleaved with good requests from the simulator. Each bad record gives
exactly one dead letter with its reason, each hostile-but-valid one a case with its text stored verbatim,
each good request exactly one dispatch, and the worker keeps running."""

from __future__ import annotations

import pytest

from bench.bad_input import REASONS, Observed, collect, outcome, produce, tally
from bench.malformed import CASE_OUTCOMES, Planned, kinds_for, mix
from dispatcher.settings import Settings
from tests.e2e.worker import Worker

pytestmark = pytest.mark.kafka

BAD, GOOD = 1000, 200


def backend_of(settings: Settings) -> str:
    return "postgresql" if settings.database_url.startswith("postgresql") else "sqlite"


def send(settings: Settings, worker: Worker, planned: list[Planned], timeout: float) -> Observed:
    """Start the worker, send the records, and watch what comes of them."""
    worker.start()
    produce(settings.kafka_bootstrap, settings.topic("intake"), planned)
    observed = collect(settings, planned, timeout=timeout, settle=2)
    assert observed.stray == 0, "dead letters that name no record sent"
    return observed


def wrong(planned: list[Planned], observed: Observed) -> str:
    """What went wrong with each record that went wrong, one a line."""
    return "\n".join(
        f"{item.marker}: {found}" for item in planned if (found := outcome(item, observed)) != "ok"
    )


def test_every_bad_record_is_dead_lettered_once_with_its_reason_and_every_good_one_dispatched(
    settings: Settings, worker: Worker
) -> None:
    kinds = kinds_for()
    planned = mix(BAD, GOOD, seed=7, kinds=kinds)
    assert len(kinds) >= 20 and len({item.kind for item in planned}) == len(kinds) + 1

    observed = send(settings, worker, planned, timeout=90)

    assert worker.process and worker.process.poll() is None, worker.tail()
    assert not wrong(planned, observed)
    rows = {row.kind: row for row in tally(planned, observed)}
    good = rows.pop("good")
    assert (good.sent, good.cases, good.events, good.dead) == (GOOD, GOOD, GOOD, 0)
    for row in rows.values():
        if row.expect in REASONS:
            assert (row.dead, row.cases, row.events) == (row.sent, 0, 0), row.kind
        elif row.expect in CASE_OUTCOMES:
            assert (row.cases, row.events, row.dead) == (row.sent, row.sent, 0), row.kind
    assert worker.stop() == 0
