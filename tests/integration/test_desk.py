"""The supervisor's dispatch desk and dashboard over HTTP on SQLite and PostgreSQL: the triage and
manual-dispatch queues a page at a time, narrowed by filters (a bad one is a 400 saying which); the picker's
proposals (the rules' candidates from the text and place) and its search by name; dispatching and
arbitrating from the desk; the dashboard's drill-down and its charts, drawn on the server with text
alternatives."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from bench.dashboard_reads import plans
from consumers.intake import handle_intake
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import make_engine, upgrade
from dispatcher.adapters.people import PeopleStore
from dispatcher.bootstrap import System, bootstrap
from dispatcher.domain import commands as c
from dispatcher.domain.access import Principal, Role, Visible
from dispatcher.reads import pauses, queues
from dispatcher.reads.dashboard import Counts, open_counts, overdue_by_unit
from dispatcher.settings import Settings
from jiesu.web.app import create_app
from jiesu.web.pages.history import RecentHistory
from tests.conftest import sqlite_url
from tests.support.builders import BEIJING, intake_record, make_complaint
from tests.support.catalogs import write_catalog

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, a Thursday
PASSWORD = "correct horse battery"
# Keywords alone are sure of a category only at 0.9: "暖气片不热，物业也不管" (0101 twice, 02 once: 0.67)
# waits in triage, and the picker proposes the heating company first.
CATALOG = {"territorial_post": "desk", "classifier_threshold": 0.9}
WANGJING = {"district": "朝阳区", "street": "望京街道"}
BALIZHUANG = {"district": "海淀区", "street": "八里庄街道"}


@pytest.fixture
def system(database_url: str, tmp_path: Path) -> Iterator[System]:
    catalog = write_catalog(tmp_path / "catalog", catalog_yaml=CATALOG)
    system = bootstrap(Settings(database_url=database_url, catalog_dir=catalog), clock=lambda: NOW)
    people = PeopleStore(system.engine, system.clock)
    for principal in (
        Principal("li", Role.WORKER, unit="ent-heating"),
        Principal("zhao", Role.SUPERVISOR, scope="city"),
        Principal("chaoyang", Role.SUPERVISOR, scope="110105"),
    ):
        people.add(principal, principal.username, PASSWORD)
    yield system
    system.engine.dispose()


@pytest.fixture
def app(system: System):  # type: ignore[no-untyped-def]
    return create_app(system.settings, system)


def logged_in(app, username: str) -> TestClient:  # type: ignore[no-untyped-def]
    client = TestClient(app, base_url="http://127.0.0.1")
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf": csrf_of(client.get("/login").text)},
    )
    assert answer.status_code == 200 and "jiesu_session" in client.cookies, answer.text
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found
    return found.group(1)


def file(system: System, ticket: str, **fields: Any) -> str:
    handle_intake(intake_record(make_complaint(ticket_id=ticket, **fields)), system.bus)
    return ticket


def triage(system: System, ticket: str, **fields: Any) -> str:
    """A request the rules leave in triage: its text names no category surely."""
    fields = {
        "description": "请帮忙看看这个情况",
        "category": None,
        "location": WANGJING,
        "urgency": "general",
        **fields,
    }
    return file(system, ticket, **fields)


def listed(html: str, table: str) -> list[str]:
    """The tickets of a desk table, in order."""
    start = html.index(f'id="{table}"')
    return re.findall(r'<td><a href="/desk/cases/([^"]+)">', html[start : html.index("</table>", start)])


def next_link(html: str) -> str | None:
    found = re.search(r'<a id="next" class="more" href="\?([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def state_of(system: System, ticket: str) -> tuple[str, str | None, str | None, str | None]:
    k, a = t.cases.c, t.assignments.c
    with system.engine.connect() as connection:
        state, category = connection.execute(select(k.state, k.category).where(k.ticket_id == ticket)).one()
        assigned = connection.execute(
            select(a.unit, a.post).where(a.ticket_id == ticket, a.current.is_(True))
        ).first()
    return state, assigned.unit if assigned else None, assigned.post if assigned else None, category


def no_inline_script(html: str) -> None:
    assert all(not body.strip() for body in re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S))
    assert not re.search(r"<[^>]+\son[a-z]+=", html)


# ---- the queues -------------------------------------------------------------------------------------


def test_the_desk_lists_triage_cases_a_page_at_a_time_with_filters_that_narrow_it(app, system):
    for n in range(25):
        urgency = "urgent" if n % 5 == 0 else "general"
        triage(system, f"TW{n:02d}", urgency=urgency)
    for n in range(5):  # received three days ago, in Haidian
        received = datetime(2026, 11, 23, 9, 0, tzinfo=BEIJING)
        triage(system, f"TH{n}", location=BALIZHUANG, received_at=received)
    file(
        system, "M1", description="小区物业不作为", category="02", location={}, urgency="general"
    )  # nowhere to go: manual
    client = logged_in(app, "zhao")

    first = client.get("/desk")
    assert first.status_code == 200
    no_inline_script(first.text)
    wangjing, haidian = [f"TW{n:02d}" for n in range(25)], [f"TH{n}" for n in range(5)]
    every = sorted([*wangjing, *haidian, "M1"])  # all queued at the same moment: then by ticket
    assert listed(first.text, "queued") == every[:20]  # oldest dispatch first, 20 a page
    assert "(31)" in first.text and "(0)" in first.text  # all waiting; no returns
    following = next_link(first.text)
    assert following is not None
    second = client.get(f"/desk?{following}")
    assert listed(second.text, "queued") == every[20:] and next_link(second.text) is None

    def tickets(**filters: str) -> list[str]:
        """Every ticket the desk lists with these filters, page after page."""
        found, query = [], dict(filters)
        while True:
            answer = client.get("/desk", params=query)
            assert answer.status_code == 200, answer.text
            found += listed(answer.text, "queued")
            following = next_link(answer.text)
            if following is None:
                return found
            query = dict(pair.split("=", 1) for pair in following.split("&"))

    assert tickets(district="110108") == haidian
    assert tickets(district="110105", street="110105010") == wangjing
    assert tickets(street="110108001") == haidian
    assert tickets(urgency="urgent") == [f"TW{n:02d}" for n in range(0, 25, 5)]
    assert tickets(age="1d") == haidian  # received over a day ago
    assert tickets(domain="02") == ["M1"]
    assert tickets(queue="manual-dispatch") == ["M1"]
    assert tickets(queue="triage", district="110108", urgency="general") == haidian
    narrowed = client.get("/desk", params={"district": "110105"}).text
    assert '<option value="110105010" selected' not in narrowed and ">望京街道</option>" in narrowed

    district = logged_in(app, "chaoyang").get("/desk").text  # a district's supervisor: its cases only
    assert listed(district, "queued") == wangjing[:20] and "TH0" not in district


def test_bad_filter_values_are_a_400_that_says_which_never_a_500(app, system):
    triage(system, "T1")
    client = logged_in(app, "zhao")
    for params, said in (
        ({"district": "999999"}, "district"),
        ({"district": "<script>"}, "district"),
        ({"street": "110105010", "district": "110108"}, "street"),
        ({"street": "110105"}, "street"),  # a district's code is not a street's
        ({"domain": "0101"}, "domain"),
        ({"domain": "99"}, "domain"),
        ({"urgency": "asap"}, "urgency"),
        ({"age": "2y"}, "age"),
        ({"queue": "nope"}, "queue"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "x" * 2000}, "cursor"),
    ):
        for path in ("/desk", "/desk/returns"):
            answer = client.get(path, params=params)
            assert answer.status_code == 400, (path, params, answer.text)
            assert "筛选条件无效" in answer.text and said in answer.text and "<script>" not in answer.text
    assert client.get("/dashboard", params={"district": "abc"}).status_code == 400
    assert client.get("/dashboard", params={"street": "110108001", "district": "110105"}).status_code == 400
    cursor = next_link(client.get("/desk").text)  # none: one page
    assert cursor is None
    assert logged_in(app, "li").get("/desk").status_code == 403  # a worker has no desk


# ---- the picker and dispatching ---------------------------------------------------------------------


def test_the_pickers_proposals_for_a_queued_heating_request_name_the_heating_company_first(app, system):
    ticket = triage(system, "HEAT1", description="暖气片不热，物业也不管")
    assert state_of(system, ticket)[0] == "queued"
    client = logged_in(app, "zhao")
    page = client.get(f"/desk/cases/{ticket}").text
    no_inline_script(page)
    proposals = re.findall(r'<tr class="proposal" data-unit="([^"]+)">', page)
    assert proposals[0] == "ent-heating" and "street-110105010" in proposals[1:]
    first = page[page.index('<tr class="proposal"') : page.index("</tr>", page.index('<tr class="proposal"'))]
    assert "热力集团" in first and "调度岗" in first and "67%" in first and "供热质量" in first  # and why
    assert "未能确定类别" in page  # why it waits: no confident category

    found = client.get(f"/desk/cases/{ticket}", params={"q": "热力"}).text
    picks = re.findall(r'<tr class="pick" data-unit="([^"]+)" data-post="([^"]+)">', found)
    assert picks == [("ent-heating", "dispatch"), ("ent-heating-b", "dispatch")]
    by_post = client.get(f"/desk/cases/{ticket}", params={"q": "接诉即办岗"}).text
    assert ("street-110105010", "desk") in re.findall(
        r'<tr class="pick" data-unit="([^"]+)" data-post="([^"]+)">', by_post
    )
    assert "没有找到" in client.get(f"/desk/cases/{ticket}", params={"q": "不存在的单位"}).text


def test_dispatching_from_the_desk_assigns_the_case_to_the_chosen_unit_and_post(app, system):
    ticket = triage(system, "HEAT2", description="暖气片不热，物业也不管")
    client = logged_in(app, "zhao")
    csrf = csrf_of(client.get(f"/desk/cases/{ticket}").text)

    unknown = client.post(
        f"/desk/dispatch/{ticket}", data={"unit": "nowhere", "csrf": csrf}, follow_redirects=False
    )
    assert unknown.status_code == 303 and unknown.headers["location"] == f"/desk/cases/{ticket}"
    assert "unknown unit nowhere" in client.get(unknown.headers["location"]).text
    wrong_post = client.post(
        f"/desk/dispatch/{ticket}", data={"unit": "ent-heating-b", "post": "desk", "csrf": csrf}
    )
    assert "has no post desk" in wrong_post.text and state_of(system, ticket)[0] == "queued"

    done = client.post(
        f"/desk/dispatch/{ticket}",
        data={"unit": "ent-heating-b", "post": "dispatch", "category": "0101", "csrf": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/desk"
    assert "已保存" in client.get("/desk").text
    assert state_of(system, ticket) == ("dispatched", "ent-heating-b", "dispatch", "0101")
    assert ticket not in listed(client.get("/desk").text, "queued")
    assert client.post(f"/desk/dispatch/{ticket}", data={"unit": "ent-heating"}).status_code == 403  # no CSRF

    other = triage(system, "ELSE1", location=BALIZHUANG)  # in Haidian: outside Chaoyang's scope
    district = logged_in(app, "chaoyang")
    refused = district.post(
        f"/desk/dispatch/{other}",
        data={"unit": "ent-heating", "csrf": csrf_of(district.get("/desk").text)},
    )
    assert refused.status_code == 403 and state_of(system, other)[0] == "queued"
    assert district.get(f"/desk/cases/{other}").status_code == 403


# ---- arbitration ------------------------------------------------------------------------------------


def test_arbitration_shows_the_returns_reason_and_where_it_would_go_instead(app, system):
    ticket = file(system, "RET1", category="0101", location=WANGJING)  # the heating rule: ent-heating
    system.bus.handle(c.ReturnCase(ticket, "li", code="wrong_area", reason="该地址不在本公司供热范围"))
    client = logged_in(app, "zhao")
    returns = client.get("/desk/returns").text
    no_inline_script(returns)
    row = returns[returns.index(f"/desk/cases/{ticket}") :]
    row = row[: row.index("</tr>")]
    assert "不在本辖区" in row and "(wrong_area)" in row and "该地址不在本公司供热范围" in row  # code, words
    assert "热力集团" in row  # returned by
    proposal = row[row.index('class="proposal"') :]
    assert "朝阳区" in proposal and "district-110105" not in proposal  # where instead, by name

    page = client.get(f"/desk/cases/{ticket}").text
    assert "不在本辖区" in page and "该地址不在本公司供热范围" in page
    proposals = re.findall(r'<tr class="proposal" data-unit="([^"]+)">', page)
    assert proposals and "ent-heating" not in proposals  # never back to the unit that returned it
    assert proposals[0] == "district-110105"  # the rules' proposal first

    dashboard = client.get("/dashboard").text  # the dashboard's panel says the same
    assert "不在本辖区" in dashboard and "该地址不在本公司供热范围" in dashboard

    csrf = csrf_of(page)
    picked = client.post(
        f"/desk/arbitrate/{ticket}",
        data={"decision": "redispatch", "unit": "ent-heating-b", "post": "dispatch", "csrf": csrf},
        follow_redirects=False,
    )
    assert picked.headers["location"] == "/desk/returns"
    assert state_of(system, ticket)[:3] == ("dispatched", "ent-heating-b", "dispatch")

    again = file(system, "RET2", category="0101", location=WANGJING)
    system.bus.handle(c.ReturnCase(again, "li", code="not_our_duty", reason="不归我们管"))
    client.post(f"/desk/arbitrate/{again}", data={"decision": "redispatch", "csrf": csrf})
    assert state_of(system, again)[:2] == ("dispatched", "district-110105")  # to the proposal
    third = file(system, "RET3", category="0101", location=WANGJING)
    system.bus.handle(c.ReturnCase(third, "li", code="other", reason="情况不明"))
    client.post(f"/desk/arbitrate/{third}", data={"decision": "reject", "csrf": csrf})
    assert state_of(system, third)[:2] == ("dispatched", "ent-heating")


# ---- the dashboard -----------------------------------------------------------------------------------


def test_the_dashboard_drills_down_by_district_street_and_domain_with_links_to_the_desk(app, system):
    for n in range(3):
        triage(system, f"DW{n}")
    triage(system, "DH1", location=BALIZHUANG)
    file(system, "HEATED", category="0101", location=WANGJING)  # at a unit: open, not waiting
    client = logged_in(app, "zhao")
    dashboard = client.get("/dashboard").text
    no_inline_script(dashboard)
    drill = dashboard[
        dashboard.index('id="drill"') : dashboard.index("</table>", dashboard.index('id="drill"'))
    ]
    assert 'data-level="district"' in drill and ">朝阳区</a>" in drill and ">海淀区</a>" in drill
    assert re.search(r'id="count-queued">4</span>', dashboard)

    down = re.search(r'<a class="deeper" href="([^"]+)">朝阳区</a>', drill)
    assert down is not None
    streets = client.get(down.group(1).replace("&amp;", "&")).text
    drill = streets[streets.index('id="drill"') :]
    assert (
        'data-level="street"' in drill
        and ">望京街道</a>" in drill
        and "八里庄" not in drill[: drill.index("</table>")]
    )
    down = re.search(r'<a class="deeper" href="([^"]+)">望京街道</a>', drill)
    assert down is not None
    domains = client.get(down.group(1).replace("&amp;", "&")).text
    drill = domains[domains.index('id="drill"') : domains.index("</table>", domains.index('id="drill"'))]
    assert 'data-level="domain"' in drill and ">供暖</a>" in drill  # the heating case's domain, by name
    to_desk = re.search(r'<a class="to-desk" href="(/desk\?[^"]+)">3</a>', drill)  # the unclassified three
    assert to_desk is not None
    assert listed(client.get(to_desk.group(1).replace("&amp;", "&")).text, "queued") == ["DW0", "DW1", "DW2"]

    district = logged_in(app, "chaoyang").get("/dashboard").text  # starts at its streets
    assert 'data-level="street"' in district and "海淀区" not in district[district.index('id="drill"') :]


def bars(html: str, chart: str) -> list[str]:
    svg = html[html.index(f'id="{chart}"') : html.index("</svg>", html.index(f'id="{chart}"'))]
    return re.findall(r'<rect class="bar"[^>]*><title>([^<]*)</title>', svg)


def points(html: str, chart: str) -> list[str]:
    svg = html[html.index(f'id="{chart}"') : html.index("</svg>", html.index(f'id="{chart}"'))]
    return re.findall(r'<circle class="point"[^>]*><title>([^<]*)</title>', svg)


def test_the_overdue_cases_are_counted_at_the_unit_that_has_them_now(app, system):
    heating = [file(system, f"OV{n}", category="0101", location=WANGJING) for n in range(3)]
    moved = heating[2]  # returned, and sent on to the other heating company
    system.bus.handle(c.ReturnCase(moved, "li", code="wrong_area", reason="不在供热范围"))
    system.bus.handle(
        c.Arbitrate(moved, "zhao", decision="redispatch", unit="ent-heating-b", post="dispatch")
    )
    waiting = triage(system, "OV3")  # at no unit yet
    file(system, "OV4", category="0101", location=WANGJING)  # at the heating company, not yet due
    with system.engine.begin() as connection:
        late = t.cases.c.ticket_id.in_([*heating, waiting])
        connection.execute(update(t.cases).where(late).values(reply_due=NOW - timedelta(hours=1)))
    page = logged_in(app, "zhao").get("/dashboard").text
    panel = page[page.index('id="overdue-units"') :]
    panel = panel[: panel.index("</table>")]
    counted = re.findall(r"<tr><td>([^<]+)</td><td class=\"breach\">(\d+)</td></tr>", panel)
    assert counted == [("热力集团", "2"), ("另一家热力公司", "1"), ("未派单位", "1")]


def test_a_district_supervisor_sees_the_extensions_and_pauses_asked_in_the_district_only(app, system):
    for ticket, place in (("EX1", WANGJING), ("EX2", BALIZHUANG), ("EX3", WANGJING), ("EX4", WANGJING)):
        file(system, ticket, category="0101", location=place)
        system.bus.handle(c.AcknowledgeCase(ticket, "li"))
    for ticket in ("EX1", "EX2", "EX3"):
        system.bus.handle(
            c.RequestExtension(ticket, "li", until=NOW + timedelta(days=10), reason="需更换管道")
        )
    system.bus.handle(c.DecideExtension("EX3", "zhao", approve=False, reason="不同意"))  # decided: not asked
    for ticket in ("EX2", "EX4"):
        system.bus.handle(c.RequestPause(ticket, "li", code="requester", reason="市民出差"))
    page = logged_in(app, "chaoyang").get("/dashboard").text
    extensions = page[page.index('id="extensions"') : page.index("</section>", page.index('id="extensions"'))]
    pauses = page[page.index('id="pauses"') : page.index("</section>", page.index('id="pauses"'))]
    assert re.findall(r'<a href="/cases/(EX\d)">', extensions) == ["EX1"]
    assert re.findall(r'href="/cases/(EX\d)"', pauses) == ["EX4"]
    assert re.search(r'id="count-pause-requested">1<', pauses)
    city = logged_in(app, "zhao").get("/dashboard").text
    extensions = city[city.index('id="extensions"') : city.index("</section>", city.index('id="extensions"'))]
    assert sorted(re.findall(r'<a href="/cases/(EX\d)">', extensions)) == ["EX1", "EX2"]


def test_the_dashboards_reads_of_a_district_are_found_on_their_own_indexes(tmp_path):
    """The lists and counts of what is asked read the few cases with something asked (migration 0030), the
    counts and the overdue cases by unit the index of the district's cases by state and deadline alone
    (0031), not every open case of the district: the queries' conditions must imply the partial indexes'
    word for word, and ask nothing the index does not hold."""
    url = sqlite_url(tmp_path)
    upgrade(url)
    engine = make_engine(url)
    district = Visible(district="110105")
    by_street = partial(open_counts, engine, now=NOW, visible=district, district="110105", by="street")
    for read, steps in (
        (partial(queues.pending_extensions, engine, visible=district), ["INDEX ix_cases_extensions_asked "]),
        (partial(pauses.pause_requests, engine, visible=district), ["INDEX ix_cases_pauses "]),
        (partial(pauses.pause_counts, engine, visible=district), ["INDEX ix_cases_pauses "]),
        (
            by_street,
            [
                "COVERING INDEX ix_cases_district_state_due (district=? AND state=?)",
                "INDEX ix_cases_extensions_asked ",
                "INDEX ix_cases_pauses ",
            ],
        ),
        (
            partial(overdue_by_unit, engine, now=NOW, visible=district),
            ["INDEX ix_cases_district_state_due (district=? AND state=? AND reply_due"],
        ),
    ):
        plan = plans(engine, read)
        assert all(any(wanted in step for step in plan) for wanted in steps), (steps, plan)
    engine.dispose()


def test_the_drill_down_counts_each_condition_of_the_open_cases_once(system):
    for ticket, place in (
        ("LATE", WANGJING),
        ("HELD", WANGJING),
        ("BACK", WANGJING),
        ("LONGER", WANGJING),
        ("LATE-HD", BALIZHUANG),
        ("DONE", WANGJING),
    ):
        file(system, ticket, category="0101", location=place)
    file(system, "SOS", category="0101", location=WANGJING, urgency="emergency")
    triage(system, "UNSURE")
    for ticket in ("HELD", "LONGER"):
        system.bus.handle(c.AcknowledgeCase(ticket, "li"))
    system.bus.handle(c.RequestPause("HELD", "li", code="requester", reason="市民出差"))
    system.bus.handle(c.DecidePause("HELD", "zhao", approve=True, reason="同意"))  # its clock stands still
    system.bus.handle(c.RequestExtension("LONGER", "li", until=NOW + timedelta(days=10), reason="需更换管道"))
    system.bus.handle(c.ReturnCase("BACK", "li", code="wrong_area", reason="不在供热范围"))
    with system.engine.begin() as connection:
        late = t.cases.c.ticket_id.in_(["LATE", "HELD", "LATE-HD", "DONE"])
        connection.execute(update(t.cases).where(late).values(reply_due=NOW - timedelta(hours=1)))
        connection.execute(update(t.cases).where(t.cases.c.ticket_id == "DONE").values(state="resolved"))
    chaoyang = Visible(district="110105")
    [counted] = open_counts(system.engine, now=NOW, visible=chaoyang, district="110105", by="street")
    expected = dict(open=6, overdue=1, queued=1, returned=1, emergencies=1, extensions=1)
    assert {name: getattr(counted, name) for name in expected} == expected
    [whole] = open_counts(system.engine, now=NOW, visible=chaoyang)
    assert whole == replace(counted, key=None)
    city = open_counts(system.engine, now=NOW, visible=Visible(everything=True), by="district")
    assert [(row.key, row.open, row.overdue) for row in city] == [("110105", 6, 1), ("110108", 1, 1)]
    nothing = open_counts(system.engine, now=NOW, visible=Visible(district="110101"))
    assert nothing == [Counts(None)]


def test_the_charts_have_a_bar_or_point_per_figure_and_text_alternatives(app, system):
    # volume: heating (01) on three days, 物业 (02) on one of them
    for day, tickets in ((24, ("V1", "V2")), (25, ("V3",)), (26, ("V4",))):
        for ticket in tickets:
            received = datetime(2026, 11, day, 8, 0, tzinfo=BEIJING)
            file(system, ticket, category="0101", location=WANGJING, received_at=received)
    file(
        system,
        "V5",
        category="02",
        location=WANGJING,
        received_at=datetime(2026, 11, 25, 8, 0, tzinfo=BEIJING),
    )
    # overdue rate: reply deadlines due in three past weeks (this week's Monday is 11-23)
    d = t.deadlines.c
    week = datetime(2026, 11, 23, 12, 0, tzinfo=BEIJING)
    with system.engine.begin() as connection:
        for ticket, due, status, met in (
            ("V1", week - timedelta(weeks=1), "pending", None),  # missed, still open
            ("V2", week - timedelta(weeks=1), "met", week - timedelta(weeks=1, hours=1)),  # on time
            ("V3", week - timedelta(weeks=3), "met", week - timedelta(weeks=3, hours=-1)),  # late
            ("V4", week - timedelta(weeks=5), "met", week - timedelta(weeks=5, hours=2)),  # on time
        ):
            where = (d.ticket_id == ticket, d.stage == "reply")
            connection.execute(
                update(t.deadlines).where(*where).values(due_at=due, status=status, fired_at=met)
            )
        # the three rates: two months with valid callbacks
        for month, unit in (
            ("2026-09", "street-110105010"),
            ("2026-11", "street-110105010"),
            ("2026-11", "ent-heating"),
        ):
            row = {
                "month": month,
                "unit": unit,
                "unit_class": "street" if unit.startswith("street") else "enterprise",
            }
            counts = {"valid": 10, "contacted": 9, "resolved": 8, "satisfied": 6, "basically_satisfied": 2}
            connection.execute(insert(t.unit_month_scores).values(**row, **counts))
    html = logged_in(app, "zhao").get("/dashboard").text
    no_inline_script(html)

    volume = bars(html, "volume-chart")
    assert len(volume) == 4  # three days of heating, one of 物业
    assert sum(1 for title in volume if "01 供暖" in title) == 3 and any(
        "02 物业: 1" in title for title in volume
    )
    assert "11-24 01 供暖: 2" in volume
    missed = bars(html, "missed-chart")
    assert len(missed) == 3  # a bar per week with a deadline due
    assert any(title.endswith("50.0%") for title in missed) and any(
        title.endswith("100.0%") for title in missed
    )
    assert any(title.endswith("0.0%") and not title.endswith("00.0%") for title in missed)
    rates = points(html, "rates-chart")
    assert len(rates) == 6  # three rates, two months
    k = system.assessment.settings.weights_for("2026-11", "street").basic_credit
    assert "2026-11 响应率: 90.0%" in rates and "2026-09 解决率: 80.0%" in rates
    assert f"2026-11 满意率: {float((6 + k * 2) / 10) * 100:.1f}%" in rates

    for chart, table, rows in (
        ("volume-chart", "volume-table", 30),
        ("missed-chart", "missed-table", 12),
        ("rates-chart", "rates-table", 12),
    ):
        svg = html[html.index(f'<svg id="{chart}"') : html.index("</svg>", html.index(f'<svg id="{chart}"'))]
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in svg and 'role="img"' in svg
        assert f'<title id="{chart}-title">' in svg and f'<desc id="{chart}-desc">' in svg
        body = html[html.index(f'id="{table}"') : html.index("</table>", html.index(f'id="{table}"'))]
        assert body.count('<th scope="row">') == rows
    assert (
        "<script"
        not in html[html.index('id="charts"') :]
        .split("{% block")[0]
        .split('<script src="/static/dashboard.js"')[0]
    )


def test_a_district_supervisors_overdue_chart_counts_the_districts_deadlines_only(app, system):
    # reply deadlines missed in two past weeks: one in 朝阳 (Wangjing), one in 海淀 (Balizhuang)
    file(system, "C1", category="0101", location=WANGJING)
    file(system, "H1", category="0101", location=BALIZHUANG)
    week = datetime(2026, 11, 23, 12, 0, tzinfo=BEIJING)  # this week's Monday
    d = t.deadlines.c
    with system.engine.begin() as connection:
        for ticket, due in (("C1", week - timedelta(weeks=1)), ("H1", week - timedelta(weeks=2))):
            where = (d.ticket_id == ticket, d.stage == "reply")
            assert connection.execute(update(t.deadlines).where(*where).values(due_at=due)).rowcount == 1

    city = bars(logged_in(app, "zhao").get("/dashboard").text, "missed-chart")
    chaoyang = bars(logged_in(app, "chaoyang").get("/dashboard").text, "missed-chart")
    assert len(city) == 2 and all(title.endswith("100.0%") for title in city)
    assert len(chaoyang) == 1 and chaoyang[0].endswith("100.0%")
    assert chaoyang[0] in city  # the week of Wangjing's deadline


def test_the_charts_are_read_once_a_minute_and_say_when(app, system):
    class Monotonic:
        seconds = 0.0

        def __call__(self) -> float:
            return self.seconds

    clock = Monotonic()
    app.state.history = RecentHistory(60, monotonic=clock)
    file(system, "V1", category="0101", location=WANGJING, received_at=NOW - timedelta(days=1))
    client = logged_in(app, "zhao")  # lands on the dashboard: the charts are read
    first = client.get("/dashboard").text
    assert "读取于 10:00:00" in first[first.index('id="charts-read-at"') :]
    assert len(bars(first, "volume-chart")) == 1

    file(system, "V2", category="02", location=WANGJING, received_at=NOW - timedelta(days=2))
    clock.seconds = 59
    assert len(bars(client.get("/dashboard").text, "volume-chart")) == 1  # as read a minute ago
    clock.seconds = 60
    assert len(bars(client.get("/dashboard").text, "volume-chart")) == 2


def test_the_kept_charts_are_in_the_viewers_language(app, system):
    app.state.history = RecentHistory(60)
    client = logged_in(app, "zhao")  # lands on the dashboard in Chinese: its charts are kept
    assert "近30天每日诉求量" in client.get("/dashboard").text
    client.get("/lang/en")
    english = client.get("/dashboard").text
    charts = english[english.index('id="charts"') :]
    assert "Requests per day by domain" in charts and "近30天每日诉求量" not in charts
    assert len(app.state.history) == 2  # the district's, in each language


def test_a_language_the_pages_do_not_speak_reads_chinese_from_the_kept_charts(app, system):
    app.state.history = RecentHistory(60)
    client = logged_in(app, "zhao")  # the dashboard in Chinese: its charts are kept
    for made_up in ("fr", "x" * 40, "zh-TW"):
        client.cookies.set("jiesu_lang", made_up, domain="127.0.0.1", path="/")
        page = client.get("/dashboard").text
        assert "近30天每日诉求量" in page and 'lang="zh' in page
    assert len(app.state.history) == 1  # no charts read or kept per made-up language
