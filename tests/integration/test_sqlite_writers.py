"""SQLite's writers in one process take turns (`dispatcher.adapters.writer_turns`): each waits for the one
before it, sees what it committed, and the turn is never kept by a transaction that ended."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text

from dispatcher.adapters import writer_turns
from dispatcher.adapters.database import make_engine


@pytest.fixture
def url(tmp_path, monkeypatch) -> str:
    # a turn that is never passed on fails the next writer within a second, instead of 30 s later
    monkeypatch.setattr(writer_turns, "BUSY_SECONDS", 1.0)
    url = f"sqlite:///{tmp_path / 'jiesu.db'}"
    with make_engine(url).begin() as connection:
        connection.execute(text("CREATE TABLE numbers (n INTEGER)"))
    return url


def count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM numbers")).scalar_one()


def in_thread(work: Callable[[], object]) -> list[object]:
    """Run `work` in another thread; its result, or the error it raised."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=20)
    return outcome


def insert(engine: Engine, n: int) -> int:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO numbers VALUES (:n)"), {"n": n})
        return connection.execute(text("SELECT count(*) FROM numbers")).scalar_one()


def test_a_writer_waits_for_the_one_before_it_and_sees_its_rows(url: str):
    first, second = make_engine(url), make_engine(url)  # two engines on one file share the turns
    seen: list[int] = []
    with first.begin() as connection:
        connection.execute(text("INSERT INTO numbers VALUES (1)"))
        thread = threading.Thread(target=lambda: seen.append(insert(second, 2)))
        thread.start()
        thread.join(timeout=0.3)
        assert thread.is_alive(), "the second writer went ahead while the first held the write lock"
    thread.join(timeout=20)
    assert seen == [2]  # it wrote after the first committed, and saw its row
    assert count(first) == 2


def test_a_writer_whose_turn_does_not_come_gets_a_clear_error(url: str):
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO numbers VALUES (1)"))
        [error] = in_thread(lambda: insert(engine, 2))
    assert isinstance(error, Exception) and "database is locked" in str(error)
    assert count(engine) == 1


@pytest.mark.parametrize("ending", ["commit", "rollback", "error", "close", "invalidated"])
def test_a_transaction_that_ended_passes_the_turn_on(url: str, ending: str):
    engine = make_engine(url)
    connection = engine.connect()
    connection.begin()
    connection.execute(text("INSERT INTO numbers VALUES (1)"))
    if ending == "commit":
        connection.commit()
    elif ending == "rollback":
        connection.rollback()
    elif ending == "error":
        with pytest.raises(Exception, match="no such table"):
            connection.execute(text("INSERT INTO nowhere VALUES (1)"))
        connection.rollback()
    elif ending == "invalidated":  # thrown away by the pool (as after a lost connection), not rolled back
        connection.invalidate()
    connection.close()  # "close": with the transaction still open
    expected = 2 if ending == "commit" else 1
    assert in_thread(lambda: insert(engine, 2)) == [expected]


def test_a_begin_refused_by_another_process_passes_the_turn_on(url: str):
    engine = make_engine(url)
    elsewhere = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)  # not in our turns
    elsewhere.execute("BEGIN IMMEDIATE")
    with pytest.raises(Exception, match="database is locked"):
        insert(engine, 1)  # SQLite's own busy timeout ran out
    elsewhere.execute("COMMIT")
    elsewhere.close()
    assert in_thread(lambda: insert(engine, 2)) == [1]
