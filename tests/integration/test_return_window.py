"""The return window (退单) set in working hours in the SLA file: counted on the business calendar from
dispatch, on SQLite and PostgreSQL; a tier the file does not name keeps the settings' clock hours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from consumers.intake import handle_intake
from dispatcher.bootstrap import System, bootstrap
from dispatcher.domain import commands as c
from dispatcher.domain.case import TransitionError
from dispatcher.settings import Settings
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog
from tests.support.clock import BEIJING, Clock

FRIDAY = datetime(2026, 11, 27, 16, 0, tzinfo=BEIJING)
STREET = {
    "category": "02",
    "description": "物业不清运垃圾",
    "location": {"district": "朝阳区", "street": "望京街道"},
}


@pytest.fixture
def system(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[System]:
    sla = tmp_path / "sla.yaml"
    sla.write_text("return_window: {general: 8 working hours}\n", encoding="utf-8")
    settings = Settings(
        database_url=database_url, catalog_dir=write_catalog(tmp_path / "catalog"), sla_file=sla
    )
    clock.now = FRIDAY
    system = bootstrap(settings, clock=clock)
    yield system
    system.engine.dispose()


def dispatched(system: System, ticket: str, urgency: str) -> str:
    handle_intake(intake_record(make_complaint(ticket_id=ticket, urgency=urgency, **STREET)), system.bus)
    return ticket


def test_a_return_window_of_working_hours_runs_over_the_weekend_and_ends_on_monday(system, clock):
    # Friday 16:00: 1 h 30 min that day, then 6 h 30 min on Monday: the window ends Monday at 17:00
    inside, late = dispatched(system, "BJ-W1", "general"), dispatched(system, "BJ-W2", "general")
    clock.now = datetime(2026, 11, 30, 16, 59, tzinfo=BEIJING)
    system.bus.handle(c.ReturnCase(inside, "wangjing", "not_our_duty", "属物业公司"))

    clock.now = datetime(2026, 11, 30, 17, 1, tzinfo=BEIJING)
    with pytest.raises(TransitionError, match=r"return window of 8 working hours \(until 2026-11-30 17:00\)"):
        system.bus.handle(c.ReturnCase(late, "wangjing", "not_our_duty", "属物业公司"))


def test_a_tier_the_file_does_not_name_keeps_the_clock_hours_of_the_settings(system, clock):
    urgent = dispatched(system, "BJ-W3", "urgent")  # 2 clock hours (JIESU_RETURN_WINDOW_URGENT_HOURS)
    clock.now = datetime(2026, 11, 27, 18, 1, tzinfo=BEIJING)
    with pytest.raises(TransitionError, match="return window of 2:00:00 after dispatch has passed"):
        system.bus.handle(c.ReturnCase(urgent, "wangjing", "not_our_duty", "属物业公司"))
