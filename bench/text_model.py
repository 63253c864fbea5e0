"""Text classifier benchmark: the learned model at dispatch, per request, against the keyword classifier
alone in the same process (the baseline).

Times `Classifier.propose` (keywords, then the model's top three) over the catalog's corpus texts (training
and test, each text a request), in batches of 200 calls around which the clock is read; prints p50/p99 µs
per request and requests/s for both. Needs the trained model (`jiesu rules train`).

    .venv/bin/python -m bench.text_model [--catalog config/catalog] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from dispatcher.adapters.catalog import MODEL_FILE, catalog_router
from rules.classifier import Classifier
from rules.corpus import read_examples, read_test_set
from sla.calendar import ChineseCalendar

CATALOG = Path(__file__).resolve().parent.parent / "config" / "catalog"
BATCH = 200


def per_request_us(propose: Callable[[str], object], texts: list[str], rounds: int) -> list[float]:
    """µs per request of each timed batch of BATCH texts, over `rounds` passes (after one warm-up pass)."""
    for text in texts:
        propose(text)
    timings = []
    for _ in range(rounds):
        for start in range(0, len(texts) - BATCH + 1, BATCH):
            batch = texts[start : start + BATCH]
            began = time.perf_counter_ns()
            for text in batch:
                propose(text)
            timings.append((time.perf_counter_ns() - began) / BATCH / 1_000)
    return timings


def summary(name: str, timings: list[float]) -> str:
    cuts = statistics.quantiles(timings, n=100)
    mean = statistics.fmean(timings)
    return f"| {name} | {1e6 / mean:,.0f} | {cuts[49]:.1f} | {cuts[98]:.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--catalog", type=Path, default=CATALOG)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not (args.catalog / MODEL_FILE).exists():
        raise SystemExit(f"no {MODEL_FILE} in {args.catalog}: run `jiesu rules train` first")
    router = catalog_router(args.catalog, ChineseCalendar())  # classifying does not look at the day
    model = router.classifier.model
    assert model is not None
    texts = [e.text for e in read_examples(args.catalog / "corpus/train")]
    texts += [r.text for r in read_test_set(args.catalog / "corpus/test")]
    keywords = {code: c.keywords for code, c in router.catalog.categories.items() if c.keywords}
    baseline = Classifier(keywords)
    print(
        f"model {model.version}: {len(model.classes)} categories, {len(model.vocabulary):,} n-grams; "
        f"{len(texts):,} texts, mean {statistics.fmean(len(t) for t in texts):.0f} characters"
    )
    with_model = per_request_us(router.classifier.propose, texts, args.rounds)
    alone = per_request_us(baseline.propose, texts, args.rounds)
    print("| classifier | requests/s | p50 µs | p99 µs (per batch of 200) |")
    print("|---|---:|---:|---:|")
    print(summary("keywords + model (dispatch)", with_model))
    print(summary("keywords alone (baseline)", alone))
    ratio = statistics.fmean(with_model) / statistics.fmean(alone)
    p99 = statistics.quantiles(with_model, n=100)[98]
    print(f"model / keywords alone: x{ratio:.1f} time per request")
    print(f"target <= 200 µs per request: {'met' if p99 <= 200 else 'MISSED'} (p99 {p99:.0f} µs)")


if __name__ == "__main__":
    main()
