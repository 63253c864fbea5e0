"""`jiesu sla due`: when is it due, and why — for anyone who asks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import typer

from dispatcher.adapters.database import make_engine
from dispatcher.adapters.sla_file import SlaFileError, load_sla
from dispatcher.reads.escalations import latest_escalations
from dispatcher.settings import load_settings
from sla.policy import Stage

sla_app = typer.Typer(help="Deadlines on China's official calendar.", no_args_is_help=True)


@sla_app.command()
def due(
    tier: str = typer.Option(..., help="emergency, urgent, general or complex."),
    stage: Stage = typer.Option(Stage.REPLY, help="acknowledge, contact or reply."),
    start: datetime = typer.Option(..., "--from", help="Dispatch time, e.g. 2026-09-30T15:00:00+08:00."),
    unit_class: str = typer.Option("default", help="Unit class for working hours (see config/sla.yaml)."),
    category: str | None = typer.Option(None, help="Category code, for category overrides."),
) -> None:
    """Print a deadline and the calendar facts it was computed from."""
    settings = load_settings()
    try:
        sla = load_sla(settings.sla_file)
    except SlaFileError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    if start.tzinfo is None:
        typer.echo("error: --from needs its timezone, e.g. +08:00", err=True)
        raise typer.Exit(2)
    deadlines = sla.deadlines
    if tier not in deadlines.policy.tiers:
        typer.echo(f"error: unknown tier {tier!r}; expected {', '.join(deadlines.policy.tiers)}", err=True)
        raise typer.Exit(2)
    result = deadlines.due(start, tier, stage, category, unit_class, unit_class in sla.round_the_clock)
    typer.echo(f"due {result.at.isoformat()}")
    typer.echo(f"rule: {result.duration} from {start.isoformat()} ({result.source})")
    for fact in result.facts or ("no holiday or make-up working day in between",):
        typer.echo(f"fact: {fact}")
    for year in sorted({start.year, result.at.year}):
        typer.echo(f"calendar {year}: {sla.calendar.source(year)}")


@sla_app.command("escalations")
def list_escalations(
    level: int | None = typer.Option(None, help="Only this ladder level (1 = breach)."),
    unit: str | None = typer.Option(None, help="Only cases at this unit."),
    include_closed: bool = typer.Option(False, help="Also cases already resolved or closed."),
) -> None:
    """Escalations that fired, newest first: level, age, case, unit and who was told."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    found = latest_escalations(engine, level, unit, open_only=not include_closed)
    engine.dispose()
    now = datetime.now(UTC)
    for item in found:
        age = now - item.fired_at
        typer.echo(
            f"L{item.level}  {item.ticket_id:<24} {item.stage:<11} {item.unit or '-':<24} "
            f"{item.state:<12} {_age(age):>8} ago  → {item.target}"
        )
    typer.echo(f"{len(found)} escalations")


def _age(age: timedelta) -> str:
    hours, seconds = divmod(int(age.total_seconds()), 3600)
    return f"{hours}h{seconds // 60:02d}m"
