"""Lint the dispatch catalog: rules that can never match, rules whose order decides, broken references,
categories no rule routes, and hours when nobody is on duty. Pure: takes a `Catalog`, does no I/O.

Findings come in a fixed order (duplicate ids, missing references, shadowed and overlapping rules,
unreachable categories, roster gaps); each names a subject (a rule id, a category code, `unit/post`) and,
for rules, the `file:line` it came from. Any "error" finding means the catalog will misroute requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, time

from rules.catalog import Action, Area, Catalog, Conditions, Handling, Keywords, Rule, Target, UnitKind
from rules.lint_rosters import Severity, roster_gaps, unit_issues
from rules.matcher import prefixes


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str  # kebab-case: shadowed, overlap, missing-reference, unreachable-category, roster-gap, ...
    subject: str  # the rule id, category code or `unit/post` the finding is about
    message: str  # for a supervisor: what is wrong and what it does to requests
    source: str | None = None  # "rules.yaml:12" when known

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.severity}: {self.code}: {self.subject}: {self.message}"


def lint(catalog: Catalog, is_working_day: Callable[[date], bool] | None = None) -> list[Finding]:
    """Every finding about `catalog`, errors and warnings, in the order of the module docstring.
    `is_working_day` decides which days of the reference week the rosters are checked on are worked
    (default Monday to Friday). Fast for thousands of rules: two rules are only compared when their
    category, area, kind, urgency and channel conditions let one cover, or meet, the other."""
    findings = [*duplicate_ids(catalog), *rule_references(catalog)]
    findings += [Finding(*issue) for issue in unit_issues(catalog)]
    shadowed, pair_findings = rule_pairs(catalog)
    findings += pair_findings
    findings += unreachable_categories(catalog, shadowed)
    return findings + [Finding(*issue) for issue in roster_gaps(catalog, is_working_day)]


def has_errors(findings: list[Finding]) -> bool:
    """Whether any finding is an error (for an exit status)."""
    return any(finding.severity == "error" for finding in findings)


def duplicate_ids(catalog: Catalog) -> Iterator[Finding]:
    """`duplicate-rule-id` (error) for the second and later rules with an id already used."""
    first: dict[str, Rule] = {}
    for rule in catalog.rules:
        if rule.id in first:
            message = (
                f"rule id {rule.id} is also used by the rule at {first[rule.id].source or '?'}: explanations "
                "and decisions name rules by id, so they would be ambiguous; rename one of them"
            )
            yield Finding("error", "duplicate-rule-id", rule.id, message, rule.source or None)
        first.setdefault(rule.id, rule)


def rule_references(catalog: Catalog) -> Iterator[Finding]:
    """`missing-reference` (error) for what a rule names but the catalog lacks: its target unit and post,
    co-handling units, category prefixes with no category under them, unknown area codes. Also
    `unindexed-category` (error): a prefix that is not 2, 4 or 6 digits, which the matcher never finds."""
    under = {code[:n] for code in catalog.categories for n in range(1, len(code) + 1)}
    for rule in catalog.rules:
        problems, action = [], rule.then
        unit = catalog.units.get(action.unit or "")
        if action.target is Target.UNIT and not action.unit:
            problems.append("sends requests to a unit but names none")
        elif action.target is Target.UNIT and unit is None:
            problems.append(f"sends requests to unit {action.unit}, which does not exist")
        elif unit is not None and action.post and unit.post(action.post) is None:
            posts = ", ".join(post.id for post in unit.posts)
            problems.append(f"sends requests to post {action.post} of {unit.id}, which has only {posts}")
        problems += [
            f"names co-handling unit {x}, which does not exist"
            for x in action.co_handlers
            if x not in catalog.units
        ]
        problems += [
            f"names category {code}, but no category code starts with it"
            for code in rule.when.categories
            if code not in under
        ]
        problems += [
            f"names area {code}, which is not in the gazetteer"
            for code in rule.when.areas
            if code not in catalog.areas
        ]
        for problem in problems:
            yield Finding(
                "error", "missing-reference", rule.id, f"rule {rule.id} {problem}", rule.source or None
            )
        for code in rule.when.categories:
            if code not in prefixes(code):
                message = (
                    f"rule {rule.id} names category prefix {code}, which is not 2, 4 or 6 digits long: the "
                    "matcher looks rules up by those prefixes only, so this rule never matches"
                )
                yield Finding("error", "unindexed-category", rule.id, message, rule.source or None)


def category_chain(code: str) -> tuple[str, ...]:
    """Every prefix of a category code: the prefixes a rule may name to take it."""
    return tuple(code[:n] for n in range(1, len(code) + 1))


class Nesting:
    """Rule positions by the codes of one condition (categories or areas), to find the rules whose codes
    can nest with given ones without comparing every pair. `chain(code)` is the code and all above it."""

    def __init__(self, chain: Callable[[str], tuple[str, ...]]) -> None:
        self.chain = chain
        self.free: set[int] = set()  # rules without this condition
        self.exact: dict[str, set[int]] = {}
        self.below: dict[str, set[int]] = {}  # code -> rules naming it or a code under it

    def add(self, position: int, codes: tuple[str, ...]) -> None:
        if not codes:
            self.free.add(position)
        for code in codes:
            self.exact.setdefault(code, set()).add(position)
            for outer in self.chain(code):
                self.below.setdefault(outer, set()).add(position)

    def covering(self, codes: tuple[str, ...]) -> set[int]:
        """Rules that may cover all of `codes`: none of them can without covering the first one."""
        if not codes:
            return set(self.free)
        return self.free.union(*(self.exact.get(outer, ()) for outer in self.chain(codes[0])))

    def meeting(self, codes: tuple[str, ...]) -> set[int] | None:
        """Rules whose codes nest with one of `codes`; None: every rule (no such condition here)."""
        if not codes:
            return None
        found = set(self.free)
        for code in codes:
            found.update(self.below.get(code, ()), *(self.exact.get(outer, ()) for outer in self.chain(code)))
        return found


class Logic:
    """Relations between two rules' conditions, true only when certain: `covers` (every request one
    matches, the other matches too) and, negated, `meet` (some request may match both)."""

    def __init__(self, areas: dict[str, Area]) -> None:
        self.areas = areas
        self._chains: dict[str, tuple[str, ...]] = {}

    def area_chain(self, code: str) -> tuple[str, ...]:
        """The code and the areas it lies within: what a request located there carries in `Facts.areas`
        (by parents in the gazetteer; by 6/9-digit prefix for an unknown code)."""
        if code not in self._chains:
            chain, area = [code], self.areas.get(code)
            while area is not None and area.parent and area.parent not in chain:
                chain.append(area.parent)
                area = self.areas.get(area.parent)
            if code not in self.areas:
                chain += [code[:n] for n in (9, 6) if len(code) > n]
            self._chains[code] = tuple(chain)
        return self._chains[code]

    def covers(self, early: Conditions, late: Conditions) -> bool:
        """Every request `late` matches, `early` matches (an expression on `early` is never certain)."""
        return (
            nests(early.categories, late.categories, category_chain)
            and nests(early.areas, late.areas, self.area_chain)
            and all(
                not wide or (bool(narrow) and set(narrow) <= set(wide))  # groups too: "any of"
                for wide, narrow in (
                    (early.kinds, late.kinds),
                    (early.urgencies, late.urgencies),
                    (early.channels, late.channels),
                    (early.groups, late.groups),
                )
            )
            and implies(late.keywords, early.keywords)
            and early.working_day in (None, late.working_day)
            and hours_cover(early.hours, late.hours)
            and early.expression is None
        )

    def meet(self, one: Conditions, other: Conditions) -> bool:
        """Two group conditions always meet: a requester may be in several groups. Expressions may."""
        return (
            touch(one.categories, other.categories, category_chain)
            and touch(one.areas, other.areas, self.area_chain)
            and all(
                not a or not b or bool(set(a) & set(b))
                for a, b in (
                    (one.kinds, other.kinds),
                    (one.urgencies, other.urgencies),
                    (one.channels, other.channels),
                )
            )
            and not any(present(one.keywords, word) for word in other.keywords.none)
            and not any(present(other.keywords, word) for word in one.keywords.none)
            and (None in (one.working_day, other.working_day) or one.working_day == other.working_day)
            and hours_meet(one.hours, other.hours)
        )

    def example(self, one: Conditions, other: Conditions, catalog: Catalog) -> str:
        """Where both rules' category and area conditions hold, in words: "e.g. 0101 供热质量 in 朝阳区"."""
        parts = []
        for a_codes, b_codes, names, chain in (
            (one.categories, other.categories, catalog.categories, category_chain),
            (one.areas, other.areas, catalog.areas, self.area_chain),
        ):
            if a_codes and b_codes:
                nested = ((a, b) for a in a_codes for b in b_codes if a in chain(b) or b in chain(a))
                code = next((b if a in chain(b) else a for a, b in nested), None)
            else:
                code = next(iter(a_codes or b_codes), None)
            if code:
                parts.append(f"{code} {names[code].name}" if code in names else code)
        return "e.g. " + " in ".join(parts) if parts else "any category, anywhere"


