"""`jiesu knowledge load | search`: the knowledge base (知识库) operators answer consultations from.

`load` puts the starter set (`JIESU_KNOWLEDGE_FILE`, config/knowledge/starter.yaml, or `--file`) into the
database if it holds no entry yet, so running it again changes nothing; admins then keep the entries in
the `/knowledge` pages or through `/api/knowledge`. `search` answers a question as the intake panel does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from dispatcher.adapters.database import make_engine
from dispatcher.adapters.knowledge import KnowledgeStore
from dispatcher.adapters.knowledge_file import KnowledgeFileError, read_knowledge_file
from dispatcher.bootstrap import utc_now
from dispatcher.reads import knowledge
from dispatcher.settings import Settings, load_settings

knowledge_app = typer.Typer(
    help="The knowledge base (知识库): load the starter set, search.", no_args_is_help=True
)
LOADER = "jiesu"  # who the loaded entries are created by


@contextmanager
def database(settings: Settings) -> Iterator[Engine]:
    """The configured database; a refusal ends the command with one line and exit code 1."""
    engine = make_engine(settings.database_url)
    try:
        yield engine
    except SQLAlchemyError as error:
        first = str(error).splitlines()[0]
        typer.echo(f"error: the database refused ({first}); is it migrated? `jiesu db upgrade`", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()


def load_starter(settings: Settings, file: Path | None = None) -> tuple[int, Path]:
    """Load the knowledge file into an empty knowledge base: (entries stored, the file read); 0 when the
    database had entries. Raises `KnowledgeFileError` for a file that cannot be read or is not valid."""
    path = file or settings.knowledge_file
    entries = read_knowledge_file(path)
    engine = make_engine(settings.database_url)
    try:
        return KnowledgeStore(engine, utc_now).load_if_empty(entries, LOADER), path
    finally:
        engine.dispose()


@knowledge_app.command()
def load(
    file: Path | None = typer.Option(None, help="The knowledge file (default: JIESU_KNOWLEDGE_FILE)."),
) -> None:
    """Load the starter set into the knowledge base if it is empty (once: a second run loads nothing)."""
    settings = load_settings()
    try:
        with database(settings):
            stored, path = load_starter(settings, file)
    except KnowledgeFileError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    if stored:
        typer.echo(f"knowledge base: {stored} entries loaded from {path}")
    else:
        typer.echo("knowledge base: it has entries already; nothing loaded (edit them at /knowledge)")


@knowledge_app.command()
def search(
    question: str = typer.Argument(..., help="The question, as the caller asked it."),
    category: str | None = typer.Option(None, help="A category code or its prefix."),
    every: bool = typer.Option(False, "--all", help="Also entries retired or not valid today."),
    limit: int = typer.Option(5, min=1, max=100, help="At most this many."),
) -> None:
    """The entries that best answer a question, as the intake page's panel finds them."""
    settings = load_settings()
    with database(settings) as engine:
        found = knowledge.search(engine, question, now=utc_now(), category=category, every=every, limit=limit)
    if not found:
        typer.echo("no entry answers this")
        raise typer.Exit(3)
    for match in found:
        keywords = f"  [{', '.join(match.matched_keywords)}]" if match.matched_keywords else ""
        typer.echo(f"{match.score:7.2f}  {match.id}  {match.question}{keywords}")
        typer.echo(f"         {match.answer[:120]}{'…' if len(match.answer) > 120 else ''}")
