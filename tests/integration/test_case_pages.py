"""The worker's pages in words, on SQLite and PostgreSQL: the case page and the inbox name units, posts,
people, categories (with their path) and places instead of ids, in Chinese and English; states, stages,
return reasons and the timeline are words; a date of another year shows its year; the case page offers a
viewer only the actions they may take in the case's state; the inbox's badges."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from consumers.intake import handle_intake
from dispatcher.adapters.people import PeopleStore
from dispatcher.bootstrap import System, bootstrap
from dispatcher.domain import commands as c
from dispatcher.domain.access import Principal, Role
from dispatcher.settings import Settings
from jiesu.web.app import create_app
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import CATEGORIES, HEATING_RULE, UNITS, write_catalog

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
BEIJING = timezone(timedelta(hours=8))
PASSWORD = "correct horse battery"
WANGJING = "street-110105010"  # 望京街道 in the test gazetteer (tests/catalogs.py)
NOISE = {
    "code": "03",
    "name": "噪声",
    "handling": "territorial",
    "children": [
        {"code": "0301", "name": "建筑施工噪声", "children": [{"code": "030101", "name": "夜间施工噪声"}]},
        {"code": "0302", "name": "社会生活噪声", "children": [{"code": "030202", "name": "邻里噪声"}]},
    ],
}
ENVIRONMENT = {
    "id": "dept-env",
    "name": "区生态环境局",
    "kind": "department",
    "posts": [{"id": "desk", "name": "环境执法岗"}],
}
RULES = [
    HEATING_RULE,
    {  # construction noise: the street leads, the environment bureau co-handles
        "id": "construction-noise",
        "priority": 20,
        "when": {"category": "0301"},
        "then": {"unit": "street_of_location", "co_handlers": ["dept-env"]},
    },
    {
        "id": "noise",
        "priority": 30,
        "description": "生活噪声派属地街道",
        "when": {"category": "03"},
        "then": {"unit": "street_of_location"},
    },
]
PLACE = {"district": "朝阳区", "street": "望京", "community": "花家地北里社区", "address": "3号楼"}


@pytest.fixture
def system(database_url: str, tmp_path: Path) -> Iterator[System]:
    catalog = write_catalog(
        tmp_path / "catalog",
        RULES,
        categories_yaml={"categories": [*CATEGORIES["categories"], NOISE]},
        units_yaml={**UNITS, "units": [*UNITS["units"], ENVIRONMENT]},  # type: ignore[dict-item]
    )
    system = bootstrap(Settings(database_url=database_url, catalog_dir=catalog), clock=lambda: NOW)
    people = PeopleStore(system.engine, system.clock)
    for principal, name in (
        (Principal("wang", Role.WORKER, unit=WANGJING, post="desk"), "王芳"),
        (Principal("env", Role.WORKER, unit="dept-env"), "李强"),
        (Principal("zhao", Role.SUPERVISOR, scope="city"), "赵督办"),
    ):
        people.add(principal, name, PASSWORD)
    yield system
    system.engine.dispose()


@pytest.fixture
def app(system: System):  # type: ignore[no-untyped-def]
    return create_app(system.settings, system)


def logged_in(app: Any, username: str, language: str = "zh") -> TestClient:
    client = TestClient(app, base_url="http://127.0.0.1")
    csrf = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"username": username, "password": PASSWORD, "csrf": csrf})
    assert answer.status_code == 200 and "jiesu_session" in client.cookies, answer.text
    client.cookies.set("jiesu_lang", language, domain="127.0.0.1", path="/")
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found
    return found.group(1)


def text_of(html: str) -> str:
    """What a person reads: the page without its tags and attributes."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def file(system: System, ticket: str, category: str = "030202", **fields: Any) -> str:
    values: dict[str, Any] = {
        "location": PLACE,
        "urgency": "general",
        "description": "楼上邻居每天半夜拖动家具",
    }
    handle_intake(
        intake_record(make_complaint(ticket_id=ticket, category=category, **{**values, **fields})), system.bus
    )
    return ticket


