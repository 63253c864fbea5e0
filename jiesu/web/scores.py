"""The closed loop and the assessment: review and termination of cases, appeals against callbacks, the
three rates (三率), their breakdown, and the monthly ranking (JSON or a CSV for a spreadsheet)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from dispatcher.domain import commands as c
from dispatcher.domain.access import Action, Principal, Role
from dispatcher.domain.scores import Rates, as_float, ranking_csv, rate_figures
from dispatcher.reads import appeals
from dispatcher.reads import views as v
from dispatcher.reads.scores import Scores, breakdown, ranking, scores
from dispatcher.service.lifecycle import InvalidActionError
from jiesu.web import schemas as s
from jiesu.web.auth import allowed
from jiesu.web.common import (
    AUTH,
    CASE_ERRORS,
    PAGED,
    SUPERVISOR,
    CursorQuery,
    SystemDep,
    act,
    case_action,
    paged,
)

router = APIRouter(prefix="/api")
UnitClass = Literal["street", "department", "enterprise", "district", "center", "default"]
CallbackId = Annotated[int, Path(ge=1, le=s.BIGGEST_ID, description="the callback's id")]
AppealId = Annotated[int, Path(ge=1, le=s.BIGGEST_ID, description="the appeal's id")]


@case_action(
    router,
    "close",
    "Close a case held for callback review (supervisor)",
    "After an unsatisfied callback held the case for review, the supervisor closes it as it stands.",
    SUPERVISOR,
    tag="supervisor",
)
def close_after_review(
    ticket_id: str,
    body: s.ReasonBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.CLOSE))],
) -> v.CaseView:
    return act(system, c.CloseAfterReview(ticket_id, principal.username, reason=body.reason), principal)


@case_action(
    router,
    "terminate",
    "Terminate a case, 终结 (supervisor)",
    "Ends the case with a reason; its callbacks leave the rates of the units they counted for.",
    SUPERVISOR,
    tag="supervisor",
)
def terminate(
    ticket_id: str,
    body: s.ReasonBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.TERMINATE))],
) -> v.CaseView:
    return act(system, c.TerminateCase(ticket_id, principal.username, reason=body.reason), principal)


@router.post(
    "/callbacks/{callback_id}/appeal",
    summary="Appeal against a callback, 申诉 (worker of the unit it counts for)",
    response_model=v.AppealView,
    status_code=201,
    responses=CASE_ERRORS,
    tags=["assessment"],
)
def file_appeal(
    callback_id: CallbackId,
    body: s.AppealBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.APPEAL))],
) -> v.AppealView:
    """A unit asks that a callback not count against it; a supervisor decides."""
    if principal.unit is None and principal.role is not Role.ADMIN:
        raise InvalidActionError("only a unit's worker can appeal for the unit")
    unit = principal.unit or _unit_of_callback(system, callback_id)
    command = c.FileAppeal(principal.username, callback_id=callback_id, unit=unit, reason=body.reason)
    return _appeal(system, system.bus.handle(command))


@router.post(
    "/appeals/{appeal_id}/decision",
    summary="Decide an appeal (supervisor)",
    response_model=v.AppealView,
    responses=CASE_ERRORS,
    tags=["assessment"],
)
def decide_appeal(
    appeal_id: AppealId,
    body: s.AppealDecisionBody,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.APPEAL_DECISION))],
) -> v.AppealView:
    """Accepted: the callback leaves the base; the unit's scores are published again. Rejected: it stays."""
    system.bus.handle(
        c.DecideAppeal(principal.username, appeal_id=appeal_id, accept=body.accept, reason=body.reason)
    )
    return _appeal(system, appeal_id)


@router.get(
    "/appeals",
    summary="Appeals, newest first, a page at a time",
    response_model=list[v.AppealView],
    responses={**AUTH, **PAGED},
    tags=["assessment"],
)
def list_appeals(
    request: Request,
    response: Response,
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.SCORES))],
    status: Literal["pending", "accepted", "rejected"] | None = Query(None),
    limit: Annotated[int, Query(ge=1, le=1000, description="appeals per page")] = 500,
    cursor: CursorQuery = None,
) -> list[v.AppealView]:
    """A worker sees its unit's appeals; supervisors and admins see all. Paged as `GET /api/cases` is
    (`Link`, `X-Next-Cursor`)."""
    unit = (principal.unit or "") if principal.role is Role.WORKER else None
    return paged(
        request,
        response,
        lambda: appeals.appeals(system.engine, status=status, unit=unit, limit=limit, cursor=cursor),
    )


