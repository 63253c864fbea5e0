"""The matcher decides and explains with the same conditions: what it matches through its index is what
`explain` finds walking every rule, and each rule passed over comes with why it did not match."""

from __future__ import annotations

import random
from datetime import time
from typing import Any

import pytest

from rules import matcher as matcher_module
from rules.catalog import Action, Rule, Target
from rules.matcher import Facts, Matcher
from tests.unit.test_lint import random_conditions, random_facts, when

FACTS = Facts(
    category="010101",
    areas=("110105", "110105001"),
    kind="complaint",
    urgency="general",
    channel="phone",
    groups=frozenset({"elderly"}),
    description="家里暖气不热",
    working_day=True,
    local_time=time(10, 30),
)


def test_the_index_matches_what_explain_finds_walking_every_rule() -> None:
    pick = random.Random(22)
    rules = [Rule(f"r{n}", 100, random_conditions(pick), Action(Target.QUEUE, queue="q")) for n in range(200)]
    matcher = Matcher(rules)
    for _ in range(2_000):
        facts, _ = random_facts(pick)
        matched, passed = matcher.explain(facts)
        assert matcher.match(facts) is matched
        holding = [r for r in rules if matcher.mismatch(r, facts, facts.description) is None]
        assert list(matcher.matches(facts)) == holding
        assert [r for r, _ in passed] == rules[: len(passed)] and all(why for _, why in passed)


@pytest.mark.parametrize("scan_after", [1, 32, 10_000])
def test_keywords_found_in_one_scan_match_as_looked_for_one_by_one(
    scan_after: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keywords looked for one by one in the description, found by one scan of it (once the candidates look
    for `SCAN_AFTER`), or kept from that scan for the next call with the same description: the same rules."""
    monkeypatch.setattr(matcher_module, "SCAN_AFTER", scan_after)
    pick = random.Random(23)
    rules = [Rule(f"r{n}", 100, random_conditions(pick), Action(Target.QUEUE, queue="q")) for n in range(200)]
    matcher = Matcher(rules)
    for _ in range(1_000):
        facts, _ = random_facts(pick)
        holding = [r for r in rules if matcher.mismatch(r, facts, facts.description) is None]
        assert list(matcher.matches(facts)) == holding
        assert list(matcher.matches(facts)) == holding


@pytest.mark.parametrize(
    ("conditions", "why"),
    [
        ({"categories": ["0102", "03"]}, "category 010101 is not under 0102, 03"),
        ({"areas": ["110108", "110105002"]}, "location is not within 110108, 110105002"),
        ({"kinds": ["suggestion", "praise"]}, "kind complaint is not suggestion or praise"),
        ({"urgencies": ["urgent"]}, "urgency general is not urgent"),
        ({"channels": ["app", "web"]}, "channel phone is not app or web"),
        ({"groups": ["disabled", "veteran"]}, "requester is not in disabled, veteran"),
        ({"keywords": {"any": ["燃气", "停水"]}}, "description has none of 燃气, 停水"),
        ({"keywords": {"all": ["暖气", "燃气", "停水"]}}, "description lacks 燃气, 停水"),
        ({"keywords": {"none": ["停水", "不热", "暖气"]}}, "description has excluded 不热, 暖气"),
        ({"working_day": False}, "a working day"),
        ({"hours": (time(22), time(6))}, "10:30 is outside 22:00-06:00"),
        ({"expression": "urgency == 'urgent'"}, "expression \"urgency == 'urgent'\" is false"),
        # the first condition that fails is the one named
        (
            {"kinds": ["complaint"], "urgencies": ["urgent"], "working_day": False},
            "urgency general is not urgent",
        ),
        ({"categories": ["01"], "areas": ["110105"], "groups": ["elderly"]}, None),
    ],
)
def test_each_condition_says_why_it_fails(conditions: dict[str, Any], why: str | None) -> None:
    rule = Rule("r", 100, when(**conditions), Action(Target.QUEUE, queue="q"))
    matcher = Matcher([rule])
    assert matcher.mismatch(rule, FACTS, FACTS.description) == why
    assert (matcher.match(FACTS) is rule) == (why is None)
    assert matcher.explain(FACTS) == ((rule, []) if why is None else (None, [(rule, why)]))
