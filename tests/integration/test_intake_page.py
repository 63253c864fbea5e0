"""The operator's workstation (/intake) over HTTP on SQLite and PostgreSQL: where a request would go as it is
typed (the worker's router, nothing filed), the gazetteer's completion, the caller's requests by phone with
the repeat a new one would be linked to (only for who may see phones), every field of the form carried into
the published request, and bad input refused in words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from consumers.intake import handle_intake
from dispatcher.adapters import tables as t
from dispatcher.adapters.people import PeopleStore
from dispatcher.bootstrap import System, bootstrap
from dispatcher.domain.access import Principal, Role
from dispatcher.settings import Settings
from jiesu.web.app import create_app
from tests.integration.test_pages import NOW, PASSWORD, FakeIntake, csrf_of, logged_in, open_case
from tests.support.builders import intake_record
from tests.support.catalogs import write_catalog

PHONE = "13812345678"  # open_case's requester
STAFF = [
    Principal("li", Role.WORKER, unit="ent-heating"),
    Principal("zhao", Role.SUPERVISOR, scope="city"),
    Principal("haidian", Role.SUPERVISOR, scope="110108"),
    Principal("hotline", Role.INTAKE),
    Principal("root", Role.ADMIN),
]
HEATING = {"description": "家里暖气不热，室温只有十五度", "district": "朝阳区", "street": "望京街道"}
AT_THE_CASE = {"district": "朝阳区", "street": "望京街道", "community": "花家地北里社区"}


@pytest.fixture
def system(database_url: str, tmp_path: Path) -> Iterator[System]:
    catalog = write_catalog(tmp_path / "catalog")
    system = bootstrap(Settings(database_url=database_url, catalog_dir=catalog), clock=lambda: NOW)
    people = PeopleStore(system.engine, system.clock)
    for principal in STAFF:
        people.add(principal, principal.username, PASSWORD)
    yield system
    system.engine.dispose()


@pytest.fixture
def app(system: System):  # type: ignore[no-untyped-def]
    app = create_app(system.settings, system)
    app.state.intake = FakeIntake()
    return app


@pytest.fixture
def api(app, system: System):  # type: ignore[no-untyped-def]
    """`api(username)`: a client sending that person's bearer token."""
    people = PeopleStore(system.engine, system.clock)

    def as_(username: str) -> TestClient:
        token = people.issue_token(username, "tests")[1]
        return TestClient(app, headers={"Authorization": f"Bearer {token}"})

    return as_


def cases_stored(system: System) -> int:
    with system.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(t.cases)).scalar_one())


def page_json(client: TestClient, path: str, body: Any, csrf: str | None = None) -> Any:
    """A JSON post of intake.js: the form's CSRF token in X-CSRF-Token."""
    token = csrf if csrf is not None else csrf_of(client.get("/intake").text)
    return client.post(path, json=body, headers={"X-CSRF-Token": token})


# ---- where it would go ----------------------------------------------------------------------------


def test_the_preview_names_the_category_and_unit_of_a_plain_request_and_files_nothing(app, api, system):
    answer = api("hotline").post("/api/intake/preview", json=HEATING)
    assert answer.status_code == 200, answer.text
    p = answer.json()
    assert p["category"] == {"code": "0101", "name": "供热质量", "path": ["供暖", "供热质量"]}
    assert (p["classified_by"], p["confidence"]) == ("keywords", 1.0)
    assert (p["triage"], p["emergency"]) == (False, False)
    assert [(x["code"], x["probability"]) for x in p["proposals"]] == [("0101", 1.0)]
    assert p["unit"] == {"id": "ent-heating", "name": "热力集团"}
    assert p["post"] == {"id": "dispatch", "name": "调度岗"}
    assert p["person"] == {"id": "p1", "name": "值班员甲"}  # on the roster all day
    assert p["rule"] == "heating" and "rule heating" in p["reason"] and "classified as 0101" in p["reason"]
    assert "暖气" in p["classification"] and p["street"]["code"] == "110105010"
    assert cases_stored(system) == 0 and app.state.intake.published == []  # nothing filed

    # the page asks the same over its session, and filing it then goes where the preview said
    operator = logged_in(app, "hotline")
    assert page_json(operator, "/intake/preview", HEATING).json() == p
    filed = operator.post("/intake", data={**HEATING, "csrf": csrf_of(operator.get("/intake").text)})
    assert filed.status_code == 200 and cases_stored(system) == 0
    [published] = app.state.intake.published
    handle_intake(intake_record(published), system.bus)
    status = operator.get(f"/intake/{published.ticket_id}/status").json()
    assert (status["unit"], status["post"], status["person"]) == ("ent-heating", "dispatch", "p1")
    assert (status["unit_name"], status["person_name"]) == ("热力集团", "值班员甲")


