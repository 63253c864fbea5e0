"""The demo's logins see their cases: with the shipped catalog, the showcase requests the demo feeds first
reach every worker login's unit and post and every district supervisor's district; what the demo prints as
"seen by" is what each login's pages list; an account made by an older demo is moved to its new unit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from consumers.intake import handle_intake
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import upgrade
from dispatcher.adapters.people import PeopleStore
from dispatcher.adapters.sql import decode_headers
from dispatcher.bootstrap import System, bootstrap
from dispatcher.domain.access import Principal, Role, visible_cases
from dispatcher.reads import cases, inbox
from dispatcher.reads.names import catalog_of
from dispatcher.settings import Settings
from jiesu.cli import demo
from jiesu.cli.demo_logins import describe, outcomes, seen_by, showcase
from tests.conftest import DEMO_CATALOG
from tests.support.builders import intake_record

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
PEOPLE = [principal for principal, _ in demo.DEMO_PEOPLE]


@pytest.fixture
def system(database_url: str) -> Iterator[System]:
    system = bootstrap(Settings(database_url=database_url, catalog_dir=DEMO_CATALOG), clock=lambda: NOW)
    yield system
    system.engine.dispose()


def fed(system: System) -> list[str]:
    requests = list(showcase(NOW))
    for request in requests:
        handle_intake(intake_record(request), system.bus)
    return [request.ticket_id for request in requests]


def test_every_demo_login_sees_cases_of_the_showcase(system):
    tickets = fed(system)
    catalog = catalog_of(system.router)
    assert catalog is not None
    for person in PEOPLE:
        if person.role is Role.INTAKE:
            continue
        listed = cases.cases(system.engine, now=NOW, visible_to=visible_cases(person), limit=50).items
        assert listed, f"{person.username} ({describe(person, catalog)}) sees no case"
        if person.role is Role.WORKER:
            assert inbox.inbox(system.engine, now=NOW, visible=visible_cases(person)).items
    wangjing = next(person for person in PEOPLE if person.username == "wangjing")
    rows = inbox.inbox(system.engine, now=NOW, visible=visible_cases(wangjing)).items
    badges = {row.case.ticket_id: row.badges for row in rows}
    assert badges[tickets[0]].repeats == 1  # the neighbour's second call is linked to the first
    assert "elderly" in badges[tickets[1]].groups
    assert badges[tickets[3]].co_handled
    assert outcomes(showcase(NOW)) == len(tickets) - 1


def test_what_the_demo_says_a_login_sees_is_what_its_pages_list(system):
    fed(system)
    catalog = catalog_of(system.router)
    assert catalog is not None
    with system.engine.connect() as connection:  # the events the demo watches, as the relay publishes them
        records = connection.execute(select(t.outbox.c.value, t.outbox.c.headers)).all()
    dispatched = [
        json.loads(value)
        for value, headers in records
        if ("ce_type", b"jiesu.case.dispatched") in decode_headers(headers)
    ]
    assert dispatched
    said: dict[str, set[str]] = {person.username: set() for person in PEOPLE}
    for data in dispatched:
        for username in seen_by(data, PEOPLE, catalog):
            said[username].add(data["ticket_id"])
    for person in PEOPLE:
        if person.role is Role.INTAKE:
            assert not said[person.username]
            continue
        listed = cases.cases(system.engine, now=NOW, visible_to=visible_cases(person), limit=50).items
        assert said[person.username] == {case.ticket_id for case in listed if case.state.value != "linked"}


def test_an_older_demos_account_is_moved_to_the_unit_its_login_now_has(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    settings = Settings(database_url=url, catalog_dir=DEMO_CATALOG)
    system = bootstrap(settings)
    PeopleStore(system.engine, system.clock).add(
        Principal("chaoyang", Role.WORKER, unit="street-110105010", post="desk"),
        "望京街道接诉即办专员",
        "old-password",
    )
    demo._demo_people(settings)
    accounts = {
        person.principal.username: person.principal
        for person in PeopleStore(system.engine, system.clock).people()
    }
    assert accounts["chaoyang"] == Principal("chaoyang", Role.SUPERVISOR, scope="110105")
    assert accounts["wangjing"] == Principal("wangjing", Role.WORKER, unit="street-110105026", post="desk")
    assert PeopleStore(system.engine, system.clock).verify_password("chaoyang", "old-password") is not None
    system.engine.dispose()
