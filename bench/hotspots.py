"""Hotspots found on simulated city days: detection rate, time to detect, false alarms per day.

The hotspot detector (`dispatcher.domain.hotspots`, pure) is fed in process the dispatched requests of
simulated days at Beijing's volume (`--per-day`, 66,000) over the demo catalog's streets and communities
(streets' volumes Zipf 0.5, four in five requests with a community, 285 leaf categories Zipf 0.8, the
simulator's daily curve; repeats are dropped: the engine links them to the open case instead of
dispatching them). First `--history` days of history (their hotspots are not counted), then `--quiet`
normal days (every hotspot is a false alarm), then `--surged` days, each with `--surges` surges planted on
top (`jiesu.cli.surges`): a leaf category at one street (half of them at one of its communities), at 10 to
20 requests an hour for one to two hours, the category chosen among the leaves by their volume for half of
them (common matters) and uniformly for the other half. A surge is detected when a hotspot opens on a
related key (an area and a category on the same paths: its street or community, or their district; its
category or a parent) between its start and the hotspot's window length after its end; the time to
detect counts from its 10th request. Other hotspots of the surged days are false alarms too.
`--busiest` plants the surges at the ten busiest streets and in the five commonest leaf categories
instead, where they stand out least.

    .venv/bin/python -m bench.hotspots [--per-day 66000] [--history 14] [--quiet 2] [--surged 2] \
        [--surges 12] [--seed 1] [--busiest]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from pathlib import Path

from dispatcher.domain.hotspot_counts import WINDOWS, Tally
from dispatcher.domain.hotspots import Dispatched, Hotspot, HotspotDetected, HotspotDetector, HotspotPolicy
from jiesu.cli.simulator import Matter, Mix, PlannedRequest, day_plan
from jiesu.cli.surges import Surge, with_surges
from rules.catalog import AreaLevel
from rules.loader import load_catalog
from sla.calendar import BEIJING

CATALOG = Path(__file__).resolve().parent.parent / "config" / "catalog"
START = datetime(2026, 10, 5, tzinfo=BEIJING)  # a Monday, outside the heating season


@dataclass(frozen=True)
class City:
    mix: Mix
    streets: list[tuple[str, str, list[str]]]  # district, street, communities
    street_share: dict[str, float]
    leaves: list[str]
    leaf_weights: list[float]


def city() -> City:
    catalog = load_catalog(CATALOG)
    communities: dict[str, list[str]] = {}
    for code, area in catalog.areas.items():
        if area.level is AreaLevel.COMMUNITY and area.parent:
            communities.setdefault(area.parent, []).append(code)
    streets = [
        (area.district_code(), code, sorted(communities.get(code, [])))
        for code, area in sorted(catalog.areas.items())
        if area.level is AreaLevel.STREET
    ]
    random.Random(7).shuffle(streets)
    street_weights = [1 / (rank + 1) ** 0.5 for rank in range(len(streets))]
    total = sum(street_weights)
    places: list[tuple[str, str, str | None]] = []
    weights: list[float] = []
    for (district, street, its), weight in zip(streets, street_weights, strict=True):
        places.append((district, street, None))
        weights.append(weight * (0.2 if its else 1.0))
        for community in its:
            places.append((district, street, community))
            weights.append(weight * 0.8 / len(its))
    leaves = sorted(code for code in catalog.categories if len(code) == 6)
    random.Random(8).shuffle(leaves)
    leaf_weights = [1 / (rank + 1) ** 0.8 for rank in range(len(leaves))]
    matters = tuple(
        Matter(code, "诉求", "general", weight) for code, weight in zip(leaves, leaf_weights, strict=True)
    )
    mix = Mix(
        matters=matters,
        with_category=1.0,
        places=tuple(places),
        place_cum_weights=tuple(accumulate(weights)),
    )
    shares = {street: weight / total for (_, street, _), weight in zip(streets, street_weights, strict=True)}
    return City(mix, streets, shares, leaves, leaf_weights)


def surges_for(world: City, day: int, count: int, seed: int, busiest: bool = False) -> list[Surge]:
    rng = random.Random(f"{seed}:{day}")
    planted = []
    for n in range(count):
        district, street, its = rng.choice(world.streets[:10] if busiest else world.streets)
        common = n % 2 == 0
        category = rng.choices(world.leaves, world.leaf_weights)[0] if common else rng.choice(world.leaves)
        if busiest:  # the ten busiest streets (the first: Zipf ranks) and the five commonest matters
            category = rng.choice(world.leaves[:5])
        community = rng.choice(its) if its and n % 4 < 2 else None
        start = timedelta(days=day, hours=rng.uniform(7, 20))
        hours = rng.uniform(1, 2)
        planted.append(
            Surge(category, district, street, community, rng.uniform(10, 20), start, timedelta(hours=hours))
        )
    return planted


def requests(world: City, days: int, start: datetime, seed: int, per_day: float) -> Iterator[PlannedRequest]:
    rate = per_day / 86400
    return day_plan(start, rate, seed, duration=timedelta(days=days), mix=world.mix, ticket_prefix=f"D{seed}")


def dispatched(planned: PlannedRequest) -> Dispatched:
    c = planned.complaint
    place = c.location
    assert place is not None
    return Dispatched(c.ticket_id, c.received_at, place.district, place.street, place.community, c.category)


def related(hotspot: Hotspot, surge: Surge, start: datetime) -> bool:
    area_ok = hotspot.district == surge.district and hotspot.street in (None, surge.street)
    area_ok = area_ok and hotspot.community in (None, surge.community)
    category_ok = surge.category.startswith(hotspot.category)
    began = start + surge.start
    # a surge stays in a window's count for the window's length after it ends
    after = timedelta(seconds=WINDOWS[hotspot.window])
    return area_ok and category_ok and began <= hotspot.detected_at <= began + surge.duration + after


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per-day", type=float, default=66_000)
    parser.add_argument("--history", type=int, default=14)
    parser.add_argument("--quiet", type=int, default=2)
    parser.add_argument("--surged", type=int, default=2)
    parser.add_argument("--surges", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--busiest", action="store_true", help="surges where volume is highest")
    args = parser.parse_args(argv)
    world = city()
    policy = HotspotPolicy()
    tallies: dict[str, Tally] = {}
    detector = HotspotDetector(policy, tallies)
    began = time.perf_counter()
    measured_from = START + timedelta(days=args.history)
    surged_from = measured_from + timedelta(days=args.quiet)
    total_days = args.history + args.quiet + args.surged
    surges = [
        s
        for day in range(args.history + args.quiet, total_days)
        for s in surges_for(world, day, args.surges, args.seed, args.busiest)
    ]
    stream = with_surges(
        requests(world, total_days, START, args.seed, args.per_day), START, surges, args.seed
    )
    tenth: dict[int, datetime] = {}
    seen: dict[int, int] = {}
    found: dict[int, Hotspot] = {}
    false_quiet: list[Hotspot] = []
    false_surged: list[Hotspot] = []
    history_alarms = fed = 0
    day_done = 0
    for planned in stream:
        if planned.repeat_of is not None:
            continue
        fed += 1
        if planned.after >= timedelta(days=day_done + 1):
            day_done += 1
            print(f"day {day_done}: {fed:,} requests, {time.perf_counter() - began:.0f} s", file=sys.stderr)
        ticket = planned.complaint.ticket_id
        if ticket.startswith("SURGE"):
            number = int(ticket[5:].split("-")[0])
            seen[number] = seen.get(number, 0) + 1
            if seen[number] == 10:
                tenth[number] = planned.complaint.received_at
        for change in detector.observe(dispatched(planned)):
            if not isinstance(change, HotspotDetected):
                continue
            hotspot = change.hotspot
            if hotspot.detected_at < measured_from:
                history_alarms += 1
                continue
            matches = [n for n, s in enumerate(surges) if related(hotspot, s, START)]
            for n in matches:
                found.setdefault(n, hotspot)
            if not matches:
                (false_quiet if hotspot.detected_at < surged_from else false_surged).append(hotspot)
    seconds = time.perf_counter() - began
    report(args, world, surges, seen, tenth, found, false_quiet, false_surged, history_alarms, fed, seconds)
    return 0


def report(args, world, surges, seen, tenth, found, false_quiet, false_surged, history_alarms, fed, seconds):  # type: ignore[no-untyped-def]
    print(
        f"fed {fed:,} dispatched requests over {args.history + args.quiet + args.surged} days "
        f"in {seconds:.0f} s ({fed / seconds:,.0f}/s)"
    )
    print(f"history ({args.history} days, not counted): {history_alarms} hotspots")
    print(
        f"false alarms: {len(false_quiet)} in {args.quiet} normal days, "
        f"{len(false_surged)} in {args.surged} surged days: "
        f"{(len(false_quiet) + len(false_surged)) / max(args.quiet + args.surged, 1):.2f} a day"
    )
    for hotspot in false_quiet + false_surged:
        print(
            f"  false: {hotspot.key} {hotspot.window} observed {hotspot.observed} "
            f"expected {hotspot.expected:.2f} at {hotspot.detected_at:%m-%d %H:%M}"
        )
    big = [n for n in range(len(surges)) if n in tenth]
    delays = []
    for n, surge in enumerate(surges):
        hotspot = found.get(n)
        # the street's normal hourly volume of the category at the surge's hour (the daily curve's mean)
        base = 66_000 / 24 * world.street_share[surge.street] * _share(world, surge.category)
        delay = (hotspot.detected_at - tenth[n]).total_seconds() / 60 if hotspot and n in tenth else None
        if delay is not None:
            delays.append(delay)
        where = "community" if surge.community else "street"
        got = (
            f"{hotspot.window} {hotspot.key} after {delay:+.1f} min"
            if delay is not None
            else "detected before 10 requests"
            if hotspot
            else "NOT detected"
        )
        print(
            f"  surge {n:2d}: {surge.per_hour:4.1f}/h x {surge.duration.total_seconds() / 3600:.1f} h at a "
            f"{where}, {seen.get(n, 0):3d} requests, normal {base:.2f}/h: {got}"
        )
    detected_big = [n for n in big if n in found]
    within = [n for n in big if n in found and (found[n].detected_at - tenth[n]) <= timedelta(minutes=10)]
    print(
        f"surges with >= 10 requests: {len(big)}; detected {len(detected_big)} "
        f"({len(detected_big) / max(len(big), 1):.0%}); within 10 min of the 10th: {len(within)}"
    )
    if delays:
        print(
            f"time to detect after the 10th request (min): median {statistics.median(delays):+.1f}, "
            f"max {max(delays):+.1f}"
        )
    sys.stdout.flush()


def _share(world: City, category: str) -> float:
    return world.leaf_weights[world.leaves.index(category)] / sum(world.leaf_weights)


if __name__ == "__main__":
    raise SystemExit(main())
