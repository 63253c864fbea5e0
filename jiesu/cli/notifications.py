"""`jiesu notifications`: the delivery log's failures, and people's preferences (channels, quiet hours)."""

from __future__ import annotations

import typer

from dispatcher.adapters.database import make_engine
from dispatcher.adapters.preferences import save_preference
from dispatcher.reads.notifications import notifications
from dispatcher.settings import load_settings
from notifications.message import ChannelKind
from notifications.policy import parse_quiet

notifications_app = typer.Typer(
    help="Messages sent about cases, and how people want them.", no_args_is_help=True
)


@notifications_app.command("failed")
def failed(person: str | None = typer.Option(None, help="Only this recipient.")) -> None:
    """Messages that could not be delivered, with the last error."""
    engine = make_engine(load_settings().database_url)
    rows = notifications(engine, recipient=person, status="failed")
    engine.dispose()
    for row in rows:
        typer.echo(
            f"{row['created_at']:%Y-%m-%d %H:%M} {row['kind']} → {row['recipient']} on {row['channel']} "
            f"({row['address']}) after {row['attempts']} attempts: {row['last_error']}"
        )
    if not rows:
        typer.echo("no failed notification")


@notifications_app.command("prefer")
def prefer(
    person: str = typer.Argument(..., help="An account's username or a catalog person's id."),
    address: list[str] = typer.Option(
        ..., "--address", help="CHANNEL=ADDRESS, in order of preference, e.g. --address sms=13800000000"
    ),
    quiet: str | None = typer.Option(None, help="Quiet hours for non-urgent messages, e.g. 22:00-07:00."),
    language: str = typer.Option("zh", help="zh or en."),
) -> None:
    """Set how a person is told: the channels in order (the next is tried when one fails for good)."""
    addresses = []
    for item in address:
        kind, _, where = item.partition("=")
        if kind not in ChannelKind.__members__.values() or not where:
            kinds = ", ".join(kind.value for kind in ChannelKind)
            raise typer.BadParameter(f"{item!r}: write CHANNEL=ADDRESS with a channel among {kinds}")
        addresses.append((kind, where))
    try:
        parse_quiet(quiet)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    if language not in ("zh", "en"):
        raise typer.BadParameter("language is zh or en")
    engine = make_engine(load_settings().database_url)
    save_preference(engine, person, addresses, quiet, language)
    engine.dispose()
    typer.echo(f"{person}: {', '.join(item for item in address)}" + (f"; quiet {quiet}" if quiet else ""))
