"""The pages over HTTP on SQLite and PostgreSQL: login and CSRF, the worker's inbox and case page with its
actions, refusals in words, access limits, the supervisor's dashboard decisions, the operator's intake."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import create_engine, select, text

from consumers.intake import handle_intake
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import JSON_CODEC, upgrade
from dispatcher.adapters.people import SESSION
from dispatcher.bootstrap import System, bootstrap
from dispatcher.domain import commands as c
from dispatcher.settings import Settings
from jiesu.web.app import create_app
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog
from tests.support.clock import NOW
from tests.support.fakes import FakeIntake
from tests.support.logins import PASSWORD, add_people, csrf_of, logged_in


@pytest.fixture
def app(system: System):  # type: ignore[no-untyped-def]
    """The app over `system`, with two workers, the city's supervisor and the hotline, who log in."""
    add_people(system, "li", "zhou", "zhao", "hotline")
    app = create_app(system.settings, system)
    app.state.intake = FakeIntake()
    return app


def open_case(system: System, ticket: str) -> str:
    complaint = make_complaint(
        ticket_id=ticket, category="0101", requester={"name": "张三丰", "phone": "13812345678"}
    )
    handle_intake(intake_record(complaint), system.bus)
    return ticket


def test_login_needs_the_right_password_and_the_forms_csrf(app):
    client = TestClient(app, base_url="http://127.0.0.1")
    assert client.get("/inbox", follow_redirects=False).headers["location"] == "/login"
    csrf = csrf_of(client.get("/login").text)
    wrong = client.post("/login", data={"username": "li", "password": "nope nope", "csrf": csrf})
    assert "用户名或密码错误" in wrong.text and "jiesu_session" not in client.cookies
    forged = client.post("/login", data={"username": "li", "password": PASSWORD, "csrf": "0" * 64})
    assert forged.status_code == 403
    session = logged_in(app, "li")
    cookie = next(c for c in session.cookies.jar if c.name == "jiesu_session")
    assert cookie.has_nonstandard_attr("HttpOnly")
    page = session.get("/inbox")
    session.post("/logout", data={"csrf": csrf_of(page.text)})
    assert session.get("/inbox", follow_redirects=False).status_code == 303


def test_a_worker_acknowledges_contacts_and_resolves_from_the_case_page(app, system):
    ticket = open_case(system, "BJ1")
    client = logged_in(app, "li")
    inbox = client.get("/inbox")
    assert "BJ1" in inbox.text and "签收" in inbox.text  # the stage due next, in words
    page = client.get(f"/cases/{ticket}")
    assert "138****5678" in page.text and "13812345678" not in page.text  # masked for the unit
    for action, data in (
        ("acknowledge", {}),
        ("contact", {"note": "已电话联系"}),
        ("resolve", {"result": "已修复"}),
    ):
        csrf = csrf_of(client.get(f"/cases/{ticket}").text)
        done = client.post(f"/cases/{ticket}/act/{action}", data={**data, "csrf": csrf})
        assert "已保存" in done.text, done.text
    with system.engine.connect() as connection:
        assert connection.execute(select(t.cases.c.state)).scalar_one() == "resolved"
    assert "BJ1" not in client.get("/inbox").text  # done: off the inbox


def test_a_refused_action_is_shown_in_words(app, system):
    ticket = open_case(system, "BJ1")
    client = logged_in(app, "li")
    csrf = csrf_of(client.get(f"/cases/{ticket}").text)
    refused = client.post(f"/cases/{ticket}/act/resolve", data={"result": "好了", "csrf": csrf})
    assert "操作未完成" in refused.text and "cannot resolve" in refused.text
    no_csrf = client.post(f"/cases/{ticket}/act/acknowledge", data={})
    assert no_csrf.status_code == 403


def test_a_worker_cannot_open_another_units_case_and_the_attempt_is_audited(app, system):
    ticket = open_case(system, "BJ1")
    client = logged_in(app, "zhou")
    page = client.get(f"/cases/{ticket}")
    assert page.status_code == 403 and "无权查看" in page.text
    with system.engine.connect() as connection:
        actions = (
            connection.execute(select(t.audit.c.action).where(t.audit.c.actor == "zhou")).scalars().all()
        )
    assert actions == ["denied:read"]


