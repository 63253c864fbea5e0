"""Engines and migrations. SQLite (a file under var/, WAL mode) by default; PostgreSQL by URL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard, TypeVar

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Engine,
    Insert,
    Table,
    any_,
    bindparam,
    create_engine,
    event,
    insert,
    text,
)
from sqlalchemy.engine import make_url

from dispatcher.adapters import writer_turns

T = TypeVar("T")
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def to_json(value: Any) -> str:
    """JSON text as JSON columns store it (compact, UTF-8 as is)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def stored_forms(value: Any) -> set[str]:
    """The texts a JSON value has in stored JSON columns: `to_json`'s, and the standard library's (ASCII
    escapes, ", " between items) that older rows have. A query matching stored JSON text looks for both."""
    return {to_json(value), json.dumps(value)}


# JSON columns are written and read with orjson: the cases' columns are read for every action applied, and
# every event has its headers stored
JSON_CODEC: dict[str, Any] = {"json_serializer": to_json, "json_deserializer": orjson.loads}


def make_engine(url: str) -> Engine:
    """An engine for the URL. SQLite: the folder is created, WAL and a busy timeout are set, and the
    process's writers to a file take turns (`writer_turns`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_size=5, max_overflow=5, **JSON_CODEC)
    connect_args: dict[str, Any] = {"timeout": writer_turns.BUSY_SECONDS}
    if _on_disk(parsed.database):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args["factory"] = writer_turns.connection_class(parsed.database)
    engine = create_engine(url, connect_args=connect_args, **JSON_CODEC)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _on_disk(database: str | None) -> TypeGuard[str]:
    """A SQLite URL's database is a file (not in memory: one per connection, none on disk)."""
    return bool(database) and database != ":memory:"


@dataclass(frozen=True, eq=False)
class PerDialect:
    """A statement each database writes its own way (an upsert, a list parameter: `with_lists`)."""

    postgresql: Any
    sqlite: Any

    def on(self, connection: Connection) -> Any:
        return self.postgresql if connection.dialect.name == "postgresql" else self.sqlite


def insert_on_conflict(table: Table, clause: str) -> Insert:
    """`INSERT INTO table ... <clause>`: an `ON CONFLICT` clause both databases read alike, written out.
    The dialects' own `insert(...).on_conflict_do_*()` are never cached by SQLAlchemy (their classes say
    `inherit_cache = False`), so a statement written with them was compiled again at every execution;
    this one is the standard insert, with the clause as text where theirs would go (after the values,
    before any RETURNING), and is compiled once."""
    statement = insert(table)
    statement._post_values_clause = text(clause)  # the slot the dialects' ON CONFLICT clauses fill
    return statement


Among = Callable[[ColumnElement[Any], str], ColumnElement[bool]]


def with_lists(build: Callable[[Among], Any]) -> PerDialect:
    """A statement whose `column IN (list)` conditions (`among(column, name)`) each database gets its
    fast way: PostgreSQL one array parameter (`= ANY(:name)`: psycopg took 8 ms to parse a query of a
    thousand parameters), SQLite the list expanded into parameters. Run it with `.on(connection)`."""
    return PerDialect(
        postgresql=build(lambda column, name: column == any_(bindparam(name, type_=ARRAY(column.type)))),
        sqlite=build(lambda column, name: column.in_(bindparam(name, expanding=True))),
    )


def among(connection: Connection, column: ColumnElement[Any], values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values` as `with_lists` writes it for the database of `connection`: on PostgreSQL one
    array parameter, so that a page's list of a hundred tickets is a statement psycopg has parsed before
    (each list of another length was a new query text to split, ~1 ms per hundred parameters)."""
    if connection.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(list(values))


READ_ONLY: dict[str, Any] = {"jiesu_read_only": True}  # execution options of a connection that only reads


# the connection of `shared_reads`, while a page reads on one
_SHARED: ContextVar[Connection | None] = ContextVar("jiesu_shared_reads", default=None)


def reading(engine: Engine) -> Any:
    """A connection for reads only: on SQLite it does not take the write lock (WAL readers never wait).
    Within `shared_reads` of the same engine, that one connection (left open for the next read)."""
    shared = _SHARED.get()
    if shared is not None and shared.engine is engine:
        return nullcontext(shared)
    return engine.connect().execution_options(**READ_ONLY)


@contextmanager
def shared_reads(engine: Engine) -> Iterator[Connection]:
    """Every `reading` of `engine` within (in this thread or task) on one connection and transaction: a
    page of many panels checks a connection out, begins and rolls back once, not once per panel (a round
    trip each to PostgreSQL, which waits its turn for a core when the machine is busy). For pages that
    only read: on SQLite the transaction keeps the snapshot of its first read until the page is done."""
    shared = _SHARED.get()
    if shared is not None and shared.engine is engine:
        yield shared
        return
    with engine.connect().execution_options(**READ_ONLY) as connection:
        token = _SHARED.set(connection)
        try:
            yield connection
        finally:
            _SHARED.reset(token)


# the threads of `read_aside`: a few, so that a busy server's pages queue for them rather than for connections
_ASIDE = ThreadPoolExecutor(max_workers=4, thread_name_prefix="jiesu-read-aside")


def read_aside(engine: Engine, read: Callable[[], T]) -> Future[T]:
    """Starts `read` on a thread of its own, its `reading`s on a connection of its own (`shared_reads`):
    PostgreSQL works on it while the caller works on something else (a page's other panels). Wait for
    its result holding no connection of the engine, so that the pool's connections are never all held by
    pages waiting for reads that need one. Run here and now for an in-memory SQLite database, which is
    another, empty, database on another thread's connection."""
    if engine.dialect.name == "sqlite" and not _on_disk(engine.url.database):
        done: Future[T] = Future()
        done.set_result(read())
        return done

    def on_its_connection() -> T:
        with shared_reads(engine):
            return read()

    return _ASIDE.submit(on_its_connection)


def _begin_immediate(connection: Any) -> None:
    """Take SQLite's write lock when the transaction starts, not at its first write: two actions on one
    case then run one after the other, and the second sees the first's result (no stale-snapshot error).
    A connection opened by `reading()` begins a plain (deferred) transaction instead. A file's writers
    first wait for their turn (`writer_turns`)."""
    if connection.get_execution_options().get("jiesu_read_only", False):
        connection.exec_driver_sql("BEGIN")
        return
    dbapi_connection = connection.connection.dbapi_connection
    if isinstance(dbapi_connection, writer_turns.TakingTurns):
        dbapi_connection.begin_writing()
    else:  # an in-memory database: no other connection writes to it
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    connection.isolation_level = None  # the driver's own transaction handling is off: see `_begin_immediate`
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply the migrations up to `revision` (idempotent)."""
    make_engine(url).dispose()  # creates the SQLite folder
    command.upgrade(alembic_config(url), revision)
