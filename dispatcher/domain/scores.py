"""The three rates (三率) of the hotline assessment, the composite score and the monthly ranking.

Over the valid callbacks (有效回访) of a unit in a period:

- 响应率 response rate = contacted / valid
- 解决率 resolution rate = resolved / valid
- 满意率 satisfaction rate = (satisfied + k × basically satisfied) / valid
- composite = w1 × response + w2 × resolution + w3 × satisfaction

All arithmetic is exact: each rate is worked out once, as a ratio of integers (`rate_ratios`), and read as a
`Fraction` (`Rates`) or rounded from the integers directly (`rate_figures`); rounding happens only when
showing a value (`ranking_csv`, `explain`, `as_float`). Pure: no I/O, no clock.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from functools import cached_property
from typing import NamedTuple

from sla.calendar import BEIJING

SATISFACTION_LEVELS = ("satisfied", "basically_satisfied", "unsatisfied")
BOTTOM = 10  # the bottom ten (后十名) are called in for talks
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a text cell starting so as a formula

_MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")


def check_month(month: str) -> str:
    """`month` if it is a "YYYY-MM" month, else ValueError."""
    if not isinstance(month, str) or not _MONTH.match(month):
        raise ValueError(f"a month is written YYYY-MM, got {month!r}")
    return month


def month_of(moment: datetime) -> str:
    """The "YYYY-MM" month of an aware datetime, in Beijing time."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"month_of needs an aware datetime, got the naive {moment.isoformat()}")
    return moment.astimezone(BEIJING).strftime("%Y-%m")


def month_span(month: str) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, in Beijing time."""
    year, number = map(int, check_month(month).split("-"))
    start = datetime(year, number, 1, tzinfo=BEIJING)
    return start, datetime(year + number // 12, number % 12 + 1, 1, tzinfo=BEIJING)


def previous_month(month: str) -> str:
    """The month before a "YYYY-MM" month (环比: compared with the previous month)."""
    year, number = map(int, check_month(month).split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


@dataclass(frozen=True)
class Tally:
    """Counts over the valid callbacks of one group (unit, post, person...) in a period."""

    valid: int = 0
    contacted: int = 0
    resolved: int = 0
    satisfied: int = 0
    basically_satisfied: int = 0

    def __post_init__(self) -> None:
        counts = {
            "valid": self.valid,
            "contacted": self.contacted,
            "resolved": self.resolved,
            "satisfied": self.satisfied,
            "basically_satisfied": self.basically_satisfied,
        }
        negative = [name for name, count in counts.items() if count < 0]
        if negative:
            raise ValueError(f"a tally cannot count below zero: {', '.join(negative)}")
        if max(self.contacted, self.resolved, self.satisfied + self.basically_satisfied) > self.valid:
            raise ValueError(f"a tally cannot count more than its {self.valid} valid callbacks: {self}")

    def __add__(self, other: Tally) -> Tally:
        if not isinstance(other, Tally):
            return NotImplemented
        return Tally(
            self.valid + other.valid,
            self.contacted + other.contacted,
            self.resolved + other.resolved,
            self.satisfied + other.satisfied,
            self.basically_satisfied + other.basically_satisfied,
        )

    @classmethod
    def of(cls, contacted: bool, resolved: bool, satisfaction: str) -> Tally:
        """The tally of one valid callback."""
        if satisfaction not in SATISFACTION_LEVELS:
            raise ValueError(f"satisfaction is one of {', '.join(SATISFACTION_LEVELS)}, got {satisfaction!r}")
        return cls(
            valid=1,
            contacted=int(contacted),
            resolved=int(resolved),
            satisfied=int(satisfaction == "satisfied"),
            basically_satisfied=int(satisfaction == "basically_satisfied"),
        )


class IntegerWeights(NamedTuple):
    """Weights over common denominators: composite = (response·contacted + resolution·resolved +
    satisfaction·satisfied + basic·basically satisfied) / (scale · valid); k = credit / credit_scale."""

    response: int
    resolution: int
    satisfaction: int
    basic: int
    scale: int
    credit: int
    credit_scale: int


@dataclass(frozen=True)
class Weights:
    """The weights of the three rates in the composite, and the credit k for 'basically satisfied'."""

    response: Fraction = Fraction(1, 10)
    resolution: Fraction = Fraction(1, 2)
    satisfaction: Fraction = Fraction(2, 5)
    basic_credit: Fraction = Fraction(9, 10)

    def __post_init__(self) -> None:
        for name in ("response", "resolution", "satisfaction", "basic_credit"):
            value = getattr(self, name)
            if not isinstance(value, int | Fraction) or isinstance(value, bool):
                raise ValueError(f"weight {name} must be exact: a Fraction (see Weights.of), got {value!r}")
            if not 0 <= value <= 1:
                raise ValueError(f"weight {name} must be between 0 and 1, got {_plain(Fraction(value))}")
        total = self.response + self.resolution + self.satisfaction
        if total != 1:
            raise ValueError(
                "the weights of response, resolution and satisfaction must sum to 1, got "
                f"{_plain(self.response)} + {_plain(self.resolution)} + {_plain(self.satisfaction)}"
                f" = {_plain(Fraction(total))}"
            )

    @cached_property
    def in_integers(self) -> IntegerWeights:
        """These weights over common denominators, for the published rates' integer arithmetic."""
        basic = self.satisfaction * self.basic_credit
        coefficients = (self.response, self.resolution, self.satisfaction, basic)
        scale = math.lcm(*(Fraction(c).denominator for c in coefficients))
        r, s, t, b = (int(c * scale) for c in coefficients)
        credit = Fraction(self.basic_credit)
        return IntegerWeights(r, s, t, b, scale, credit.numerator, credit.denominator)

    @classmethod
    def of(
        cls,
        response: str | int | Fraction,
        resolution: str | int | Fraction,
        satisfaction: str | int | Fraction,
        basic_credit: str | int | Fraction = Fraction(9, 10),
    ) -> Weights:
        """Weights from strings as settings write them ("0.1", "1/3"), read exactly."""
        return cls(Fraction(response), Fraction(resolution), Fraction(satisfaction), Fraction(basic_credit))


