"""`jiesu users add | list | token | revoke | revoke-token` as an operator runs them, on a SQLite file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dispatcher.adapters.database import make_engine, upgrade
from dispatcher.adapters.people import PeopleStore
from dispatcher.bootstrap import utc_now
from dispatcher.domain.access import Principal, Role
from jiesu.cli.main import app
from tests.support.logins import PASSWORD

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PeopleStore]:
    url = f"sqlite:///{tmp_path / 'jiesu.db'}"
    upgrade(url)
    monkeypatch.setenv("JIESU_DATABASE_URL", url)
    engine = make_engine(url)
    yield PeopleStore(engine, utc_now)
    engine.dispose()


def users(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["users", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_people_and_systems_are_added_listed_and_their_tokens_authenticate(store: PeopleStore):
    assert users("add", "li", "--name", "李娜", "--role", "worker", "--unit", "ent-heating")[:2] == (
        0,
        "added li: worker (unit ent-heating)\n",
    )
    code, out, _ = users(
        "add", "zhao", "--name", "赵主任", "--role", "supervisor", "--scope", "110105", "--password-stdin",
        stdin=f"{PASSWORD}\n",
    )  # fmt: skip
    assert (code, out) == (0, "added zhao: supervisor (scope 110105)\n")
    assert users("add", "hotline", "--name", "12345 受理系统", "--role", "intake")[0] == 0

    code, token, note = users("token", "hotline", "--label", "intake-gateway")
    assert code == 0 and len(token.strip()) >= 43 and "\n" not in token.strip()
    assert "token 1 for hotline (intake-gateway): store it now" in note
    assert store.principal_for_token(token.strip()) == Principal("hotline", Role.INTAKE)
    assert store.verify_password("zhao", PASSWORD) == Principal("zhao", Role.SUPERVISOR, scope="110105")
    assert token.strip() not in users("list")[1]  # only its hash is kept

    code, listing, _ = users("list")
    lines = listing.splitlines()
    assert code == 0 and [line.split()[:2] for line in lines if not line.startswith(" ")] == [
        ["hotline", "intake"],
        ["li", "worker"],
        ["zhao", "supervisor"],
    ]
    assert "tokens only" in lines[0] and "password" in lines[-1] and "unit ent-heating" in listing
    assert "token 1    intake-gateway" in lines[1] and "last used" in lines[1] and "active" in lines[1]


def test_a_revoked_token_and_a_deactivated_person_authenticate_nobody(store: PeopleStore):
    users("add", "li", "--name", "李娜", "--role", "worker", "--unit", "ent-heating")
    first, second = users("token", "li")[1].strip(), users("token", "li")[1].strip()

    assert users("revoke-token", "1")[:2] == (0, "token 1 revoked\n")
    assert store.principal_for_token(first) is None
    assert store.principal_for_token(second) is not None
    assert "revoked" in users("list")[1].splitlines()[1]

    assert users("revoke", "li")[:2] == (0, "li deactivated; 1 token revoked\n")
    assert store.principal_for_token(second) is None
    assert "deactivated" in users("list")[1]
    assert users("token", "li")[::2] == (2, "error: li is deactivated\n")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["add", "x", "--name", "X", "--role", "clerk"], "unknown role 'clerk'"),
        (["add", "x", "--name", "X", "--role", "worker"], "worker x needs a unit (--unit)"),
        (["add", "x", "--name", "X", "--role", "supervisor"], "supervisor x needs a scope"),
        (["add", "x", "--name", "X", "--role", "supervisor", "--scope", "朝阳"], "expected 'city' or"),
        (["add", "li", "--name", "Another", "--role", "admin"], "username li is taken"),
        (["add", "x", "--name", "X", "--role", "admin", "--password-stdin"], "at least 8 characters"),
        (["token", "nobody"], "no person or system named nobody"),
        (["revoke", "nobody"], "no person or system named nobody"),
        (["revoke-token", "99"], "no unrevoked token with id 99"),
        (["token", "li", "--expires", "soon"], "--expires 'soon': expected a number of days or hours"),
        (["token", "li", "--expires", "0d"], "--expires '0d': expected a number of days or hours"),
    ],
)
def test_a_refusal_is_one_line_with_the_reason(store: PeopleStore, args: list[str], error: str):
    users("add", "li", "--name", "李娜", "--role", "worker", "--unit", "ent-heating")
    code, out, err = users(*args, stdin="short\n")
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and error in err and err.count("\n") == 1


def test_a_token_issued_with_an_expiry_stops_authenticating_after_it(store: PeopleStore):
    users("add", "li", "--name", "李娜", "--role", "worker", "--unit", "ent-heating")
    code, token, note = users("token", "li", "--label", "contractor", "--expires", "90d")
    [issued] = store.people()[0].tokens
    assert code == 0 and issued.expires_at is not None
    assert timedelta(days=89, hours=23) < issued.expires_at - utc_now() <= timedelta(days=90)
    assert f"expires {issued.expires_at:%Y-%m-%d %H:%M}Z" in note
    assert store.principal_for_token(token.strip()) == Principal("li", Role.WORKER, unit="ent-heating")
    assert f"active until {issued.expires_at:%Y-%m-%d %H:%M}Z" in users("list")[1]

    engine = make_engine(os.environ["JIESU_DATABASE_URL"])
    later = PeopleStore(engine, lambda: utc_now() + timedelta(days=90, minutes=1))
    assert later.principal_for_token(token.strip()) is None
    engine.dispose()

    assert users("token", "li", "--expires", "12h")[0] == 0
    hours = store.people()[0].tokens[-1].expires_at
    assert hours is not None and timedelta(hours=11, minutes=59) < hours - utc_now() <= timedelta(hours=12)
    assert store.people()[0].tokens[-1].label == "api"
