"""The README's screenshots, from a running `jiesu demo`: a worker's inbox, a case page, the supervisor's
dashboard, dispatch desk and a waiting case's proposals, the operator's intake form with where a request
would go and the 知识库's answers, as the demo's logins see them (Debian's Chromium driven by Playwright, as
in tests/e2e/test_browser.py; fonts-noto-cjk for the Chinese).

    .venv/bin/jiesu demo            # in one terminal; wait a minute or two for the live day
    .venv/bin/python -m bench.demo_screenshots --out docs/screenshots
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

from jiesu.cli.demo import DEMO_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def log_in(browser: Any, base: str, username: str, height: int) -> Any:
    page = browser.new_page(
        viewport={"width": 1100, "height": height}, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    page.set_default_timeout(20_000)
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the demo's web address")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--worker", default="heating", help="the worker login whose inbox is shown")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = log_in(browser, args.url, args.worker, 800)
        page.goto(f"{args.url}/inbox")
        page.screenshot(path=str(args.out / "inbox.png"))
        rows = page.locator("tr", has_text="已联系诉求人")  # a case in hand: its page offers the actions
        if rows.count() == 0:
            rows = page.locator("tr")
        link = rows.locator("a[href^='/cases/']").first
        page.goto(f"{args.url}{link.get_attribute('href')}")
        page.screenshot(path=str(args.out / "case.png"), full_page=True)
        page = log_in(browser, args.url, "center", 1400)
        page.goto(f"{args.url}/dashboard")
        page.screenshot(path=str(args.out / "dashboard.png"))
        page.set_viewport_size(
            {"width": 1100, "height": 700}
        )  # the desk and a case on it: as long as they are
        page.goto(f"{args.url}/desk")
        page.screenshot(path=str(args.out / "desk.png"), full_page=True)
        waiting = page.locator("#queued a[href^='/desk/cases/']").first
        page.goto(f"{args.url}{waiting.get_attribute('href')}")
        page.screenshot(path=str(args.out / "desk_case.png"), full_page=True)
        page = log_in(browser, args.url, "hotline", 1000)
        page.fill("input[name=name]", "孙女士")
        page.fill("input[name=district]", "朝阳区")
        page.fill("input[name=street]", "望京街道")
        page.fill(
            "textarea[name=description]", "家里暖气不热，室温只有十五度，老人孩子受不了，请尽快派人检修。"
        )
        page.locator("#preview-body dl").wait_for()  # where it would go, after the typing pause
        page.locator("#knowledge-matches li").first.wait_for()  # and the 知识库's answers
        page.screenshot(path=str(args.out / "intake.png"), full_page=True)
        browser.close()
    print(f"inbox, case, dashboard, desk, desk_case and intake .png written to {args.out}")


if __name__ == "__main__":
    main()
