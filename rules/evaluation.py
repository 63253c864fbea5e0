"""Dispatch quality on a labelled test set: each request is routed from its text and location alone, and
compared with where the catalog sends it when its true category is given.

- right: the same unit (or, where the catalog queues the true category, the same queue);
- triage: sent to the triage queue (a person must classify it);
- wrong: anywhere else (the unit would return it).
An emergency is handled right only if it reaches its owner with the emergency tier.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from rules.catalog import AreaLevel
from rules.complaint import Complaint, Location
from rules.corpus import TestRequest
from rules.decision import Decision
from rules.router import CatalogRouter

AT = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # a Thursday, 10:00 in Beijing: a working day, office hours


def destination(decision: Decision) -> str:
    return decision.assignment.unit if decision.assignment else f"queue {decision.queue}"


@dataclass(frozen=True)
class Outcome:
    request: TestRequest
    expected: str
    got: str
    category: str | None  # the category the router settled on (None: not confident)
    urgency: str
    verdict: str  # right, triage, wrong


@dataclass
class Tally:
    right: int = 0
    triage: int = 0
    wrong: int = 0

    @property
    def total(self) -> int:
        return self.right + self.triage + self.wrong

    def share(self, what: str) -> float:
        return getattr(self, what) / self.total if self.total else 0.0


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def tally(self, domain: str | None = None) -> Tally:
        tally = Tally()
        for outcome in self.outcomes:
            if domain is None or outcome.request.category.startswith(domain):
                setattr(tally, outcome.verdict, getattr(tally, outcome.verdict) + 1)
        return tally

    def domains(self) -> list[str]:
        return sorted({outcome.request.category[:2] for outcome in self.outcomes})

    def category_accuracy(self) -> float:
        right = sum(outcome.category == outcome.request.category for outcome in self.outcomes)
        return right / len(self.outcomes) if self.outcomes else 0.0

    def confused(self, top: int = 15) -> list[tuple[tuple[str, str], int]]:
        """(true category, proposed category) pairs of requests sent to a wrong unit, most frequent first."""
        pairs = Counter(
            (outcome.request.category, outcome.category or "-")
            for outcome in self.outcomes
            if outcome.verdict == "wrong"
        )
        return pairs.most_common(top)

    def emergencies(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.request.emergency]

    def emergencies_missed(self) -> list[Outcome]:
        """Emergencies that did not reach their owner (in triage, or at a wrong unit)."""
        return [outcome for outcome in self.emergencies() if outcome.verdict != "right"]

    def emergencies_by_tier(self) -> Counter[str]:
        """The urgency emergencies that reached their owner were given."""
        return Counter(outcome.urgency for outcome in self.emergencies() if outcome.verdict == "right")


def owner_of(router: CatalogRouter) -> Callable[[str], str]:
    """Where the catalog sends a category, at one street of the gazetteer (the first): two categories with
    the same owner there are, for the requester, the same decision."""
    streets = sorted(code for code, area in router.catalog.areas.items() if area.level is AreaLevel.STREET)
    location = Location(district=streets[0][:6], street=streets[0]) if streets else Location()

    def owner(category: str) -> str:
        complaint = Complaint("OWNER", AT, "phone", "complaint", "", category=category, location=location)
        return destination(router.route(complaint, AT))

    return owner


def urgency_of(router: CatalogRouter) -> Callable[[str], str]:
    """A category's urgency tier in the catalog."""
    categories = router.catalog.categories
    return lambda code: categories[code].urgency if code in categories else "general"


def complaint_of(request: TestRequest, number: int) -> Complaint:
    location = Location(district=request.district or None, street=request.street or None)
    return Complaint(f"EVAL-{number}", AT, "phone", "complaint", request.text, location=location)


def evaluate(router: CatalogRouter, requests: Sequence[TestRequest]) -> Report:
    report = Report()
    for number, request in enumerate(requests):
        complaint = complaint_of(request, number)
        decision = router.route(complaint, AT)
        expected = destination(router.route(replace(complaint, category=request.category), AT))
        got = destination(decision)
        if got == expected:
            verdict = "right"
        elif decision.queue == router.catalog.triage_queue:
            verdict = "triage"
        else:
            verdict = "wrong"
        report.outcomes.append(
            Outcome(request, expected, got, decision.category, decision.urgency.value, verdict)
        )
    return report