def section(html: str, element_id: str) -> str:
    """The words of the element with this id (up to its closing tag: these hold no element of their kind)."""
    found = re.search(rf'<(\w+)[^>]*\bid="{element_id}"', html)
    assert found, element_id
    end = html.index(f"</{found.group(1)}>", found.end())
    return text_of(html[found.start() : end])


def actions_on(client: TestClient, ticket: str) -> set[str]:
    return set(re.findall(r'id="do-([a-z_]+)"', client.get(f"/cases/{ticket}").text))


def test_the_case_page_and_the_inbox_name_what_they_show_in_chinese_and_english(app, system):
    last_year = datetime(2025, 12, 30, 21, 5, tzinfo=BEIJING)
    ticket = file(system, "BJ-NAMES", received_at=last_year)
    zh = logged_in(app, "wang")
    page = zh.get(f"/cases/{ticket}").text
    shown = text_of(page)
    assert "望京街道" in section(page, "unit") and "接诉即办岗" in section(page, "post")
    assert "望京街道值班员" in section(page, "person")
    assert "噪声 › 社会生活噪声 › 邻里噪声" in section(page, "category")
    assert "朝阳区 望京街道 花家地北里社区 3号楼" in section(
        page, "location"
    )  # 望京 as the gazetteer names it
    assert "待签收" in section(page, "state") and "一般" in section(page, "state")
    deadlines = section(page, "deadlines")
    assert "签收" in deadlines and "办结反馈" in deadlines and "未到期" in deadlines
    assert "2025-12-30 21:05" in shown  # received last year: with its year
    assert re.search(r"\b11-2[67] \d\d:\d\d", deadlines)  # this year's deadlines: without
    timeline = text_of(page[page.index('id="timeline"') :])
    assert "系统" in timeline and "派单" in timeline and "派至 望京街道 / 接诉即办岗" in timeline
    assert "依据：生活噪声派属地街道" in timeline and "noise" not in timeline  # the rule's words, not its id
    for identifier in (WANGJING, "030202", "desk-duty", "dispatched", "acknowledge", "pending"):
        assert identifier not in shown, identifier

    inbox = text_of(zh.get("/inbox").text)
    assert ticket in inbox and "噪声 › 社会生活噪声 › 邻里噪声" in inbox and "朝阳区 望京街道" in inbox
    assert "待签收" in inbox and "签收" in inbox
    assert WANGJING not in inbox and "030202" not in inbox

    en = logged_in(app, "wang", "en")
    page = en.get(f"/cases/{ticket}").text
    shown = text_of(page)
    assert "望京街道" in section(page, "unit") and "望京街道值班员" in section(page, "person")
    assert "噪声 › 社会生活噪声 › 邻里噪声" in section(page, "category")
    assert "Dispatched, not signed for" in section(page, "state") and "General" in section(page, "state")
    assert "Acknowledge" in shown and "Reply" in shown and "Pending" in shown
    assert "to 望京街道 / 接诉即办岗" in shown and "System" in shown
    assert WANGJING not in shown and "030202" not in shown and "待签收" not in shown
    inbox = text_of(en.get("/inbox").text)
    assert "噪声 › 社会生活噪声 › 邻里噪声" in inbox and "Dispatched, not signed for" in inbox


def test_a_return_and_who_acted_are_said_in_words(app, system):
    ticket = file(system, "BJ-RET")
    wang = logged_in(app, "wang")
    returned = wang.post(
        f"/cases/{ticket}/act/return",
        data={
            "code": "not_our_duty",
            "reason": "系商户经营噪声",
            "csrf": csrf_of(wang.get(f"/cases/{ticket}").text),
        },
    )
    assert "已保存" in returned.text
    page = logged_in(app, "zhao").get(f"/cases/{ticket}").text
    shown = text_of(page)
    assert "退单待审核" in section(page, "state")
    assert "不属于本单位职责：系商户经营噪声" in section(page, "pending-return")
    assert "王芳" in section(page, "pending-return")  # the account's name, not its username
    timeline = text_of(page[page.index('id="timeline"') :])
    assert "退单" in timeline and "不属于本单位职责：系商户经营噪声" in timeline and "王芳" in timeline
    assert "not_our_duty" not in shown and "returned" not in shown
    english = text_of(logged_in(app, "zhao", "en").get(f"/cases/{ticket}").text)
    assert "Returned, awaiting arbitration" in english and "Not our duty: 系商户经营噪声" in english


