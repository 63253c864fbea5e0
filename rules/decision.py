"""Where the rules send a request: the decision, and the assignment to a unit, post and person it names.

The rules return these and the case model records them; they live here so that the rules need nothing
from the case model.
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.complaint import Urgency


@dataclass(frozen=True)
class Assignment:
    """Where a case went and why: frozen onto the case at dispatch (精确到岗到人)."""

    unit: str
    post: str
    person: str | None
    rule: str
    catalog_version: str
    reason: str
    co_handlers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """Where the rules send a case: to an assignment, or to a queue at the center with the reason."""

    urgency: Urgency
    category: str | None
    assignment: Assignment | None = None
    queue: str | None = None
    reason: str = ""
    district: str | None = None  # the district's code, when the location was resolved
    street: str | None = None  # the street's (or township's) code, when the location was resolved that far
    community: str | None = None  # the community's code, when the location was resolved that far
    unit_class: str = "default"  # the kind of the unit (street, department, enterprise...): its working hours
    round_the_clock: bool = False  # the post works 7x24: working hours are every hour

    def __post_init__(self) -> None:
        if (self.assignment is None) == (self.queue is None):
            raise ValueError("a decision names either an assignment or a queue")
