"""The case API: each route parses its body, builds a command, hands it to the bus and returns the case view.

Routes hold no lifecycle logic and catch no errors: `dispatcher.web.app` maps every `CaseError` (and an
unreachable intake topic) to its status in one place. Reads go straight to `dispatcher.web.queries`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import APIRouter, Depends, Query, Request, status

from dispatcher.bootstrap import System
from dispatcher.contract.events import ComplaintReceived
from dispatcher.domain import commands as c
from dispatcher.domain.case import CaseState
from dispatcher.service.lifecycle import CaseNotFoundError
from dispatcher.web import queries
from dispatcher.web import schemas as s

ON_TRUST = (
    "`by` names the person acting. It is taken on trust for now: authentication and permissions "
    "(unit staff, supervisors) come later."
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": s.ErrorBody, "description": "No such case."}}
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


def action(path: str, summary: str, description: str, tag: str = "case actions") -> Callable[[Route], Route]:
    """A POST on a case that answers with the updated case view."""
    return router.post(
        f"/cases/{{ticket_id}}/{path}",
        summary=summary,
        description=f"{description}\n\n{ON_TRUST}",
        response_model=s.CaseView,
        responses=CASE_ERRORS,
        tags=[tag],
    )


def _act(system: System, command: c.CaseCommand) -> s.CaseView:
    system.bus.handle(command)
    return _view(system, command.ticket_id)


def _view(system: System, ticket_id: str) -> s.CaseView:
    view = queries.case_view(system.engine, ticket_id)
    if view is None:
        raise CaseNotFoundError(f"no case with ticket id {ticket_id}")
    return view


@router.post(
    "/complaints",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Receive a request (受理) from a hotline intake system",
    response_model=s.Accepted,
    responses={503: {"model": s.ErrorBody, "description": "The intake topic cannot be reached now."}},
    tags=["intake"],
)
def receive_complaint(
    complaint: ComplaintReceived, intake: Annotated[Intake, Depends(current_intake)]
) -> s.Accepted:
    """Publishes the request to the intake topic and answers once the broker has it; the case is opened
    and dispatched asynchronously. Posting the same body again is harmless (same event id)."""
    intake.publish(complaint)
    return s.Accepted(ticket_id=complaint.ticket_id)


@router.get("/cases", summary="List cases", response_model=list[s.CaseSummary], tags=["cases"])
def list_cases(
    system: SystemDep,
    unit: Annotated[str | None, Query(description="the unit currently assigned")] = None,
    state: CaseState | None = None,
    overdue: Annotated[bool | None, Query(description="reply_due passed and not resolved/closed")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[s.CaseSummary]:
    """Cases matching every filter given, oldest dispatch first."""
    return queries.cases(
        system.engine, now=system.clock(), unit=unit, state=state, overdue=overdue, limit=limit
    )


@router.get(
    "/cases/{ticket_id}", summary="One case", response_model=s.CaseView, responses=NOT_FOUND, tags=["cases"]
)
def get_case(ticket_id: str, system: SystemDep) -> s.CaseView:
    """The case with its assignment, deadlines, pending requests and the actions allowed now."""
    return _view(system, ticket_id)


@router.get(
    "/cases/{ticket_id}/timeline",
    summary="The audit trail of a case",
    response_model=list[s.AuditView],
    responses=NOT_FOUND,
    tags=["cases"],
)
def get_timeline(ticket_id: str, system: SystemDep) -> list[s.AuditView]:
    """Every dispatch, action and decision on the case, oldest first, with who, when and why."""
    entries = queries.timeline(system.engine, ticket_id)
    if entries is None:
        raise CaseNotFoundError(f"no case with ticket id {ticket_id}")
    return entries


@action("acknowledge", "Acknowledge (签收) a dispatched case", "The person on duty signs for the case.")
def acknowledge(ticket_id: str, body: s.ActorBody, system: SystemDep) -> s.CaseView:
    return _act(system, c.AcknowledgeCase(ticket_id, body.by))


@action("contact", "Record contact with the requester", "May be recorded more than once.")
def contact(ticket_id: str, body: s.ContactBody, system: SystemDep) -> s.CaseView:
    return _act(system, c.RecordContact(ticket_id, body.by, note=body.note))


@action("return", "Return (退单) a case", "The unit says the case is not its duty; the center arbitrates.")
def return_case(ticket_id: str, body: s.ReturnBody, system: SystemDep) -> s.CaseView:
    return _act(system, c.ReturnCase(ticket_id, body.by, code=body.code.value, reason=body.reason))


@action("extension", "Request an extension (延期)", "A supervisor then approves or rejects it.")
def request_extension(ticket_id: str, body: s.ExtensionBody, system: SystemDep) -> s.CaseView:
    return _act(system, c.RequestExtension(ticket_id, body.by, until=body.until, reason=body.reason))


@action("resolve", "Resolve (办结) a case", "The unit reports the result; the callback (回访) follows.")
def resolve(ticket_id: str, body: s.ResolveBody, system: SystemDep) -> s.CaseView:
    return _act(system, c.ResolveCase(ticket_id, body.by, result=body.result))


@action(
    "arbitration",
    "Arbitrate a returned case (supervisor)",
    "Redispatch (to `unit`, or else to the rules' proposal) or reject the return.",
    tag="supervisor",
)
def arbitrate(ticket_id: str, body: s.ArbitrationBody, system: SystemDep) -> s.CaseView:
    command = c.Arbitrate(
        ticket_id, body.by, decision=body.decision, unit=body.unit, post=body.post, reason=body.reason or ""
    )
    return _act(system, command)


@action(
    "extension/decision",
    "Decide an extension request (supervisor)",
    "Approval moves `reply_due` (to `until`, or else to the date asked for); rejection keeps it.",
    tag="supervisor",
)
def decide_extension(ticket_id: str, body: s.ExtensionDecisionBody, system: SystemDep) -> s.CaseView:
    command = c.DecideExtension(
        ticket_id, body.by, approve=body.approve, until=body.until, reason=body.reason or ""
    )
    return _act(system, command)


@action(
    "dispatch",
    "Dispatch a queued case manually (supervisor)",
    "Sends a case waiting in a center queue to a unit (and post); may set its category.",
    tag="supervisor",
)
def dispatch(ticket_id: str, body: s.DispatchBody, system: SystemDep) -> s.CaseView:
    command = c.DispatchManually(
        ticket_id, body.by, unit=body.unit, post=body.post, category=body.category, reason=body.reason or ""
    )
    return _act(system, command)


@router.get(
    "/queues/arbitration",
    summary="Returned cases awaiting arbitration",
    response_model=list[s.ReturnedCase],
    tags=["supervisor"],
)
def arbitration_queue(system: SystemDep) -> list[s.ReturnedCase]:
    """Each returned case (退单) with who returned it, why, and where the rules would send it instead."""
    return queries.arbitration_queue(system.engine, now=system.clock())


@router.get(
    "/queues/triage",
    summary="Queued cases awaiting manual dispatch",
    response_model=list[s.CaseSummary],
    tags=["supervisor"],
)
def triage_queue(system: SystemDep) -> list[s.CaseSummary]:
    """Cases the rules could not send to a unit, with the queue each waits in."""
    return queries.triage_queue(system.engine, now=system.clock())
