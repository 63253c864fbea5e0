"""Dispatch quality of the shipped catalog: the text classifier trained on the training corpus routes the
separately written test set (requests as callers say them, with district and street) to the right unit,
rarely to a wrong one, and sends emergencies to their owner.

Bounded for CI: one training with 2-fold cross-validation (`jiesu rules train` uses 5) on the whole
training corpus. The floors sit below the figures in docs/dispatch-quality.md, so that a change to the
catalog, the corpus or the classifier that makes dispatch clearly worse fails here.
"""

from __future__ import annotations

import shutil

import pytest

from dispatcher.adapters.catalog import catalog_router, save_model
from rules.corpus import read_examples, read_test_set
from rules.evaluation import Report, evaluate, owner_of, urgency_of
from rules.router import CatalogRouter
from rules.training import train
from sla.calendar import ChineseCalendar
from tests.conftest import DEMO_CATALOG

RIGHT_UNIT_FLOOR = 0.82  # measured 86.4% (5-fold training), docs/dispatch-quality.md
WRONG_UNIT_CEILING = 0.07  # measured 5.0%
EMERGENCIES_IN_TRIAGE_CEILING = 25  # measured 17 of 271: the target is 0, not met yet


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> CatalogRouter:
    folder = tmp_path_factory.mktemp("catalog") / "catalog"
    shutil.copytree(DEMO_CATALOG, folder, ignore=shutil.ignore_patterns("model.npz"))
    before = catalog_router(folder, ChineseCalendar())
    examples = read_examples(folder / "corpus" / "train")
    save_model(train(examples, 2, owner=owner_of(before), urgency=urgency_of(before)).model, folder)
    return catalog_router(folder, ChineseCalendar())


@pytest.fixture(scope="module")
def report(router: CatalogRouter) -> Report:
    return evaluate(router, read_test_set(DEMO_CATALOG / "corpus" / "test"))


def test_the_test_set_was_written_apart_from_the_training_corpus():
    train_texts = {e.text for e in read_examples(DEMO_CATALOG / "corpus" / "train")}
    test_texts = [r.text for r in read_test_set(DEMO_CATALOG / "corpus" / "test")]
    assert len(test_texts) >= 1_000
    assert not train_texts & set(test_texts)


def test_plainly_worded_requests_reach_the_right_unit_and_seldom_a_wrong_one(report: Report):
    tally = report.tally()
    summary = ", ".join(f"{what} {tally.share(what):.1%}" for what in ("right", "triage", "wrong"))
    assert tally.share("right") >= RIGHT_UNIT_FLOOR, summary
    assert tally.share("wrong") <= WRONG_UNIT_CEILING, summary


def test_emergencies_reach_their_owner_and_few_wait_in_triage(report: Report, router: CatalogRouter):
    emergencies = report.emergencies()
    assert len(emergencies) >= 200
    in_triage = [o.request.source for o in emergencies if o.got == f"queue {router.catalog.triage_queue}"]
    assert len(in_triage) <= EMERGENCIES_IN_TRIAGE_CEILING, in_triage
    at_owner = len(emergencies) - len(report.emergencies_missed())
    assert at_owner >= 0.8 * len(emergencies)
    assert report.emergencies_by_tier()["emergency"] >= 0.5 * len(emergencies)


def test_every_decision_names_the_catalog_and_the_model(router: CatalogRouter):
    model = router.classifier.model
    assert model is not None and router.version.endswith(f"+{model.version}")
