"""Keyword classifier: proposes a category for a description, with a confidence (Aho-Corasick).

Score of a category = the number of its distinct keywords found. Confidence = the top score's share of all
scores, damped when only one keyword was found: one unambiguous keyword gives 0.5, two give 1.0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick


@dataclass(frozen=True)
class Proposal:
    category: str | None
    confidence: float
    keywords: tuple[str, ...]


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
    def __init__(self, keywords_by_category: dict[str, tuple[str, ...]]) -> None:
        self._index = KeywordIndex(
            (code, word) for code, words in keywords_by_category.items() for word in words
        )

    def propose(self, description: str) -> Proposal:
        found = self._index.found(description)
        scores: Counter[str] = Counter(owner for owners in found.values() for owner in owners)
        if not scores:
            return Proposal(None, 0.0, ())
        (best, top), total = scores.most_common(1)[0], sum(scores.values())
        confidence = round(top / total * min(1.0, top / 2), 3)
        return Proposal(best, confidence, tuple(sorted(k for k, owners in found.items() if best in owners)))
