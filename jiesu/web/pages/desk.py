"""The supervisor's dispatch desk: the cases waiting at the center, a page at a time and narrowed by
district, street, category domain, urgency, age and queue (`/desk`: queued for triage or manual dispatch;
`/desk/returns`: returns awaiting arbitration); and for one case (`/desk/cases/{ticket}`) where the rules
would send it, with why, beside a picker of the catalog's units and posts searched by name, whose choice
dispatches it (`DispatchManually`) or, for a return, redispatches it (`Arbitrate`).

The filters are in the URL (codes and names of places and categories, nothing personal), checked against
the catalog: a value that is not one is a 400 page saying which and why, never a 500 or an empty list."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dispatcher.bootstrap import System
from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Principal, check_role, visible_cases
from dispatcher.domain.callbacks import REVIEW_QUEUE
from dispatcher.domain.case import CaseError, CaseState
from dispatcher.reads import cases, desk, queues
from dispatcher.reads.names import Names, catalog_of
from dispatcher.reads.paging import MAX_CURSOR, CursorError
from jiesu.web.pages.base import Me, SystemDep, back, forbidden, may, page, words_of
from jiesu.web.session import check_csrf, language_of
from jiesu.web.wording import audit_reason
from rules.catalog import AreaLevel, Catalog, Target
from rules.complaint import Urgency

router = APIRouter(include_in_schema=False)

PAGE = 20
AGES: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
    "3d": timedelta(days=3),
    "7d": timedelta(days=7),
}
FIELDS = ("district", "street", "domain", "urgency", "age", "queue")
CODE = re.compile(r"^[0-9]{1,12}$")


class FilterError(ValueError):
    """A filter value the desk does not know; its message names the field and says why."""


@dataclass(frozen=True)
class Filters:
    """The desk's filters as given (for the form and the links) and as the queues read them."""

    given: dict[str, str]
    read: queues.QueueFilter

    def query(self, **more: str) -> str:
        """The URL query of these filters (and `more`), empty values left out."""
        return urlencode({key: value for key, value in {**self.given, **more}.items() if value})


def queue_names(catalog: Catalog | None) -> list[str]:
    """The center's queues: triage, manual dispatch, those the catalog's rules send cases to, and the
    callback review's (a case an unsatisfied callback held: dispatched again from here, in a new round)."""
    named = [catalog.triage_queue, catalog.manual_queue] if catalog else ["triage", "manual-dispatch"]
    if catalog is not None:
        named += [
            rule.then.queue for rule in catalog.rules if rule.then.target is Target.QUEUE and rule.then.queue
        ]
    return list(dict.fromkeys([*named, REVIEW_QUEUE]))


def parse_filters(params: Mapping[str, str], catalog: Catalog | None) -> Filters:
    """The filters in `params`, each checked: a district or street the catalog knows (a street within the
    district when both are given), a category domain (two digits), an urgency, an age, a queue."""
    given = {key: str(params.get(key, "")).strip() for key in FIELDS}
    district, street, domain = given["district"] or None, given["street"] or None, given["domain"] or None
    areas = catalog.areas if catalog else {}
    for name, code, level in (
        ("district", district, AreaLevel.DISTRICT),
        ("street", street, AreaLevel.STREET),
    ):
        if code is None:
            continue
        known = areas.get(code)
        if not CODE.match(code) or (catalog is not None and (known is None or known.level is not level)):
            raise FilterError(f"{name}: {code[:40]!r} is not the code of a {level.value} of the catalog")
    if district and street and not street.startswith(district):
        raise FilterError(f"street: {street} is not in district {district}")
    if domain is not None:
        known_domain = catalog is None or (domain in catalog.categories and len(domain) == 2)
        if not (len(domain) == 2 and domain.isdigit() and known_domain):
            raise FilterError(f"domain: {domain[:40]!r} is not a category domain (two digits) of the catalog")
    urgency = None
    if given["urgency"]:
        try:
            urgency = Urgency(given["urgency"])
        except ValueError:
            raise FilterError(
                f"urgency: {given['urgency'][:40]!r} is not one of {', '.join(Urgency)}"
            ) from None
    if given["age"] and given["age"] not in AGES:
        raise FilterError(f"age: {given['age'][:40]!r} is not one of {', '.join(AGES)}")
    queue = given["queue"] or None
    if queue is not None and queue not in queue_names(catalog):
        raise FilterError(f"queue: {queue[:40]!r} is not one of {', '.join(queue_names(catalog))}")
    read = queues.QueueFilter(
        district=district,
        street=street,
        domain=domain,
        urgency=urgency,
        older_than=AGES.get(given["age"]),
        queue=queue,
    )
    return Filters(given, read)


