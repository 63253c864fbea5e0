"""Property-based fuzzing of the app's OpenAPI schema with schemathesis, on SQLite and PostgreSQL: every
REST operation under /api and every Open311 one under /open311/v2 (the pages are not in the schema), with
valid and invalid data, sent as each role (intake, worker, supervisor, admin) and without a token. No answer
may be a 5xx, and every answer must match what the schema says of its status.

Generation is derandomized (the same examples on every run) and small by default; run it longer with
`JIESU_FUZZ_EXAMPLES=500 pytest tests/integration/test_fuzz_api.py` (examples per operation and database).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import ASGIClient
from schemathesis.specs.openapi.checks import response_schema_conformance

from dispatcher.adapters.database import upgrade
from dispatcher.bootstrap import System, bootstrap
from dispatcher.domain import commands as c
from dispatcher.settings import Settings
from jiesu.web.app import create_app
from tests.conftest import fresh_postgres_database, sqlite_url
from tests.integration.test_api import open_case
from tests.support.catalogs import write_catalog
from tests.support.clock import NOW, Clock
from tests.support.fakes import FakeIntake
from tests.support.logins import add_people

EXAMPLES = int(os.environ.get("JIESU_FUZZ_EXAMPLES", "8"))
ROLES = ["hotline", "li", "zhao", "root"]  # intake, worker (of ent-heating), supervisor, admin
# what exists, for a path parameter to name now and then instead of a generated value (most are 404)
TICKETS = ["BJ1", "BJ2", "BJ3", "BJ4", "Q1"]
KNOWN: dict[str, list[object]] = {
    "ticket_id": TICKETS,
    "service_request_id": TICKETS,
    "service_code": ["01", "0101"],
    "unit": ["ent-heating"],
    "callback_id": [1],
    "appeal_id": [1],
}
CHECKS = [not_a_server_error, response_schema_conformance]
NO_BROKER = "127.0.0.1:9"  # refuses at once: /api/health must not wait for a broker


def seeded(system: System, clock: Clock) -> None:
    """A few cases in different states, a callback and an appeal, for the fuzzer to find and act on."""
    for ticket in TICKETS[:-1]:
        open_case(system, ticket)
    open_case(system, "Q1", description="请帮忙看看这个情况", category=None)  # waits for triage
    system.bus.handle(c.AcknowledgeCase("BJ2", "li"))
    for command in (
        c.AcknowledgeCase("BJ3", "li"),
        c.RecordContact("BJ3", "li"),
        c.ResolveCase("BJ3", "li", result="已修复"),
    ):
        system.bus.handle(command)
    system.bus.handle(c.ReturnCase("BJ4", "li", code="not_our_duty", reason="不属本单位职责"))
    clock.now = NOW + timedelta(hours=30)
    system.bus.handle(
        c.RecordCallback(
            "BJ3", "center", recorded_at=clock.now, contacted=True, resolved=False, satisfaction="unsatisfied"
        )
    )
    system.bus.handle(c.FileAppeal("li", callback_id=1, unit="ent-heating", reason="已按时办结"))


def schema_of_the_app() -> schemathesis.BaseSchema:
    """The app's OpenAPI schema, read through ASGI at collection time: the operations are the tests. The
    app it is read from connects to nothing (an in-memory database it never opens)."""
    with tempfile.TemporaryDirectory() as folder:
        catalog = write_catalog(Path(folder) / "catalog")
        app = create_app(Settings(database_url="sqlite://", catalog_dir=catalog, kafka_bootstrap=NO_BROKER))
        return schemathesis.openapi.from_asgi("/openapi.json", app)


schema = schema_of_the_app()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    """The app over a seeded database, one per database for the whole module, and a token per role."""
    tmp = tmp_path_factory.mktemp("fuzz")
    if request.param == "sqlite":
        yield from _fuzzed(sqlite_url(tmp), tmp)
    else:
        with fresh_postgres_database() as url:
            yield from _fuzzed(url, tmp)


def _fuzzed(url: str, tmp: Path) -> Iterator[Fuzzed]:
    upgrade(url)
    clock = Clock()
    settings_ = Settings(
        database_url=url, catalog_dir=write_catalog(tmp / "catalog"), kafka_bootstrap=NO_BROKER
    )
    system = bootstrap(settings_, clock=clock)
    tokens = list(add_people(system, *ROLES, password=None).values())
    seeded(system, clock)
    app = create_app(settings_, system)
    app.state.intake = FakeIntake()
    with ASGIClient(app) as client:
        yield Fuzzed(client, tokens)
    system.engine.dispose()


@dataclass
class Fuzzed:
    client: ASGIClient
    tokens: list[str]


@schema.given(known=st.integers(min_value=0, max_value=len(TICKETS)))
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_input_gets_a_5xx_or_an_answer_outside_the_schema(
    case: schemathesis.Case, known: int, fuzzed: Fuzzed
) -> None:
    for name, values in KNOWN.items():
        if name in (case.path_parameters or {}) and known < len(values):
            case.path_parameters[name] = values[known]
    form = case.body if case.operation.path.startswith("/open311/v2/requests.") else None
    for token in [None, *fuzzed.tokens]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if isinstance(form, dict) and token:  # Open311 takes the token as the form's api_key
            case.body = {**form, "api_key": token}
            if known < len(KNOWN["service_code"]):
                case.body["service_code"] = KNOWN["service_code"][known]
        case.call_and_validate(session=fuzzed.client, headers=headers, checks=CHECKS)
