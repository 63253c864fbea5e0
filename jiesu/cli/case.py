"""`jiesu case VERB TICKET --as PERSON`: the same actions as the REST API and the actions topic."""

from __future__ import annotations

from datetime import datetime

import typer

from dispatcher.bootstrap import bootstrap
from dispatcher.domain import commands as c
from dispatcher.domain.access import Visible
from dispatcher.domain.case import CaseError, TransitionError
from dispatcher.reads import supervision as orders
from dispatcher.service.lifecycle import CaseNotFoundError, InvalidActionError
from dispatcher.service.unit_of_work import ConcurrencyError
from dispatcher.settings import load_settings
from sla.calendar import BEIJING

case_app = typer.Typer(
    help="Act on a case: acknowledge, contact, return, extension, resolve, arbitrate, merge, unmerge, pause, "
    "resume, order, whistle."
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


@case_app.command("order")
def order(
    ticket: str,
    by: str = As,
    ask: str = typer.Option(..., help="What is asked of the unit, in words."),
    to: str | None = typer.Option(None, "--to", help="The addressed unit (default: the case's lead unit)."),
    head: bool = typer.Option(False, "--head", help="Address the unit's head instead of its workers."),
    within: str | None = typer.Option(
        None, help="Time given, e.g. '2 working days' (default: supervision_order_within of the SLA file)."
    ),
) -> None:
    """督办: issue a supervision order on a case (supervisor); prints the order's id and deadline."""
    command = c.IssueSupervisionOrder(
        ticket, by, ask=ask, unit=to, addressee="head" if head else "unit", within=within
    )
    system = bootstrap(load_settings())
    try:
        order_id = system.bus.handle(command)
        found = orders.supervision_order(system.engine, order_id, system.clock())
    except CaseError as error:
        typer.echo(f"refused: {error}", err=True)
        raise typer.Exit(EXIT.get(type(error), 1)) from None
    finally:
        system.engine.dispose()
    assert found is not None
    due = found.due_at.astimezone(BEIJING)
    typer.echo(f"{order_id}: {ticket} → {found.unit} ({found.addressee}), reply due {due:%Y-%m-%d %H:%M %z}")
    typer.echo(f"  {found.how}")


@case_app.command("answer-order")
def answer_order(
    order_id: str,
    by: str = As,
    reply: str = typer.Option(..., help="The unit's answer, in words."),
    unit: str | None = typer.Option(None, help="The answering unit (checked against the addressee)."),
    post: str | None = typer.Option(None, help="The answerer's post (an order to the unit's head)."),
) -> None:
    """Answer a supervision order addressed to the unit."""
    system = bootstrap(load_settings())
    try:
        found = orders.supervision_order(system.engine, order_id, system.clock())
    finally:
        system.engine.dispose()
    if found is None:
        typer.echo(f"refused: no supervision order {order_id}", err=True)
        raise typer.Exit(3)
    run(c.AnswerSupervisionOrder(found.ticket_id, by, order_id=order_id, reply=reply, unit=unit, post=post))


@case_app.command("orders")
def list_orders(
    status: str | None = typer.Option(None, help="open or answered (default: both)."),
) -> None:
    """Supervision orders: the open ones by deadline (overdue first), then the answered ones."""
    statuses: dict[str | None, orders.Status | None] = {None: None, "open": "open", "answered": "answered"}
    if status not in statuses:
        typer.echo(f"--status {status!r}: expected open or answered", err=True)
        raise typer.Exit(2)
    system = bootstrap(load_settings())
    try:
        everything, now = Visible(everything=True), system.clock()
        found = orders.supervision_orders(system.engine, everything, now, statuses[status])
    finally:
        system.engine.dispose()
    for item in found:
        due = item.due_at.astimezone(BEIJING)
        mark = "OVERDUE " if item.overdue else ""
        typer.echo(
            f"{item.order_id}  {item.ticket_id}  {item.unit} ({item.addressee})  due {due:%Y-%m-%d %H:%M}  "
            f"{mark}{item.status}: {item.answer or item.ask}"
        )


@case_app.command()
def merge(
    main: str,
    tickets: list[str] = typer.Argument(..., help="The tickets to merge into MAIN."),
    by: str = As,
    reason: str = typer.Option("one incident (并案)", help="Why they are one incident."),
) -> None:
    """并案: merge TICKETS into the main case MAIN (supervisor); all of them or none."""
    run(c.MergeCases(main, by, tickets=tuple(tickets), reason=reason))


@case_app.command()
def unmerge(
    ticket: str,
    by: str = As,
    reason: str = typer.Option("not the same incident", help="Why the merge is undone."),
) -> None:
    """Undo the merge of TICKET into its main case (supervisor), before the main case is resolved."""
    run(c.UnmergeCase(ticket, by, reason=reason))


@case_app.command()
def pause(
    ticket: str,
    by: str = As,
    code: str = typer.Option(
        ...,
        "--code",
        "--reason-code",
        help="What the unit waits for: requester, third_party, court or season.",
    ),
    reason: str = typer.Option(..., help="Why, in words."),
    until: datetime | None = typer.Option(
        None, "--until", "--resume-at", help="Expected resume date, e.g. 2026-12-10T09:00:00+08:00."
    ),
) -> None:
    """挂起: ask that the case's clock stand still (a supervisor decides)."""
    run(c.RequestPause(ticket, by, code, reason, until))


@case_app.command("approve-pause")
def approve_pause(
    ticket: str,
    by: str = As,
    until: datetime | None = typer.Option(None, help="Resume by itself then (default: the date asked)."),
    reason: str = typer.Option("", help="Why."),
) -> None:
    """Approve a pause (supervisor): the deadlines and timers stand still from now."""
    run(c.DecidePause(ticket, by, True, until, reason))


@case_app.command("reject-pause")
def reject_pause(ticket: str, by: str = As, reason: str = typer.Option("", help="Why.")) -> None:
    """Reject a pause (supervisor): the clock runs on."""
    run(c.DecidePause(ticket, by, False, None, reason))


@case_app.command()
def resume(ticket: str, by: str = As, note: str | None = typer.Option(None, help="What came.")) -> None:
    """Resume a paused case: its pending deadlines move by the working time paused."""
    run(c.ResumeCase(ticket, by, note))


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
