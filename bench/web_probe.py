"""The web app's main pages timed over HTTP while something else loads the machine: a street worker's
inbox, a district supervisor's dashboard and a search by phone, each fetched in turn by a person logged in
through the login form, as a browser would (used by `bench/memory.py`)."""

from __future__ import annotations

import re
import statistics
import threading
import time
from collections import defaultdict

import httpx
from sqlalchemy import Engine, text

from dispatcher.adapters.people import PeopleStore
from dispatcher.domain.access import Principal, Role
from sla.calendar import Clock

PASSWORD = "correct horse battery staple"
PAGES = (
    "GET /inbox: street worker",
    "GET /dashboard: district supervisor",
    "POST /dashboard/search by phone",
)


def busiest(engine: Engine) -> tuple[str, str, str]:
    """The street unit with the most current cases, the district with the most cases, one of its callers."""
    with engine.connect() as connection:
        street = connection.execute(
            text(
                "SELECT unit FROM assignments WHERE current AND unit LIKE 'street-%' "
                "GROUP BY unit ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
        district, phone = connection.execute(
            text(
                "SELECT district, min(requester_phone) FROM cases WHERE district IS NOT NULL "
                "GROUP BY district ORDER BY count(*) DESC LIMIT 1"
            )
        ).one()
    return str(street), str(district), str(phone)


def logged_in(base: str, username: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, timeout=30, follow_redirects=True)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/login").text)
    assert csrf, "no login form"
    answer = client.post("/login", data={"username": username, "password": PASSWORD, "csrf": csrf.group(1)})
    assert answer.status_code == 200, f"{answer.status_code} {answer.text[:300]}"
    page = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/dashboard").text)
    return client, page.group(1) if page else ""


class WebProbe:
    """Fetches the three pages one after the other every `every` seconds, in a thread, until stopped; the
    timings are kept apart by `phase` (set it as the load changes)."""

    def __init__(self, engine: Engine, clock: Clock, base: str, every: float = 1.0) -> None:
        self._engine, self._clock, self._base, self._every = engine, clock, base, every
        self.phase = ""
        self.timings: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.failures: dict[tuple[str, str], int] = defaultdict(int)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="web-probe", daemon=True)

    def start(self) -> WebProbe:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=60)

    def _run(self) -> None:
        street, district, phone = busiest(self._engine)
        people = PeopleStore(self._engine, self._clock)
        people.add(Principal("probe-desk", Role.WORKER, unit=street), "street desk", PASSWORD)
        people.add(Principal("probe-district", Role.SUPERVISOR, scope=district), "district", PASSWORD)
        desk, _ = logged_in(self._base, "probe-desk")
        supervisor, csrf = logged_in(self._base, "probe-district")
        search = {"by": "phone", "q": phone, "csrf": csrf}
        fetches = (
            lambda: desk.get("/inbox"),
            lambda: supervisor.get("/dashboard"),
            lambda: supervisor.post("/dashboard/search", data=search),
        )
        while not self._stop.wait(self._every):
            for page, fetch in zip(PAGES, fetches, strict=True):
                began = time.perf_counter()
                answer = fetch()
                elapsed = (time.perf_counter() - began) * 1000
                if answer.status_code == 200:
                    self.timings[self.phase, page].append(elapsed)
                else:
                    self.failures[self.phase, page] += 1

    def summary(self) -> list[str]:
        lines = [
            "| while | page | fetches | p50 ms | p95 ms | max ms | failed |",
            "|---|---|---|---|---|---|---|",
        ]
        for phase in dict.fromkeys(phase for phase, _ in self.timings):
            for page in PAGES:
                taken, failed = sorted(self.timings[phase, page]), self.failures[phase, page]
                if not taken:
                    lines.append(f"| {phase} | {page} | 0 | | | | {failed} |")
                    continue
                p95 = taken[min(len(taken) - 1, round(0.95 * (len(taken) - 1)))]
                lines.append(
                    f"| {phase} | {page} | {len(taken)} | {statistics.median(taken):.1f} | {p95:.1f} | "
                    f"{taken[-1]:.1f} | {failed} |"
                )
        return lines
