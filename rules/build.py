"""From validated files to a `Catalog`: expand territorial templates, resolve and check references."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rules import catalog as c
from rules import schema as s
from rules.source import Parsed

Problems = list[tuple[str, int, str]]
SPECIAL_TARGETS = {
    "street_of_location": c.Target.STREET_OF_LOCATION,
    "district_of_location": c.Target.DISTRICT_OF_LOCATION,
}
# `unit: dept-health@district` in a rule: that department's branch in the district of the location
BRANCH_SUFFIX = "@district"


def as_tuple(value: Sequence[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def areas_of(parsed: s.AreasFile) -> dict[str, c.Area]:
    areas: dict[str, c.Area] = {}
    for district in parsed.districts:
        areas[district.code] = c.Area(
            district.code, district.name, c.AreaLevel.DISTRICT, None, tuple(district.aliases)
        )
        for number, street in enumerate(district.streets, 1):
            street_code = street.code or f"{district.code}{number:03d}"
            areas[street_code] = c.Area(
                street_code, street.name, c.AreaLevel.STREET, district.code, tuple(street.aliases)
            )
            for index, community in enumerate(street.communities, 1):
                code = community.code or f"{street_code}{index:03d}"
                areas[code] = c.Area(
                    code, community.name, c.AreaLevel.COMMUNITY, street_code, tuple(community.aliases)
                )
    return areas


def categories_of(nodes: list[s.CategoryFile], parent: c.Category | None = None) -> dict[str, c.Category]:
    found: dict[str, c.Category] = {}
    for node in nodes:
        category = c.Category(
            node.code,
            node.name,
            node.urgency or (parent.urgency if parent else "general"),
            c.Handling(node.handling)
            if node.handling
            else (parent.handling if parent else c.Handling.TERRITORIAL),
            tuple(node.keywords),
        )
        found[node.code] = category
        found.update(categories_of(node.children, category))
    return found


def post_of(post: s.PostFile, fill: dict[str, str] | None = None) -> c.Post:
    def expand(value: str | None) -> str | None:
        return value.format(**fill) if value and fill else value

    return c.Post(post.id, post.name, post.supervisor, expand(post.fallback_person), post.always_on)


def shift_of(shift: s.ShiftFile, person: str) -> c.Shift:
    days: c.DayKind | tuple[str, ...] = (
        c.DayKind(shift.days) if isinstance(shift.days, str) else tuple(shift.days)
    )
    return c.Shift(person, s.clock(shift.start), s.clock(shift.end), days)


Expanded = tuple[list[c.Unit], list[c.Person], list[c.Roster]]


def expand(template: s.TerritorialTemplate, area: c.Area, kind: c.UnitKind, made: Expanded) -> c.Unit:
    """One unit of a template for one area, with its people and rosters, added to `made`."""
    units, people, rosters = made
    fill = {"code": area.code, "name": area.name}
    fill["unit"] = template.id.format(**fill)
    posts = tuple(post_of(post, fill) for post in template.posts)
    territorial = kind in (c.UnitKind.STREET, c.UnitKind.DISTRICT)
    unit = c.Unit(
        fill["unit"],
        template.name.format(**fill),
        kind,
        area.district_code(),
        area.code if territorial else None,
        () if territorial else (area.code,),
        posts,
    )
    units.append(unit)
    for person in template.people:
        channels = tuple(person.channels.items())
        people.append(c.Person(person.id.format(**fill), person.name.format(**fill), channels))
    for post_id, shifts in template.rosters.items():
        on_duty = tuple(shift_of(shift, shift.person.format(**fill)) for shift in shifts)
        rosters.append(c.Roster(unit.id, post_id, on_duty))
    return unit


def territorial_units(
    areas: dict[str, c.Area], templates: dict[str, s.TerritorialTemplate], made: Expanded
) -> None:
    for area in areas.values():
        template = templates.get(area.level.value)
        if template is not None:
            kind = c.UnitKind.STREET if area.level is c.AreaLevel.STREET else c.UnitKind.DISTRICT
            expand(template, area, kind, made)


def branch_units(
    areas: dict[str, c.Area], templates: list[s.BranchTemplate], made: Expanded
) -> dict[tuple[str, str], str]:
    """Each department's district branches; (department, district code) -> branch unit id."""
    branches: dict[tuple[str, str], str] = {}
    districts = [area for area in areas.values() if area.level is c.AreaLevel.DISTRICT]
    for template in templates:
        for district in districts:
            if not template.districts or district.code in template.districts:
                branch = expand(template, district, c.UnitKind.DEPARTMENT, made)
                branches[(template.of, district.code)] = branch.id
    return branches


def rule_of(rule: s.RuleFile, source: str) -> c.Rule:
    when, then = rule.when, rule.then
    hours = None
    if when.hours:
        start, end = when.hours.split("-")
        hours = (s.clock(start), s.clock(end))
    conditions = c.Conditions(
        categories=as_tuple(when.category),
        areas=as_tuple(when.area),
        kinds=as_tuple(when.kind),
        urgencies=as_tuple(when.urgency),
        channels=as_tuple(when.channel),
        groups=as_tuple(when.groups),
        keywords=c.Keywords(tuple(when.keywords.any), tuple(when.keywords.all), tuple(when.keywords.none)),
        working_day=when.working_day,
        hours=hours,
        expression=when.expression,
    )
    if then.queue:
        action = c.Action(c.Target.QUEUE, queue=then.queue, urgency=then.urgency)
    else:
        unit = then.unit or ""
        target = SPECIAL_TARGETS.get(unit, c.Target.UNIT)
        if unit.endswith(BRANCH_SUFFIX):
            target, unit = c.Target.BRANCH_OF_LOCATION, unit.removesuffix(BRANCH_SUFFIX)
        action = c.Action(
            target,
            unit if target in (c.Target.UNIT, c.Target.BRANCH_OF_LOCATION) else None,
            then.post,
            tuple(then.co_handlers),
            then.urgency,
        )
    return c.Rule(rule.id, rule.priority, conditions, action, rule.description, source)


