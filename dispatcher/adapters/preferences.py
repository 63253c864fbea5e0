"""People's own preferences for notifications in the database: the channels they are told on, in order,
their quiet hours and their language (`jiesu notifications prefer`; read by `reads.recipients`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite

from dispatcher.adapters import tables as t


def save_preference(
    engine: Engine, person: str, addresses: Sequence[tuple[str, str]], quiet: str | None, language: str
) -> None:
    """Set how `person` is told: (channel, address) in order of preference, quiet hours (HH:MM-HH:MM) and
    language, replacing what was set before."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    stored = [{"channel": channel, "address": address} for channel, address in addresses]
    values = {"person": person, "addresses": stored, "quiet": quiet, "language": language}
    statement = dialect.insert(t.preferences).values(values)
    statement = statement.on_conflict_do_update(index_elements=["person"], set_=values)
    with engine.begin() as connection:
        connection.execute(statement)
