"""The three rates (三率), the composite, the weights per period and class, the monthly ranking, its CSV."""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from datetime import UTC, datetime
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatcher.domain.scores import (
    CSV_HEADER,
    Breakdown,
    PeriodWeights,
    Rates,
    ScoreSettings,
    Secondary,
    Tally,
    Weights,
    as_float,
    explain,
    fixed,
    month_of,
    percent,
    previous_month,
    rank,
    ranking_csv,
    rate_figures,
    rates,
)
from tests.support.clock import BEIJING

DEFAULT = Weights()
# 50 valid callbacks: 45 contacted, 42 resolved, 40 satisfied, 5 basically satisfied, 5 unsatisfied.
EXAMPLE = Tally(valid=50, contacted=45, resolved=42, satisfied=40, basically_satisfied=5)


def callbacks(
    count: int, *, contacted: bool = True, resolved: bool = True, satisfaction: str = "satisfied"
) -> Tally:
    """The tally of `count` alike valid callbacks."""
    return sum((Tally.of(contacted, resolved, satisfaction) for _ in range(count)), Tally())


def scored(valid: int, resolved: int, weights: Weights = DEFAULT) -> Rates:
    """Rates of a unit that contacted and satisfied everyone and resolved `resolved` of `valid`."""
    return rates(Tally(valid=valid, contacted=valid, resolved=resolved, satisfied=valid), weights)


# -- the formulas -----------------------------------------------------------------------------------------


def test_the_three_rates_and_the_composite_of_a_hand_computed_example():
    r = rates(EXAMPLE, DEFAULT)
    assert r.response_rate == Fraction(45, 50)  # 90%
    assert r.resolution_rate == Fraction(42, 50)  # 84%
    assert r.satisfaction_rate == Fraction(89, 100)  # (40 + 0.9 × 5) / 50 = 44.5 / 50
    assert r.composite == Fraction(866, 1000)  # 0.1 × 0.9 + 0.5 × 0.84 + 0.4 × 0.89 = 0.09 + 0.42 + 0.356


def test_the_credit_for_basically_satisfied_is_a_setting():
    full_credit = Weights(basic_credit=Fraction(1))
    no_credit = Weights(basic_credit=Fraction(0))
    assert rates(EXAMPLE, full_credit).satisfaction_rate == Fraction(45, 50)
    assert rates(EXAMPLE, no_credit).satisfaction_rate == Fraction(40, 50)


def test_callbacks_add_up_to_a_tally():
    tally = (
        callbacks(40)
        + callbacks(3, resolved=False, satisfaction="basically_satisfied")
        + callbacks(2, resolved=True, satisfaction="basically_satisfied")
        + callbacks(5, contacted=False, resolved=False, satisfaction="unsatisfied")
    )
    assert tally == EXAMPLE
    assert Tally.of(False, False, "unsatisfied") == Tally(valid=1)


def test_a_tally_refuses_an_unknown_rating_and_impossible_counts():
    with pytest.raises(ValueError, match="one of satisfied, basically_satisfied, unsatisfied, got 'very"):
        Tally.of(True, True, "very satisfied")
    with pytest.raises(ValueError, match="more than its 3 valid callbacks"):
        Tally(valid=3, satisfied=2, basically_satisfied=2)
    with pytest.raises(ValueError, match="below zero: contacted"):
        Tally(valid=3, contacted=-1)


def test_without_valid_callbacks_there_is_no_rate():
    r = rates(Tally(), DEFAULT)
    assert (r.response_rate, r.resolution_rate, r.satisfaction_rate, r.composite) == (None, None, None, None)
    assert as_float(r.composite) is None
    assert explain(r).lines == ("有效回访 valid = 0: no callback counts, so no rates and no composite",)


def test_the_arithmetic_in_words():
    assert explain(rates(EXAMPLE, DEFAULT)) == Breakdown(
        (
            "有效回访 valid = 50",
            "响应率 response = contacted 45 / valid 50 = 90.00%",
            "解决率 resolution = resolved 42 / valid 50 = 84.00%",
            "满意率 satisfaction = (satisfied 40 + 0.9 × basically 5) / 50 = 89.00%",
            "综合得分 composite = 0.1 × 90.00% + 0.5 × 84.00% + 0.4 × 89.00% = 0.8660",
        )
    )


