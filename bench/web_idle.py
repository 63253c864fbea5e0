"""The web app's main pages on the idle machine, over HTTP, with the server's CPU per page: a street worker's
inbox, a district supervisor's dashboard and a search by phone (`bench/web_probe.py`'s), each fetched
`--fetches` times in turn (a pause of 0.1 s between fetches) from `jiesu web` started with `--python` (another
checkout's interpreter to time its code on the same database). CPU per page: the web process's, and that of
PostgreSQL's backends of the database, over the fetches.

`--busy N` keeps N busy loops running meanwhile (three take two cores): what a page gains when it must
share the machine, as under the worker (`bench/web_under_load.py`), in a minute rather than six.

`--fill N` first creates the database of `--database-url` (it must not exist) and fills it with a year of N
cases as `bench/lists.py` makes them (what `bench/web_under_load.py` serves); `--drop` drops it at the end.

    .venv/bin/python -m bench.web_idle --fill 200000 \
        --database-url postgresql+psycopg://jiesu:jiesu@127.0.0.1:5432/jiesu_idle \
        [--python ../other/.venv/bin/python] [--fetches 60] [--busy 3] [--drop]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from bench.e2e_dispatch import wait_until, worker_env
from bench.flow import process_seconds
from bench.lists import city, copy_rows, drop_database, fill_rows
from bench.web_probe import PASSWORD, busiest, logged_in
from dispatcher.adapters.database import make_engine, upgrade
from dispatcher.adapters.people import PeopleStore, PersonError
from dispatcher.domain.access import Principal, Role
from dispatcher.settings import Settings

TICK = os.sysconf("SC_CLK_TCK")


def backends_seconds(engine: Engine) -> float:
    """CPU time so far of PostgreSQL's backends connected to the engine's database."""
    with engine.connect() as connection:
        query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = list(connection.execute(query).scalars())
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def _admin(url: str, statement: str) -> None:
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(statement))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--fill", type=int, default=0, help="create the database and fill it with N cases")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs `jiesu web`")
    parser.add_argument("--fetches", type=int, default=60)
    parser.add_argument("--web-port", type=int, default=18_767)
    parser.add_argument(
        "--busy", type=int, default=0, help="busy loops kept running meanwhile: the pages on a busy machine"
    )
    args = parser.parse_args()
    url, name = args.database_url, make_url(args.database_url).database
    if args.fill:
        _admin(url, f'CREATE DATABASE "{name}"')
        upgrade(url)
        rows, _ = fill_rows(args.fill, city(), seed=args.fill)
        copy_rows(url, rows)
        print(f"{len(rows.cases):,} cases filled", flush=True)
    engine = make_engine(url)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        for line in measure(engine, url, args.python, args.fetches, args.web_port):
            print(line, flush=True)
    finally:
        for loop in busy:
            loop.kill()
        engine.dispose()
        if args.drop:
            admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
            drop_database(admin, name)
            admin.dispose()


def measure(engine: Engine, url: str, python: str, fetches: int, port: int) -> list[str]:
    street, district, phone = busiest(engine)
    people = PeopleStore(engine, lambda: datetime.now(UTC))
    for principal in (
        Principal("idle-desk", Role.WORKER, unit=street),
        Principal("idle-district", Role.SUPERVISOR, scope=district),
    ):
        with contextlib.suppress(PersonError):  # added by an earlier run on this database
            people.add(principal, principal.username, PASSWORD)
    state = Path(tempfile.mkdtemp(prefix="jiesu-web-idle-")) / "state"
    settings = Settings(database_url=url, web_port=port, state_dir=state)
    log = (state.parent / "web.log").open("ab")
    web = subprocess.Popen([python, "-m", "jiesu", "web"], env=worker_env(settings), stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    lines = [
        "| page | fetches | p50 ms | p95 ms | web CPU ms/page | PostgreSQL CPU ms/page |",
        "|---|---|---|---|---|---|",
    ]
    try:
        wait_until(lambda: _answers(base), 60, "jiesu web")
        desk, _ = logged_in(base, "idle-desk")
        supervisor, csrf = logged_in(base, "idle-district")
        search = {"by": "phone", "q": phone, "csrf": csrf}
        pages: dict[str, Callable[[], Any]] = {
            "GET /inbox: street worker": lambda: desk.get("/inbox"),
            "GET /dashboard: district supervisor": lambda: supervisor.get("/dashboard"),
            "POST /dashboard/search by phone": lambda: supervisor.post("/dashboard/search", data=search),
        }
        for page, fetch in pages.items():
            for _ in range(5):  # warm-up
                assert fetch().status_code == 200
            taken = []
            web_began, database_began = process_seconds(web.pid), backends_seconds(engine)
            for _ in range(fetches):
                began = time.perf_counter()
                answer = fetch()
                taken.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, answer.status_code
                time.sleep(0.1)
            web_cpu = (process_seconds(web.pid) - web_began) / fetches * 1000
            database_cpu = (backends_seconds(engine) - database_began) / fetches * 1000
            taken.sort()
            p95 = taken[min(len(taken) - 1, round(0.95 * (len(taken) - 1)))]
            lines.append(
                f"| {page} | {fetches} | {statistics.median(taken):.1f} | {p95:.1f} | {web_cpu:.1f} | "
                f"{database_cpu:.1f} |"
            )
    finally:
        web.terminate()
        web.wait(timeout=60)
    return lines


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/login", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
