"""`jiesu report`: reports for the center. `monthly` is 每月一题, the month's recurring problems by category ×
area, as a table, a CSV (UTF-8 with BOM, for Excel/WPS) or the printable HTML page (print it, or save it
as PDF, from a browser)."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy.exc import SQLAlchemyError

from dispatcher.adapters.database import make_engine
from dispatcher.bootstrap import utc_now
from dispatcher.domain.access import DISTRICT_CODE, Visible
from dispatcher.reads.monthly import MOST, TOP, ReportError, monthly_report
from dispatcher.reads.monthly_export import monthly_csv, monthly_table
from dispatcher.reads.names import Names
from dispatcher.settings import load_settings
from jiesu.web.pages.monthly import printable
from rules.loader import CatalogError, load_catalog

report_app = typer.Typer(help="Reports: 每月一题 (the month's recurring problems).", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@report_app.command("monthly")
def monthly(
    month: str = typer.Option(..., help="The month, YYYY-MM (Beijing time)."),
    level: str = typer.Option("2", help="Category level: 1 (domain), 2 (second level) or leaf."),
    area: str = typer.Option("street", help="street (the district where it is unknown) or district."),
    district: str | None = typer.Option(None, help="Only this district (six digits, e.g. 110105)."),
    top: int = typer.Option(TOP, min=1, max=MOST, help="How many category × area groups."),
    format: str = typer.Option("table", "--format", help="table, csv or html (printable; save as PDF)."),
    language: str = typer.Option("zh", help="The HTML's language: zh or en."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
) -> None:
    """The month's top category × area groups by requests received, with their trend over the five months
    before, the repeat, reopened (重办) and unsatisfied (不满意) shares, and the units that handle them."""
    if format not in ("table", "csv", "html"):
        raise _fail(f"--format: expected table, csv or html, got {format!r}")
    if district is not None and not DISTRICT_CODE.match(district):
        raise _fail(f"--district: a six-digit district code such as 110105, got {district!r}")
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        report = monthly_report(
            engine,
            month=month,
            visible=Visible(everything=True),
            level=level,
            area=area,
            district=district,
            top=top,
        )
    except ReportError as error:
        raise _fail(str(error)) from None
    except SQLAlchemyError as error:
        typer.echo(
            f"error: cannot read the database ({type(error).__name__}): has `jiesu db upgrade` run?", err=True
        )
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    try:
        names = Names(load_catalog(settings.catalog_dir))
    except CatalogError as error:  # the figures stand without names: shown by their codes
        typer.echo(f"warning: the catalog did not load, codes shown for names: {error}", err=True)
        names = Names()
    if format == "csv":
        text = monthly_csv(report, names)
    elif format == "html":
        text = printable(report, names, "en" if language == "en" else "zh", utc_now())
    else:
        text = monthly_table(report, names)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_bytes(text.encode("utf-8"))
        typer.echo(f"wrote {len(report.problems)} groups of {report.month} to {output}")