def test_values_are_shown_rounded_half_up_and_as_floats_for_json():
    assert percent(Fraction(1, 3)) == "33.33"
    assert percent(Fraction(2, 3)) == "66.67"
    assert percent(Fraction(1, 1)) == "100.00"
    assert fixed(Fraction(1, 8), 2) == "0.13"  # 四舍五入, not banker's rounding
    assert fixed(Fraction(-1, 200), 4, signed=True) == "-0.0050"
    assert fixed(Fraction(123, 10000), 4, signed=True) == "+0.0123"
    assert fixed(Fraction(-1, 10**6), 4, signed=True) == "0.0000"
    assert as_float(Fraction(2, 3)) == 0.666667
    assert as_float(Fraction(2, 3), places=2) == 0.67
    assert as_float(Fraction(-1, 8), places=2) == -0.13


def test_published_figures_are_the_exact_rates_rounded_for_any_tally_and_weights():
    rng = random.Random(2026)
    for _ in range(5_000):
        valid = rng.randint(0, 3_000)
        satisfied = rng.randint(0, valid)
        tally = Tally(
            valid=valid,
            contacted=rng.randint(0, valid),
            resolved=rng.randint(0, valid),
            satisfied=satisfied,
            basically_satisfied=rng.randint(0, valid - satisfied),
        )
        response = Fraction(rng.randint(0, 12), 12)
        resolution = Fraction(rng.randint(0, 7), 7) * (1 - response)
        weights = Weights(response, resolution, 1 - response - resolution, Fraction(rng.randint(0, 30), 30))
        exact = Rates(tally, weights)
        assert rate_figures(exact) == {
            "response_rate": as_float(exact.response_rate),
            "resolution_rate": as_float(exact.resolution_rate),
            "satisfaction_rate": as_float(exact.satisfaction_rate),
            "composite": as_float(exact.composite),
        }


@st.composite
def tallies(draw: st.DrawFn) -> Tally:
    valid = draw(st.integers(0, 10**7) | st.integers(0, 12))
    satisfied = draw(st.integers(0, valid))
    return Tally(
        valid=valid,
        contacted=draw(st.integers(0, valid)),
        resolved=draw(st.integers(0, valid)),
        satisfied=satisfied,
        basically_satisfied=draw(st.integers(0, valid - satisfied)),
    )


def shares(denominators: st.SearchStrategy[int]) -> st.SearchStrategy[Fraction]:
    """Fractions in [0, 1]."""
    return denominators.flatmap(lambda d: st.integers(0, d).map(lambda n: Fraction(n, d)))


@st.composite
def any_weights(draw: st.DrawFn) -> Weights:
    denominators = st.sampled_from([1, 2, 3, 4, 5, 7, 10, 12, 20, 100, 1000, 997, 10**6])
    response = draw(shares(denominators))
    resolution = (1 - response) * draw(shares(denominators))
    return Weights(response, resolution, 1 - response - resolution, draw(shares(denominators)))


@settings(max_examples=500, deadline=None)
@given(tally=tallies(), weights=any_weights())
def test_the_integer_figures_agree_with_the_rates_defined_in_fractions(tally: Tally, weights: Weights):
    """What is published (in integers) and what is ranked and explained (`Fraction`) are the definitions of
    the module's docstring, worked out here in fractions independently of the module."""
    exact = Rates(tally, weights)
    figures = rate_figures(exact)
    if tally.valid == 0:
        assert (exact.response_rate, exact.resolution_rate, exact.satisfaction_rate, exact.composite) == (
            None,
            None,
            None,
            None,
        )
        assert set(figures.values()) == {None}
        return
    response = Fraction(tally.contacted, tally.valid)
    resolution = Fraction(tally.resolved, tally.valid)
    satisfaction = (tally.satisfied + weights.basic_credit * tally.basically_satisfied) / tally.valid
    composite = weights.response * response + weights.resolution * resolution
    composite += weights.satisfaction * satisfaction
    assert (exact.response_rate, exact.resolution_rate, exact.satisfaction_rate, exact.composite) == (
        response,
        resolution,
        satisfaction,
        composite,
    )
    assert figures == {
        "response_rate": as_float(response),
        "resolution_rate": as_float(resolution),
        "satisfaction_rate": as_float(satisfaction),
        "composite": as_float(composite),
    }


# -- the weights ------------------------------------------------------------------------------------------