def test_revealing_the_requester_is_audited(app, system):
    ticket = open_case(system, "BJ1")
    client = logged_in(app, "li")
    csrf = csrf_of(client.get(f"/cases/{ticket}").text)
    shown = client.post(f"/cases/{ticket}/reveal", data={"csrf": csrf})
    assert "13812345678" in shown.text
    with system.engine.connect() as connection:
        assert "reveal" in connection.execute(select(t.audit.c.action)).scalars().all()


def test_the_supervisor_decides_a_return_from_the_dashboard(app, system):
    ticket = open_case(system, "BJ1")
    system.bus.handle(c.ReturnCase(ticket, "li", code="wrong_area", reason="不在辖区"))
    client = logged_in(app, "zhao")
    dashboard = client.get("/dashboard")
    assert dashboard.status_code == 200 and "不在辖区" in dashboard.text and "<svg" in dashboard.text
    decided = client.post(
        f"/dashboard/arbitrate/{ticket}", data={"decision": "reject", "csrf": csrf_of(dashboard.text)}
    )
    assert "已保存" in decided.text
    with system.engine.connect() as connection:
        assert connection.execute(select(t.cases.c.state)).scalar_one() == "dispatched"
    assert logged_in(app, "li").get("/dashboard").status_code == 403


def test_the_dashboard_answers_on_a_pool_of_one_connection(postgres_url, tmp_path, clock):
    """The dashboard reads its lists on a connection of their own while it reads its counts, and waits
    for them holding none: pages that waited holding theirs would leave their lists none to read on (here
    one connection in all: the lists would wait for the page's until the pool gave up)."""
    upgrade(postgres_url)
    engine = create_engine(postgres_url, pool_size=1, max_overflow=0, pool_timeout=3, **JSON_CODEC)
    settings = Settings(database_url=postgres_url, catalog_dir=write_catalog(tmp_path / "catalog"))
    system = bootstrap(settings, clock=clock, engine=engine)
    try:
        add_people(system, "li", "zhao")
        app = create_app(settings, system)
        ticket = open_case(system, "BJ1")
        system.bus.handle(c.ReturnCase(ticket, "li", code="wrong_area", reason="不在辖区"))
        dashboard = logged_in(app, "zhao").get("/dashboard")
        assert dashboard.status_code == 200 and "不在辖区" in dashboard.text
    finally:
        engine.dispose()


def test_the_operator_files_a_request_and_sees_where_it_went(app, system):
    client = logged_in(app, "hotline")
    form = client.get("/intake")
    filed = client.post(
        "/intake",
        data={
            "description": "暖气不热",
            "district": "朝阳区",
            "category": "0101",
            "phone": "13900001111",
            "csrf": csrf_of(form.text),
        },
        follow_redirects=False,
    )
    assert filed.status_code == 303
    ticket = filed.headers["location"].rsplit("/", 1)[1]
    [published] = app.state.intake.published
    assert (published.ticket_id, published.category, published.channel) == (ticket, "0101", "phone")
    assert client.get(f"/intake/{ticket}/status").json() == {"found": False}
    handle_intake(intake_record(published), system.bus)  # the worker applies it
    status = client.get(f"/intake/{ticket}/status").json()
    assert (status["unit"], status["state"]) == ("ent-heating", "dispatched") and "heating" in status["why"]


def test_the_pages_speak_english_on_request(app, system):
    client = logged_in(app, "li")
    client.get("/lang/en")
    assert "Inbox" in client.get("/inbox").text


HOSTILE_DESCRIPTION = (
    '{{ 7*7 }}<script>alert("x")</script><img src=x onerror=alert(1)> 暖气不热，'
    "=cmd|' /C calc'!A0 '; DROP TABLE cases; --"
)
HOSTILE_ADDRESS = '"><svg onload=alert(1)>{{ 7*7 }}号楼'
HOSTILE_NAME = "<b>王</b>{% raw %}"
RAW = ('<script>alert("x")', "<img src=x onerror", "<svg onload", "<b>王</b>")


