"""`jiesu kafka up|down|status|logs` and `jiesu topics create`: one short line per step, errors as one line.

Exit codes: 0 success (for `status`: a broker answers), 1 failure (for `status`: none answers),
2 missing tool or bad configuration.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

import typer
from kafka.errors import KafkaError

from dispatcher.settings import Settings, load_settings
from jiesu.localkafka import broker, topics

kafka_app = typer.Typer(help="A local single-node Apache Kafka broker (KRaft) for development and tests.")
topics_app = typer.Typer(help="The contract's topics.")

P = ParamSpec("P")
R = TypeVar("R")


def one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn LocalKafkaError, Kafka client errors and configuration errors into one line and an exit code."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except broker.LocalKafkaError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(error.exit_code) from None
        except KafkaError as error:
            typer.echo(f"error: kafka: {error}", err=True)
            raise typer.Exit(1) from None
        except ValueError as error:
            typer.echo(f"error: {' '.join(str(error).split())}", err=True)
            raise typer.Exit(2) from None

    return wrapper


def _settings() -> Settings:
    settings = load_settings()
    topics.endpoint(settings.kafka_bootstrap)
    return settings


def _create_topics(settings: Settings) -> None:
    created = topics.create_topics(settings)
    existing = [name for name in topics.contract_topics(settings) if name not in created]
    if created:
        typer.echo(f"topics: created {', '.join(created)}")
    if existing:
        typer.echo(f"topics: existing {', '.join(existing)}")


@kafka_app.command("up")
@one_line_errors
def up() -> None:
    """Fetch the jars once, format storage, start the broker in the background, create the contract topics."""
    settings = _settings()
    pid = broker.start(settings, typer.echo)
    if pid is None:
        typer.echo("broker: not starting another; run `jiesu topics create` to add the contract topics there")
        return
    _create_topics(settings)


@kafka_app.command("down")
@one_line_errors
def down() -> None:
    """Stop the broker started by `jiesu kafka up` (SIGTERM, SIGKILL only as a last resort)."""
    broker.stop(_settings(), typer.echo)


@kafka_app.command("status")
@one_line_errors
def status() -> None:
    """Print running/stopped, pid, bootstrap and topics; exit code 0 if a broker answers, 1 if not."""
    settings = _settings()
    pid = broker.broker_pid(broker.Layout.of(settings))
    answers = topics.answers_metadata(settings.kafka_bootstrap)
    state = "running" if answers else ("starting" if pid else "stopped")
    owner = str(pid) if pid else ("- (not started by `jiesu kafka up`)" if answers else "-")
    typer.echo(f"state: {state}\npid: {owner}\nbootstrap: {settings.kafka_bootstrap}")
    if answers:
        typer.echo(f"topics: {', '.join(topics.list_topics(settings)) or '-'}")
    raise typer.Exit(0 if answers else 1)


@kafka_app.command("logs")
@one_line_errors
def logs(
    lines: Annotated[int, typer.Option("-n", "--lines", min=0, help="how many lines of the tail")] = 50,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new lines")] = False,
) -> None:
    """Print the tail of the broker log (`--follow` keeps printing until interrupted)."""
    layout = broker.Layout.of(_settings())
    if not layout.log.exists() and not follow:
        typer.echo(f"no broker log at {layout.log}")
        return
    for line in broker.log_tail(layout, lines):
        typer.echo(line)
    position = layout.log.stat().st_size if layout.log.exists() else 0
    try:
        while follow:
            time.sleep(0.5)
            size = layout.log.stat().st_size if layout.log.exists() else 0
            if size != position:
                with layout.log.open("rb") as log:
                    log.seek(position if size > position else 0)
                    typer.echo(log.read().decode("utf-8", errors="replace"), nl=False)
                    position = log.tell()
    except KeyboardInterrupt:
        pass


@topics_app.command("create")
@one_line_errors
def create() -> None:
    """Create the contract's topics (partitions and replication from the settings); existing ones are kept."""
    settings = _settings()
    if not topics.port_open(settings.kafka_bootstrap):
        raise broker.LocalKafkaError(f"no broker answers on {settings.kafka_bootstrap}; try `jiesu kafka up`")
    _create_topics(settings)