W2026 = Weights.of("0.1", "0.5", "0.4", basic_credit="0.9")
W2027 = Weights.of("0.2", "0.4", "0.4", basic_credit="0.8")
W2027_ENTERPRISE = Weights.of("0.1", "0.3", "0.6", basic_credit="0.8")
W2027_SECOND_HALF = Weights.of("0.2", "0.3", "0.5", basic_credit="0.8")
SETTINGS = ScoreSettings(
    default=Weights.of("0.3", "0.4", "0.3", basic_credit="1"),
    periods=(
        PeriodWeights("2026-01", "2026-12", None, W2026),
        PeriodWeights("2027-01", None, None, W2027),
        PeriodWeights("2027-07", None, None, W2027_SECOND_HALF),
        PeriodWeights("2027-01", None, "enterprise", W2027_ENTERPRISE),
    ),
)


def test_weights_change_with_the_period():
    assert SETTINGS.weights_for("2026-01", "street") == W2026
    assert SETTINGS.weights_for("2026-12", "street") == W2026
    assert SETTINGS.weights_for("2027-01", "street") == W2027
    assert SETTINGS.weights_for("2027-06", "department") == W2027
    assert SETTINGS.weights_for("2027-07", "department") == W2027_SECOND_HALF  # latest start among equals
    assert SETTINGS.weights_for("2025-12", "street") == SETTINGS.default  # before any period
    assert rates(EXAMPLE, W2026).composite != rates(EXAMPLE, W2027).composite


def test_class_specific_weights_beat_those_for_all_classes():
    assert SETTINGS.weights_for("2027-03", "enterprise") == W2027_ENTERPRISE
    # even over an all-classes period that starts later (2027-07)
    assert SETTINGS.weights_for("2028-09", "enterprise") == W2027_ENTERPRISE
    assert SETTINGS.weights_for("2027-03", "street") == W2027
    assert SETTINGS.weights_for("2026-03", "enterprise") == W2026


def test_weights_must_be_between_0_and_1_and_sum_to_1():
    with pytest.raises(ValueError, match=r"must sum to 1, got 0\.2 \+ 0\.5 \+ 0\.4 = 1\.1"):
        Weights.of("0.2", "0.5", "0.4")
    with pytest.raises(ValueError, match=r"weight resolution must be between 0 and 1, got -0\.1"):
        Weights.of("0.6", "-0.1", "0.5")
    with pytest.raises(ValueError, match=r"weight basic_credit must be between 0 and 1, got 1\.2"):
        Weights.of("0.1", "0.5", "0.4", basic_credit="1.2")
    with pytest.raises(ValueError, match="must be exact"):
        Weights(response=0.1, resolution=0.5, satisfaction=0.4)  # type: ignore[arg-type]


def test_periods_are_checked():
    with pytest.raises(ValueError, match="YYYY-MM"):
        PeriodWeights("2027-13", None, None, W2027)
    with pytest.raises(ValueError, match="before they start"):
        PeriodWeights("2027-05", "2027-04", None, W2027)
    with pytest.raises(ValueError, match="set twice"):
        ScoreSettings(periods=(PeriodWeights("2027-01", None, None, W2027),) * 2)
    with pytest.raises(ValueError, match="YYYY-MM"):
        SETTINGS.weights_for("2027-1", "street")


# -- the ranking ------------------------------------------------------------------------------------------


def test_units_rank_by_composite_then_by_more_valid_callbacks_then_by_unit_id():
    current = {
        "a-street": scored(10, 10),  # composite 1, 10 valid
        "z-street": scored(20, 20),  # composite 1, 20 valid: above a-street
        "m-street": scored(20, 20),  # composite 1, 20 valid: tie with z-street, m before z
        "b-street": scored(20, 10),  # composite 0.75
        "silent": rates(Tally(), DEFAULT),  # no valid callback: not ranked
    }
    rows = rank("street", current, previous={})
    assert [row.unit for row in rows] == ["m-street", "z-street", "a-street", "b-street"]
    assert [row.rank for row in rows] == [1, 2, 3, 4]
    assert {row.unit_class for row in rows} == {"street"}


