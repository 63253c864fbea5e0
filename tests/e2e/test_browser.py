"""The pages in a real browser (Debian's Chromium driven by Playwright) against the app served on
127.0.0.1, each role's main journey, asserting what a person reads (names and words, not ids): a worker
goes from the inbox to a case and handles it; a supervisor sees an escalation arrive live, dispatches a
triaged case from the desk's proposals and decides a return; an operator sees in the preview which unit a
request would go to, files it and sees where it went; an admin adds a 知识库 entry; a worker is kept out of
another unit's case. Each wait is bounded in seconds.

Screenshots go to the test's folder; with SCREENSHOT_DIR=<folder> they are written there too (the README's,
in docs/screenshots/, come from a running demo instead: bench/demo_screenshots.py)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from consumers.intake import handle_intake
from consumers.sweeper import sweep
from dispatcher.adapters.database import upgrade
from dispatcher.adapters.people import PeopleStore
from dispatcher.bootstrap import System, bootstrap
from dispatcher.contract.events import ComplaintReceived
from dispatcher.domain import commands as c
from dispatcher.domain.access import Principal, Role
from dispatcher.settings import Settings
from jiesu.web.app import create_app
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog
from tests.support.clock import NOW, Clock

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
PASSWORD = "correct horse battery"
# Keywords alone are sure of a category only at 0.9: "暖气片不热，物业也不管" waits in triage, and the desk
# proposes the heating company first; "暖气片不热" alone is dispatched to it.
CATALOG = {"territorial_post": "desk", "classifier_threshold": 0.9}
PEOPLE = (
    (Principal("li", Role.WORKER, unit="ent-heating"), "李娜"),
    (Principal("zhou", Role.WORKER, unit="ent-heating-b"), "周强"),
    (Principal("zhao", Role.SUPERVISOR, scope="city"), "赵敏"),
    (Principal("hotline", Role.INTAKE), "话务员小王"),
    (Principal("admin", Role.ADMIN), "系统管理员"),
)


class AppliedIntake:
    """The intake as the worker would apply it: each request through `handle_intake`, a moment later."""

    def __init__(self, system: System) -> None:
        self.system = system

    def publish(self, complaint: ComplaintReceived) -> None:
        def later() -> None:
            time.sleep(0.5)
            handle_intake(intake_record(complaint), self.system.bus)

        threading.Thread(target=later, daemon=True).start()


_MIGRATED: list[Path] = []


def migrated_database(folder: Path) -> str:
    """A SQLite database at the newest migration in `folder`: a copy of one migrated once per session
    (migrating takes seconds, copying none)."""
    if not _MIGRATED:
        template = Path(tempfile.mkdtemp(prefix="jiesu-browser-")) / "jiesu.db"
        upgrade(f"sqlite:///{template}")
        _MIGRATED.append(template)
    shutil.copyfile(_MIGRATED[0], folder / "jiesu.db")
    return f"sqlite:///{folder / 'jiesu.db'}"


@contextmanager
def serving(system: System) -> Iterator[str]:
    """The app on a free port of 127.0.0.1 (uvicorn in a thread), requests filed on its intake page applied
    as the worker would; its base URL."""
    app = create_app(system.settings, system)
    app.state.intake = AppliedIntake(system)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the web app did not start within 15 s"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def small_site(folder: Path) -> tuple[System, Clock]:
    """The small catalog of tests.support.catalogs (热力集团, two districts), its people, a clock at NOW."""
    clock = Clock()
    catalog = write_catalog(folder / "catalog", catalog_yaml=CATALOG)
    system = bootstrap(Settings(database_url=migrated_database(folder), catalog_dir=catalog), clock=clock)
    people = PeopleStore(system.engine, system.clock)
    for principal, name in PEOPLE:
        people.add(principal, name, PASSWORD)
    return system, clock


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    system, clock = small_site(tmp_path)
    with serving(system) as base:
        yield {"base": base, "system": system, "clock": clock}
    system.engine.dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


def log_in(browser: Any, base: str, username: str) -> Any:
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.set_default_timeout(10_000)
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def shoot(page: Any, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def open_case(
    system: System,
    ticket: str,
    description: str = "家里暖气不热，室温只有十五度，请尽快派人检修。",
    groups: list[str] | None = None,
    urgency: str = "urgent",
) -> str:
    """A heating request received half an hour ago, dispatched to the heating company (热力集团)."""
    requester = {"name": "王先生", "phone": f"138{uuid.uuid4().int % 10**8:08d}", "groups": groups or []}
    complaint = make_complaint(
        ticket_id=ticket,
        category="0101",
        description=description,
        requester=requester,
        urgency=urgency,
        received_at=system.clock() - timedelta(minutes=30),
    )
    handle_intake(intake_record(complaint), system.bus)
    return ticket


def triage(system: System, ticket: str, description: str) -> str:
    """A request the rules leave in triage (no category given, the text not sure enough of one)."""
    complaint = make_complaint(ticket_id=ticket, category=None, urgency="general", description=description)
    handle_intake(intake_record(complaint), system.bus)
    return ticket


def test_a_worker_acknowledges_records_contact_and_resolves(served, browser, tmp_path):
    """The worker's day: the inbox (names, words, badges), a case, sign for it, record the call, resolve."""
    open_case(served["system"], "BJ12345-1")
    open_case(served["system"], "BJ12345-2", "小区供暖管道漏水，楼道积水。", groups=["elderly"])
    page = log_in(browser, served["base"], "li")
    assert page.url.endswith("/inbox")
    row = page.locator('#inbox tr[data-ticket="BJ12345-1"]')
    seen = row.inner_text()
    for word in (
        "供暖 › 供热质量",
        "望京街道",
        "待签收",
        "加急",
        "签收",
    ):  # category, place, state, badge, stage
        assert word in seen, seen
    assert "0101" not in seen and "dispatched" not in seen
    assert "老年人" in page.locator('#inbox tr[data-ticket="BJ12345-2"] .badges').inner_text()
    shoot(page, tmp_path, "inbox")
    page.click("text=BJ12345-1")
    assert page.locator("#unit").inner_text() == "热力集团"
    assert page.locator("#post").inner_text() == "调度岗"
    assert page.locator("#person").inner_text() == "值班员甲"
    assert "待签收" in page.locator("#state").inner_text()
    page.click("#do-acknowledge")
    assert page.locator("[role=status]").inner_text().strip() == "已保存"
    assert "已签收" in page.locator("#state").inner_text()
    page.fill("input[name=note]", "已电话联系，明早上门")
    page.click("#do-contact")
    assert "已联系诉求人" in page.locator("#state").inner_text()
    page.fill("textarea[name=result]", "已更换暖气阀门，室温恢复到二十度。")
    shoot(page, tmp_path, "case")
    page.click("#do-resolve")
    assert "已办结待回访" in page.locator("h1").inner_text()
    timeline = page.locator("#timeline").inner_text()
    for word in ("派单", "签收", "联系诉求人", "办结", "已更换暖气阀门", "李娜"):
        assert word in timeline, timeline
    assert page.locator("#actions button").count() == 0  # nothing left for the worker to do


