"""The `jiesu` command: translate arguments, call the system, print the outcome."""

from __future__ import annotations

import json
import logging

import typer
import uvicorn

from consumers.relay import make_producer, relay_forever
from dispatcher.adapters.database import make_engine, upgrade
from dispatcher.bootstrap import utc_now
from dispatcher.settings import load_settings
from jiesu.cli.case import case_app
from jiesu.cli.demo import run_demo
from jiesu.cli.demo_day import DayOptions
from jiesu.cli.demo_history import Span
from jiesu.cli.hotspot import hotspot_app
from jiesu.cli.kafka import kafka_app, topics_app
from jiesu.cli.knowledge import knowledge_app
from jiesu.cli.notifications import notifications_app
from jiesu.cli.report import report_app
from jiesu.cli.rules import rules_app
from jiesu.cli.scores import scores_app
from jiesu.cli.simulate import simulate
from jiesu.cli.sla import list_escalations, sla_app
from jiesu.cli.users import users_app
from jiesu.heap import settle_heap
from jiesu.web.app import create_app
from jiesu.worker import run as run_system

app = typer.Typer(
    help="Jiesu (接诉): dispatch engine for 12345-style citizen hotlines.", no_args_is_help=True
)
config_app = typer.Typer(help="Effective settings.", no_args_is_help=True)
db_app = typer.Typer(help="The database.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(db_app, name="db")
app.add_typer(kafka_app, name="kafka")
app.add_typer(topics_app, name="topics")
app.add_typer(rules_app, name="rules")
app.add_typer(case_app, name="case")
app.add_typer(users_app, name="users")
app.add_typer(sla_app, name="sla")
app.add_typer(scores_app, name="scores")
app.add_typer(notifications_app, name="notifications")
app.add_typer(knowledge_app, name="knowledge")
app.add_typer(report_app, name="report")
app.add_typer(hotspot_app, name="hotspot")
app.command(
    "simulate",
    help="Publish a simulated hotline day; with --workers, also act as units and the callback center.",
)(simulate)
app.command("escalations", help="Escalations that fired, newest first (same as `jiesu sla escalations`).")(
    list_escalations
)


@config_app.command("show")
def config_show() -> None:
    """Print the effective settings (defaults, config file, JIESU_* environment) as JSON."""
    print(json.dumps(load_settings().model_dump(mode="json"), indent=2, ensure_ascii=False))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (idempotent)."""
    settings = load_settings()
    upgrade(settings.database_url)
    print(f"database at head: {settings.database_url}")


def log_at(level: str) -> None:
    logging.basicConfig(level=level.upper().replace("WARN", "WARNING").replace("CRIT", "CRITICAL"))


@app.command()
def run(
    relay: bool = typer.Option(True, help="Relay the outbox to Kafka in this process."),
    log_level: str = typer.Option("info", help="crit, error, warn, info or debug."),
) -> None:
    """Run Jiesu's processes in the foreground until Ctrl-C or SIGTERM."""
    log_at(log_level)
    run_system(load_settings(), relay=relay, loglevel=log_level)


@app.command()
def relay(log_level: str = typer.Option("info", help="crit, error, warn, info or debug.")) -> None:
    """Only publish the outbox to Kafka, until Ctrl-C or SIGTERM (for workers run with --no-relay)."""
    log_at(log_level)
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        relay_forever(
            engine,
            make_producer(settings.kafka_bootstrap),
            utc_now,
            settings.relay_batch_size,
            settings.relay_poll_seconds,
        )
    finally:
        engine.dispose()


@app.command()
def web(
    host: str | None = typer.Option(None, help="Address to bind (default: JIESU_WEB_HOST)."),
    port: int | None = typer.Option(None, help="Port (default: JIESU_WEB_PORT)."),
) -> None:
    """Serve the web app and API (OpenAPI docs at /docs)."""
    settings = load_settings()
    served = create_app(settings)
    settle_heap()
    uvicorn.run(served, host=host or settings.web_host, port=port or settings.web_port)


@app.command()
def demo(
    count: int = typer.Option(
        30, min=1, help="How many simulated requests: with --no-keep-running, or --no-units."
    ),
    rate: float = typer.Option(0.5, min=0.1, max=5.0, help="Requests per second."),
    keep_running: bool = typer.Option(True, help="Keep going until Ctrl-C (else stop after --count)."),
    units: bool = typer.Option(
        True, help="Replay past days, and play the units and the callback center (--no-units: requests only)."
    ),
    history_days: int = typer.Option(
        30, min=0, help="Past days replayed at first start (and 5 sparser months before them; 0: none)."
    ),
    pace: float = typer.Option(
        0.25, min=0.01, help="Real seconds a simulated minute of the units' and callback center's work lasts."
    ),
    seed: int = typer.Option(12345, help="Same seed, same requests, history and decisions."),
) -> None:
    """Start local Kafka, migrate the database, replay past days, run the worker, feed simulated requests,
    act as the units and the callback center, show what happens."""
    span = Span(days=history_days, months=5 if history_days else 0)
    day = DayOptions(seed, rate, pace, span, None if keep_running else count) if units else None
    seen = run_demo(load_settings(), count, rate, keep_running, day)
    if seen < count:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
