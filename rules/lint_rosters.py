"""Units, posts, people and rosters for `rules.lint`: broken references, and the half hours of a
reference week when nobody is on duty at a post.

Pure: takes a `Catalog`, reads no clock and no file. Coverage is decided by `rules.roster.on_shift`, the
function routing uses, so lint reports exactly the hours routing would find nobody; dated overrides are
exceptions for one day and never fill a weekly gap.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Literal, NamedTuple

from rules.catalog import WEEKDAYS, Catalog, Post, Shift, Unit, UnitKind
from rules.roster import on_shift

IsWorkingDay = Callable[[date], bool]
REFERENCE_MONDAY = date(2026, 3, 2)  # an ordinary week in the official calendar: Mon-Fri worked, no holiday
STEP = timedelta(minutes=30)
SLOTS = 48  # half hours a day


Severity = Literal["error", "warning"]


class Issue(NamedTuple):
    severity: Severity
    code: str  # "missing-reference" | "roster-gap"
    subject: str  # "unit/post", or "N street units/post" for the posts of a territorial template
    message: str


def unit_issues(catalog: Catalog) -> list[Issue]:
    """`missing-reference` (error) for units, posts and rosters: area codes of units unknown to the
    gazetteer, supervisors that are not a post of the same unit, unknown fallback persons, rosters of
    unknown units or posts or naming unknown people, territorial areas governed by unknown units."""
    found: list[Issue] = []

    def missing(subject: str, message: str) -> None:
        found.append(Issue("error", "missing-reference", subject, message))

    for unit in catalog.units.values():
        for code in (unit.district, unit.area, *unit.jurisdiction):
            if code and code not in catalog.areas:
                missing(unit.id, f"unit {unit.id} names area {code}, which is not in the gazetteer")
        for post in unit.posts:
            subject = f"{unit.id}/{post.id}"
            if post.supervisor and unit.post(post.supervisor) is None:
                missing(subject, f"post {subject} escalates to post {post.supervisor}, which {unit.id} lacks")
            if post.fallback_person and post.fallback_person not in catalog.people:
                missing(subject, f"post {subject} falls back to {post.fallback_person}, who is not a person")
    for (unit_id, post_id), roster in catalog.rosters.items():
        subject, owner = f"{unit_id}/{post_id}", catalog.units.get(unit_id)
        if owner is None or owner.post(post_id) is None:
            missing(
                subject, f"a roster is kept for {subject}, but there is no such {'post' if owner else 'unit'}"
            )
        for person in dict.fromkeys(
            [*(s.person for s in roster.shifts), *(o.person for o in roster.overrides)]
        ):
            if person not in catalog.people:
                missing(subject, f"the roster of {subject} puts {person} on duty, who is not a person")
    for area, unit_id in catalog.territorial.items():
        if unit_id not in catalog.units:
            missing(area, f"area {area} is governed by unit {unit_id}, which does not exist")
    return found


def weekdays_only(day: date) -> bool:
    return day.weekday() < 5


def reference_week(is_working_day: IsWorkingDay) -> tuple[date, ...]:
    """Monday to Sunday of the first week from `REFERENCE_MONDAY` (within a year) that has both working and
    rest days; the week of `REFERENCE_MONDAY` itself if the calendar has no such week."""
    for week in range(53):
        days = tuple(REFERENCE_MONDAY + timedelta(weeks=week, days=n) for n in range(7))
        if len({is_working_day(day) for day in days}) == 2:
            return days
    return tuple(REFERENCE_MONDAY + timedelta(days=n) for n in range(7))


def gap_text(shifts: tuple[Shift, ...], week: tuple[date, ...], is_working_day: IsWorkingDay) -> str:
    """The uncovered half hours of `week` as day ranges, e.g. "mon 17:30-24:00, sat 00:00-08:00"; "" if
    none. A half hour counts as covered when someone is on shift at its start."""
    ranges: list[str] = []
    for day in week:
        start = datetime.combine(day, time())
        free = [not any(on_shift(s, start + k * STEP, is_working_day) for s in shifts) for k in range(SLOTS)]
        k = 0
        while k < SLOTS:
            if not free[k]:
                k += 1
                continue
            end = k
            while end < SLOTS and free[end]:
                end += 1
            ranges.append(f"{WEEKDAYS[day.weekday()]} {clock(k)}-{clock(end)}")
            k = end
    return ", ".join(ranges)


def clock(slot: int) -> str:
    return f"{slot // 2:02d}:{30 * (slot % 2):02d}"


def generated(unit: Unit) -> bool:
    """A street/district government unit expanded from a territorial template of units.yaml."""
    return unit.area is not None and unit.kind in (UnitKind.STREET, UnitKind.DISTRICT)


def roster_gaps(catalog: Catalog, is_working_day: IsWorkingDay | None = None) -> list[Issue]:
    """Every post that has a roster, and every `always_on` post, checked every 30 minutes over the
    reference week (`is_working_day` decides which of its days are worked; default Monday to Friday).

    A gap is a warning, an error at an always_on (7x24) post, as is an always_on post without a roster.
    Posts of generated territorial units with the same post id, severity and gap are reported once, as
    "N street units" (their template is at fault, not each street)."""
    calendar = is_working_day or weekdays_only
    week = reference_week(calendar)
    known = {day: calendar(day) for day in (week[0] - timedelta(days=1), *week)}

    def working(day: date) -> bool:
        return known[day] if day in known else calendar(day)

    texts: dict[tuple[tuple[time, time, object], ...], str] = {}
    found: dict[tuple[str, str, str, bool, bool], list[tuple[Unit, Post]]] = {}
    for unit in sorted(catalog.units.values(), key=lambda unit: unit.id):
        for post in unit.posts:
            roster = catalog.rosters.get((unit.id, post.id))
            if roster is None and not post.always_on:
                continue
            if roster is None:
                text = ""
            else:
                shape = tuple((shift.start, shift.end, shift.days) for shift in roster.shifts)
                if shape not in texts:
                    texts[shape] = gap_text(roster.shifts, week, working) or "-"
                text = texts[shape]
                if text == "-":
                    continue
            group = unit.kind.value if generated(unit) else unit.id
            key = (group, post.id, text, post.fallback_person is not None, post.always_on)
            found.setdefault(key, []).append((unit, post))
    return [describe(key[2], members) for key, members in found.items()]


def describe(text: str, members: list[tuple[Unit, Post]]) -> Issue:
    unit, post = members[0]
    severity: Severity = "error" if post.always_on else "warning"
    if len(members) == 1:
        subject = f"{unit.id}/{post.id}"
        where = f"post {post.id} ({post.name}) of {unit.id} ({unit.name})"
        fallback = f"the post's fallback person {post.fallback_person}" if post.fallback_person else ""
    else:
        subject = f"{len(members)} {unit.kind.value} units/{post.id}"
        examples = ", ".join(member.id for member, _post in members[:3]) + (
            ", ..." if len(members) > 3 else ""
        )
        where = (
            f"post {post.id} ({post.name}) of {len(members)} {unit.kind.value} units made from the same "
            f"template ({examples})"
        )
        fallback = "each unit's fallback person" if post.fallback_person else ""
    staffed = " must be staffed 7x24 (always_on) but" if post.always_on else ""
    then = f"requests then go to {fallback}" if fallback else "requests then get no person at all"
    if not text:
        return Issue(severity, "roster-gap", subject, f"{where}{staffed} has no duty roster; {then}")
    return Issue(severity, "roster-gap", subject, f"{where}{staffed} has nobody on duty {text}; {then}")
