"""SLA policies: for each urgency tier and stage, a duration with its unit; overrides per category."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum


class Stage(StrEnum):
    ACKNOWLEDGE = "acknowledge"  # 签收
    CONTACT = "contact"  # contact the requester
    REPLY = "reply"  # 办结反馈


class TimeUnit(StrEnum):
    MINUTES = "minutes"  # clock time
    HOURS = "hours"  # clock time
    WORKING_HOURS = "working_hours"  # within the unit class's working hours, on working days
    DAYS = "days"  # calendar days, counted the legal way
    WORKING_DAYS = "working_days"  # working days, counted the legal way


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: TimeUnit

    def __str__(self) -> str:
        return f"{self.amount} {self.unit.value.replace('_', ' ')}"

    @classmethod
    def parse(cls, text: str) -> Duration:
        """`15 minutes`, `2 h`, `8 working hours`, `7 working days`, `3 days`."""
        match = re.fullmatch(r"\s*(\d+)\s*([a-z_ ]+?)\s*", text.lower())
        words = {
            "min": TimeUnit.MINUTES,
            "minute": TimeUnit.MINUTES,
            "minutes": TimeUnit.MINUTES,
            "h": TimeUnit.HOURS,
            "hour": TimeUnit.HOURS,
            "hours": TimeUnit.HOURS,
            "working hour": TimeUnit.WORKING_HOURS,
            "working hours": TimeUnit.WORKING_HOURS,
            "day": TimeUnit.DAYS,
            "days": TimeUnit.DAYS,
            "working day": TimeUnit.WORKING_DAYS,
            "working days": TimeUnit.WORKING_DAYS,
        }
        unit = words.get(match.group(2).replace("_", " ")) if match else None
        if match is None or unit is None or int(match.group(1)) <= 0:
            raise ValueError(
                f"{text!r}: expected a positive amount and a unit such as '2 hours' or '7 working days'"
            )
        return cls(int(match.group(1)), unit)


DEFAULTS: dict[str, dict[Stage, Duration]] = {
    "emergency": {
        Stage.ACKNOWLEDGE: Duration(15, TimeUnit.MINUTES),
        Stage.CONTACT: Duration(1, TimeUnit.HOURS),
        Stage.REPLY: Duration(2, TimeUnit.HOURS),
    },
    "urgent": {
        Stage.ACKNOWLEDGE: Duration(1, TimeUnit.HOURS),
        Stage.CONTACT: Duration(2, TimeUnit.HOURS),
        Stage.REPLY: Duration(24, TimeUnit.HOURS),
    },
    "general": {
        Stage.ACKNOWLEDGE: Duration(2, TimeUnit.HOURS),
        Stage.CONTACT: Duration(24, TimeUnit.HOURS),
        Stage.REPLY: Duration(7, TimeUnit.WORKING_DAYS),
    },
    "complex": {
        Stage.ACKNOWLEDGE: Duration(2, TimeUnit.HOURS),
        Stage.CONTACT: Duration(24, TimeUnit.HOURS),
        Stage.REPLY: Duration(15, TimeUnit.WORKING_DAYS),
    },
}
OFFICE_HOURS = ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 30)))
ROUND_THE_CLOCK = ((time(0, 0), time.max),)


@dataclass(frozen=True)
class Policy:
    """Durations per tier and stage, overridden per category code prefix (longest prefix wins)."""

    tiers: Mapping[str, Mapping[Stage, Duration]] = field(default_factory=lambda: DEFAULTS)
    categories: Mapping[str, Mapping[Stage, Duration]] = field(default_factory=dict)

    def duration(self, tier: str, stage: Stage, category: str | None = None) -> tuple[Duration, str]:
        """The duration and where it comes from ("tier general" or "category 0101")."""
        for length in (6, 4, 2):
            prefix = (category or "")[:length]
            if len(prefix) == length and stage in self.categories.get(prefix, {}):
                return self.categories[prefix][stage], f"category {prefix}"
        return self.tiers[tier][stage], f"tier {tier}"
