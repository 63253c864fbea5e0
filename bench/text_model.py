"""Text classifier benchmark: the learned model at dispatch, per request, against the keyword classifier
alone in the same process (the baseline).

Times, over the catalog's corpus texts (training and development, each text a request), in batches of 200
calls around which the clock is read, p50/p99 µs per request and requests/s of:
- `Classifier.propose` (keywords, then the model's proposals) against the keywords alone;
- the whole decision for a request without a category (`CatalogRouter.route`: the place, the model, its
  proposals grouped by the unit they go to, the danger model, the rules, the person on duty) against the
  same requests routed with their category given.
Needs the trained model (`jiesu rules train`).

    .venv/bin/python -m bench.text_model [--catalog config/catalog] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from dispatcher.adapters.catalog import MODEL_FILE, catalog_router
from rules.classifier import Classifier
from rules.complaint import Complaint, Location
from rules.corpus import read_examples, read_test_set
from sla.calendar import ChineseCalendar

CATALOG = Path(__file__).resolve().parent.parent / "config" / "catalog"
BATCH = 200


@dataclass
class Timings:
    """µs per request of each timed batch: elapsed (wall clock) and this process's CPU time. On a shared
    machine the elapsed time includes waiting for a core; the CPU time is what one request costs."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)


def per_request_us(propose: Callable[[str], object], texts: list[str], rounds: int) -> Timings:
    """µs per request of each timed batch of BATCH texts, over `rounds` passes (after one warm-up pass)."""
    for text in texts:
        propose(text)
    timings = Timings()
    for _ in range(rounds):
        for start in range(0, len(texts) - BATCH + 1, BATCH):
            batch = texts[start : start + BATCH]
            began, began_cpu = time.perf_counter_ns(), time.process_time_ns()
            for text in batch:
                propose(text)
            timings.cpu.append((time.process_time_ns() - began_cpu) / BATCH / 1_000)
            timings.wall.append((time.perf_counter_ns() - began) / BATCH / 1_000)
    return timings


def summary(name: str, timings: Timings) -> str:
    cuts, cpu = statistics.quantiles(timings.wall, n=100), statistics.quantiles(timings.cpu, n=100)
    mean = statistics.fmean(timings.wall)
    return f"| {name} | {1e6 / mean:,.0f} | {cuts[49]:.1f} | {cuts[98]:.1f} | {cpu[49]:.1f} | {cpu[98]:.1f} |"


HEADER = "requests/s | p50 µs | p99 µs | CPU p50 µs | CPU p99 µs (per request, batches of 200) |"


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
    training = read_examples(args.catalog / "corpus/train")
    development = read_test_set(args.catalog / "corpus/dev")
    texts = [e.text for e in training] + [r.text for r in development]
    keywords = {code: c.keywords for code, c in router.catalog.categories.items() if c.keywords}
    baseline = Classifier(keywords)
    print(
        f"model {model.version}: {len(model.classes)} categories, {len(model.vocabulary):,} n-grams; "
        f"{len(texts):,} texts, mean {statistics.fmean(len(t) for t in texts):.0f} characters"
    )
    with_model = per_request_us(router.classifier.propose, texts, args.rounds)
    alone = per_request_us(baseline.propose, texts, args.rounds)
    print(f"| classifier | {HEADER}")
    print("|---|---:|---:|---:|---:|---:|")
    print(summary("keywords + model (dispatch)", with_model))
    print(summary("keywords alone (baseline)", alone))
    ratio = statistics.fmean(with_model.cpu) / statistics.fmean(alone.cpu)
    p99, cpu_p99 = (statistics.quantiles(t, n=100)[98] for t in (with_model.wall, with_model.cpu))
    print(f"model / keywords alone: x{ratio:.1f} CPU time per request")
    print(
        f"target <= 200 µs per request: elapsed p99 {p99:.0f} µs ({'met' if p99 <= 200 else 'MISSED'}), "
        f"CPU p99 {cpu_p99:.0f} µs ({'met' if cpu_p99 <= 200 else 'MISSED'})"
    )
    at = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    complaints = [
        Complaint(f"B{n}", at, "phone", "complaint", r.text, location=Location(r.district, r.street))
        for n, r in enumerate(development)
    ]
    by_text = {c.description: c for c in complaints}
    categories = {r.text: r.category for r in development}
    classified = per_request_us(lambda text: router.route(by_text[text], at), list(by_text), args.rounds)
    given = per_request_us(
        lambda text: router.route(replace(by_text[text], category=categories[text]), at),
        list(by_text),
        args.rounds,
    )
    print(f"| whole decision | {HEADER}")
    print("|---|---:|---:|---:|---:|---:|")
    print(summary("without a category: classified", classified))
    print(summary("category given (baseline)", given))
    slower, faster = statistics.fmean(classified.cpu), statistics.fmean(given.cpu)
    print(f"classifying adds {slower - faster:.0f} µs of CPU per request (x{slower / faster:.1f})")


if __name__ == "__main__":
    main()