def nests(wide: tuple[str, ...], narrow: tuple[str, ...], chain: Callable[[str], tuple[str, ...]]) -> bool:
    return not wide or (bool(narrow) and all(set(wide).intersection(chain(code)) for code in narrow))


def touch(one: tuple[str, ...], other: tuple[str, ...], chain: Callable[[str], tuple[str, ...]]) -> bool:
    return not one or not other or any(a in chain(b) or b in chain(a) for a in one for b in other)


def present(keywords: Keywords, word: str) -> bool:
    """Every description matching `keywords` contains `word` (a keyword is found wherever it occurs, so a
    word inside a required keyword is found too)."""
    return any(word in must for must in keywords.all) or (
        bool(keywords.any) and all(word in one for one in keywords.any)
    )


def implies(late: Keywords, early: Keywords) -> bool:
    """Every description matching `late` matches `early`."""
    return (
        (
            not early.any
            or any(present(late, word) for word in early.any)
            or (bool(late.any) and all(any(word in one for word in early.any) for one in late.any))
        )
        and all(present(late, word) for word in early.all)
        and all(any(absent in word for absent in late.none) for word in early.none)
    )


DAY = 24 * 3600 * 10**6  # microseconds


def spans(hours: tuple[time, time]) -> list[tuple[int, int]]:
    """`[start, end)` hours as microsecond spans of one day, as `rules.matcher.in_hours` reads them."""
    start, end = ((t.hour * 3600 + t.minute * 60 + t.second) * 10**6 + t.microsecond for t in hours)
    return [(start, end)] if start < end else [(start, DAY), (0, end)]


