"""Who is told, as the database knows them (`notifications.directory`): an account's name and a person's
own preferences (channels in order, quiet hours, language), and the supervisors' active accounts with
their scope."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading, with_lists
from dispatcher.domain.access import Role

P = t.people.c
ACCOUNTS_AMONG = with_lists(lambda among: select(P.username, P.name).where(among(P.username, "names")))
PREFERENCES_AMONG = with_lists(
    lambda among: select(t.preferences).where(among(t.preferences.c.person, "names"))
)


@dataclass(frozen=True)
class Preference:
    """How a person asked to be told."""

    addresses: tuple[tuple[str, str], ...]  # (channel, address), in order of preference
    quiet: str | None  # HH:MM-HH:MM, Beijing time
    language: str


@dataclass(frozen=True)
class OnRecord:
    """What the database holds of a person: their account's name, their preference (None if none)."""

    account_name: str | None
    preference: Preference | None


def on_record(engine: Engine, username: str) -> OnRecord:
    return on_records(engine, [username])[username]


def on_records(engine: Engine, usernames: Collection[str]) -> dict[str, OnRecord]:
    """What the database holds of each of these people, read at once (two queries)."""
    wanted = sorted(set(usernames))
    if not wanted:
        return {}
    with reading(engine) as connection:
        names = {"names": wanted}
        accounts = dict(connection.execute(ACCOUNTS_AMONG.on(connection), names).all())
        prefs = connection.execute(PREFERENCES_AMONG.on(connection), names).all()
    preferences = {
        row.person: Preference(
            tuple((entry["channel"], entry["address"]) for entry in row.addresses), row.quiet, row.language
        )
        for row in prefs
    }
    return {name: OnRecord(accounts.get(name), preferences.get(name)) for name in wanted}


def supervisor_accounts(engine: Engine, scopes: Sequence[str] | None = None) -> list[tuple[str, str | None]]:
    """(username, scope) of the active supervisors' accounts (whose scope is among `scopes`, if given), by
    username."""
    query = select(P.username, P.scope).where(P.role == Role.SUPERVISOR.value, P.active.is_(True))
    if scopes is not None:
        query = query.where(P.scope.in_(list(scopes)))
    with reading(engine) as connection:
        return [(username, scope) for username, scope in connection.execute(query.order_by(P.username))]
