"""Escalations that fired (the SLA ladder's steps), for supervisors: newest first and a page at a time, the
latest few (`jiesu sla escalations`, the daily digest), and those fired since a moment (the dashboard's
live feed). Within a district they are found from its open cases (`ix_cases_district_state_dispatched`),
then theirs on the partial index `ix_sla_timers_fired_escalations_ticket`; across the city, by firing time
on the partial index `ix_sla_timers_fired_escalations`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, and_, func, literal_column, select

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import among, reading
from dispatcher.adapters.timers import FIRED
from dispatcher.domain.states import AT_A_UNIT, values_of
from dispatcher.reads import views as v
from dispatcher.reads.paging import Keyset, Page, after, moment, number
from sla.calendar import BEIJING

_timer, K = t.sla_timers.c, t.cases.c
ESCALATIONS = Keyset("escalations", (moment, number))
# the unit a step is about: a called unit's own (吹哨报到: its unit on the timer), else the case's lead
_step_unit = func.coalesce(func.nullif(_timer.unit, ""), t.assignments.c.unit).label("unit")
PAGE = 100
# the partial index ix_sla_timers_fired_escalations holds these rows only: its condition word for word
FIRED_ESCALATION = and_(
    _timer.kind == literal_column("'escalation'"), _timer.status == literal_column(f"'{FIRED}'")
)


@dataclass(frozen=True)
class Escalation:
    ticket_id: str
    stage: str
    level: int
    target: str
    fired_at: datetime
    deadline: datetime
    unit: str | None
    state: str


def escalations_query(
    level: int | None = None, unit: str | None = None, open_only: bool = True, district: str | None = None
) -> Select[Any]:
    """Escalation steps that fired, newest first, with the case's unit and state: `Escalation`'s columns,
    then the timer's id (the tie-break of the order)."""
    query = (
        select(
            _timer.ticket_id,
            _timer.stage,
            _timer.level,
            _timer.target,
            _timer.fired_at,
            _timer.deadline,
            _step_unit,
            t.cases.c.state,
            _timer.id,
        )
        .join(t.cases, t.cases.c.ticket_id == _timer.ticket_id)
        .outerjoin(
            t.assignments,
            (t.assignments.c.ticket_id == _timer.ticket_id) & t.assignments.c.current.is_(True),
        )
        # the partial index ix_sla_timers_fired_escalations holds these rows only, by firing time
        .where(_timer.kind == literal_column("'escalation'"), _timer.status == literal_column(f"'{FIRED}'"))
        .order_by(_timer.fired_at.desc(), _timer.id.desc())
    )
    if level is not None:
        query = query.where(_timer.level == level)
    if unit is not None:
        query = query.where(_step_unit == unit)
    if open_only:
        query = query.where(t.cases.c.state.in_(values_of(AT_A_UNIT)))
    if district is not None:
        query = query.where(t.cases.c.district == district)
    return query


def escalations(
    engine: Engine,
    *,
    district: str | None,
    level: int | None = None,
    unit: str | None = None,
    open_only: bool = True,
    limit: int = PAGE,
    cursor: str | None = None,
) -> Page[v.EscalationView]:
    """Fired escalations on cases in `district` (None: all), at `unit`, at `level`, of open cases only."""
    key = ESCALATIONS.decode(cursor)
    # the page's timers first (with the assignments only to filter by unit), then those rows whole
    timers = t.sla_timers.join(t.cases, K.ticket_id == _timer.ticket_id)
    if unit is not None:
        a = t.assignments.c
        timers = timers.join(t.assignments, (a.ticket_id == _timer.ticket_id) & a.current.is_(True))
    page = select(_timer.id).select_from(timers).where(FIRED_ESCALATION)
    page = page.order_by(_timer.fired_at.desc(), _timer.id.desc()).limit(limit + 1)
    for wanted, condition in (
        (level, _timer.level == level),
        (unit, _step_unit == unit),
        (district, K.district == district),
    ):
        if wanted is not None:
            page = page.where(condition)
    if open_only:
        page = page.where(K.state.in_(values_of(AT_A_UNIT)))
    if key is not None:
        page = page.where(after((_timer.fired_at, _timer.id), key, descending=True))
    with reading(engine) as connection:
        ids = list(connection.execute(page).scalars())
        whole = escalations_query(open_only=False).where(among(connection, _timer.id, ids))
        rows = connection.execute(whole).all() if ids else []
    rows = sorted(rows, key=lambda row: (row[4], row[-1]), reverse=True)  # fired_at, id: newest first
    found = [(v.EscalationView(**vars(Escalation(*row[:-1]))), row[-1]) for row in rows]
    return ESCALATIONS.page(found, limit, lambda item: (item[0].fired_at, item[1])).map(lambda item: item[0])


def latest_escalations(
    engine: Engine,
    level: int | None = None,
    unit: str | None = None,
    open_only: bool = True,
    limit: int = 500,
    district: str | None = None,
) -> list[Escalation]:
    """The latest `limit` escalation steps that fired, newest first: with the case's unit and state (open:
    not yet resolved), for `jiesu sla escalations` and the daily digest."""
    query = escalations_query(level, unit, open_only, district).limit(limit)
    with reading(engine) as connection:
        return [Escalation(*row[:-1]) for row in connection.execute(query).all()]


def fired_since(
    engine: Engine, since: datetime, district: str | None, limit: int = 100
) -> list[dict[str, Any]]:
    """Escalations fired at or after `since` on cases in `district` (None: all), in the order they fired:
    for the dashboard's server-sent events (`at` is the firing time, to follow)."""
    query = (
        escalations_query(open_only=False, district=district)
        .where(_timer.fired_at >= since)
        .order_by(None)
        .order_by(_timer.fired_at, _timer.id)
        .limit(limit)
    )
    with reading(engine) as connection:
        rows = connection.execute(query).mappings().all()
    return [
        {
            "id": row["id"],
            "ticket_id": row["ticket_id"],
            "level": row["level"],
            "stage": row["stage"],
            "target": row["target"],
            "unit": row["unit"],
            "at": row["fired_at"],
            "fired_at": row["fired_at"].astimezone(BEIJING).strftime("%m-%d %H:%M"),
        }
        for row in rows
    ]
