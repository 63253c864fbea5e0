"""`jiesu rules explain | lint | whatif`: what the dispatch catalog decides, and why."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from pydantic import ValidationError

from dispatcher.adapters.catalog import catalog_router
from dispatcher.adapters.database import make_engine
from dispatcher.adapters.sla_file import SlaFileError, load_sla
from dispatcher.contract.events import ComplaintReceived
from dispatcher.contract.mapping import complaint_from_wire
from dispatcher.reads.whatif import what_if
from dispatcher.settings import Settings, load_settings
from jiesu.cli.model import evaluate_command, train_command
from rules.lint import has_errors
from rules.lint import lint as lint_catalog
from rules.loader import CatalogError
from rules.router import CatalogRouter
from sla.calendar import BEIJING, ChineseCalendar

rules_app = typer.Typer(
    help="The dispatch catalog (派单目录): explain, lint, what-if, train, evaluate.", no_args_is_help=True
)
rules_app.command("train")(train_command)
rules_app.command("evaluate")(evaluate_command)
CatalogOption = typer.Option(None, "--catalog", help="Catalog folder (default: JIESU_CATALOG_DIR).")


def _calendar(settings: Settings) -> ChineseCalendar:
    """The operator's calendar (JIESU_SLA_FILE), the one the worker routes on."""
    try:
        return load_sla(settings.sla_file).calendar
    except SlaFileError as error:
        typer.echo(f"SLA file refused:\n{error}", err=True)
        raise typer.Exit(2) from None


def _router(
    folder: Path | None, settings: Settings, calendar: ChineseCalendar | None = None
) -> CatalogRouter:
    try:
        return catalog_router(folder or settings.catalog_dir, calendar or _calendar(settings))
    except CatalogError as error:
        typer.echo(f"catalog refused:\n{error}", err=True)
        raise typer.Exit(2) from None


@rules_app.command()
def explain(
    event: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="A jiesu.complaint.received JSON file."
    ),
    catalog: Path | None = CatalogOption,
    at: datetime | None = typer.Option(
        None, help="Decide as of this time (default: the request's received_at)."
    ),
) -> None:
    """Print the decision for one request: facts, the matching rule, why earlier rules did not match."""
    try:
        raw = json.loads(event.read_text(encoding="utf-8"))
        data = raw.get("data", raw) if isinstance(raw, dict) else raw
        complaint = complaint_from_wire(ComplaintReceived.model_validate(data))
    except (json.JSONDecodeError, ValidationError) as error:
        typer.echo(f"{event}: not a jiesu.complaint.received event: {error}", err=True)
        raise typer.Exit(2) from None
    router = _router(catalog, load_settings())
    moment = at or complaint.received_at
    facts, place, notes = router.facts(complaint, moment)
    typer.echo(f"catalog {router.catalog.version}, {len(router.catalog.rules)} rules")
    typer.echo("facts:")
    typer.echo(f"  location     {place.describe()} ({', '.join(place.codes) or '-'})")
    for name in ("category", "kind", "urgency", "channel", "working_day", "local_time"):
        typer.echo(f"  {name:<12} {getattr(facts, name)}")
    typer.echo(f"  groups       {', '.join(sorted(facts.groups)) or '-'}")
    for note in notes:
        typer.echo(f"  note         {note}")
    matched, passed = router.matcher.explain(facts)
    if passed:
        typer.echo("earlier rules that did not match:")
        for rule, why in passed[-20:]:
            typer.echo(f"  {rule.id:<32} {why}")
        if len(passed) > 20:
            typer.echo(f"  ... and {len(passed) - 20} more before them")
    typer.echo(
        f"matching rule: {matched.id} ({matched.source}) {matched.description}"
        if matched
        else "no rule matched"
    )
    decision = router.decide(facts, place, list(notes), moment)
    if decision.assignment:
        a = decision.assignment
        typer.echo(
            f"decision: dispatch to {a.unit} / {a.post} / {a.person or 'nobody on duty'}"
            + (f", co-handled by {', '.join(a.co_handlers)}" if a.co_handlers else "")
        )
        typer.echo(f"reason: {a.reason}")
    else:
        typer.echo(f"decision: queue {decision.queue}\nreason: {decision.reason}")
    typer.echo(f"urgency: {decision.urgency}")


@rules_app.command()
def lint(catalog: Path | None = CatalogOption) -> None:
    """Check the catalog: shadowed rules, overlaps, missing references, unreachable categories, gaps."""
    settings = load_settings()
    calendar = _calendar(settings)
    router = _router(catalog, settings, calendar)
    findings = lint_catalog(router.catalog, calendar.is_working_day)
    for finding in findings:
        typer.echo(str(finding))
    errors = sum(finding.severity == "error" for finding in findings)
    typer.echo(f"catalog {router.catalog.version}: {errors} errors, {len(findings) - errors} warnings")
    if has_errors(findings):
        raise typer.Exit(1)


def since_moment(text: str, now: datetime) -> datetime:
    """`30d`, `12h` (ago) or an ISO date/time (Beijing time when no offset is given)."""
    units = {"d": timedelta(days=1), "h": timedelta(hours=1)}
    if text[:-1].isdigit() and text[-1:] in units:
        return now - int(text[:-1]) * units[text[-1]]
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)


@rules_app.command()
def whatif(
    catalog: Path = typer.Option(..., "--catalog", help="The candidate catalog folder."),
    since: str = typer.Option("30d", help="Replay cases dispatched since: 30d, 12h, or a date."),
    examples: int = typer.Option(5, min=0, help="How many changed cases to show."),
    reclassify: bool = typer.Option(
        False, help="Classify each stored description again with the candidate's classifier (a new model)."
    ),
) -> None:
    """Replay stored cases against a candidate catalog: how many would be routed differently, and where."""
    settings = load_settings()
    try:
        start = since_moment(since, datetime.now(UTC))
    except ValueError:
        typer.echo(f"--since {since!r}: expected 30d, 12h or a date such as 2026-11-01", err=True)
        raise typer.Exit(2) from None
    engine = make_engine(settings.database_url)
    report = what_if(engine, _router(catalog, settings), start, reclassify)
    engine.dispose()
    share = len(report.changed) / report.replayed if report.replayed else 0.0
    typer.echo(
        f"replayed {report.replayed} cases since {start:%Y-%m-%d %H:%M %Z}: "
        f"{len(report.changed)} would be routed differently ({share:.1%})"
    )
    if report.changed:
        typer.echo("by category:")
        for category, count in report.by_category().most_common():
            typer.echo(f"  {category:<10} {count}")
        typer.echo("by unit (now -> candidate):")
        for (before, after), count in report.by_unit().most_common(20):
            typer.echo(f"  {before} -> {after}: {count}")
        typer.echo("examples:")
        for change in report.changed[:examples]:
            typer.echo(f"  {change.ticket_id}: {change.before} -> {change.after} ({change.reason[:120]})")
