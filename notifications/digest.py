"""The supervisors' daily digest (08:30 on working days): the overdue cases and open escalations in their
scope, yesterday's volume by category, and this month's rates of the units."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine

from dispatcher.adapters.delivery_log import DeliveryLog, NewMessage
from dispatcher.domain.callbacks import Assessment
from dispatcher.domain.scores import rate_figures
from dispatcher.reads.digest import digest_cases
from dispatcher.reads.escalations import latest_escalations
from dispatcher.reads.scores import scores
from notifications.policy import Recipient
from notifications.render import Renderer
from rules.catalog import Catalog
from sla.calendar import BEIJING

LIMIT = 50  # lines per section; the web pages list everything


def digest_of(
    engine: Engine, assessment: Assessment, catalog: Catalog, scope: str, now: datetime
) -> dict[str, Any]:
    """The digest for a supervisor's scope ("city" or a district code) at `now`."""
    day = now.astimezone(BEIJING).date()
    district = None if scope == "city" else scope
    start = datetime.combine(day - timedelta(days=1), time(), BEIJING)
    cases = digest_cases(engine, now=now, day=start, district=district, limit=LIMIT)
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
    return {
        "day": day,
        "overdue": cases.overdue,
        "escalations": open_escalations,
        "volume": cases.volume,
        "rates": rates,
    }


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
    messages = []
    for person, scope in supervisors:
        digest = digest_of(engine, assessment, catalog, scope, now)
        rendered = renderer.render(
            "digest", person.language, case=None, event={}, recipient=person.name, digest=digest
        )
        address = person.addresses[0]
        messages.append(
            NewMessage(
                key=f"digest:{digest['day']}:{person.id}:{address.channel.value}",
                event_id=f"digest:{digest['day']}",
                ticket_id=None,
                kind="digest",
                recipient=person.id,
                channel=address.channel.value,
                address=address.address,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                urgent=False,
                due_at=now,
                created_at=now,
            )
        )
    return DeliveryLog(engine).add(messages)
