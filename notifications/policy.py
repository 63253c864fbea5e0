"""Who is told of what, on which channel, when: pure rules over an event and a directory of people.

| event | kind | who |
|---|---|---|
| `jiesu.case.dispatched`, `.redispatched` | case.dispatched | the person on duty, and the post's group |
| `jiesu.sla.warning` (acknowledge) | case.acknowledge_reminder | the person on duty |
| `jiesu.sla.warning` (other stages) | sla.warning | the person on duty |
| `jiesu.sla.breached` | sla.breached | the person on duty |
| `jiesu.case.escalated` | case.escalated | the ladder step's target |
| `jiesu.case.returned` | case.returned | the center's supervisors (of the case's district) |
| `jiesu.case.extension_requested` | case.extension_requested | the center's supervisors |
| `jiesu.case.extended`, `.extension_rejected` | case.extension_decided | the person on duty |
| `jiesu.case.reopened` | case.reopened | the person on duty |
| `jiesu.case.linked` | case.linked | the person on duty |
| `jiesu.case.supervision_ordered` | supervision.ordered | the addressee (*) |
| `jiesu.case.supervision_warning` | supervision.warning | the addressee (*) |
| `jiesu.case.supervision_overdue` | supervision.overdue | the escalation's target; the center's supervisors |
| `jiesu.case.supervision_answered` | supervision.answered | the center's supervisors |
| `jiesu.case.pause_requested` | case.pause_requested | the center's supervisors (of the case's district) |
| `jiesu.case.whistled` | case.whistled | the called unit's person on duty (吹哨报到) |
| `jiesu.governance.task_created` | governance.created | the task's unit's head (主动治理任务) |
| `jiesu.governance.task_warning` | governance.warning | the task's unit's head |
| `jiesu.governance.task_overdue` | governance.overdue | the escalation's target; the center's supervisors |

A governance task's events travel on `jiesu.hotspots`; the planner reads them there and describes the task
by its first linked case not merged into another (`Planner.plan_governance_records`).
| `jiesu.case.merged` | case.merged | the merged case's person on duty: it follows the main case (**) |
| `jiesu.case.unmerged` | case.unmerged | the case's person on duty: it is its own case again |

A called unit's own deadlines (stages `co_acknowledge`, `co_report`: the event names the `unit`) are told
to that unit: the warning and the breach to its person on duty, the ladder's steps to its post's supervisor
and its head, the supervision order to the center (`addressed`).

(*) a supervision order's addressee: for an order to the case's lead unit, its person on duty; to a
co-handling unit or to a unit's head, the unit's head.

(**) only a case that was at its unit before: a case merged as it opened (a burst, a hotspot's) was never
told, and its main case's events tell (`told_of_merge`).

Urgent messages (emergency and urgent cases, breaches, escalations, supervision orders overdue) ignore
quiet hours.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any, Protocol

from notifications.message import ChannelKind
from sla.calendar import BEIJING

URGENT_TIERS = frozenset({"emergency", "urgent"})


@dataclass(frozen=True)
class Address:
    channel: ChannelKind
    address: str


@dataclass(frozen=True)
class Recipient:
    """A person (with the channels they read, in order of preference) or a group (a robot)."""

    id: str  # a username, or "group:unit:post"
    name: str
    addresses: tuple[Address, ...]  # in order of preference: the first one is tried first
    language: str = "zh"
    quiet: tuple[time, time] | None = None  # quiet hours in Beijing time, e.g. 22:00-07:00


@dataclass(frozen=True)
class Intent:
    kind: str  # the template kind (notifications.render)
    recipient: Recipient
    urgent: bool


class Directory(Protocol):
    def person(self, username: str) -> Recipient | None: ...

    def at_post(self, unit: str, post: str) -> list[Recipient]:
        """The people registered at the unit's post."""

    def group(self, unit: str, post: str) -> Recipient | None:
        """The post's (or else the unit's) group robot."""

    def supervisors_of(self, unit: str, post: str) -> list[Recipient]:
        """The post's supervisor(s)."""

    def unit_heads(self, unit: str) -> list[Recipient]: ...

    def center_supervisors(self, district: str | None) -> list[Recipient]:
        """The center's supervisors whose scope holds the district (the city's always)."""


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need of the case an event is about."""

    unit: str | None
    post: str | None
    person: str | None
    district: str | None
    urgency: str


KINDS = {
    "jiesu.case.dispatched": "case.dispatched",
    "jiesu.case.redispatched": "case.dispatched",
    "jiesu.sla.breached": "sla.breached",
    "jiesu.case.escalated": "case.escalated",
    "jiesu.case.returned": "case.returned",
    "jiesu.case.extension_requested": "case.extension_requested",
    "jiesu.case.extended": "case.extension_decided",
    "jiesu.case.extension_rejected": "case.extension_decided",
    "jiesu.case.reopened": "case.reopened",
    "jiesu.case.linked": "case.linked",
    "jiesu.case.supervision_ordered": "supervision.ordered",
    "jiesu.case.supervision_warning": "supervision.warning",
    "jiesu.case.supervision_overdue": "supervision.overdue",
    "jiesu.case.supervision_answered": "supervision.answered",
    "jiesu.case.pause_requested": "case.pause_requested",
    "jiesu.case.whistled": "case.whistled",
    "jiesu.governance.task_created": "governance.created",
    "jiesu.governance.task_warning": "governance.warning",
    "jiesu.governance.task_overdue": "governance.overdue",
    "jiesu.case.merged": "case.merged",
    "jiesu.case.unmerged": "case.unmerged",
}
SUPERVISION_KINDS = frozenset(kind for kind in KINDS.values() if kind.startswith("supervision."))
GOVERNANCE_TYPES = frozenset(name for name in KINDS if name.startswith("jiesu.governance."))
CO_TIMED = frozenset({"jiesu.sla.warning", "jiesu.sla.breached", "jiesu.case.escalated"})


NOTIFIED_TYPES = frozenset({*KINDS, "jiesu.sla.warning"})  # the event types anyone may be told of


def kind_of(event_type: str, data: Mapping[str, Any]) -> str | None:
    """The template kind of an event, or None if nobody is told of it."""
    if event_type == "jiesu.sla.warning":
        return "case.acknowledge_reminder" if data.get("stage") == "acknowledge" else "sla.warning"
    return KINDS.get(event_type)


def intents(event_type: str, data: Mapping[str, Any], case: CaseFacts, directory: Directory) -> list[Intent]:
    """Who is told of this event, once each."""
    kind = kind_of(event_type, data)
    if kind is None:
        return []
    urgent = case.urgency in URGENT_TIERS or kind in (
        "sla.breached",
        "case.escalated",
        "supervision.overdue",
        "governance.overdue",
    )
    people: list[Recipient] = []
    if kind.startswith("governance."):
        people = _governance(kind, data, case, directory)
    elif kind in SUPERVISION_KINDS:
        people = _supervision(kind, data, case, directory)
    elif kind in ("case.returned", "case.extension_requested", "case.pause_requested"):
        people = directory.center_supervisors(case.district)
    elif kind == "case.escalated":
        people = _targets(str(data.get("target", "")), case, directory)
    elif case.unit and case.post:
        people = _on_duty(case, directory)
        group = directory.group(case.unit, case.post) if kind == "case.dispatched" else None
        people += [group] if group else []
    seen: set[str] = set()
    found = []
    for person in people:
        if person.id not in seen:
            seen.add(person.id)
            found.append(Intent(kind, person, urgent))
    return found


def addressed(
    event_type: str,
    data: Mapping[str, Any],
    case: CaseFacts,
    co_handlers: Mapping[str, tuple[str | None, str | None]],
) -> CaseFacts:
    """The facts of the unit an event is for: the unit called in for a whistle (its post and person on
    duty as the event names them), a called unit for its own deadlines (its post and person as stored with
    the case, `co_handlers`: unit → (post, person)); otherwise the case's own unit."""
    unit = data.get("unit")
    if not unit:
        return case
    if event_type == "jiesu.case.whistled":
        return replace(case, unit=unit, post=data.get("post"), person=data.get("person"))
    if event_type in CO_TIMED and unit in co_handlers:
        post, person = co_handlers[unit]
        return replace(case, unit=unit, post=post, person=person)
    return case


