"""Classifiers: propose a category for a description that came without one, with a confidence.

The keyword classifier (Aho-Corasick): score of a category = the number of its distinct keywords found;
confidence = the top score's share of all scores, damped when only one keyword was found: one unambiguous
keyword gives 0.5, two give 1.0 (sure).

With a learned text model (`rules.textmodel`), the model decides with its calibrated probability; the
keywords found are kept for the explanation. (Letting two keywords overrule the model sent more requests
to a wrong unit on the development set: 4.5% against 4.2%, docs/dispatch-quality.md.)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

from rules.textmodel import TextModel

CANDIDATES = 5  # the model's proposals kept: the router adds up those that go to the same unit


@dataclass(frozen=True)
class Proposal:
    category: str | None
    confidence: float
    keywords: tuple[str, ...]
    alternatives: tuple[tuple[str, float], ...] = ()  # the model's top proposals with their probabilities
    by: str = "keywords"  # or "model"
    # the proposals counted in the confidence with the category: they go to the same unit from this place
    same_unit: tuple[tuple[str, float], ...] = ()
    danger: float | None = None  # the model's probability that the text describes danger


class KeywordIndex:
    """All keywords of a set of owners in one automaton: `found(text)` lists (keyword, owners) once each."""

    def __init__(self, keywords: Iterable[tuple[str, str]]) -> None:
        owners: dict[str, list[str]] = {}
        for owner, keyword in keywords:
            owners.setdefault(keyword, []).append(owner)
        self._automaton = ahocorasick.Automaton()
        for keyword, keyword_owners in owners.items():
            self._automaton.add_word(keyword, (keyword, tuple(keyword_owners)))
        self._empty = not owners
        if owners:
            self._automaton.make_automaton()

    def found(self, text: str) -> dict[str, tuple[str, ...]]:
        if self._empty:
            return {}
        return {keyword: owners for _end, (keyword, owners) in self._automaton.iter(text)}


class Classifier:
    def __init__(
        self, keywords_by_category: dict[str, tuple[str, ...]], model: TextModel | None = None
    ) -> None:
        self._index = KeywordIndex(
            (code, word) for code, words in keywords_by_category.items() for word in words
        )
        self.model = model

    def propose(self, description: str) -> Proposal:
        by_keywords = self.by_keywords(description)
        if self.model is None:
            return by_keywords
        reading = self.model.read(description, CANDIDATES)
        top = reading.proposals
        alternatives = tuple((p.category, round(p.probability, 3)) for p in top)
        return Proposal(
            top[0].category,
            round(top[0].probability, 3),
            by_keywords.keywords,
            alternatives,
            "model",
            danger=reading.danger,
        )

    def ranked(self, description: str, limit: int = CANDIDATES) -> tuple[tuple[str, float], ...]:
        """The most likely categories with their probability, most likely first: the model's top
        proposals; without a model, each category whose keywords were found, with its share of the hits
        (for a person choosing among them, e.g. the supervisor's picker for a request left in triage)."""
        if self.model is not None:
            return tuple(
                (p.category, round(p.probability, 3)) for p in self.model.read(description, limit).proposals
            )
        scores: Counter[str] = Counter(
            owner for owners in self._index.found(description).values() for owner in owners
        )
        total = sum(scores.values())
        return tuple((code, round(score / total, 3)) for code, score in scores.most_common(limit))

    def by_keywords(self, description: str) -> Proposal:
        found = self._index.found(description)
        scores: Counter[str] = Counter(owner for owners in found.values() for owner in owners)
        if not scores:
            return Proposal(None, 0.0, ())
        (best, top), total = scores.most_common(1)[0], sum(scores.values())
        confidence = round(top / total * min(1.0, top / 2), 3)
        return Proposal(best, confidence, tuple(sorted(k for k, owners in found.items() if best in owners)))
