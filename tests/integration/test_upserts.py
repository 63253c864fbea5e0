"""The upserts the worker runs with every batch (new notification messages, hotspot tallies, units' monthly
tallies) do what their ON CONFLICT clause says on both databases, and SQLAlchemy compiles each once: the
dialects' own `on_conflict_do_*` constructs were compiled again at every execution."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.engine.interfaces import CacheStats

from dispatcher.adapters import tables as t
from dispatcher.adapters.callback_store import MOVE_TALLY
from dispatcher.adapters.database import make_engine
from dispatcher.adapters.delivery_log import DeliveryLog, NewMessage
from dispatcher.adapters.hotspot_store import SAVE_TALLIES

AT = datetime(2026, 12, 3, 20, 0, tzinfo=UTC)


def cache_use(engine: Engine) -> list[tuple[str, Any]]:
    """(the statement's first words, whether its compilation came from the cache), per execution."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        seen.append((" ".join(statement.split()[:3]), context.cache_hit))

    event.listen(engine, "after_cursor_execute", note)
    return seen


def last_of(seen: list[tuple[str, Any]], words: str) -> Any:
    return [hit for said, hit in seen if said == words][-1]


def message(key: str, subject: str) -> NewMessage:
    return NewMessage(
        key=key, event_id="e1", ticket_id=None, kind="dispatched", recipient="wang", channel="sms",
        address="13800000000", subject=subject, text="...", html=None, urgent=False, due_at=AT,
        created_at=AT,
    )  # fmt: skip


def test_a_message_already_logged_is_not_added_again(database_url: str) -> None:
    engine = make_engine(database_url)
    seen = cache_use(engine)
    log = DeliveryLog(engine)
    assert log.add([message("e1:wang:sms", "first"), message("e1:zhao:sms", "first")]) == 2
    assert log.add([message("e1:wang:sms", "again"), message("e1:li:sms", "other")]) == 1
    with engine.connect() as connection:
        rows = connection.execute(select(t.notifications.c.key, t.notifications.c.subject)).all()
    assert sorted(rows) == [("e1:li:sms", "other"), ("e1:wang:sms", "first"), ("e1:zhao:sms", "first")]
    assert last_of(seen, "INSERT INTO notifications") == CacheStats.CACHE_HIT
    engine.dispose()


def test_hotspot_tallies_and_unit_tallies_are_updated_in_place(database_url: str) -> None:
    engine = make_engine(database_url)
    seen = cache_use(engine)
    counts = {"valid": 1, "contacted": 1, "resolved": 0, "satisfied": 0, "basically_satisfied": 1}
    for state in ({"n": 1}, {"n": 2}):
        with engine.begin() as connection:
            connection.execute(SAVE_TALLIES, [{"key": "110105|a", "state": state, "updated_at": AT}])
            connection.execute(
                MOVE_TALLY, [{"month": "2026-12", "unit": "u1", "unit_class": "street", **counts}]
            )
    with engine.connect() as connection:
        assert connection.execute(select(t.hotspot_tallies.c.state)).scalars().all() == [{"n": 2}]
        score = connection.execute(select(t.unit_month_scores)).mappings().one()
    assert {name: score[name] for name in counts} == {name: 2 * value for name, value in counts.items()}
    assert last_of(seen, "INSERT INTO hotspot_tallies") == CacheStats.CACHE_HIT
    assert last_of(seen, "INSERT INTO unit_month_scores") == CacheStats.CACHE_HIT
    engine.dispose()
