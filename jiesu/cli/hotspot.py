"""`jiesu hotspot ...`: the open hotspots, and governance tasks (主动治理任务) made of them: the same as the
REST API (`/api/hotspots`, `/api/governance-tasks`) and, for a unit's report, the actions topic."""

from __future__ import annotations

from datetime import datetime

import typer

from dispatcher.bootstrap import System, bootstrap
from dispatcher.domain import commands as c
from dispatcher.domain.access import Visible
from dispatcher.domain.case import CaseError
from dispatcher.domain.governance import TaskConflictError
from dispatcher.reads import governance, hotspots
from dispatcher.service.lifecycle import CaseNotFoundError, InvalidActionError
from dispatcher.settings import load_settings
from sla.calendar import BEIJING

hotspot_app = typer.Typer(
    help="Hotspots (主动治理): list the open ones; make one a governance task, report it, list the tasks.",
    no_args_is_help=True,
)
As = typer.Option(..., "--as", help="The person acting.")
EXIT = {CaseNotFoundError: 3, TaskConflictError: 5, InvalidActionError: 2}


def _handle(system: System, command: c.GovernanceCommand) -> str:
    try:
        result = system.bus.handle(command)
    except CaseError as error:
        system.engine.dispose()
        typer.echo(f"refused: {error}", err=True)
        raise typer.Exit(EXIT.get(type(error), 1)) from None
    return str(result or "")


def _line(task: governance.GovernanceTaskView) -> str:
    due = task.due_at.astimezone(BEIJING)
    mark = "OVERDUE " if task.overdue else ""
    said = task.report if task.status == "done" else task.ask
    return (
        f"{task.task_id}  hotspot {task.hotspot_id}  {task.unit}  due {due:%Y-%m-%d %H:%M}  "
        f"{len(task.ticket_ids)} cases  {mark}{task.status}: {said}"
    )


@hotspot_app.command("list")
def list_hotspots(
    status: str = typer.Option("open", help="open or closed."),
    district: str | None = typer.Option(None, help="Only this district (its code)."),
) -> None:
    """The hotspots, newest first: where, what, requests against expected, and its task if any."""
    if status not in ("open", "closed"):
        typer.echo(f"--status {status!r}: expected open or closed", err=True)
        raise typer.Exit(2)
    system = bootstrap(load_settings())
    try:
        found = hotspots.hotspots(system.engine, status=status, district=district)
        tasks = governance.tasks_of_hotspots(system.engine, [h.hotspot_id for h in found], system.clock())
    finally:
        system.engine.dispose()
    for h in found:
        where = h.community or h.street or h.district
        task = tasks.get(h.hotspot_id)
        typer.echo(
            f"{h.hotspot_id}  {where}  {h.category}  {h.window}  {h.observed}/{h.expected:.1f}  "
            f"detected {h.detected_at.astimezone(BEIJING):%Y-%m-%d %H:%M}"
            + (f"  task {task.task_id} ({task.status})" if task else "")
        )


@hotspot_app.command("task")
def make_task(
    hotspot_id: str,
    by: str = As,
    unit: str = typer.Option(..., help="The unit the task is for."),
    ask: str = typer.Option(..., help="What is asked of the unit, in words."),
    days: int | None = typer.Option(None, help="Due in this many working days (business calendar)."),
    due_at: datetime | None = typer.Option(
        None, help="Or due at this moment (ISO 8601 with its offset, e.g. 2026-12-10T18:00:00+08:00)."
    ),
) -> None:
    """主动治理: make the hotspot a governance task for a unit; links its cases (one task per hotspot)."""
    system = bootstrap(load_settings())
    command = c.CreateGovernanceTask(
        by, hotspot_id=hotspot_id, unit=unit, ask=ask, working_days=days, due_at=due_at
    )
    task_id = _handle(system, command)
    try:
        found = governance.governance_task(system.engine, task_id, system.clock())
    finally:
        system.engine.dispose()
    assert found is not None
    typer.echo(_line(found))
    typer.echo(f"  {found.how}")


@hotspot_app.command("report-task")
def report_task(
    task_id: str,
    by: str = As,
    report: str = typer.Option(..., help="What the unit did about the cause, in words."),
    unit: str | None = typer.Option(None, help="The reporting unit (checked against the task's)."),
) -> None:
    """The task's unit reports the cause dealt with: the task is done (once)."""
    system = bootstrap(load_settings())
    _handle(system, c.ReportGovernanceTask(by, task_id=task_id, report=report, unit=unit))
    try:
        found = governance.governance_task(system.engine, task_id, system.clock())
    finally:
        system.engine.dispose()
    assert found is not None
    typer.echo(_line(found))


@hotspot_app.command("tasks")
def list_tasks(status: str | None = typer.Option(None, help="open or done (default: both).")) -> None:
    """Governance tasks: the open ones by deadline (overdue first), then the done ones."""
    statuses: dict[str | None, governance.Status | None] = {None: None, "open": "open", "done": "done"}
    if status not in statuses:
        typer.echo(f"--status {status!r}: expected open or done", err=True)
        raise typer.Exit(2)
    system = bootstrap(load_settings())
    try:
        found = governance.governance_tasks(
            system.engine, Visible(everything=True), system.clock(), statuses[status]
        )
    finally:
        system.engine.dispose()
    for task in found:
        typer.echo(_line(task))