def test_text_from_the_hotline_is_shown_escaped_and_never_run_on_any_page(app, system):
    complaint = make_complaint(
        ticket_id="BJ-X",
        category="0101",
        description=HOSTILE_DESCRIPTION,
        location={"district": "朝阳区", "street": "望京街道", "address": HOSTILE_ADDRESS},
        requester={"name": HOSTILE_NAME, "phone": "13812345678"},
    )
    handle_intake(intake_record(complaint), system.bus)
    worker, supervisor = logged_in(app, "li"), logged_in(app, "zhao")
    case_page = worker.get("/cases/BJ-X").text
    revealed = worker.post("/cases/BJ-X/reveal", data={"csrf": csrf_of(case_page)}).text
    inbox = worker.get("/inbox").text
    found = supervisor.get("/dashboard", params={"q": "{{ 7*7 }}", "by": "street"}).text
    echoed = supervisor.get("/dashboard", params={"q": '"><script>alert("x")</script>', "by": "ticket"}).text
    sql = supervisor.get("/dashboard", params={"q": "'; DROP TABLE cases; --", "by": "street"})

    for html in (case_page, revealed, inbox, found, echoed):
        assert not any(raw in html for raw in RAW)
    assert str(escape(HOSTILE_DESCRIPTION)) in case_page  # shown whole, as text: {{ 7*7 }} is not 49
    assert str(escape(HOSTILE_ADDRESS)) in case_page
    assert str(escape(HOSTILE_NAME)) in revealed and "13812345678" in revealed
    assert str(escape(HOSTILE_DESCRIPTION[:60])) in inbox
    assert "BJ-X" in found and str(escape(HOSTILE_DESCRIPTION[:60])) in found
    assert 'value="&#34;&gt;&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"' in echoed
    assert sql.status_code == 200
    with system.engine.connect() as connection:  # stored verbatim, and the table is still there
        description, location = connection.execute(select(t.cases.c.description, t.cases.c.location)).one()
    assert (description, location["address"]) == (HOSTILE_DESCRIPTION, HOSTILE_ADDRESS)


def test_the_supervisor_finds_cases_by_street_name_in_rows_of_any_age(app, system):
    streets = {"BJ-S1": "望京街道", "BJ-S2": "望京街道", "BJ-S3": "和平里街道"}
    for ticket, street in streets.items():
        location = {"district": "朝阳区", "street": street, "address": "1号楼"}
        handle_intake(
            intake_record(make_complaint(ticket_id=ticket, category="0101", location=location)), system.bus
        )
    # BJ-S2's location as rows written by earlier versions hold it: ASCII escapes, ", " between items
    older = json.dumps({"district": "朝阳区", "street": "望京街道", "address": "1号楼"})
    as_json = "CAST(:older AS JSON)" if system.engine.dialect.name == "postgresql" else ":older"
    with system.engine.begin() as connection:
        connection.execute(
            text(f"UPDATE cases SET location = {as_json} WHERE ticket_id = 'BJ-S2'"), {"older": older}
        )
    found = logged_in(app, "zhao").get("/dashboard", params={"q": "望京", "by": "street"}).text
    assert "BJ-S1" in found and "BJ-S2" in found and "BJ-S3" not in found


def test_open_emergencies_are_flagged_at_the_top_of_the_dashboard_until_resolved(app, system):
    complaint = make_complaint(
        ticket_id="GAS1", description="楼道里一股燃气泄漏的味道", category="0101", urgency="emergency"
    )
    handle_intake(intake_record(complaint), system.bus)
    open_case(system, "CALM1")
    client = logged_in(app, "zhao")
    flagged = client.get("/dashboard").text
    panel = flagged[flagged.index('id="emergencies"') : flagged.index('<div class="grid">')]
    assert "GAS1" in panel and "CALM1" not in panel
    for command in (c.AcknowledgeCase("GAS1", "li"), c.RecordContact("GAS1", "li")):
        system.bus.handle(command)
    system.bus.handle(c.ResolveCase("GAS1", "li", result="已关阀"))
    assert 'id="emergencies"' not in client.get("/dashboard").text


def test_the_requester_is_shown_in_full_only_through_the_audited_reveal(app, system):
    ticket = open_case(system, "BJ-REVEAL")
    client = logged_in(app, "li")
    sneaked = client.get(f"/cases/{ticket}?revealed=true")
    assert sneaked.status_code == 200 and "13812345678" not in sneaked.text and "张三丰" not in sneaked.text
    with system.engine.connect() as connection:
        assert "reveal" not in connection.execute(select(t.audit.c.action)).scalars().all()


def test_a_form_posted_without_any_cookie_of_ours_is_refused_whatever_its_token(app):
    client = TestClient(app, base_url="http://127.0.0.1")
    constant = hmac.new(b"", b"csrf", hashlib.sha256).hexdigest()  # the token of an empty session
    forged = client.post("/login", data={"username": "li", "password": PASSWORD, "csrf": constant})
    assert forged.status_code == 403 and "jiesu_session" not in client.cookies


