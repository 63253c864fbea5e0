"""每月一题 written out: a CSV for Excel/WPS (UTF-8 with a BOM, CRLF, names in Chinese beside the codes,
shares in percent, text cells safe from formulas) and a plain-text table for a terminal."""

from __future__ import annotations

import csv
import io
import unicodedata
from fractions import Fraction

from dispatcher.domain.scores import percent, safe_cell
from dispatcher.reads.monthly import MonthlyReport, Problem
from dispatcher.reads.names import Names

UNCLASSIFIED, NOWHERE = "未分类", "未定位"


def category_name(problem: Problem, names: Names) -> str:
    return names.category(problem.category) if problem.category else UNCLASSIFIED


def area_name(problem: Problem, names: Names) -> str:
    return names.area(problem.area) if problem.area else NOWHERE


def district_name(problem: Problem, names: Names) -> str:
    """The district of a street (streets of two districts may share a name); "" for a district."""
    return names.area(problem.area[:6]) if len(problem.area) > 6 else ""


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    """`text` left-aligned in `width` terminal columns (a Chinese character takes two)."""
    return text + " " * max(width - _width(text), 0)


def units_text(problem: Problem, names: Names) -> str:
    """The units with their cases: 热力集团(5)；望京街道(2)."""
    return "；".join(f"{names.unit(found.unit)}({found.cases})" for found in problem.units)


def _percent(part: int, whole: int) -> str:
    return percent(Fraction(part, whole)) if whole else ""


def monthly_csv(report: MonthlyReport, names: Names) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    earlier = report.months[:-1]
    writer.writerow(
        (
            "月份(month)",
            "名次(rank)",
            "类别代码(category code)",
            "类别(category)",
            "区域代码(area code)",
            "区域(area)",
            "所属区(district)",
            "本月诉求量(requests)",
            *(f"{which}诉求量(requests)" for which in earlier),
            "重复诉求(repeats)",
            "重复诉求占比%(repeat share)",
            "重办(reopened)",
            "重办占比%(reopened share)",
            "有效回访(counted callbacks)",
            "不满意(unsatisfied)",
            "不满意占比%(unsatisfied share)",
            "主要承办单位(units)",
        )
    )
    for problem in report.problems:
        writer.writerow(
            (
                report.month,
                problem.rank,
                problem.category,
                safe_cell(category_name(problem, names)),
                problem.area,
                safe_cell(area_name(problem, names)),
                safe_cell(district_name(problem, names)),
                problem.cases,
                *problem.trend[:-1],
                problem.repeats,
                _percent(problem.repeats, problem.cases),
                problem.reopened,
                _percent(problem.reopened, problem.cases),
                problem.callbacks,
                problem.unsatisfied,
                _percent(problem.unsatisfied, problem.callbacks),
                safe_cell(units_text(problem, names)),
            )
        )
    return "\ufeff" + out.getvalue()


def monthly_table(report: MonthlyReport, names: Names) -> str:
    """The report for a terminal: a line per group."""
    if not report.problems:
        return f"no request received in {report.month} in this scope\n"
    months = " ".join(which[5:] for which in report.months)
    lines = [
        f"每月一题 {report.month}: {report.received} requests; "
        f"category level {report.level}, by {report.area}",
        f"{'#':>3}  {_pad('category', 28)} {_pad('area', 20)} {'cases':>5}  trend ({months})"
        f"  {'repeat':>7} {'reopen':>7} {'unsat.':>7}  units",
    ]
    for problem in report.problems:
        trend = " ".join(f"{count:>2}" for count in problem.trend)
        shares = (
            _percent(problem.repeats, problem.cases),
            _percent(problem.reopened, problem.cases),
            _percent(problem.unsatisfied, problem.callbacks),
        )
        repeat, reopened, unsatisfied = (f"{share}%" if share else "—" for share in shares)
        place = " ".join(part for part in (district_name(problem, names), area_name(problem, names)) if part)
        lines.append(
            f"{problem.rank:>3}  {_pad(category_name(problem, names), 28)} {_pad(place, 20)} "
            f"{problem.cases:>5}  {trend}  {repeat:>7} {reopened:>7} {unsatisfied:>7}  "
            f"{units_text(problem, names)}"
        )
    return "\n".join(lines) + "\n"
