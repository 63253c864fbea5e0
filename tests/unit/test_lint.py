"""Catalog lint: each kind of defect is found with its code, subject and place; a clean catalog passes.

Catalogs are built in code with the helpers below (rules get `rules.yaml:<10, 20, ...>` in the order
given, then are sorted as the loader sorts them); one test goes through YAML files and `load_catalog`.
"""

from __future__ import annotations

import dataclasses
import random
import textwrap
import time as stopwatch
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest

from rules.catalog import (
    Action,
    Area,
    AreaLevel,
    Catalog,
    Category,
    Conditions,
    DayKind,
    Handling,
    Keywords,
    Override,
    Person,
    Post,
    Roster,
    Rule,
    Shift,
    Target,
    Unit,
    UnitKind,
)
from rules.lint import Finding, Logic, lint
from rules.loader import load_catalog
from rules.matcher import Facts, Matcher

DISTRICT, WANGJING, MAIZIDIAN = "110105", "110105001", "110105002"
NIGHT = (time(20), time(8))


def when(**conditions: Any) -> Conditions:
    """Conditions with tuples from lists and `keywords` given as a dict of any/all/none lists."""
    keywords = Keywords(**{k: tuple(v) for k, v in conditions.pop("keywords", {}).items()})
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in conditions.items()}
    return Conditions(keywords=keywords, **fields)


def rule(
    rule_id: str, priority: int = 100, *, to: str = "", post: str | None = None, **conditions: Any
) -> Rule:
    """A rule sending to unit `to`, or to a queue when `to` is `queue:<name>`."""
    action = (
        Action(Target.QUEUE, queue=to.removeprefix("queue:"))
        if to.startswith("queue:")
        else Action(Target.UNIT, unit=to, post=post)
    )
    return Rule(rule_id, priority, when(**conditions), action)


def shift(person: str, start: time, end: time, days: DayKind | tuple[str, ...] = DayKind.ALL) -> Shift:
    return Shift(person, start, end, days)


def street_unit(code: str) -> Unit:
    unit_id = f"street-{code}"
    posts = (Post("desk", "接诉即办岗", "head", f"{unit_id}.duty"), Post("head", "主任岗"))
    return Unit(unit_id, f"street {code}", UnitKind.STREET, DISTRICT, code, (), posts)


def street_roster(code: str) -> Roster:
    unit_id = f"street-{code}"
    return Roster(
        unit_id,
        "desk",
        (
            shift(f"{unit_id}.day", time(8, 30), time(17, 30), DayKind.WORKING),
            shift(f"{unit_id}.duty", time(17, 30), time(8, 30)),
            shift(f"{unit_id}.duty", time(8, 30), time(17, 30), DayKind.REST),
        ),
    )


CATEGORIES = [
    Category("01", "供暖", "urgent", Handling.DEPARTMENT),
    Category("0101", "供热质量", "urgent", Handling.DEPARTMENT),
    Category("010101", "室温不达标", "urgent", Handling.DEPARTMENT),
    Category("010102", "未按时供暖", "urgent", Handling.DEPARTMENT),
    Category("02", "市容环境", "general", Handling.TERRITORIAL),
    Category("0201", "环境卫生", "general", Handling.TERRITORIAL),
    Category("020101", "垃圾清运", "general", Handling.TERRITORIAL),
    Category("03", "供水", "urgent", Handling.DEPARTMENT),
    Category("0301", "停水", "urgent", Handling.DEPARTMENT),
    Category("030101", "突发停水", "urgent", Handling.DEPARTMENT),
]

CLEAN_RULES = [
    rule("heat", categories=["01"], to="heat"),
    rule("heat-wangjing", categories=["01"], areas=[WANGJING], to="heat-branch"),
    rule("gas-smell", 50, categories=["01"], keywords={"all": ["燃气"]}, to="queue:emergency"),
    rule("water", categories=["03"], kinds=["complaint"], to="water"),
    rule("water-advice", categories=["03"], kinds=["consultation"], to="center", post="manual-dispatch"),
    rule("emergencies", 10, urgencies=["emergency"], to="queue:emergency"),
]


