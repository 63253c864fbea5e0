"""Authentication and permissions: one dependency, `allowed(action)`, declared by every API route but the
health check and the login (the pages check their session in `jiesu.web.session`, then the same rules).

`Authorization: Bearer <token>`, the token from `POST /api/login` or `jiesu users token`. No token, or an
unknown, revoked or expired one: 401 with `WWW-Authenticate: Bearer`. Authenticated but not allowed: 403
saying why; on a case, the denial is appended to the case's audit trail (`denied:<action>`), elsewhere it is
logged. The rules themselves are in `dispatcher.domain.access`.

Logins (the page's and `POST /api/login`) go through `check_password`: limited per account and per client
address (`jiesu.web.security.LoginLimiter`, 429), every failure logged at WARNING and every login at
INFO, with the username and the address, never the password.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, NoReturn

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dispatcher.adapters.people import SESSION, PeopleStore
from dispatcher.bootstrap import System
from dispatcher.domain.access import Action, Denied, Principal, can_act, check_role
from dispatcher.domain.case import AuditEntry, CaseState
from dispatcher.reads import cases
from dispatcher.service.lifecycle import CaseNotFoundError
from dispatcher.settings import Settings
from jiesu.web.security import LoginLimiter

log = logging.getLogger("jiesu.access")
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="A token from `POST /api/login` (people) or `jiesu users token` (people and systems).",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


class AccessError(Exception):
    """Base of the refusals by authentication and permissions."""


class NotAuthenticatedError(AccessError):
    """No valid credentials (HTTP 401)."""

    def __init__(self, detail: str, *, invalid_token: bool = False) -> None:
        super().__init__(detail)
        self.challenge = 'Bearer error="invalid_token"' if invalid_token else "Bearer"


class ForbiddenError(AccessError):
    """Authenticated, but not allowed (HTTP 403)."""


class TooManyLoginsError(AccessError):
    """Too many failed logins lately for the account or from the address (HTTP 429, `Retry-After`)."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        self.minutes = math.ceil(retry_after / 60)
        super().__init__(
            f"too many failed logins for this account or from this address: try again in {self.minutes} "
            f"minute{'s' if self.minutes != 1 else ''}"
        )


def people_of(request: Request) -> PeopleStore:
    people: PeopleStore = request.app.state.people
    return people


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy: as uvicorn's --forwarded-allow-ips
    lets it read X-Forwarded-For)."""
    return request.client.host if request.client else "?"


def allowed(action: Action) -> Callable[[Request, HTTPAuthorizationCredentials | None], Principal]:
    """The dependency of a route that does `action`: the authenticated principal, if it may."""

    def principal_allowed(request: Request, credentials: Credentials) -> Principal:
        principal = authenticate(request, credentials)
        ticket_id = request.path_params.get("ticket_id")
        denied = check_role(principal, action)
        if ticket_id is None:
            if denied is not None:
                _refuse(request, principal, action, denied)
            return principal
        system: System = request.app.state.system
        found = cases.case_access(system.engine, ticket_id)
        if found is None:
            if denied is not None:  # say "forbidden" before saying whether the case exists
                _refuse(request, principal, action, denied)
            raise CaseNotFoundError(f"no case with ticket id {ticket_id}")
        facts, state = found
        denied = can_act(principal, action, facts)
        if denied is not None:
            entry = AuditEntry(
                ticket_id, system.clock(), principal.username, f"denied:{action}", denied.reason, None, state
            )
            people_of(request).record_access(entry)
            _refuse(request, principal, action, denied)
        return principal

    return principal_allowed


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    where = f"{request.method} {request.url.path} from {client_address(request)}"
    if credentials is None:
        log.warning("unauthenticated: %s without a bearer token", where)
        raise NotAuthenticatedError("authentication required: send Authorization: Bearer <token>")
    principal = people_of(request).principal_for_token(credentials.credentials)
    if principal is None:
        log.warning("unauthenticated: %s with an unknown, revoked or expired token", where)
        raise NotAuthenticatedError("the token is unknown or revoked, or has expired", invalid_token=True)
    return principal


def check_password(request: Request, username: str, password: str, door: str) -> Principal | None:
    """The active person with this username and password, or None (a logged failure, counted against
    the account and the address). `TooManyLoginsError` if either has failed too often lately: then the
    password is not even checked. `door` says where, for the log: "page" or "api"."""
    limiter: LoginLimiter = request.app.state.logins
    address, who = client_address(request), _printable(username)
    wait = limiter.wait(username, address)
    if wait:
        log.warning(
            "login refused: %s from %s (%s): too many failed logins, %d s to wait", who, address, door, wait
        )
        raise TooManyLoginsError(wait)
    principal = people_of(request).verify_password(username, password)
    if principal is None:
        limiter.failed(username, address)
        log.warning("login refused: %s from %s (%s): wrong username or password", who, address, door)
        return None
    limiter.succeeded(username)
    return principal


def log_in(request: Request, username: str, password: str) -> tuple[Principal, str]:
    """The person and a new token labelled "login"; a wrong username or password is a logged 401, too
    many of them a 429."""
    principal = check_password(request, username, password, "api")
    if principal is None:
        raise NotAuthenticatedError("wrong username or password")
    return principal, login_token(request, principal, "api")


def login_token(request: Request, principal: Principal, door: str) -> str:
    """The token of a login that succeeded, logged: at the page, a web session's (label `SESSION`,
    `session_hours`, and the store ends it after `session_idle_minutes` unused); at the API, one labelled
    "login" that lasts `api_login_hours`."""
    settings, system = settings_of(request), request.app.state.system
    label, hours = (
        (SESSION, settings.session_hours) if door == "page" else ("login", settings.api_login_hours)
    )
    expires = system.clock() + timedelta(hours=hours)
    token_id, token = people_of(request).issue_token(principal.username, label, expires_at=expires)
    address = client_address(request)
    log.info(
        "login: %s from %s (%s): token %d until %s", principal.username, address, door, token_id, expires
    )
    return token


def _printable(username: str) -> str:
    """A typed username as it may go into the log: cut, and no line breaks or other control characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in username[:64])


def record_reveal(request: Request, principal: Principal, ticket_id: str, state: CaseState) -> None:
    """A reveal of the requester's name and phone, in the case's audit trail."""
    system: System = request.app.state.system
    reason = "the requester's name and phone were shown unmasked"
    entry = AuditEntry(ticket_id, system.clock(), principal.username, "reveal", reason, None, state)
    people_of(request).record_access(entry)


def _refuse(request: Request, principal: Principal, action: Action, denied: Denied) -> NoReturn:
    log.warning(
        "denied: %s (%s) may not %s on %s: %s",
        principal.username,
        principal.role,
        action,
        request.url.path,
        denied.reason,
    )
    raise ForbiddenError(denied.reason)
