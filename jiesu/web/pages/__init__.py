"""The pages: server-rendered Jinja2 over the same queries and commands as the API, one module per role.
Workers get their inbox and case pages, supervisors a live dashboard and the dispatch desk, operators an
intake form. A session cookie logs in; every form carries a CSRF token; every refusal is shown in words,
never carried in a URL (a redirect's message rides in a one-time cookie). The pages' JavaScript is in
`static/`, none inline."""

from __future__ import annotations

from fastapi import APIRouter

from jiesu.web.pages import (
    desk,
    governance,
    intake,
    knowledge,
    login,
    merge,
    monthly,
    orders,
    supervisor,
    worker,
)
from jiesu.web.pages.base import STATIC, csrf_refused, login_required
from jiesu.web.session import CsrfError, LoginRequiredError

router = APIRouter(include_in_schema=False)
for part in (login, worker, supervisor, desk, intake, knowledge, monthly, orders, merge, governance):
    router.include_router(part.router)

__all__ = ["STATIC", "CsrfError", "LoginRequiredError", "csrf_refused", "login_required", "router"]