AREAS = [
    Area(DISTRICT, "朝阳区", AreaLevel.DISTRICT, None),
    Area(WANGJING, "望京街道", AreaLevel.STREET, DISTRICT),
    Area(MAIZIDIAN, "麦子店街道", AreaLevel.STREET, DISTRICT),
]
HEAT = Unit(
    "heat",
    "市供热办",
    UnitKind.DEPARTMENT,
    posts=(Post("desk", "热线岗", "head", "heat.duty"), Post("head", "主管岗")),
)
UNITS = [
    HEAT,
    Unit(
        "heat-branch",
        "朝阳供热分公司",
        UnitKind.ENTERPRISE,
        DISTRICT,
        None,
        (DISTRICT,),
        (Post("desk", "岗"),),
    ),
    Unit("water", "自来水集团", UnitKind.ENTERPRISE, posts=(Post("desk", "热线岗"),)),
    Unit(
        "center",
        "热线中心",
        UnitKind.CENTER,
        posts=(Post("manual-dispatch", "人工派单岗", None, "center.supervisor", True),),
    ),
    street_unit(WANGJING),
    street_unit(MAIZIDIAN),
    Unit(
        "district-110105", "朝阳区人民政府", UnitKind.DISTRICT, DISTRICT, DISTRICT, (), (Post("desk", "岗"),)
    ),
]
PEOPLE = ["heat.day", "heat.duty", "center.duty", "center.supervisor"] + [
    f"street-{code}.{role}" for code in (WANGJING, MAIZIDIAN) for role in ("day", "duty")
]
CENTER_ROSTER = Roster("center", "manual-dispatch", (shift("center.duty", time(0), time.max),))
ROSTERS = [
    Roster("heat", "desk", (shift("heat.day", time(8), time(20)), shift("heat.duty", *NIGHT))),
    CENTER_ROSTER,
    street_roster(WANGJING),
    street_roster(MAIZIDIAN),
]


def make_catalog(
    rules: list[Rule] = CLEAN_RULES,
    *,
    categories: list[Category] = CATEGORIES,
    units: list[Unit] = UNITS,
    people: list[str] = PEOPLE,
    rosters: list[Roster] = ROSTERS,
    areas: list[Area] = AREAS,
) -> Catalog:
    """The clean catalog, with any part replaced."""
    sourced = [dataclasses.replace(r, source=f"rules.yaml:{10 * (n + 1)}") for n, r in enumerate(rules)]
    sourced.sort(key=lambda r: (r.priority, -r.when.specificity()))
    return Catalog(
        version="test",
        areas={area.code: area for area in areas},
        categories={category.code: category for category in categories},
        units={unit.id: unit for unit in units},
        people={p: Person(p, p) for p in people},
        rosters={(r.unit, r.post): r for r in rosters},
        rules=tuple(sourced),
        territorial={unit.area: unit.id for unit in units if unit.area},
    )


def but_heat(unit: Unit) -> list[Unit]:
    return [unit if u is HEAT else u for u in UNITS]


def keyed(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(finding.severity, finding.code, finding.subject) for finding in findings}


def test_a_clean_catalog_has_no_findings() -> None:
    assert lint(make_catalog()) == []


