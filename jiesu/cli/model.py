"""`jiesu rules train | evaluate`: the text classifier of the dispatch catalog, and dispatch quality measured
on the separately written test set."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import typer
from sqlalchemy.exc import SQLAlchemyError

from dispatcher.adapters.catalog import catalog_router, save_model
from dispatcher.adapters.database import make_engine
from dispatcher.adapters.sla_file import SlaFileError, load_sla
from dispatcher.reads.corrections import Correction, corrections
from dispatcher.settings import load_settings
from rules.corpus import (
    CorpusError,
    Example,
    check_categories,
    read_emergency_examples,
    read_examples,
    read_retired_examples,
    read_situations,
    read_test_set,
)
from rules.evaluation import Report, evaluate, owner_of, urgency_of
from rules.loader import CatalogError
from rules.router import CatalogRouter
from rules.training import TRIAGE_COST, WRONG_COST, Trained, train

TRAIN_DIR, EMERGENCY_DIR = Path("corpus/train"), Path("corpus/emergency")
SITUATIONS, DEV_DIR, TEST_DIR = Path("corpus/situations.yaml"), Path("corpus/dev"), Path("corpus/test")
RETIRED_DIR = Path("corpus/retired")


def _folder(catalog: Path | None) -> Path:
    return catalog or load_settings().catalog_dir


def _router(folder: Path) -> CatalogRouter:
    try:
        return catalog_router(folder, load_sla(load_settings().sla_file).calendar)
    except SlaFileError as error:
        typer.echo(f"SLA file refused:\n{error}", err=True)
        raise typer.Exit(2) from None
    except CatalogError as error:
        typer.echo(f"catalog refused:\n{error}", err=True)
        raise typer.Exit(2) from None


def training_examples(folder: Path, router: CatalogRouter) -> list[Example]:
    """The training requests, the danger-labelled ones, the situation notes and the retired development and
    test rounds of the catalog's corpus."""
    try:
        examples = [
            *read_examples(folder / TRAIN_DIR),
            *read_emergency_examples(folder / EMERGENCY_DIR),
            *read_situations(folder / SITUATIONS),
            *(read_retired_examples(folder / RETIRED_DIR) if (folder / RETIRED_DIR).is_dir() else []),
        ]
        check_categories(examples, router.catalog.categories)
    except (CorpusError, OSError) as error:
        typer.echo(f"corpus refused:\n{error}", err=True)
        raise typer.Exit(2) from None
    return examples


def development_set(folder: Path, router: CatalogRouter) -> list[Example]:
    """The development requests the model is calibrated on (none when the catalog has no such folder)."""
    if not (folder / DEV_DIR).is_dir():
        return []
    try:
        requests = read_test_set(folder / DEV_DIR)
        check_categories(requests, router.catalog.categories)
    except (CorpusError, OSError) as error:
        typer.echo(f"development set refused:\n{error}", err=True)
        raise typer.Exit(2) from None
    return [Example(r.text, r.category, r.source, r.emergency) for r in requests]


def read_corrections(since: datetime | None = None) -> list[Correction] | None:
    """The center's corrections in the database of the settings; None (said) when it cannot be read."""
    url = load_settings().database_url
    engine = make_engine(url)
    try:
        return corrections(engine, since)
    except SQLAlchemyError as error:
        typer.echo(f"corrections not read from the database ({type(error).__name__}): {error.args[0][:200]}")
        return None
    finally:
        engine.dispose()


def train_catalog(
    folder: Path, router: CatalogRouter, learned: list[Example] | None = None, folds: int = 5
) -> tuple[Trained, int]:
    """Train on the catalog's corpus (and `learned`, the center's corrections) with its owners and
    urgencies, calibrated on its development set (else by cross-validation), stamped with the moment of
    training. Returns the training and the number of examples."""
    examples = training_examples(folder, router) + (learned or [])
    now = datetime.now(UTC).isoformat(timespec="seconds")
    development = development_set(folder, router)
    return train(examples, folds, now, owner_of(router), urgency_of(router), development), len(examples)


def print_training(trained: Trained, examples: int, seconds: float) -> None:
    model = trained.model
    typer.echo(
        f"model {model.version}: {examples} examples, {len(model.classes)} categories, "
        f"{len(model.vocabulary)} n-grams, trained in {seconds:.0f}s"
    )
    typer.echo(
        f"measured on {trained.measured_on}: top-1 {trained.accuracy:.1%}, right category among the top 3 "
        f"{trained.top3:.1%}"
    )
    before, after = trained.calibration_error
    typer.echo(
        f"calibration: temperature {model.temperature:.2f}, "
        f"expected calibration error {before:.3f} -> {after:.3f}"
    )
    typer.echo(
        "threshold  coverage  right unit  wrong unit  cost (below the threshold, triage, cost 1; a wrong "
        f"unit, cost {WRONG_COST:g}; the confidence is the proposed unit's share)"
    )
    for point in trained.curve:
        mark = "  <- chosen (all urgencies together)" if point.threshold == model.threshold else ""
        typer.echo(
            f"  {point.threshold:>6.2f}  {point.coverage:>8.1%}  {point.precision:>10.1%}"
            f"  {point.wrong:>10.1%}  {point.cost:>5.3f}{mark}"
        )


