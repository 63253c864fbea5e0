"""The intake page's 知识库 panel in a real browser: as the operator types the caller's words the answer
appears; for a consultation the operator chooses it and answers directly (直接办结), and the page says the
request was closed at intake. For a complaint no answer can be chosen. The scripts run under the CSP."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dispatcher.adapters import tables as t
from dispatcher.adapters.knowledge import KnowledgeStore
from dispatcher.domain.knowledge import KnowledgeEntry
from tests.e2e.test_browser import browser, log_in, served  # noqa: F401  (the fixtures)

PERMIT = KnowledgeEntry(
    "residence-permit",
    "如何办理北京市居住证？",
    "在京居住半年以上，有合法稳定就业、住所或连续就读的，可到居住地派出所申领居住证。",
    "020102",
    ("居住证", "暂住证"),
    "北京市实施《居住证暂行条例》办法",
)


def with_knowledge(served: dict[str, Any]) -> None:  # noqa: F811
    system = served["system"]
    KnowledgeStore(system.engine, system.clock).add(PERMIT, "root")


def test_an_operator_answers_a_consultation_from_the_knowledge_base(served, browser):  # noqa: F811
    with_knowledge(served)
    page = log_in(browser, served["base"], "hotline")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.select_option("select[name=kind]", "consultation")
    page.fill("input[name=district]", "朝阳区")
    page.fill("textarea[name=description]", "我想问一下外地人在北京那个暂住证咋办啊")
    match = page.locator('#knowledge-matches li[data-entry="residence-permit"]')
    match.wait_for(timeout=10_000)
    assert "派出所申领居住证" in match.inner_text()
    assert page.locator("#knowledge-direct").is_hidden()  # nothing chosen yet
    match.locator("button.choose").click()
    page.locator("#knowledge-direct").wait_for(state="visible")
    assert "如何办理北京市居住证" in page.locator("#knowledge-chosen").inner_text()
    page.click("#answer-directly")
    page.wait_for_selector("#decision", timeout=10_000)
    assert "已直接办结" in page.locator("#decision").inner_text()
    ticket = page.url.rsplit("/", 1)[-1]
    with served["system"].engine.connect() as connection:
        row = connection.execute(
            select(t.cases.c.state, t.cases.c.knowledge_entry).where(t.cases.c.ticket_id == ticket)
        ).one()
    assert tuple(row) == ("closed", "residence-permit")
    assert not [text for text in errors if "Content Security Policy" in text], errors


def test_for_a_complaint_no_answer_can_be_chosen_and_enter_still_files_it(served, browser):  # noqa: F811
    with_knowledge(served)
    page = log_in(browser, served["base"], "hotline")
    page.select_option("select[name=kind]", "complaint")
    page.fill("textarea[name=description]", "外地人办暂住证，派出所不给办")
    match = page.locator('#knowledge-matches li[data-entry="residence-permit"]')
    match.wait_for(timeout=10_000)
    assert match.locator("button").count() == 0 and "只有咨询类诉求可以直接办结" in match.inner_text()
    page.select_option("select[name=kind]", "consultation")  # changing the kind offers the answer
    match.locator("button.choose").wait_for(timeout=5_000)
    match.locator("button.choose").click()
    page.select_option("select[name=kind]", "complaint")  # and back: the direct close is withdrawn
    assert page.locator("#knowledge-direct").is_hidden()
    page.press("input[name=category]", "Enter")  # implicit submission: the form's own submit button
    page.wait_for_selector("#decision", timeout=10_000)
    assert "已直接办结" not in page.locator("#decision").inner_text()
