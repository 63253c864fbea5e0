"""Each page checked with axe-core (the accessibility engine, run in Chromium through Playwright) as its
user sees it, with content: no violation of impact "serious" or "critical" (missing labels, contrast,
landmarks, the page's language, table headers, images without a text alternative...). Minor and moderate
findings are printed, not failed on. Every rule of axe-core runs; none is disabled.

axe-core comes from the pinned dev dependency `axe-playwright-python` (it bundles axe.min.js, MPL-2.0, used
unmodified)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from consumers.sweeper import sweep
from dispatcher.adapters.knowledge import KnowledgeStore
from dispatcher.domain import commands as c
from dispatcher.domain.knowledge import KnowledgeEntry
from tests.e2e.test_browser import (
    CHROMIUM,
    NOW,
    log_in,
    open_case,
    serving,
    small_site,
    triage,
)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
FAILING = ("serious", "critical")

PERMIT = KnowledgeEntry(
    "residence-permit",
    "如何办理北京市居住证？",
    "在京居住半年以上，有合法稳定就业、住所或连续就读的，可到居住地派出所申领居住证。",
    "020102",
    ("居住证", "暂住证"),
    "北京市实施《居住证暂行条例》办法",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One app for all the pages, with something on each: cases in the inbox (badges), a return, an
    extension request, a case waiting at the desk, an escalation, a knowledge base entry."""
    system, clock = small_site(tmp_path_factory.mktemp("a11y"))
    clock.now = NOW - timedelta(hours=2)  # urgent: to be signed for within the hour, long overdue by NOW
    open_case(system, "BJ12345-5", "暖气不热，已经三天了。")
    clock.now = NOW - timedelta(minutes=50)  # its last quarter: amber at NOW
    open_case(system, "BJ12345-6", "暖气片只有一半是热的。")
    clock.now = NOW
    sweep(system.engine, system.bus, clock)  # BJ12345-5's escalation
    open_case(system, "BJ12345-1")
    open_case(system, "BJ12345-2", "小区供暖管道漏水，楼道积水。", groups=["elderly"])
    open_case(system, "BJ12345-3", "暖气不热，老人在家很冷。")
    system.bus.handle(c.ReturnCase("BJ12345-3", "li", code="wrong_area", reason="该地址不在本公司供热范围"))
    system.bus.handle(c.AcknowledgeCase("BJ12345-2", "li"))
    system.bus.handle(
        c.RequestExtension("BJ12345-2", "li", until=NOW + timedelta(days=3), reason="需更换主管道，等待配件")
    )
    open_case(system, "BJ12345-4", "小区燃气管道漏气，味道很大！", urgency="emergency")
    # a supervision order (督办单): on the dashboard's panel and the case pages, with its forms
    system.bus.handle(
        c.IssueSupervisionOrder("BJ12345-2", "zhao", ask="请说明管道漏水的处理进度", within="4 hours")
    )
    system.bus.handle(c.IssueSupervisionOrder("BJ12345-1", "zhao", ask="请说明暖气不热的原因"))
    triage(system, "BJ12345-7", "暖气片不热，物业也不管")
    knowledge = KnowledgeStore(system.engine, system.clock)
    knowledge.add(PERMIT, "admin")
    knowledge.add(replace(PERMIT, id="old-permit", valid_to=date(2020, 12, 31)), "admin")  # out of date
    with serving(system) as base:
        yield {"base": base, "system": system}
    system.engine.dispose()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    from axe_playwright_python.sync_playwright import Axe

    return list(Axe().run(page).response["violations"])


