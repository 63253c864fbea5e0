"""The compiled matcher: facts about a request in, the first matching rule out.

Rules are indexed by category prefix and area code, with `*` for "no condition"; per category the lists
of all its prefixes are merged once into a table by area, so a decision looks up a few lists and checks a
handful of candidate rules in catalog order instead of all of them. `explain` walks every rule in order and
says why each earlier one did not match.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass
from datetime import time
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment

from rules.catalog import Rule

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


@dataclass(frozen=True, slots=True)
class Rest:
    """A rule's conditions other than category and area, which the index already guarantees."""

    kinds: frozenset[str]
    urgencies: frozenset[str]
    channels: frozenset[str]
    groups: frozenset[str]
    any: tuple[str, ...]
    all: tuple[str, ...]
    none: tuple[str, ...]
    working_day: bool | None
    hours: tuple[time, time] | None
    expression: Callable[..., Any] | None

    def holds(self, facts: Facts) -> bool:
        text = facts.description
        return not (
            (self.kinds and facts.kind not in self.kinds)
            or (self.urgencies and facts.urgency not in self.urgencies)
            or (self.channels and facts.channel not in self.channels)
            or (self.groups and self.groups.isdisjoint(facts.groups))
            or (self.working_day is not None and self.working_day != facts.working_day)
            or (self.hours and not in_hours(facts.local_time, *self.hours))
            or (self.any and not any(word in text for word in self.any))
            or (self.all and not all(word in text for word in self.all))
            or (self.none and any(word in text for word in self.none))
            or (self.expression and not self.expression(**facts.as_dict()))
        )


class Matcher:
    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        self._index: dict[str, dict[str, list[int]]] = {}  # category prefix -> area -> positions
        for position, rule in enumerate(self.rules):
            for category in rule.when.categories or (ANY,):
                for area in rule.when.areas or (ANY,):
                    self._index.setdefault(category, {}).setdefault(area, []).append(position)
        sandbox = ImmutableSandboxedEnvironment()
        self._expressions: dict[str, Callable[..., Any]] = {
            rule.id: sandbox.compile_expression(rule.when.expression)
            for rule in self.rules
            if rule.when.expression
        }
        self._rest = [self._rest_of(rule) for rule in self.rules]
        self._tables: dict[str | None, dict[str, tuple[int, ...]]] = {}

    def _rest_of(self, rule: Rule) -> Rest | None:
        when = rule.when
        rest = Rest(
            frozenset(when.kinds),
            frozenset(when.urgencies),
            frozenset(when.channels),
            frozenset(when.groups),
            when.keywords.any,
            when.keywords.all,
            when.keywords.none,
            when.working_day,
            when.hours,
            self._expressions.get(rule.id),
        )
        unconditional = not any(
            (
                rest.kinds,
                rest.urgencies,
                rest.channels,
                rest.groups,
                rest.any,
                rest.all,
                rest.none,
                rest.hours,
            )
        )
        return None if unconditional and rest.working_day is None and rest.expression is None else rest

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

    def match(self, facts: Facts) -> Rule | None:
        """The first rule, in catalog order, whose conditions all hold."""
        return next(self.matches(facts), None)

    def matches(self, facts: Facts) -> Iterator[Rule]:
        """Every rule whose conditions all hold, in catalog order."""
        last = -1
        for position in self.candidates(facts):
            if position == last:  # a rule indexed under two of the request's areas
                continue
            last = position
            rest = self._rest[position]
            if rest is None or rest.holds(facts):
                yield self.rules[position]

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
        when = rule.when
        category = facts.category or ""
        if when.categories and not any(category.startswith(code) for code in when.categories):
            return f"category {facts.category or 'unknown'} is not under {', '.join(when.categories)}"
        if when.areas and not set(when.areas) & set(facts.areas):
            return f"location is not within {', '.join(when.areas)}"
        for name, allowed, value in (
            ("kind", when.kinds, facts.kind),
            ("urgency", when.urgencies, facts.urgency),
            ("channel", when.channels, facts.channel),
        ):
            if allowed and value not in allowed:
                return f"{name} {value} is not {' or '.join(allowed)}"
        if when.groups and not facts.groups & set(when.groups):
            return f"requester is not in {', '.join(when.groups)}"
        keywords = when.keywords
        if keywords.any and not any(k in words for k in keywords.any):
            return f"description has none of {', '.join(keywords.any)}"
        if keywords.all and not all(k in words for k in keywords.all):
            return f"description lacks {', '.join(k for k in keywords.all if k not in words)}"
        if keywords.none and (present := [k for k in keywords.none if k in words]):
            return f"description has excluded {', '.join(present)}"
        if when.working_day is not None and when.working_day != facts.working_day:
            return "not a working day" if when.working_day else "a working day"
        if when.hours and not in_hours(facts.local_time, *when.hours):
            return f"{facts.local_time:%H:%M} is outside {when.hours[0]:%H:%M}-{when.hours[1]:%H:%M}"
        if when.expression and not self._expressions[rule.id](**facts.as_dict()):
            return f"expression {when.expression!r} is false"
        return None


def in_hours(moment: time, start: time, end: time) -> bool:
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end