def print_thresholds(trained: Trained) -> None:
    model = trained.model
    tiers = ", ".join(f"{tier} {value:.2f}" for tier, value in model.thresholds.items())
    costs = ", ".join(f"{tier} {cost:g}" for tier, cost in TRIAGE_COST.items())
    typer.echo(f"thresholds by the urgency of the proposed category: {tiers} (triage costs {costs})")
    if (detector := model.danger) is not None:
        typer.echo(f"danger: temperature {detector.temperature:.2f}, threshold {detector.threshold:.2f}")
    if (danger := trained.danger) is not None:
        typer.echo(
            f"danger on the development set: {danger.caught} of {danger.emergencies} emergencies flagged, "
            f"{danger.false_alarms} false alarms among {danger.others} other requests (a missed emergency "
            f"costs {TRIAGE_COST['emergency']:g} false alarms)"
        )


def train_command(
    catalog: Path | None = typer.Option(
        None, "--catalog", help="Catalog folder (default: JIESU_CATALOG_DIR)."
    ),
    folds: int = typer.Option(
        5, min=2, help="Cross-validation folds for calibration, when the catalog has no development set."
    ),
    with_corrections: bool = typer.Option(
        True,
        "--corrections/--no-corrections",
        help="Also learn from the center's corrections in the database.",
    ),
) -> None:
    """Train the text classifier on the catalog's corpus (and the center's corrections) and store it next to
    the catalog."""
    folder = _folder(catalog)
    router = _router(folder)
    learned: list[Example] = []
    if with_corrections and (found := read_corrections()) is not None:
        learned = [e for c in found if (e := c.example()) and e.category in router.catalog.categories]
        typer.echo(
            f"corrections: {len(found)} in the database, {len(learned)} with a category of this catalog"
        )
    began = time.monotonic()
    trained, examples = train_catalog(folder, router, learned, folds)
    print_training(trained, examples, time.monotonic() - began)
    print_thresholds(trained)
    path = save_model(trained.model, folder)
    typer.echo(f"written {path}; dispatch now names {router.catalog.version}+{trained.model.version}")


def print_report(report: Report) -> None:
    total = report.tally()
    typer.echo(
        f"{total.total} requests: right unit {total.share('right'):.1%}, triage {total.share('triage'):.1%}, "
        f"wrong unit {total.share('wrong'):.1%}; category right {report.category_accuracy():.1%}"
    )
    typer.echo("domain  requests  right  triage  wrong")
    for domain in report.domains():
        tally = report.tally(domain)
        typer.echo(
            f"  {domain:<5} {tally.total:>8} {tally.share('right'):>6.0%} {tally.share('triage'):>7.0%} "
            f"{tally.share('wrong'):>6.0%}"
        )
    confused = report.confused()
    if confused:
        typer.echo("most confused (true category -> proposed, sent to a wrong unit):")
        for (truth, proposed), count in confused:
            typer.echo(f"  {truth} -> {proposed}: {count}")
    missed = report.emergencies_missed()
    emergencies = report.emergencies()
    in_triage = sum(outcome.verdict == "triage" for outcome in missed)
    tiers = ", ".join(f"{tier} {count}" for tier, count in report.emergencies_by_tier().most_common())
    typer.echo(
        f"emergencies: {len(emergencies)}; in triage {in_triage}, at a wrong unit {len(missed) - in_triage}; "
        f"at their owner {len(emergencies) - len(missed)} ({tiers})"
    )
    for outcome in missed:
        typer.echo(
            f"  {outcome.request.source} {outcome.got} ({outcome.urgency}), expected {outcome.expected}"
        )


def evaluate_command(
    catalog: Path | None = typer.Option(
        None, "--catalog", help="Catalog folder (default: JIESU_CATALOG_DIR)."
    ),
    test_set: Path | None = typer.Option(None, help="Test set folder (default: the catalog's corpus/test)."),
) -> None:
    """Route the test set's requests from their text and location, and report dispatch quality."""
    folder = _folder(catalog)
    router = _router(folder)
    try:
        requests = read_test_set(test_set or folder / TEST_DIR)
        check_categories(requests, router.catalog.categories)
    except (CorpusError, OSError) as error:
        typer.echo(f"test set refused:\n{error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"catalog {router.version}")
    print_report(evaluate(router, requests))
    model = router.classifier.model
    if model is not None and model.trained_at:
        since = read_corrections(datetime.fromisoformat(model.trained_at))
        if since is not None:
            usable = sum(c.example() is not None for c in since)
            typer.echo(
                f"corrections since the model in force ({model.trained_at}): {len(since)}, {usable} with a "
                "category (jiesu rules train learns from them)"
            )