def _on_duty(case: CaseFacts, directory: Directory) -> list[Recipient]:
    """The person on duty if they are known here, else everyone at the post."""
    assert case.unit and case.post
    person = directory.person(case.person) if case.person else None
    return [person] if person else directory.at_post(case.unit, case.post)


def _targets(target: str, case: CaseFacts, directory: Directory) -> list[Recipient]:
    """`unit:post_supervisor`, `unit:unit_head`, `center:supervision_order`, `center:supervisor`."""
    where, _, step = target.partition(":")
    if where == "center":
        return directory.center_supervisors(case.district)
    if step == "unit_head":
        return directory.unit_heads(where)
    if step == "post_supervisor" and case.post:
        return directory.supervisors_of(where, case.post)
    return []


def _supervision(
    kind: str, data: Mapping[str, Any], case: CaseFacts, directory: Directory
) -> list[Recipient]:
    """A supervision order's addressee (ordered, warning), the escalation's target and the center
    (overdue), or the center (answered)."""
    if kind == "supervision.answered":
        return directory.center_supervisors(case.district)
    if kind == "supervision.overdue":
        above = _targets(str(data.get("target", "")), case, directory)
        return above + directory.center_supervisors(case.district)
    unit = str(data.get("unit", ""))
    if data.get("addressee") == "unit" and unit == case.unit and case.post:
        return _on_duty(case, directory)
    return directory.unit_heads(unit)


