"""The compiled matcher: facts about a request in, the first matching rule out.

Rules are indexed by category prefix and area code, with `*` for "no condition"; per category the lists
of all its prefixes are merged once into a table by area, so a decision looks up a few lists and checks a
handful of candidate rules in catalog order instead of all of them. When the candidates look for many
keywords, all the rules' keywords are found in the description in one pass (Aho-Corasick), and the keyword
conditions become set operations on those found.
`explain` walks every rule in order and says why each earlier one did not match.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from datetime import time
from functools import cache, cached_property
from typing import Any

import ahocorasick
from jinja2.sandbox import ImmutableSandboxedEnvironment

from rules.catalog import Conditions, Keywords, Rule

ANY = "*"


@dataclass(frozen=True)
class Facts:
    category: str | None
    areas: tuple[str, ...]  # codes of the district, street and community that are known
    kind: str
    urgency: str
    channel: str
    groups: frozenset[str]
    description: str
    working_day: bool
    local_time: time

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def prefixes(code: str | None) -> list[str]:
    return [code[:n] for n in (2, 4, 6) if code and len(code) >= n] + [ANY]


MAX_TABLES = 4_096  # per-category candidate tables kept (one per category code seen)
MERGE_SORTED = 48  # up to this many candidates, sort them at once; beyond, merge lazily
SCAN_AFTER = 32  # keywords looked for one by one in a description; beyond, one scan finds them all


Test = Callable[[Facts, Container[str]], bool]
"""Whether a condition holds for the facts; `keyword in words` tells which keywords the description has."""


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition of a rule, written once: `holds` decides the match, `why_not` (called only when it does
    not hold) says why, for `explain`."""

    holds: Test
    why_not: Callable[[Facts, Container[str]], str]
    costly: bool = False  # scans the description or runs an expression: tried after the others


def conditions_of(
    when: Conditions,
    compile_expression: Callable[[str], Callable[..., Any]],
    *,
    indexed: bool = True,
    words_found: bool = False,
) -> tuple[Condition, ...]:
    """The conditions a rule sets, in the order `explain` reports the first that fails; without the
    category and area (`indexed=False`), which the index guarantees for the candidates it returns. With
    `words_found`, the keyword conditions are tested on a set of the keywords found in the description (a set
    that has every keyword of the rule the description contains), not on the description."""
    found: list[Condition] = []
    if indexed and when.categories:
        codes = when.categories
        found.append(
            Condition(
                lambda f, _: (f.category or "").startswith(codes),
                lambda f, _: f"category {f.category or 'unknown'} is not under {', '.join(codes)}",
            )
        )
    if indexed and when.areas:
        areas, within = frozenset(when.areas), when.areas
        found.append(
            Condition(
                lambda f, _: not areas.isdisjoint(f.areas),
                lambda f, _: f"location is not within {', '.join(within)}",
            )
        )
    if when.kinds:
        kinds, named_kinds = frozenset(when.kinds), when.kinds
        found.append(
            Condition(
                lambda f, _: f.kind in kinds,
                lambda f, _: f"kind {f.kind} is not {' or '.join(named_kinds)}",
            )
        )
    if when.urgencies:
        urgencies, named_urgencies = frozenset(when.urgencies), when.urgencies
        found.append(
            Condition(
                lambda f, _: f.urgency in urgencies,
                lambda f, _: f"urgency {f.urgency} is not {' or '.join(named_urgencies)}",
            )
        )
    if when.channels:
        channels, named_channels = frozenset(when.channels), when.channels
        found.append(
            Condition(
                lambda f, _: f.channel in channels,
                lambda f, _: f"channel {f.channel} is not {' or '.join(named_channels)}",
            )
        )
    if when.groups:
        groups, named_groups = frozenset(when.groups), when.groups
        found.append(
            Condition(
                lambda f, _: not groups.isdisjoint(f.groups),
                lambda f, _: f"requester is not in {', '.join(named_groups)}",
            )
        )
    keywords = when.keywords
    if words_found:
        found.extend(keywords_found(keywords))
        keywords = Keywords()
    if keywords.any:
        some = keywords.any
        found.append(
            Condition(
                lambda _, words: any(k in words for k in some),
                lambda _, words: f"description has none of {', '.join(some)}",
                costly=True,
            )
        )
    if keywords.all:
        every = keywords.all
        found.append(
            Condition(
                lambda _, words: all(k in words for k in every),
                lambda _, words: f"description lacks {', '.join(k for k in every if k not in words)}",
                costly=True,
            )
        )
    if keywords.none:
        excluded = keywords.none
        found.append(
            Condition(
                lambda _, words: not any(k in words for k in excluded),
                lambda _, words: f"description has excluded {', '.join(k for k in excluded if k in words)}",
                costly=True,
            )
        )
    if when.working_day is not None:
        working = when.working_day
        found.append(
            Condition(
                lambda f, _: f.working_day == working,
                lambda f, _: "not a working day" if working else "a working day",
            )
        )
    if when.hours:
        start, end = when.hours
        found.append(
            Condition(
                lambda f, _: in_hours(f.local_time, start, end),
                lambda f, _: f"{f.local_time:%H:%M} is outside {start:%H:%M}-{end:%H:%M}",
            )
        )
    if when.expression:
        text, expression = when.expression, compile_expression(when.expression)
        found.append(
            Condition(
                lambda f, _: bool(expression(**f.as_dict())),
                lambda f, _: f"expression {text!r} is false",
                costly=True,
            )
        )
    return tuple(found)


