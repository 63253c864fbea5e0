"""Hotspots (主动治理, 未诉先办): an area where requests of one category come improbably fast for what its
history leads one to expect, found as the dispatched requests stream in.

Each request is counted under every area it lies in (district, street, community where known) crossed
with every level of its category (2, 4 and 6 digits), in sliding windows of an hour, a day and a week
(`hotspot_counts`). The expected count of a key in a window is its share of the city's requests, learned
from its history (decayed with a half-life, so the season's mix moves it), times the requests the whole
city received in the same window: the time of day, the weekday, holidays and the season's volume come in
through the city's own count. A key with little history borrows its share from its area's share times
its category's share (each with a uniform prior over its level), weighed as `prior_weight` requests.

The test: a hotspot opens when the window's count is at least `min_count` and its predictive upper tail
P(X >= observed) is below `alpha`: Poisson's with a well-known expectation, negative binomial where
the expectation comes from a short history (`hotspot_counts.improbable`); its `score` is -log10 of
that tail. It closes when the window's count is back at or below its expectation. While a hotspot is
open, no other opens on a related key (an area and a category on the same paths of the trees) in a
window as long or longer: it is the same surge seen more coarsely, more finely or over longer; a sharper
one (a shorter window) still opens.
Pure: no clock (times come with the requests), no I/O; the state is the tallies and the open hotspots,
which the caller stores.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import MutableMapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from dispatcher.domain.access import Visible
from dispatcher.domain.hotspot_counts import WINDOWS, Tally, improbable, window_start

CITY = "*|*"
DAY = 86400.0
RETEST = {"1h": 0.0, "24h": 600.0, "7d": 3600.0}


@dataclass(frozen=True)
class HotspotPolicy:
    alpha: float = 1e-8  # the tail a count must fall below (see docs/hotspots.md for why)
    min_count: int = 5
    half_life_days: float = 14.0
    prior_weight: float = 50_000.0  # in city requests: how much a key's borrowed share weighs
    level_weight: float = 10.0  # in city requests: how much the uniform prior of an area's share weighs
    # how many areas and categories each level has (Beijing, the demo catalog): the uniform prior
    level_sizes: tuple[tuple[str, int], ...] = (
        ("district", 16),
        ("street", 343),
        ("community", 7000),
        ("2", 30),
        ("4", 100),
        ("6", 285),
    )

    @property
    def tau(self) -> float:
        return self.half_life_days * DAY / math.log(2)


@dataclass(frozen=True)
class Dispatched:
    """A dispatched request as the detector counts it: where (codes) and what."""

    ticket_id: str
    at: datetime
    district: str | None
    street: str | None
    community: str | None
    category: str | None


@dataclass(frozen=True)
class Hotspot:
    hotspot_id: str
    district: str
    street: str | None
    community: str | None
    category: str
    window: str  # 1h, 24h or 7d
    window_start: datetime
    window_end: datetime
    observed: int
    expected: float
    score: float  # -log10 of the predictive tail
    first_ticket_id: str | None
    ticket_ids: tuple[str, ...]
    detected_at: datetime
    closed_at: datetime | None = None

    @property
    def key(self) -> str:
        return key_of((self.district, self.street, self.community), self.category)

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class HotspotDetected:
    hotspot: Hotspot


@dataclass(frozen=True)
class HotspotClosed:
    hotspot: Hotspot


HotspotChange = HotspotDetected | HotspotClosed
Area = tuple[str, str | None, str | None]


def areas_of(request: Dispatched) -> list[Area]:
    """The areas a request lies in, the most specific first."""
    if not request.district:
        return []
    areas: list[Area] = [(request.district, None, None)]
    if request.street:
        areas.insert(0, (request.district, request.street, None))
        if request.community:
            areas.insert(0, (request.district, request.street, request.community))
    return areas


def categories_of(code: str | None) -> list[str]:
    """The category and its parents, the most specific first."""
    return [code[:n] for n in (6, 4, 2) if code and len(code) >= n]


def key_of(area: Area | None, category: str | None) -> str:
    where = "*" if area is None else "/".join(part or "" for part in area)
    return f"{where}|{category or '*'}"


def keys_for(request: Dispatched) -> list[str]:
    """Every tally a request moves or the test reads (the caller loads them before `observe`): the city's,
    its areas', its categories', and each area crossed with each category."""
    areas, categories = areas_of(request), categories_of(request.category)
    if not areas or not categories:
        return []
    singles = [key_of(a, None) for a in areas] + [key_of(None, c) for c in categories]
    return [CITY, *singles, *(key_of(a, c) for a in areas for c in categories)]


def keys_watched(hotspot: Hotspot) -> list[str]:
    """The tallies an open hotspot's closing test reads: its own, its area's and its category's."""
    area: Area = (hotspot.district, hotspot.street, hotspot.community)
    return [CITY, hotspot.key, key_of(area, None), key_of(None, hotspot.category)]


