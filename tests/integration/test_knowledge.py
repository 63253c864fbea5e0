"""The knowledge base (知识库) and 直接办结 with the real app and database (SQLite and PostgreSQL): the API's
entries with their roles, the search by a colloquial question, the starter set loaded once, the pages with
their CSRF token, and a consultation answered at intake: filed, opened closed, counted, called back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from consumers.intake import handle_intake
from dispatcher.adapters import tables as t
from dispatcher.adapters.database import make_engine, upgrade
from dispatcher.adapters.knowledge import KnowledgeStore
from dispatcher.adapters.knowledge_file import KnowledgeFileError, read_knowledge_file
from dispatcher.adapters.people import PeopleStore
from dispatcher.bootstrap import System, bootstrap, utc_now
from dispatcher.contract.events import ComplaintReceived
from dispatcher.domain import commands as c
from dispatcher.domain.access import Principal, Role
from dispatcher.domain.callbacks import Outcome
from dispatcher.reads import knowledge
from dispatcher.settings import Settings
from jiesu.cli.main import app as cli
from jiesu.web.app import create_app
from tests.support.builders import intake_record
from tests.support.catalogs import write_catalog

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
PASSWORD = "correct horse battery"
STARTER = Path(__file__).resolve().parents[2] / "config" / "knowledge" / "starter.yaml"
ENTRIES = {
    "entries": [
        {
            "id": "residence-permit",
            "question": "如何办理北京市居住证？",
            "answer": "在京居住半年以上，有合法稳定就业、住所或连续就读的，可到居住地派出所申领居住证。",
            "category": "020102",
            "keywords": ["居住证", "暂住证"],
            "source": "北京市实施《居住证暂行条例》办法",
            "valid_from": date(2026, 1, 1),
            "valid_to": None,
        },
        {
            "id": "heating-temperature",
            "question": "暖气不热，室温多少度算不达标？",
            "answer": "供暖期内卧室、起居室温度应不低于18℃，可联系供热单位上门测温。",
            "category": "010101",
            "keywords": ["暖气不热", "室温", "测温"],
            "source": "北京市供热采暖管理办法",
            "valid_from": None,
            "valid_to": None,
        },
        {
            "id": "heating-subsidy-2025",
            "question": "2025年供暖补贴怎么领？",
            "answer": "2025年的补贴已发放完毕。",
            "category": "010301",
            "keywords": ["供暖补贴"],
            "source": "旧通知",
            "valid_from": date(2025, 1, 1),
            "valid_to": date(2025, 12, 31),
        },
    ]
}


class FakeIntake:
    def __init__(self) -> None:
        self.published: list[ComplaintReceived] = []

    def publish(self, complaint: ComplaintReceived) -> None:
        self.published.append(complaint)


@pytest.fixture
def knowledge_file(tmp_path: Path) -> Path:
    path = tmp_path / "knowledge.yaml"
    path.write_text(yaml.safe_dump(ENTRIES, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def system(database_url: str, tmp_path: Path, knowledge_file: Path) -> Iterator[System]:
    catalog = write_catalog(tmp_path / "catalog")
    settings = Settings(database_url=database_url, catalog_dir=catalog, knowledge_file=knowledge_file)
    system = bootstrap(settings, clock=lambda: NOW)
    people = PeopleStore(system.engine, system.clock)
    for principal in (
        Principal("root", Role.ADMIN),
        Principal("hotline", Role.INTAKE),
        Principal("zhao", Role.SUPERVISOR, scope="city"),
        Principal("li", Role.WORKER, unit="ent-heating"),
    ):
        people.add(principal, principal.username, PASSWORD)
    KnowledgeStore(system.engine, system.clock).load_if_empty(read_knowledge_file(knowledge_file), "jiesu")
    yield system
    system.engine.dispose()


@pytest.fixture
def app(system: System):  # type: ignore[no-untyped-def]
    app = create_app(system.settings, system)
    app.state.intake = FakeIntake()
    return app


def api(app, username: str) -> TestClient:  # type: ignore[no-untyped-def]
    client = TestClient(app, base_url="http://127.0.0.1")
    token = client.post("/api/login", json={"username": username, "password": PASSWORD}).json()["token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def logged_in(app, username: str) -> TestClient:  # type: ignore[no-untyped-def]
    client = TestClient(app, base_url="http://127.0.0.1")
    csrf = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"username": username, "password": PASSWORD, "csrf": csrf})
    assert answer.status_code == 200 and "jiesu_session" in client.cookies, answer.text
    return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html) or re.search(r'data-csrf="([0-9a-f]+)"', html)
    assert found, html
    return found.group(1)


ENTRY: dict[str, Any] = {
    "id": "id-card-lost",
    "question": "身份证丢了怎么补办？",
    "answer": "可到户籍所在地或居住地公安派出所、出入境接待大厅申请补领，需本人到场采集人像。",
    "category": "020103",
    "keywords": ["身份证丢了", "补办身份证"],
    "source": "《中华人民共和国居民身份证法》",
    "valid_from": "2026-01-01",
}


# ---- the API ------------------------------------------------------------------------------------


def test_admins_add_edit_and_retire_entries_and_the_others_may_only_read(app):
    admin, intake, supervisor, worker = (api(app, name) for name in ("root", "hotline", "zhao", "li"))

    added = admin.post("/api/knowledge", json=ENTRY)
    assert added.status_code == 201, added.text
    assert added.json()["id"] == "id-card-lost" and added.json()["valid_today"] is True
    assert added.json()["updated_by"] == "root" and added.json()["version"] == 1
    assert admin.post("/api/knowledge", json=ENTRY).status_code == 409  # the id is taken
    made = admin.post("/api/knowledge", json={**ENTRY, "id": None, "question": "临时身份证怎么办？"})
    assert made.status_code == 201 and made.json()["id"].startswith("kb-")

    edited = admin.put("/api/knowledge/id-card-lost", json={**ENTRY, "id": None, "keywords": ["身份证"]})
    assert edited.status_code == 200 and edited.json()["keywords"] == ["身份证"]
    assert edited.json()["version"] == 2
    assert admin.put("/api/knowledge/nowhere", json=ENTRY).status_code == 422  # another id in the body
    assert admin.put("/api/knowledge/nowhere", json={**ENTRY, "id": None}).status_code == 404
    backwards = {**ENTRY, "id": None, "valid_from": "2026-12-01", "valid_to": "2026-11-01"}
    assert admin.put("/api/knowledge/id-card-lost", json=backwards).status_code == 422

    for reader in (intake, supervisor):
        assert reader.get("/api/knowledge/id-card-lost").status_code == 200
        for refused in (
            reader.post("/api/knowledge", json={**ENTRY, "id": "x"}),
            reader.put("/api/knowledge/id-card-lost", json={**ENTRY, "id": None}),
            reader.delete("/api/knowledge/id-card-lost"),
        ):
            assert refused.status_code == 403, refused.text
    assert worker.get("/api/knowledge?q=身份证").status_code == 403
    assert TestClient(app).get("/api/knowledge?q=身份证").status_code == 401

    retired = admin.delete("/api/knowledge/id-card-lost")
    assert retired.status_code == 200 and retired.json()["retired"] is True
    assert retired.json()["valid_today"] is False
    assert "id-card-lost" not in [
        e["id"] for e in intake.get("/api/knowledge", params={"q": "身份证丢了"}).json()
    ]
    every = intake.get("/api/knowledge", params={"q": "身份证丢了", "all": "true"}).json()
    assert "id-card-lost" in [e["id"] for e in every]
    assert admin.delete("/api/knowledge/nowhere").status_code == 404


def test_a_colloquial_question_finds_the_entry_and_only_valid_ones_unless_asked(app):
    intake = api(app, "hotline")
    found = intake.get("/api/knowledge", params={"q": "我想问一下外地人在北京那个暂住证咋办啊"}).json()
    assert found[0]["id"] == "residence-permit" and found[0]["matched_keywords"] == ["暂住证"]
    assert found[0]["score"] > 0
    heating = intake.get("/api/knowledge", params={"q": "屋里才十五度，暖气一点都不热"}).json()
    assert heating[0]["id"] == "heating-temperature"

    assert intake.get("/api/knowledge", params={"q": "供暖补贴怎么领"}).json() == []  # out of date
    old = intake.get("/api/knowledge", params={"q": "供暖补贴怎么领", "all": "true"}).json()
    assert [e["id"] for e in old] == ["heating-subsidy-2025"] and old[0]["valid_today"] is False
    by_category = intake.get("/api/knowledge", params={"category": "01"}).json()
    assert [e["id"] for e in by_category] == ["heating-temperature"] and by_category[0]["score"] is None


def test_the_api_is_described_in_the_openapi_with_its_models(app):
    paths = TestClient(app).get("/openapi.json").json()["paths"]
    assert set(paths["/api/knowledge"]) == {"get", "post"}
    assert set(paths["/api/knowledge/{entry_id}"]) == {"get", "put", "delete"}
    post = paths["/api/knowledge"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/KnowledgeBody")
    assert {"401", "403", "409", "422"} <= set(post["responses"])


# ---- the starter set ----------------------------------------------------------------------------


def test_the_starter_set_loads_into_an_empty_database_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    url = f"sqlite:///{tmp_path / 'jiesu.db'}"
    upgrade(url)
    monkeypatch.setenv("JIESU_DATABASE_URL", url)
    monkeypatch.setenv("JIESU_KNOWLEDGE_FILE", str(STARTER))
    entries = read_knowledge_file(STARTER)
    assert len(entries) >= 20 and len({entry.id for entry in entries}) == len(entries)

    first = CliRunner().invoke(cli, ["knowledge", "load"])
    assert first.exit_code == 0 and f"{len(entries)} entries loaded" in first.stdout, first.output
    second = CliRunner().invoke(cli, ["knowledge", "load"])
    assert second.exit_code == 0 and "nothing loaded" in second.stdout
    engine = make_engine(url)
    try:
        assert KnowledgeStore(engine, utc_now).count() == len(entries)
        found = knowledge.search(engine, "我想问问医保卡丢了咋整", now=NOW)
        assert found and "医保" in found[0].question + "".join(found[0].keywords)
    finally:
        engine.dispose()
    searched = CliRunner().invoke(cli, ["knowledge", "search", "暖气一点都不热，屋里太冷了"])
    assert searched.exit_code == 0 and "暖气" in searched.stdout


def test_a_broken_knowledge_file_is_refused_with_the_entry_and_the_reason(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text(
        "entries:\n  - {id: a, question: 问, answer: 答}\n  - {id: a, question: 问, answer: 答}\n"
    )
    with pytest.raises(KnowledgeFileError, match="entry id a is used twice"):
        read_knowledge_file(path)
    path.write_text(
        "entries:\n  - {id: a, question: 问, answer: 答, valid_from: 2026-02-01, valid_to: 2026-01-01}\n"
    )
    with pytest.raises(KnowledgeFileError, match="valid_to 2026-01-01 is before"):
        read_knowledge_file(path)
    path.write_text("entries:\n  - {id: a, question: 问}\n")
    with pytest.raises(KnowledgeFileError, match="answer"):
        read_knowledge_file(path)


# ---- the pages ----------------------------------------------------------------------------------


def test_admins_keep_the_knowledge_base_in_the_pages_with_the_forms_csrf(app, system):
    client = logged_in(app, "root")
    listing = client.get("/knowledge")
    assert (
        listing.status_code == 200 and "residence-permit" in listing.text and "/knowledge/new" in listing.text
    )
    form = {key: str(value) for key, value in ENTRY.items()} | {"keywords": "身份证丢了、补办身份证"}
    assert client.post("/knowledge/new", data=form).status_code == 403  # no CSRF token
    saved = client.post("/knowledge/new", data={**form, "csrf": csrf_of(client.get("/knowledge/new").text)})
    assert saved.status_code == 200 and "已保存" in saved.text and "身份证丢了怎么补办" in saved.text
    with system.engine.connect() as connection:
        row = connection.execute(select(t.knowledge).where(t.knowledge.c.id == "id-card-lost")).one()
    assert row.keywords == ["身份证丢了", "补办身份证"] and row.created_by == "root"

    page = client.get("/knowledge/id-card-lost")
    edit = {**form, "answer": "请到派出所补领。", "csrf": csrf_of(page.text)}
    assert "已保存" in client.post("/knowledge/id-card-lost", data=edit).text
    invalid = client.post("/knowledge/id-card-lost", data={**edit, "valid_from": "soon"})
    assert invalid.status_code == 422 and "not a date" in invalid.text
    retired = client.post("/knowledge/id-card-lost/retire", data={"csrf": csrf_of(page.text)})
    assert retired.status_code == 200 and "已停用" in retired.text
    searched = client.post("/knowledge/search", data={"q": "身份证丢了", "csrf": csrf_of(page.text)})
    assert "id-card-lost" not in searched.text  # retired: not offered
    every = client.post(
        "/knowledge/search", data={"q": "身份证丢了", "retired": "1", "csrf": csrf_of(page.text)}
    )
    assert "id-card-lost" in every.text


def test_operators_read_and_search_but_may_not_edit_and_workers_see_nothing(app):
    operator = logged_in(app, "hotline")
    page = operator.get("/knowledge/residence-permit")
    assert page.status_code == 200 and "派出所申领居住证" in page.text and 'id="kb-entry"' not in page.text
    assert operator.get("/knowledge/new").status_code == 403
    refused = operator.post("/knowledge/residence-permit/retire", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    worker = logged_in(app, "li")
    assert worker.get("/knowledge").status_code == 403


def test_the_intake_panel_searches_with_the_description_by_post_with_the_csrf_token(app):
    operator = logged_in(app, "hotline")
    intake = operator.get("/intake")
    assert 'id="knowledge-panel"' in intake.text and "/static/knowledge_panel.js" in intake.text
    assert 'id="knowledge-entry"' in intake.text  # the 直接办结 control beside the submit button
    csrf = csrf_of(intake.text)
    asked = {"q": "外地人在北京那个暂住证咋办啊，我叫王五电话13912345678"}
    assert operator.post("/knowledge/suggest", data=asked).status_code == 403
    found = operator.post("/knowledge/suggest", data={**asked, "csrf": csrf}).json()["matches"]
    assert found[0]["id"] == "residence-permit" and "派出所" in found[0]["answer"]
    script = operator.get("/static/knowledge_panel.js")
    assert script.status_code == 200 and "innerHTML" not in script.text


def test_a_consultation_answered_from_the_knowledge_base_is_filed_closed_and_counted(app, system):
    operator = logged_in(app, "hotline")
    csrf = csrf_of(operator.get("/intake").text)
    form = {
        "csrf": csrf,
        "kind": "consultation",
        "channel": "phone",
        "name": "王五",
        "phone": "139-1234-5678",
        "district": "朝阳区",
        "description": "外地人在北京那个暂住证咋办啊",
        "knowledge_entry": "residence-permit",
    }
    filed = operator.post("/intake/direct", data=form, follow_redirects=False)
    assert filed.status_code == 303 and filed.headers["location"].startswith("/intake/W")
    [complaint] = app.state.intake.published
    assert complaint.kind == "consultation" and complaint.category == "020102"
    assert complaint.direct_answer is not None and complaint.direct_answer.entry_id == "residence-permit"
    assert complaint.direct_answer.by == "hotline" and complaint.requester.phone == "13912345678"

    handle_intake(intake_record(complaint), system.bus)  # what the worker does with it
    ticket = complaint.ticket_id
    with system.engine.connect() as connection:
        case = connection.execute(select(t.cases).where(t.cases.c.ticket_id == ticket)).one()
        assigned = connection.execute(select(t.assignments).where(t.assignments.c.ticket_id == ticket)).all()
        types = [
            dict(tuple(h) for h in row.headers)["ce_type"]
            for row in connection.execute(select(t.outbox).where(t.outbox.c.key == ticket.encode()))
        ]
    assert (case.state, case.knowledge_entry, case.result) == (
        "closed",
        "residence-permit",
        ENTRIES["entries"][0]["answer"],
    )
    assert assigned == [] and len(types) == 1  # one event: closed; nothing dispatched
    status = operator.get(f"/intake/{ticket}/status").json()
    assert status["state"] == "closed" and status["knowledge_entry"] == "residence-permit"

    assert (
        system.bus.handle(
            c.RecordCallback(
                ticket,
                "callback-center",
                recorded_at=NOW,
                contacted=True,
                resolved=True,
                satisfaction="satisfied",
            )
        )
        is Outcome.RECORDED
    )

    supervisor = api(app, "zhao")
    view = supervisor.get(f"/api/cases/{ticket}").json()
    assert view["state"] == "closed" and view["knowledge_entry"] == "residence-permit"
    assert view["allowed_actions"] == []
    assert supervisor.post(f"/api/cases/{ticket}/dispatch", json={"unit": "ent-heating"}).status_code == 409
    figures = knowledge.direct_closes(system.engine, now=NOW, district=None)
    assert (figures.received, figures.consultations, figures.direct, figures.rate) == (1, 1, 1, 1.0)
    metrics = TestClient(app).get("/metrics").text
    assert "jiesu_cases_closed_direct_total 1.0" in metrics
    dashboard = logged_in(app, "zhao").get("/dashboard")
    assert 'id="direct-rate"' in dashboard.text and "100.0%" in dashboard.text


def test_only_a_consultation_and_only_an_entry_offered_today_can_be_answered_directly(app):
    operator = logged_in(app, "hotline")
    csrf = csrf_of(operator.get("/intake").text)
    form = {"csrf": csrf, "kind": "consultation", "description": "供暖补贴怎么领", "knowledge_entry": ""}
    for changes, said in (
        ({"kind": "complaint", "knowledge_entry": "residence-permit"}, "只有咨询类诉求可以直接办结"),
        ({"knowledge_entry": "heating-subsidy-2025"}, "不在有效期内"),  # out of date
        ({"knowledge_entry": "nowhere"}, "不存在"),
    ):
        refused = operator.post("/intake/direct", data={**form, **changes})
        assert refused.status_code == 422 and said in refused.text
    assert app.state.intake.published == []
    supervisor = logged_in(app, "zhao")  # reads the knowledge base, files nothing
    closed = supervisor.post(
        "/intake/direct",
        data={**form, "knowledge_entry": "residence-permit", "csrf": csrf_of(supervisor.get("/intake").text)},
    )
    assert closed.status_code == 403 and app.state.intake.published == []


def test_direct_closes_are_counted_among_the_requests_received(app, system):
    direct = ComplaintReceived.model_validate(
        {
            "ticket_id": "D1",
            "received_at": NOW - timedelta(hours=1),
            "channel": "phone",
            "kind": "consultation",
            "description": "暂住证怎么办",
            "location": {"district": "朝阳区"},
            "direct_answer": {"entry_id": "residence-permit", "answer": "到派出所申领。", "by": "hotline"},
        }
    )
    handle_intake(intake_record(direct), system.bus)
    for ticket, kind in (("C1", "consultation"), ("C2", "complaint"), ("C3", "complaint")):
        record = ComplaintReceived.model_validate(
            {**direct.model_dump(exclude={"direct_answer"}), "ticket_id": ticket, "kind": kind}
        )
        handle_intake(intake_record(record), system.bus)
    figures = knowledge.direct_closes(system.engine, now=NOW, district=None)
    assert (figures.received, figures.consultations, figures.direct) == (4, 2, 1)
    assert (figures.rate, figures.consultation_rate) == (0.25, 0.5)
    assert knowledge.direct_closes(system.engine, now=NOW, district="110108").received == 0