def explainer(request: Request, names: Names) -> Callable[[str, str, str], str]:
    """`explain(unit, post, reason)`: the router's reason for sending a case to `unit`/`post` (rule,
    classification, place, person on duty) in the page's words, ids named."""
    language = language_of(request)

    def explain(unit: str, post: str, reason: str) -> str:
        said = audit_reason("dispatch", f"to {unit}/{post}: {reason}", names, language)
        return said.split(" · ", 1)[1] if " · " in said else said  # the unit and post are shown beside it

    return explain


def bad_filter(request: Request, me: Principal, detail: str) -> HTMLResponse:
    return page(request, "message.html", me, 400, title=words_of(request)["bad_filter"], detail=detail)


@router.get("/desk")
def desk_queued(request: Request, me: Me, system: SystemDep) -> HTMLResponse:
    """The cases queued at the center (triage, manual dispatch), oldest dispatch first, `PAGE` a page."""
    return _desk(request, me, system, "queued")


@router.get("/desk/returns")
def desk_returns(request: Request, me: Me, system: SystemDep) -> HTMLResponse:
    """The returns awaiting arbitration, with the reason and the rules' proposal, `PAGE` a page."""
    return _desk(request, me, system, "returns")


def _desk(request: Request, me: Principal, system: System, tab: str) -> HTMLResponse:
    if check_role(me, Action.QUEUES) is not None:
        return forbidden(request, me, "")
    catalog = catalog_of(system.router)
    params = request.query_params
    try:
        filters = parse_filters(params, catalog)
    except FilterError as error:
        return bad_filter(request, me, str(error))
    cursor = params.get("cursor", "")
    if len(cursor) > MAX_CURSOR:
        return bad_filter(request, me, "cursor: too long")
    now, visible = system.clock(), visible_cases(me)
    engine = system.engine
    listed: Any
    try:
        if tab == "returns":
            listed = queues.arbitration_queue(
                engine, now=now, visible=visible, limit=PAGE, cursor=cursor or None, filters=filters.read
            )
        else:
            listed = queues.triage_queue(
                engine, now=now, visible=visible, limit=PAGE, cursor=cursor or None, filters=filters.read
            )
    except CursorError as error:
        return bad_filter(request, me, f"cursor: {error}")
    counts = queues.waiting(engine, now=now, visible=visible, filters=replace(filters.read, queue=None))
    return page(
        request,
        "desk.html",
        me,
        tab=tab,
        listed=listed,
        filters=filters,
        counts=counts,
        queued_total=sum(count for key, count in counts.items() if key != queues.RETURNS),
        returns_key=queues.RETURNS,
        queue_names=queue_names(catalog),
        choices=_choices(catalog, filters, visible.district),
        explain=explainer(request, Names(catalog)),
        now=now,
    )


def _choices(catalog: Catalog | None, filters: Filters, scope: str | None) -> dict[str, Any]:
    """What the filter form offers: districts (the supervisor's only, for a district's), the streets of
    the district chosen, the category domains, urgencies and ages."""
    if catalog is None:
        return {"districts": [], "streets": [], "domains": [], "urgencies": list(Urgency), "ages": list(AGES)}
    areas = catalog.areas.values()
    district = scope or filters.read.district
    districts = [a for a in areas if a.level is AreaLevel.DISTRICT and (scope is None or a.code == scope)]
    streets = [a for a in areas if a.level is AreaLevel.STREET and district and a.parent == district]
    domains = [category for code, category in catalog.categories.items() if len(code) == 2]
    return {
        "districts": sorted(districts, key=lambda a: a.code),
        "streets": sorted(streets, key=lambda a: a.code),
        "domains": sorted(domains, key=lambda category: category.code),
        "urgencies": list(Urgency),
        "ages": list(AGES),
    }


