"""Names for the ids the case core stores: units, posts, people, categories (with their path), districts,
streets and communities, from the dispatch catalog in force; and the names of the accounts that act.

How to use it
- In a page: every template gets `names` (a `Names`) and, from `jiesu/web/i18n.py`, filters in the page's
  language that use it: `{{ unit_id|unit }}`, `{{ post_id|post(unit_id) }}`, `{{ person_id|person }}`
  (a duty role of the catalog or an account), `{{ code|category }}` (its path: 噪声 › 社会生活噪声),
  `{{ code|area }}` (a district, street or community), `{{ assignment|assigned }}` (unit / post / person),
  `{{ case|place }}` (district, street, community and address of a list line or case view). Words for
  states, stages, urgencies, return reasons, queues and audit lines are filters there too.
- In Python: `Names(catalog_of(system.router))`; `names.with_accounts(engine, usernames)` adds the
  display names of those accounts (the actors of a timeline).

Whatever the catalog does not know (a unit since removed, a test's id) is shown as its id, so nothing is
hidden; the ids themselves stay in the API and in the ticket numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.catalog import ReloadingRouter
from dispatcher.adapters.database import reading
from rules.catalog import Catalog
from rules.router import CatalogRouter

PATH = " › "  # between the levels of a category's path


def catalog_of(router: object) -> Catalog | None:
    """The catalog a router routes with now (a reloading one reloaded first if its files changed); None
    for a router without a catalog (the default unit router)."""
    if isinstance(router, ReloadingRouter):
        return router.catalog()
    if isinstance(router, CatalogRouter):
        return router.catalog
    return None


@dataclass(frozen=True)
class Names:
    """Ids to names; an id it does not know comes back as it is (None as "")."""

    catalog: Catalog | None = None
    accounts: Mapping[str, str] = field(default_factory=dict)  # username -> the account's name

    def unit(self, unit_id: str | None) -> str:
        if not unit_id:
            return ""
        found = self.catalog.units.get(unit_id) if self.catalog else None
        return found.name if found else unit_id

    def post(self, post_id: str | None, unit_id: str | None = None) -> str:
        """The post's name at `unit_id` (or, without a unit, at the first unit found to have it)."""
        if not post_id:
            return ""
        if self.catalog is None:
            return post_id
        unit = self.catalog.units.get(unit_id or "")
        found = unit.post(post_id) if unit else None
        return found.name if found else post_id

    def person(self, person_id: str | None) -> str:
        """A duty role of the catalog (street-….desk-duty), an account (its name), or the id."""
        if not person_id:
            return ""
        found = self.catalog.people.get(person_id) if self.catalog else None
        if found is not None:
            return found.name
        return self.accounts.get(person_id, person_id)

    def category(self, code: str | None, path: bool = True) -> str:
        """The category's name, by default with the names of the levels above it (噪声 › 社会生活噪声)."""
        if not code:
            return ""
        tree = self.catalog.categories if self.catalog else {}
        if code not in tree:
            return code
        if not path:
            return tree[code].name
        levels = [tree[code[:end]].name for end in range(2, len(code) + 1, 2) if code[:end] in tree]
        return PATH.join(levels)

    def area(self, code: str | None) -> str:
        """A district, street/township or community by its code."""
        if not code:
            return ""
        found = self.catalog.areas.get(code) if self.catalog else None
        return found.name if found else code

    def district_of_unit(self, unit_id: str | None) -> str:
        """The district a unit belongs to (朝阳区 for a street of 朝阳), or ""."""
        unit = self.catalog.units.get(unit_id or "") if self.catalog else None
        return self.area(unit.district) if unit and unit.district else ""

    def with_accounts(self, engine: Engine, usernames: Iterable[str]) -> Names:
        """These names and, added, the names of the accounts among `usernames`."""
        wanted = sorted({name for name in usernames if name and name not in self.accounts})
        if not wanted:
            return self
        people = t.people.c
        with reading(engine) as connection:
            rows = connection.execute(select(people.username, people.name).where(people.username.in_(wanted)))
            found = {row.username: row.name for row in rows}
        return Names(self.catalog, {**self.accounts, **found})