def test_a_refused_action_says_why(served, browser):
    open_case(served["system"], "BJ12345-1")
    page = log_in(browser, served["base"], "li")
    page.goto(f"{served['base']}/cases/BJ12345-1")
    page.click("#do-return")  # no reason given
    assert "a return needs a reason" in page.locator("[role=alert]").inner_text()
    assert "待签收" in page.locator("#state").inner_text()  # nothing changed


def test_a_supervisor_sees_an_escalation_appear_without_reloading(served, browser, tmp_path):
    system, clock = served["system"], served["clock"]
    open_case(system, "BJ12345-1")
    page = log_in(browser, served["base"], "zhao")
    assert page.url.endswith("/dashboard")
    assert page.locator("#escalations tbody tr").count() == 0
    clock.now = NOW + timedelta(hours=1, minutes=1)  # urgent: the acknowledge deadline passed
    sweep(system.engine, system.bus, clock)
    page.wait_for_selector("#escalations tbody tr", timeout=10_000)
    row = page.locator("#escalations tbody tr").first.inner_text()
    assert "BJ12345-1" in row and "热力集团" in row and "签收" in row, row  # the unit and stage by name
    assert "ent-heating" not in row and "acknowledge" not in row
    shoot(page, tmp_path, "dashboard")


def test_a_supervisor_dispatches_a_triaged_case_from_the_pickers_proposal(served, browser, tmp_path):
    """Dashboard → desk → the case's desk page: the rules' proposals by name and why; one click dispatches."""
    system = served["system"]
    triage(system, "BJ12345-7", "暖气片不热，物业也不管")
    page = log_in(browser, served["base"], "zhao")
    assert page.locator("#count-queued").inner_text() == "1"
    page.click("#counts >> text=待人工派单")
    assert page.url.endswith("/desk")
    row = page.locator('#queued tr:has-text("BJ12345-7")')
    seen = row.inner_text()
    assert "待人工分类队列" in seen and "朝阳区" in seen and "暖气片不热" in seen, seen
    shoot(page, tmp_path, "desk")
    row.locator("text=派单…").click()
    assert "/desk/cases/BJ12345-7" in page.url
    first = page.locator("#proposals tr.proposal").first
    assert first.get_attribute("data-unit") == "ent-heating"
    proposed = first.inner_text()
    assert "热力集团" in proposed and "调度岗" in proposed and "值班员甲" in proposed, proposed
    assert "供暖 › 供热质量" in proposed, proposed
    page.fill("#picker-q", "热力")  # the picker finds units by name too
    page.click("#picker button")
    assert "另一家热力公司" in page.locator("#found-posts").inner_text()
    shoot(page, tmp_path, "desk_case")
    page.locator("#proposals tr.proposal").first.locator("button").click()
    assert page.url.endswith("/desk")
    assert page.locator("[role=status]").inner_text().strip() == "已保存"
    assert "BJ12345-7" not in page.locator("#queued").inner_text()
    page.goto(f"{served['base']}/cases/BJ12345-7")
    assert page.locator("#unit").inner_text() == "热力集团"
    assert "待签收" in page.locator("#state").inner_text()