@router.get("/desk/cases/{ticket_id}")
def desk_case(request: Request, ticket_id: str, me: Me, system: SystemDep, q: str = "") -> HTMLResponse:
    """One waiting case: where the rules would send it and why, and the picker (`q`: a unit's or post's
    name, or part of it)."""
    denied = may(request, me, Action.DISPATCH, ticket_id, system)
    if denied is not None:
        return denied
    case = desk.waiting_case(system.engine, ticket_id)
    if case is None:  # removed since: as `may` says for a case that is not there
        return page(request, "message.html", me, 404, title=words_of(request)["not_found"], detail=ticket_id)
    now = system.clock()
    catalog = catalog_of(system.router)
    names = Names(catalog)
    waiting = case.state in (CaseState.QUEUED, CaseState.RETURNED)
    q = q.strip()[:64]
    return page(
        request,
        "desk_case.html",
        me,
        case=case,
        waiting=waiting,
        returned=case.state is CaseState.RETURNED,
        proposals=desk.proposals(system.router, case, now) if waiting else [],
        found=desk.find_posts(catalog, q) if catalog and q and waiting else [],
        q=q,
        why=_why_waiting(system, ticket_id, names, request) if waiting else None,
        explain=explainer(request, names),
        now=now,
    )


def _why_waiting(system: System, ticket_id: str, names: Names, request: Request) -> str | None:
    """Why the case went to the center's queue, in words: the reason its queueing was recorded with."""
    why = cases.where_it_went(system.engine, ticket_id).get("why")
    if not why:
        return None
    return audit_reason("queue", why, names, language_of(request))


@router.post("/desk/dispatch/{ticket_id}")
async def desk_dispatch(request: Request, ticket_id: str, me: Me, system: SystemDep) -> Response:
    """Dispatch a queued case to the unit (and post) chosen: a proposal, or a pick from the search."""
    form = {key: str(value) for key, value in (await request.form()).items()}
    check_csrf(request, form.get("csrf"))
    denied = may(request, me, Action.DISPATCH, ticket_id, system)
    if denied is not None:
        return denied
    unit, post = form.get("unit", "").strip(), form.get("post", "").strip() or None
    category = form.get("category", "").strip() or None
    if not unit:
        return back(f"/desk/cases/{quote(ticket_id, safe='')}", error=words_of(request)["choose_unit"])
    command = c.DispatchManually(
        ticket_id, me.username, unit=unit, post=post, category=category, reason=_reason(form, "人工派单")
    )
    return _run(request, system, command, ticket_id, "/desk")


@router.post("/desk/arbitrate/{ticket_id}")
async def desk_arbitrate(request: Request, ticket_id: str, me: Me, system: SystemDep) -> Response:
    """Decide a return: redispatch (to the unit and post chosen, else to the rules' proposal) or reject."""
    form = {key: str(value) for key, value in (await request.form()).items()}
    check_csrf(request, form.get("csrf"))
    denied = may(request, me, Action.ARBITRATE, ticket_id, system)
    if denied is not None:
        return denied
    if form.get("decision") == "redispatch":
        unit = form.get("unit", "").strip() or None
        command: c.CaseCommand = c.Arbitrate(
            ticket_id,
            me.username,
            decision="redispatch",
            unit=unit,
            post=(form.get("post", "").strip() or None) if unit else None,
            reason=_reason(form, "改派"),
        )
    else:
        command = c.Arbitrate(
            ticket_id, me.username, decision="reject", reason=_reason(form, "退单理由不成立")
        )
    return _run(request, system, command, ticket_id, "/desk/returns")


def _reason(form: Mapping[str, str], default: str) -> str:
    return form.get("reason", "").strip()[:500] or default


def _run(request: Request, system: System, command: c.CaseCommand, ticket_id: str, done: str) -> Response:
    """Run the command: back to the list when done, to the case's desk page with the refusal if not."""
    try:
        system.bus.handle(command)
    except CaseError as error:
        return back(f"/desk/cases/{quote(ticket_id, safe='')}", error=str(error))
    return back(done, ok=words_of(request)["saved"])
