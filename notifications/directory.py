"""Who is who, for notifications: the catalog's posts, duty rosters and people; the accounts of the
center's supervisors; people's own preferences (channels in order, quiet hours, language); the posts'
group robots from the operator's notifications file."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime

from sqlalchemy import Engine

from dispatcher.reads.recipients import OnRecord, on_record, on_records, supervisor_accounts
from notifications.message import ChannelKind
from notifications.policy import Address, Recipient, parse_quiet
from rules.catalog import Catalog
from sla.calendar import Clock

CONSOLE = (Address(ChannelKind.CONSOLE, ""),)
OnDuty = Callable[[str, str, datetime], str | None]  # unit, post, when -> the person on duty


class SqlDirectory:
    def __init__(
        self,
        engine: Engine,
        catalog: Callable[[], Catalog],
        on_duty: OnDuty,
        groups: Mapping[str, Address],
        clock: Clock,
        known: dict[str, OnRecord] | None = None,
    ) -> None:
        self._engine, self._catalog, self._on_duty = engine, catalog, on_duty
        self._groups, self._clock = dict(groups), clock
        self._known = known  # what the database holds of each person read so far, if remembered

    def remembering(self, people: Collection[str] = ()) -> SqlDirectory:
        """The same directory, reading each person from the database once: for a batch of events, which
        names the same few people on duty again and again (two queries per message otherwise). The
        `people` the batch names are read at once, up front (two queries for them all); any other when
        first asked for."""
        known = on_records(self._engine, people)
        return SqlDirectory(self._engine, self._catalog, self._on_duty, self._groups, self._clock, known)

    def _on_record(self, username: str) -> OnRecord:
        if self._known is None:
            return on_record(self._engine, username)
        if username not in self._known:
            self._known[username] = on_record(self._engine, username)
        return self._known[username]

    def person(self, username: str) -> Recipient | None:
        catalog_person = self._catalog().people.get(username)
        found = self._on_record(username)
        account, prefs = found.account_name, found.preference
        if catalog_person is None and account is None and prefs is None:
            return None
        name = account if account is not None else catalog_person.name if catalog_person else username
        addresses: tuple[Address, ...] = ()
        if catalog_person is not None:
            addresses = tuple(Address(ChannelKind(kind), where) for kind, where in catalog_person.channels)
        if prefs is not None:
            addresses = tuple(Address(ChannelKind(kind), where) for kind, where in prefs.addresses)
            return Recipient(username, name, addresses or CONSOLE, prefs.language, parse_quiet(prefs.quiet))
        return Recipient(username, name, addresses or CONSOLE)

    def at_post(self, unit: str, post: str) -> list[Recipient]:
        if unit not in self._catalog().units:
            return []
        person = self._on_duty(unit, post, self._clock())
        found = self.person(person) if person else None
        return [found] if found else []

    def group(self, unit: str, post: str) -> Recipient | None:
        address = self._groups.get(f"{unit}:{post}") or self._groups.get(unit)
        if address is None:
            return None
        return Recipient(f"group:{unit}:{post}", f"{unit}/{post}", (address,))

    def supervisors_of(self, unit: str, post: str) -> list[Recipient]:
        found = self._catalog().units.get(unit)
        above = found.post(post) if found else None
        return self.at_post(unit, above.supervisor) if above and above.supervisor else self.unit_heads(unit)

    def unit_heads(self, unit: str) -> list[Recipient]:
        """Whoever is on duty at the top of the unit's ladder (the post no other post reports to)."""
        found = self._catalog().units.get(unit)
        if found is None or not found.posts:
            return []
        top = next((post for post in found.posts if post.supervisor is None), found.posts[-1])
        return self.at_post(unit, top.id)

    def center_supervisors(self, district: str | None) -> list[Recipient]:
        """The center's duty supervisor, and the supervisors' accounts whose scope holds the district."""
        found = self.at_post("center", "duty-supervisor") if "center" in self._catalog().units else []
        scopes = ["city", district] if district else ["city"]
        usernames = [username for username, _ in supervisor_accounts(self._engine, scopes)]
        return found + [person for name in usernames if (person := self.person(name)) is not None]

    def supervisors(self) -> list[tuple[Recipient, str]]:
        """Every supervisor with their scope ("city" or a district code): the center's duty supervisor
        (the city) and the active supervisor accounts."""
        found = [(person, "city") for person in self.at_post("center", "duty-supervisor")]
        for username, scope in supervisor_accounts(self._engine):
            person = self.person(username)
            if person is not None:
                found.append((person, scope or "city"))
        return found
