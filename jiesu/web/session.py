"""Web sessions for the pages: a login token in an HttpOnly, SameSite cookie, and a CSRF token on every
form (an HMAC of the session, so it needs no storage and dies with the session). The session's token
ends `session_hours` after the login and after `session_idle_minutes` without a request
(`dispatcher.adapters.people.PeopleStore.principal_for_token`); logging out revokes it."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request
from fastapi.responses import RedirectResponse

from dispatcher.domain.access import Principal
from jiesu.web.auth import people_of

COOKIE = "jiesu_session"
LOGIN_CSRF = "jiesu_login_csrf"
LANGUAGE = "jiesu_lang"
LANGUAGES = ("zh", "en")  # what the pages speak; the first unless the cookie chose another


class LoginRequiredError(Exception):
    """No session, or an expired or revoked one: the page sends the browser to the login form."""


class CsrfError(Exception):
    """A form came without the right CSRF token (HTTP 403)."""


def current(request: Request) -> Principal:
    """The person of the session cookie, or `LoginRequiredError`."""
    token = request.cookies.get(COOKIE)
    principal = people_of(request).principal_for_token(token) if token else None
    if principal is None:
        raise LoginRequiredError
    return principal


def language_of(request: Request) -> str:
    """The viewer's language: the cookie's, if the pages speak it (a cookie is the client's to send, and
    the language keys what is kept per language, such as the dashboard's charts), else Chinese."""
    chosen = request.cookies.get(LANGUAGE, LANGUAGES[0])
    return chosen if chosen in LANGUAGES else LANGUAGES[0]


def csrf_token(request: Request, *, login: bool = False) -> str:
    """The token of the browser's session (or, before login, of its login cookie); empty without either:
    a form posted without a cookie of ours is refused whatever token it carries. The login form's is
    always the login cookie's: a session cookie left from an expired session must not spoil it."""
    if login:
        session = request.cookies.get(LOGIN_CSRF)
    else:
        session = request.cookies.get(COOKIE) or request.cookies.get(LOGIN_CSRF)
    return hmac.new(session.encode(), b"csrf", hashlib.sha256).hexdigest() if session else ""


def check_csrf(request: Request, submitted: str | None, *, login: bool = False) -> None:
    expected = csrf_token(request, login=login)
    if not (submitted and expected and hmac.compare_digest(submitted, expected)):
        raise CsrfError("the form is stale or did not come from this site: reload the page and try again")


def start(response: RedirectResponse, token: str, secure: bool) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=secure, path="/")
    response.delete_cookie(LOGIN_CSRF, path="/")


def new_login_csrf() -> tuple[str, str]:
    """For the login form (no session yet): a random cookie value and the form token derived from it."""
    value = secrets.token_urlsafe(32)
    return value, hmac.new(value.encode(), b"csrf", hashlib.sha256).hexdigest()
