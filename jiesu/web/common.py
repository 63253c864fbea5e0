"""What the API's route modules share: the system and principal dependencies, the error responses,
and the shape of an action on a case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from dispatcher.bootstrap import System
from dispatcher.contract.events import ComplaintReceived
from dispatcher.domain import commands as c
from dispatcher.domain.access import Principal
from dispatcher.reads import cases
from dispatcher.reads import views as v
from dispatcher.reads.paging import MAX_CURSOR, CursorError, Page
from dispatcher.service.lifecycle import CaseNotFoundError
from jiesu.web import schemas as s

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
PAGED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A page of the list. When there is more, the next page's URL is in `Link` and its "
        "cursor in `X-Next-Cursor`.",
        "headers": {
            "Link": {
                "description": 'the next page: `<URL>; rel="next"` (the same query with its `cursor`)',
                "schema": {"type": "string"},
            },
            "X-Next-Cursor": {
                "description": "the cursor of the next page (absent on the last page)",
                "schema": {"type": "string"},
            },
        },
    },
}
CursorQuery = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR,
        description="where the page starts: the `X-Next-Cursor` of the previous page (none: the first page)",
    ),
]
Route = TypeVar("Route", bound=Callable[..., Any])
T = TypeVar("T")


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
        response_model=v.CaseView,
        responses=CASE_ERRORS,
        tags=[tag],
    )


def act(system: System, command: c.CaseCommand, principal: Principal) -> v.CaseView:
    system.bus.handle(command)
    return view_of(system, command.ticket_id, principal)


def paged(request: Request, response: Response, read: Callable[[], Page[T]]) -> list[T]:
    """The items of the page `read` reads; the next page's URL in `Link: <URL>; rel="next"` and its cursor in
    `X-Next-Cursor`. A cursor that is not this list's is refused like any invalid query parameter (422)."""
    try:
        page = read()
    except CursorError as error:
        cursor = request.query_params.get("cursor")
        problem = {"type": "value_error", "loc": ("query", "cursor"), "msg": str(error), "input": cursor}
        raise RequestValidationError([problem]) from None
    if page.next is not None:
        response.headers["Link"] = f'<{request.url.include_query_params(cursor=page.next)}>; rel="next"'
        response.headers["X-Next-Cursor"] = page.next
    return page.items


def view_of(system: System, ticket_id: str, principal: Principal) -> v.CaseView:
    view = cases.case_view(system.engine, ticket_id, principal.role, now=system.clock())
    if view is None:
        raise CaseNotFoundError(f"no case with ticket id {ticket_id}")
    return view
