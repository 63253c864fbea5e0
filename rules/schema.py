"""The catalog's YAML files as pydantic models: what an operator may write, validated before use."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.{}-]+$")]
Code = Annotated[str, StringConstraints(pattern=r"^[0-9]{2,12}$")]
Urgency = Literal["emergency", "urgent", "general", "complex"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
HourMinute = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-4]):[0-5][0-9]$")]  # "HH:MM"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def clock(value: str) -> time:
    """`HH:MM`, with `24:00` meaning the end of the day."""
    hours, minutes = (int(part) for part in value.split(":"))
    return time.max if hours == 24 else time(hours, minutes)


class CommunityFile(Strict):
    name: str
    code: Code | None = None
    aliases: list[str] = []


class StreetFile(Strict):
    name: str
    code: Code | None = None
    aliases: list[str] = []
    communities: list[CommunityFile] = []


class DistrictFile(Strict):
    name: str
    code: Code
    aliases: list[str] = []
    streets: list[StreetFile] = []


class AreasFile(Strict):
    source: dict[str, str] = {}
    districts: list[DistrictFile]


class PlaceFile(Strict):
    """A residential compound, road or landmark callers name, and the street (街道/乡镇) it lies in."""

    name: Annotated[str, StringConstraints(min_length=3)]  # shorter names match inside common words
    kind: Literal["compound", "road", "landmark"]
    street: Code
    aliases: list[Annotated[str, StringConstraints(min_length=3)]] = []


class PlacesFile(Strict):
    places: list[PlaceFile] = []


class CategoryFile(Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$|^[0-9]{4}$|^[0-9]{6}$")]
    name: str
    urgency: Urgency | None = None  # default: the parent's
    handling: Literal["territorial", "department"] | None = None  # default: the parent's
    keywords: list[Keyword] = []
    children: list[CategoryFile] = []


class CategoriesFile(Strict):
    categories: list[CategoryFile]


class PostFile(Strict):
    id: Id
    name: str
    supervisor: Id | None = None
    fallback_person: Id | None = None
    always_on: bool = False


class UnitFile(Strict):
    id: Id
    name: str
    kind: Literal["district", "street", "department", "enterprise", "center"]
    district: Code | None = None
    jurisdiction: list[Code] = []
    posts: list[PostFile] = Field(min_length=1)


class PersonFile(Strict):
    id: Id
    name: str
    channels: dict[str, str] = {}


class ShiftFile(Strict):
    person: Id
    start: HourMinute = Field(alias="from")
    end: HourMinute = Field(alias="to")
    days: Literal["all", "working", "rest"] | list[Weekday] = "all"


class OverrideFile(Strict):
    person: Id
    date: date
    start: HourMinute = Field("00:00", alias="from")
    end: HourMinute = Field("24:00", alias="to")


class RosterFile(Strict):
    unit: Id
    post: Id
    shifts: list[ShiftFile] = []
    overrides: list[OverrideFile] = []


class TerritorialTemplate(Strict):
    """Expanded once per street (or district) of the gazetteer: `{code}`, `{name}` and `{unit}` are
    replaced by the area's code, its name and the unit id."""

    id: str
    name: str
    posts: list[PostFile] = Field(min_length=1)
    people: list[PersonFile] = []
    rosters: dict[Id, list[ShiftFile]] = {}


class BranchTemplate(TerritorialTemplate):
    """The district branches of a city department (e.g. each district's 卫健委): expanded once per district
    of the gazetteer (or of `districts`), `{code}` and `{name}` being the district's. A rule sends a request
    to the branch of its location's district with `unit: <of>@district`."""

    of: Id
    districts: list[Code] = []  # default: every district


class UnitsFile(Strict):
    territorial: dict[Literal["street", "district"], TerritorialTemplate] = {}
    branches: list[BranchTemplate] = []
    units: list[UnitFile] = []
    people: list[PersonFile] = []
    rosters: list[RosterFile] = []


Keyword = Annotated[str, StringConstraints(min_length=1, max_length=50)]


class KeywordsFile(Strict):
    any: list[Keyword] = []
    all: list[Keyword] = []
    none: list[Keyword] = []


class WhenFile(Strict):
    category: list[str] | str = []
    area: list[str] | str = []
    kind: list[str] | str = []
    urgency: list[Urgency] | Urgency = []
    channel: list[str] | str = []
    groups: list[str] | str = []
    keywords: KeywordsFile = KeywordsFile()
    working_day: bool | None = None
    hours: Annotated[str, StringConstraints(pattern=r"^\d\d:\d\d-\d\d:\d\d$")] | None = None
    expression: str | None = None


class ThenFile(Strict):
    unit: str | None = None  # a unit id, or `street_of_location` / `district_of_location`
    post: Id | None = None
    co_handlers: list[Id] = []
    urgency: Urgency | None = None
    queue: Id | None = None


class RuleFile(Strict):
    id: Id
    priority: int = Field(100, ge=0, le=1_000_000)
    description: str = ""
    when: WhenFile = WhenFile()
    then: ThenFile


class RulesFile(Strict):
    rules: list[RuleFile]


class SettingsFile(Strict):
    territorial_post: Id = "desk"
    manual_queue: Id = "manual-dispatch"
    triage_queue: Id = "triage"
    classifier_threshold: float = Field(0.5, ge=0, le=1)
