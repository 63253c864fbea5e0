"""What the API's route modules share: the system and principal dependencies, the error responses,
and the shape of an action on a case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import APIRouter, Depends, Request

from dispatcher.bootstrap import System
from dispatcher.contract.events import ComplaintReceived
from dispatcher.domain import commands as c
from dispatcher.domain.access import Principal
from dispatcher.service.lifecycle import CaseNotFoundError
from dispatcher.web import queries
from dispatcher.web import schemas as s

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


def case_action(
    router: APIRouter,
    path: str,
    summary: str,
    description: str,
    who: str = HANDLER,
    tag: str = "case actions",
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


def act(system: System, command: c.CaseCommand, principal: Principal) -> s.CaseView:
    system.bus.handle(command)
    return view_of(system, command.ticket_id, principal)


def view_of(system: System, ticket_id: str, principal: Principal) -> s.CaseView:
    view = queries.case_view(system.engine, ticket_id, principal.role, now=system.clock())
    if view is None:
        raise CaseNotFoundError(f"no case with ticket id {ticket_id}")
    return view
