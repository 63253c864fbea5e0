"""Lint the dispatch catalog: rules that can never match, rules whose order decides, broken references,
categories no rule routes, and hours when nobody is on duty. Pure: takes a `Catalog`, does no I/O.

Findings come in a fixed order (duplicate ids, missing references, shadowed and overlapping rules,
unreachable categories, roster gaps); each names a subject (a rule id, a category code, `unit/post`) and,
for rules, the `file:line` it came from. Any "error" finding means the catalog will misroute requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from rules.catalog import Action, Catalog, Handling, Rule, Target, UnitKind
from rules.lint_logic import Index, Logic, category_chain
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
        names_unit = action.target in (Target.UNIT, Target.BRANCH_OF_LOCATION)
        if names_unit and not action.unit:
            problems.append("sends requests to a unit but names none")
        elif names_unit and unit is None:
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


def destination(catalog: Catalog, action: Action) -> str:
    """Where a rule sends a request, as the router would resolve the post: comparable between rules."""
    if action.target is Target.QUEUE:
        return f"queue {action.queue or catalog.manual_queue}"
    if action.target is Target.BRANCH_OF_LOCATION:
        return f"the district branch of {action.unit}" + (f", post {action.post}" if action.post else "")
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
