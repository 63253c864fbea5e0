"""What the operator's intake page reads before a request is filed: where it would go (the router the
worker uses, run on the request as typed, nothing stored), the gazetteer's districts, streets and
communities for completion, and the caller's earlier requests by phone with the open case a new one would
be linked to as a repeat (the worker's own statement, `dispatcher.adapters.sql.FIND_REPEAT`).

Names of categories, units, posts and people are the catalog's in force."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, Engine, or_, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.adapters.sql import FIND_REPEAT
from dispatcher.domain.access import Role, Visible
from dispatcher.domain.case import OPEN_STATES, Case
from dispatcher.domain.privacy import redact, requester_view
from dispatcher.reads import rows as r
from dispatcher.reads import views as v
from dispatcher.reads.cases import requester_model
from dispatcher.reads.names import Names
from rules.catalog import Area, AreaLevel, Catalog
from rules.classifier import Proposal
from rules.complaint import Complaint, Urgency
from rules.decision import Decision
from rules.location import Place
from rules.router import CatalogRouter, describe
from rules.routing import Router

RECENT = timedelta(days=90)  # requests no longer open are listed this far back
CALLER_LIMIT = 20
OPEN = tuple(state.value for state in OPEN_STATES)
BELOW = {
    None: AreaLevel.DISTRICT,
    AreaLevel.DISTRICT: AreaLevel.STREET,
    AreaLevel.STREET: AreaLevel.COMMUNITY,
}


class UnknownAreaError(LookupError):
    """The gazetteer has no area with this code."""


# ---- names ------------------------------------------------------------------------------------


def category_view(names: Names, code: str | None) -> v.CategoryView | None:
    """The category with its name and the names of the levels down to it (domain, group, leaf)."""
    if code is None:
        return None
    tree = names.catalog.categories if names.catalog else {}
    path = [tree[code[:end]].name for end in range(2, len(code) + 1, 2) if code[:end] in tree]
    return v.CategoryView(code=code, name=names.category(code, path=False), path=path)


def unit_view(names: Names, unit_id: str | None) -> v.NamedView | None:
    return v.NamedView(id=unit_id, name=names.unit(unit_id)) if unit_id else None


def area_view(area: Area | None) -> v.AreaView | None:
    if area is None:
        return None
    return v.AreaView(code=area.code, name=area.name, level=area.level.value, parent=area.parent)


# ---- where a request would go -------------------------------------------------------------------


def preview(router: Router, catalog: Catalog | None, complaint: Complaint, at: datetime) -> v.PreviewView:
    """The decision the worker would make for `complaint` at `at`, with the classification behind it and
    everything named; nothing is stored."""
    decision = router.route(complaint, at)
    names = Names(catalog)
    proposal: Proposal | None = None
    threshold: float | None = None
    place = Place()
    if isinstance(router, CatalogRouter):
        place = router.gazetteer.resolve(complaint.location)
        if complaint.category is None:
            proposal = router.classify(complaint, place, at)
            threshold = router.threshold(proposal)
    assignment = decision.assignment
    by: Literal["operator", "model", "keywords"] = "operator"
    if complaint.category is None:
        by = "model" if proposal is not None and proposal.by == "model" else "keywords"
    return v.PreviewView(
        category=category_view(names, decision.category),
        proposed=category_view(names, proposal.category) if proposal else None,
        classified_by=by,
        confidence=proposal.confidence if proposal else None,
        threshold=threshold,
        proposals=_proposals(names, proposal),
        classification=describe(proposal, threshold) if proposal and threshold is not None else None,
        triage=catalog is not None and decision.queue == catalog.triage_queue,
        queue=decision.queue,
        emergency=decision.urgency is Urgency.EMERGENCY,
        urgency=decision.urgency,
        unit=unit_view(names, assignment.unit) if assignment else None,
        post=v.NamedView(id=assignment.post, name=names.post(assignment.post, assignment.unit))
        if assignment
        else None,
        person=v.NamedView(id=assignment.person, name=names.person(assignment.person))
        if assignment and assignment.person
        else None,
        co_handlers=[
            v.NamedView(id=u, name=names.unit(u)) for u in (assignment.co_handlers if assignment else ())
        ],
        rule=assignment.rule if assignment else None,
        reason=assignment.reason if assignment else decision.reason,
        district=area_view(place.district),
        street=area_view(place.street),
        community=area_view(place.community),
        place_notes=list(place.notes),
        catalog_version=assignment.catalog_version if assignment else getattr(router, "version", None),
    )


def _proposals(names: Names, proposal: Proposal | None) -> list[v.ProposalView]:
    if proposal is None or proposal.category is None:
        return []
    ranked = proposal.alternatives or ((proposal.category, proposal.confidence),)
    return [
        v.ProposalView(code=code, name=names.category(code, path=False), probability=probability)
        for code, probability in ranked[:3]
    ]


# ---- the gazetteer ------------------------------------------------------------------------------


def areas(
    catalog: Catalog,
    *,
    parent: str | None = None,
    level: AreaLevel | None = None,
    q: str = "",
    limit: int = 100,
) -> list[v.AreaView]:
    """The areas under `parent` (a district's streets, a street's communities), or without a parent those
    of `level` in the whole city (default: the districts); whose name or an alias holds `q`; by code.
    `UnknownAreaError` if the gazetteer has no area `parent`."""
    if parent is not None:
        above = catalog.areas.get(parent)
        if above is None:
            raise UnknownAreaError(f"no area with code {parent} in the gazetteer")
        wanted = BELOW.get(above.level)
    else:
        wanted = level or AreaLevel.DISTRICT
    q = q.strip()
    found = [
        area
        for area in catalog.areas.values()
        if area.level is wanted
        and (parent is None or area.parent == parent)
        and (not q or q in area.name or any(q in alias for alias in area.aliases))
    ]
    found.sort(key=lambda area: area.code)
    return [view for view in map(area_view, found[:limit]) if view is not None]


# ---- the caller's requests ----------------------------------------------------------------------


def caller_requests(
    engine: Engine,
    *,
    phone: str,
    now: datetime,
    visible: Visible,
    role: Role,
    catalog: Catalog | None,
    decision: Decision | None,
    window: timedelta,
    recent: timedelta = RECENT,
    limit: int = CALLER_LIMIT,
) -> v.CallerView:
    """The requests from `phone` the viewer may see: the open ones whatever their age and the others
    received within `recent`, newest first, each as `role` may see it; and the open case a new request
    routed as `decision` would be linked to (the worker's rule: same phone and category, same community
    or else street, received within `window`). Who may look a phone up is the route's decision."""
    k = r.K
    scoped = visible.unit is not None
    with reading(engine) as connection:
        tickets = list(
            connection.execute(
                select(k.ticket_id)
                .select_from(r.CASES_AND_ASSIGNMENTS if scoped else t.cases)
                .where(
                    k.requester_phone == phone,
                    or_(k.state.in_(OPEN), k.received_at >= now - recent),
                    *r.visible(connection, visible),
                )
                .order_by(k.received_at.desc(), k.ticket_id)
                .limit(limit)
            ).scalars()
        )
        found = r.whole(connection, tickets)
        repeat = _repeat(connection, phone, decision, now - window)
        if repeat is not None and repeat not in tickets:
            seen = (
                select(k.ticket_id)
                .select_from(r.CASES_AND_ASSIGNMENTS if scoped else t.cases)
                .where(k.ticket_id == repeat, *r.visible(connection, visible))
            )
            if connection.execute(seen).first() is not None:
                found += r.whole(connection, [repeat])
    names = Names(catalog)
    views = {case.ticket_id: _caller_case(case, role, names) for case in found}
    return v.CallerView(
        requests=[views[ticket] for ticket in tickets if ticket in views],
        repeat_of=views.get(repeat) if repeat else None,
        repeat_elsewhere=repeat is not None and repeat not in views,
        repeat_window_days=window / timedelta(days=1),
        recent_days=recent.days,
    )


