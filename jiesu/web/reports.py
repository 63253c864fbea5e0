"""每月一题 over HTTP: the month's recurring problems (category × area) as JSON or as a CSV for a spreadsheet,
for supervisors (a district's sees its district) and admins. `report_for` is shared with the pages and
checks what is asked: a bad month, level, area or district is a 422 saying what is wrong, another
district than one's own a 403."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, Field

from dispatcher.bootstrap import System
from dispatcher.domain.access import DISTRICT_CODE, Action, Principal, visible_cases
from dispatcher.domain.scores import month_of
from dispatcher.reads.monthly import MOST, TOP, MonthlyReport, ReportError, monthly_report
from dispatcher.reads.monthly_export import area_name, category_name, district_name, monthly_csv
from dispatcher.reads.names import Names, catalog_of
from jiesu.web.auth import ForbiddenError, allowed
from jiesu.web.common import AUTH, SystemDep

router = APIRouter(prefix="/api")

MonthQuery = Annotated[str | None, Query(description="YYYY-MM (Beijing time); default: this month")]
LevelQuery = Annotated[str, Query(description="category level: 1 (domain), 2 (second level) or leaf")]
AreaQuery = Annotated[str, Query(description="street (the district where the street is unknown) or district")]
DistrictQuery = Annotated[str | None, Query(description="only this district (six digits, e.g. 110105)")]
TopQuery = Annotated[int, Query(ge=1, le=MOST, description="how many groups")]


def report_for(
    system: System,
    principal: Principal,
    *,
    month: str | None,
    level: str = "2",
    area: str = "street",
    district: str | None = None,
    top: int = TOP,
) -> MonthlyReport:
    """The report the principal asked for, within what they may see; HTTP 422 for a bad parameter and
    403 (`ForbiddenError`) for a district outside their scope."""
    visible = visible_cases(principal)
    district = district or None
    if district is not None and not DISTRICT_CODE.match(district):
        raise HTTPException(422, f"district: a six-digit district code such as 110105, got {district[:32]!r}")
    if visible.district is not None and district not in (None, visible.district):
        raise ForbiddenError(f"district {district} is outside the scope of {principal.username}")
    try:
        return monthly_report(
            system.engine,
            month=month or month_of(system.clock()),
            visible=visible,
            level=level,
            area=area,
            district=district or visible.district,
            top=top,
        )
    except ReportError as error:
        raise HTTPException(422, str(error)) from None


class UnitCountView(BaseModel):
    unit: str
    name: str
    cases: int


class ProblemView(BaseModel):
    rank: int
    category: str = Field(description="the category's code at the level asked; empty: not classified")
    category_name: str
    area: str = Field(description="the street's or district's code; empty: not placed")
    area_name: str
    district_name: str = Field(description="a street's district (streets of two districts share names)")
    cases: int = Field(description="requests received in the month")
    trend: list[int] = Field(description="requests per month, oldest first, the last being the month")
    repeats: int
    repeat_share: float | None
    reopened: int
    reopened_share: float | None
    callbacks: int = Field(description="counted callbacks of the month's requests")
    unsatisfied: int
    unsatisfied_share: float | None = Field(description="unsatisfied / counted callbacks")
    units: list[UnitCountView] = Field(description="the units that handle them, most cases first (3)")


class MonthlyReportView(BaseModel):
    month: str
    months: list[str]
    level: str
    area: str
    district: str | None
    received: int = Field(description="requests received in the month in scope, in all groups")
    problems: list[ProblemView]


def report_view(report: MonthlyReport, names: Names) -> MonthlyReportView:
    return MonthlyReportView(
        month=report.month,
        months=list(report.months),
        level=report.level,
        area=report.area,
        district=report.district,
        received=report.received,
        problems=[
            ProblemView(
                rank=problem.rank,
                category=problem.category,
                category_name=category_name(problem, names),
                area=problem.area,
                area_name=area_name(problem, names),
                district_name=district_name(problem, names),
                cases=problem.cases,
                trend=list(problem.trend),
                repeats=problem.repeats,
                repeat_share=problem.repeat_share,
                reopened=problem.reopened,
                reopened_share=problem.reopened_share,
                callbacks=problem.callbacks,
                unsatisfied=problem.unsatisfied,
                unsatisfied_share=problem.unsatisfied_share,
                units=[
                    UnitCountView(unit=found.unit, name=names.unit(found.unit), cases=found.cases)
                    for found in problem.units
                ],
            )
            for problem in report.problems
        ],
    )


@router.get(
    "/reports/monthly",
    summary="每月一题: the month's recurring problems by category × area",
    response_model=MonthlyReportView,
    responses=AUTH,
    tags=["supervisor"],
)
def monthly(
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.QUEUES))],
    month: MonthQuery = None,
    level: LevelQuery = "2",
    area: AreaQuery = "street",
    district: DistrictQuery = None,
    top: TopQuery = TOP,
) -> MonthlyReportView:
    """The `top` category × area groups by requests received in the month, each with its trend over the
    five months before, its repeat, reopened (重办) and unsatisfied (不满意) shares and its units.

    Allowed: supervisors (a district's: its district only) and admins."""
    found = report_for(system, principal, month=month, level=level, area=area, district=district, top=top)
    return report_view(found, Names(catalog_of(system.router)))


@router.get(
    "/reports/monthly.csv",
    summary="每月一题 as a CSV (UTF-8 with BOM, for Excel/WPS)",
    responses={**AUTH, 200: {"content": {"text/csv": {}}, "description": "the report, a row per group"}},
    tags=["supervisor"],
)
def monthly_as_csv(
    system: SystemDep,
    principal: Annotated[Principal, Depends(allowed(Action.QUEUES))],
    month: MonthQuery = None,
    level: LevelQuery = "2",
    area: AreaQuery = "street",
    district: DistrictQuery = None,
    top: TopQuery = TOP,
) -> Response:
    """The same figures as `GET /api/reports/monthly`, with the categories', areas' and units' names."""
    found = report_for(system, principal, month=month, level=level, area=area, district=district, top=top)
    return csv_response(found, Names(catalog_of(system.router)))


def csv_response(report: MonthlyReport, names: Names) -> Response:
    """The report as a CSV download named after its month (and district)."""
    scope = f"-{report.district}" if report.district else ""
    return Response(
        monthly_csv(report, names).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="monthly-{report.month}{scope}.csv"'},
    )