@dataclass(frozen=True)
class PeriodWeights:
    """Weights that apply from month `since` to month `until` (inclusive; None = open),
    for one unit class or for all of them (None)."""

    since: str
    until: str | None
    unit_class: str | None
    weights: Weights

    def __post_init__(self) -> None:
        check_month(self.since)
        if self.until is not None and check_month(self.until) < self.since:
            raise ValueError(f"weights cannot end ({self.until}) before they start ({self.since})")

    def applies(self, month: str, unit_class: str) -> bool:
        in_period = self.since <= month and (self.until is None or month <= self.until)
        return in_period and self.unit_class in (None, unit_class)


@dataclass(frozen=True)
class ScoreSettings:
    """The default weights and those set for some periods and unit classes."""

    default: Weights = Weights()
    periods: tuple[PeriodWeights, ...] = ()

    def __post_init__(self) -> None:
        starts = [(period.unit_class, period.since) for period in self.periods]
        twice = sorted({start for start in starts if starts.count(start) > 1}, key=str)
        if twice:
            raise ValueError(f"weights set twice for the same class and start month: {twice}")

    def weights_for(self, month: str, unit_class: str) -> Weights:
        """The most specific period matching wins: class-specific over all-classes, then the latest start."""
        check_month(month)
        matching = [period for period in self.periods if period.applies(month, unit_class)]
        if not matching:
            return self.default
        return max(matching, key=lambda period: (period.unit_class is not None, period.since)).weights


Ratio = tuple[int, int]
"""numerator / denominator, in integers (denominator > 0, not necessarily in lowest terms)."""


class RateRatios(NamedTuple):
    response_rate: Ratio
    resolution_rate: Ratio
    satisfaction_rate: Ratio
    composite: Ratio


def rate_ratios(tally: Tally, weights: Weights) -> RateRatios | None:
    """The three rates and the composite as ratios of integers, the one place they are worked out; None
    without valid callbacks. The weights are taken over their common denominators (`Weights.in_integers`,
    which says how), so that the ratios equal the definitions in fractions (module docstring) exactly."""
    t = tally
    if t.valid == 0:
        return None
    w = weights.in_integers
    credited = t.satisfied * w.credit_scale + t.basically_satisfied * w.credit
    composite = w.response * t.contacted + w.resolution * t.resolved
    composite += w.satisfaction * t.satisfied + w.basic * t.basically_satisfied
    return RateRatios(
        (t.contacted, t.valid),
        (t.resolved, t.valid),
        (credited, t.valid * w.credit_scale),
        (composite, t.valid * w.scale),
    )


@dataclass(frozen=True)
class Rates:
    """The three rates and the composite of a tally under some weights; None without valid callbacks."""

    tally: Tally
    weights: Weights

    @cached_property
    def ratios(self) -> RateRatios | None:
        return rate_ratios(self.tally, self.weights)

    @cached_property
    def response_rate(self) -> Fraction | None:
        return None if self.ratios is None else Fraction(*self.ratios.response_rate)

    @cached_property
    def resolution_rate(self) -> Fraction | None:
        return None if self.ratios is None else Fraction(*self.ratios.resolution_rate)

    @cached_property
    def satisfaction_rate(self) -> Fraction | None:
        return None if self.ratios is None else Fraction(*self.ratios.satisfaction_rate)

    @cached_property
    def composite(self) -> Fraction | None:
        return None if self.ratios is None else Fraction(*self.ratios.composite)