def test_a_worker_sees_only_the_actions_they_may_take_in_the_cases_state(app, system):
    ticket = file(system, "BJ-ACT", category="030101")  # construction noise: the street leads, dept-env helps
    wang, env, zhao = logged_in(app, "wang"), logged_in(app, "env"), logged_in(app, "zhao")
    assert actions_on(wang, ticket) == {"acknowledge", "return"}
    assert actions_on(env, ticket) == {"co_acknowledge"}  # the co-handler: its own part only
    assert actions_on(zhao, ticket) == set()  # a supervisor handles nothing at a unit
    assert "当前状态下没有您可办理的事项" in zhao.get(f"/cases/{ticket}").text

    system.bus.handle(c.AcknowledgeCase(ticket, "wang"))
    assert actions_on(wang, ticket) == {"contact", "return", "extension", "pause", "whistle"}
    system.bus.handle(c.RecordContact(ticket, "wang", "已电话联系"))
    assert actions_on(wang, ticket) == {"contact", "extension", "resolve", "pause", "whistle"}

    done = env.post(
        f"/cases/{ticket}/act/co_acknowledge", data={"csrf": csrf_of(env.get(f"/cases/{ticket}").text)}
    )
    assert "已保存" in done.text
    assert actions_on(env, ticket) == {"co_report"}
    reported = env.post(
        f"/cases/{ticket}/act/co_report",
        data={"report": "已责令工地停工", "csrf": csrf_of(env.get(f"/cases/{ticket}").text)},
    )
    assert "已保存" in reported.text
    timeline = text_of(wang.get(f"/cases/{ticket}").text.split('id="timeline"')[1])
    assert (
        "协办签收" in timeline
        and "区生态环境局" in timeline
        and "协办反馈" in timeline
        and "李强" in timeline
    )

    system.bus.handle(c.ResolveCase(ticket, "wang", result="已协调停工"))
    assert actions_on(wang, ticket) == set() and actions_on(env, ticket) == set()
    # a form posted for an action the viewer may not take is still refused, and the refusal audited
    refused = env.post(
        f"/cases/{ticket}/act/resolve", data={"csrf": csrf_of(env.get(f"/cases/{ticket}").text)}
    )
    assert refused.status_code == 403


def badges_of(html: str, ticket: str) -> str:
    """The words of the inbox row's badges cell."""
    row = html[html.index(f'data-ticket="{ticket}"') :]
    cell = row[: row.index("</tr>")].split('class="badges"', 1)[1]
    return text_of(cell[cell.index(">") + 1 : cell.index("</td>")])