def described(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(
                f"    {', '.join(map(str, node['target']))}: {node['failureSummary'].splitlines()[-1]}"
            )
    return "\n".join(lines)


def login_page(browser: Any, base: str) -> Any:
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.set_default_timeout(10_000)
    page.goto(f"{base}/login")
    return page


def inbox(browser: Any, base: str) -> Any:
    page = log_in(browser, base, "li")
    page.locator("#inbox .countdown").first.wait_for()
    assert (
        page.locator("#inbox tr.breach").count() and page.locator("#inbox tr.warning").count()
    )  # red, amber
    assert page.locator("#inbox .badge.emergency").count() and page.locator("#inbox .badge.care").count()
    return page


def case(browser: Any, base: str) -> Any:
    page = log_in(browser, base, "li")
    page.goto(f"{base}/cases/BJ12345-1")
    return page


def case_for_a_supervisor(browser: Any, base: str) -> Any:
    """A case with an extension request, as a supervisor sees it (no actions; the requester's reveal)."""
    page = log_in(browser, base, "zhao")
    page.goto(f"{base}/cases/BJ12345-2")
    return page


def dashboard(browser: Any, base: str) -> Any:
    page = log_in(browser, base, "zhao")
    for details in page.locator("details").all():  # the charts' tables too
        details.locator("summary").click()
    for panel in ("#emergencies", "#escalations tbody tr", "#arbitration form", "#extensions form"):
        assert page.locator(panel).count(), panel
    return page


def desk(browser: Any, base: str) -> Any:
    page = log_in(browser, base, "zhao")
    page.goto(f"{base}/desk")
    return page


def desk_returns(browser: Any, base: str) -> Any:
    page = log_in(browser, base, "zhao")
    page.goto(f"{base}/desk/returns")
    return page


def desk_case(browser: Any, base: str) -> Any:
    page = log_in(browser, base, "zhao")
    page.goto(f"{base}/desk/cases/BJ12345-7?q=热力")  # the proposals and the picker's finds
    return page


def desk_case_returned(browser: Any, base: str) -> Any:
    page = log_in(browser, base, "zhao")
    page.goto(f"{base}/desk/cases/BJ12345-3")  # a return: its reason, redispatch or reject
    return page


def intake(browser: Any, base: str) -> Any:
    """The operator's form with the preview and the 知识库 panel filled in by their scripts."""
    page = log_in(browser, base, "hotline")
    page.select_option("select[name=kind]", "consultation")
    page.fill("input[name=district]", "朝阳区")
    page.fill("textarea[name=description]", "暖气片不热，想问问暂住证怎么办")
    page.locator("#preview-body dl").wait_for(timeout=5_000)
    page.locator("#knowledge-matches li").first.wait_for(timeout=5_000)
    return page


def intake_for_a_supervisor(browser: Any, base: str) -> Any:
    """The supervisor's view adds the caller's history."""
    page = log_in(browser, base, "zhao")
    page.goto(f"{base}/intake")
    page.fill("input[name=phone]", "13800001234")
    page.fill("textarea[name=description]", "暖气片不热，物业也不管")  # left to triage: the preview says so
    page.locator("#preview-body .warning").wait_for(timeout=5_000)
    page.locator("#caller-body p, #caller-body table").first.wait_for(timeout=5_000)
    return page


def intake_status(browser: Any, base: str) -> Any:
    page = log_in(browser, base, "hotline")
    page.fill("input[name=district]", "朝阳区")
    page.fill("input[name=category]", "0101")
    page.fill("textarea[name=description]", "暖气片不热，家中有老人。")
    page.click("#submit-request")
    page.wait_for_selector("#decision", timeout=10_000)
    return page


def search(browser: Any, base: str) -> Any:
    page = log_in(browser, base, "zhao")
    page.select_option("select[name=by]", "street")
    page.fill("input[name=q]", "望京")
    page.locator("form[action='/dashboard/search'] button").first.click()
    page.locator("#found").wait_for()
    return page


def knowledge(browser: Any, base: str) -> Any:
    page = log_in(browser, base, "admin")
    page.goto(f"{base}/knowledge?retired=1")  # the out-of-date entry too
    assert page.locator('#kb-entries tr[data-entry="old-permit"] .warning').count()
    return page


def knowledge_entry(browser: Any, base: str) -> Any:
    page = log_in(browser, base, "admin")
    page.goto(f"{base}/knowledge/residence-permit")
    return page


PAGES: dict[str, Callable[[Any, str], Any]] = {
    "login": login_page,
    "inbox": inbox,
    "case": case,
    "case (supervisor)": case_for_a_supervisor,
    "dashboard": dashboard,
    "desk": desk,
    "desk returns": desk_returns,
    "desk case": desk_case,
    "desk case (return)": desk_case_returned,
    "intake": intake,
    "intake (supervisor)": intake_for_a_supervisor,
    "intake status": intake_status,
    "search": search,
    "knowledge": knowledge,
    "knowledge entry": knowledge_entry,
}


@pytest.mark.parametrize("name", list(PAGES))
def test_the_page_has_no_serious_accessibility_violation(site, chromium, name):
    page = PAGES[name](chromium, site["base"])
    try:
        violations = axe_violations(page)
    finally:
        page.close()
    failing = [v for v in violations if v["impact"] in FAILING]
    if violations:
        print(f"\n{name}:\n{described(violations)}")
    assert not failing, f"{name} ({page.url}):\n{described(failing)}"
