"""Training the text classifier (scikit-learn): a linear support vector machine (one-vs-rest) over
character 1-2-grams, whose scores become probabilities by a softmax at a fitted temperature (the
calibration), with the triage thresholds chosen from a measured precision/coverage curve. Temperature and
thresholds are fitted on held-out requests: the development set when the catalog has one (written apart
from the training corpus, as callers speak), else out-of-fold predictions of the training corpus.

A second linear model over the same features tells danger (an emergency: gas, fire, someone trapped...)
from the rest, trained on the danger-labelled requests; its threshold is chosen on the development set's
emergency labels, a missed emergency costing as much as `TRIAGE_COST["emergency"]` false alarms.

The threshold weighs the two ways a proposal can cost the center: a request below it waits in triage for
an operator (cost 1); a request above it whose category sends it to the wrong unit is returned by that
unit, after up to a day, and dispatched again (cost `WRONG_COST`). The curve judges a proposal right when
its category has the same owner as the true one (`owner`), which is what the requester notices.

The separately written test set is for `jiesu rules evaluate` only: nothing here reads it.
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

from rules.classifier import CANDIDATES
from rules.corpus import Example, fingerprint
from rules.textmodel import SIZES, DangerModel, TextModel, ngrams

C = 1.0  # inverse regularisation
MIN_DF = 1
FOLDS = 5
# a request sent to a wrong unit costs as much as five waiting in triage: returned after up to a day and
# dispatched again, the requester waits and the unit's response rate suffers (with 3 and 4 the development
# set had 3.0% and 2.7% at a wrong unit: no margin under the 3% the center asks for)
WRONG_COST = 5.0
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
class Danger:
    """How the danger model did on the held-out requests at its threshold."""

    threshold: float
    emergencies: int
    caught: int  # emergencies at or above the threshold
    false_alarms: int  # other requests at or above it
    others: int

    @property
    def cost(self) -> float:
        """A missed emergency costs what an emergency's wait in triage does; a false alarm 1."""
        return TRIAGE_COST["emergency"] * (self.emergencies - self.caught) + self.false_alarms


@dataclass(frozen=True)
class Trained:
    model: TextModel
    measured_on: str  # what the figures below come from: the development set, or cross-validation
    accuracy: float  # top-1 category on held-out requests
    top3: float  # held-out: the right category among the three proposals
    calibration_error: tuple[float, float]  # expected calibration error, before and after the temperature
    curve: tuple[Point, ...]
    danger: Danger | None = None


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


def by_owner(
    probabilities: np.ndarray, owners: Sequence[str], candidates: int = CANDIDATES
) -> tuple[np.ndarray, np.ndarray]:
    """As the router decides: among each request's `candidates` most probable classes, the owner with the
    largest share of probability; returns the class proposed (that owner's most probable) and the share."""
    ranked = np.argsort(-probabilities, axis=1)[:, :candidates]
    proposed = np.empty(len(probabilities), dtype=np.int64)
    confidence = np.empty(len(probabilities), dtype=np.float64)
    for row, classes in enumerate(ranked):
        shares: dict[str, float] = {}
        first: dict[str, int] = {}
        for index in classes:
            shares[owners[index]] = shares.get(owners[index], 0.0) + float(probabilities[row, index])
            first.setdefault(owners[index], int(index))
        best = max(shares, key=shares.__getitem__)
        proposed[row], confidence[row] = first[best], shares[best]
    return proposed, confidence


def coverage_curve(confidence: np.ndarray, correct: np.ndarray) -> tuple[Point, ...]:
    """`confidence[i]`: the share of request i's proposed owner; `correct[i]`: that owner is the right one."""
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
    confidence: np.ndarray, correct: np.ndarray, tiers: Sequence[str], proposed: np.ndarray
) -> dict[str, float]:
    """A threshold per urgency: over the requests whose top proposal is of that urgency, the least cost
    with that urgency's triage cost."""
    found = {}
    for tier, cost in TRIAGE_COST.items():
        mine = np.array([tiers[index] == tier for index in proposed])
        if mine.any():
            found[tier] = choose_threshold(coverage_curve(confidence[mine], correct[mine]), cost)
    return found


def danger_examples(examples: Sequence[Example]) -> tuple[list[str], list[int]]:
    """Texts and danger labels: the labelled examples, and as calm ones the unlabelled examples of every
    category that has no labelled danger (a request about a pension is not an emergency)."""
    dangerous = {e.category for e in examples if e.emergency}
    chosen = [e for e in examples if e.emergency is not None or e.category not in dangerous]
    return [e.text for e in chosen], [int(bool(e.emergency)) for e in chosen]


def sigmoid(scores: np.ndarray, temperature: float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(scores / temperature, -50, 50)))


