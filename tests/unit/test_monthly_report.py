"""每月一题's pure parts: the trend's months across a year, the parameters refused with a reason, the CSV a
spreadsheet opens and the terminal's table, and the sparkline's geometry."""

from __future__ import annotations

import csv
import io

import pytest

from dispatcher.reads.monthly import (
    MonthlyReport,
    Problem,
    ReportError,
    UnitCount,
    check_request,
    months_up_to,
)
from dispatcher.reads.monthly_export import monthly_csv, monthly_table
from dispatcher.reads.names import Names
from jiesu.web.charts import sparkline


def test_the_trend_runs_over_the_six_months_ending_with_the_report_s_across_a_new_year():
    assert months_up_to("2027-02") == ("2026-09", "2026-10", "2026-11", "2026-12", "2027-01", "2027-02")


@pytest.mark.parametrize(
    ("month", "level", "area", "said"),
    [
        ("2026-13", "2", "street", "YYYY-MM"),
        ("2026-1", "2", "street", "YYYY-MM"),
        ("2026-11", "3", "street", "level: expected 1, 2 or leaf"),
        ("2026-11", "2", "community", "area: expected street or district"),
    ],
)
def test_a_report_asked_badly_is_refused_with_the_reason(month, level, area, said):
    with pytest.raises(ReportError, match=said):
        check_request(month, level, area)


def _report() -> MonthlyReport:
    heating = Problem(
        1, "0101", "110105010", 5, (1, 0, 0, 1, 2, 5), 1, 1, 2, 1, (UnitCount("ent-heating", 4),)
    )
    formula = Problem(2, "", "", 3, (0, 0, 0, 0, 0, 3), 0, 0, 0, 0, (UnitCount("=cmd()", 3),))
    months = months_up_to("2026-11")
    return MonthlyReport("2026-11", months, "2", "street", None, 8, [heating, formula])


def test_the_csv_has_a_bom_every_month_s_count_shares_in_percent_and_no_formula():
    text = monthly_csv(_report(), Names())
    assert text.startswith("\ufeff") and text.endswith("\r\n")
    header, heating, unclassified = list(csv.reader(io.StringIO(text[1:])))
    row = dict(zip(header, heating, strict=True))
    assert [row[f"2026-{month:02d}诉求量(requests)"] for month in range(6, 11)] == ["1", "0", "0", "1", "2"]
    assert (row["本月诉求量(requests)"], row["重复诉求占比%(repeat share)"]) == ("5", "20.00")
    assert (row["不满意占比%(unsatisfied share)"], row["主要承办单位(units)"]) == ("50.00", "ent-heating(4)")
    other = dict(zip(header, unclassified, strict=True))
    assert (other["类别(category)"], other["区域(area)"]) == ("未分类", "未定位")
    assert other["不满意占比%(unsatisfied share)"] == ""  # no callback: no share
    assert other["主要承办单位(units)"] == "'=cmd()(3)"


def test_the_table_shows_each_group_on_a_line_and_says_when_there_is_none():
    table = monthly_table(_report(), Names()).splitlines()
    assert len(table) == 4 and " 1  0  0  1  2  5" in table[2] and "50.00%" in table[2]
    empty = MonthlyReport("2026-11", months_up_to("2026-11"), "2", "street", None, 0, [])
    assert monthly_table(empty, Names()) == "no request received in 2026-11 in this scope\n"


def test_a_sparkline_runs_from_zero_at_the_bottom_to_the_largest_at_the_top():
    line = sparkline([0, 2, 4], ["09", "10", "11"], width=100, height=20)
    assert line.points == "3.0,17.0 50.0,10.0 97.0,3.0"
    assert (line.last.x, line.last.y) == (97.0, 3.0) and line.title == "09: 0, 10: 2, 11: 4"
    flat = sparkline([0, 0], ["10", "11"], width=100, height=20)
    assert flat.points == "3.0,17.0 97.0,17.0"
