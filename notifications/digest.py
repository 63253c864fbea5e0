"""The supervisors' daily digest (08:30 on working days): the overdue cases and open escalations in their
scope, yesterday's volume by category, and this month's rates of the units."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from dispatcher.adapters import tables as t
from dispatcher.domain.callbacks import Assessment
from dispatcher.domain.scores import rate_figures
from dispatcher.domain.states import AT_A_UNIT, values_of
from dispatcher.reads.escalations import latest_escalations
from dispatcher.reads.scores import scores
from notifications.planner import insert_new
from notifications.policy import BEIJING, Recipient
from notifications.render import Renderer
from rules.catalog import Catalog

LIMIT = 50  # lines per section; the web pages list everything


def digest_of(
    engine: Engine, assessment: Assessment, catalog: Catalog, scope: str, now: datetime
) -> dict[str, Any]:
    """The digest for a supervisor's scope ("city" or a district code) at `now`."""
    day = now.astimezone(BEIJING).date()
    district = None if scope == "city" else scope
    start = datetime.combine(day - timedelta(days=1), time(), BEIJING)
    cases, deadlines, assignments = t.cases.c, t.deadlines.c, t.assignments.c
    overdue = (
        select(cases.ticket_id, assignments.unit, deadlines.stage, deadlines.due_at)
        .join(t.deadlines, deadlines.ticket_id == cases.ticket_id)
        .join(t.assignments, (assignments.ticket_id == cases.ticket_id) & assignments.current.is_(True))
        .where(deadlines.status == "pending", deadlines.due_at < now, cases.state.in_(values_of(AT_A_UNIT)))
        .order_by(deadlines.due_at)
        .limit(LIMIT)
    )
    volume = (
        select(func.coalesce(cases.category, "").label("category"), func.count().label("count"))
        .where(cases.received_at >= start, cases.received_at < start + timedelta(days=1))
        .group_by(cases.category)
        .order_by(func.count().desc())
    )
    if district is not None:
        overdue, volume = overdue.where(cases.district == district), volume.where(cases.district == district)
    with engine.connect() as connection:
        late = [dict(row) for row in connection.execute(overdue).mappings()]
        counts = [dict(row) for row in connection.execute(volume).mappings()]
    open_escalations = [
        {"ticket_id": e.ticket_id, "level": e.level, "unit": e.unit, "fired_at": e.fired_at}
        for e in latest_escalations(engine, open_only=True, limit=LIMIT, district=district)
    ]
    month = f"{day:%Y-%m}"
    found = sorted(
        (
            row
            for row in scores(engine, assessment, month=month)
            if district is None or _district_of(catalog, row.key) == district
        ),
        key=lambda row: (row.rates.composite is None, -(row.rates.composite or 0)),
    )
    rates = [
        {
            "unit": row.key,
            "valid": row.rates.tally.valid,
            **rate_figures(row.rates),
        }
        for row in found
    ]
    return {"day": day, "overdue": late, "escalations": open_escalations, "volume": counts, "rates": rates}


def _district_of(catalog: Catalog, unit: str) -> str | None:
    found = catalog.units.get(unit)
    return found.district if found else None


def plan_digests(
    engine: Engine,
    assessment: Assessment,
    catalog: Catalog,
    renderer: Renderer,
    supervisors: list[tuple[Recipient, str]],
    now: datetime,
) -> int:
    """One digest per supervisor (and scope) for the day, once: returns how many are new."""
    rows = []
    for person, scope in supervisors:
        digest = digest_of(engine, assessment, catalog, scope, now)
        rendered = renderer.render(
            "digest", person.language, case=None, event={}, recipient=person.name, digest=digest
        )
        address = person.addresses[0]
        rows.append(
            {
                "key": f"digest:{digest['day']}:{person.id}:{address.channel.value}",
                "event_id": f"digest:{digest['day']}",
                "ticket_id": None,
                "kind": "digest",
                "recipient": person.id,
                "channel": address.channel.value,
                "address": address.address,
                "subject": rendered.subject,
                "text": rendered.text,
                "html": rendered.html,
                "urgent": False,
                "status": "pending",
                "attempts": 0,
                "due_at": now,
                "created_at": now,
            }
        )
    with engine.begin() as connection:
        return insert_new(connection, rows)
