"""Who is told, as the database knows them (`notifications.directory`): an account's name and a person's
own preferences (channels in order, quiet hours, language), and the supervisors' active accounts with
their scope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.domain.access import Role

P = t.people.c


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
    with reading(engine) as connection:
        account = connection.execute(select(P.name).where(P.username == username)).first()
        prefs = connection.execute(select(t.preferences).where(t.preferences.c.person == username)).first()
    preference = None
    if prefs is not None:
        addresses = tuple((entry["channel"], entry["address"]) for entry in prefs.addresses)
        preference = Preference(addresses, prefs.quiet, prefs.language)
    return OnRecord(account.name if account else None, preference)


def supervisor_accounts(engine: Engine, scopes: Sequence[str] | None = None) -> list[tuple[str, str | None]]:
    """(username, scope) of the active supervisors' accounts (whose scope is among `scopes`, if given), by
    username."""
    query = select(P.username, P.scope).where(P.role == Role.SUPERVISOR.value, P.active.is_(True))
    if scopes is not None:
        query = query.where(P.scope.in_(list(scopes)))
    with reading(engine) as connection:
        return [(username, scope) for username, scope in connection.execute(query.order_by(P.username))]
