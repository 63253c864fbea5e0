"""`jiesu case VERB TICKET --as PERSON`: the same actions as the REST API and the actions topic."""

from __future__ import annotations

from datetime import datetime

import typer

from dispatcher.bootstrap import bootstrap
from dispatcher.domain import commands as c
from dispatcher.domain.case import CaseError, TransitionError
from dispatcher.service.lifecycle import CaseNotFoundError, InvalidActionError
from dispatcher.service.unit_of_work import ConcurrencyError
from dispatcher.settings import load_settings

case_app = typer.Typer(
    help="Act on a case: acknowledge, contact, return, extension, resolve, arbitrate, whistle."
)
As = typer.Option(..., "--as", help="The person acting.")
EXIT = {CaseNotFoundError: 3, TransitionError: 4, ConcurrencyError: 5, InvalidActionError: 2}


def run(command: c.CaseCommand) -> None:
    """Send the command; print the outcome in one line; exit non-zero with the reason when refused."""
    system = bootstrap(load_settings())
    try:
        system.bus.handle(command)
    except CaseError as error:
        typer.echo(f"refused: {error}", err=True)
        raise typer.Exit(EXIT.get(type(error), 1)) from None
    finally:
        system.engine.dispose()
    typer.echo(f"{command.ticket_id}: {type(command).__name__} by {command.by} done")


@case_app.command()
def acknowledge(ticket: str, by: str = As) -> None:
    """签收: sign for the case."""
    run(c.AcknowledgeCase(ticket, by))


@case_app.command()
def contact(ticket: str, by: str = As, note: str | None = typer.Option(None, help="What was said.")) -> None:
    """Record that the requester was contacted."""
    run(c.RecordContact(ticket, by, note))


@case_app.command("return")
def return_case(
    ticket: str,
    by: str = As,
    code: str = typer.Option(..., help="not_our_duty, wrong_area, duplicate or other."),
    reason: str = typer.Option(..., help="Why, in words."),
) -> None:
    """退单: return a case that is not the unit's duty."""
    run(c.ReturnCase(ticket, by, code, reason))


@case_app.command()
def extension(
    ticket: str,
    by: str = As,
    until: datetime = typer.Option(..., help="Proposed deadline, e.g. 2026-12-05T18:00:00+08:00."),
    reason: str = typer.Option(..., help="Why more time is needed."),
) -> None:
    """延期: ask for more time."""
    run(c.RequestExtension(ticket, by, until, reason))


@case_app.command()
def resolve(
    ticket: str,
    by: str = As,
    result: str = typer.Option(..., help="The result, in words."),
    without_reports_reason: str | None = typer.Option(
        None, help="Why to resolve before every co-handling unit has reported."
    ),
) -> None:
    """办结: report the result (the lead unit, with the co-handlers' reports attached)."""
    run(c.ResolveCase(ticket, by, result, without_reports_reason))


@case_app.command("co-acknowledge")
def co_acknowledge(
    ticket: str, by: str = As, unit: str = typer.Option(..., help="The co-handling unit.")
) -> None:
    """A co-handling unit signs for its part of a jointly handled case."""
    run(c.AcknowledgeAsCoHandler(ticket, by, unit))


@case_app.command()
def report(
    ticket: str,
    by: str = As,
    unit: str = typer.Option(..., help="The co-handling unit."),
    text: str = typer.Option(..., "--report", help="The report to the lead unit."),
) -> None:
    """A co-handling unit reports its part to the lead unit."""
    run(c.ReportToLead(ticket, by, unit, text))


@case_app.command()
def arbitrate(
    ticket: str,
    by: str = As,
    decision: str = typer.Option(..., help="redispatch or reject."),
    unit: str | None = typer.Option(None, help="Redispatch to this unit (default: the rules' proposal)."),
    post: str | None = typer.Option(None, help="The post at that unit."),
    reason: str = typer.Option("", help="Why."),
) -> None:
    """Decide a returned case (supervisor)."""
    run(c.Arbitrate(ticket, by, decision, unit, post, reason))


@case_app.command("extension-decision")
def extension_decision(
    ticket: str,
    by: str = As,
    approve: bool = typer.Option(..., "--approve/--reject", help="Approve or reject the extension."),
    until: datetime | None = typer.Option(None, help="Approve with another deadline."),
    reason: str = typer.Option("", help="Why."),
) -> None:
    """Decide an extension request (supervisor)."""
    run(c.DecideExtension(ticket, by, approve, until, reason))


@case_app.command()
def dispatch(
    ticket: str,
    by: str = As,
    unit: str = typer.Option(..., help="The unit to dispatch to."),
    post: str | None = typer.Option(None, help="The post at that unit."),
    category: str | None = typer.Option(None, help="Set the category (triage)."),
    reason: str = typer.Option("", help="Why."),
) -> None:
    """Dispatch a queued case by hand (supervisor)."""
    run(c.DispatchManually(ticket, by, unit, post, category, reason))


@case_app.command()
def whistle(
    ticket: str,
    by: str = As,
    units: list[str] = typer.Option(..., "--unit", help="A unit to call in; repeat for several."),
    asks: list[str] = typer.Option(
        ..., "--ask", help="What is asked of it: one per --unit, in the same order, or one for all."
    ),
) -> None:
    """吹哨报到: call units in on the case (the lead unit's worker, or a supervisor)."""
    if len(asks) != 1 and len(asks) != len(units):
        typer.echo(f"refused: {len(units)} --unit but {len(asks)} --ask: give one --ask per --unit, or one")
        raise typer.Exit(2)
    pairs = zip(units, asks if len(asks) == len(units) else asks * len(units), strict=True)
    run(c.Whistle(ticket, by, calls=tuple(c.WhistleCall(unit, ask) for unit, ask in pairs)))


@case_app.command()
def waive(
    ticket: str,
    by: str = As,
    unit: str = typer.Option(..., help="The co-handling unit whose report is waived."),
    reason: str = typer.Option(..., help="Why the lead may resolve without it."),
) -> None:
    """Let the lead resolve without a co-handling unit's report (supervisor)."""
    run(c.WaiveReport(ticket, by, unit, reason))