def test_a_seeded_catalog_reports_one_finding_per_defect() -> None:
    bad_rules = [
        *CLEAN_RULES,
        rule("heat-late", 200, categories=["0101"], hours=(time(17, 30), time(8, 30)), to="heat-branch"),
        rule("water-app", categories=["0301"], channels=["app"], to="center", post="manual-dispatch"),
        rule("to-ghost", 300, categories=["0301"], kinds=["suggestion"], to="ghost"),
        rule("heat-wangjing", 400, categories=["0301"], urgencies=["urgent"], to="water"),
    ]
    gas = [
        Category("04", "燃气", "emergency", Handling.DEPARTMENT),
        Category("0401", "燃气安全", "emergency", Handling.DEPARTMENT),
        Category("040101", "燃气泄漏", "emergency", Handling.DEPARTMENT),
    ]
    rosters = [
        Roster(
            "heat",
            "desk",
            (shift("heat.day", time(8), time(20)), shift("heat.duty", *NIGHT, DayKind.WORKING)),
        ),
        street_roster(WANGJING),
        street_roster(MAIZIDIAN),
    ]
    catalog = make_catalog(bad_rules, categories=CATEGORIES + gas, rosters=rosters)  # no center roster

    found = lint(catalog)

    assert keyed(found) == {
        ("error", "duplicate-rule-id", "heat-wangjing"),
        ("error", "missing-reference", "to-ghost"),
        ("error", "shadowed", "heat-late"),
        ("warning", "overlap", "water"),
        ("warning", "unreachable-category", "040101"),
        ("warning", "roster-gap", "heat/desk"),
        ("error", "roster-gap", "center/manual-dispatch"),
    }
    findings = {finding.code: finding for finding in found}
    assert findings["duplicate-rule-id"].source == "rules.yaml:100"
    assert "also used by the rule at rules.yaml:20" in findings["duplicate-rule-id"].message
    assert (
        findings["missing-reference"].message
        == "rule to-ghost sends requests to unit ghost, which does not exist"
    )
    shadowed = findings["shadowed"]
    assert shadowed.source == "rules.yaml:70"
    assert shadowed.message.startswith(
        "rule heat-late can never match: rule heat (rules.yaml:10, priority 100) comes first and matches "
        "every request heat-late matches, sending it to unit heat, post desk"
    )
    overlap = findings["overlap"]
    assert overlap.source == "rules.yaml:40"
    assert "rules water-app (rules.yaml:80) and water have the same priority 100" in overlap.message
    assert "e.g. 0301 停水" in overlap.message
    assert "water-app sends it to unit center, post manual-dispatch and water to unit water, post desk" in (
        overlap.message
    )
    assert "category 040101 (燃气泄漏) is handled by departments, but no rule names it" in (
        findings["unreachable-category"].message
    )
    gaps = {finding.subject: finding.message for finding in found if finding.code == "roster-gap"}
    assert gaps["heat/desk"] == (
        "post desk (热线岗) of heat (市供热办) has nobody on duty mon 00:00-08:00, sat 20:00-24:00, "
        "sun 00:00-08:00, sun 20:00-24:00; requests then go to the post's fallback person heat.duty"
    )
    assert gaps["center/manual-dispatch"] == (
        "post manual-dispatch (人工派单岗) of center (热线中心) must be staffed 7x24 (always_on) but has no "
        "duty roster; requests then go to the post's fallback person center.supervisor"
    )


@pytest.mark.parametrize(
    ("change", "subject", "message"),
    [
        (
            {"rules": [rule("r", categories=["09"], to="heat")]},
            "r",
            "rule r names category 09, but no category",
        ),
        ({"rules": [rule("r", areas=["110199"], to="heat")]}, "r", "rule r names area 110199, which is not"),
        (
            {"rules": [rule("r", to="heat", post="night")]},
            "r",
            "sends requests to post night of heat, which has",
        ),
        ({"rules": [rule("r", to="")]}, "r", "rule r sends requests to a unit but names none"),
        (
            {
                "rules": [
                    dataclasses.replace(
                        rule("r", to="heat"), then=Action(Target.UNIT, "heat", None, ("fire",))
                    )
                ]
            },
            "r",
            "rule r names co-handling unit fire, which does not exist",
        ),
        (
            {
                "units": but_heat(
                    Unit("heat", "供热", UnitKind.DEPARTMENT, posts=(Post("desk", "岗", None, "ghost"),))
                )
            },
            "heat/desk",
            "post heat/desk falls back to ghost, who is not a person",
        ),
        (
            {"rosters": [Roster("heat", "night", ())]},
            "heat/night",
            "roster is kept for heat/night, but there is no",
        ),
        ({"rosters": [Roster("gas", "desk", ())]}, "gas/desk", "but there is no such unit"),
        (
            {
                "rosters": [
                    Roster("heat", "desk", (), (Override("nobody", date(2026, 3, 2), time(0), time.max),))
                ]
            },
            "heat/desk",
            "the roster of heat/desk puts nobody on duty, who is not a person",
        ),
        (
            {
                "units": but_heat(
                    Unit("heat", "供热", UnitKind.DEPARTMENT, posts=(Post("desk", "岗", "boss"),))
                )
            },
            "heat/desk",
            "post heat/desk escalates to post boss, which heat lacks",
        ),
        (
            {
                "units": but_heat(
                    Unit("heat", "供热", UnitKind.DEPARTMENT, "110199", posts=(Post("desk", "岗"),))
                )
            },
            "heat",
            "unit heat names area 110199, which is not in the gazetteer",
        ),
    ],
)
def test_missing_references_are_errors(change: dict[str, Any], subject: str, message: str) -> None:
    change.setdefault("categories", [])
    change.setdefault("rules", [])
    findings = [f for f in lint(make_catalog(**change)) if f.code == "missing-reference"]
    assert [(f.severity, f.subject) for f in findings] == [("error", subject)]
    assert message in findings[0].message


