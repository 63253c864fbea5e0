"""People, systems and their tokens in the database; access entries (denials, reveals) in the audit trail.

Passwords are hashed with argon2id (argon2-cffi's current defaults) and re-hashed when those change.
Tokens are 256 random bits, shown once; only their SHA-256 is stored (a fast hash suits a secret that
cannot be guessed), so a stolen table gives no usable token. A revoked token, a token past its
`expires_at`, a web session's token left unused for longer than the idle timeout, or any token of a
deactivated person, authenticates nobody.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError

from dispatcher.adapters import tables as t
from dispatcher.adapters.database import reading
from dispatcher.domain.access import PersonError, Principal, Role
from dispatcher.domain.case import AuditEntry
from sla.calendar import Clock

MIN_PASSWORD = 8
P, T = t.people, t.tokens
SESSION = "web session"  # the label of a page login's token: it also ends when left idle
# A token's last use is written at most once a minute: a page or API request then only reads, and on SQLite
# it does not wait for the write lock behind the worker's batches. A session left idle ends at most a
# minute early.
NOTE_USE_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Token:
    id: int
    label: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Person:
    principal: Principal
    name: str
    active: bool
    has_password: bool
    created_at: datetime
    tokens: list[Token] = field(default_factory=list)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PeopleStore:
    """Accounts and tokens. Every method is one transaction of its own.

    `session_idle`: a web session's token (label `SESSION`) unused for that long authenticates nobody any
    more, whoever presents it (None: no idle timeout)."""

    def __init__(self, engine: Engine, clock: Clock, *, session_idle: timedelta | None = None) -> None:
        self._engine, self._clock, self._session_idle = engine, clock, session_idle
        self._hasher = PasswordHasher()
        self._dummy: str | None = None

    def add(self, principal: Principal, name: str, password: str | None = None) -> None:
        """Raises `PersonError` when the name is empty, the password too short or the username taken."""
        if not name.strip():
            raise PersonError(f"{principal.username} needs a name (--name)")
        if password is not None and len(password) < MIN_PASSWORD:
            raise PersonError(f"the password needs at least {MIN_PASSWORD} characters")
        values = {
            **asdict(principal),
            "role": principal.role.value,
            "name": name.strip(),
            "password_hash": self._hasher.hash(password) if password is not None else None,
            "active": True,
            "created_at": self._clock(),
        }
        try:
            with self._engine.begin() as connection:
                connection.execute(insert(P).values(values))
        except IntegrityError:
            raise PersonError(f"username {principal.username} is taken") from None

    def place(self, principal: Principal, name: str) -> bool:
        """Give an existing account this role, unit, post, scope and name (its password and tokens stay);
        False if there is no such account."""
        values = {**asdict(principal), "role": principal.role.value, "name": name.strip()}
        with self._engine.begin() as connection:
            found = connection.execute(update(P).where(P.c.username == principal.username).values(values))
        return found.rowcount == 1

    def people(self) -> list[Person]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(P).order_by(P.c.username)).mappings().all()
            tokens = connection.execute(select(T).order_by(T.c.id)).mappings().all()
        return [
            Person(
                _principal(row),
                row["name"],
                row["active"],
                row["password_hash"] is not None,
                row["created_at"],
                [_token(token) for token in tokens if token["username"] == row["username"]],
            )
            for row in rows
        ]

    def deactivate(self, username: str) -> int:
        """The person can no longer log in and every token of theirs is revoked; returns how many."""
        with self._engine.begin() as connection:
            found = connection.execute(update(P).where(P.c.username == username).values(active=False))
            if found.rowcount != 1:
                raise PersonError(f"no person or system named {username}")
            revoked = connection.execute(
                update(T)
                .where(T.c.username == username, T.c.revoked_at.is_(None))
                .values(revoked_at=self._clock())
            )
        return revoked.rowcount

    def issue_token(self, username: str, label: str, expires_at: datetime | None = None) -> tuple[int, str]:
        """A new token for an active person: (its id, the token itself, which is not stored). It
        authenticates until `expires_at` (None: until revoked)."""
        token = secrets.token_urlsafe(32)
        with self._engine.begin() as connection:
            active = connection.execute(select(P.c.active).where(P.c.username == username)).scalar()
            if active is None:
                raise PersonError(f"no person or system named {username}")
            if not active:
                raise PersonError(f"{username} is deactivated")
            now = self._clock()
            if expires_at is not None and expires_at <= now:
                raise PersonError(f"the token would expire at once ({expires_at:%Y-%m-%d %H:%M %z})")
            values = {"token_hash": hash_token(token), "username": username, "label": label}
            inserted = connection.execute(insert(T).values(**values, created_at=now, expires_at=expires_at))
            key = inserted.inserted_primary_key
        assert key is not None
        return int(key[0]), token

    def revoke_token(self, token_id: int) -> None:
        with self._engine.begin() as connection:
            revoked = connection.execute(
                update(T).where(T.c.id == token_id, T.c.revoked_at.is_(None)).values(revoked_at=self._clock())
            )
        if revoked.rowcount != 1:
            raise PersonError(f"no unrevoked token with id {token_id}")

    def revoke(self, token: str) -> None:
        """Revoke a token by its value (a web session's at logout); an unknown one is ignored."""
        with self._engine.begin() as connection:
            connection.execute(
                update(T)
                .where(T.c.token_hash == hash_token(token), T.c.revoked_at.is_(None))
                .values(revoked_at=self._clock())
            )

    def principal_for_token(self, token: str) -> Principal | None:
        """Who this token authenticates (and note that it was used), or None: unknown, revoked or expired
        token, a web session idle for too long, or a deactivated person."""
        query = (
            select(
                P,
                T.c.id.label("token_id"),
                T.c.label,
                T.c.created_at.label("issued_at"),
                T.c.last_used_at,
                T.c.expires_at,
            )
            .join(T, T.c.username == P.c.username)
            .where(T.c.token_hash == hash_token(token), T.c.revoked_at.is_(None), P.c.active.is_(True))
        )
        now = self._clock()
        with reading(self._engine) as connection:
            row = connection.execute(query).mappings().first()
        if row is None or not self._alive(row, now):
            return None
        if row["last_used_at"] is None or now - row["last_used_at"] >= NOTE_USE_EVERY:
            with self._engine.begin() as connection:
                connection.execute(update(T).where(T.c.id == row["token_id"]).values(last_used_at=now))
        return _principal(row)

    def _alive(self, row: RowMapping, now: datetime) -> bool:
        """Not past its expiry, and, for a web session, used within the idle timeout."""
        if row["expires_at"] is not None and now >= row["expires_at"]:
            return False
        if row["label"] == SESSION and self._session_idle is not None:
            last: datetime = row["last_used_at"] or row["issued_at"]
            return now - last < self._session_idle
        return True

    def verify_password(self, username: str, password: str) -> Principal | None:
        """The active person with this username and password, or None. Takes as long for an unknown
        username as for a wrong password, so the answer does not tell which usernames exist."""
        with self._engine.connect() as connection:
            row = (
                connection.execute(select(P).where(P.c.username == username, P.c.active.is_(True)))
                .mappings()
                .first()
            )
        stored = row["password_hash"] if row is not None else None
        try:
            self._hasher.verify(stored or self._dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or stored is None:
            return None
        if self._hasher.check_needs_rehash(stored):
            with self._engine.begin() as connection:
                new_hash = self._hasher.hash(password)
                connection.execute(update(P).where(P.c.username == username).values(password_hash=new_hash))
        return _principal(row)

    def record_access(self, entry: AuditEntry) -> None:
        """An entry that changes no case (a denial, a reveal), appended to the case's audit trail."""
        with self._engine.begin() as connection:
            connection.execute(insert(t.audit).values(asdict(entry)))

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy


def _principal(row: RowMapping) -> Principal:
    return Principal(row["username"], Role(row["role"]), row["unit"], row["post"], row["scope"])


def _token(row: RowMapping) -> Token:
    return Token(
        row["id"], row["label"], row["created_at"], row["revoked_at"], row["last_used_at"], row["expires_at"]
    )