def test_where_a_request_went_is_told_to_operators_and_to_who_may_read_the_case_only(app, system):
    ticket = open_case(system, "BJ-WHERE")  # at ent-heating
    assert logged_in(app, "hotline").get(f"/intake/{ticket}/status").json()["unit"] == "ent-heating"
    assert logged_in(app, "li").get(f"/intake/{ticket}/status").json()["unit"] == "ent-heating"
    other = logged_in(app, "zhou").get(f"/intake/{ticket}/status")  # a worker of another unit
    assert other.status_code == 403 and "ent-heating" not in other.text


# ---- sessions, login limits, headers, URLs ---------------------------------------------------------


def test_a_session_ends_after_30_idle_minutes_and_12_hours_after_login_however_used(system, clock):
    add_people(system, "li")
    app = create_app(system.settings, system)
    client = logged_in(app, "li")
    for minutes in (29, 58):  # idle time counts from the last request
        clock.now = NOW + timedelta(minutes=minutes)
        assert client.get("/inbox").status_code == 200
    clock.now = NOW + timedelta(minutes=58 + 30)
    ended = client.get("/inbox", follow_redirects=False)
    assert ended.headers["location"] == "/login" and "jiesu_session" not in client.cookies  # dropped
    client.cookies.set("jiesu_session", "left-over", domain="127.0.0.1", path="/")  # a tab left open
    csrf = csrf_of(client.get("/login").text)
    again = client.post("/login", data={"username": "li", "password": PASSWORD, "csrf": csrf})
    assert again.status_code == 200 and again.url.path == "/inbox"  # the old cookie spoils no login

    client = logged_in(app, "li")
    start = clock.now
    while clock.now + timedelta(minutes=20) < start + timedelta(hours=12):
        clock.now += timedelta(minutes=20)
        assert client.get("/inbox").status_code == 200
    clock.now = start + timedelta(hours=12)
    assert client.get("/inbox", follow_redirects=False).headers["location"] == "/login"

    settings = Settings(database_url=system.settings.database_url, session_idle_minutes=5, session_hours=1)
    client = logged_in(create_app(settings, system), "li")
    clock.now += timedelta(minutes=5)
    assert client.get("/inbox", follow_redirects=False).headers["location"] == "/login"


def test_page_logins_are_limited_with_a_429_in_the_pages_language(app):
    client = TestClient(app, base_url="http://127.0.0.1")
    csrf = csrf_of(client.get("/login").text)
    for _ in range(5):
        wrong = client.post("/login", data={"username": "li", "password": "hunter2-guess", "csrf": csrf})
        assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    held = client.post("/login", data={"username": "li", "password": PASSWORD, "csrf": csrf})
    assert held.status_code == 429 and held.headers["Retry-After"] == "900"
    assert "登录失败次数过多，请15分钟后再试" in held.text and "jiesu_session" not in client.cookies
    client.cookies.set("jiesu_lang", "en")
    held = client.post("/login", data={"username": "li", "password": PASSWORD, "csrf": csrf})
    assert held.status_code == 429 and "Too many failed logins: try again in 15 minutes" in held.text
    assert logged_in(app, "zhao").get("/dashboard").status_code == 200  # another account: not held up


