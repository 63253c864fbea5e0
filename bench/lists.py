"""Lists at a street's volume: the reads of the web over a year of cases in PostgreSQL.

In one run, twice (a baseline of 2,000 cases, then 200,000): a fresh PostgreSQL database (created as the
role of `--admin-url`, migrated, dropped at the end) filled by COPY with a year of cases over Beijing's 349
streets and 16 districts (the demo catalog's areas; streets' volumes skewed as Zipf 0.8, so the busiest
street gets well over a thousand cases a month), with their assignments, deadlines, audit rows and SLA
timers; most closed or resolved, a few % open; then ANALYZE, and each read timed after a warm-up, through
the read-side functions (`dispatcher.reads`): a street worker's inbox (the busiest street), a district
supervisor's dashboard panels (the busiest district), a search by phone, `GET /api/cases` page 1 and a
deep page. Then the same reads once more through the HTTP app (TestClient), fewer times.

    .venv/bin/python -m bench.lists [--cases 200000] [--baseline 2000] [--reps 200] [--http-reps 30] \
        [--admin-url postgresql+psycopg://jiesu:jiesu@127.0.0.1:5432/postgres]

Prints p50/p95 in ms per read and size, and the ratio of the two sizes' p95.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import Engine, and_, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import make_engine, upgrade
from dispatcher.adapters.people import PeopleStore
from dispatcher.bootstrap import bootstrap
from dispatcher.domain.access import Principal, Role, Visible
from dispatcher.domain.callbacks import Assessment
from dispatcher.domain.states import OPEN_STATES, values_of
from dispatcher.reads import cases, dashboard, escalations, inbox, queues, search
from dispatcher.reads.cases import CASES
from dispatcher.settings import Settings
from jiesu.web.app import create_app
from rules.catalog import AreaLevel
from rules.loader import load_catalog

CATALOG = Path(__file__).resolve().parent.parent / "config" / "catalog"
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
PASSWORD = "correct horse battery staple"
DESCRIPTIONS = [
    "小区暖气不热，室温只有十五度，请尽快派人检修",
    "楼下餐馆油烟扰民，晚上十点后还在营业",
    "路灯不亮已经一周，晚上出行不安全",
    "小区门口共享单车乱停乱放，堵住消防通道",
    "楼道里堆放杂物，物业不清理",
    "夜间施工噪音扰民，影响休息",
    "自来水水压低，高层住户用水困难",
    "道路井盖破损，存在安全隐患",
    "垃圾清运不及时，气味很大",
    "公交站台遮雨棚损坏，请维修",
]
ACTIONS = {"acknowledged": 1, "contacted": 2, "returned": 1, "resolved": 3, "closed": 4}


# ---- the city ---------------------------------------------------------------------------------------


@dataclass
class City:
    streets: list[
        tuple[str, str, str, str, list[tuple[str, str]]]
    ]  # code, name, district, its name, communities
    weights: list[float]  # each street's share of the cases (Zipf 0.8)
    branches: dict[str, list[str]]  # district -> departments' branches there
    citywide: list[str]  # city departments and enterprises
    categories: list[str]


def city() -> City:
    catalog = load_catalog(CATALOG)
    areas = catalog.areas
    districts = {code: area.name for code, area in areas.items() if area.level is AreaLevel.DISTRICT}
    communities: dict[str, list[tuple[str, str]]] = {}
    for code, area in areas.items():
        if area.level is AreaLevel.COMMUNITY and area.parent:
            communities.setdefault(area.parent, []).append((code, area.name))
    streets = [
        (code, area.name, area.district_code(), districts[area.district_code()], communities.get(code, []))
        for code, area in sorted(areas.items())
        if area.level is AreaLevel.STREET and f"street-{code}" in catalog.units
    ]
    rng = random.Random(7)
    rng.shuffle(streets)  # the busiest streets anywhere, not the first district's
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(streets))]
    branches: dict[str, list[str]] = {}
    citywide = []
    for unit in catalog.units.values():
        if unit.id.startswith(("street-", "district-", "center")):
            continue
        if unit.district:
            branches.setdefault(unit.district, []).append(unit.id)
        else:
            citywide.append(unit.id)
    leaves = sorted(code for code in catalog.categories if len(code) == 6)
    return City(streets, weights, branches, citywide, leaves)


# ---- the rows ---------------------------------------------------------------------------------------


@dataclass
class Rows:
    cases: list[tuple[Any, ...]] = field(default_factory=list)
    assignments: list[tuple[Any, ...]] = field(default_factory=list)
    deadlines: list[tuple[Any, ...]] = field(default_factory=list)
    audit: list[tuple[Any, ...]] = field(default_factory=list)
    timers: list[tuple[Any, ...]] = field(default_factory=list)


CASE_COLUMNS = (
    "ticket_id, state, urgency, channel, kind, description, category, queue, location, requester, "
    "attachments, received_at, dispatched_at, reply_due, result, pending_return, pending_extension, "
    "co_handlers, district, community, street, requester_phone, linked_to, round, version"
)
ASSIGNMENT_COLUMNS = (
    "ticket_id, unit, post, person, rule, catalog_version, reason, co_handlers, assigned_at, current"
)
DEADLINE_COLUMNS = "ticket_id, stage, due_at, status, fired_at, how, district"
AUDIT_COLUMNS = "ticket_id, at, actor, action, reason, from_state, state"
TIMER_COLUMNS = "ticket_id, stage, kind, level, due_at, deadline, target, status, fired_at"


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def state_at(age: timedelta, rng: random.Random) -> str:
    """A case's state by its age: open for days, then resolved, then closed; a few stay open (overdue,
    extended) for long."""
    roll = rng.random()
    if age < 2 * HOUR:
        return "dispatched" if roll < 0.7 else "acknowledged"
    if age < DAY:
        return "dispatched" if roll < 0.2 else "acknowledged" if roll < 0.6 else "contacted"
    if age < 7 * DAY:
        if roll < 0.015:
            return "returned"
        return "acknowledged" if roll < 0.15 else "contacted" if roll < 0.6 else "resolved"
    if age < 15 * DAY:
        return "contacted" if roll < 0.03 else "resolved" if roll < 0.4 else "closed"
    return "contacted" if roll < 0.008 else "resolved" if roll < 0.013 else "closed"


def fill_rows(count: int, world: City, seed: int) -> tuple[Rows, dict[str, Any]]:
    """`count` cases received over the year before NOW, oldest first, with everything stored with them;
    and what the reads will look for (the busiest street and district, a repeat caller's phone)."""
    rng = random.Random(seed)
    rows = Rows()
    moments = sorted(NOW - YEAR * rng.random() for _ in range(count))
    picks = rng.choices(range(len(world.streets)), weights=world.weights, k=count)
    callers = [f"13{rng.randrange(10**9):09d}" for _ in range(max(10, count // 20))]  # 5% repeat callers
    by_street: Counter[str] = Counter()
    by_district: Counter[str] = Counter()
    phones: dict[str, Counter[str]] = {}
    last_open_by_phone: dict[str, str] = {}
    for n, received in enumerate(moments):
        code, street, district, district_name, communities = world.streets[picks[n]]
        ticket = f"B{received:%Y%m%d}{n:07d}"
        age = NOW - received
        dispatched = received + timedelta(minutes=rng.randint(1, 30))
        if dispatched > NOW:
            dispatched = NOW
        phone = (
            rng.choice(callers) if rng.random() < 0.3 else f"1{rng.randrange(3, 9)}{rng.randrange(10**9):09d}"
        )
        state = state_at(age, rng)
        linked_to = None
        if state == "closed" and rng.random() < 0.02 and phone in last_open_by_phone:
            state, linked_to = "linked", last_open_by_phone[phone]
        queue = None
        if age < 3 * DAY and rng.random() < 0.004:
            state, queue = "queued", rng.choice(["manual-dispatch", "triage"])
        urgency = "emergency" if rng.random() < 0.01 else "urgent" if rng.random() < 0.3 else "general"
        category = rng.choice(world.categories)
        community_code, community = rng.choice(communities) if communities else (None, "")
        location = {
            "district": district_name,
            "street": street,
            "community": community or None,
            "address": f"{community or street}{rng.randint(1, 30)}号楼{rng.randint(1, 6)}单元"
            f"{rng.randint(101, 2402)}",
            "lat": None,
            "lon": None,
        }
        confidential = rng.random() < 0.01
        requester = {
            "name": "王先生",
            "phone": phone,
            "anonymous": False,
            "confidential": confidential,
            "groups": [],
        }
        description = f"{rng.choice(DESCRIPTIONS)}，地址{location['address']}，联系电话{phone}"
        stages = {
            "emergency": (15 * 60, 3600, 2 * 3600),
            "urgent": (3600, 2 * 3600, 24 * 3600),
            "general": (2 * 3600, 24 * 3600, 9 * 24 * 3600),
        }[urgency]
        dues = [dispatched + timedelta(seconds=seconds) for seconds in stages]
        if state == "contacted" and age > 15 * DAY:  # extended long ago, or overdue
            dues[2] = NOW + timedelta(days=rng.randint(-20, 20))
        dispatched_for_real = state not in ("queued", "linked")
        extension = None
        if state in ("acknowledged", "contacted") and rng.random() < 0.05:
            extension = {
                "by": "desk",
                "at": NOW.isoformat(),
                "until": (dues[2] + 5 * DAY).isoformat(),
                "reason": "等配件",
            }
        pending_return = None
        unit = f"street-{code}"
        roll = rng.random()
        if roll < 0.15 and world.branches.get(district):
            unit = rng.choice(world.branches[district])
        elif roll < 0.25:
            unit = rng.choice(world.citywide)
        post = "desk" if unit.startswith("street-") else "dispatch"
        if state == "returned":
            pending_return = {
                "by": "desk",
                "at": (dispatched + HOUR).isoformat(),
                "code": "wrong_area",
                "reason": "不在我们服务范围",
                "back_to": "dispatched",
                "proposal": None,
            }
        rows.cases.append(
            (
                ticket,
                state,
                urgency,
                "phone",
                "complaint",
                description,
                category,
                queue,
                dumps(location),
                dumps(requester),
                "[]",
                received,
                dispatched,
                dues[2] if dispatched_for_real else None,
                "已办结" if state in ("resolved", "closed") else None,
                dumps(pending_return),
                dumps(extension),
                "{}",
                district,
                community_code,
                code,
                phone,
                linked_to,
                1,
                ACTIONS.get(state, 0),
            )
        )
        if not dispatched_for_real:
            continue
        by_street[unit] += 1
        by_district[district] += 1
        phones.setdefault(district, Counter())[phone] += 1
        if state not in ("resolved", "closed"):
            last_open_by_phone[phone] = ticket
        co_handlers = [f"street-{rng.choice(world.streets)[0]}"] if rng.random() < 0.03 else []
        reason = f"rule {category[:4]}: classified as {category} (0.9 by keywords); person: on duty"
        if rng.random() < 0.02:  # dispatched elsewhere first, then redispatched
            other = f"street-{rng.choice(world.streets)[0]}"
            rows.assignments.append(
                (ticket, other, "desk", None, "territorial", "v1", reason, "[]", dispatched, False)
            )
        rows.assignments.append(
            (
                ticket,
                unit,
                post,
                f"{unit}.{post}-duty",
                "territorial",
                "v1",
                reason,
                dumps(co_handlers),
                dispatched,
                True,
            )
        )
        done = {"dispatched": 0, "acknowledged": 1, "returned": 1, "contacted": 2}.get(state, 3)
        for index, (stage, due) in enumerate(zip(("acknowledge", "contact", "reply"), dues, strict=True)):
            met = index < done
            rows.deadlines.append(
                (
                    ticket,
                    stage,
                    due,
                    "met" if met else "pending",
                    dispatched + HOUR if met else None,
                    f"{stage}: due",
                    district,
                )
            )
            # the stage's ladder, as the dispatch planned it: each step fired if its time came before the
            # stage was done (a few stages are met late), cancelled once done, else still pending
            late = met and rng.random() < 0.04
            for kind, level, at in (
                ("warning", 0, due - (due - dispatched) / 4),
                ("escalation", 1, due),
                ("escalation", 2, due + 2 * HOUR),
                ("escalation", 3, due + 4 * HOUR),
            ):
                if met:
                    status = "fired" if late and level <= 1 else "cancelled"
                else:
                    status = "fired" if at <= NOW else "pending"
                target = f"{unit}:{post}" if level < 2 else "center:supervision_order"
                rows.timers.append(
                    (ticket, stage, kind, level, at, due, target, status, at if status == "fired" else None)
                )
        steps = [("dispatch", None, "dispatched", dispatched)]
        if done >= 1:
            steps.append(
                ("acknowledge", "dispatched", "acknowledged", dispatched + 20 * timedelta(minutes=1))
            )
        if state == "returned":
            steps.append(("return", "acknowledged", "returned", dispatched + HOUR))
        if done >= 2:
            steps.append(("contact", "acknowledged", "contacted", dispatched + HOUR))
        if state in ("resolved", "closed"):
            steps.append(("resolve", "contacted", "resolved", dispatched + DAY))
        if state == "closed":
            steps.append(("close", "resolved", "closed", dispatched + 3 * DAY))
        for action, before, after_, at in steps:
            rows.audit.append(
                (
                    ticket,
                    min(at, NOW),
                    "jiesu" if action == "dispatch" else "desk",
                    action,
                    reason if action == "dispatch" else "",
                    before,
                    after_,
                )
            )
    street = by_street.most_common(1)[0][0]
    district = by_district.most_common(1)[0][0]
    phone = phones[district].most_common(1)[0][0]
    return rows, {
        "street": street,
        "district": district,
        "phone": phone,
        "street_cases": by_street[street],
        "district_cases": by_district[district],
    }


def copy_rows(url: str, rows: Rows) -> None:
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        for table, columns, data in (
            ("cases", CASE_COLUMNS, rows.cases),
            ("assignments", ASSIGNMENT_COLUMNS, rows.assignments),
            ("deadlines", DEADLINE_COLUMNS, rows.deadlines),
            ("audit", AUDIT_COLUMNS, rows.audit),
            ("sla_timers", TIMER_COLUMNS, rows.timers),
        ):
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
        # the case's own copy of its current unit, as the worker writes it (migration 0028's fill)
        cursor.execute(
            "UPDATE cases SET lead_unit = assignments.unit FROM assignments"
            " WHERE assignments.ticket_id = cases.ticket_id AND assignments.current"
        )
        connection.commit()
        connection.autocommit = True
        cursor.execute("VACUUM ANALYZE")


@contextmanager
def fresh_database(admin_url: str, keep: bool = False) -> Iterator[str]:
    """A new, empty database, dropped at the end unless `keep` (its name printed, to be read afterwards)."""
    name = f"jiesu_bench_lists_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"database {name} kept: drop it when done")
        else:
            drop_database(admin, name)
        admin.dispose()


def drop_database(admin: Engine, name: str, tries: int = 30) -> None:
    """Drops the database, waiting for an autovacuum worker on it to finish: WITH (FORCE) may not end
    a superuser's process, and the run's figures are not lost for a database left behind (said)."""
    for _ in range(tries):
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError as error:
            refused = error
            time.sleep(1)
    print(f"database {name} left behind, drop it by hand: {refused.orig}", file=sys.stderr)


# ---- the reads ------------------------------------------------------------------------------------


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(read: Callable[[], Any], reps: int, warmup: int = 5) -> tuple[float, float]:
    for _ in range(warmup):
        read()
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        read()
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def deep_cursor(engine: Engine, where: Any, offset: int, joined: bool = False) -> str | None:
    """The cursor of `GET /api/cases` that starts right after the `offset`-th row of its order."""
    k, a = t.cases.c, t.assignments.c
    query = select(k.dispatched_at, k.ticket_id).where(where).order_by(k.dispatched_at, k.ticket_id)
    if joined:
        query = query.select_from(
            t.cases.join(t.assignments, and_(a.ticket_id == k.ticket_id, a.current.is_(True)))
        )
    with engine.connect() as connection:
        row = connection.execute(query.offset(offset).limit(1)).first()
    return CASES.encode(tuple(row)) if row else None


def dashboard_reads(engine: Engine, district: str) -> dict[str, Callable[[], Any]]:
    visible, assessment = Visible(district=district), Assessment()
    return {
        "emergencies": lambda: queues.open_emergencies(engine, now=NOW, visible=visible),
        "escalations": lambda: escalations.escalations(engine, district=district, limit=100),
        "overdue by unit": lambda: dashboard.overdue_by_unit(engine, now=NOW, visible=visible),
        "arbitration": lambda: queues.arbitration_queue(engine, now=NOW, visible=visible, limit=50),
        "extensions": lambda: queues.pending_extensions(engine, visible=visible),
        "triage": lambda: queues.triage_queue(engine, now=NOW, visible=visible, limit=50),
        "daily volume": lambda: dashboard.daily_volume(engine, now=NOW, district=district),
        "ranking": lambda: dashboard.street_ranking(engine, assessment, NOW.strftime("%Y-%m")),
    }


def measure(url: str, found: dict[str, Any], reps: int, http_reps: int) -> dict[str, tuple[float, float]]:
    engine = make_engine(url)
    street, district, phone = found["street"], found["district"], found["phone"]
    worker, supervisor, city_wide = Visible(unit=street), Visible(district=district), Visible(everything=True)
    k, a = t.cases.c, t.assignments.c
    panels = dashboard_reads(engine, district)
    deep_district = deep_cursor(engine, k.district == district, found["district_cases"] // 2)
    deep_street = deep_cursor(engine, a.unit == street, found["street_cases"] // 2, joined=True)
    deep_city = deep_cursor(engine, k.ticket_id.is_not(None), len_cases(engine) // 2)
    reads: dict[str, Callable[[], Any]] = {
        "inbox: street worker (page 1 + count)": lambda: (
            inbox.inbox(engine, now=NOW, visible=worker),
            inbox.count(engine, visible=worker),
        ),
        "dashboard: district supervisor (all panels)": lambda: [read() for read in panels.values()],
        **{f"  dashboard panel: {name}": read for name, read in panels.items()},
        "search by phone: district supervisor": lambda: search.search(
            engine, now=NOW, visible=supervisor, by="phone", q=phone
        ),
        "search by phone: city supervisor": lambda: search.search(
            engine, now=NOW, visible=city_wide, by="phone", q=phone
        ),
        "/api/cases page 1: district supervisor": lambda: cases.cases(engine, now=NOW, visible_to=supervisor),
        "/api/cases deep page: district supervisor": lambda: cases.cases(
            engine, now=NOW, visible_to=supervisor, cursor=deep_district
        ),
        "/api/cases page 1: street worker": lambda: cases.cases(engine, now=NOW, visible_to=worker),
        "/api/cases deep page: street worker": lambda: cases.cases(
            engine, now=NOW, visible_to=worker, cursor=deep_street
        ),
        "/api/cases page 1: city supervisor": lambda: cases.cases(engine, now=NOW, visible_to=city_wide),
        "/api/cases deep page: city supervisor": lambda: cases.cases(
            engine, now=NOW, visible_to=city_wide, cursor=deep_city
        ),
    }
    results = {label: timed(read, reps) for label, read in reads.items()}
    results.update(http(url, found, http_reps, deep_district))
    engine.dispose()
    return results


def len_cases(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM cases")).scalar_one())


def http(url: str, found: dict[str, Any], reps: int, deep: str | None) -> dict[str, tuple[float, float]]:
    """The same reads through the app over HTTP (TestClient: no network), logged in as a person would."""
    system = bootstrap(Settings(database_url=url, catalog_dir=CATALOG), clock=lambda: NOW)
    people = PeopleStore(system.engine, system.clock)
    people.add(Principal("desk", Role.WORKER, unit=found["street"]), "street desk", PASSWORD)
    people.add(
        Principal("district", Role.SUPERVISOR, scope=found["district"]), "district supervisor", PASSWORD
    )
    token = people.issue_token("district", "bench")[1]
    app = create_app(system.settings, system)

    def session(username: str) -> TestClient:
        client = TestClient(app, base_url="http://127.0.0.1")
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/login").text)
        assert csrf
        answer = client.post(
            "/login", data={"username": username, "password": PASSWORD, "csrf": csrf.group(1)}
        )
        assert answer.status_code == 200, answer.text[:300]
        return client

    desk, district = session("desk"), session("district")
    csrf_match = re.search(r'name="csrf" value="([0-9a-f]+)"', district.get("/dashboard").text)
    assert csrf_match
    api = TestClient(app, headers={"Authorization": f"Bearer {token}"})

    def ok(response: Any) -> None:
        assert response.status_code == 200, response.text[:300]

    search_form = {"by": "phone", "q": found["phone"], "csrf": csrf_match.group(1)}
    reads: dict[str, Callable[[], Any]] = {
        "HTTP GET /inbox: street worker": lambda: ok(desk.get("/inbox")),
        "HTTP GET /dashboard: district supervisor": lambda: ok(district.get("/dashboard")),
        "HTTP POST /dashboard/search by phone": lambda: ok(
            district.post("/dashboard/search", data=search_form)
        ),
        "HTTP GET /api/cases page 1: district": lambda: ok(api.get("/api/cases")),
        "HTTP GET /api/cases deep page: district": lambda: ok(api.get("/api/cases", params={"cursor": deep})),
    }
    results = {label: timed(read, reps, warmup=3) for label, read in reads.items()}
    system.engine.dispose()
    return results


# ---- the run --------------------------------------------------------------------------------------


def run(
    admin_url: str, count: int, reps: int, http_reps: int, world: City
) -> tuple[dict[str, Any], dict[str, Any]]:
    with fresh_database(admin_url) as url:
        started = time.perf_counter()
        upgrade(url)
        rows, found = fill_rows(count, world, seed=count)
        made = time.perf_counter()
        copy_rows(url, rows)
        filled = time.perf_counter()
        states = Counter(row[1] for row in rows.cases)
        open_ = sum(states[s] for s in values_of(OPEN_STATES))
        summary = {
            **found,
            "cases": len(rows.cases),
            "assignments": len(rows.assignments),
            "deadlines": len(rows.deadlines),
            "audit": len(rows.audit),
            "timers": len(rows.timers),
            "open": open_,
            "open_share": open_ / len(rows.cases),
            "generated_s": made - started,
            "copied_s": filled - made,
        }
        print(f"# {count:,} cases: {summary}", file=sys.stderr, flush=True)
        return summary, measure(url, found, reps, http_reps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--baseline", type=int, default=2_000)
    parser.add_argument("--reps", type=int, default=200, help="timed repetitions per read (after 5 warm-ups)")
    parser.add_argument("--http-reps", type=int, default=30)
    parser.add_argument("--admin-url", default="postgresql+psycopg://jiesu:jiesu@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    world = city()
    print(f"# {len(world.streets)} streets, {len({s[2] for s in world.streets})} districts", file=sys.stderr)
    small_summary, small = run(args.admin_url, args.baseline, args.reps, args.http_reps, world)
    big_summary, big = run(args.admin_url, args.cases, args.reps, args.http_reps, world)
    for label, summary in ((f"{args.baseline:,}", small_summary), (f"{args.cases:,}", big_summary)):
        print(
            f"{label} cases: {summary['assignments']:,} assignments, {summary['deadlines']:,} deadlines, "
            f"{summary['audit']:,} audit rows, {summary['timers']:,} timers; {summary['open']:,} open "
            f"({summary['open_share']:.1%}); busiest street {summary['street']} ({summary['street_cases']:,} "
            f"cases), district {summary['district']} ({summary['district_cases']:,}); filled in "
            f"{summary['generated_s'] + summary['copied_s']:.0f} s"
        )
    print()
    print(f"| read | {args.baseline:,} cases p50 / p95 ms | {args.cases:,} cases p50 / p95 ms | p95 ratio |")
    print("|---|---|---|---|")
    for label, (p50, p95) in big.items():
        base50, base95 = small[label]
        print(f"| {label} | {base50:.1f} / {base95:.1f} | {p50:.1f} / {p95:.1f} | {p95 / base95:.1f} |")


if __name__ == "__main__":
    main()
