"""SQLite's writers in one process take turns on a lock of their own before they ask SQLite.

SQLite has one write lock per database file. A connection that finds it held sleeps in SQLite's busy handler
(1, 2, 5, ... then 100 ms at a time) and polls; meanwhile the threads that hold it release it and take it
again, so a writer that polls can lose it many times in a row. In `jiesu run` the intake and case-event
agents write almost all the time; the outbox relay waited 270 ms on average for each transaction that marks
rows sent, and a case's dispatched event waited with it. Here the writers of one process wait on a lock of
the process, and one of them is woken as soon as it is released. Writers in other processes (the web app,
`jiesu relay`) still meet SQLite's busy handler. (A first-come-first-served queue instead of the plain lock
measured no better: `bench/e2e_dispatch.py` at 400 requests/s, p99 1.1-1.4 s against 0.8-1.0 s.)
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

BUSY_SECONDS = 30.0  # a writer waits this long for its turn, then for SQLite's lock: "database is locked"


class TakingTurns(sqlite3.Connection):
    """A connection that begins a write transaction in its turn; the turn passes on when the transaction
    ends (commit, rollback, or the connection closed). Each file has its subclass, with its lock."""

    turns: threading.Lock
    writing = False

    def begin_writing(self) -> None:
        if not self.turns.acquire(timeout=BUSY_SECONDS):
            raise sqlite3.OperationalError("database is locked (by other writers in this process)")
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.turns.release()
            raise
        self.writing = True

    def _pass_turn(self) -> None:
        if self.writing:
            self.writing = False
            self.turns.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._pass_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._pass_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._pass_turn()


_CLASSES: dict[str, type[TakingTurns]] = {}
_CLASSES_GUARD = threading.Lock()


def connection_class(database: str) -> type[TakingTurns]:
    """The class of this process's connections to the SQLite file `database`: one lock per file,
    whichever engine the connection belongs to."""
    key = str(Path(database).resolve())
    with _CLASSES_GUARD:
        if key not in _CLASSES:
            _CLASSES[key] = type("TakingTurns", (TakingTurns,), {"turns": threading.Lock()})
        return _CLASSES[key]
