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


class Unit(StrEnum):
    MINUTES = "minutes"  # clock time
    HOURS = "hours"  # clock time
    WORKING_HOURS = "working_hours"  # within the unit class's working hours, on working days
    DAYS = "days"  # calendar days, counted the legal way
    WORKING_DAYS = "working_days"  # working days, counted the legal way


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: Unit

    def __str__(self) -> str:
        return f"{self.amount} {self.unit.value.replace('_', ' ')}"

    @classmethod
    def parse(cls, text: str) -> Duration:
        """`15 minutes`, `2 h`, `8 working hours`, `7 working days`, `3 days`."""
        match = re.fullmatch(r"\s*(\d+)\s*([a-z_ ]+?)\s*", text.lower())
        words = {
            "min": Unit.MINUTES,
            "minute": Unit.MINUTES,
            "minutes": Unit.MINUTES,
            "h": Unit.HOURS,
            "hour": Unit.HOURS,
            "hours": Unit.HOURS,
            "working hour": Unit.WORKING_HOURS,
            "working hours": Unit.WORKING_HOURS,
            "day": Unit.DAYS,
            "days": Unit.DAYS,
            "working day": Unit.WORKING_DAYS,
            "working days": Unit.WORKING_DAYS,
        }
        unit = words.get(match.group(2).replace("_", " ")) if match else None
        if match is None or unit is None or int(match.group(1)) <= 0:
            raise ValueError(
                f"{text!r}: expected a positive amount and a unit such as '2 hours' or '7 working days'"
            )
        return cls(int(match.group(1)), unit)


DEFAULTS: dict[str, dict[Stage, Duration]] = {
    "emergency": {
        Stage.ACKNOWLEDGE: Duration(15, Unit.MINUTES),
        Stage.CONTACT: Duration(1, Unit.HOURS),
        Stage.REPLY: Duration(2, Unit.HOURS),
    },
    "urgent": {
        Stage.ACKNOWLEDGE: Duration(1, Unit.HOURS),
        Stage.CONTACT: Duration(2, Unit.HOURS),
        Stage.REPLY: Duration(24, Unit.HOURS),
    },
    "general": {
        Stage.ACKNOWLEDGE: Duration(2, Unit.HOURS),
        Stage.CONTACT: Duration(24, Unit.HOURS),
        Stage.REPLY: Duration(7, Unit.WORKING_DAYS),
    },
    "complex": {
        Stage.ACKNOWLEDGE: Duration(2, Unit.HOURS),
        Stage.CONTACT: Duration(24, Unit.HOURS),
        Stage.REPLY: Duration(15, Unit.WORKING_DAYS),
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