def fit_danger(scores: np.ndarray, truth: np.ndarray) -> tuple[float, Danger]:
    """The danger model's temperature (least negative log-likelihood) and threshold (least cost: a missed
    emergency costs `TRIAGE_COST["emergency"]`, a false alarm 1) on held-out requests."""

    def loss(temperature: float) -> float:
        p = np.clip(sigmoid(scores, temperature), 1e-12, 1 - 1e-12)
        return float(-(truth * np.log(p) + (1 - truth) * np.log(1 - p)).mean())

    grid = np.geomspace(0.05, 20, 60)
    temperature = float(grid[np.argmin([loss(t) for t in grid])])
    probabilities = sigmoid(scores, temperature)
    points = [
        Danger(
            float(threshold),
            int(truth.sum()),
            int((flagged & (truth == 1)).sum()),
            int((flagged & (truth == 0)).sum()),
            int((truth == 0).sum()),
        )
        for threshold in np.round(np.arange(0.05, 1.0, 0.05), 2)
        for flagged in [probabilities >= threshold]
    ]
    return temperature, min(points, key=lambda point: point.cost)  # the lowest threshold of equal cost


def train(
    examples: Sequence[Example],
    folds: int = FOLDS,
    trained_at: str = "",
    owner: Callable[[str], str] | None = None,
    urgency: Callable[[str], str] | None = None,
    development: Sequence[Example] = (),
) -> Trained:
    """Fit the model on every example; calibrate it and choose its thresholds on `development` (held-out
    requests) when given, else on out-of-fold predictions of `folds` folds. `owner` names the unit a
    category goes to (without it, only the same category counts as right); `urgency` its tier (with it, a
    threshold per tier)."""
    vectorizer, linear = _fit([e.text for e in examples], [e.category for e in examples])
    held = [e for e in development if e.category in set(linear.classes_)]
    if held:
        scores, classes = _scores(linear, vectorizer.transform([e.text for e in held])), list(linear.classes_)
        measured_on = f"the development set ({len(held)} requests)"
    else:
        scores, classes = out_of_fold(examples, folds)
        held, measured_on = list(examples), f"{folds}-fold cross-validation"
    truth = np.array([classes.index(e.category) for e in held])
    temperature = fit_temperature(scores, truth)
    raw, calibrated = softmax(scores, 1.0), softmax(scores, temperature)
    owners = [owner(code) if owner else code for code in classes]
    best, confidence = by_owner(calibrated, owners)
    correct = np.array([owners[proposed] == owners[true] for proposed, true in zip(best, truth, strict=True)])
    curve = coverage_curve(confidence, correct)
    tiers = [urgency(code) if urgency else "general" for code in classes]
    thresholds = tier_thresholds(confidence, correct, tiers, best) if urgency else {}
    ranked = np.argsort(-calibrated, axis=1)[:, :3]
    coef, intercept = _weights(linear)
    danger = _danger(vectorizer, examples, development)
    model = TextModel(
        version=fingerprint(examples, SIZES, C, MIN_DF, fingerprint(development)),
        classes=tuple(str(code) for code in linear.classes_),
        vocabulary={str(gram): int(index) for gram, index in vectorizer.vocabulary_.items()},
        idf=vectorizer.idf_.astype(np.float32),
        coef=np.ascontiguousarray(coef.T, dtype=np.float32),
        intercept=intercept.astype(np.float32),
        temperature=temperature,
        threshold=choose_threshold(curve),
        trained_at=trained_at,
        thresholds=thresholds,
        danger=danger[0] if danger else None,
    )
    return Trained(
        model,
        measured_on,
        accuracy=float((ranked[:, 0] == truth).mean()),
        top3=float((ranked == truth[:, None]).any(axis=1).mean()),
        calibration_error=(calibration_error(raw, truth), calibration_error(calibrated, truth)),
        curve=curve,
        danger=danger[1] if danger else None,
    )


def _danger(
    vectorizer: TfidfVectorizer, examples: Sequence[Example], development: Sequence[Example]
) -> tuple[DangerModel, Danger | None] | None:
    """The danger model over the classifier's features, calibrated on the development set's emergency
    labels (without them: the linear model's own boundary, probability 0.5)."""
    texts, labels = danger_examples(examples)
    if len(set(labels)) < 2:
        return None
    linear = LinearSVC(C=C, random_state=0).fit(vectorizer.transform(texts), labels)
    weights, bias = linear.coef_[0].astype(np.float32), float(linear.intercept_[0])
    labelled = [e for e in development if e.emergency is not None]
    if not labelled or not any(e.emergency for e in labelled):
        return DangerModel(weights, bias, 1.0, 0.5), None
    scores = np.asarray(vectorizer.transform([e.text for e in labelled]) @ weights + bias)
    temperature, point = fit_danger(scores, np.array([int(bool(e.emergency)) for e in labelled]))
    return DangerModel(weights, bias, temperature, point.threshold), point
