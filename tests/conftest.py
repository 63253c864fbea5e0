"""Shared fixtures: the test clock, the real Kafka broker, per-test topics, and real databases (SQLite,
PostgreSQL).

PostgreSQL tests need `JIESU_TEST_POSTGRES_URL` (a role that may create databases, e.g.
postgresql+psycopg://jiesu:jiesu@127.0.0.1:5432/postgres); `.ci/run` sets it. Each test gets a fresh database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from dispatcher.adapters.database import upgrade
from dispatcher.settings import Settings
from jiesu.localkafka.topics import answers_metadata, create_topics
from tests.support.clock import Clock

BOOTSTRAP = os.environ.get("JIESU_TEST_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
POSTGRES_URL = os.environ.get("JIESU_TEST_POSTGRES_URL")
JIESU = str(Path(sys.executable).with_name("jiesu"))

# The shipped catalog as the tests see it: a copy without the trained model a developer may have built
# (`jiesu rules train` writes config/catalog/model.npz; CI has none), so that routing in tests is the
# catalog's and does not depend on what was last trained here.
_CATALOG_COPY = tempfile.TemporaryDirectory(prefix="jiesu-catalog-")
DEMO_CATALOG = Path(_CATALOG_COPY.name) / "catalog"
shutil.copytree(
    Path(__file__).resolve().parent.parent / "config" / "catalog",
    DEMO_CATALOG,
    ignore=shutil.ignore_patterns("model.npz", ".model.npz.partial"),
)


@pytest.fixture(autouse=True)
def _no_jiesu_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests build their settings explicitly; the developer's JIESU_* variables must not leak in."""
    for name in list(os.environ):
        if name.startswith("JIESU_") and not name.startswith("JIESU_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture
def clock() -> Clock:
    """The clock a test moves, standing at NOW (tests/support/clock.py) until it does."""
    return Clock()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """The real broker; started with `jiesu kafka up` if nothing answers yet."""
    if not answers_metadata(BOOTSTRAP):
        subprocess.run(
            [JIESU, "kafka", "up"], check=True, env={**os.environ, "JIESU_KAFKA_BOOTSTRAP": BOOTSTRAP}
        )
    return BOOTSTRAP


@pytest.fixture
def topic_prefix(kafka_bootstrap: str) -> Iterator[str]:
    """Fresh topics for one test: `t<random>.intake`, `t<random>.cases`, ...; deleted afterwards, so that a
    developer's broker does not gather thousands of them (it slows down)."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    create_topics(Settings(kafka_bootstrap=kafka_bootstrap, topic_prefix=prefix, topic_partitions=3))
    yield prefix
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, request_timeout_ms=10_000)
    try:
        admin.delete_topics([name for name in admin.list_topics() if name.startswith(prefix)])
    except KafkaError:
        pass  # best effort: a topic left behind harms nothing but space
    finally:
        admin.close()


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'jiesu.db'}"


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards; skips the test without PostgreSQL."""
    if not POSTGRES_URL:
        pytest.skip("JIESU_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    name = f"jiesu_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    for attempt in range(10):  # an autovacuum worker on it cannot be terminated by us: wait it out
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            break
        except DBAPIError:
            if attempt == 9:
                raise
            time.sleep(0.5)
    admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs twice: on a SQLite file and on PostgreSQL, migrated to head."""
    url = sqlite_url(tmp_path) if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    upgrade(url)
    return url
