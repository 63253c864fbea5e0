"""The people the web tests act as, and how they get in: a bearer token, or a page login with the form's
CSRF token.

Everyone is in `STAFF`, over the small catalog's units (tests/support/catalogs.py); a test adds those it
needs with `add_people`, which also issues each a token."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dispatcher.adapters.people import PeopleStore
from dispatcher.bootstrap import System
from dispatcher.domain.access import Principal, Role

PASSWORD = "correct horse battery"
STAFF = {
    principal.username: principal
    for principal in (
        Principal("li", Role.WORKER, unit="ent-heating"),
        Principal("zhou", Role.WORKER, unit="ent-heating-b"),
        Principal("wangjing", Role.WORKER, unit="street-110105010"),  # 望京街道, 朝阳区
        Principal("balizhuang", Role.WORKER, unit="street-110105011"),  # 八里庄街道, 朝阳区
        Principal("zhao", Role.SUPERVISOR, scope="city"),
        Principal("chaoyang", Role.SUPERVISOR, scope="110105"),  # 朝阳区
        Principal("haidian", Role.SUPERVISOR, scope="110108"),  # 海淀区
        Principal("hotline", Role.INTAKE),
        Principal("root", Role.ADMIN),
    )
}


def add_people(system: System, *usernames: str, password: str | None = PASSWORD) -> dict[str, str]:
    """Adds the people of `STAFF` named (everyone if none is), each named after their username, with the
    password (None: none; each password costs an argon2 hash), and issues each a token: the tokens by
    username."""
    people = PeopleStore(system.engine, system.clock)
    tokens = {}
    for username in usernames or STAFF:
        people.add(STAFF[username], username, password)
        tokens[username] = people.issue_token(username, "tests")[1]
    return tokens


class Caller:
    """The test client, authenticated as one person or system by a bearer token."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, headers=self.headers, **kwargs)


def csrf_of(html: str) -> str:
    """The CSRF token of the page's form."""
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, html
    return found.group(1)


def logged_in(app: FastAPI, username: str, password: str = PASSWORD) -> TestClient:
    """A client logged in on the pages, holding the session cookie."""
    client = TestClient(app, base_url="http://127.0.0.1")
    csrf = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"username": username, "password": password, "csrf": csrf})
    assert answer.status_code == 200 and "jiesu_session" in client.cookies, answer.text
    return client
