"""Fixtures of the integration tests: a system over the small catalog (tests/support/catalogs.py) on each
database, run by the test clock; the people of `STAFF` with their tokens; the REST API as each of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dispatcher.adapters.people import PeopleStore
from dispatcher.bootstrap import System, bootstrap
from dispatcher.settings import Settings
from jiesu.web.app import create_app
from tests.support.catalogs import write_catalog
from tests.support.clock import Clock
from tests.support.logins import Caller, add_people


@pytest.fixture
def system(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[System]:
    """The small catalog's system on SQLite and on PostgreSQL, its time the `clock` fixture's."""
    catalog = write_catalog(tmp_path / "catalog")
    system = bootstrap(Settings(database_url=database_url, catalog_dir=catalog), clock=clock)
    yield system
    system.engine.dispose()


@pytest.fixture
def people(system: System) -> PeopleStore:
    return PeopleStore(system.engine, system.clock)


@pytest.fixture
def tokens(system: System) -> dict[str, str]:
    """Everyone of `STAFF`, without a password, each with a token: the tokens by username."""
    return add_people(system, password=None)


@pytest.fixture
def client(system: System) -> Iterator[TestClient]:
    with TestClient(create_app(system.settings, system)) as client:
        yield client


@pytest.fixture
def as_(client: TestClient, tokens: dict[str, str]) -> Callable[[str], Caller]:
    """The API as one of `STAFF`, by username."""
    return lambda username: Caller(client, tokens[username])


@pytest.fixture
def li(as_: Callable[[str], Caller]) -> Caller:
    """The API as li, a worker of ent-heating (where the small catalog sends heating)."""
    return as_("li")


@pytest.fixture
def zhao(as_: Callable[[str], Caller]) -> Caller:
    """The API as zhao, the city's supervisor."""
    return as_("zhao")
