"""The compiled matcher: facts about a request in, the first matching rule out.

Rules are indexed by (category prefix, area code), with `*` for "no condition", so a decision looks at a
handful of candidate rules in catalog order instead of all of them. `explain` walks every rule in order and
says why each earlier one did not match.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import time
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment

from rules.catalog import Rule
from rules.classifier import KeywordIndex

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


class Matcher:
    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        self._index: dict[tuple[str, str], list[int]] = {}
        for position, rule in enumerate(self.rules):
            for category in rule.when.categories or (ANY,):
                for area in rule.when.areas or (ANY,):
                    self._index.setdefault((category, area), []).append(position)
        self._keywords = KeywordIndex(
            (rule.id, word)
            for rule in self.rules
            for word in (*rule.when.keywords.any, *rule.when.keywords.all, *rule.when.keywords.none)
        )
        sandbox = ImmutableSandboxedEnvironment()
        self._expressions: dict[str, Callable[..., Any]] = {
            rule.id: sandbox.compile_expression(rule.when.expression)
            for rule in self.rules
            if rule.when.expression
        }

    def candidates(self, facts: Facts) -> Iterable[int]:
        lists = [
            found
            for category in prefixes(facts.category)
            for area in (*facts.areas, ANY)
            if (found := self._index.get((category, area)))
        ]
        return heapq.merge(*lists) if len(lists) > 1 else (lists[0] if lists else ())

    def match(self, facts: Facts) -> Rule | None:
        """The first rule, in catalog order, whose conditions all hold."""
        return next(self.matches(facts), None)

    def matches(self, facts: Facts) -> Iterator[Rule]:
        """Every rule whose conditions all hold, in catalog order."""
        words = self._keywords.found(facts.description)
        last = -1
        for position in self.candidates(facts):
            if position == last:  # a rule indexed under two of the request's keys
                continue
            last = position
            rule = self.rules[position]
            if self.mismatch(rule, facts, words) is None:
                yield rule

    def explain(self, facts: Facts) -> tuple[Rule | None, list[tuple[Rule, str]]]:
        """The matching rule, and each earlier rule with the reason it did not match."""
        words = self._keywords.found(facts.description)
        passed: list[tuple[Rule, str]] = []
        for rule in self.rules:
            why = self.mismatch(rule, facts, words)
            if why is None:
                return rule, passed
            passed.append((rule, why))
        return None, passed

    def mismatch(self, rule: Rule, facts: Facts, words: dict[str, tuple[str, ...]]) -> str | None:
        """Why `rule` does not match `facts`, or None if it does."""
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
