"""每月一题 for supervisors: the month's recurring problems (category × area) as a page, with a sparkline of
each group's last six months, the CSV to download (`/monthly.csv`, on the page's session), and a printable
page without navigation (print CSS; a PDF is the browser's "save as PDF"). `printable` is also what
`jiesu report monthly --format html` writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, Response

from dispatcher.domain.access import Action, Principal, check_role, visible_cases
from dispatcher.reads.monthly import MonthlyReport
from dispatcher.reads.names import Names
from jiesu.web import charts
from jiesu.web.auth import ForbiddenError
from jiesu.web.i18n import words
from jiesu.web.pages.base import Me, SystemDep, forbidden, names_of, page, templates, words_of
from jiesu.web.reports import csv_response, report_for
from jiesu.web.session import language_of
from rules.catalog import AreaLevel
from sla.calendar import BEIJING

router = APIRouter(include_in_schema=False)


def context_of(report: MonthlyReport, names: Names, language: str) -> dict[str, Any]:
    """What both templates show: the rows with their sparklines, the intro in words."""
    w = words(language)
    scope = names.area(report.district) if report.district else w["monthly_all_districts"]
    intro = w["monthly_intro"].format(
        month=report.month, received=report.received, scope=scope, count=len(report.problems)
    )
    labels = [which[5:] for which in report.months]
    rows = [
        {"problem": problem, "spark": charts.sparkline(problem.trend, labels)} for problem in report.problems
    ]
    return {"report": report, "rows": rows, "intro": intro, "labels": labels, "scope": scope}


def printable(report: MonthlyReport, names: Names, language: str, generated: datetime) -> str:
    """The printable page, whole: the figures, print CSS, no navigation and no script."""
    template = templates.env.get_template("monthly_print.html")
    return template.render(
        w=words(language),
        language=language,
        names=names,
        generated=generated.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"),
        **context_of(report, names, language),
    )


def _query(report: MonthlyReport) -> str:
    asked = {"month": report.month, "level": report.level, "area": report.area}
    return urlencode({**asked, **({"district": report.district} if report.district else {})})


def _asked(
    request: Request, me: Principal, system: SystemDep, month: str, level: str, area: str, district: str
) -> MonthlyReport | HTMLResponse:
    if check_role(me, Action.QUEUES) is not None:
        return forbidden(request, me, "")
    try:
        return report_for(system, me, month=month or None, level=level, area=area, district=district or None)
    except ForbiddenError as error:
        return forbidden(request, me, str(error))
    except HTTPException as error:
        title = words_of(request)["monthly_bad"]
        return page(request, "message.html", me, error.status_code, title=title, detail=error.detail)


@router.get("/monthly")
def monthly(
    request: Request,
    me: Me,
    system: SystemDep,
    month: str = "",
    level: str = "2",
    area: str = "street",
    district: str = "",
) -> HTMLResponse:
    """The month's top groups, a form to choose the month, level, area (and, for the city, district)."""
    found = _asked(request, me, system, month, level, area, district)
    if isinstance(found, HTMLResponse):
        return found
    names = names_of(system)
    catalog = names.catalog
    districts = sorted(
        (code, found_area.name)
        for code, found_area in (catalog.areas.items() if catalog else ())
        if found_area.level is AreaLevel.DISTRICT
    )
    language = language_of(request)
    return page(
        request,
        "monthly.html",
        me,
        query=_query(found),
        districts=districts if visible_cases(me).district is None else [],
        **context_of(found, names, language),
    )


@router.get("/monthly.csv")
def monthly_csv_download(
    request: Request,
    me: Me,
    system: SystemDep,
    month: str = "",
    level: str = "2",
    area: str = "street",
    district: str = "",
) -> Response:
    """The CSV of `GET /api/reports/monthly.csv`, for the page's session (the API takes a bearer token)."""
    found = _asked(request, me, system, month, level, area, district)
    if isinstance(found, HTMLResponse):
        return found
    return csv_response(found, names_of(system))


@router.get("/monthly/print")
def monthly_print(
    request: Request,
    me: Me,
    system: SystemDep,
    month: str = "",
    level: str = "2",
    area: str = "street",
    district: str = "",
) -> HTMLResponse:
    """The same report to print or save as PDF."""
    found = _asked(request, me, system, month, level, area, district)
    if isinstance(found, HTMLResponse):
        return found
    language = language_of(request)
    return HTMLResponse(printable(found, names_of(system), language, system.clock()))
