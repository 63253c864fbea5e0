"""The demo's logins and the requests that make sure each of them has something to see.

Each worker login belongs to a unit (and post) the demo's requests reach, each district supervisor to a
district they come from: the demo feeds the `showcase` requests first (望京's neighbourhood noise, an
elderly caller's property complaint and its repeat, a co-handled self-supplied heating problem, heating and
a gas emergency in 朝阳), then the simulated day. `seen_by` says which logins see a dispatched case, so the
demo can print it beside each dispatch and sum it up at the end.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from dispatcher.contract.events import ComplaintReceived, Location, Requester, Urgency
from dispatcher.domain.access import CITY, Principal, Role
from rules.catalog import AreaLevel, Catalog

WANGJING = Location(
    district="朝阳区", street="望京街道", community="望京西园三区社区", address="望京西园三区"
)


def showcase(start: datetime, prefix: str = "DEMO") -> Iterator[ComplaintReceived]:
    """The requests fed before the simulated ones, one second apart from `start`: each demo login's unit or
    district gets cases, and the worker's inbox shows its badges (emergency, elderly, repeat, co-handled)."""
    stamp = f"{prefix}{start:%Y%m%d%H%M%S}"
    for number, said in enumerate(SHOWCASE):
        yield ComplaintReceived(
            ticket_id=f"{stamp}-{number:02d}",
            received_at=start + timedelta(seconds=number),
            channel="phone",
            kind="complaint",
            category=said.category,
            urgency=said.urgency,
            description=said.text,
            location=WANGJING,
            requester=Requester(name=said.caller, phone=said.phone, groups=list(said.groups)),
        )


class Said(NamedTuple):
    category: str
    urgency: Urgency
    caller: str
    phone: str
    text: str
    groups: tuple[str, ...] = ()


SHOWCASE = (  # all at 望京
    Said(
        "030202", "general", "陈女士", "13900002222", "楼上邻居每天夜里十二点后还在拖动家具、跳绳，噪音很大。"
    ),
    Said(
        "020101", "general", "刘大爷", "13700001111", "我七十八岁住六楼，物业半个月不修电梯。", ("elderly",)
    ),
    Said(
        "030202", "general", "陈女士", "13900002222", "又来反映楼上噪音的事，昨天夜里又拖了一宿家具。"
    ),  # repeat
    Said("010103", "urgent", "赵先生", "13600003333", "小区物业自己烧锅炉供暖，室温只有十四度，锅炉没修好。"),
    Said("010101", "urgent", "孙女士", "13500004444", "家里暖气不热，室温只有十五度，请尽快派人检修。"),
    Said("110101", "emergency", "周先生", "13400005555", "楼道里有明显的燃气味道，担心泄漏，请马上来查看。"),
)


def outcomes(requests: Iterable[ComplaintReceived]) -> int:
    """How many of these requests will be dispatched or queued: a repeat (the same phone and category as
    one before it, the demo's requests being at one place) is linked to the first instead."""
    return len({(request.requester and request.requester.phone, request.category) for request in requests})


def district_code(catalog: Catalog, name: str | None) -> str | None:
    """The code of the district a request names (朝阳区, or an alias such as 朝阳)."""
    for area in catalog.areas.values():
        if area.level is AreaLevel.DISTRICT and name in (area.name, *area.aliases):
            return area.code
    return None


def seen_by(dispatched: Mapping[str, Any], people: Iterable[Principal], catalog: Catalog) -> list[str]:
    """The logins that see a case dispatched as `jiesu.case.dispatched` says: a worker at its unit (and
    post) or a co-handling unit, a supervisor of its district or of the city, an admin."""
    assignment = dispatched["assignment"]
    unit, post, helpers = assignment["unit"], assignment["post"], assignment.get("co_handlers") or []
    district = district_code(catalog, dispatched.get("district"))
    unit_found = catalog.units.get(unit)
    district = district or (unit_found.district if unit_found else None)
    seeing = []
    for person in people:
        if person.role is Role.WORKER:
            sees = (person.unit == unit and person.post in (None, post)) or person.unit in helpers
        elif person.role is Role.SUPERVISOR:
            sees = person.scope == CITY or person.scope == district
        else:
            sees = person.role is Role.ADMIN
        if sees:
            seeing.append(person.username)
    return seeing


def describe(principal: Principal, catalog: Catalog) -> str:
    """What a login is for and which cases it sees, in words with the catalog's names."""
    if principal.role is Role.INTAKE:
        return "/intake: files requests, sees where each went"
    if principal.role is Role.ADMIN:
        return "/dashboard, /knowledge: everything, and keeps the knowledge base"
    if principal.role is Role.SUPERVISOR:
        if principal.scope == CITY:
            return "/dashboard: every case in the city, the center's queues, the ranking"
        area = catalog.areas.get(principal.scope or "")
        return f"/dashboard: the cases of {area.name if area else principal.scope}"
    unit = catalog.units.get(principal.unit or "")
    post = unit.post(principal.post) if unit and principal.post else None
    where = " / ".join(
        part for part in (unit.name if unit else principal.unit, post.name if post else "") if part
    )
    return f"/inbox: the cases at {where} (and those it co-handles)"
