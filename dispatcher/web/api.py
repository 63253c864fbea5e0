"""The case API: each route parses its body, builds a command, hands it to the bus and returns the case view.

Routes hold no lifecycle logic and catch no errors: `dispatcher.web.app` maps every `CaseError` (and an
unreachable intake topic, and a refused access) to its status in one place. Reads go straight to
`dispatcher.web.queries`. Every route but the login declares the `Action` it does through
`dispatcher.web.auth.allowed`, which authenticates the caller and checks the permission; the caller is the
one who acts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import APIRouter, Depends, Query, Request, status

from dispatcher.bootstrap import System
from dispatcher.contract.events import ComplaintReceived
from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Principal, visible_cases
from dispatcher.domain.case import CaseState
from dispatcher.domain.privacy import requester_view
from dispatcher.service.lifecycle import CaseNotFoundError
from dispatcher.web import queries
from dispatcher.web import schemas as s
from dispatcher.web.auth import ForbiddenError, allowed, log_in, record_reveal

HANDLER = (
    "Allowed: a worker of the unit the case is assigned to (at its post, if the worker has one), or an admin."
)
SUPERVISOR = "Allowed: a supervisor whose scope (a district, or the city) holds the case, or an admin."
AUTH: dict[int | str, dict[str, Any]] = {
    401: {"model": s.ErrorBody, "description": "No bearer token, or an unknown or revoked one."},
    403: {"model": s.ErrorBody, "description": "Not allowed; on a case, the denial is audited."},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **AUTH,
    404: {"model": s.ErrorBody, "description": "No such case."},
}
CASE_ERRORS: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: {"model": s.ConflictBody, "description": "Not allowed in the case's state, or changed meanwhile."},
    422: {"model": s.ValidationErrorBody, "description": "The body or the action's data is invalid."},
}
Route = TypeVar("Route", bound=Callable[..., Any])


class Intake(Protocol):
    def publish(self, complaint: ComplaintReceived) -> None:
        """Put the request on the intake topic, acknowledged by the broker, or raise
        `IntakeUnavailableError`."""


def current_system(request: Request) -> System:
    system: System = request.app.state.system
    return system


def current_intake(request: Request) -> Intake:
    intake: Intake = request.app.state.intake
    return intake


SystemDep = Annotated[System, Depends(current_system)]
router = APIRouter(prefix="/api")


def action(
    path: str, summary: str, description: str, who: str = HANDLER, tag: str = "case actions"
) -> Callable[[Route], Route]:
    """A POST on a case that answers with the updated case view."""
    return router.post(
        f"/cases/{{ticket_id}}/{path}",
        summary=summary,
        description=f"{description}\n\n{who} The caller is the one who acts.",
        response_model=s.CaseView,
        responses=CASE_ERRORS,
        tags=[tag],
    )


def _act(system: System, command: c.CaseCommand, principal: Principal) -> s.CaseView:
    system.bus.handle(command)
    return _view(system, command.ticket_id, principal)


def _view(system: System, ticket_id: str, principal: Principal) -> s.CaseView:
    view = queries.case_view(system.engine, ticket_id, principal.role)
    if view is None:
        raise CaseNotFoundError(f"no case with ticket id {ticket_id}")
    return view


@router.post(
    "/login",
    summary="Log in with a password; answers a bearer token",
    response_model=s.LoggedIn,
    responses={401: {"model": s.ErrorBody, "description": "Wrong username or password."}},
    tags=["access"],
)
def login(body: s.LoginBody, request: Request) -> s.LoggedIn:
    """For people with a password (`jiesu users add --password-stdin`). The token, labelled `login`, lasts
    until revoked (`jiesu users revoke-token ID`); systems get theirs from `jiesu users token`."""
    principal, token = log_in(request, body.username, body.password)
    return s.LoggedIn(token=token, username=principal.username, role=principal.role.value)


@router.post(
    "/complaints",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Receive a request (受理) from a hotline intake system",
    response_model=s.Accepted,
    responses={
        **AUTH,
        503: {"model": s.ErrorBody, "description": "The intake topic cannot be reached now."},
    },
    tags=["intake"],
)
def receive_complaint(
    complaint: ComplaintReceived,
    intake: Annotated[Intake, Depends(current_intake)],
    _: Annotated[Principal, Depends(allowed(Action.SUBMIT))],
) -> s.Accepted:
    """Publishes the request to the intake topic and answers once the broker has it; the case is opened
    and dispatched asynchronously. Posting the same body again is harmless (same event id).

    Allowed: an intake system, or an admin."""
    intake.publish(complaint)
    return s.Accepted(ticket_id=complaint.ticket_id)


@router.get(
    "/cases", summary="List cases", response_model=list[s.CaseSummary], responses=AUTH, tags=["cases"]
)
def list_cases(
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.LIST))],
    unit: Annotated[str | None, Query(description="the unit currently assigned")] = None,
    state: CaseState | None = None,
    overdue: Annotated[bool | None, Query(description="reply_due passed and not resolved/closed")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[s.CaseSummary]:
    """The cases the caller may see that match every filter given, oldest dispatch first: a worker's
    unit's (and those it co-handles), a supervisor's district's, or all (city supervisors, admins)."""
    return queries.cases(
        system.engine,
        now=system.clock(),
        visible=visible_cases(principal),
        unit=unit,
        state=state,
        overdue=overdue,
        limit=limit,
    )