def test_a_vague_request_would_wait_in_triage_and_an_emergency_says_so(api):
    vague = api("zhao").post("/api/intake/preview", json={"description": "请帮忙看看这个情况"}).json()
    assert vague["triage"] is True and vague["unit"] is None and vague["category"] is None
    assert vague["queue"] == "triage" and vague["proposals"] == [] and vague["reason"]
    chosen = {**HEATING, "category": "02", "urgency": "emergency", "groups": ["elderly"]}
    urgent = api("root").post("/api/intake/preview", json=chosen).json()
    assert urgent["classified_by"] == "operator" and urgent["confidence"] is None
    assert urgent["emergency"] is True and urgent["urgency"] == "emergency"
    assert urgent["category"]["name"] == "物业"
    assert urgent["unit"]["id"] == "street-110105010"  # 属地: the street of the place, 望京街道


def test_a_worker_may_not_preview(app, api):
    refused = api("li").post("/api/intake/preview", json=HEATING)
    assert refused.status_code == 403 and "may not preview" in refused.json()["detail"]
    worker = logged_in(app, "li")
    assert worker.get("/intake").status_code == 403


# ---- the gazetteer --------------------------------------------------------------------------------


def test_area_completion_lists_the_districts_the_streets_of_a_district_and_its_communities(app, api):
    hotline = api("hotline")
    districts = hotline.get("/api/areas").json()
    assert [(a["code"], a["name"], a["level"]) for a in districts] == [
        ("110105", "朝阳区", "district"),
        ("110108", "海淀区", "district"),
    ]
    streets = hotline.get("/api/areas", params={"parent": "110105"}).json()
    assert [(a["name"], a["parent"]) for a in streets] == [("望京街道", "110105"), ("八里庄街道", "110105")]
    named = hotline.get("/api/areas", params={"parent": "110105", "q": "望京"}).json()  # an alias too
    assert [a["name"] for a in named] == ["望京街道"]
    communities = hotline.get("/api/areas", params={"parent": "110105010"}).json()
    assert [(a["name"], a["level"]) for a in communities] == [("花家地北里社区", "community")]
    anywhere = hotline.get("/api/areas", params={"level": "street", "q": "八里庄"}).json()
    assert sorted(a["parent"] for a in anywhere) == ["110105", "110108"]  # in two districts
    operator = logged_in(app, "hotline")  # the form's completion, over the session
    assert operator.get("/intake/areas", params={"parent": "110105"}).json() == streets


# ---- the caller's requests ------------------------------------------------------------------------