def _level(area: Area) -> str:
    return "community" if area[2] else "street" if area[1] else "district"


def _within(inner: Area, outer: Area) -> bool:
    return all(o is None or i == o for i, o in zip(inner, outer, strict=True))


def related(a: Hotspot, area: Area, category: str) -> bool:
    """Same paths of both trees: one area within the other, one category within the other."""
    theirs: Area = (a.district, a.street, a.community)
    same_place = _within(area, theirs) or _within(theirs, area)
    return same_place and (a.category.startswith(category) or category.startswith(a.category))


def hides(hotspot: Hotspot, area: Area, category: str, window: str) -> bool:
    """An open hotspot hides a new one on a related key in a window as long or longer (the same surge);
    not a sharper one, in a shorter window."""
    return related(hotspot, area, category) and WINDOWS[hotspot.window] <= WINDOWS[window]


@dataclass
class HotspotDetector:
    """Feed it dispatched requests in about the order they came (`observe`); it returns the hotspots that
    opened or closed. `tallies` must hold (or be able to create) every key of `keys_for` the requests
    given; `touched` says which were changed, for the caller to store."""

    policy: HotspotPolicy
    tallies: MutableMapping[str, Tally]
    hotspots: dict[tuple[str, str], Hotspot] = field(default_factory=dict)  # open, by key and window
    now: float = 0.0
    touched: set[str] = field(default_factory=set)
    # when each key's day and week windows were last tested: they are tested at most every `RETEST`
    # seconds (in memory only: after a restart they are tested sooner, which changes no decision's rule)
    tested: dict[tuple[str, str], float] = field(default_factory=dict, repr=False)

    def observe(self, request: Dispatched) -> list[HotspotChange]:
        """Count a request and test its keys. The detector's clock is the latest request's time: a request
        that comes late (from another partition) is counted in its own buckets, and the windows are
        tested as they stand at the detector's time."""
        areas, categories = areas_of(request), categories_of(request.category)
        if not areas or not categories:
            return []
        at, tau = request.at.timestamp(), self.policy.tau
        changes = self.sweep(at) if int(at // 60) > int(self.now // 60) else []
        self.now = max(self.now, at)
        totals = [(CITY, None)] + [(key_of(a, None), None) for a in areas]
        totals += [(key_of(None, c), None) for c in categories]
        crossed = [(key_of(a, c), (a, c)) for a in areas for c in categories]
        for key, pair in totals + crossed:
            self._tally(key).add(at, request.ticket_id if pair else None, tau)
            self.touched.add(key)
        when = request.at if at >= self.now else datetime.fromtimestamp(self.now, UTC)
        for key, pair in crossed:
            assert pair is not None
            for window in WINDOWS:
                opened = self._test(key, pair[0], pair[1], window, when)
                if opened is not None:
                    changes.append(HotspotDetected(opened))
        return changes

    def sweep(self, at: float) -> list[HotspotChange]:
        """Close the open hotspots whose window's count is back at or below its expectation at `at`."""
        changes: list[HotspotChange] = []
        for (key, window), hotspot in list(self.hotspots.items()):
            area: Area = (hotspot.district, hotspot.street, hotspot.community)
            observed, expected = self.figures(area, hotspot.category, window, at)
            if observed <= expected:
                end = datetime.fromtimestamp(at, UTC)
                closed = replace(hotspot, observed=observed, expected=expected, closed_at=end)
                del self.hotspots[(key, window)]
                changes.append(HotspotClosed(closed))
        return changes

    def figures(self, area: Area, category: str, window: str, at: float) -> tuple[int, float]:
        """The window's count of a key and its expectation."""
        own = self._tally(key_of(area, category))
        observed = own.count(window, at)
        return observed, self._expected(own, observed, area, category, window, at)[0]

    def _expected(
        self, own: Tally, observed: int, area: Area, category: str, window: str, at: float
    ) -> tuple[float, float]:
        """The expected count, and the weight of the history it comes from (in the key's requests: the
        shape of the Gamma the expectation is known to)."""
        tau, policy = self.policy.tau, self.policy
        city = self._tally(CITY)
        in_city, city_history = city.count(window, at), city.history(at, tau)
        light = policy.level_weight
        sizes = dict(policy.level_sizes)
        area_share = (self._tally(key_of(area, None)).history(at, tau) + light / sizes[_level(area)]) / (
            city_history + light
        )
        category_share = (
            self._tally(key_of(None, category)).history(at, tau) + light / sizes[str(len(category))]
        ) / (city_history + light)
        # the history before the window: the window's own requests are what is being tested
        before = max(own.history(at, tau) - observed, 0.0)
        weight = policy.prior_weight
        shape = before + weight * area_share * category_share
        return shape * in_city / (max(city_history - in_city, 0.0) + weight), shape

    def _test(self, key: str, area: Area, category: str, window: str, when: datetime) -> Hotspot | None:
        at = when.timestamp()
        if (key, window) in self.hotspots:
            return None
        retest = RETEST[window]
        if retest:
            if at < self.tested.get((key, window), -retest):
                return None
            self.tested[(key, window)] = at + retest
        own = self.tallies[key]
        observed = own.count(window, at)
        if observed < self.policy.min_count:
            return None
        expected, shape = self._expected(own, observed, area, category, window, at)
        tail = improbable(observed, expected, shape, self.policy.alpha)
        if tail is None or any(
            related(h, area, category) and WINDOWS[h.window] <= WINDOWS[window]
            for h in self.hotspots.values()
        ):
            return None
        start = window_start(window, at)
        tickets = own.tickets_since(start)[-50:]
        digest = hashlib.sha256(f"{key}|{window}|{tickets[-1] if tickets else at}".encode()).hexdigest()
        hotspot = Hotspot(
            hotspot_id=f"HS{when.astimezone(UTC):%Y%m%d%H%M}-{digest[:10]}",
            district=area[0],
            street=area[1],
            community=area[2],
            category=category,
            window=window,
            window_start=datetime.fromtimestamp(start, UTC),
            window_end=when,
            observed=observed,
            expected=expected,
            score=-math.log10(max(tail, 1e-300)),
            first_ticket_id=tickets[0] if tickets else None,
            ticket_ids=tuple(tickets),
            detected_at=when,
        )
        self.hotspots[(key, window)] = hotspot
        return hotspot

    def _tally(self, key: str) -> Tally:
        tally = self.tallies.get(key)
        if tally is None:
            tally = self.tallies[key] = Tally()
        return tally


class HotspotScopeError(Exception):
    """A district outside the principal's scope was asked for (HTTP 403)."""


def district_to_list(scope: Visible, asked: str | None) -> str | None:
    """The district whose hotspots to list (None: all), scoped as the cases are: a district's supervisor
    sees that district's; the city's supervisors and admins any, or all."""
    if scope.district is None:
        return asked
    if asked is not None and asked != scope.district:
        raise HotspotScopeError(f"district {asked} is outside your scope ({scope.district})")
    return scope.district
