"""并案 over HTTP: a supervisor merges cases about one incident into a main case, or undoes a merge."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import Field, StringConstraints

from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Principal, can_act
from dispatcher.domain.case import AuditEntry
from dispatcher.reads import cases
from dispatcher.reads import views as v
from dispatcher.service.merging import MAX_TICKETS
from jiesu.web import schemas as s
from jiesu.web.auth import ForbiddenError, allowed, people_of
from jiesu.web.common import SUPERVISOR, SystemDep, act, case_action

router = APIRouter(prefix="/api")
Ticket = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
]


class MergeBody(s.Body):
    """The tickets to merge into the main case, and why."""

    tickets: list[Ticket] = Field(min_length=1, max_length=MAX_TICKETS, description="the tickets to merge")
    reason: s.Words = Field(description="why they are one incident (kept in the audit trail)")


@case_action(
    router,
    "merge",
    "Merge cases into this main case, 并案 (supervisor)",
    "The tickets named follow this case from now on: their own deadlines stand down; when this case is "
    "resolved each is resolved with it, at its unit, and each requester is called back (each callback "
    "counts for that unit). All or none: one ticket refused (not found, not open, the main case of others, "
    "outside the caller's scope) refuses them all. A ticket already merged into this case is left as it is. "
    "Answers with the main case, its merged cases listed in `merged`.",
    SUPERVISOR + " The scope must hold every ticket named too.",
    tag="supervisor",
)
def merge(
    ticket_id: str,
    body: MergeBody,
    request: Request,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.MERGE))],
) -> v.CaseView:
    for ticket in body.tickets:
        _check(request, principal, ticket)
    command = c.MergeCases(ticket_id, principal.username, tickets=tuple(body.tickets), reason=body.reason)
    return act(system, command, principal)


@case_action(
    router,
    "unmerge",
    "Undo the merge of this case into its main case (supervisor)",
    "Only while the main case is not yet resolved: the case is handled on its own again, in the state it "
    "was merged from, its open deadlines moved by the time it was merged.",
    SUPERVISOR,
    tag="supervisor",
)
def unmerge(
    ticket_id: str,
    body: s.ReasonBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.MERGE))],
) -> v.CaseView:
    return act(system, c.UnmergeCase(ticket_id, principal.username, reason=body.reason), principal)


def _check(request: Request, principal: Principal, ticket: str) -> None:
    """The caller may merge this ticket too (its district within the scope); a denial is audited. A ticket
    that does not exist is left to the command, which refuses it (404)."""
    system = request.app.state.system
    found = cases.case_access(system.engine, ticket)
    if found is None:
        return
    denied = can_act(principal, Action.MERGE, found[0])
    if denied is not None:
        entry = AuditEntry(
            ticket, system.clock(), principal.username, "denied:merge", denied.reason, None, found[1]
        )
        people_of(request).record_access(entry)
        raise ForbiddenError(f"{ticket}: {denied.reason}")
