"""What the hotspot detector counts (主动治理, 未诉先办): the requests of one area and category in sliding
windows, with a decayed count of its whole history, and the Poisson tail that says how improbable a count is.

Pure: times are seconds since the epoch given by the caller; the state is plain lists and numbers, so it
can be stored as JSON and loaded again (`Tally.to_dict`, `Tally.from_dict`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

MINUTE, HOUR = 60, 3600
WINDOWS: dict[str, int] = {"1h": HOUR, "24h": 24 * HOUR, "7d": 7 * 24 * HOUR}
"""The sliding windows: the last hour counted by the minute, the last day and week by the hour."""
TICKETS_KEPT = 50


def bucket_of(window: str, at: float) -> int:
    """The bucket a moment falls in: minutes for the hour's window, hours for the others."""
    return int(at // (MINUTE if window == "1h" else HOUR))


def window_start(window: str, at: float) -> float:
    """The first instant a window ending at `at` counts: the start of its oldest bucket (so the hour's
    window spans 59 to 60 minutes, the day's 23 to 24 hours, the week's 167 to 168 hours)."""
    size = MINUTE if window == "1h" else HOUR
    return (bucket_of(window, at) - WINDOWS[window] // size + 1) * size


@dataclass(slots=True)
class Tally:
    """The requests of one key: minute buckets of the last hour, hour buckets of the last week (sorted
    `[bucket, count]` pairs), the history as a count decayed with a half-life (`decayed` as of `as_of`),
    and the last `TICKETS_KEPT` tickets with their times."""

    minutes: list[list[int]] = field(default_factory=list)
    hours: list[list[int]] = field(default_factory=list)
    decayed: float = 0.0
    as_of: float = 0.0
    tickets: list[tuple[float, str]] = field(default_factory=list)
    hour_total: int = field(default=0, init=False, repr=False)  # the sums of `minutes` and of `hours`
    week_total: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        self.hour_total = sum(count for _, count in self.minutes)
        self.week_total = sum(count for _, count in self.hours)

    def add(self, at: float, ticket_id: str | None, tau: float) -> None:
        _bump(self.minutes, int(at // MINUTE))
        _bump(self.hours, int(at // HOUR))
        self.hour_total += 1
        self.week_total += 1
        if at >= self.as_of:
            self.decayed = self.decayed * math.exp((self.as_of - at) / tau) + 1.0
            self.as_of = at
        else:  # a little late (another partition): its weight as of now
            self.decayed += math.exp((at - self.as_of) / tau)
        if ticket_id is not None:
            self.tickets.append((at, ticket_id))
            if len(self.tickets) > TICKETS_KEPT:
                self.tickets.sort()
                del self.tickets[: len(self.tickets) - TICKETS_KEPT]

    def history(self, at: float, tau: float) -> float:
        """The decayed count as of `at`."""
        return self.decayed * math.exp(min(0.0, (self.as_of - at) / tau))

    def count(self, window: str, at: float) -> int:
        """Requests in the window ending at `at` (buckets older than the hour and the week are dropped)."""
        first = bucket_of(window, window_start(window, at))
        if window == "1h":
            self.hour_total -= _drop(self.minutes, first)
            return self.hour_total
        if window == "7d":
            self.week_total -= _drop(self.hours, first)
            return self.week_total
        total = 0
        for bucket, count in reversed(self.hours):
            if bucket < first:
                break
            total += count
        return total

    def tickets_since(self, since: float) -> list[str]:
        return [ticket for at, ticket in sorted(self.tickets) if at >= since]

    def to_dict(self) -> dict[str, Any]:
        return {
            "m": self.minutes,
            "h": self.hours,
            "d": self.decayed,
            "a": self.as_of,
            "t": list(self.tickets),  # (at, ticket) pairs: JSON arrays once stored, as lists would be
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tally:
        return cls(
            [list(pair) for pair in data["m"]],
            [list(pair) for pair in data["h"]],
            float(data["d"]),
            float(data["a"]),
            [(float(at), str(ticket)) for at, ticket in data["t"]],
        )


def _drop(buckets: list[list[int]], first: int) -> int:
    """Drop the buckets before `first`; returns the requests they held."""
    drop = dropped = 0
    while drop < len(buckets) and buckets[drop][0] < first:
        dropped += buckets[drop][1]
        drop += 1
    if drop:
        del buckets[:drop]
    return dropped


def _bump(buckets: list[list[int]], bucket: int) -> None:
    for index in range(len(buckets) - 1, -1, -1):
        if buckets[index][0] == bucket:
            buckets[index][1] += 1
            return
        if buckets[index][0] < bucket:
            buckets.insert(index + 1, [bucket, 1])
            return
    buckets.insert(0, [bucket, 1])


def poisson_tail(observed: int, expected: float) -> float:
    """P(X >= observed) for X ~ Poisson(expected)."""
    if observed <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    if observed <= expected:  # the tail is large: one minus the head
        head, term = 0.0, math.exp(-expected)
        for k in range(observed):
            head += term
            term *= expected / (k + 1)
        return max(0.0, 1.0 - head)
    term = math.exp(-expected + observed * math.log(expected) - math.lgamma(observed + 1))
    total, k = 0.0, observed
    while term > total * 1e-12:
        total += term
        k += 1
        term *= expected / k
    return min(1.0, total)


def improbable(observed: int, expected: float, shape: float, alpha: float) -> float | None:
    """The predictive tail P(X >= observed) when it is below `alpha`, else None.

    The expectation is itself learned, from a history worth `shape` of the key's requests: with a Gamma
    of that shape for the key's rate, the window's count is negative binomial (shape `shape`, mean
    `expected`): Poisson when the history is long beside the window, wider when it is not (a week's
    window against two weeks of history). Cheap where it surely is not below: a count at or below its
    expectation, or one whose own probability (a lower bound of the tail) is at least `alpha`."""
    if observed <= expected:
        return None
    if expected <= 0 or shape <= 0:
        return 0.0
    p = shape / (shape + expected)  # the chance of a "failure" per trial, in the Gamma-Poisson mixture
    log_own = (
        math.lgamma(observed + shape) - math.lgamma(shape) - math.lgamma(observed + 1)
        + shape * math.log(p) + observed * math.log1p(-p)
    )  # fmt: skip
    if log_own >= math.log(alpha):
        return None
    term, total, k = math.exp(log_own), 0.0, observed
    while term > total * 1e-12:
        total += term
        term *= (k + shape) / (k + 1) * (1 - p)
        k += 1
    return total if total < alpha else None
