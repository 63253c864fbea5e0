"""The case API: each route parses its body, builds a command, hands it to the bus and returns the case view.

Routes hold no lifecycle logic and catch no errors: `jiesu.web.app` maps every `CaseError` (and an
unreachable intake topic, and a refused access) to its status in one place. Reads go straight to
`dispatcher.reads`. Every route but the login declares the `Action` it does through
`jiesu.web.auth.allowed`, which authenticates the caller and checks the permission; the caller is the
one who acts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from dispatcher.contract.events import ComplaintReceived
from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Principal, visible_cases
from dispatcher.domain.case import CaseState
from dispatcher.domain.privacy import requester_view
from dispatcher.reads import cases, notifications, timeline
from dispatcher.reads import views as v
from dispatcher.service.lifecycle import CaseNotFoundError
from jiesu.web import schemas as s
from jiesu.web.auth import ForbiddenError, allowed, log_in, record_reveal
from jiesu.web.common import (
    AUTH,
    NOT_FOUND,
    PAGED,
    SUPERVISOR,
    CursorQuery,
    Intake,
    SystemDep,
    act,
    case_action,
    current_intake,
    paged,
    view_of,
)

router = APIRouter(prefix="/api")


@router.post(
    "/login",
    summary="Log in with a password; answers a bearer token",
    response_model=s.LoggedIn,
    responses={
        401: {"model": s.ErrorBody, "description": "Wrong username or password."},
        429: {
            "model": s.ErrorBody,
            "description": "Too many failed logins lately for the account or from the address: wait "
            "`Retry-After` seconds.",
        },
    },
    tags=["access"],
)
def login(body: s.LoginBody, request: Request) -> s.LoggedIn:
    """For people with a password (`jiesu users add --password-stdin`). The token, labelled `login`,
    expires after `JIESU_API_LOGIN_HOURS` (default 12) or when revoked (`jiesu users revoke-token ID`);
    systems get theirs from `jiesu users token`. After `JIESU_LOGIN_FAILURES_PER_ACCOUNT` (5) failures of
    an account, or `JIESU_LOGIN_FAILURES_PER_ADDRESS` (20) from one address, within
    `JIESU_LOGIN_WINDOW_MINUTES` (15), logins there are refused with 429 until the oldest leaves the
    window."""
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
    "/cases",
    summary="List cases, a page at a time",
    response_model=list[v.CaseSummary],
    responses={**AUTH, **PAGED},
    tags=["cases"],
)
def list_cases(
    request: Request,
    response: Response,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.LIST))],
    unit: Annotated[str | None, Query(description="the unit currently assigned")] = None,
    state: CaseState | None = None,
    overdue: Annotated[bool | None, Query(description="reply_due passed and not resolved/closed")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="cases per page")] = 100,
    cursor: CursorQuery = None,
) -> list[v.CaseSummary]:
    """The cases the caller may see that match every filter given, oldest dispatch first: a worker's
    unit's (and those it co-handles), a supervisor's district's, or all (city supervisors, admins).

    A page holds `limit` cases; the next page is at the URL in the `Link` header (`rel="next"`), the same
    query with the opaque `cursor` that `X-Next-Cursor` also gives. No `Link`: the last page."""
    return paged(
        request,
        response,
        lambda: cases.cases(
            system.engine,
            now=system.clock(),
            visible_to=visible_cases(principal),
            unit=unit,
            state=state,
            overdue=overdue,
            limit=limit,
            cursor=cursor,
        ),
    )


@router.get(
    "/cases/{ticket_id}", summary="One case", response_model=v.CaseView, responses=NOT_FOUND, tags=["cases"]
)
def get_case(
    ticket_id: str, system: SystemDep, principal: Annotated[Principal, Depends(allowed(Action.READ))]
) -> v.CaseView:
    """The case with its assignment, deadlines, pending requests and the actions allowed now. The
    requester is shown masked to units (138****1234, 张*) and not at all if the request is confidential.

    Allowed: a worker of the case's unit or of a co-handling unit, a supervisor whose scope holds the
    case, or an admin."""
    return view_of(system, ticket_id, principal)


@router.post(
    "/cases/{ticket_id}/reveal",
    summary="Reveal the requester's name and phone (audited)",
    response_model=v.RequesterView,
    responses=NOT_FOUND,
    tags=["cases"],
)
def reveal(
    ticket_id: str,
    request: Request,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.REVEAL))],
) -> v.RequesterView:
    """The requester unmasked, for a worker who must call back; the reveal is written to the case's audit
    trail. Refused (403) to units when the request is confidential.

    Allowed: a worker of the case's unit or of a co-handling unit, a supervisor whose scope holds the
    case, or an admin."""
    found = cases.requester(system.engine, ticket_id)
    if found is None:
        raise CaseNotFoundError(f"no case with ticket id {ticket_id}")
    stored, state = found
    shown = requester_view(stored, principal.role, revealed=True).requester
    if shown is None:
        raise ForbiddenError("the requester is hidden from you")
    record_reveal(request, principal, ticket_id, state)
    return cases.requester_model(shown)


@router.get(
    "/cases/{ticket_id}/timeline",
    summary="The audit trail of a case",
    response_model=list[v.AuditView],
    responses=NOT_FOUND,
    tags=["cases"],
)
def get_timeline(
    ticket_id: str, system: SystemDep, _: Annotated[Principal, Depends(allowed(Action.READ))]
) -> list[v.AuditView]:
    """Every dispatch, action and decision on the case, oldest first, with who, when and why; also
    every reveal of the requester and every denied attempt (`denied:<action>`).

    Allowed: as for the case itself."""
    entries = timeline.timeline(system.engine, ticket_id)
    if entries is None:
        raise CaseNotFoundError(f"no case with ticket id {ticket_id}")
    return entries


@router.get(
    "/cases/{ticket_id}/notifications",
    summary="The notifications a case caused: the delivery log",
    response_model=list[v.NotificationView],
    responses=NOT_FOUND,
    tags=["cases"],
)
def get_notifications(
    ticket_id: str, system: SystemDep, _: Annotated[Principal, Depends(allowed(Action.READ))]
) -> list[v.NotificationView]:
    """Every message about the case, oldest first: to whom, on which channel, sent, pending (and until
    when) or failed (and why).

    Allowed: as for the case itself."""
    log = notifications.notifications(system.engine, ticket_id=ticket_id)
    return [v.NotificationView(**row) for row in log]


@case_action(
    router, "acknowledge", "Acknowledge (签收) a dispatched case", "The person on duty signs for the case."
)
def acknowledge(
    ticket_id: str,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.ACKNOWLEDGE))],
    body: s.AcknowledgeBody | None = None,
) -> v.CaseView:
    return act(system, c.AcknowledgeCase(ticket_id, principal.username), principal)


@case_action(
    router,
    "contact",
    "Record contact with the requester",
    "May be recorded more than once.",
)
def contact(
    ticket_id: str,
    body: s.ContactBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.CONTACT))],
) -> v.CaseView:
    return act(system, c.RecordContact(ticket_id, principal.username, note=body.note), principal)


@case_action(
    router, "return", "Return (退单) a case", "The unit says the case is not its duty; the center arbitrates."
)
def return_case(
    ticket_id: str,
    body: s.ReturnBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.RETURN))],
) -> v.CaseView:
    return act(
        system,
        c.ReturnCase(ticket_id, principal.username, code=body.code.value, reason=body.reason),
        principal,
    )


@case_action(
    router,
    "extension",
    "Request an extension (延期)",
    "A supervisor then approves or rejects it.",
)
def request_extension(
    ticket_id: str,
    body: s.ExtensionBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.EXTENSION))],
) -> v.CaseView:
    return act(
        system,
        c.RequestExtension(ticket_id, principal.username, until=body.until, reason=body.reason),
        principal,
    )


@case_action(
    router, "resolve", "Resolve (办结) a case", "The unit reports the result; the callback (回访) follows."
)
def resolve(
    ticket_id: str,
    body: s.ResolveBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.RESOLVE))],
) -> v.CaseView:
    return act(
        system,
        c.ResolveCase(
            ticket_id,
            principal.username,
            result=body.result,
            without_reports_reason=body.without_reports_reason,
        ),
        principal,
    )


@case_action(
    router,
    "co-handling/acknowledge",
    "Acknowledge a co-handling unit's part (首接负责)",
    "A co-handling unit signs for its part of a jointly handled case; the lead unit keeps the case.",
    "Allowed: a worker of a co-handling unit of the case, or an admin.",
)
def co_acknowledge(
    ticket_id: str,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.CO_ACKNOWLEDGE))],
) -> v.CaseView:
    return act(
        system, c.AcknowledgeAsCoHandler(ticket_id, principal.username, unit=principal.unit or ""), principal
    )


@case_action(
    router,
    "co-handling/report",
    "Report a co-handling unit's part to the lead unit",
    "The lead unit resolves with these reports attached (or says why it resolves without one).",
    "Allowed: a worker of a co-handling unit of the case, or an admin.",
)
def co_report(
    ticket_id: str,
    body: s.ReportBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.CO_REPORT))],
) -> v.CaseView:
    command = c.ReportToLead(ticket_id, principal.username, unit=principal.unit or "", report=body.report)
    return act(system, command, principal)


@case_action(
    router,
    "whistle",
    "Call units in on the case (吹哨报到)",
    "The lead unit calls co-handling units in, each with what it asks of it. Each unit called gets its "
    "own deadlines to acknowledge and to report (the SLA file's `co_handling`), its person on duty is told, "
    "and the lead resolves once each has reported or a supervisor waived its report. Allowed while the "
    "case is acknowledged or contacted.",
    "Allowed: a worker of the lead unit (at its post), a supervisor whose scope holds the case, or an admin.",
)
def whistle(
    ticket_id: str,
    body: s.WhistleBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.WHISTLE))],
) -> v.CaseView:
    calls = tuple(c.WhistleCall(call.unit, call.ask) for call in body.calls)
    return act(system, c.Whistle(ticket_id, principal.username, calls=calls), principal)


@case_action(
    router,
    "co-handlers/{unit}/waive",
    "Waive a co-handling unit's report",
    "A supervisor lets the lead unit resolve without this co-handling unit's report, with a reason; the "
    "unit's pending deadlines stop.",
    SUPERVISOR,
)
def waive(
    ticket_id: str,
    unit: str,
    body: s.WaiveBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.WAIVE))],
) -> v.CaseView:
    return act(system, c.WaiveReport(ticket_id, principal.username, unit=unit, reason=body.reason), principal)
