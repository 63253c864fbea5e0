"""What every page shares: rendering a template with the viewer's words and one-time message, the redirect
that carries a message in a cookie, and running a form's command on a case after checking the viewer's
right to (a denial audited)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from dispatcher.bootstrap import System
from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Principal, Role, can_act
from dispatcher.domain.case import AuditEntry, CaseError
from dispatcher.reads import cases
from dispatcher.reads.names import Names, catalog_of
from jiesu.web.auth import people_of
from jiesu.web.common import current_system
from jiesu.web.i18n import words
from jiesu.web.session import (
    COOKIE,
    check_csrf,
    csrf_token,
    current,
    language_of,
)
from jiesu.web.wording import install, when
from sla.calendar import BEIJING

templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")
install(templates.env)  # the filters of names and words: {{ case.state|state }}, {{ unit_id|unit }}...
STATIC = Path(__file__).parent.parent / "static"  # the pages' scripts, served at /static (jiesu.web.app)
FLASH = "jiesu_flash"  # "ok:<message>" or "error:<message>", shown by the next page, then deleted
HOME = {
    Role.WORKER: "/inbox",
    Role.SUPERVISOR: "/dashboard",
    Role.INTAKE: "/intake",
    Role.ADMIN: "/dashboard",
}
Me = Annotated[Principal, Depends(current)]
SystemDep = Annotated[System, Depends(current_system)]


def page(
    request: Request, name: str, principal: Principal | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    language = language_of(request)
    kind, _, said = unquote(request.cookies.get(FLASH, "")).partition(":")
    system = current_system(request)
    this_year = system.clock().astimezone(BEIJING).year
    response = templates.TemplateResponse(
        request,
        name,
        {
            "w": words(language),
            "language": language,
            "me": principal,
            "csrf": csrf_token(request),
            "flash": said if kind == "ok" else None,
            "error": said if kind == "error" else None,
            "local": lambda moment: when(moment, this_year),  # with the year when it is not this one
            "this_year": this_year,
            "names": names_of(system),  # ids to names; a page may pass its own (with accounts' names)
            **context,
        },
        status_code=status_code,
    )
    if FLASH in request.cookies:
        response.delete_cookie(FLASH, path="/")
    return response


def names_of(system: System) -> Names:
    """Names for ids from the catalog the system routes with now (`dispatcher.reads.names`)."""
    return Names(catalog_of(system.router))


def words_of(request: Request) -> dict[str, str]:
    return words(language_of(request))


def forbidden(request: Request, me: Principal, detail: str) -> HTMLResponse:
    return page(request, "message.html", me, 403, title=words_of(request)["forbidden"], detail=detail)


def back(path: str, *, ok: str | None = None, error: str | None = None) -> RedirectResponse:
    """303 to `path`, the message for the next page in a one-minute cookie: a URL would carry it into
    access logs and browser history, and a refusal may quote what was typed."""
    response = RedirectResponse(path, status_code=303)
    if ok or error:
        said = f"ok:{ok}" if ok else f"error:{error}"
        response.set_cookie(FLASH, quote(said[:500], safe=""), max_age=60, httponly=True, samesite="lax")
    return response


Build = Callable[[str, str, dict[str, str]], c.CaseCommand]


async def submit(
    request: Request, ticket_id: str, me: Principal, system: System, needed: Action, build: Build, where: str
) -> Response:
    """A form that acts on a case: its CSRF token checked, the person's right to act checked (a denial
    audited), the command run, and back to `where` with "saved" or the refusal in words."""
    form = {key: str(value) for key, value in (await request.form()).items()}
    check_csrf(request, form.get("csrf"))
    denied = may(request, me, needed, ticket_id, system)
    if denied is not None:
        return denied
    return run_command(system, lambda: build(ticket_id, me.username, form), where, request)


def run_command(system: System, build: Callable[[], c.CaseCommand], where: str, request: Request) -> Response:
    try:
        system.bus.handle(build())
    except CaseError as error:
        return back(where, error=str(error))
    return back(where, ok=words_of(request)["saved"])


def may(
    request: Request, me: Principal, action: Action, ticket_id: str, system: System
) -> HTMLResponse | None:
    """None if `me` may do `action` on the case, else the page saying why (a denial is audited)."""
    found = cases.case_access(system.engine, ticket_id)
    w = words_of(request)
    if found is None:
        return page(request, "message.html", me, 404, title=w["not_found"], detail=ticket_id)
    denied = can_act(me, action, found[0])
    if denied is None:
        return None
    entry = AuditEntry(
        ticket_id, system.clock(), me.username, f"denied:{action}", denied.reason, None, found[1]
    )
    people_of(request).record_access(entry)
    return forbidden(request, me, denied.reason)


def login_required(_: Request, __: Exception) -> Response:
    """To the login form, dropping the cookie of a session that ended (expired, idle, revoked)."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def csrf_refused(request: Request, error: Exception) -> Response:
    return page(request, "message.html", None, 403, title="CSRF", detail=str(error))
