"""The labelled corpus of the dispatch catalog: requests as citizens say them, with their category.

Training examples live in `corpus/train/*.tsv` (one file per top-level domain), the separately written test
set in `corpus/test/*.tsv`; training never reads the test set. Lines starting with `#` and blank lines are
comments. A training line is `category<TAB>text`; a test line is
`category<TAB>district<TAB>street<TAB>emergency (0/1)<TAB>text`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class CorpusError(ValueError):
    """A corpus file cannot be read; the message says `file:line` and why."""


@dataclass(frozen=True)
class Example:
    text: str
    category: str
    source: str  # `file:line`, or where a correction came from


@dataclass(frozen=True)
class TestRequest:
    text: str
    category: str
    district: str
    street: str
    emergency: bool
    source: str


def _lines(folder: Path, fields: int) -> Iterable[tuple[str, list[str]]]:
    files = sorted(folder.glob("*.tsv"))
    if not files:
        raise CorpusError(f"{folder}: no .tsv files")
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            where = f"{path.name}:{number}"
            if len(parts) != fields or not parts[-1].strip():
                raise CorpusError(f"{where}: expected {fields} tab-separated fields, found {len(parts)}")
            if not (parts[0].isdigit() and len(parts[0]) == 6):
                raise CorpusError(f"{where}: {parts[0]!r} is not a 6-digit category code")
            yield where, parts


def read_examples(folder: Path) -> list[Example]:
    return [Example(parts[1].strip(), parts[0], where) for where, parts in _lines(folder, 2)]


def read_test_set(folder: Path) -> list[TestRequest]:
    requests = []
    for where, (category, district, street, emergency, text) in _lines(folder, 5):
        if emergency not in ("0", "1"):
            raise CorpusError(f"{where}: emergency must be 0 or 1, not {emergency!r}")
        requests.append(TestRequest(text.strip(), category, district, street, emergency == "1", where))
    return requests


def check_categories(examples: Iterable[Example | TestRequest], known: Iterable[str]) -> None:
    """Every example names a leaf category of the catalog."""
    leaves = {code for code in known if len(code) == 6}
    unknown = [f"{e.source}: unknown category {e.category}" for e in examples if e.category not in leaves]
    if unknown:
        raise CorpusError(
            "\n".join(unknown[:20]) + (f"\n… {len(unknown) - 20} more" if len(unknown) > 20 else "")
        )


def fingerprint(examples: Iterable[Example], *settings: object) -> str:
    """A short hash of the examples (order-free) and the training settings: the model's version."""
    digest = hashlib.sha256()
    for line in sorted(f"{e.category}\t{e.text}" for e in examples):
        digest.update(line.encode())
        digest.update(b"\n")
    digest.update(repr(settings).encode())
    return digest.hexdigest()[:12]