def test_the_inbox_badges_an_emergency_an_elderly_requester_a_repeat_a_reopened_and_a_co_handled_case(
    app, system
):
    file(system, "BJ-EMERGENCY", urgency="emergency", description="邻居家传出呼救声")
    file(system, "BJ-ELDERLY", requester={"name": "刘大爷", "phone": "13700001111", "groups": ["elderly"]})
    caller = {"name": "陈女士", "phone": "13900002222"}
    file(system, "BJ-FIRST", requester=caller)
    file(system, "BJ-AGAIN", requester=caller)  # same phone, community and category: a repeat, linked
    file(system, "BJ-REOPENED")
    for command in (
        c.AcknowledgeCase("BJ-REOPENED", "wang"),
        c.RecordContact("BJ-REOPENED", "wang"),
        c.ResolveCase("BJ-REOPENED", "wang", result="已劝导"),
        c.RecordCallback(
            "BJ-REOPENED", "center", recorded_at=NOW, contacted=True, satisfaction="unsatisfied"
        ),
    ):
        system.bus.handle(command)
    file(system, "BJ-JOINT", category="030101")
    file(system, "BJ-PLAIN")

    inbox = logged_in(app, "wang").get("/inbox").text
    assert "BJ-AGAIN" not in inbox  # linked to BJ-FIRST, not handled on its own
    assert "紧急" in badges_of(inbox, "BJ-EMERGENCY")
    assert "老年人" in badges_of(inbox, "BJ-ELDERLY")
    assert "重复诉求×1" in badges_of(inbox, "BJ-FIRST")
    assert "重办·第2轮" in badges_of(inbox, "BJ-REOPENED")
    assert "多部门协办" in badges_of(inbox, "BJ-JOINT")
    assert badges_of(inbox, "BJ-PLAIN").strip() == ""
    assert "本单位协办" in badges_of(logged_in(app, "env").get("/inbox").text, "BJ-JOINT")
    english = logged_in(app, "wang", "en").get("/inbox").text
    assert "Emergency" in badges_of(english, "BJ-EMERGENCY") and "Elderly" in badges_of(english, "BJ-ELDERLY")
    assert "Repeat ×1" in badges_of(english, "BJ-FIRST") and "Reopened, round 2" in badges_of(
        english, "BJ-REOPENED"
    )
    assert "Co-handled" in badges_of(english, "BJ-JOINT")
    # the case page shows the same badges, and the countdown is in the page before any script runs
    case = logged_in(app, "wang").get("/cases/BJ-FIRST").text
    assert "重复诉求×1" in case
    assert re.search(r'class="countdown"[^>]*>(剩余|已超时) \d+小时\d+分<', inbox)


def test_the_lead_whistles_from_the_case_page_and_a_supervisor_waives_there(app, system):
    ticket = file(system, "BJ-WHISTLE")  # 邻里噪声: 望京街道 leads alone
    wang, env, zhao = logged_in(app, "wang"), logged_in(app, "env"), logged_in(app, "zhao")
    assert "whistle" not in actions_on(wang, ticket)  # not before the street signs for it
    system.bus.handle(c.AcknowledgeCase(ticket, "wang"))
    page = wang.get(f"/cases/{ticket}").text
    assert '<option value="dept-env">区生态环境局</option>' in page
    assert 'value="street-110105010"' not in page.split('id="whistle-units"')[1].split("</datalist>")[0]
    called = wang.post(
        f"/cases/{ticket}/act/whistle",
        data={"unit": "dept-env", "ask": "请核查夜间施工许可", "csrf": csrf_of(page)},
    )
    assert "已保存" in called.text
    table = section(env.get(f"/cases/{ticket}").text, "co-handling")
    assert "区生态环境局" in table and "吹哨报到" in table and "请核查夜间施工许可" in table
    assert "11-26 12:00" in table and "12-02 00:00" in table and "未到期" in table  # 2 working h, 3 days
    assert actions_on(env, ticket) == {"co_acknowledge"}
    assert "免于反馈" not in section(wang.get(f"/cases/{ticket}").text, "co-handling")  # a supervisor's

    again = wang.post(
        f"/cases/{ticket}/act/whistle",
        data={"unit": "dept-env", "ask": "再次请求", "csrf": csrf_of(wang.get(f"/cases/{ticket}").text)},
    )
    assert "already co-handles the case" in again.text
    page = zhao.get(f"/cases/{ticket}").text
    assert "免于反馈" in section(page, "co-handling")
    waived = zhao.post(
        f"/cases/{ticket}/act/waive", data={"unit": "dept-env", "reason": "已电话答复", "csrf": csrf_of(page)}
    )
    assert "已保存" in waived.text
    table = section(wang.get(f"/cases/{ticket}").text, "co-handling")
    assert "已免于反馈：已电话答复" in table and "赵督办" in table
    timeline = text_of(wang.get(f"/cases/{ticket}").text.split('id="timeline"')[1])
    assert "吹哨报到" in timeline and "免于协办反馈" in timeline
