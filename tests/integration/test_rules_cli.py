"""`jiesu rules explain | lint | whatif` as a supervisor runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consumers.intake import handle_intake
from dispatcher.adapters.database import upgrade
from dispatcher.bootstrap import bootstrap
from dispatcher.settings import Settings
from jiesu.cli.main import app
from tests.conftest import DEMO_CATALOG
from tests.support.builders import intake_record, make_complaint
from tests.support.catalogs import HEATING_RULE, write_catalog

runner = CliRunner()


def test_explain_shows_facts_the_passed_rules_and_the_decision(tmp_path: Path):
    request = tmp_path / "request.json"
    request.write_text(
        json.dumps(
            {
                "ticket_id": "BJ1",
                "received_at": "2026-11-26T03:00:00+08:00",
                "channel": "phone",
                "kind": "complaint",
                "description": "家里暖气不热，室温只有十五度",
                "location": {"address": "朝阳区望京街道望京西园三区"},
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["rules", "explain", str(request), "--catalog", str(DEMO_CATALOG)])
    assert result.exit_code == 0, result.output
    assert "location     朝阳区 望京街道" in result.output
    assert "classified as 010101" in result.output
    assert "category 010101 is not under" in result.output  # an earlier rule and why it did not match
    assert "matching rule: heating (rules.yaml:" in result.output
    assert "decision: dispatch to ent-heating / dispatch /" in result.output


def test_explain_counts_working_days_on_the_operators_calendar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    request = tmp_path / "request.json"
    received = {"ticket_id": "BJ1", "received_at": "2027-03-10T10:00:00+08:00", "channel": "phone"}
    request.write_text(
        json.dumps({**received, "kind": "complaint", "description": "暖气不热"}), encoding="utf-8"
    )
    explain = ["rules", "explain", str(request), "--catalog", str(DEMO_CATALOG)]
    assert "working_day  True" in runner.invoke(app, explain).output  # an ordinary Wednesday
    sla = tmp_path / "sla.yaml"
    sla.write_text("calendar:\n  2027:\n    holidays: [{days: '2027-03-10'}]\n", encoding="utf-8")
    monkeypatch.setenv("JIESU_SLA_FILE", str(sla))
    result = runner.invoke(app, explain)
    assert result.exit_code == 0, result.output
    assert "working_day  False" in result.output


def test_explain_refuses_a_file_that_is_not_a_request(tmp_path: Path):
    request = tmp_path / "bad.json"
    request.write_text('{"ticket_id": "BJ1"}', encoding="utf-8")
    result = runner.invoke(app, ["rules", "explain", str(request), "--catalog", str(DEMO_CATALOG)])
    assert result.exit_code == 2 and "not a jiesu.complaint.received event" in result.output


def test_lint_passes_the_demo_catalog_and_fails_a_shadowed_rule(tmp_path: Path):
    assert runner.invoke(app, ["rules", "lint", "--catalog", str(DEMO_CATALOG)]).exit_code == 0
    shadowed = {**HEATING_RULE, "id": "heating-later", "priority": 20, "when": {"category": "0101"}}
    folder = write_catalog(tmp_path / "bad", rules=[HEATING_RULE, shadowed])
    result = runner.invoke(app, ["rules", "lint", "--catalog", str(folder)])
    assert result.exit_code == 1
    assert "shadowed" in result.output and "heating-later" in result.output


def test_a_broken_catalog_is_refused_with_file_and_line(tmp_path: Path):
    folder = write_catalog(tmp_path / "broken", rules=[{**HEATING_RULE, "then": {"unit": "nowhere"}}])
    result = runner.invoke(app, ["rules", "lint", "--catalog", str(folder)])
    assert result.exit_code == 2 and "rules.yaml:2: rule heating: unknown unit nowhere" in result.output


def test_whatif_counts_the_stored_cases_a_candidate_catalog_would_route_differently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    url = f"sqlite:///{tmp_path / 'jiesu.db'}"
    upgrade(url)
    current = write_catalog(tmp_path / "current")
    bus = bootstrap(Settings(database_url=url, catalog_dir=current)).bus
    for n in range(3):
        handle_intake(intake_record(make_complaint(ticket_id=f"H{n}", category="0101")), bus)
    handle_intake(intake_record(make_complaint(ticket_id="P1", category="02", description="物业不管")), bus)
    candidate = write_catalog(
        tmp_path / "candidate", rules=[{**HEATING_RULE, "then": {"unit": "ent-heating-b"}}]
    )

    monkeypatch.setenv("JIESU_DATABASE_URL", url)
    result = runner.invoke(app, ["rules", "whatif", "--catalog", str(candidate), "--since", "3650d"])
    assert result.exit_code == 0, result.output
    assert "replayed 4 cases" in result.output and "3 would be routed differently (75.0%)" in result.output
    assert "ent-heating/dispatch -> ent-heating-b/dispatch: 3" in result.output


LEAVES = {
    "categories": [
        {
            "code": "01",
            "name": "供暖",
            "urgency": "urgent",
            "handling": "department",
            "children": [
                {"code": "0101", "name": "供热", "children": [{"code": "010101", "name": "室温不达标"}]}
            ],
        },
        {
            "code": "02",
            "name": "物业",
            "handling": "territorial",
            "children": [
                {"code": "0201", "name": "物业服务", "children": [{"code": "020101", "name": "物业"}]}
            ],
        },
    ]
}
SAID = {
    "010101": ["家里暖气冰凉", "屋里才十五度", "暖气片不热冻得慌", "供暖温度太低了", "老人家里冷得穿棉袄"],
    "020101": ["物业天天不打扫", "楼道垃圾没人收", "保安不管外来车", "物业电话打不通", "小区绿地没人修剪"],
}


def catalog_with_corpus(folder: Path) -> Path:
    write_catalog(folder, rules=[{**HEATING_RULE, "when": {"category": "01"}}], categories_yaml=LEAVES)
    (folder / "corpus" / "train").mkdir(parents=True)
    (folder / "corpus" / "test").mkdir(parents=True)
    lines = [
        f"{code}\t{opening}{text}" for code, texts in SAID.items() for text in texts for opening in "啊喂您"
    ]
    (folder / "corpus" / "train" / "01.tsv").write_text("\n".join(lines), encoding="utf-8")
    tests = [
        "010101\t朝阳区\t望京街道\t0\t我们家暖气一点不热",
        "020101\t朝阳区\t望京街道\t0\t物业不给打扫卫生",
    ]
    (folder / "corpus" / "test" / "01.tsv").write_text("\n".join(tests), encoding="utf-8")
    (folder / "corpus" / "dev").mkdir()
    development = [
        "010101\t朝阳区\t望京街道\t0\t暖气不热屋里冷",
        "010101\t朝阳区\t望京街道\t1\t暖气管子爆了热水喷了一屋",
        "020101\t朝阳区\t望京街道\t0\t物业好几天没收垃圾",
    ]
    (folder / "corpus" / "dev" / "01.tsv").write_text("\n".join(development), encoding="utf-8")
    (folder / "corpus" / "emergency").mkdir()
    danger = [
        f"010101\t1\t{text}{tail}" for text in ("暖气管爆了满屋热水", "暖气管子崩了烫着人") for tail in "啊快"
    ]
    calm = [f"010101\t0\t{text}{tail}" for text in ("暖气费怎么交", "暖气管去年修过了") for tail in "吗呢"]
    (folder / "corpus" / "emergency" / "01.tsv").write_text("\n".join(danger + calm), encoding="utf-8")
    return folder


def test_train_writes_a_model_evaluate_scores_the_test_set_and_whatif_reclassifies_stored_cases(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    url = f"sqlite:///{tmp_path / 'jiesu.db'}"
    upgrade(url)
    monkeypatch.setenv("JIESU_DATABASE_URL", url)
    folder = catalog_with_corpus(tmp_path / "catalog")

    trained = runner.invoke(app, ["rules", "train", "--catalog", str(folder), "--folds", "2"])
    assert trained.exit_code == 0, trained.output
    assert "corrections: 0 in the database" in trained.output and "<- chosen" in trained.output
    assert "measured on the development set (3 requests)" in trained.output
    assert (
        "danger on the development set: " in trained.output and " of 1 emergencies flagged" in trained.output
    )
    assert (folder / "model.npz").exists()

    evaluated = runner.invoke(app, ["rules", "evaluate", "--catalog", str(folder)])
    assert evaluated.exit_code == 0, evaluated.output
    assert "2 requests: right unit 100.0%" in evaluated.output

    # a case stored under the wrong category, from before the model: the model sends it to the heating unit
    bus = bootstrap(Settings(database_url=url, catalog_dir=write_catalog(tmp_path / "old"))).bus
    handle_intake(
        intake_record(make_complaint(ticket_id="W1", category="02", description="屋里暖气冰凉")), bus
    )
    plain = runner.invoke(app, ["rules", "whatif", "--catalog", str(folder), "--since", "3650d"])
    assert "0 would be routed differently" in plain.output, plain.output
    again = runner.invoke(
        app, ["rules", "whatif", "--catalog", str(folder), "--since", "3650d", "--reclassify"]
    )
    assert "1 would be routed differently" in again.output and "-> ent-heating/dispatch: 1" in again.output


def test_a_corpus_naming_an_unknown_category_is_refused_with_file_and_line(tmp_path: Path):
    folder = catalog_with_corpus(tmp_path / "catalog")
    (folder / "corpus" / "train" / "02.tsv").write_text("# comment\n990101\t什么都有", encoding="utf-8")
    result = runner.invoke(app, ["rules", "train", "--catalog", str(folder), "--no-corrections"])
    assert result.exit_code == 2 and "02.tsv:2: unknown category 990101" in result.output


def test_retired_test_requests_are_learned_from_and_their_danger_labels_checked(tmp_path: Path):
    folder = catalog_with_corpus(tmp_path / "catalog")
    before = runner.invoke(app, ["rules", "train", "--catalog", str(folder), "--no-corrections"])
    (folder / "corpus" / "retired").mkdir()
    retired = [
        "010101\t朝阳区\t望京街道\t1\t暖气管子裂了热水往外喷",
        "020101\t海淀区\t燕园街道\t0\t物业把楼道灯修好了吗",
    ]
    (folder / "corpus" / "retired" / "01.tsv").write_text(
        "# retired\n" + "\n".join(retired), encoding="utf-8"
    )
    after = runner.invoke(app, ["rules", "train", "--catalog", str(folder), "--no-corrections"])
    assert before.exit_code == 0 and after.exit_code == 0, after.output
    count = lambda output: int(output.split(" examples,")[0].rsplit(" ", 1)[1])  # noqa: E731
    assert count(after.output) == count(before.output) + 2

    (folder / "corpus" / "retired" / "01.tsv").write_text(
        "010101\t朝阳区\t望京街道\t2\t暖气", encoding="utf-8"
    )
    refused = runner.invoke(app, ["rules", "train", "--catalog", str(folder), "--no-corrections"])
    assert refused.exit_code == 2 and "01.tsv:1: emergency must be 0 or 1" in refused.output
