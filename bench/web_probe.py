"""The web app's main pages timed over HTTP while something else loads the machine: a street worker's
inbox, a district supervisor's dashboard and a search by phone, each fetched in turn by a person logged in
through the login form, as a browser would (used by `bench/memory.py` and `bench/web_under_load.py`).

The pages are fetched from a process of their own, as a browser would be: a thread of the benchmark's
process would share its interpreter lock with the benchmark's Kafka consumer, and the time spent waiting
for it would be counted as the page's."""

from __future__ import annotations

import multiprocessing
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event

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
    """Fetches the three pages one after the other every `every` seconds, from a process of its own, until
    stopped; the timings are kept apart by `phase` (set it as the load changes)."""

    def __init__(self, engine: Engine, clock: Clock, base: str, every: float = 1.0) -> None:
        self._engine, self._clock, self._base, self._every = engine, clock, base, every
        self._phase = ""
        self.timings: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.failures: dict[tuple[str, str], int] = defaultdict(int)
        self._context = multiprocessing.get_context("spawn")
        self._phases, self._phases_read = self._context.Pipe()
        self._received, self._results = self._context.Pipe(duplex=False)
        self._stop = self._context.Event()
        self._process: multiprocessing.process.BaseProcess | None = None

    @property
    def phase(self) -> str:
        return self._phase

    @phase.setter
    def phase(self, value: str) -> None:
        self._phase = value
        self._phases.send(value)

    def start(self) -> WebProbe:
        street, district, phone = busiest(self._engine)
        people = PeopleStore(self._engine, self._clock)
        people.add(Principal("probe-desk", Role.WORKER, unit=street), "street desk", PASSWORD)
        people.add(Principal("probe-district", Role.SUPERVISOR, scope=district), "district", PASSWORD)
        self._process = self._context.Process(
            target=_fetch_pages,
            args=(self._base, phone, self._every, self._phases_read, self._stop, self._results),
            daemon=True,
        )
        self._process.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._received.poll(60):
            for phase, page, elapsed in self._received.recv():
                if elapsed is None:
                    self.failures[phase, page] += 1
                else:
                    self.timings[phase, page].append(elapsed)
        if self._process is not None:
            self._process.join(timeout=10)

    def summary(self) -> list[str]:
        lines = [
            "| while | page | fetches | p50 ms | p95 ms | max ms | failed |",
            "|---|---|---|---|---|---|---|",
        ]
        for phase in dict.fromkeys(phase for phase, _ in [*self.timings, *self.failures]):
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


def _fetch_pages(
    base: str, phone: str, every: float, phases: Connection, stop: Event, results: Connection
) -> None:
    """The probe's process: logs the two people in, fetches the pages in turn until `stop`, then sends
    back every fetch as (phase, page, milliseconds or None if it failed)."""
    phase = ""
    desk, _ = logged_in(base, "probe-desk")
    supervisor, csrf = logged_in(base, "probe-district")
    search = {"by": "phone", "q": phone, "csrf": csrf}
    fetches: tuple[Callable[[], httpx.Response], ...] = (
        lambda: desk.get("/inbox"),
        lambda: supervisor.get("/dashboard"),
        lambda: supervisor.post("/dashboard/search", data=search),
    )
    taken: list[tuple[str, str, float | None]] = []
    while not stop.wait(every):
        while phases.poll():
            phase = phases.recv()
        for page, fetch in zip(PAGES, fetches, strict=True):
            began = time.perf_counter()
            answer = fetch()
            elapsed = (time.perf_counter() - began) * 1000
            taken.append((phase, page, elapsed if answer.status_code == 200 else None))
    results.send(taken)
