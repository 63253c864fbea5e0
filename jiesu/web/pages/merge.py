"""并案 on the case page: a supervisor merges tickets into the case shown, or undoes the merge of the case
shown (the same commands as `POST /api/cases/{main}/merge` and `.../unmerge`)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dispatcher.domain import commands as c
from dispatcher.domain.access import Action
from jiesu.web.pages.base import Me, SystemDep, back, may, run_command
from jiesu.web.session import check_csrf

router = APIRouter(include_in_schema=False)
SEPARATORS = re.compile(r"[\s,，、;；]+")


@router.post("/cases/{ticket_id}/merge")
async def merge(request: Request, ticket_id: str, me: Me, system: SystemDep) -> Response:
    """The tickets of the form (separated by spaces, commas or lines) merged into this case."""
    form = {key: str(value) for key, value in (await request.form()).items()}
    check_csrf(request, form.get("csrf"))
    tickets = tuple(ticket for ticket in SEPARATORS.split(form.get("tickets", "")) if ticket)
    for ticket in (ticket_id, *tickets):
        denied = may(request, me, Action.MERGE, ticket, system)
        if denied is not None:
            return denied
    reason = form.get("reason", "").strip()
    command = c.MergeCases(ticket_id, me.username, tickets=tickets, reason=reason)
    return run_command(system, lambda: command, f"/cases/{ticket_id}", request)


@router.post("/cases/{ticket_id}/unmerge")
async def unmerge(request: Request, ticket_id: str, me: Me, system: SystemDep) -> Response:
    form = {key: str(value) for key, value in (await request.form()).items()}
    check_csrf(request, form.get("csrf"))
    denied = may(request, me, Action.MERGE, ticket_id, system)
    if denied is not None:
        return denied
    if not form.get("reason", "").strip():
        return back(f"/cases/{ticket_id}", error="un-merging needs a reason")
    command = c.UnmergeCase(ticket_id, me.username, reason=form["reason"].strip())
    return run_command(system, lambda: command, f"/cases/{ticket_id}", request)
