"""Lists at a street's volume, on SQLite and PostgreSQL: a unit with hundreds of resolved cases and a few open
ones. The inbox shows every open case, nearest deadline first; `GET /api/cases` and the queues page with an
opaque cursor (the `Link: rel="next"` header) through every case; the dashboard's search looks at all cases,
by a form that keeps the phone out of the URL, and pages too."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from consumers.intake import handle_intake
from dispatcher.adapters import tables as t
from dispatcher.bootstrap import System
from dispatcher.domain import commands as c
from dispatcher.domain.access import Visible
from dispatcher.reads import inbox
from jiesu.web.app import create_app
from tests.support.builders import intake_record, make_complaint
from tests.support.clock import NOW
from tests.support.logins import Caller, add_people, csrf_of, logged_in

RESOLVED, OPEN = 560, 25


def phone(n: int) -> str:
    return f"1390000{n:04d}"


@pytest.fixture
def tokens(system: System) -> dict[str, str]:
    """A worker of ent-heating, the city's and 朝阳区's supervisors; with passwords: they log in on the pages
    as well as with their tokens."""
    return add_people(system, "li", "zhao", "chaoyang")


@pytest.fixture
def busy(system: System) -> System:
    """560 resolved cases at ent-heating (dispatched first: the oldest), then 25 open ones whose nearest
    deadlines run the other way round from their tickets (W024's is the nearest)."""
    for n in range(RESOLVED + OPEN):
        ticket = f"R{n:04d}" if n < RESOLVED else f"W{n - RESOLVED:03d}"
        complaint = make_complaint(
            ticket_id=ticket, category="0101", requester={"name": "王先生", "phone": phone(n)}
        )
        handle_intake(intake_record(complaint), system.bus)
    with system.engine.begin() as connection:
        resolved = t.cases.c.ticket_id.like("R%")
        connection.execute(update(t.cases).where(resolved).values(state="resolved"))
        connection.execute(update(t.deadlines).where(t.deadlines.c.ticket_id.like("R%")).values(status="met"))
        for n in range(OPEN):
            connection.execute(
                update(t.deadlines)
                .where(t.deadlines.c.ticket_id == f"W{n:03d}", t.deadlines.c.status == "pending")
                .values(due_at=NOW + timedelta(hours=2 + OPEN - n))
            )
    return system


@pytest.fixture
def app(system: System, tokens: dict[str, str]):  # type: ignore[no-untyped-def]
    return create_app(system.settings, system)


def case_links(html: str) -> list[str]:
    return re.findall(r'<a href="/cases/([A-Z0-9]+)">', html)


def every_page(client: Caller, path: str, **params: Any) -> tuple[list[str], int]:
    """The tickets of every page, following the `next` links; and how many pages."""
    tickets: list[str] = []
    answer: httpx.Response = client.get(path, params=params)
    pages = 0
    while True:
        assert answer.status_code == 200, answer.text
        pages += 1
        tickets += [case["ticket_id"] for case in answer.json()]
        following = answer.links.get("next")
        if following is None:
            return tickets, pages
        assert answer.headers["X-Next-Cursor"] in following["url"]
        answer = client.get(following["url"])


def test_the_inbox_of_a_busy_unit_shows_every_open_case_nearest_deadline_first(app, busy):
    html = logged_in(app, "li").get("/inbox").text
    shown = case_links(html)
    assert shown == [f"W{n:03d}" for n in reversed(range(OPEN))]  # all 25, the nearest deadline first
    assert f"({OPEN})" in html


def test_the_inbox_pages_with_a_cursor_in_deadline_order(busy):
    visible, now, seen, cursor = Visible(unit="ent-heating"), busy.clock(), [], None
    for _ in range(3):
        page = inbox.inbox(busy.engine, now=now, visible=visible, limit=10, cursor=cursor)
        seen += [row.case.ticket_id for row in page.items]
        cursor = page.next
    assert cursor is None and seen == [f"W{n:03d}" for n in reversed(range(OPEN))]


def test_the_inbox_lists_open_cases_with_no_pending_deadline_last_in_ticket_order(busy):
    with busy.engine.begin() as connection:  # W001's and W000's deadlines all met
        met = t.deadlines.c.ticket_id.in_(("W000", "W001"))
        connection.execute(update(t.deadlines).where(met).values(status="met"))
    visible, now, seen, cursor = Visible(unit="ent-heating"), busy.clock(), [], None
    for _ in range(3):
        page = inbox.inbox(busy.engine, now=now, visible=visible, limit=10, cursor=cursor)
        seen += [row.case.ticket_id for row in page.items]
        cursor = page.next
    assert cursor is None
    assert seen == [f"W{n:03d}" for n in reversed(range(2, OPEN))] + ["W000", "W001"]


def test_cases_are_listed_page_by_page_with_a_cursor_through_every_case(as_, busy):
    worker = as_("li")
    tickets, pages = every_page(worker, "/api/cases", limit=100)
    expected = [f"R{n:04d}" for n in range(RESOLVED)] + [f"W{n:03d}" for n in range(OPEN)]
    assert tickets == expected and pages == 6  # oldest dispatch first, none twice, none left out
    assert every_page(worker, "/api/cases", state="dispatched", limit=10)[0] == expected[RESOLVED:]
    district = as_("chaoyang")
    assert every_page(district, "/api/cases", limit=250)[0] == expected
    assert worker.get("/api/cases", params={"cursor": "not a cursor"}).status_code == 422


def test_the_dashboard_search_looks_at_every_case_and_keeps_the_phone_out_of_the_url(app, busy):
    client = logged_in(app, "zhao")
    dashboard = client.get("/dashboard").text
    assert re.search(r'<form method="post" action="/dashboard/search"', dashboard)
    newest = RESOLVED + OPEN - 1

    def search(by: str, q: str, cursor: str = "") -> str:
        answer = client.post(
            "/dashboard/search", data={"by": by, "q": q, "cursor": cursor, "csrf": csrf_of(dashboard)}
        )
        assert answer.status_code == 200 and phone(newest) not in str(answer.url)
        return answer.text

    def found(html: str) -> list[str]:
        return case_links(html[html.index('id="found"') : html.index("</table>", html.index('id="found"'))])

    assert found(search("phone", phone(newest))) == ["W024"]  # the newest case of 585
    assert found(search("phone", phone(3))) == ["R0003"]
    assert found(search("ticket", "W024")) == ["W024"]
    assert found(search("state", "dispatched")) == [f"W{n:03d}" for n in reversed(range(OPEN))]
    first = search("state", "resolved")
    assert found(first) == [f"R{n:04d}" for n in reversed(range(RESOLVED - 50, RESOLVED))]  # newest first
    cursor = re.search(r'name="cursor" value="([^"]+)"', first)
    assert cursor is not None
    second = search("state", "resolved", cursor.group(1))
    assert found(second) == [f"R{n:04d}" for n in reversed(range(RESOLVED - 100, RESOLVED - 50))]
    assert client.post("/dashboard/search", data={"by": "phone", "q": phone(newest)}).status_code == 403
    by_url = client.get("/dashboard", params={"by": "phone", "q": phone(newest)}).text
    assert "W024" not in case_links(by_url)  # a phone is never searched from the URL


def test_the_queues_page_with_a_cursor(as_, busy):
    for n in range(5):
        complaint = make_complaint(ticket_id=f"Q{n}", description="请帮忙看看这个情况", category=None)
        handle_intake(intake_record(complaint), busy.bus)
    supervisor = as_("zhao")
    tickets, pages = every_page(supervisor, "/api/queues/triage", limit=2)
    assert tickets == [f"Q{n}" for n in range(5)] and pages == 3


def test_escalations_page_newest_first_with_a_cursor(as_, busy):
    timers = t.sla_timers.c
    with busy.engine.begin() as connection:
        warnings = connection.execute(
            select(t.sla_timers).where(
                timers.ticket_id.in_([f"W{n:03d}" for n in range(5)]),
                timers.stage == "acknowledge",
                timers.kind == "warning",
            )
        ).all()
        for row in warnings:  # W000..W004 breached their acknowledge deadline, an hour apart
            n = int(row.ticket_id[1:])
            escalation = {
                **row._asdict(),
                "kind": "escalation",
                "level": 1,
                "status": "fired",
                "target": f"{row.target.split(':', 1)[0]}:unit_head",
                "fired_at": NOW - timedelta(hours=n),
            }
            del escalation["id"]
            connection.execute(t.sla_timers.insert().values(**escalation))
    supervisor = as_("zhao")
    tickets, pages = every_page(supervisor, "/api/escalations", limit=2)
    assert tickets == [f"W{n:03d}" for n in range(5)] and pages == 3
    assert every_page(as_("chaoyang"), "/api/escalations", limit=4)[0] == tickets


def test_a_case_redispatched_leaves_the_first_units_inbox_for_the_new_ones(busy):
    busy.bus.handle(c.ReturnCase("W003", "li", code="not_our_duty", reason="自供暖小区"))
    busy.bus.handle(c.Arbitrate("W003", "center-wang", decision="redispatch", unit="district-110105"))
    now = busy.clock()

    def listed(unit: str) -> list[str]:
        page = inbox.inbox(busy.engine, now=now, visible=Visible(unit=unit))
        return [row.case.ticket_id for row in page.items]

    assert "W003" not in listed("ent-heating") and len(listed("ent-heating")) == OPEN - 1
    assert listed("district-110105") == ["W003"]
