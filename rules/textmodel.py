"""The learned text classifier as it runs at dispatch: a description's character n-grams, weighted as at
training (sublinear term frequency × idf, L2-normalised), scored by a linear model, and turned into
probabilities by a softmax at a fitted temperature (the calibration).

A second linear model over the same features, when trained, tells danger to life or property from the rest
(`DangerModel`): a request it flags is an emergency whatever the category's confidence.

Pure numpy. A model is a set of arrays (`to_arrays` / `from_arrays`); `rules.training` makes them from the
labelled corpus, and the catalog adapter stores them in a file.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SIZES = (1, 2)  # the n-gram lengths, in characters (chosen by cross-validation)
_DIGITS = re.compile(r"[0-9]+")
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, numbers as one `0`, no whitespace: 18度 and ２０度 read alike."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _SPACE.sub("", _DIGITS.sub("0", text))


def ngrams(text: str, sizes: tuple[int, ...] = SIZES) -> list[str]:
    """Every character n-gram of the normalised text, with repeats (their count is the term frequency)."""
    text = normalise(text)
    return [text[i : i + n] for n in sizes for i in range(len(text) - n + 1)]


@dataclass(frozen=True)
class Proposal:
    category: str
    probability: float


@dataclass(frozen=True)
class Reading:
    proposals: list[Proposal]  # most probable first
    danger: float | None  # the probability of danger (None: no danger model)


@dataclass(frozen=True)
class DangerModel:
    """Danger when sigmoid((w · features + b) / temperature) reaches the threshold."""

    coef: np.ndarray  # one weight per feature of the text model's vocabulary
    intercept: float
    temperature: float
    threshold: float

    def probability(self, columns: np.ndarray, weights: np.ndarray) -> float:
        score = (float(weights @ self.coef[columns]) + self.intercept) / self.temperature
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, score))))


@dataclass(frozen=True)
class TextModel:
    """`coef` is (features × classes); `temperature` divides the scores before the softmax."""

    version: str
    classes: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    temperature: float
    threshold: float  # below it a proposal is not trusted: the request goes to triage
    sizes: tuple[int, ...] = SIZES
    trained_at: str = ""  # ISO 8601: the center's corrections after it are not in it yet
    # per urgency of the proposed category, where waiting in triage costs more (an emergency cannot wait)
    thresholds: dict[str, float] = field(default_factory=dict)
    danger: DangerModel | None = None

    def threshold_for(self, urgency: str | None) -> float:
        return self.thresholds.get(urgency or "", self.threshold)

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and tf-idf weights of the text's known n-grams (L2-normalised)."""
        counts: Counter[int | None] = Counter(map(self.vocabulary.get, ngrams(text, self.sizes)))
        counts.pop(None, None)  # n-grams the model never saw
        if not counts:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        weights = (1.0 + np.log(tf)) * self.idf[columns]
        return columns, weights / np.linalg.norm(weights)

    def danger_of(self, text: str) -> float | None:
        """The probability that the text describes danger to life or property (None: no danger model)."""
        if self.danger is None:
            return None
        return self.danger.probability(*self.features(text))

    def scores(self, text: str) -> np.ndarray:
        return self._scores(*self.features(text))

    def _scores(self, columns: np.ndarray, weights: np.ndarray) -> np.ndarray:
        return np.asarray(weights @ self.coef[columns] + self.intercept)

    def probabilities(self, text: str) -> np.ndarray:
        return self._probabilities(self.scores(text))

    def _probabilities(self, scores: np.ndarray) -> np.ndarray:
        scaled = scores / self.temperature
        exp = np.exp(scaled - scaled.max())
        return exp / exp.sum()  # type: ignore[no-any-return]

    def read(self, text: str, n: int = 3) -> Reading:
        """The `n` most probable categories and the danger, from one pass over the text."""
        columns, weights = self.features(text)
        danger = self.danger.probability(columns, weights) if self.danger else None
        return Reading(self._top(self._probabilities(self._scores(columns, weights)), n), danger)

    def top(self, text: str, n: int = 3) -> list[Proposal]:
        return self._top(self.probabilities(text), n)

    def _top(self, probabilities: np.ndarray, n: int) -> list[Proposal]:
        best = np.argsort(probabilities)[: -n - 1 : -1].tolist()
        return [Proposal(self.classes[i], p) for i, p in zip(best, probabilities[best].tolist(), strict=True)]

    def to_arrays(self) -> dict[str, np.ndarray]:
        grams = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        meta = {
            "version": self.version,
            "temperature": self.temperature,
            "threshold": self.threshold,
            "trained_at": self.trained_at,
            "thresholds": self.thresholds,
        }
        if self.danger is not None:
            meta["danger"] = {
                "intercept": self.danger.intercept,
                "temperature": self.danger.temperature,
                "threshold": self.danger.threshold,
            }
        danger = {"danger_coef": self.danger.coef.astype(np.float32)} if self.danger is not None else {}
        return {
            **danger,
            "meta": np.array(json.dumps({**meta, "sizes": list(self.sizes)})),
            "classes": np.array(self.classes),
            "vocabulary": np.array(grams),
            "idf": self.idf.astype(np.float32),
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept.astype(np.float32),
        }

    @classmethod
    def from_arrays(cls, arrays: Any) -> TextModel:
        meta = json.loads(str(arrays["meta"]))
        danger = meta.get("danger")
        grams = [str(gram) for gram in arrays["vocabulary"]]
        return cls(
            version=meta["version"],
            classes=tuple(str(code) for code in arrays["classes"]),
            vocabulary={gram: index for index, gram in enumerate(grams)},
            idf=np.asarray(arrays["idf"], dtype=np.float32),
            coef=np.ascontiguousarray(arrays["coef"], dtype=np.float32),
            intercept=np.asarray(arrays["intercept"], dtype=np.float32),
            temperature=float(meta["temperature"]),
            threshold=float(meta["threshold"]),
            sizes=tuple(meta["sizes"]),
            trained_at=meta.get("trained_at", ""),
            thresholds={str(k): float(v) for k, v in meta.get("thresholds", {}).items()},
            danger=DangerModel(
                np.asarray(arrays["danger_coef"], dtype=np.float32),
                float(danger["intercept"]),
                float(danger["temperature"]),
                float(danger["threshold"]),
            )
            if danger
            else None,
        )
