"""Charts as inline SVG drawn on the server: the geometry of stacked bars, bars of a rate and lines of rates,
in a fixed coordinate space (`WIDTH` × `HEIGHT`) that the template scales to the page. No script, no
external asset: a chart is a few rectangles, polylines and labels, each bar and point with its value in a
`<title>` (a tooltip), and the template adds the chart's title and description and a table of the same
figures for who cannot see it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH, HEIGHT = 600, 240
WIDE = 1100  # a chart across the page
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 26  # margins: the y axis's labels left, the x axis's below
PALETTE = ("#1a56db", "#2f855a", "#b7791f", "#c53030", "#6b46c1", "#2c7a7b", "#d53f8c", "#975a16")
OTHER = "#a0aec0"


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str  # the value in words, shown as a tooltip


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Line:
    name: str
    colour: str
    points: list[Point]
    segments: list[str]  # the `points` attribute of each polyline: a line breaks where a value is missing


@dataclass(frozen=True)
class Chart:
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    x_labels: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (colour, name)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def nice_step(value: float) -> float:
    """`value` rounded up to 1, 2 or 5 times a power of ten (1 at least): a step between whole ticks."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return float(next(step * power for step in (1, 2, 5, 10) if step * power >= value))


def nice_top(value: float, ticks: int = 4) -> float:
    """The axis's top for counts up to `value`: `ticks` steps of a whole, round size."""
    return nice_step(value / ticks) * ticks


def _y(value: float, top: float) -> float:
    return round(HEIGHT - BOTTOM - (HEIGHT - BOTTOM - TOP) * value / top, 2)


def _slots(count: int, width: int) -> tuple[float, float]:
    """The width of each of `count` slots along the x axis of a chart `width` wide, and of a bar in one."""
    slot = (width - RIGHT - LEFT) / max(count, 1)
    return slot, max(slot * 0.75, 1.0)


def _x_labels(labels: Sequence[str], every: int, width: int) -> list[tuple[float, str]]:
    """A label every `every` slots, and the last one (the latest day, week or month)."""
    slot, _ = _slots(len(labels), width)
    last = len(labels) - 1
    return [
        (round(LEFT + slot * (index + 0.5), 2), label)
        for index, label in enumerate(labels)
        if (index % every == 0 and last - index > every / 2) or index == last
    ]


def stacked_bars(
    values: Sequence[Sequence[int]],
    series: Sequence[str],
    labels: Sequence[str],
    *,
    every: int = 1,
    colours: Sequence[str] | None = None,
    width: int = WIDTH,
) -> Chart:
    """A bar per x slot (`values[slot][series]`), its series stacked, zero parts left out; the x axis
    labelled every `every` slots, the y axis in whole counts from zero."""
    colours = list(colours or PALETTE)
    top = nice_top(max((sum(column) for column in values), default=0))
    slot, bar = _slots(len(values), width)
    bars = []
    for index, column in enumerate(values):
        base = 0
        for which, value in enumerate(column):
            if value <= 0:
                continue
            y = _y(base + value, top)
            bars.append(
                Bar(
                    round(LEFT + slot * index + (slot - bar) / 2, 2),
                    y,
                    round(bar, 2),
                    round(_y(base, top) - y, 2),
                    colours[which % len(colours)],
                    f"{labels[index]} {series[which]}: {value}",
                )
            )
            base += value
    ticks = [(_y(top * step / 4, top), f"{top * step / 4:g}") for step in range(5)]
    legend = [(colours[which % len(colours)], name) for which, name in enumerate(series)]
    return Chart(
        bars=bars,
        x_labels=_x_labels(labels, every, width),
        y_ticks=ticks,
        legend=legend,
        width=width,
        right=width - RIGHT,
    )


def percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _rate_ticks() -> list[tuple[float, str]]:
    return [(_y(step / 4, 1), f"{step * 25}%") for step in range(5)]


def rate_bars(
    rates: Sequence[float | None], labels: Sequence[str], *, every: int = 1, what: str = ""
) -> Chart:
    """A bar per x slot with its rate (0 to 1) on a 0-100% axis; no bar where there is no rate."""
    slot, width = _slots(len(rates), WIDTH)
    bars = []
    for index, rate in enumerate(rates):
        if rate is None:
            continue
        y = _y(rate, 1)
        bars.append(
            Bar(
                round(LEFT + slot * index + (slot - width) / 2, 2),
                y,
                round(width, 2),
                round(HEIGHT - BOTTOM - y, 2),
                PALETTE[3],
                f"{labels[index]} {what}: {percent(rate)}",
            )
        )
    return Chart(bars=bars, x_labels=_x_labels(labels, every, WIDTH), y_ticks=_rate_ticks())


def rate_lines(
    series: Sequence[tuple[str, Sequence[float | None]]], labels: Sequence[str], *, every: int = 1
) -> Chart:
    """A line per series of rates (0 to 1) on a 0-100% axis, a point per x slot that has a rate; the
    line is broken where one is missing."""
    slot, _ = _slots(len(labels), WIDTH)
    lines = []
    for which, (name, rates) in enumerate(series):
        points: list[Point] = []
        segments: list[str] = []
        run: list[str] = []
        for index, rate in enumerate(rates):
            if rate is None:
                if run:
                    segments.append(" ".join(run))
                run = []
                continue
            x, y = round(LEFT + slot * (index + 0.5), 2), _y(rate, 1)
            points.append(Point(x, y, f"{labels[index]} {name}: {percent(rate)}"))
            run.append(f"{x},{y}")
        if run:
            segments.append(" ".join(run))
        lines.append(Line(name, PALETTE[which % len(PALETTE)], points, segments))
    legend = [(line.colour, line.name) for line in lines]
    return Chart(lines=lines, x_labels=_x_labels(labels, every, WIDTH), y_ticks=_rate_ticks(), legend=legend)


@dataclass(frozen=True)
class Sparkline:
    """A small line of counts, without axes: a row's trend beside its figures."""

    points: str  # the polyline's `points`
    last: Point  # the latest value, marked
    width: int
    height: int
    title: str  # every value in words, a tooltip


def sparkline(
    values: Sequence[int], labels: Sequence[str], *, width: int = 120, height: int = 28
) -> Sparkline:
    """The counts `values` (one per label, oldest first) as a line from 0 (bottom) to the largest (top)."""
    pad = 3
    top = max(max(values, default=0), 1)
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    xy = [
        (round(pad + step * index, 2), round(height - pad - (height - 2 * pad) * value / top, 2))
        for index, value in enumerate(values)
    ]
    title = ", ".join(f"{label}: {value}" for label, value in zip(labels, values, strict=True))
    x, y = xy[-1] if xy else (pad, height - pad)
    return Sparkline(" ".join(f"{x},{y}" for x, y in xy), Point(x, y, title), width, height, title)