@pytest.mark.parametrize(
    ("early", "late", "shadowed"),
    [
        ({"categories": ["01"]}, {"categories": ["0101", "010102"]}, True),
        ({"categories": ["0101"]}, {"categories": ["01"]}, False),
        ({"categories": ["0101"]}, {}, False),
        ({"areas": [DISTRICT]}, {"areas": [WANGJING]}, True),
        ({"areas": [WANGJING]}, {"areas": [DISTRICT]}, False),
        ({"areas": [WANGJING]}, {"areas": [WANGJING, MAIZIDIAN]}, False),
        ({"kinds": ["complaint", "consultation"]}, {"kinds": ["complaint"]}, True),
        ({"kinds": ["complaint"]}, {}, False),
        ({"groups": ["elderly", "disabled"]}, {"groups": ["elderly"]}, True),
        ({"groups": ["elderly"]}, {"groups": ["elderly", "disabled"]}, False),
        ({"keywords": {"any": ["不热"]}}, {"keywords": {"all": ["暖气不热"]}}, True),
        ({"keywords": {"any": ["不热", "停暖"]}}, {"keywords": {"any": ["暖气不热", "停暖"]}}, True),
        ({"keywords": {"all": ["暖气不热"]}}, {"keywords": {"all": ["不热"]}}, False),
        ({"keywords": {"none": ["燃气"]}}, {"keywords": {"none": ["燃"]}}, True),
        ({"keywords": {"none": ["燃"]}}, {"keywords": {"none": ["燃气"]}}, False),
        ({"working_day": True}, {"working_day": True, "kinds": ["complaint"]}, True),
        ({"working_day": True}, {}, False),
        ({"hours": (time(17), time(9))}, {"hours": (time(18), time(8))}, True),
        ({"hours": (time(17), time(9))}, {"hours": (time(8), time(10))}, False),
        ({"hours": (time(9), time(9))}, {}, True),
        ({"expression": "kind == 'complaint'"}, {"expression": "kind == 'complaint'"}, False),
        ({}, {"expression": "kind == 'complaint'"}, True),
    ],
)
def test_only_certain_shadowing_is_reported(
    early: dict[str, Any], late: dict[str, Any], shadowed: bool
) -> None:
    catalog = make_catalog(
        [rule("early", 1, **early, to="heat"), rule("late", 2, **late, to="water")], categories=[]
    )
    findings = [f for f in lint(catalog) if f.code == "shadowed"]
    assert [f.subject for f in findings] == (["late"] if shadowed else [])


@pytest.mark.parametrize(
    ("one", "other", "overlap"),
    [
        ({"categories": ["01"], "kinds": ["complaint"]}, {"categories": ["0101"], "channels": ["app"]}, True),
        ({"groups": ["elderly"]}, {"groups": ["disabled"]}, True),  # a requester can be in both groups
        ({"kinds": ["complaint"]}, {"kinds": ["consultation"]}, False),
        ({"categories": ["0101"]}, {"categories": ["0102"]}, False),
        ({"areas": [WANGJING]}, {"areas": [MAIZIDIAN]}, False),
        ({"areas": [DISTRICT], "kinds": ["complaint"]}, {"areas": [WANGJING]}, True),
        ({"hours": (time(8), time(12))}, {"hours": (time(12), time(8))}, False),
        ({"working_day": True}, {"working_day": False}, False),
        ({"keywords": {"all": ["燃气"]}}, {"keywords": {"none": ["燃"]}}, False),
        ({"categories": ["01"]}, {"categories": ["01"], "kinds": ["complaint"]}, False),  # an exception first
    ],
)
def test_overlap_at_one_priority_is_a_warning(
    one: dict[str, Any], other: dict[str, Any], overlap: bool
) -> None:
    catalog = make_catalog([rule("one", **one, to="heat"), rule("other", **other, to="water")], categories=[])
    findings = [f for f in lint(catalog) if f.code in ("overlap", "shadowed")]
    assert [(f.severity, f.code) for f in findings] == ([("warning", "overlap")] if overlap else [])


