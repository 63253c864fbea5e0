"""A changed catalog is picked up without a restart; a broken one never replaces a good one."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from consumers.intake import handle_intake
from dispatcher.adapters import tables as t
from dispatcher.adapters.catalog import ReloadingRouter
from dispatcher.adapters.database import make_engine, upgrade
from dispatcher.bootstrap import bootstrap
from dispatcher.settings import Settings
from rules.complaint import Complaint, Location
from rules.loader import CatalogError, load_catalog
from sla.calendar import ChineseCalendar
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import HEATING_RULE, write_catalog
from tests.support.clock import NOW

AT = NOW
HEATING = Complaint(
    "BJ1", AT, "phone", "complaint", "暖气不热", category="0101", location=Location("朝阳区", "望京街道")
)


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_catalog(tmp_path / "catalog")


def unit_of(router: ReloadingRouter) -> str | None:
    decision = router.route(HEATING, AT)
    return decision.assignment.unit if decision.assignment else None


def test_a_valid_change_is_picked_up_after_the_interval(folder: Path):
    ticker = Ticker()
    router = ReloadingRouter(folder, ChineseCalendar(), interval=2.0, monotonic=ticker)
    first = router.router.catalog.version
    assert unit_of(router) == "ent-heating"

    write_catalog(folder, rules=[{**HEATING_RULE, "then": {"unit": "ent-heating-b"}}])
    ticker.now = 1.0
    assert unit_of(router) == "ent-heating"  # not looked at yet
    ticker.now = 2.5
    assert unit_of(router) == "ent-heating-b"
    assert router.router.catalog.version != first


def test_a_broken_catalog_is_refused_with_file_and_line_and_the_old_one_stays(folder: Path, caplog):
    ticker = Ticker()
    router = ReloadingRouter(folder, ChineseCalendar(), interval=1.0, monotonic=ticker)
    version = router.router.catalog.version
    (folder / "rules.yaml").write_text(
        "rules:\n  - id: heating\n    priority: 10\n    when: {category: '01'}\n    then: {unit: nowhere}\n",
        encoding="utf-8",
    )
    ticker.now = 5.0
    with caplog.at_level(logging.ERROR):
        assert router.maybe_reload() is False
    assert "rules.yaml:2: rule heating: unknown unit nowhere" in caplog.text
    assert router.router.catalog.version == version
    assert unit_of(router) == "ent-heating"

    (folder / "rules.yaml").write_text("rules:\n  - id: [unclosed\n", encoding="utf-8")
    ticker.now = 10.0
    with caplog.at_level(logging.ERROR):
        assert router.maybe_reload() is False
    assert "rules.yaml:3: not valid YAML: while parsing a flow sequence" in caplog.text
    assert unit_of(router) == "ent-heating"


def test_a_schema_error_names_its_line(folder: Path):
    (folder / "units.yaml").write_text(
        "units:\n  - id: x\n    name: X\n    kind: ministry\n    posts: [{id: p, name: P}]\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as refused:
        load_catalog(folder)
    assert any(str(p).startswith("units.yaml:4: units.0.kind") for p in refused.value.problems)


def test_cases_in_flight_keep_the_decision_of_the_catalog_they_were_dispatched_with(tmp_path: Path):
    folder = write_catalog(tmp_path / "catalog")
    url = f"sqlite:///{tmp_path / 'jiesu.db'}"
    upgrade(url)
    router = ReloadingRouter(folder, ChineseCalendar(), interval=0.0)
    bus = bootstrap(Settings(database_url=url), router=router).bus
    first = make_complaint(ticket_id="BJ-V1", category="0101", location={"district": "朝阳区"})
    handle_intake(intake_record(first), bus)
    old_version = router.router.catalog.version

    write_catalog(folder, rules=[{**HEATING_RULE, "then": {"unit": "ent-heating-b"}}])
    second = make_complaint(ticket_id="BJ-V2", category="0101", location={"district": "朝阳区"})
    handle_intake(intake_record(second), bus)

    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(t.assignments.c.ticket_id, t.assignments.c.unit, t.assignments.c.catalog_version).order_by(
                t.assignments.c.ticket_id
            )
        ).all()
    assert [tuple(row) for row in rows] == [
        ("BJ-V1", "ent-heating", old_version),
        ("BJ-V2", "ent-heating-b", router.router.catalog.version),
    ]
    assert old_version != router.router.catalog.version
