"""The dashboard's charts of past days, weeks and months: read once per district and window, not per load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from jiesu.web.pages.history import RecentHistory

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


class Reads:
    """A read of the figures that counts itself and says which read it was."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> Any:
        self.count += 1
        return f"figures of read {self.count}"


class Clock:
    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


def test_a_districts_figures_are_read_again_only_after_the_window():
    reads, clock = Reads(), Clock()
    kept = RecentHistory(60, monotonic=clock)
    assert kept.of("110105", NOW, reads) == "figures of read 1"
    clock.seconds += 59
    assert kept.of("110105", NOW + timedelta(seconds=59), reads) == "figures of read 1"
    clock.seconds += 1
    assert kept.of("110105", NOW + timedelta(seconds=60), reads) == "figures of read 2"
    assert reads.count == 2


def test_districts_the_city_and_days_are_kept_apart():
    reads, clock = Reads(), Clock()
    kept = RecentHistory(60, monotonic=clock)
    chaoyang, haidian, city = (kept.of(district, NOW, reads) for district in ("110105", "110108", None))
    assert len({chaoyang, haidian, city}) == 3
    assert kept.of("110108", NOW, reads) == haidian
    # a new Beijing day (00:00 is 16:00 UTC): read again, even within the window
    assert kept.of("110108", datetime(2026, 11, 26, 16, 0, tzinfo=UTC), reads) != haidian
    assert reads.count == 4


def test_with_no_window_every_load_reads():
    reads = Reads()
    kept = RecentHistory(0, monotonic=Clock())
    assert [kept.of(None, NOW, reads) for _ in range(3)] == [f"figures of read {n}" for n in (1, 2, 3)]


def test_figures_past_their_window_are_not_kept():
    reads, clock = Reads(), Clock()
    kept = RecentHistory(60, monotonic=clock)
    for district in ("110105", "110108", "110101"):
        kept.of(district, NOW, reads)
    clock.seconds += 61
    kept.of("110105", NOW, reads)
    assert len(kept) == 1  # the stale ones were dropped, not kept for ever