def add_places(areas: dict[str, c.Area], places: Parsed, problems: Problems) -> None:
    """Each place's names become names of its street: an address that names the place names the street."""
    for number, place in enumerate(places.model.places):
        street = areas.get(place.street)
        if street is None or street.level is not c.AreaLevel.STREET:
            why = f"place {place.name}: {place.street} is not a street of areas.yaml"
            problems.append((places.name, places.line("places", number, "street"), why))
            continue
        names = tuple(name for name in (place.name, *place.aliases) if name not in street.aliases)
        areas[street.code] = replace(street, aliases=street.aliases + names)


def build_catalog(
    version: str,
    settings: Parsed,
    areas: Parsed,
    categories: Parsed,
    units: Parsed,
    rules: Parsed,
    places: Parsed | None = None,
) -> tuple[c.Catalog, Problems]:
    problems: Problems = []
    area_index = areas_of(areas.model)
    if places is not None:
        add_places(area_index, places, problems)
    category_index = categories_of(categories.model.categories)
    expanded: Expanded = ([], [], [])
    territorial_units(area_index, units.model.territorial, expanded)
    branches = branch_units(area_index, units.model.branches, expanded)
    made_units, made_people, made_rosters = expanded
    unit_index = {unit.id: unit for unit in made_units}
    for number, unit in enumerate(units.model.units):
        if unit.id in unit_index:
            problems.append((units.name, units.line("units", number, "id"), f"unit {unit.id} defined twice"))
        posts = tuple(post_of(post) for post in unit.posts)
        unit_index[unit.id] = c.Unit(
            unit.id, unit.name, c.UnitKind(unit.kind), unit.district, None, tuple(unit.jurisdiction), posts
        )
    people = {person.id: person for person in made_people}
    people.update({p.id: c.Person(p.id, p.name, tuple(p.channels.items())) for p in units.model.people})
    rosters = {(roster.unit, roster.post): roster for roster in made_rosters}
    for number, roster in enumerate(units.model.rosters):
        shifts = tuple(shift_of(shift, shift.person) for shift in roster.shifts)
        overrides = tuple(
            c.Override(o.person, o.date, s.clock(o.start), s.clock(o.end)) for o in roster.overrides
        )
        rosters[(roster.unit, roster.post)] = c.Roster(roster.unit, roster.post, shifts, overrides)
        where = (units.name, units.line("rosters", number))
        check_post(unit_index, roster.unit, roster.post, where, problems)
        for person in {shift.person for shift in shifts} | {o.person for o in overrides}:
            if person not in people:
                problems.append((*where, f"roster of {roster.unit}/{roster.post}: unknown person {person}"))
    rule_list = []
    for number, rule in enumerate(rules.model.rules):
        made = rule_of(rule, f"{rules.name}:{rules.line('rules', number)}")
        rule_list.append(made)
        check_rule(
            made, (rules.name, rules.line("rules", number)), unit_index, area_index, category_index, problems
        )
    rule_list.sort(key=lambda rule: (rule.priority, -rule.when.specificity()))
    catalog = c.Catalog(
        version=version,
        areas=area_index,
        categories=category_index,
        units=unit_index,
        people=people,
        rosters=rosters,
        rules=tuple(rule_list),
        territorial={unit.area: unit.id for unit in unit_index.values() if unit.area},
        branches=branches,
        territorial_post=settings.model.territorial_post,
        manual_queue=settings.model.manual_queue,
        triage_queue=settings.model.triage_queue,
        classifier_threshold=settings.model.classifier_threshold,
    )
    return catalog, problems


def check_post(
    units: dict[str, c.Unit], unit_id: str, post_id: str, where: tuple[str, int], problems: Problems
) -> None:
    unit = units.get(unit_id)
    if unit is None:
        problems.append((*where, f"unknown unit {unit_id}"))
    elif unit.post(post_id) is None:
        problems.append((*where, f"unit {unit_id} has no post {post_id}"))


def check_rule(
    rule: c.Rule,
    where: tuple[str, int],
    units: dict[str, c.Unit],
    areas: dict[str, c.Area],
    categories: dict[str, c.Category],
    problems: Problems,
) -> None:
    action = rule.then
    if action.target in (c.Target.UNIT, c.Target.BRANCH_OF_LOCATION):
        if not action.unit:
            problems.append((*where, f"rule {rule.id}: `then` needs a unit or a queue"))
        elif action.post:
            check_post(units, action.unit, action.post, where, problems)
        elif action.unit not in units:
            problems.append((*where, f"rule {rule.id}: unknown unit {action.unit}"))
    for co_handler in action.co_handlers:
        if co_handler not in units:
            problems.append((*where, f"rule {rule.id}: unknown co-handling unit {co_handler}"))
    for code in rule.when.categories:
        if len(code) not in (2, 4, 6) or not code.isdigit():
            problems.append((*where, f"rule {rule.id}: category {code!r} is not a 2, 4 or 6 digit code"))
        elif not any(known.startswith(code) for known in categories):
            problems.append((*where, f"rule {rule.id}: no category under {code}"))
    for code in rule.when.areas:
        if code not in areas:
            problems.append((*where, f"rule {rule.id}: unknown area {code}"))