def test_the_callers_open_request_and_the_repeat_appear_by_phone_only_to_who_may_see_phones(app, api, system):
    ticket = open_case(system, "BJ1")  # 13812345678, 供热质量, 朝阳区望京街道花家地北里社区
    again = {"phone": "138 1234-5678", "description": "暖气还是不热", **AT_THE_CASE}
    answer = api("zhao").post("/api/intake/caller", json=again)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    [earlier] = found["requests"]
    assert (earlier["ticket_id"], earlier["open"], earlier["state"]) == (ticket, True, "dispatched")
    assert earlier["requester"]["phone"] == PHONE and earlier["requester_shown"] == "full"
    assert earlier["unit"] == {"id": "ent-heating", "name": "热力集团"}
    assert earlier["category"]["code"] == "0101"
    assert found["repeat_of"]["ticket_id"] == ticket and found["repeat_window_days"] == 7
    only_phone = api("root").post("/api/intake/caller", json={"phone": PHONE}).json()
    assert [r["ticket_id"] for r in only_phone["requests"]] == [ticket] and only_phone["repeat_of"] is None
    elsewhere = api("zhao").post("/api/intake/caller", json={**again, "description": "小区物业不管事"}).json()
    assert elsewhere["repeat_of"] is None  # another category: dispatched as a new case

    # a supervisor of another district sees none of it, but is told a repeat would be linked
    outside = api("haidian").post("/api/intake/caller", json=again).json()
    assert outside["requests"] == [] and outside["repeat_of"] is None and outside["repeat_elsewhere"] is True
    for who in ("hotline", "li"):  # an intake system, a unit: no phone look-ups
        refused = api(who).post("/api/intake/caller", json=again)
        assert refused.status_code == 403 and "may not callers" in refused.json()["detail"]
    assert api("zhao").get("/api/intake/caller").status_code == 405  # a phone is never in a URL

    # the pages: offered to the supervisor, not to the operator's intake role
    supervisor, operator = logged_in(app, "zhao"), logged_in(app, "hotline")
    assert 'data-caller-url="/intake/caller"' in supervisor.get("/intake").text
    form = operator.get("/intake").text
    assert "data-caller-url" not in form and "来电人的历史诉求仅中心人员可见" in form
    shown = page_json(supervisor, "/intake/caller", again).json()
    assert shown["repeat_of"]["ticket_id"] == ticket and shown["requests"][0]["requester"]["phone"] == PHONE
    refused = page_json(operator, "/intake/caller", again)
    assert refused.status_code == 403 and PHONE not in refused.text

    # filed, the worker links it to the case the look-up named
    filed = operator.post("/intake", data={**again, "csrf": csrf_of(form)}, follow_redirects=False)
    assert filed.status_code == 303
    [published] = app.state.intake.published
    assert published.requester is not None and published.requester.phone == PHONE  # as repeats compare it
    handle_intake(intake_record(published), system.bus)
    with system.engine.connect() as connection:
        linked = connection.execute(
            select(t.cases.c.state, t.cases.c.linked_to).where(t.cases.c.ticket_id == published.ticket_id)
        ).one()
    assert tuple(linked) == ("linked", ticket)


# ---- what the form publishes ----------------------------------------------------------------------


def test_every_field_of_the_form_reaches_the_published_request(app):
    operator = logged_in(app, "hotline")
    form = operator.get("/intake").text
    for word in ("咨询", "求助", "投诉", "举报", "建议", "微信", "老年人", "残疾人", "匿名", "保密", "社区"):
        assert word in form, word
    filed = operator.post(
        "/intake",
        data={
            "csrf": csrf_of(form),
            "name": "张三",
            "phone": "(010) 6512-3456",
            "anonymous": "1",
            "confidential": "1",
            "groups": ["elderly", "disabled"],
            "district": "朝阳区",
            "street": "望京街道",
            "community": "花家地北里社区",
            "address": "花家地北里12号楼",
            "kind": "help",
            "channel": "wechat",
            "urgency": "urgent",
            "category": "0101",
            "description": "家里老人独居，暖气不热",
        },
        follow_redirects=False,
    )
    assert filed.status_code == 303, filed.text
    [p] = app.state.intake.published
    assert (p.kind, p.channel, p.urgency, p.category) == ("help", "wechat", "urgent", "0101")
    assert p.location is not None and p.requester is not None
    assert (p.location.district, p.location.street, p.location.community, p.location.address) == (
        "朝阳区",
        "望京街道",
        "花家地北里社区",
        "花家地北里12号楼",
    )
    assert (p.requester.name, p.requester.phone) == ("张三", "01065123456")
    assert (p.requester.anonymous, p.requester.confidential) == (True, True)
    assert p.requester.groups == ["elderly", "disabled"]

    bare = operator.post(
        "/intake", data={"csrf": csrf_of(form), "description": "咨询办事流程", "kind": "consultation"}
    )
    assert bare.status_code == 200
    q = app.state.intake.published[-1]
    assert (q.kind, q.channel, q.urgency) == ("consultation", "phone", None)
    assert q.requester is not None and q.requester.groups == []
    assert (q.requester.anonymous, q.requester.confidential) == (False, False)