def test_month_over_month_change_and_rank_change():
    nothing = rates(Tally(), DEFAULT)
    current = {"up": scored(20, 20), "down": scored(20, 16), "new": scored(10, 5), "gone": nothing}
    previous = {"down": scored(20, 20), "up": scored(20, 18), "gone": scored(5, 0), "idle": nothing}
    rows = {row.unit: row for row in rank("street", current, previous)}
    assert set(rows) == {"up", "down", "new"}

    up, down, new = rows["up"], rows["down"], rows["new"]
    assert (up.rank, up.previous_rank, up.rank_change) == (1, 2, 1)
    assert up.change == Fraction(1) - Fraction(19, 20)  # resolution 18/20 -> 20/20, weight 0.5
    assert up.previous_composite == Fraction(19, 20)
    assert (down.rank, down.previous_rank, down.rank_change) == (2, 1, -1)
    assert down.change == Fraction(-1, 10)
    assert (new.rank, new.previous_rank, new.rank_change) == (3, None, None)
    assert (new.change, new.previous_composite) == (None, None)


def test_a_unit_idle_last_month_has_no_previous_rank():
    rows = rank("street", {"idle": scored(4, 4)}, {"idle": rates(Tally(), DEFAULT)})
    assert (rows[0].previous_rank, rows[0].previous_composite, rows[0].change) == (None, None, None)


def test_the_bottom_ten_of_25_units():
    current = {f"u{n:02d}": scored(25, n) for n in range(1, 26)}  # u25 resolves most
    rows = rank("street", current, {})
    assert [row.unit for row in rows][:3] == ["u25", "u24", "u23"]
    assert [row.unit for row in rows if row.bottom_ten] == [f"u{n:02d}" for n in range(10, 0, -1)]
    assert [row.rank for row in rows if row.bottom_ten] == list(range(16, 26))


def test_with_6_units_all_of_them_are_the_bottom_ten():
    rows = rank("enterprise", {f"e{n}": scored(6, n) for n in range(1, 7)}, {})
    assert len(rows) == 6
    assert all(row.bottom_ten for row in rows)


def test_secondary_indicators_are_carried_through():
    figures = Secondary(received=120, overdue=3, rejected_returns=2, extensions=1)
    rows = rank("street", {"a": scored(4, 4), "b": scored(4, 3)}, {}, {"a": figures})
    assert (rows[0].secondary, rows[1].secondary) == (figures, Secondary())
    with pytest.raises(ValueError, match="cannot be negative"):
        Secondary(overdue=-1)


# -- the CSV ----------------------------------------------------------------------------------------------