def rates(tally: Tally, weights: Weights) -> Rates:
    """The rates of a tally under the weights of its month and unit class (`ScoreSettings.weights_for`)."""
    return Rates(tally, weights)


@dataclass(frozen=True)
class Secondary:
    """Indicators shown next to the rates, not part of the composite."""

    received: int = 0
    overdue: int = 0
    rejected_returns: int = 0
    extensions: int = 0
    co_handled: int = 0  # 吹哨报到: its parts, as a unit called in, whose report fell due in the month
    co_overdue: int = 0  # of which a deadline (to acknowledge or to report) breached

    def __post_init__(self) -> None:
        counts = (self.received, self.overdue, self.rejected_returns, self.extensions)
        if min(*counts, self.co_handled, self.co_overdue) < 0:
            raise ValueError(f"secondary indicators cannot be negative: {self}")


@dataclass(frozen=True)
class RankingRow:
    """One unit's line in the monthly ranking of its class."""

    rank: int
    unit: str
    unit_class: str
    rates: Rates
    secondary: Secondary
    previous_rank: int | None
    previous_composite: Fraction | None
    change: Fraction | None  # composite − previous composite
    rank_change: int | None  # previous rank − rank: positive = climbed
    bottom_ten: bool


def ranked_units(scores: Mapping[str, Rates]) -> list[str]:
    """Units with valid callbacks, best first: composite desc, then more valid callbacks, then unit id."""

    def best_first(unit: str) -> tuple[Fraction, int, str]:
        composite = scores[unit].composite
        assert composite is not None
        return -composite, -scores[unit].tally.valid, unit

    return sorted((unit for unit, r in scores.items() if r.tally.valid > 0), key=best_first)


def rank(
    unit_class: str,
    current: Mapping[str, Rates],
    previous: Mapping[str, Rates],
    secondary: Mapping[str, Secondary] | None = None,
) -> list[RankingRow]:
    """The ranking of one unit class for a month, compared with the previous month.

    Units without valid callbacks this month have no rates and are left out. Ranks run 1..n without
    shared places, in the order of `ranked_units`. The last min(10, n) ranked are the bottom ten.
    """
    order = ranked_units(current)
    previous_ranks = {unit: place for place, unit in enumerate(ranked_units(previous), start=1)}
    secondary = secondary or {}
    rows = []
    for place, unit in enumerate(order, start=1):
        now = current[unit]
        before = previous.get(unit)
        previous_composite = before.composite if before is not None else None
        previous_rank = previous_ranks.get(unit)
        composite = now.composite
        change = None if composite is None or previous_composite is None else composite - previous_composite
        rows.append(
            RankingRow(
                rank=place,
                unit=unit,
                unit_class=unit_class,
                rates=now,
                secondary=secondary.get(unit, Secondary()),
                previous_rank=previous_rank,
                previous_composite=previous_composite,
                change=change,
                rank_change=None if previous_rank is None else previous_rank - place,
                bottom_ten=place > len(order) - BOTTOM,
            )
        )
    return rows


CSV_HEADER = (
    "月份(month)",
    "排名(rank)",
    "单位(unit)",
    "类别(class)",
    "有效回访(valid)",
    "响应率(response)",
    "解决率(resolution)",
    "满意率(satisfaction)",
    "综合得分(composite)",
    "环比变化(change)",
    "上月排名(previous rank)",
    "名次变化(rank change)",
    "受理量(received)",
    "超期(overdue)",
    "退单驳回(rejected returns)",
    "延期(extensions)",
    "后十名(bottom ten)",
    "协办(co-handled)",
    "协办超期(co-handling overdue)",
)


def ranking_csv(month: str, rows: Sequence[RankingRow]) -> str:
    """The ranking of `month` as a CSV for Excel/WPS: UTF-8 BOM, CRLF, rates in percent, text cells safe
    from formulas, empty cells where there is no value."""
    check_month(month)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in rows:
        r, s = row.rates, row.secondary
        writer.writerow(
            (
                month,
                row.rank,
                safe_cell(row.unit),
                safe_cell(row.unit_class),
                r.tally.valid,
                percent(r.response_rate),
                percent(r.resolution_rate),
                percent(r.satisfaction_rate),
                "" if r.composite is None else fixed(r.composite, 4),
                "" if row.change is None else fixed(row.change, 4, signed=True),
                "" if row.previous_rank is None else row.previous_rank,
                "" if row.rank_change is None else signed(row.rank_change),
                s.received,
                s.overdue,
                s.rejected_returns,
                s.extensions,
                "是" if row.bottom_ten else "",
                s.co_handled,
                s.co_overdue,
            )
        )
    return "\ufeff" + out.getvalue()