@router.get(
    "/cases/{ticket_id}", summary="One case", response_model=s.CaseView, responses=NOT_FOUND, tags=["cases"]
)
def get_case(
    ticket_id: str, system: SystemDep, principal: Annotated[Principal, Depends(allowed(Action.READ))]
) -> s.CaseView:
    """The case with its assignment, deadlines, pending requests and the actions allowed now. The
    requester is shown masked to units (138****1234, 张*) and not at all if the request is confidential.

    Allowed: a worker of the case's unit or of a co-handling unit, a supervisor whose scope holds the
    case, or an admin."""
    return _view(system, ticket_id, principal)


@router.post(
    "/cases/{ticket_id}/reveal",
    summary="Reveal the requester's name and phone (audited)",
    response_model=s.RequesterView,
    responses=NOT_FOUND,
    tags=["cases"],
)
def reveal(
    ticket_id: str,
    request: Request,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.REVEAL))],
) -> s.RequesterView:
    """The requester unmasked, for a worker who must call back; the reveal is written to the case's audit
    trail. Refused (403) to units when the request is confidential.

    Allowed: a worker of the case's unit or of a co-handling unit, a supervisor whose scope holds the
    case, or an admin."""
    found = queries.requester(system.engine, ticket_id)
    if found is None:
        raise CaseNotFoundError(f"no case with ticket id {ticket_id}")
    stored, state = found
    shown = requester_view(stored, principal.role, revealed=True).requester
    if shown is None:
        raise ForbiddenError("the requester is hidden from you")
    record_reveal(request, principal, ticket_id, state)
    return queries.requester_model(shown)


@router.get(
    "/cases/{ticket_id}/timeline",
    summary="The audit trail of a case",
    response_model=list[s.AuditView],
    responses=NOT_FOUND,
    tags=["cases"],
)
def get_timeline(
    ticket_id: str, system: SystemDep, _: Annotated[Principal, Depends(allowed(Action.READ))]
) -> list[s.AuditView]:
    """Every dispatch, action and decision on the case, oldest first, with who, when and why; also
    every reveal of the requester and every denied attempt (`denied:<action>`).

    Allowed: as for the case itself."""
    entries = queries.timeline(system.engine, ticket_id)
    if entries is None:
        raise CaseNotFoundError(f"no case with ticket id {ticket_id}")
    return entries


@action("acknowledge", "Acknowledge (签收) a dispatched case", "The person on duty signs for the case.")
def acknowledge(
    ticket_id: str,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.ACKNOWLEDGE))],
    body: s.AcknowledgeBody | None = None,
) -> s.CaseView:
    return _act(system, c.AcknowledgeCase(ticket_id, principal.username), principal)


@action("contact", "Record contact with the requester", "May be recorded more than once.")
def contact(
    ticket_id: str,
    body: s.ContactBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.CONTACT))],
) -> s.CaseView:
    return _act(system, c.RecordContact(ticket_id, principal.username, note=body.note), principal)