def test_a_kind_the_contract_lacks_is_refused_with_the_form_kept(app):
    operator = logged_in(app, "hotline")
    data = {"csrf": csrf_of(operator.get("/intake").text), "description": "表扬社区", "kind": "praise"}
    refused = operator.post("/intake", data={**data, "groups": ["elderly"]}, follow_redirects=False)
    assert refused.status_code == 422 and "kind" in refused.text and ">表扬社区</textarea>" in refused.text
    assert re.search(r'value="elderly" checked', refused.text)  # kept as ticked
    assert app.state.intake.published == []


# ---- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("/api/intake/preview", {}, "description"),
        ("/api/intake/preview", {"description": "   "}, "description"),
        ("/api/intake/preview", {"description": "x" * 4001}, "description"),
        ("/api/intake/preview", {"description": "暖气", "category": "abc"}, "category"),
        ("/api/intake/preview", {"description": "暖气", "kind": "praise"}, "kind"),
        ("/api/intake/preview", {"description": "暖气", "channel": "fax"}, "channel"),
        ("/api/intake/preview", {"description": "暖气", "groups": ["g"] * 11}, "groups"),
        ("/api/intake/preview", {"description": "暖气", "groups": ["a\x00"]}, "groups"),
        ("/api/intake/preview", {"description": "暖气", "district": "x" * 501}, "district"),
        ("/api/intake/preview", {"description": "暖气", "phone": PHONE}, "phone"),  # not a preview's field
        ("/api/intake/caller", {}, "phone"),
        ("/api/intake/caller", {"phone": "call me"}, "phone"),
        ("/api/intake/caller", {"phone": "1" * 33}, "phone"),
    ],
)
def test_bad_input_to_the_new_endpoints_is_a_4xx_saying_what_is_wrong(api, path, body, where):
    answer = api("root").post(path, json=body)
    assert answer.status_code == 422, answer.text
    said = answer.json()
    assert said["error"] == "validation" and where in said["detail"], said


def test_bad_queries_and_bodies_are_refused_in_words_on_the_api_and_the_page(app, api):
    root = api("root")
    for params, status, words in (
        ({"parent": "110199"}, 404, "no area with code 110199"),
        ({"parent": "朝阳区"}, 422, "parent"),
        ({"limit": "0"}, 422, "limit"),
        ({"level": "planet"}, 422, "level"),
        ({"q": "x" * 65}, 422, "q"),
    ):
        answer = root.get("/api/areas", params=params)
        assert answer.status_code == status and words in answer.json()["detail"], answer.text
    operator = logged_in(app, "hotline")
    assert operator.get("/intake/areas", params={"parent": "110199"}).status_code == 404
    csrf = csrf_of(operator.get("/intake").text)
    not_json = operator.post("/intake/preview", content=b"{", headers={"X-CSRF-Token": csrf})
    assert not_json.status_code == 422 and "JSON" in not_json.json()["detail"]
    empty = page_json(operator, "/intake/preview", {"description": ""}, csrf)
    assert empty.status_code == 422 and "description" in empty.json()["detail"]
    forged = page_json(operator, "/intake/preview", HEATING, "0" * 64)
    assert forged.status_code == 403  # no CSRF token of this session
    assert api("hotline").post("/api/intake/preview", content=b"[1]").status_code == 422