def _repeat(connection: Connection, phone: str, decision: Decision | None, since: datetime) -> str | None:
    if decision is None or not (decision.category and decision.street):
        return None
    found = {
        "phone": phone,
        "category": decision.category,
        "community": decision.community,
        "street": decision.street,
        "since": since,
    }
    latest = connection.execute(FIND_REPEAT[decision.community is not None], found).scalar()
    return str(latest) if latest else None


def _caller_case(case: Case, role: Role, names: Names) -> v.CallerCaseView:
    complaint = case.complaint
    shown = requester_view(complaint.requester, role)
    requester = complaint.requester
    return v.CallerCaseView(
        ticket_id=case.ticket_id,
        state=case.state,
        open=case.state in OPEN_STATES,
        received_at=complaint.received_at,
        urgency=case.urgency,
        category=category_view(names, case.category),
        unit=unit_view(names, case.assignment.unit) if case.assignment else None,
        queue=case.queue,
        # as the case view has it: a unit reads numbers and the requester's name masked
        description=redact(complaint.description, requester.name, requester.confidential)
        if role is Role.WORKER
        else complaint.description,
        location=v.LocationView(**asdict(complaint.location)),
        requester=requester_model(shown.requester) if shown.requester else None,
        requester_shown=shown.shown,
        linked_to=case.linked_to,
    )
