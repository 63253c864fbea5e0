"""Authentication and permissions: one dependency, `allowed(action)`, declared by every route but the
health check and the login.

`Authorization: Bearer <token>`, the token from `POST /api/login` or `jiesu users token`. No token, or an
unknown or revoked one: 401 with `WWW-Authenticate: Bearer`. Authenticated but not allowed: 403 saying
why; on a case, the denial is appended to the case's audit trail (`denied:<action>`), elsewhere it is
logged. The rules themselves are in `dispatcher.domain.access`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, NoReturn

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dispatcher.adapters.people import PeopleStore
from dispatcher.bootstrap import System
from dispatcher.domain.access import Action, Denied, Principal, can_act, check_role
from dispatcher.domain.case import AuditEntry, CaseState
from dispatcher.service.lifecycle import CaseNotFoundError
from dispatcher.web import queries

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


def people_of(request: Request) -> PeopleStore:
    people: PeopleStore = request.app.state.people
    return people


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
        found = queries.case_access(system.engine, ticket_id)
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
    where = f"{request.method} {request.url.path} from {request.client.host if request.client else '?'}"
    if credentials is None:
        log.warning("unauthenticated: %s without a bearer token", where)
        raise NotAuthenticatedError("authentication required: send Authorization: Bearer <token>")
    principal = people_of(request).principal_for_token(credentials.credentials)
    if principal is None:
        log.warning("unauthenticated: %s with an unknown or revoked token", where)
        raise NotAuthenticatedError("the token is unknown or revoked", invalid_token=True)
    return principal


def log_in(request: Request, username: str, password: str) -> tuple[Principal, str]:
    """The person and a new token labelled "login"; a wrong username or password is a logged 401."""
    people = people_of(request)
    principal = people.verify_password(username, password)
    if principal is None:
        log.warning("login refused: %s from %s", username, request.client.host if request.client else "?")
        raise NotAuthenticatedError("wrong username or password")
    token_id, token = people.issue_token(principal.username, "login")
    log.info("login: %s (token %d)", principal.username, token_id)
    return principal, token


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
