"""Training the text classifier (scikit-learn): a linear support vector machine (one-vs-rest) over
character 1-2-grams, whose scores become probabilities by a softmax at a temperature fitted on out-of-fold
predictions (the calibration), with the triage threshold chosen from the out-of-fold precision/coverage
curve. The settings were chosen by 3-fold cross-validation on the training corpus (docs/dispatch-quality.md).

The threshold weighs the two ways a proposal can cost the center: a request below it waits in triage for
an operator (cost 1); a request above it whose category sends it to the wrong unit is returned by that
unit, after up to a day, and dispatched again (cost `WRONG_COST`). The curve judges a proposal right when
its category has the same owner as the true one (`owner`), which is what the requester notices.

Everything here is measured on the training corpus by cross-validation; the separately written test set is
for `jiesu rules evaluate` only.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from rules.corpus import Example, fingerprint
from rules.textmodel import SIZES, TextModel, ngrams

C = 1.0  # inverse regularisation
MIN_DF = 1
FOLDS = 5
WRONG_COST = 3.0  # a request sent to a wrong unit costs as much as three waiting in triage
# waiting in triage, by the urgency of the proposed category: an emergency's wait is what costs most
TRIAGE_COST = {"emergency": 10.0, "urgent": 2.0, "general": 1.0, "complex": 1.0}


@dataclass(frozen=True)
class Point:
    threshold: float
    coverage: float  # share of requests whose top probability reaches the threshold
    precision: float  # share of those whose top category has the right owner
    wrong: float  # share of all requests: accepted, with the wrong owner

    @property
    def cost(self) -> float:
        """Per request: triage costs 1, a wrong unit `WRONG_COST`."""
        return self.weighed(1.0)

    def weighed(self, triage: float) -> float:
        return triage * (1 - self.coverage) + WRONG_COST * self.wrong


@dataclass(frozen=True)
class Trained:
    model: TextModel
    accuracy: float  # out-of-fold top-1
    top3: float  # out-of-fold: the right category among the three proposals
    calibration_error: tuple[float, float]  # expected calibration error, before and after the temperature
    curve: tuple[Point, ...]


def _fit(texts: Sequence[str], labels: Sequence[str]) -> tuple[TfidfVectorizer, LinearSVC]:
    vectorizer = TfidfVectorizer(
        analyzer=partial(ngrams, sizes=SIZES), sublinear_tf=True, min_df=MIN_DF, dtype=np.float32
    )
    matrix = vectorizer.fit_transform(texts)
    linear = LinearSVC(C=C, random_state=0)  # liblinear shuffles: the same corpus, the same model
    linear.fit(matrix, labels)
    return vectorizer, linear


def _weights(linear: LinearSVC) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients (classes × features) and intercepts, one row per class: with two classes scikit-learn
    keeps one row for the second (its score against the first's 0), which a softmax reads alike."""
    coef, intercept = linear.coef_, linear.intercept_
    if len(linear.classes_) == 2:
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    return coef, intercept


def _scores(linear: LinearSVC, matrix: Any) -> np.ndarray:
    coef, intercept = _weights(linear)
    return np.asarray(matrix @ coef.T + intercept)


def out_of_fold(examples: Sequence[Example], folds: int = FOLDS) -> tuple[np.ndarray, list[str]]:
    """Each example's class scores from a model that never saw it; the class order is `sorted(labels)`."""
    texts = [e.text for e in examples]
    labels = np.array([e.category for e in examples])
    classes = sorted(set(labels))
    scores = np.zeros((len(examples), len(classes)), dtype=np.float64)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=20261202)
    for train, held in splitter.split(texts, labels):
        vectorizer, linear = _fit([texts[i] for i in train], labels[train].tolist())
        fold_scores = _scores(linear, vectorizer.transform([texts[i] for i in held]))
        columns = [classes.index(code) for code in linear.classes_]
        scores[np.ix_(held, columns)] = fold_scores
        missing = [i for i, code in enumerate(classes) if code not in set(linear.classes_)]
        scores[np.ix_(held, missing)] = -1e9
    return scores, classes


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    scaled = scores / temperature
    exp = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


def fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of the true classes (a grid, then refined)."""

    def loss(temperature: float) -> float:
        probabilities = softmax(scores, temperature)[np.arange(len(truth)), truth]
        return float(-np.log(np.clip(probabilities, 1e-12, None)).mean())

    grid = np.geomspace(0.05, 20, 60)
    best = float(grid[np.argmin([loss(t) for t in grid])])
    fine = np.linspace(best * 0.85, best * 1.15, 31)
    return float(fine[np.argmin([loss(t) for t in fine])])


def calibration_error(probabilities: np.ndarray, truth: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of the top proposal: |confidence − accuracy| averaged over 10 bins."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == truth
    edges = np.linspace(0, 1, bins + 1)
    error = 0.0
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            error += inside.mean() * abs(confidence[inside].mean() - correct[inside].mean())
    return float(error)


def coverage_curve(probabilities: np.ndarray, correct: np.ndarray) -> tuple[Point, ...]:
    """`correct[i]`: request i's top proposal has the right owner."""
    confidence = probabilities.max(axis=1)
    points = []
    for threshold in np.round(np.arange(0.0, 1.0, 0.05), 2):
        accepted = confidence >= threshold
        precision = float(correct[accepted].mean()) if accepted.any() else 1.0
        wrong = float((accepted & ~correct).mean())
        points.append(Point(float(threshold), float(accepted.mean()), precision, wrong))
    return tuple(points)


def choose_threshold(curve: Sequence[Point], triage: float = 1.0) -> float:
    """The threshold of the least cost (the lowest of equals), a request in triage costing `triage`."""
    return min(curve, key=lambda point: (round(point.weighed(triage), 6), point.threshold)).threshold


def tier_thresholds(
    probabilities: np.ndarray, correct: np.ndarray, tiers: Sequence[str], proposed: np.ndarray
) -> dict[str, float]:
    """A threshold per urgency: over the requests whose top proposal is of that urgency, the least cost
    with that urgency's triage cost."""
    found = {}
    for tier, cost in TRIAGE_COST.items():
        mine = np.array([tiers[index] == tier for index in proposed])
        if mine.any():
            found[tier] = choose_threshold(coverage_curve(probabilities[mine], correct[mine]), cost)
    return found


def train(
    examples: Sequence[Example],
    folds: int = FOLDS,
    trained_at: str = "",
    owner: Callable[[str], str] | None = None,
    urgency: Callable[[str], str] | None = None,
) -> Trained:
    """Cross-validate for calibration and the thresholds, then fit the model on every example. `owner`
    names the unit a category goes to (without it, only the same category counts as right); `urgency` its
    tier (with it, a threshold per tier)."""
    scores, classes = out_of_fold(examples, folds)
    truth = np.array([classes.index(e.category) for e in examples])
    temperature = fit_temperature(scores, truth)
    raw, calibrated = softmax(scores, 1.0), softmax(scores, temperature)
    owners = [owner(code) if owner else code for code in classes]
    best = calibrated.argmax(axis=1)
    correct = np.array([owners[proposed] == owners[true] for proposed, true in zip(best, truth, strict=True)])
    curve = coverage_curve(calibrated, correct)
    tiers = [urgency(code) if urgency else "general" for code in classes]
    thresholds = tier_thresholds(calibrated, correct, tiers, best) if urgency else {}
    ranked = np.argsort(-calibrated, axis=1)[:, :3]
    vectorizer, linear = _fit([e.text for e in examples], [e.category for e in examples])
    coef, intercept = _weights(linear)
    model = TextModel(
        version=fingerprint(examples, SIZES, C, MIN_DF),
        classes=tuple(str(code) for code in linear.classes_),
        vocabulary={str(gram): int(index) for gram, index in vectorizer.vocabulary_.items()},
        idf=vectorizer.idf_.astype(np.float32),
        coef=np.ascontiguousarray(coef.T, dtype=np.float32),
        intercept=intercept.astype(np.float32),
        temperature=temperature,
        threshold=choose_threshold(curve),
        trained_at=trained_at,
        thresholds=thresholds,
    )
    return Trained(
        model,
        accuracy=float((ranked[:, 0] == truth).mean()),
        top3=float((ranked == truth[:, None]).any(axis=1).mean()),
        calibration_error=(calibration_error(raw, truth), calibration_error(calibrated, truth)),
        curve=curve,
    )