def hours_cover(wide: tuple[time, time] | None, narrow: tuple[time, time] | None) -> bool:
    if wide is None or wide[0] == wide[1]:
        return True
    return narrow is not None and all(
        any(a <= c and d <= b for a, b in spans(wide)) for c, d in spans(narrow) if c < d
    )


def hours_meet(one: tuple[time, time] | None, other: tuple[time, time] | None) -> bool:
    if one is None or other is None:
        return True
    return any(max(a, c) < min(b, d) for a, b in spans(one) for c, d in spans(other))


def destination(catalog: Catalog, action: Action) -> str:
    """Where a rule sends a request, as the router would resolve the post: comparable between rules."""
    if action.target is Target.QUEUE:
        return f"queue {action.queue or catalog.manual_queue}"
    if action.target is not Target.UNIT:
        return f"the {action.target.value.replace('_', ' ')}" + (
            f", post {action.post}" if action.post else ""
        )
    unit = catalog.units.get(action.unit or "")
    if unit is None or not unit.posts:
        return f"unit {action.unit}" + (f", post {action.post}" if action.post else "")
    territorial = unit.kind in (UnitKind.STREET, UnitKind.DISTRICT)
    post = unit.post(action.post or "") or (unit.post(catalog.territorial_post) if territorial else None)
    return f"unit {unit.id}, post {(post or unit.posts[0]).id}"


class Index:
    """Rules by their category, area, kind, urgency, channel and group conditions and by destination: the
    rules that may cover, or meet while sending elsewhere, given conditions. Narrowed condition by condition
    while more than a few remain; the caller still checks each with `Logic`."""

    def __init__(self, logic: Logic) -> None:
        self.parts = [Nesting(category_chain), Nesting(logic.area_chain), *(Nesting(single) for _ in "kucg")]
        self.members: set[int] = set()
        self.places: dict[str, set[int]] = {}

    def add(self, position: int, when: Conditions, place: str) -> None:
        for part, codes in zip(self.parts, dimensions(when), strict=True):
            part.add(position, codes)
        self.members.add(position)
        self.places.setdefault(place, set()).add(position)

    def covering(self, when: Conditions) -> list[int]:
        found = self.members
        for part, codes in zip(self.parts, dimensions(when), strict=True):
            if len(found) <= 32:
                break
            found = found & part.covering(codes)
        return sorted(found)

    def meeting(self, when: Conditions, place: str) -> list[int]:
        """Two group conditions always meet (a requester may be in several groups): groups are skipped."""
        found = self.members - self.places.get(place, set())
        for part, codes in zip(self.parts[:5], dimensions(when), strict=False):
            near = part.meeting(codes) if len(found) > 32 else None
            found = found if near is None else found & near
        return sorted(found)