@router.get(
    "/scores",
    summary="The three rates (三率) per unit, post or person",
    response_model=list[v.ScoresView],
    responses=AUTH,
    tags=["assessment"],
)
def list_scores(
    system: SystemDep,
    _: Annotated[Principal, Depends(allowed(Action.SCORES))],
    month: s.Month | None = Query(None, description="an assessment month, YYYY-MM (Beijing time)"),
    since: s.Moment | None = Query(None, description="or a range: from (RFC 3339 with offset, inclusive)"),
    until: s.Moment | None = Query(None, description="to (RFC 3339 with offset, exclusive)"),
    unit: str | None = Query(None, description="only this unit"),
    group: Literal["unit", "post", "person"] = Query("unit"),
) -> list[v.ScoresView]:
    """Computed from the stored callbacks as they are now: the same figures a recomputation gives.
    Per day: `since`/`until` one day apart."""
    if month is None and since is None:
        raise InvalidActionError("give a month, or a range with since (and until)")
    found = scores(
        system.engine, system.assessment, month=month, since=since, until=until, unit=unit, group=group
    )
    return [_scores(row) for row in found]


@router.get(
    "/scores/{unit}/{month}/breakdown",
    summary="How a unit's month was scored",
    response_model=v.BreakdownView,
    responses=AUTH,
    tags=["assessment"],
)
def score_breakdown(
    unit: str,
    month: s.Month,
    system: SystemDep,
    _: Annotated[Principal, Depends(allowed(Action.SCORES))],
) -> v.BreakdownView:
    """Every callback of the month: counted, or excluded and why; then the arithmetic."""
    found = breakdown(system.engine, system.assessment, unit, month)
    return v.BreakdownView(
        unit=unit,
        month=month,
        scores=_scores(Scores(unit, found.unit_class, found.rates)),
        arithmetic=list(found.explanation.lines),
        callbacks=[
            v.CallbackLineView(**{**vars(line), "counted": line.excluded is None}) for line in found.callbacks
        ],
    )


@router.get(
    "/rankings",
    summary="The monthly ranking of a class of units",
    response_model=list[v.RankingRowView],
    responses={**AUTH, 200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"}},
    tags=["assessment"],
)
def rankings(
    system: SystemDep,
    _: Annotated[Principal, Depends(allowed(Action.SCORES))],
    month: Annotated[s.Month, Query(description="YYYY-MM")],
    unit_class: UnitClass = Query("street", alias="class", description="street, department, enterprise"),
    format: Literal["json", "csv"] = Query("json"),
) -> list[v.RankingRowView] | Response:
    """By composite, highest first, with the change from last month and the bottom ten (后十名)."""
    rows = ranking(system.engine, system.assessment, month, unit_class)
    if format == "csv":
        filename = f"ranking-{unit_class}-{month}.csv"
        return Response(
            ranking_csv(month, rows).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return [
        v.RankingRowView(
            rank=row.rank,
            unit=row.unit,
            unit_class=row.unit_class,
            scores=_scores(Scores(row.unit, row.unit_class, row.rates, row.secondary)),
            previous_rank=row.previous_rank,
            previous_composite=as_float(row.previous_composite),
            change=as_float(row.change),
            rank_change=row.rank_change,
            bottom_ten=row.bottom_ten,
        )
        for row in rows
    ]


def _scores(found: Scores) -> v.ScoresView:
    rates: Rates = found.rates
    tally, weights = rates.tally, rates.weights
    return v.ScoresView(
        key=found.key,
        unit_class=found.unit_class,
        valid_callbacks=tally.valid,
        contacted=tally.contacted,
        resolved=tally.resolved,
        satisfied=tally.satisfied,
        basically_satisfied=tally.basically_satisfied,
        **rate_figures(rates),
        weights={
            "response": float(weights.response),
            "resolution": float(weights.resolution),
            "satisfaction": float(weights.satisfaction),
            "basic_credit": float(weights.basic_credit),
        },
        secondary=v.SecondaryView(**vars(found.secondary)) if found.secondary else None,
    )


def _unit_of_callback(system: SystemDep, callback_id: int) -> str:
    return appeals.unit_of_callback(system.engine, callback_id)


def _appeal(system: SystemDep, appeal_id: int) -> v.AppealView:
    return appeals.appeal(system.engine, appeal_id)