def keywords_found(keywords: Keywords) -> list[Condition]:
    """The keyword conditions on `words`, the set of the keywords found in the description: set
    operations in C instead of a scan of the description per keyword."""
    tests: list[Condition] = []
    if keywords.any:
        some, named_some = frozenset(keywords.any), keywords.any
        tests.append(
            Condition(
                lambda _, words: not some.isdisjoint(words),  # type: ignore[arg-type]
                lambda _, words: f"description has none of {', '.join(named_some)}",
                costly=True,
            )
        )
    if keywords.all:
        every, named_every = frozenset(keywords.all), keywords.all
        tests.append(
            Condition(
                lambda _, words: every <= words,  # type: ignore[operator]
                lambda _, words: f"description lacks {', '.join(k for k in named_every if k not in words)}",
                costly=True,
            )
        )
    if keywords.none:
        excluded, named_excluded = frozenset(keywords.none), keywords.none
        tests.append(
            Condition(
                lambda _, words: excluded.isdisjoint(words),  # type: ignore[arg-type]
                lambda _, words: (
                    f"description has excluded {', '.join(k for k in named_excluded if k in words)}"
                ),
                costly=True,
            )
        )
    return tests


def all_hold(tests: tuple[Test, ...], facts: Facts, words: Container[str]) -> bool:
    for holds in tests:  # noqa: SIM110 (all() over a generator costs more on the matcher's hot path)
        if not holds(facts, words):
            return False
    return True


def why_not(conditions: Iterable[Condition], facts: Facts, words: Container[str]) -> str | None:
    """Why the first condition that fails does not hold, or None if they all hold."""
    for condition in conditions:
        if not condition.holds(facts, words):
            return condition.why_not(facts, words)
    return None