def test_a_supervisor_decides_a_return(served, browser):
    """The return on the dashboard with its reason in words, then decided on the desk."""
    system = served["system"]
    open_case(system, "BJ12345-1")
    system.bus.handle(c.ReturnCase("BJ12345-1", "li", code="wrong_area", reason="该地址不在本公司供热范围"))
    page = log_in(browser, served["base"], "zhao")
    returned = page.locator("#arbitration").inner_text()
    assert "该地址不在本公司供热范围" in returned and "不在本辖区" in returned and "热力集团" in returned
    page.click("#counts >> text=退单仲裁")
    assert page.url.endswith("/desk/returns")
    row = page.locator('#returns tr:has-text("BJ12345-1")')
    assert "不在本辖区" in row.inner_text() and "热力集团" in row.inner_text()
    row.locator("text=驳回退单").click()
    assert page.locator("[role=status]").inner_text().strip() == "已保存"
    assert "BJ12345-1" not in page.locator("#returns").inner_text()
    page.goto(f"{served['base']}/cases/BJ12345-1")
    assert "驳回退单" in page.locator("#timeline").inner_text()


def test_an_operator_files_a_request_and_sees_where_it_went(served, browser, tmp_path):
    """Typed: the preview says which unit would get it; filed: the page says where it went."""
    page = log_in(browser, served["base"], "hotline")
    assert page.url.endswith("/intake")
    page.fill("input[name=name]", "张女士")
    page.fill("input[name=district]", "朝阳")
    page.locator("#districts option").first.wait_for(state="attached")
    assert "朝阳区" in page.locator("#districts").inner_html()  # the gazetteer completes it
    page.fill("input[name=district]", "朝阳区")
    page.locator("#streets option").first.wait_for(state="attached")
    page.fill("input[name=street]", "望京街道")
    page.fill("textarea[name=description]", "暖气片不热，家中有老人。")
    preview = page.locator("#preview-body")
    preview.locator("dl").wait_for(timeout=5_000)  # after the typing pause, asked of the router
    seen = preview.inner_text()
    assert "热力集团" in seen and "调度岗" in seen and "供暖 › 供热质量" in seen, seen
    shoot(page, tmp_path, "intake")
    page.click("#submit-request")
    page.wait_for_selector("#decision", timeout=10_000)
    went = page.locator("#decision").inner_text()
    assert "已派至 热力集团 / 调度岗 / 值班员甲" in went, went
    shoot(page, tmp_path, "intake_status")


def test_an_admin_adds_an_entry_to_the_knowledge_base(served, browser):
    page = log_in(browser, served["base"], "admin")
    page.click("header >> text=知识库")
    assert page.url.endswith("/knowledge")
    page.click("text=新增条目")
    page.fill("input[name=id]", "heating-season")
    page.fill("input[name=question]", "北京的供暖季从哪天开始？")
    page.fill("textarea[name=answer]", "北京市供暖季一般为每年11月15日至次年3月15日，遇寒潮可提前。")
    page.fill("input[name=category]", "0101")
    page.fill("input[name=keywords]", "供暖季 开始供暖")
    page.fill("input[name=source]", "北京市城市管理委员会")
    page.click("#kb-entry button")
    page.goto(f"{served['base']}/knowledge")
    row = page.locator('#kb-entries tr[data-entry="heating-season"]')
    assert "北京的供暖季从哪天开始" in row.inner_text()
    assert "现行有效" in row.inner_text()  # valid today, in words


def test_a_worker_cannot_open_another_units_case(served, browser):
    open_case(served["system"], "BJ12345-1")
    page = log_in(browser, served["base"], "zhou")
    page.goto(f"{served['base']}/cases/BJ12345-1")
    assert "无权查看" in page.locator("h1").inner_text()
    assert "BJ12345-1" not in log_in(browser, served["base"], "zhou").content()


def test_the_pages_scripts_run_under_the_content_security_policy(served, browser):
    """The scripts are files of ours (`script-src 'self'`): the browser runs them and reports no violation."""
    open_case(served["system"], "BJ12345-1")
    errors: list[str] = []
    visits = (("li", "/inbox"), ("li", "/cases/BJ12345-1"), ("zhao", "/dashboard"), ("hotline", "/intake"))
    for username, path in visits:
        page = log_in(browser, served["base"], username)
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(f"{served['base']}{path}")
        page.wait_for_timeout(500)  # the dashboard's event stream never lets the network go idle
        if path == "/inbox":  # the countdown is written by /static/inbox.js
            assert page.locator(".countdown").first.inner_text().strip()
    assert not [text for text in errors if "Content Security Policy" in text], errors
