"""`jiesu scores`: the three rates (三率) of a unit, the monthly ranking (as a table or CSV), and the
recomputation that publishes a month's scores again (after an appeal or a change of weights)."""

from __future__ import annotations

from pathlib import Path

import typer

from dispatcher.adapters.assessment_file import AssessmentFileError, load_assessment
from dispatcher.adapters.database import make_engine
from dispatcher.bootstrap import bootstrap
from dispatcher.domain import commands as c
from dispatcher.domain.callbacks import Assessment
from dispatcher.domain.scores import check_month, fixed, percent, ranking_csv
from dispatcher.reads.scores import breakdown, ranking
from dispatcher.settings import Settings, load_settings

scores_app = typer.Typer(help="The three rates (三率) and the monthly ranking.", no_args_is_help=True)


def _month(month: str) -> str:
    try:
        return check_month(month)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def _assessment() -> tuple[Settings, Assessment]:
    settings = load_settings()
    try:
        return settings, load_assessment(settings.assessment_file)
    except AssessmentFileError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


@scores_app.command("ranking")
def show_ranking(
    month: str = typer.Option(..., help="The month, YYYY-MM."),
    unit_class: str = typer.Option("street", "--class", help="street, department or enterprise."),
    csv: bool = typer.Option(False, "--csv", help="Write CSV (UTF-8 with BOM, for Excel/WPS) instead."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file."),
) -> None:
    """The month's ranking of a class of units by composite, with the change from last month."""
    settings, assessment = _assessment()
    engine = make_engine(settings.database_url)
    rows = ranking(engine, assessment, _month(month), unit_class)
    engine.dispose()
    if csv:
        text = ranking_csv(month, rows)
    else:
        header = f"{'rank':>4}  {'unit':<28} {'valid':>6} {'响应率':>7} {'解决率':>7} {'满意率':>7}"
        lines = [f"{header} {'composite':>9}  change"]
        for row in rows:
            rates = row.rates
            change = fixed(row.change, 4, signed=True) if row.change is not None else "new"
            mark = "  后十名" if row.bottom_ten else ""
            composite = fixed(rates.composite, 4) if rates.composite is not None else ""
            lines.append(
                f"{row.rank:>4}  {row.unit:<28} {rates.tally.valid:>6} {percent(rates.response_rate):>7} "
                f"{percent(rates.resolution_rate):>7} {percent(rates.satisfaction_rate):>7} {composite:>9}  "
                f"{change}{mark}"
            )
        text = (
            "\n".join(lines) + "\n" if rows else f"no unit of class {unit_class} has a callback in {month}\n"
        )
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_bytes(text.encode("utf-8"))
        typer.echo(f"wrote {len(rows)} units to {output}")


@scores_app.command("show")
def show(
    unit: str = typer.Option(..., help="The unit id."),
    month: str = typer.Option(..., help="The month, YYYY-MM."),
) -> None:
    """A unit's month: each callback counted or excluded (and why), then the arithmetic."""
    settings, assessment = _assessment()
    engine = make_engine(settings.database_url)
    found = breakdown(engine, assessment, unit, _month(month))
    engine.dispose()
    for line in found.callbacks:
        counted = "counted" if line.excluded is None else f"excluded ({line.excluded})"
        answer = f"contacted={line.contacted} resolved={line.resolved} {line.satisfaction}"
        typer.echo(
            f"{line.recorded_at:%Y-%m-%d %H:%M} {line.ticket_id} round {line.round}: {answer}: {counted}"
        )
    for text in found.explanation.lines:
        typer.echo(text)


@scores_app.command("recompute")
def recompute(
    month: str = typer.Option(..., help="The month, YYYY-MM."),
    final: bool = typer.Option(False, help="Mark the figures final (the month's ranking is out)."),
) -> None:
    """Publish every unit's scores for the month again, from the stored callbacks with the weights now in
    force (after an appeal decision or a change of weights); `jiesu run` relays them to Kafka."""
    settings, _ = _assessment()
    system = bootstrap(settings)
    units = system.bus.handle(c.PublishScores(_month(month), final=final))
    system.engine.dispose()
    typer.echo(f"{units} units' scores for {month} queued for jiesu.scores.updated")