def parse(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def test_the_ranking_csv_opens_in_excel_with_chinese_headers_and_percentages():
    current = {"朝阳区望京街道": rates(EXAMPLE, DEFAULT), "朝阳区麦子店街道": scored(10, 5)}
    halved = EXAMPLE + callbacks(50, contacted=False, resolved=False, satisfaction="unsatisfied")
    previous = {"朝阳区望京街道": rates(halved, DEFAULT), "朝阳区麦子店街道": scored(8, 8)}
    figures = {
        "朝阳区望京街道": Secondary(
            received=61, overdue=2, rejected_returns=1, extensions=3, co_handled=4, co_overdue=1
        )
    }
    text = ranking_csv("2026-12", rank("street", current, previous, figures))

    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    header, first, second = parse(text)
    assert header == list(CSV_HEADER)
    assert header[:9] == [
        "月份(month)",
        "排名(rank)",
        "单位(unit)",
        "类别(class)",
        "有效回访(valid)",
        "响应率(response)",
        "解决率(resolution)",
        "满意率(satisfaction)",
        "综合得分(composite)",
    ]
    # 望京: every rate halved last month (0.4330), now 0.8660; 麦子店: 1 last month, now 0.75
    assert first[:9] == [
        "2026-12",
        "1",
        "朝阳区望京街道",
        "street",
        "50",
        "90.00",
        "84.00",
        "89.00",
        "0.8660",
    ]
    assert first[9:] == ["+0.4330", "2", "+1", "61", "2", "1", "3", "是", "4", "1"]
    assert header[-2:] == ["协办(co-handled)", "协办超期(co-handling overdue)"]
    assert second[:9] == [
        "2026-12",
        "2",
        "朝阳区麦子店街道",
        "street",
        "10",
        "100.00",
        "50.00",
        "100.00",
        "0.7500",
    ]
    assert second[9:] == ["-0.2500", "1", "-1", "0", "0", "0", "0", "是", "0", "0"]


def test_the_csv_leaves_cells_empty_where_there_is_nothing_to_compare():
    rows = rank("street", {"new": scored(4, 4), "same": scored(5, 5)}, {"same": scored(5, 5)})
    header, same, new = parse(ranking_csv("2026-12", rows))
    compared = [
        header.index(name)
        for name in ("环比变化(change)", "上月排名(previous rank)", "名次变化(rank change)")
    ]
    assert [same[i] for i in compared] == ["0.0000", "1", "0"]
    assert [new[i] for i in compared] == ["", "", ""]
    with pytest.raises(ValueError, match="YYYY-MM"):
        ranking_csv("Dec 2026", rows)


def test_the_csv_does_not_let_a_unit_id_become_a_formula():
    hostile = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"]
    rows = rank("street", {name: scored(4, n) for n, name in enumerate(hostile)}, {})
    units = [line[2] for line in parse(ranking_csv("2026-12", rows))[1:]]
    assert sorted(units) == sorted("'" + name for name in hostile)
    plain = parse(ranking_csv("2026-12", rank("street", {"海淀区-学院路": scored(4, 4)}, {})))[1][2]
    assert plain == "海淀区-学院路"


# -- randomized: exact aggregation agrees with a plain float computation ------------------------------------


def random_callback(rng: random.Random) -> tuple[str, bool, bool, bool, str]:
    """unit, valid, contacted, resolved, rating: about 10% invalid, 92% contacted, 70% resolved."""
    unit = f"unit-{rng.randrange(300):03d}"
    valid, contacted, resolved = rng.random() < 0.9, rng.random() < 0.92, rng.random() < 0.7
    rating = rng.choices(("satisfied", "basically_satisfied", "unsatisfied"), (6, 3, 1))[0]
    return unit, valid, contacted, resolved, rating


def test_10000_random_callbacks_over_300_units_agree_with_a_float_reference():
    rng = random.Random(12345)
    calls = [random_callback(rng) for _ in range(10_000)]
    weights = Weights.of("0.15", "0.45", "0.4", basic_credit="0.85")

    tallies: dict[str, Tally] = defaultdict(Tally)
    for unit, valid, contacted, resolved, rating in calls:
        tallies[unit] += Tally.of(contacted, resolved, rating) if valid else Tally()
    scores = {unit: rates(tally, weights) for unit, tally in tallies.items()}

    # The reference: plain float counts and the formulas written out again.
    counts: dict[str, list[float]] = defaultdict(
        lambda: [0.0] * 5
    )  # valid, contacted, resolved, sat., basic.
    for unit, valid, contacted, resolved, rating in calls:
        if valid:
            c = counts[unit]
            c[0] += 1
            c[1] += contacted
            c[2] += resolved
            c[3] += rating == "satisfied"
            c[4] += rating == "basically_satisfied"
    reference: dict[str, tuple[float, float, float, float]] = {}
    for unit, (n, contacted_n, resolved_n, satisfied_n, basic_n) in counts.items():
        response, resolution, satisfaction = (
            contacted_n / n,
            resolved_n / n,
            (satisfied_n + 0.85 * basic_n) / n,
        )
        composite = 0.15 * response + 0.45 * resolution + 0.4 * satisfaction
        reference[unit] = (response, resolution, satisfaction, composite)

    assert sum(t.valid for t in tallies.values()) == sum(c[0] for c in counts.values()) > 8_500
    for unit, r in scores.items():
        if unit not in reference:
            assert r.composite is None  # only invalid callbacks
            continue
        exact = (r.response_rate, r.resolution_rate, r.satisfaction_rate, r.composite)
        assert [as_float(value, places=12) for value in exact] == pytest.approx(reference[unit], abs=1e-9)

    rows = rank("street", scores, {})
    composites = [row.rates.composite for row in rows]
    assert all(a is not None and b is not None and a >= b for a, b in pairwise(composites))
    best_first = sorted(reference, key=lambda unit: (-round(reference[unit][3], 9), -counts[unit][0], unit))
    assert [row.unit for row in rows] == best_first
    assert [row.rank for row in rows if row.bottom_ten] == list(range(len(rows) - 9, len(rows) + 1))


# -- months -----------------------------------------------------------------------------------------------


def test_the_month_is_the_beijing_month():
    assert month_of(datetime(2026, 11, 30, 16, 30, tzinfo=UTC)) == "2026-12"
    assert month_of(datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC)) == "2026-11"
    assert month_of(datetime(2026, 12, 1, 0, 30, tzinfo=BEIJING)) == "2026-12"
    with pytest.raises(ValueError, match="aware"):
        month_of(datetime(2026, 11, 30, 16, 30))
    assert previous_month("2027-01") == "2026-12"
    assert previous_month("2026-12") == "2026-11"
