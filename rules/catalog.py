"""The dispatch catalog (派单目录) in memory: areas, categories, units, posts, people, rosters, rules.

Plain frozen dataclasses built by `rules.loader`; the matcher compiles them. A catalog is immutable and
versioned by the hash of its files, so a decision can always name the catalog it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum


class AreaLevel(StrEnum):
    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: AreaLevel
    parent: str | None
    aliases: tuple[str, ...] = ()

    def district_code(self) -> str:
        return self.code[:6]


class Handling(StrEnum):
    TERRITORIAL = "territorial"  # 属地: the street/township of the location
    DEPARTMENT = "department"


@dataclass(frozen=True)
class Category:
    """A node of the three-level tree (GB/T 39666 style: 2+2+2 digits)."""

    code: str
    name: str
    urgency: str
    handling: Handling
    keywords: tuple[str, ...] = ()


class UnitKind(StrEnum):
    DISTRICT = "district"
    STREET = "street"
    DEPARTMENT = "department"
    ENTERPRISE = "enterprise"
    CENTER = "center"


@dataclass(frozen=True)
class Post:
    id: str
    name: str
    supervisor: str | None = None  # the post above it on the escalation ladder
    fallback_person: str | None = None
    always_on: bool = False  # 7x24


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    kind: UnitKind
    district: str | None = None  # district area code
    area: str | None = None  # the street or district a territorial unit governs
    jurisdiction: tuple[str, ...] = ()  # area codes a department unit serves; empty: the whole city
    posts: tuple[Post, ...] = ()

    def post(self, post_id: str) -> Post | None:
        return next((post for post in self.posts if post.id == post_id), None)


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    channels: tuple[tuple[str, str], ...] = ()  # (channel, address), in order of preference


class DayKind(StrEnum):
    ALL = "all"
    WORKING = "working"
    REST = "rest"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Shift:
    """`person` is on duty on matching days from `start` to `end`; end <= start wraps past midnight."""

    person: str
    start: time
    end: time
    days: DayKind | tuple[str, ...] = DayKind.ALL


@dataclass(frozen=True)
class Override:
    person: str
    on: date
    start: time
    end: time


@dataclass(frozen=True)
class Roster:
    unit: str
    post: str
    shifts: tuple[Shift, ...] = ()
    overrides: tuple[Override, ...] = ()


class Target(StrEnum):
    UNIT = "unit"
    STREET_OF_LOCATION = "street_of_location"
    DISTRICT_OF_LOCATION = "district_of_location"
    BRANCH_OF_LOCATION = "branch_of_location"  # `unit: dept@district`: the department's district branch
    QUEUE = "queue"


@dataclass(frozen=True)
class Keywords:
    any: tuple[str, ...] = ()
    all: tuple[str, ...] = ()
    none: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conditions:
    """Every condition given must hold; an empty tuple means "any"."""

    categories: tuple[str, ...] = ()  # code prefixes
    areas: tuple[str, ...] = ()  # area codes at any level: the location must lie within one
    kinds: tuple[str, ...] = ()
    urgencies: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # requester groups, any of
    keywords: Keywords = field(default_factory=Keywords)
    working_day: bool | None = None
    hours: tuple[time, time] | None = None  # [start, end) local time; end <= start wraps
    expression: str | None = None  # sandboxed Jinja2 expression over the facts

    def specificity(self) -> int:
        """More conditions and longer prefixes rank first among rules of equal priority."""
        return (
            sum(len(code) for code in self.categories[:1])
            + sum(len(code) for code in self.areas[:1])
            + 2 * sum(bool(part) for part in (self.kinds, self.urgencies, self.channels, self.groups))
            + 2 * bool(self.keywords.any or self.keywords.all or self.keywords.none)
            + 2 * (self.working_day is not None)
            + 2 * (self.hours is not None)
            + 2 * (self.expression is not None)
        )


@dataclass(frozen=True)
class Action:
    target: Target
    unit: str | None = None  # for Target.UNIT, and the city department for Target.BRANCH_OF_LOCATION
    post: str | None = None  # default: the unit's first post
    co_handlers: tuple[str, ...] = ()
    urgency: str | None = None
    queue: str | None = None  # for Target.QUEUE


@dataclass(frozen=True)
class Rule:
    id: str
    priority: int
    when: Conditions
    then: Action
    description: str = ""
    source: str = ""  # file:line, for errors and explanations


@dataclass(frozen=True)
class Catalog:
    version: str
    areas: dict[str, Area]
    categories: dict[str, Category]
    units: dict[str, Unit]
    people: dict[str, Person]
    rosters: dict[tuple[str, str], Roster]
    rules: tuple[Rule, ...]
    territorial: dict[str, str]  # area code of a street or district -> the unit governing it
    branches: dict[tuple[str, str], str] = field(default_factory=dict)  # (department, district) -> branch
    territorial_post: str = "desk"  # the post a street/district unit takes cases on
    manual_queue: str = "manual-dispatch"
    triage_queue: str = "triage"
    classifier_threshold: float = 0.5

    def unit_for_area(self, area_code: str) -> Unit | None:
        """The territorial unit (street/township or district government) governing an area."""
        unit_id = self.territorial.get(area_code)
        return self.units[unit_id] if unit_id else None

    def branch_of(self, department: str, district_code: str | None) -> Unit | None:
        """The department's branch in a district; the department itself where it has none there."""
        unit_id = self.branches.get((department, district_code or ""), department)
        return self.units.get(unit_id)