def _governance(kind: str, data: Mapping[str, Any], case: CaseFacts, directory: Directory) -> list[Recipient]:
    """A governance task's unit's head (created, warning); the escalation's target and the center's
    supervisors of the hotspot's district (overdue)."""
    if kind == "governance.overdue":
        above = _targets(str(data.get("target", "")), case, directory)
        return above + directory.center_supervisors(case.district)
    return directory.unit_heads(str(data.get("unit", "")))


def release_at(moment: datetime, quiet: tuple[time, time] | None, urgent: bool) -> datetime:
    """When a message may go: now, or (non-urgent, inside the person's quiet hours) when they end."""
    if urgent or quiet is None:
        return moment
    start, end = quiet
    local = moment.astimezone(BEIJING)
    now = local.time()
    inside = start <= now < end if start < end else (now >= start or now < end)
    if not inside:
        return moment
    release = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if release <= local:
        release += timedelta(days=1)
    return release


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: attempt n waits up to base × factor^(n-1), capped."""

    base: float = 2.0
    factor: float = 2.0
    cap: float = 600.0
    attempts: int = 8
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def delay(self, attempt: int) -> timedelta:
        ceiling = min(self.cap, self.base * self.factor ** max(0, attempt - 1))
        return timedelta(seconds=self.rng.uniform(ceiling / 2, ceiling))

    def gives_up(self, attempt: int) -> bool:
        return attempt >= self.attempts


def parse_quiet(text: str | None) -> tuple[time, time] | None:
    """ "22:00-07:00" -> (22:00, 07:00); None or "" -> no quiet hours. ValueError for anything else."""
    if not text:
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ValueError(f"quiet hours are written HH:MM-HH:MM, got {text!r}") from None
    if start == end:
        raise ValueError(f"quiet hours {text!r} start and end at the same time")
    return start, end


def first_addresses(recipient: Recipient, tried: Sequence[ChannelKind]) -> Address | None:
    """The recipient's most preferred address on a channel not tried yet (the fallback after a channel
    failed for good)."""
    return next((a for a in recipient.addresses if a.channel not in tried), None)


def told_of_merge(event_type: str, data: Mapping[str, Any], dispatched_at: datetime | None) -> bool:
    """Whether an event about a case merged into a main case by now (并案) tells anyone: only its merge,
    and only if the case was at its unit before (merged after it was dispatched); a case merged as it
    opened was never told of, and the main case's events tell whom they must."""
    if event_type != "jiesu.case.merged" or dispatched_at is None:
        return False
    at = data.get("at")
    merged_at = datetime.fromisoformat(at) if isinstance(at, str) else at
    return isinstance(merged_at, datetime) and merged_at > dispatched_at