def test_rules_that_send_to_the_same_place_do_not_overlap() -> None:
    rules = [
        rule("one", kinds=["complaint"], to="heat"),
        rule("other", channels=["app"], to="heat", post="desk"),
    ]
    assert lint(make_catalog(rules, categories=[])) == []


def test_a_category_prefix_the_matcher_cannot_index_is_an_error_and_shadows_nothing() -> None:
    odd = rule("odd", 1, categories=["010"], to="heat")
    findings = lint(make_catalog([*CLEAN_RULES, odd, rule("quality", 2, categories=["0101"], to="water")]))
    assert keyed(findings) == {("error", "unindexed-category", "odd")}
    assert "not 2, 4 or 6 digits long" in findings[0].message
    facts = Facts("010101", (DISTRICT,), "complaint", "general", "phone", frozenset(), "", True, time(9))
    assert Matcher([odd]).match(facts) is None  # the reason: the matcher never considers the rule


def test_a_template_gap_is_reported_once_for_all_its_street_units() -> None:
    def day_only(code: str) -> Roster:
        return Roster(f"street-{code}", "desk", (shift(f"street-{code}.day", time(0), time(17)),))

    findings = lint(make_catalog(rosters=[day_only(WANGJING), day_only(MAIZIDIAN), CENTER_ROSTER]))
    assert keyed(findings) == {("warning", "roster-gap", "2 street units/desk")}
    assert findings[0].message == (
        "post desk (接诉即办岗) of 2 street units made from the same template (street-110105001, "
        "street-110105002) has nobody on duty mon 17:00-24:00, tue 17:00-24:00, wed 17:00-24:00, "
        "thu 17:00-24:00, fri 17:00-24:00, sat 17:00-24:00, sun 17:00-24:00; requests then go to each "
        "unit's fallback person"
    )


def test_the_working_day_calendar_decides_the_reference_week() -> None:
    day_shift = Roster("heat", "desk", (shift("heat.day", time(0), time.max, DayKind.WORKING),))
    catalog = make_catalog(rosters=[day_shift, CENTER_ROSTER])
    [weekdays] = [f.message for f in lint(catalog) if f.subject == "heat/desk"]
    [wednesday_off] = [
        f.message
        for f in lint(catalog, lambda day: day.weekday() not in (2, 5, 6))
        if f.subject == "heat/desk"
    ]
    assert "sat 00:00-24:00, sun 00:00-24:00;" in weekdays
    assert "wed 00:00-24:00, sat 00:00-24:00, sun 00:00-24:00;" in wednesday_off


def test_a_shift_until_midnight_leaves_the_morning_uncovered() -> None:
    evening = Roster("heat", "desk", (shift("heat.day", time(8), time.max),))
    findings = lint(make_catalog(rosters=[evening, CENTER_ROSTER]))
    assert keyed(findings) == {("warning", "roster-gap", "heat/desk")}
    assert "nobody on duty mon 00:00-08:00, tue 00:00-08:00," in findings[0].message


def test_findings_from_yaml_name_their_file_and_line(tmp_path: Path) -> None:
    files = {
        "catalog.yaml": "manual_queue: manual-dispatch\n",
        "areas.yaml": """
            districts:
              - code: "110105"
                name: 朝阳区
                streets:
                  - {code: "110105001", name: 望京街道}
            """,
        "categories.yaml": """
            categories:
              - code: "01"
                name: 供暖
                handling: department
                children:
                  - code: "0101"
                    name: 供热质量
            """,
        "units.yaml": """
            units:
              - id: heat
                name: 市供热办
                kind: department
                posts:
                  - {id: desk, name: 热线岗}
            """,
        "rules.yaml": """
            rules:
              - id: heat
                when: {category: "01"}
                then: {unit: heat}
              - id: heat-quality
                when: {category: "0101"}
                then: {unit: heat}
                priority: 200
            """,
    }
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")

    findings = lint(load_catalog(tmp_path))

    assert [(f.code, f.subject, f.source) for f in findings] == [("shadowed", "heat-quality", "rules.yaml:5")]
    assert "rule heat (rules.yaml:2, priority 100) comes first" in findings[0].message


