"""Surges planted on a simulated day: one category at one street (or community), at a chosen rate above
normal, for a chosen time. Pure and deterministic for a seed, like `jiesu.cli.simulator`, whose
`PlannedRequest`s they are merged with (in time order) by `with_surges`.
"""

from __future__ import annotations

import heapq
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatcher.contract.events import ComplaintReceived, Location, Requester
from jiesu.cli.simulator import SURNAMES, PlannedRequest

SURGE = re.compile(
    r"^(?P<category>\d{2}(?:\d{2}){0,2})@(?P<district>[^/]+)/(?P<street>[^/:]+)(?:/(?P<community>[^:]+))?"
    r":(?P<rate>\d+(?:\.\d+)?)/h:(?P<start>\d+(?:\.\d+)?)h\+(?P<hours>\d+(?:\.\d+)?)h$"
)


@dataclass(frozen=True)
class Surge:
    """`per_hour` requests an hour of `category` at the place (a street, or one of its communities), above
    the normal day, from `start` (after the plan's start) for `duration`."""

    category: str
    district: str
    street: str
    community: str | None
    per_hour: float
    start: timedelta
    duration: timedelta

    @classmethod
    def parse(cls, text: str) -> Surge:
        """`CATEGORY@DISTRICT/STREET[/COMMUNITY]:RATE/h:STARTh+HOURSh`, e.g.
        `090101@朝阳区/望京街道:15/h:9h+1.5h`: 15 an hour about water from 09:00 of the plan for 90 min."""
        match = SURGE.match(text.strip())
        if match is None:
            raise ValueError(
                f"{text!r}: expected CATEGORY@DISTRICT/STREET[/COMMUNITY]:RATE/h:STARTh+HOURSh, "
                "e.g. 090101@朝阳区/望京街道:15/h:9h+1.5h"
            )
        return cls(
            match["category"],
            match["district"],
            match["street"],
            match["community"],
            float(match["rate"]),
            timedelta(hours=float(match["start"])),
            timedelta(hours=float(match["hours"])),
        )


def surge_plan(
    start: datetime, surges: Iterable[Surge], seed: int, ticket_prefix: str = "SURGE"
) -> Iterator[PlannedRequest]:
    """The planted requests in time order: a Poisson process at each surge's rate over its span; each a
    different caller. Ticket ids are `<ticket_prefix><surge number>-<number>`."""
    streams = [_one(start, surge, seed, f"{ticket_prefix}{n}") for n, surge in enumerate(surges)]
    return heapq.merge(*streams, key=lambda planned: planned.after)


def with_surges(
    day: Iterable[PlannedRequest], start: datetime, surges: Iterable[Surge], seed: int
) -> Iterator[PlannedRequest]:
    """A normal day with the surges planted on top, in time order."""
    return heapq.merge(day, surge_plan(start, surges, seed), key=lambda planned: planned.after)


def _one(start: datetime, surge: Surge, seed: int, prefix: str) -> Iterator[PlannedRequest]:
    rng = random.Random(f"{seed}:{prefix}")
    offset, end, number = surge.start.total_seconds(), (surge.start + surge.duration).total_seconds(), 0
    while surge.per_hour > 0:
        offset += rng.expovariate(surge.per_hour / 3600)
        if offset > end:
            return
        complaint = ComplaintReceived(
            ticket_id=f"{prefix}-{number:06d}",
            received_at=start + timedelta(seconds=offset),
            channel="phone",
            kind="complaint",
            description="同一片区多人反映同一问题，请尽快处理。",
            category=surge.category,
            location=Location(district=surge.district, street=surge.street, community=surge.community),
            requester=Requester(
                name=rng.choice(SURNAMES) + rng.choice(["先生", "女士"]),
                phone=f"1{rng.randint(3, 9)}{rng.randint(0, 999_999_999):09d}",
            ),
        )
        yield PlannedRequest(timedelta(seconds=offset), complaint)
        number += 1
