"""`jiesu users add | list | token | revoke | revoke-token`: people and systems, their roles and tokens.
A token lasts until revoked, or until `--expires` (e.g. 90d) has passed.

An operator's tool, run where the database is: it needs no token itself. Roles: intake (a hotline's
intake system: submits requests), worker (a unit's staff or system: its cases), supervisor (the center:
a district, or the city), admin.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import typer
from sqlalchemy.exc import SQLAlchemyError

from dispatcher.adapters.database import make_engine
from dispatcher.adapters.people import PeopleStore, Person
from dispatcher.bootstrap import utc_now
from dispatcher.domain.access import PersonError, Principal, role_of
from dispatcher.settings import load_settings

users_app = typer.Typer(help="People and systems: roles, scope, API tokens.", no_args_is_help=True)


@contextmanager
def people() -> Iterator[PeopleStore]:
    """The store over the configured database; a refusal ends the command with one line and exit code 2."""
    engine = make_engine(load_settings().database_url)
    try:
        yield PeopleStore(engine, utc_now)
    except PersonError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    except SQLAlchemyError as error:
        first = str(error).splitlines()[0]
        typer.echo(f"error: the database refused ({first}); is it migrated? `jiesu db upgrade`", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


@users_app.command()
def add(
    username: str,
    name: str = typer.Option(..., help="The person's name, or the system's."),
    role: str = typer.Option(..., help="intake, worker, supervisor or admin."),
    unit: str | None = typer.Option(None, help="Workers: their unit (a supervisor may have one too)."),
    post: str | None = typer.Option(None, help="Workers: only the cases at this post of the unit."),
    scope: str | None = typer.Option(None, help="Supervisors: 'city' or a district code, e.g. 110105."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read a password (first line of stdin) to log in with."
    ),
) -> None:
    """Add a person or a system. Without a password it authenticates with tokens only."""
    with people() as store:
        principal = Principal(username, role_of(role), unit, post, scope)
        password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
        store.add(principal, name, password)
    where = ", ".join(f"{key} {value}" for key, value in _where(principal) if value)
    typer.echo(f"added {username}: {principal.role}{f' ({where})' if where else ''}")


@users_app.command("list")
def list_people() -> None:
    """Every person and system, with their tokens (id, label, last use, revoked, expired or active)."""
    with people() as store:
        found = store.people()
    now = utc_now()
    if not found:
        typer.echo("nobody yet: add someone with `jiesu users add`")
    for person in found:
        typer.echo(_line(person))
        for token in person.tokens:
            used = f"last used {_at(token.last_used_at)}" if token.last_used_at else "never used"
            if token.revoked_at:
                status = f"revoked {_at(token.revoked_at)}"
            elif token.expires_at:
                status = f"{'expired' if token.expires_at <= now else 'active until'} {_at(token.expires_at)}"
            else:
                status = "active"
            typer.echo(
                f"    token {token.id:<4} {token.label:<16} created {_at(token.created_at)}, {used}, {status}"
            )


@users_app.command()
def token(
    username: str,
    label: str = typer.Option("api", help="What the token is for, e.g. the system's name."),
    expires: str | None = typer.Option(
        None, help="It stops working after this long, e.g. 90d or 12h (default: when revoked)."
    ),
) -> None:
    """Issue an API token; it is printed once, on stdout, and only its hash is kept."""
    if not 1 <= len(label) <= 64:
        typer.echo("error: the label needs 1 to 64 characters", err=True)
        raise typer.Exit(2)
    lasts = _lifetime(expires) if expires is not None else None
    with people() as store:
        until = utc_now() + lasts if lasts else None
        token_id, secret = store.issue_token(username, label, expires_at=until)
    typer.echo(secret)
    typer.echo(
        f"token {token_id} for {username} ({label}){f', expires {_at(until)}' if until else ''}: store it "
        f"now, it is not shown again; revoke it with `jiesu users revoke-token {token_id}`",
        err=True,
    )


@users_app.command()
def revoke(username: str) -> None:
    """Deactivate a person or system: no more logins, and every token of theirs revoked."""
    with people() as store:
        count = store.deactivate(username)
    typer.echo(f"{username} deactivated; {count} token{'s' if count != 1 else ''} revoked")


@users_app.command("revoke-token")
def revoke_token(token_id: int) -> None:
    """Revoke one token (ids are in `jiesu users list`)."""
    with people() as store:
        store.revoke_token(token_id)
    typer.echo(f"token {token_id} revoked")


def _lifetime(text: str) -> timedelta:
    """`90d` or `12h`: a whole, positive number of days or hours; else the command ends (exit code 2)."""
    units = {"d": timedelta(days=1), "h": timedelta(hours=1)}
    number, unit = text.strip()[:-1], text.strip()[-1:]
    if not (number.isdigit() and unit in units and 0 < int(number) <= 36_500):
        typer.echo(
            f"error: --expires {text!r}: expected a number of days or hours, e.g. 90d or 12h", err=True
        )
        raise typer.Exit(2)
    return int(number) * units[unit]


def _where(principal: Principal) -> list[tuple[str, str | None]]:
    return [("unit", principal.unit), ("post", principal.post), ("scope", principal.scope)]


def _line(person: Person) -> str:
    principal = person.principal
    where = ", ".join(f"{key} {value}" for key, value in _where(principal) if value) or "-"
    status = "active" if person.active else "deactivated"
    login = "password" if person.has_password else "tokens only"
    return f"{principal.username:<16} {principal.role:<10} {where:<36} {status:<11} {login:<11} {person.name}"


def _at(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}Z" if moment else "-"
