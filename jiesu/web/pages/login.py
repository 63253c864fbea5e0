"""Logging in and out, the language, and the home page of each role."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jiesu.web.auth import TooManyLoginsError, check_password, login_token, people_of
from jiesu.web.pages.base import (
    HOME,
    Me,
    page,
    words_of,
)
from jiesu.web.session import (
    COOKIE,
    LANGUAGE,
    LOGIN_CSRF,
    check_csrf,
    csrf_token,
    new_login_csrf,
    start,
)

router = APIRouter(include_in_schema=False)


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    """The form, with a new login cookie its CSRF token is derived from."""
    value, token = new_login_csrf()
    response = page(request, "login.html", None, csrf=token)
    response.set_cookie(
        LOGIN_CSRF, value, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response


@router.post("/login")
def log_in(
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """A wrong password: the form again (401); too many lately for the account or the address: the form
    with how long to wait (429, `Retry-After`); else a session (`auth.login_token`)."""
    check_csrf(request, csrf, login=True)
    w, form = words_of(request), csrf_token(request, login=True)
    try:
        principal = check_password(request, username.strip(), password, "page")
    except TooManyLoginsError as error:
        held = page(
            request,
            "login.html",
            None,
            429,
            csrf=form,
            error=w["too_many_logins"].format(minutes=error.minutes),
        )
        held.headers["Retry-After"] = str(error.retry_after)
        return held
    if principal is None:
        return page(request, "login.html", None, 401, csrf=form, error=w["wrong_login"])
    token = login_token(request, principal, "page")
    response = RedirectResponse(HOME[principal.role], status_code=303)
    start(response, token, request.url.scheme == "https")
    return response


@router.post("/logout")
def log_out(request: Request, me: Me, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    token = request.cookies.get(COOKIE)
    if token:
        people_of(request).revoke(token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/lang/{language}")
def choose_language(request: Request, language: str) -> Response:
    """Back to the page it was chosen on: the path of the Referer (sent within this site only), never
    another site."""
    referer = urlsplit(request.headers.get("referer") or "/")
    where = referer.path + (f"?{referer.query}" if referer.query else "")
    if not where.startswith("/") or where[1:2] in ("/", "\\"):
        where = "/"
    response = RedirectResponse(where, status_code=303)
    response.set_cookie(LANGUAGE, "en" if language == "en" else "zh", samesite="lax", path="/")
    return response


@router.get("/")
def home(me: Me) -> Response:
    return RedirectResponse(HOME[me.role], status_code=303)