def single(code: str) -> tuple[str, ...]:
    return (code,)


def dimensions(when: Conditions) -> tuple[tuple[str, ...], ...]:
    return when.categories, when.areas, when.kinds, when.urgencies, when.channels, when.groups


MORE = 10  # overlapping rules named in one finding


def rule_pairs(catalog: Catalog) -> tuple[set[int], list[Finding]]:
    """`shadowed` (error): a rule every request of which an earlier rule (catalog order) already takes.
    `overlap` (warning): two rules of one priority that can match one request but send it to different
    places, when neither nests in the other; an earlier rule nested in a later one is the usual "exception
    first" pattern and is not reported, nor are pairs with a shadowed rule. One finding per later rule,
    naming up to ten earlier ones. Returns the shadowed positions.
    Only certain shadowing is reported; overlap is reported unless the two rules surely exclude each other
    (a catalog where thousands of rules of one priority all meet would yield one finding per rule)."""
    rules, logic, findings = catalog.rules, Logic(catalog.areas), []
    places = [destination(catalog, rule.then) for rule in rules]
    shadowed: set[int] = set()
    earlier = Index(logic)
    for late, rule in enumerate(rules):
        early = next((n for n in earlier.covering(rule.when) if logic.covers(rules[n].when, rule.when)), None)
        if early is not None:
            shadowed.add(late)
            first = rules[early]
            message = (
                f"rule {rule.id} can never match: rule {first.id} ({first.source or 'earlier'}, priority "
                f"{first.priority}) comes first and matches every request {rule.id} matches, sending it to "
                f"{places[early]}; remove {rule.id}, narrow {first.id}, or give {rule.id} a lower priority "
                "number"
            )
            findings.append(Finding("error", "shadowed", rule.id, message, rule.source or None))
        if all(code in prefixes(code) for code in rule.when.categories):  # else it never matches
            earlier.add(late, rule.when, places[late])
    peers: dict[int, Index] = {}
    for late, rule in enumerate(rules):
        if late in shadowed:
            continue
        same, partners = peers.setdefault(rule.priority, Index(logic)), []
        for early in same.meeting(rule.when, places[late]):
            other = rules[early].when
            if not logic.meet(other, rule.when):
                continue
            if not logic.covers(rule.when, other):  # else: an exception listed before its rule
                partners.append(early)
                if len(partners) > MORE:
                    break
        same.add(late, rule.when, places[late])
        if partners:
            findings.append(overlap(catalog, logic, [rules[n] for n in partners], rule, places[partners[0]]))
    return shadowed, findings


def overlap(catalog: Catalog, logic: Logic, partners: list[Rule], rule: Rule, there: str) -> Finding:
    first, here = partners[0], destination(catalog, rule.then)
    example = logic.example(first.when, rule.when, catalog)
    message = (
        f"rules {first.id} ({first.source or 'earlier'}) and {rule.id} have the same priority "
        f"{rule.priority} and can both match one request ({example}), but {first.id} sends it to {there} "
        f"and {rule.id} to {here}; {first.id} wins only because it has more conditions or comes first in "
        "the file. Give one of them another priority, or narrow one"
    )
    if len(partners) > 1:
        others = ", ".join(f"{other.id} ({other.source or '?'})" for other in partners[1:MORE])
        message += f". {rule.id} overlaps in the same way with {others}" + (
            " and more" if len(partners) > MORE else ""
        )
    return Finding("warning", "overlap", rule.id, message, rule.source or None)


def unreachable_categories(catalog: Catalog, shadowed: set[int]) -> Iterator[Finding]:
    """`unreachable-category` (warning): department-handled leaf categories that no rule names (by prefix)
    would only ever reach a district government by fallback. A leaf is a category no other code extends;
    shadowed rules name nothing; territorial categories are reachable by the street fallback."""
    named = {
        code for n, rule in enumerate(catalog.rules) if n not in shadowed for code in rule.when.categories
    }
    parents = {code[:n] for code in catalog.categories for n in range(1, len(code))}
    for code, category in sorted(catalog.categories.items()):
        if category.handling is not Handling.DEPARTMENT or code in parents:
            continue
        if not named.intersection(category_chain(code)):
            message = (
                f"category {code} ({category.name}) is handled by departments, but no rule names it or a "
                "category above it: its requests would only ever reach the district government of the "
                "location by fallback"
            )
            yield Finding("warning", "unreachable-category", code, message)
