"""The tests' time: the instant they call now, Beijing's offset, and the one clock a test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))
# Thursday 26 November 2026, 10:00 in Beijing: a working day, in office hours, half an hour after the
# builders' requests arrive.
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


class Clock:
    """A clock that stands still until the test moves it, wherever a `() -> datetime` clock is taken.

    Set `clock.now`, or `clock.at(hours=1)` for a time from where it started (NOW unless told)."""

    def __init__(self, start: datetime = NOW) -> None:
        self.start = self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, **offset: float) -> None:
        self.now = self.start + timedelta(**offset)