@action("return", "Return (退单) a case", "The unit says the case is not its duty; the center arbitrates.")
def return_case(
    ticket_id: str,
    body: s.ReturnBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.RETURN))],
) -> s.CaseView:
    return _act(
        system,
        c.ReturnCase(ticket_id, principal.username, code=body.code.value, reason=body.reason),
        principal,
    )


@action("extension", "Request an extension (延期)", "A supervisor then approves or rejects it.")
def request_extension(
    ticket_id: str,
    body: s.ExtensionBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.EXTENSION))],
) -> s.CaseView:
    return _act(
        system,
        c.RequestExtension(ticket_id, principal.username, until=body.until, reason=body.reason),
        principal,
    )


@action("resolve", "Resolve (办结) a case", "The unit reports the result; the callback (回访) follows.")
def resolve(
    ticket_id: str,
    body: s.ResolveBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.RESOLVE))],
) -> s.CaseView:
    return _act(
        system,
        c.ResolveCase(
            ticket_id,
            principal.username,
            result=body.result,
            without_reports_reason=body.without_reports_reason,
        ),
        principal,
    )


@action(
    "arbitration",
    "Arbitrate a returned case (supervisor)",
    "Redispatch (to `unit`, or else to the rules' proposal) or reject the return.",
    SUPERVISOR,
    tag="supervisor",
)
def arbitrate(
    ticket_id: str,
    body: s.ArbitrationBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.ARBITRATE))],
) -> s.CaseView:
    command = c.Arbitrate(
        ticket_id,
        principal.username,
        decision=body.decision,
        unit=body.unit,
        post=body.post,
        reason=body.reason or "",
    )
    return _act(system, command, principal)


@action(
    "extension/decision",
    "Decide an extension request (supervisor)",
    "Approval moves `reply_due` (to `until`, or else to the date asked for); rejection keeps it.",
    SUPERVISOR,
    tag="supervisor",
)
def decide_extension(
    ticket_id: str,
    body: s.ExtensionDecisionBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.EXTENSION_DECISION))],
) -> s.CaseView:
    command = c.DecideExtension(
        ticket_id, principal.username, approve=body.approve, until=body.until, reason=body.reason or ""
    )
    return _act(system, command, principal)


@action(
    "dispatch",
    "Dispatch a queued case manually (supervisor)",
    "Sends a case waiting in a center queue to a unit (and post); may set its category.",
    SUPERVISOR,
    tag="supervisor",
)
def dispatch(
    ticket_id: str,
    body: s.DispatchBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.DISPATCH))],
) -> s.CaseView:
    command = c.DispatchManually(
        ticket_id,
        principal.username,
        unit=body.unit,
        post=body.post,
        category=body.category,
        reason=body.reason or "",
    )
    return _act(system, command, principal)


@router.get(
    "/queues/arbitration",
    summary="Returned cases awaiting arbitration",
    response_model=list[s.ReturnedCase],
    responses=AUTH,
    tags=["supervisor"],
)
def arbitration_queue(
    system: SystemDep, principal: Annotated[Principal, Depends(allowed(Action.QUEUES))]
) -> list[s.ReturnedCase]:
    """Each returned case (退单) with who returned it, why, and where the rules would send it instead.

    Allowed: supervisors (the cases in their scope) and admins."""
    visible = visible_cases(principal)
    return queries.arbitration_queue(system.engine, now=system.clock(), visible=visible)


@router.get(
    "/queues/triage",
    summary="Queued cases awaiting manual dispatch",
    response_model=list[s.CaseSummary],
    responses=AUTH,
    tags=["supervisor"],
)
def triage_queue(
    system: SystemDep, principal: Annotated[Principal, Depends(allowed(Action.QUEUES))]
) -> list[s.CaseSummary]:
    """Cases the rules could not send to a unit, with the queue each waits in.

    Allowed: supervisors (the cases in their scope) and admins."""
    visible = visible_cases(principal)
    return queries.triage_queue(system.engine, now=system.clock(), visible=visible)