def safe_cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula: a leading apostrophe where it would."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def fixed(value: Fraction, places: int, signed: bool = False) -> str:
    """`value` with `places` decimals, rounded half away from zero (四舍五入); '+' when signed and above 0."""
    return _fixed(value.numerator, value.denominator, places, signed)


def _fixed(numerator: int, denominator: int, places: int, signed: bool = False) -> str:
    """`fixed` of numerator / denominator (denominator > 0, not necessarily in lowest terms)."""
    # floor(|value| × 10^places + 1/2), in integers: |n| / d × 10^p + 1/2 = (2 |n| 10^p + d) / 2d
    scaled = (2 * abs(numerator) * 10**places + denominator) // (2 * denominator)
    digits = str(scaled).rjust(places + 1, "0")
    text = f"{digits[:-places]}.{digits[-places:]}" if places else digits
    sign = "-" if numerator < 0 and scaled else "+" if signed and scaled else ""
    return sign + text


def signed(steps: int) -> str:
    """A rank change as people read it: "+3", "-2", "0"."""
    return f"{steps:+d}" if steps else "0"


def percent(value: Fraction | None) -> str:
    """A rate as a percentage with 2 decimals ("97.50"); empty for no rate."""
    return "" if value is None else fixed(value * 100, 2)


@dataclass(frozen=True)
class Breakdown:
    """The arithmetic of a unit's rates, in words."""

    lines: tuple[str, ...]


def explain(rates: Rates) -> Breakdown:
    """The rates worked out in words, for whoever asks how a score came about."""
    t, w = rates.tally, rates.weights
    if t.valid == 0:
        return Breakdown(("有效回访 valid = 0: no callback counts, so no rates and no composite",))
    response, resolution, satisfaction = rates.response_rate, rates.resolution_rate, rates.satisfaction_rate
    assert response is not None and resolution is not None and satisfaction is not None
    assert rates.composite is not None
    return Breakdown(
        (
            f"有效回访 valid = {t.valid}",
            f"响应率 response = contacted {t.contacted} / valid {t.valid} = {percent(response)}%",
            f"解决率 resolution = resolved {t.resolved} / valid {t.valid} = {percent(resolution)}%",
            f"满意率 satisfaction = (satisfied {t.satisfied} + {_plain(w.basic_credit)} × basically "
            f"{t.basically_satisfied}) / {t.valid} = {percent(satisfaction)}%",
            f"综合得分 composite = {_plain(w.response)} × {percent(response)}% + {_plain(w.resolution)} × "
            f"{percent(resolution)}% + {_plain(w.satisfaction)} × {percent(satisfaction)}% = "
            f"{fixed(rates.composite, 4)}",
        )
    )


def as_float(value: Fraction | None, places: int = 6) -> float | None:
    """A Fraction as a float rounded half up to `places` decimals, for JSON; None stays None."""
    return None if value is None else float(fixed(value, places))


def _plain(value: Fraction) -> str:
    """A weight as people write it: "0.9" when it is a short decimal, else "1/3"."""
    for places in range(7):
        if (value * 10**places).denominator == 1:
            return fixed(value, places) if places else str(value.numerator)
    return str(value)


@dataclass(frozen=True)
class UnitScores:
    """A unit's rates for a month, as published (`final` once the month's ranking is out)."""

    unit: str
    unit_class: str
    month: str
    rates: Rates
    final: bool = False


def rate_figures(rates: Rates) -> dict[str, float | None]:
    """The rates as published and shown: floats to 6 places, None without a base. Rounded from the integer
    ratios (`rate_ratios`), as `as_float` of each rate would give, without making the Fractions: every
    scores event is built this way."""
    ratios = rate_ratios(rates.tally, rates.weights)
    if ratios is None:
        return dict.fromkeys(RateRatios._fields)
    response, resolution, satisfaction, composite = ratios
    return {
        "response_rate": float(_fixed(*response, 6)),
        "resolution_rate": float(_fixed(*resolution, 6)),
        "satisfaction_rate": float(_fixed(*satisfaction, 6)),
        "composite": float(_fixed(*composite, 6)),
    }