VOCABULARY = ["暖气", "暖气不热", "不热", "燃气", "燃", "停水"]
CODES = ["01", "0101", "010101", "010102", "0102", "010201", "03", "0301"]
AREA_CODES = [DISTRICT, WANGJING, MAIZIDIAN]


def random_conditions(pick: random.Random) -> Conditions:
    def some(values: list[str], chance: float = 0.4) -> list[str]:
        return pick.sample(values, pick.randint(1, 2)) if pick.random() < chance else []

    hours = [None, None, (time(8), time(18)), (time(17), time(9)), (time(9), time(12)), (time(20), time(8))]
    return when(
        categories=some(CODES, 0.6),
        areas=some(AREA_CODES),
        kinds=some(["complaint", "consultation", "suggestion"]),
        urgencies=some(["urgent", "general"]),
        channels=some(["phone", "app"], 0.2),
        groups=some(["elderly", "disabled", "veteran"], 0.3),
        keywords={"any": some(VOCABULARY, 0.2), "all": some(VOCABULARY, 0.2), "none": some(VOCABULARY, 0.2)},
        working_day=pick.choice([None, None, True, False]),
        hours=pick.choice(hours),
        expression=pick.choice([None] * 6 + ["kind == 'complaint'"]),
    )


def random_facts(pick: random.Random) -> tuple[Facts, dict[str, tuple[str, ...]]]:
    description = "".join(pick.sample([*VOCABULARY, "家里", "冷"], pick.randint(0, 3)))
    area = pick.choice(AREA_CODES)
    facts = Facts(
        category=pick.choice([*CODES, "030101", "020101"]),
        areas=(DISTRICT,) if area == DISTRICT else (DISTRICT, area),
        kind=pick.choice(["complaint", "consultation", "suggestion"]),
        urgency=pick.choice(["urgent", "general"]),
        channel=pick.choice(["phone", "app"]),
        groups=frozenset(pick.sample(["elderly", "disabled", "veteran"], pick.randint(0, 2))),
        description=description,
        working_day=pick.random() < 0.7,
        local_time=time(pick.randrange(24), pick.choice([0, 30, 59])),
    )
    return facts, {word: () for word in VOCABULARY if word in description}


def test_covers_and_meet_never_claim_more_than_the_matcher_does() -> None:
    """`covers` must be sound (every request the late rule matches, the early one matches) and `meet` must
    never deny a request both rules match: checked against `Matcher.mismatch` on random rules and facts."""
    pick = random.Random(12345)
    rules = [Rule(f"r{n}", 100, random_conditions(pick), Action(Target.QUEUE, queue="q")) for n in range(160)]
    matcher, logic = Matcher(rules), Logic(make_catalog().areas)
    samples = [random_facts(pick) for _ in range(600)]
    matches = {
        r.id: {n for n, (f, w) in enumerate(samples) if matcher.mismatch(r, f, w) is None} for r in rules
    }
    covering = 0
    for early in rules:
        for late in rules:
            if early is late:
                continue
            if logic.covers(early.when, late.when):
                covering += 1
                assert matches[late.id] <= matches[early.id], (early.when, late.when)
            if matches[early.id] & matches[late.id]:
                assert logic.meet(early.when, late.when), (early.when, late.when)
    assert covering > 50  # the property was exercised


