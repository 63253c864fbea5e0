"""每月一题 on SQLite and PostgreSQL: requests spread over six months in three streets of two districts;
the month's groups ranked by category × area at each level, their trend (months in Beijing time), repeat,
reopened and unsatisfied shares and units; through the API (JSON, CSV), the pages and the CLI; a district
supervisor sees only their district, a worker nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dispatcher.bootstrap import System, bootstrap
from dispatcher.settings import Settings
from jiesu.cli.main import app as cli
from jiesu.web.app import create_app
from tests.integration.test_api import ok
from tests.support.clock import Clock
from tests.support.logins import add_people, logged_in
from tests.support.months import (
    BALIZHUANG,
    HAIDIAN_BALIZHUANG,
    beijing,
    called_back,
    received,
    repeat_of,
    write_deep_catalog,
)

WANGJING, CHAOYANG_BALIZHUANG, HAIDIAN_STREET = "110105010", "110105011", "110108001"


@pytest.fixture
def system(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[System]:
    """The system over a catalog whose categories are three levels deep, with six months of requests."""
    catalog = write_deep_catalog(tmp_path / "catalog")
    system = bootstrap(Settings(database_url=database_url, catalog_dir=catalog), clock=clock)
    _months_of_requests(system)
    yield system
    system.engine.dispose()


def _months_of_requests(system: System) -> None:
    # 室温不达标 in 望京: a case in May (before the six months), June, September, two in October (one on
    # its last evening), four in November (one just after its first midnight, Beijing time): one of them
    # a repeat of another, one reopened after an unsatisfied callback, one called back satisfied
    received(system, "MAY", beijing(5, 20))
    received(system, "JUN", beijing(6, 3))
    received(system, "SEP", beijing(9, 14))
    received(system, "OCT1", beijing(10, 8))
    received(system, "OCT31", beijing(10, 31, 23, 30))
    received(system, "NOV1", beijing(11, 1, 0, 30))
    received(system, "NOV2", beijing(11, 5))
    repeat_of(system, "NOV3", "NOV2", beijing(11, 6))
    received(system, "NOV4", beijing(11, 20))
    called_back(system, "NOV1", "li", satisfied=False)  # reopened (重办)
    called_back(system, "NOV4", "li", satisfied=True)
    # 暖气漏水 in 望京: the same second-level category (供热质量), another leaf
    received(system, "LEAK", beijing(11, 9), category="010102")
    # 电梯故障 in 八里庄 of 朝阳 (three, to its street) and of 海淀 (two)
    for number in range(3):
        received(system, f"LIFT{number}", beijing(11, 10 + number), category="020101", location=BALIZHUANG)
    for number in range(2):
        received(system, f"HDL{number}", beijing(11, 12), category="020101", location=HAIDIAN_BALIZHUANG)
    received(system, "HDL-OCT", beijing(10, 12), category="020101", location=HAIDIAN_BALIZHUANG)


@pytest.fixture
def web(system: System):  # type: ignore[no-untyped-def]
    add_people(system, "li", "zhao", "chaoyang", "haidian")
    return create_app(system.settings, system)


def groups(report: dict) -> list[tuple[str, str, int]]:  # type: ignore[type-arg]
    return [(row["category"], row["area"], row["cases"]) for row in report["problems"]]


def test_the_months_problems_are_ranked_with_their_trend_shares_and_units(zhao):
    report = ok(zhao.get("/api/reports/monthly", params={"month": "2026-11"}))
    assert report["months"] == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    assert (report["level"], report["area"], report["district"], report["received"]) == (
        "2",
        "street",
        None,
        10,
    )
    assert groups(report) == [
        ("0101", WANGJING, 5),
        ("0201", CHAOYANG_BALIZHUANG, 3),
        ("0201", HAIDIAN_STREET, 2),
    ]
    heating = report["problems"][0]
    assert (heating["rank"], heating["category_name"], heating["area_name"]) == (
        1,
        "供暖 › 供热质量",
        "望京街道",
    )
    assert heating["trend"] == [1, 0, 0, 1, 2, 5]  # May is out; 10-31 23:30 is October, 11-01 00:30 November
    assert (heating["repeats"], heating["repeat_share"]) == (1, 0.2)
    assert (heating["reopened"], heating["reopened_share"]) == (1, 0.2)
    assert (heating["callbacks"], heating["unsatisfied"], heating["unsatisfied_share"]) == (2, 1, 0.5)
    # the repeat is handled within the case it is linked to: four cases at the heating company
    assert heating["units"] == [{"unit": "ent-heating", "name": "热力集团", "cases": 4}]
    lifts = report["problems"][1]
    assert lifts["units"] == [{"unit": f"street-{CHAOYANG_BALIZHUANG}", "name": "八里庄街道", "cases": 3}]
    assert (lifts["repeat_share"], lifts["reopened_share"], lifts["unsatisfied_share"]) == (0.0, 0.0, None)
    assert report["problems"][2]["trend"] == [0, 0, 0, 0, 1, 2]


def test_the_category_level_and_the_area_are_the_readers_choice(zhao):
    leaf = ok(zhao.get("/api/reports/monthly", params={"month": "2026-11", "level": "leaf"}))
    assert groups(leaf) == [
        ("010101", WANGJING, 4),
        ("020101", CHAOYANG_BALIZHUANG, 3),
        ("020101", HAIDIAN_STREET, 2),
        ("010102", WANGJING, 1),
    ]
    by_district = ok(
        zhao.get("/api/reports/monthly", params={"month": "2026-11", "level": "1", "area": "district"})
    )
    assert groups(by_district) == [("01", "110105", 5), ("02", "110105", 3), ("02", "110108", 2)]
    top_two = ok(zhao.get("/api/reports/monthly", params={"month": "2026-11", "top": 2}))
    assert len(top_two["problems"]) == 2 and top_two["received"] == 10
    october = ok(zhao.get("/api/reports/monthly", params={"month": "2026-10"}))
    assert groups(october) == [("0101", WANGJING, 2), ("0201", HAIDIAN_STREET, 1)]
    assert ok(zhao.get("/api/reports/monthly", params={"month": "2025-11"}))["problems"] == []


def test_a_district_supervisor_sees_only_their_district(as_):
    chaoyang = ok(as_("chaoyang").get("/api/reports/monthly", params={"month": "2026-11"}))
    assert chaoyang["district"] == "110105" and chaoyang["received"] == 8
    assert groups(chaoyang) == [("0101", WANGJING, 5), ("0201", CHAOYANG_BALIZHUANG, 3)]
    haidian = ok(
        as_("haidian").get("/api/reports/monthly", params={"month": "2026-11", "district": "110108"})
    )
    assert groups(haidian) == [("0201", HAIDIAN_STREET, 2)]
    refused = as_("chaoyang").get("/api/reports/monthly", params={"month": "2026-11", "district": "110108"})
    assert refused.status_code == 403 and "outside the scope of chaoyang" in refused.json()["detail"]
    city = ok(as_("zhao").get("/api/reports/monthly", params={"month": "2026-11", "district": "110108"}))
    assert groups(city) == groups(haidian)


def test_bad_parameters_get_a_message_and_workers_no_report(zhao, li):
    for params, said in (
        ({"month": "2026-13"}, "YYYY-MM"),
        ({"month": "11/2026"}, "YYYY-MM"),
        ({"month": "2026-11", "level": "3"}, "level"),
        ({"month": "2026-11", "area": "community"}, "area"),
        ({"month": "2026-11", "district": "朝阳"}, "six-digit"),
    ):
        answer = zhao.get("/api/reports/monthly", params=params)
        assert answer.status_code == 422 and said in answer.json()["detail"], (params, answer.text)
    assert li.get("/api/reports/monthly", params={"month": "2026-11"}).status_code == 403
    assert li.get("/api/reports/monthly.csv", params={"month": "2026-11"}).status_code == 403


def test_the_csv_opens_in_a_spreadsheet_with_chinese_names(zhao):
    answer = zhao.get("/api/reports/monthly.csv", params={"month": "2026-11", "district": "110105"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert 'filename="monthly-2026-11-110105.csv"' in answer.headers["content-disposition"]
    text = answer.content.decode("utf-8")
    assert text.startswith("\ufeff") and "\r\n" in text
    header, *rows = list(csv.reader(io.StringIO(text[1:])))
    first = dict(zip(header, rows[0], strict=True))
    assert len(rows) == 2
    assert (first["类别(category)"], first["区域(area)"], first["本月诉求量(requests)"]) == (
        "供暖 › 供热质量",
        "望京街道",
        "5",
    )
    assert [first[f"2026-{month:02d}诉求量(requests)"] for month in range(6, 11)] == ["1", "0", "0", "1", "2"]
    assert (first["重复诉求占比%(repeat share)"], first["不满意占比%(unsatisfied share)"]) == (
        "20.00",
        "50.00",
    )
    assert first["主要承办单位(units)"] == "热力集团(4)"


def test_the_page_shows_the_report_to_supervisors_and_refuses_workers(web):
    zhao = logged_in(web, "zhao")
    page = zhao.get("/monthly", params={"month": "2026-11", "level": "leaf"})
    assert page.status_code == 200
    html = page.text
    assert "每月一题：2026-11 高频诉求" in html and 'href="/monthly"' in html  # in the navigation
    assert html.count('class="problem"') == 4 and html.count('class="spark"') == 4
    assert "供暖 › 供热质量 › 室温不达标" in html and "热力集团" in html and "50.0%" in html
    assert "/monthly.csv?month=2026-11&amp;level=leaf&amp;area=street" in html
    download = zhao.get("/monthly.csv", params={"month": "2026-11", "level": "leaf"})
    assert download.status_code == 200 and download.content.decode("utf-8").count("\r\n") == 5  # header, 4
    printable = zhao.get("/monthly/print", params={"month": "2026-11"})
    assert printable.status_code == 200 and "@page" in printable.text and "<header>" not in printable.text
    assert printable.text.count('class="problem"') == 3
    this_month = zhao.get("/monthly").text  # the clock's month, Beijing time
    assert "每月一题：2026-11 高频诉求" in this_month and this_month.count('class="problem"') == 3
    bad = zhao.get("/monthly", params={"month": "2026-1"})
    assert bad.status_code == 422 and "YYYY-MM" in bad.text

    assert logged_in(web, "li").get("/monthly").status_code == 403
    assert logged_in(web, "li").get("/monthly/print", params={"month": "2026-11"}).status_code == 403
    assert logged_in(web, "li").get("/monthly.csv", params={"month": "2026-11"}).status_code == 403
    chaoyang = logged_in(web, "chaoyang").get("/monthly", params={"month": "2026-11"}).text
    assert chaoyang.count('class="problem"') == 2 and "朝阳区" in chaoyang
    assert logged_in(web, "chaoyang").get("/monthly", params={"district": "110108"}).status_code == 403


def test_the_cli_writes_the_csv_and_refuses_a_bad_month(system, tmp_path, monkeypatch):
    monkeypatch.setenv("JIESU_DATABASE_URL", system.settings.database_url)
    monkeypatch.setenv("JIESU_CATALOG_DIR", str(system.settings.catalog_dir))
    runner = CliRunner()
    out = tmp_path / "monthly.csv"
    args = ["report", "monthly", "--month", "2026-11", "--format", "csv", "--output", str(out)]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    text = out.read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert [(row[2], row[5], row[6], row[7]) for row in rows[1:]] == [
        ("0101", "望京街道", "朝阳区", "5"),
        ("0201", "八里庄街道", "朝阳区", "3"),
        ("0201", "八里庄街道", "海淀区", "2"),
    ]
    table = runner.invoke(cli, ["report", "monthly", "--month", "2026-11", "--level", "leaf"])
    assert table.exit_code == 0 and "供暖 › 供热质量 › 暖气漏水" in table.stdout
    html = runner.invoke(cli, ["report", "monthly", "--month", "2026-11", "--format", "html"])
    assert html.exit_code == 0 and html.stdout.count('class="problem"') == 3
    bad = runner.invoke(cli, ["report", "monthly", "--month", "2026-13"])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.stderr
