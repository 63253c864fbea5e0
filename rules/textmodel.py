"""The learned text classifier as it runs at dispatch: a description's character n-grams, weighted as at
training (sublinear term frequency × idf, L2-normalised), scored by a linear model, and turned into
probabilities by a softmax at a fitted temperature (the calibration).

Pure numpy. A model is a set of arrays (`to_arrays` / `from_arrays`); `rules.training` makes them from the
labelled corpus, and the catalog adapter stores them in a file.
"""

from __future__ import annotations

import json
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

    def scores(self, text: str) -> np.ndarray:
        columns, weights = self.features(text)
        return np.asarray(weights @ self.coef[columns] + self.intercept)

    def probabilities(self, text: str) -> np.ndarray:
        scaled = self.scores(text) / self.temperature
        exp = np.exp(scaled - scaled.max())
        return exp / exp.sum()  # type: ignore[no-any-return]

    def top(self, text: str, n: int = 3) -> list[Proposal]:
        probabilities = self.probabilities(text)
        some = (
            np.argpartition(probabilities, -n)[-n:]
            if len(probabilities) > n
            else np.arange(len(probabilities))
        )
        best = some[np.argsort(probabilities[some])[::-1]]
        return [Proposal(self.classes[i], float(probabilities[i])) for i in best]

    def to_arrays(self) -> dict[str, np.ndarray]:
        grams = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        meta = {
            "version": self.version,
            "temperature": self.temperature,
            "threshold": self.threshold,
            "trained_at": self.trained_at,
            "thresholds": self.thresholds,
        }
        return {
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
        )
