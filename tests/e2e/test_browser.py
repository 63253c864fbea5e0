"""The pages in a real browser (Debian's Chromium driven by Playwright) against the app served on
127.0.0.1: a worker handles a case, a supervisor sees an escalation arrive live and decides a return, an
operator files a request and sees where it went, a worker is kept out of another unit's case.

Screenshots go to the test's folder; with SCREENSHOT_DIR=<folder> they are written there too (the ones
in docs/screenshots/ come from such a run)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from consumers.intake import handle_intake
from consumers.sweeper import sweep
from dispatcher.adapters.database import upgrade
from dispatcher.bootstrap import System, bootstrap
from dispatcher.contract.events import ComplaintReceived
from dispatcher.domain import commands as c
from dispatcher.settings import Settings
from jiesu.web.app import create_app
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import write_catalog
from tests.support.clock import NOW, Clock
from tests.support.logins import PASSWORD, add_people

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


class AppliedIntake:
    """The intake as the worker would apply it: each request through `handle_intake`, a moment later."""

    def __init__(self, system: System) -> None:
        self.system = system

    def publish(self, complaint: ComplaintReceived) -> None:
        def later() -> None:
            time.sleep(0.5)
            handle_intake(intake_record(complaint), self.system.bus)

        threading.Thread(target=later, daemon=True).start()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, Any]]:
    url = f"sqlite:///{tmp_path / 'jiesu.db'}"
    upgrade(url)
    clock = Clock()
    system = bootstrap(
        Settings(database_url=url, catalog_dir=write_catalog(tmp_path / "catalog")), clock=clock
    )
    add_people(system, "li", "zhou", "zhao", "hotline")
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
    yield {"base": f"http://127.0.0.1:{port}", "system": system, "clock": clock}
    server.should_exit = True
    thread.join(timeout=10)
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
    system: System, ticket: str, description: str = "家里暖气不热，室温只有十五度，请尽快派人检修。"
) -> str:
    complaint = make_complaint(ticket_id=ticket, category="0101", description=description)
    handle_intake(intake_record(complaint), system.bus)
    return ticket


def test_a_worker_acknowledges_records_contact_and_resolves(served, browser, tmp_path):
    open_case(served["system"], "BJ12345-1")
    open_case(served["system"], "BJ12345-2", "小区供暖管道漏水，楼道积水。")
    page = log_in(browser, served["base"], "li")
    assert page.url.endswith("/inbox")
    shoot(page, tmp_path, "inbox")
    page.click("text=BJ12345-1")
    page.click("#do-acknowledge")
    assert page.locator("[role=status]").inner_text().strip() == "已保存"
    page.fill("input[name=note]", "已电话联系，明早上门")
    page.click("#do-contact")
    page.fill("textarea[name=result]", "已更换暖气阀门，室温恢复到二十度。")
    shoot(page, tmp_path, "case")
    page.click("#do-resolve")
    assert "resolved" in page.locator("h1").inner_text()
    assert "已更换暖气阀门" in page.locator("#timeline").inner_text()


def test_a_refused_action_says_why(served, browser):
    open_case(served["system"], "BJ12345-1")
    page = log_in(browser, served["base"], "li")
    page.goto(f"{served['base']}/cases/BJ12345-1")
    page.click("#do-return")  # no reason given
    assert "a return needs a reason" in page.locator("[role=alert]").inner_text()


def test_a_supervisor_sees_an_escalation_appear_without_reloading(served, browser, tmp_path):
    system, clock = served["system"], served["clock"]
    open_case(system, "BJ12345-1")
    page = log_in(browser, served["base"], "zhao")
    assert page.url.endswith("/dashboard")
    assert page.locator("#escalations tbody tr").count() == 0
    clock.now = NOW + timedelta(hours=1, minutes=1)  # urgent: the acknowledge deadline passed
    sweep(system.engine, system.bus, clock)
    page.wait_for_selector("#escalations tbody tr", timeout=10_000)
    assert "BJ12345-1" in page.locator("#escalations").inner_text()
    shoot(page, tmp_path, "dashboard")


def test_a_supervisor_decides_a_return(served, browser):
    system = served["system"]
    open_case(system, "BJ12345-1")
    system.bus.handle(c.ReturnCase("BJ12345-1", "li", code="wrong_area", reason="该地址不在本公司供热范围"))
    page = log_in(browser, served["base"], "zhao")
    assert "该地址不在本公司供热范围" in page.locator("#arbitration").inner_text()
    page.click("#arbitration >> text=驳回退单")
    assert page.locator("[role=status]").inner_text().strip() == "已保存"
    assert "BJ12345-1" not in page.locator("#arbitration").inner_text()


def test_an_operator_files_a_request_and_sees_where_it_went(served, browser):
    page = log_in(browser, served["base"], "hotline")
    assert page.url.endswith("/intake")
    page.fill("input[name=district]", "朝阳区")
    page.fill("input[name=category]", "0101")
    page.fill("textarea[name=description]", "暖气片不热，家中有老人。")
    page.click("#submit-request")
    page.wait_for_selector("#decision", timeout=10_000)
    assert "ent-heating" in page.locator("#decision").inner_text()


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