def test_the_rule_index_finds_what_comparing_every_pair_finds() -> None:
    """The rule each shadowed rule is blamed on, and the first rule each overlapping rule overlaps, found
    through the index, equal those found by comparing every pair."""
    pick = random.Random(99)
    rules = [
        dataclasses.replace(
            rule(f"r{n}", pick.choice([1, 2]), to=pick.choice(["heat", "water"])),
            when=random_conditions(pick),
        )
        for n in range(300)
    ]
    catalog = make_catalog(rules)
    ordered, logic = catalog.rules, Logic(catalog.areas)
    shadowed = {}
    for n, late in enumerate(ordered):
        blamed = next((e.id for e in ordered[:n] if logic.covers(e.when, late.when)), None)
        if blamed:
            shadowed[late.id] = blamed
    overlapping = {}
    for n, late in enumerate(ordered):
        first = next(
            (
                early.id
                for early in ordered[:n]
                if early.priority == late.priority
                and early.id not in shadowed
                and early.then.unit != late.then.unit
                and logic.meet(early.when, late.when)
                and not logic.covers(late.when, early.when)
            ),
            None,
        )
        if first and late.id not in shadowed:
            overlapping[late.id] = first
    findings = lint(catalog)
    blamed_by_lint = {
        f.subject: f.message.split(": rule ")[1].split(" ")[0] for f in findings if f.code == "shadowed"
    }
    first_by_lint = {f.subject: f.message.split(" ")[1] for f in findings if f.code == "overlap"}
    assert blamed_by_lint == shadowed
    assert first_by_lint == overlapping
    assert len(shadowed) > 10 and len(overlapping) > 10


def big_catalog(size: int = 5000) -> Catalog:
    """A city-sized catalog: 16 districts of 20 streets (territorial units from one template), 500 leaf
    categories, `size` rules mixing category, area, kind, keyword and urgency conditions."""
    pick = random.Random(7)
    areas, units, rosters, people = [], [], [], []
    for d in range(16):
        district = f"1101{d:02d}"
        areas.append(Area(district, f"区{d}", AreaLevel.DISTRICT, None))
        units.append(
            Unit(
                f"branch-{district}",
                f"分公司{d}",
                UnitKind.ENTERPRISE,
                district,
                None,
                (district,),
                (Post("desk", "岗"),),
            )
        )
        for s in range(1, 21):
            code = f"{district}{s:03d}"
            areas.append(Area(code, f"街道{d}-{s}", AreaLevel.STREET, district))
            units.append(dataclasses.replace(street_unit(code), district=district))
            rosters.append(street_roster(code))
            people += [f"street-{code}.day", f"street-{code}.duty"]
    categories = [Category(f"{a:02d}", "c", "general", Handling.DEPARTMENT) for a in range(1, 21)]
    categories += [
        Category(f"{a:02d}{b:02d}", "c", "general", Handling.DEPARTMENT)
        for a in range(1, 21)
        for b in range(1, 6)
    ]
    leaves = [f"{a:02d}{b:02d}{c:02d}" for a in range(1, 21) for b in range(1, 6) for c in range(1, 6)]
    categories += [Category(code, "c", "general", Handling.DEPARTMENT) for code in leaves]
    districts = [area.code for area in areas if area.level is AreaLevel.DISTRICT]
    streets = [area.code for area in areas if area.level is AreaLevel.STREET]
    rules = []
    for n in range(size):
        kind = n % 10
        if kind < 6:
            district = pick.choice(districts)
            rules.append(
                rule(
                    f"r{n}",
                    100,
                    categories=[pick.choice(leaves)[: pick.choice((4, 6))]],
                    areas=[district],
                    to=f"branch-{district}",
                )
            )
        elif kind < 8:
            rules.append(
                rule(
                    f"r{n}",
                    200,
                    categories=[pick.choice(leaves)],
                    kinds=[pick.choice(["a", "b"])],
                    to=f"branch-{pick.choice(districts)}",
                )
            )
        elif kind < 9:
            street = pick.choice(streets)
            rules.append(
                rule(
                    f"r{n}",
                    50,
                    categories=[pick.choice(leaves)[:4]],
                    areas=[street],
                    keywords={"any": [f"词{pick.randrange(50)}"]},
                    to=f"street-{street}",
                )
            )
        else:
            rules.append(
                rule(
                    f"r{n}",
                    300,
                    areas=[pick.choice(districts)],
                    urgencies=["urgent"],
                    to=f"branch-{pick.choice(districts)}",
                )
            )
    return make_catalog(
        rules, categories=categories, units=units, people=people, rosters=rosters, areas=areas
    )


def test_linting_5000_rules_takes_seconds() -> None:
    catalog = big_catalog()
    started = stopwatch.perf_counter()
    findings = lint(catalog)
    elapsed = stopwatch.perf_counter() - started
    assert {f.code for f in findings} <= {"shadowed", "overlap", "unreachable-category"}
    assert elapsed < 15, f"lint of {len(catalog.rules)} rules took {elapsed:.1f} s"