def test_every_response_carries_the_security_headers_and_no_page_runs_inline_script(app, system):
    ticket = open_case(system, "BJ1")
    anonymous = TestClient(app, base_url="http://127.0.0.1")
    worker, supervisor, operator = logged_in(app, "li"), logged_in(app, "zhao"), logged_in(app, "hotline")
    pages = [
        anonymous.get("/login"),
        worker.get("/inbox"),
        worker.get(f"/cases/{ticket}"),
        supervisor.get("/dashboard"),
        operator.get("/intake"),
        operator.get("/intake/W1"),
    ]
    others = [
        anonymous.get("/inbox", follow_redirects=False),
        anonymous.get("/api/health"),
        anonymous.get("/api/cases"),
        anonymous.get("/nowhere"),
        operator.get("/intake/W1/status"),
        anonymous.post("/api/login", content=b"x" * 2**21, headers={"Content-Type": "application/json"}),
    ]
    assert others[-1].status_code == 413  # refused before the app: still with the headers
    scripts: set[str] = set()
    for response in pages:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
        tags = re.findall(r"<script\b[^>]*>(.*?)</script>", response.text, re.S)
        assert all(not body.strip() for body in tags), tags  # nothing inline
        scripts |= set(re.findall(r'<script src="(/static/[^"]+\.js)"', response.text))
        assert not re.search(r"<[^>]+\son[a-z]+=", response.text)  # no inline event handlers
    assert scripts == {
        "/static/inbox.js",
        "/static/dashboard.js",
        "/static/intake.js",
        "/static/intake_status.js",
        "/static/knowledge_panel.js",  # the 知识库 panel the intake page includes
    }
    served = [anonymous.get(path) for path in sorted(scripts)]
    assert all(r.status_code == 200 and "javascript" in r.headers["content-type"] for r in served)
    for response in pages + others + served:
        headers = response.headers
        csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
        assert csp["script-src"] == "'self'" and csp["frame-ancestors"] == "'none'", csp
        assert csp["default-src"] == "'self'" and csp["object-src"] == "'none'"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Content-Type-Options"] == "nosniff"
    docs = anonymous.get("/docs").headers  # Swagger UI: its CDN and its inline start, framing still refused
    assert "https://cdn.jsdelivr.net" in docs["Content-Security-Policy"] and docs["X-Frame-Options"] == "DENY"


def test_nothing_typed_into_a_form_is_put_into_a_url(app, system):
    operator = logged_in(app, "hotline")
    phone = "13800138000" * 3  # too long: refused
    filed = operator.post(
        "/intake",
        data={
            "description": "暖气不热",
            "name": "张三",
            "phone": phone,
            "csrf": csrf_of(operator.get("/intake").text),
        },
        follow_redirects=False,
    )
    assert filed.status_code == 422 and "location" not in filed.headers
    assert "requester.phone" in filed.text and "操作未完成" in filed.text
    assert f'value="{phone}"' in filed.text and ">暖气不热</textarea>" in filed.text  # kept to correct
    assert app.state.intake.published == []

    ticket = open_case(system, "BJ1")
    worker = logged_in(app, "li")
    csrf = csrf_of(worker.get(f"/cases/{ticket}").text)
    data = {"code": "13912345678", "reason": "不归我们管", "csrf": csrf}
    answer = worker.post(f"/cases/{ticket}/act/return", data=data, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/cases/{ticket}"
    shown = worker.get(answer.headers["location"]).text
    assert "操作未完成" in shown and "13912345678" in shown  # said on the page, once
    assert "13912345678" not in worker.get(f"/cases/{ticket}").text
    saved = worker.post(f"/cases/{ticket}/act/acknowledge", data={"csrf": csrf}, follow_redirects=False)
    assert saved.headers["location"] == f"/cases/{ticket}"
    assert "已保存" in worker.get(saved.headers["location"]).text

    # a message in a link is not shown: nobody can make the page say what they like
    planted = worker.get("/inbox", params={"error": "请致电 010-12345678 重新验证", "ok": "ok-text"}).text
    assert "010-12345678" not in planted and "ok-text" not in planted


def test_pages_answer_while_the_worker_holds_the_write_lock(system, clock):
    """A supervisor's pages only read: on SQLite they do not wait behind the worker's batches, which hold
    the database's write lock while they apply. A session's use is noted once a minute at most."""
    add_people(system, "li")
    client = logged_in(create_app(system.settings, system), "li")
    assert client.get("/inbox").status_code == 200  # its first use is noted
    if system.engine.dialect.name != "sqlite":
        pytest.skip("the write lock that pages must not wait for is SQLite's")
    worker = system.engine.raw_connection()
    worker.driver_connection.execute("BEGIN IMMEDIATE")  # a batch being applied
    try:
        clock.now = NOW + timedelta(seconds=50)
        assert client.get("/inbox").status_code == 200
    finally:
        worker.driver_connection.execute("ROLLBACK")
        worker.close()
    clock.now = NOW + timedelta(minutes=2)
    assert client.get("/inbox").status_code == 200
    with system.engine.connect() as connection:
        used = (
            connection.execute(
                select(t.tokens.c.last_used_at).where(
                    t.tokens.c.username == "li", t.tokens.c.label == SESSION
                )
            )
            .scalars()
            .all()
        )
    assert used == [NOW + timedelta(minutes=2)]
