"""What the dispatch desk reads besides its queues: for a case waiting at the center (queued, or returned
and awaiting arbitration), where the rules would send it (the router's candidates: its own decision, the
classifier's top categories from the case's text and place, the place's territorial units), and the
catalog's units and posts found by name for the supervisor's picker. Nothing here changes a case: the
desk's forms send `DispatchManually` or `Arbitrate`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Engine

from dispatcher.adapters.catalog import ReloadingRouter
from dispatcher.adapters.database import reading
from dispatcher.domain.case import Case, CaseState
from dispatcher.reads import rows as r
from rules.catalog import Catalog, UnitKind
from rules.router import CatalogRouter
from rules.routing import Router

PROPOSALS = 5
FOUND = 30  # posts listed for a search at most
KIND_ORDER = (UnitKind.DEPARTMENT, UnitKind.ENTERPRISE, UnitKind.DISTRICT, UnitKind.STREET, UnitKind.CENTER)


def catalog_router(router: Router | None) -> CatalogRouter | None:
    """The catalog router in force (reloaded first if its files changed); None without a catalog."""
    if isinstance(router, ReloadingRouter):
        router.maybe_reload()
        return router.router
    return router if isinstance(router, CatalogRouter) else None


@dataclass(frozen=True)
class Proposal:
    """A unit and post the rules would send the case to, and why."""

    unit: str
    post: str
    person: str | None
    category: str | None  # the category that sends it there (None: the rules' decision as it stands)
    share: float | None  # the classifier's probability of the categories that go there
    rule: str  # the catalog rule that chose, or `fallback`
    reason: str  # the rule and the facts, as the router says them
    decided: bool  # the rules' own decision (the proposal a redispatch without a unit goes to)


def waiting_case(engine: Engine, ticket_id: str) -> Case | None:
    """The case, with its current assignment; None if there is none."""
    with reading(engine) as connection:
        found = r.whole(connection, [ticket_id])
    return found[0] if found else None


def proposals(router: Router | None, case: Case, at: datetime, limit: int = PROPOSALS) -> list[Proposal]:
    """Where the rules would send the case now, most likely first: for a returned case, anywhere but the
    unit that returned it (as arbitration's proposal is made). Empty without a catalog."""
    catalog = catalog_router(router)
    if catalog is None:
        return []
    exclude: frozenset[str] = frozenset()
    if case.state is CaseState.RETURNED and case.assignment is not None:
        exclude = frozenset({case.assignment.unit})
    complaint = case.complaint
    if complaint.category is None and case.category is not None:
        complaint = replace(complaint, category=case.category)  # what the center knows of it by now
    return [
        Proposal(
            c.assignment.unit,
            c.assignment.post,
            c.assignment.person,
            c.category,
            c.share,
            c.assignment.rule,
            c.assignment.reason,
            c.decided,
        )
        for c in catalog.candidates(complaint, at, exclude, limit)
    ]


@dataclass(frozen=True)
class PostChoice:
    """A post of a unit of the catalog, as the picker lists it."""

    unit: str
    unit_name: str
    kind: str
    post: str
    post_name: str


def find_posts(catalog: Catalog, q: str, limit: int = FOUND) -> list[PostChoice]:
    """The posts of the units whose name (or id) holds `q`, and the posts whose name does, of every unit
    of the catalog: names that start with `q` first, then by kind of unit (departments, enterprises,
    districts, streets), then by name. Empty for an empty `q`."""
    q = q.strip().casefold()
    if not q:
        return []
    found: list[tuple[tuple[int, int, str, int], PostChoice]] = []
    for unit in catalog.units.values():
        named = q in unit.name.casefold() or q in unit.id.casefold()
        starts = unit.name.casefold().startswith(q)
        kind = KIND_ORDER.index(unit.kind) if unit.kind in KIND_ORDER else len(KIND_ORDER)
        for index, post in enumerate(unit.posts):
            if named or q in post.name.casefold():
                choice = PostChoice(unit.id, unit.name, unit.kind.value, post.id, post.name)
                found.append(((0 if starts else 1, kind, unit.name, index), choice))
    found.sort(key=lambda pair: pair[0])
    return [choice for _, choice in found[:limit]]