class Matcher:
    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        self._index: dict[str, dict[str, list[int]]] = {}  # category prefix -> area -> positions
        for position, rule in enumerate(self.rules):
            for category in rule.when.categories or (ANY,):
                for area in rule.when.areas or (ANY,):
                    self._index.setdefault(category, {}).setdefault(area, []).append(position)
        self._compile = cache(ImmutableSandboxedEnvironment().compile_expression)
        # what a candidate from the index must still pass: the conditions the index does not guarantee
        # (None: nothing), the cheap ones first; its keywords looked for in the description, or
        # (`_found_rest`) among the keywords one scan found in it
        self._rest = [self._tests(rule, words_found=False) for rule in self.rules]
        self._found_rest = [self._tests(rule, words_found=True) for rule in self.rules]
        self._looks_for: list[int] = []  # by position: how many keywords the rule looks for
        keywords: set[str] = set()
        for rule in self.rules:
            words = (*rule.when.keywords.any, *rule.when.keywords.all, *rule.when.keywords.none)
            self._looks_for.append(len(words))
            keywords.update(words)
        self._always: frozenset[str] = frozenset({""} & keywords)  # "" is in every description
        self._keywords = ahocorasick.Automaton()
        for keyword in keywords - {""}:
            self._keywords.add_word(keyword, keyword)
        self._scan = bool(keywords - {""})
        if self._scan:
            self._keywords.make_automaton()
        self._last: tuple[str, frozenset[str]] = ("", self._always)  # the last description's keywords
        self._tables: dict[str | None, dict[str, tuple[int, ...]]] = {}

    def _tests(self, rule: Rule, *, words_found: bool) -> tuple[Test, ...] | None:
        rest = conditions_of(rule.when, self._compile, indexed=False, words_found=words_found)
        return tuple(c.holds for c in sorted(rest, key=lambda c: c.costly)) or None

    def table(self, category: str | None) -> dict[str, tuple[int, ...]]:
        """For one category: area code -> positions of the rules that may apply, merged over its prefixes."""
        table = self._tables.get(category)
        if table is None:
            merged: dict[str, set[int]] = {}
            for prefix in prefixes(category):
                for area, positions in self._index.get(prefix, {}).items():
                    merged.setdefault(area, set()).update(positions)
            table = {area: tuple(sorted(positions)) for area, positions in merged.items()}
            if len(self._tables) < MAX_TABLES:
                self._tables[category] = table
        return table

    def candidates(self, facts: Facts) -> Iterable[int]:
        table = self.table(facts.category)
        lists = [found for area in (*facts.areas, ANY) if (found := table.get(area))]
        if len(lists) <= 1:
            return lists[0] if lists else ()
        if sum(map(len, lists)) <= MERGE_SORTED:
            return sorted(set().union(*lists))
        return heapq.merge(*lists)

    def found(self, description: str) -> frozenset[str]:
        """The rules' keywords that the description contains, in one scan (kept for the next call: routing
        one request asks several times)."""
        last, words = self._last
        if description != last:
            words = self._always
            if self._scan:
                words = words.union(keyword for _end, keyword in self._keywords.iter(description))
            self._last = (description, words)
        return words

    def match(self, facts: Facts) -> Rule | None:
        """The first rule, in catalog order, whose conditions all hold."""
        return next(self.matches(facts), None)

    def matches(self, facts: Facts) -> Iterator[Rule]:
        """Every rule whose conditions all hold, in catalog order."""
        # the keywords are looked for in the description one by one, until the candidates have looked for
        # SCAN_AFTER: then (or at once, if the description was scanned last time) among those a scan found
        description = facts.description
        scanned, found = self._last
        words: Container[str] = description
        tests, budget, looks_for = self._rest, SCAN_AFTER, self._looks_for
        if description == scanned:
            words, tests, budget = found, self._found_rest, 0
        last = -1
        for position in self.candidates(facts):
            if position == last:  # a rule indexed under two of the request's areas
                continue
            last = position
            if budget > 0:
                budget -= looks_for[position]
                if budget <= 0:
                    words, tests = self.found(description), self._found_rest
            rest = tests[position]
            if rest is None or all_hold(rest, facts, words):
                yield self.rules[position]

    @cached_property
    def _conditions(self) -> dict[int, tuple[Condition, ...]]:
        """Every condition of each rule (by `id(rule)`), for `explain`: made at its first call."""
        return {id(rule): conditions_of(rule.when, self._compile) for rule in self.rules}

    def explain(self, facts: Facts) -> tuple[Rule | None, list[tuple[Rule, str]]]:
        """The matching rule, and each earlier rule with the reason it did not match."""
        passed: list[tuple[Rule, str]] = []
        for rule in self.rules:
            why = self.mismatch(rule, facts, facts.description)
            if why is None:
                return rule, passed
            passed.append((rule, why))
        return None, passed

    def mismatch(self, rule: Rule, facts: Facts, words: Container[str]) -> str | None:
        """Why `rule` does not match `facts`, or None if it does. `words` tells which keywords the
        description contains (`keyword in words`): the description itself will do."""
        conditions = self._conditions.get(id(rule))
        if conditions is None:  # not one of this matcher's rules
            conditions = conditions_of(rule.when, self._compile)
        return why_not(conditions, facts, words)


def in_hours(moment: time, start: time, end: time) -> bool:
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end
