"""The dashboard's chart geometry (jiesu.web.charts) and the router's candidates for the dispatch desk's
picker (rules.router.CatalogRouter.candidates)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from dispatcher.adapters.catalog import catalog_router
from dispatcher.adapters.sla_file import load_sla
from jiesu.web import charts
from rules.complaint import Complaint, Location
from tests.support.catalogs import write_catalog

AT = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def test_count_axes_end_on_a_round_number_with_whole_ticks() -> None:
    assert [charts.nice_top(value) for value in (0, 1, 3, 5, 9, 37, 150, 1234)] == [
        4, 4, 4, 8, 20, 40, 200, 2000,
    ]  # fmt: skip
    chart = charts.stacked_bars([[1, 2], [0, 0], [3, 0]], ["a", "b"], ["d1", "d2", "d3"])
    assert [bar.title for bar in chart.bars] == ["d1 a: 1", "d1 b: 2", "d3 a: 3"]  # no bar for a zero
    assert [label for _, label in chart.y_ticks] == ["0", "1", "2", "3", "4"]
    first, second = chart.bars[:2]
    assert second.y + second.height == first.y  # stacked
    assert chart.legend == [(charts.PALETTE[0], "a"), (charts.PALETTE[1], "b")]


def test_a_rate_line_breaks_where_a_month_has_no_figure() -> None:
    chart = charts.rate_lines([("响应率", [0.5, None, 0.75, 1.0])], ["m1", "m2", "m3", "m4"])
    [line] = chart.lines
    assert [point.title for point in line.points] == [
        "m1 响应率: 50.0%",
        "m3 响应率: 75.0%",
        "m4 响应率: 100.0%",
    ]
    assert len(line.segments) == 2 and line.segments[0].count(",") == 1  # m1 alone, then m3-m4
    bars = charts.rate_bars([None, 0.25], ["w1", "w2"], what="超期率")
    assert [bar.title for bar in bars.bars] == ["w2 超期率: 25.0%"]


def test_the_candidates_of_a_request_left_in_triage_put_the_likeliest_unit_first(tmp_path: Path) -> None:
    folder = write_catalog(tmp_path, catalog_yaml={"territorial_post": "desk", "classifier_threshold": 0.9})
    router = catalog_router(folder, load_sla(Path("config/sla.yaml")).calendar)
    where = Location(district="朝阳区", street="望京街道")
    complaint = Complaint("T1", AT, "phone", "complaint", "暖气片不热，物业也不管", location=where)
    assert router.route(complaint, AT).queue == "triage"
    found = router.candidates(complaint, AT)
    assert [(c.assignment.unit, c.category, c.share) for c in found] == [
        ("ent-heating", "0101", 0.667),
        ("street-110105010", "02", 0.333),
        ("district-110105", None, None),  # the place's district, last
    ]
    assert found[0].assignment.post == "dispatch" and not any(c.decided for c in found)

    dispatched = Complaint("T2", AT, "phone", "complaint", "暖气不热", category="0101", location=where)
    instead = router.candidates(dispatched, AT, exclude=frozenset({"ent-heating"}))
    assert (
        instead[0].decided
        and instead[0].assignment.unit
        == router.propose(dispatched, AT, frozenset({"ent-heating"})).assignment.unit
    )  # type: ignore[union-attr]
    assert "ent-heating" not in [c.assignment.unit for c in instead]
