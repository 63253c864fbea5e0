"""What-if: replay stored cases against a candidate catalog and count what would be routed differently."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Engine, RowMapping, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.case_rows import complaint_of
from rules.decision import Decision
from rules.router import CatalogRouter


@dataclass
class Change:
    ticket_id: str
    category: str | None
    before: str
    after: str
    reason: str


@dataclass
class WhatIf:
    replayed: int = 0
    changed: list[Change] = field(default_factory=list)

    def by_category(self) -> Counter[str]:
        return Counter(change.category or "unclassified" for change in self.changed)

    def by_unit(self) -> Counter[tuple[str, str]]:
        return Counter((change.before, change.after) for change in self.changed)


def target(decision: Decision) -> str:
    if decision.assignment:
        return f"{decision.assignment.unit}/{decision.assignment.post}"
    return f"queue:{decision.queue}"


def stored_cases(engine: Engine, since: datetime) -> Iterator[tuple[RowMapping, str]]:
    query = (
        select(t.cases, t.assignments.c.unit, t.assignments.c.post)
        .outerjoin(
            t.assignments,
            (t.assignments.c.ticket_id == t.cases.c.ticket_id) & t.assignments.c.current.is_(True),
        )
        .where(t.cases.c.dispatched_at >= since)
        .order_by(t.cases.c.dispatched_at)
    )
    with engine.connect() as connection:
        for row in connection.execute(query).mappings():
            before = f"{row['unit']}/{row['post']}" if row["unit"] else f"queue:{row['queue']}"
            yield row, before


def what_if(engine: Engine, candidate: CatalogRouter, since: datetime, reclassify: bool = False) -> WhatIf:
    """Route every case dispatched since `since` with `candidate`, as of its own dispatch time.

    The request's category and urgency as first decided are replayed as given, so only routing differs;
    with `reclassify`, each description is classified again by the candidate's classifier (a new model's
    effect), the urgency as first decided kept."""
    report = WhatIf()
    for row, before in stored_cases(engine, since):
        complaint = complaint_of(row)
        if reclassify:
            complaint = replace(complaint, category=None)
        decision = candidate.route(complaint, row["dispatched_at"])
        report.replayed += 1
        after = target(decision)
        if after != before:
            reason = decision.assignment.reason if decision.assignment else decision.reason
            category = decision.category if reclassify else row["category"]
            report.changed.append(Change(row["ticket_id"], category, before, after, reason))
    return report
