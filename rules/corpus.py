"""The labelled corpus of the dispatch catalog: requests as citizens say them, with their category.

- `corpus/situations.yaml`: the situations (情形) of each leaf, the one list every set below was written
  from; its short notes are training examples too.
- `corpus/train/*.tsv` (one file per top-level domain): training requests, `category<TAB>text`.
- `corpus/emergency/*.tsv`: training requests labelled with danger, `category<TAB>emergency (0/1)<TAB>text`:
  danger described as callers describe it, and requests with the same words that are not dangerous.
- `corpus/retired/*.tsv`: training requests with a place and a danger label: earlier development and test
  rounds, retired once they had judged (a test set judges once), in the test set's form.
- `corpus/dev/*.tsv`: the development set, written apart from the training files: the model's temperature
  and thresholds are chosen on it, never its weights.
- `corpus/test/*.tsv`: the test set, written apart from all of the above: only `jiesu rules evaluate` reads
  it.
A dev or test line is `category<TAB>district<TAB>street<TAB>emergency (0/1)<TAB>text`. Lines starting with
`#` and blank lines are comments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml


class CorpusError(ValueError):
    """A corpus file cannot be read; the message says `file:line` and why."""


@dataclass(frozen=True)
class Example:
    text: str
    category: str
    source: str  # `file:line`, or where a correction came from
    emergency: bool | None = None  # labelled danger (None: not labelled)


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


def read_emergency_examples(folder: Path) -> list[Example]:
    """The danger-labelled training requests (none when the catalog has no such folder)."""
    if not folder.is_dir():
        return []
    examples = []
    for where, (category, emergency, text) in _lines(folder, 3):
        if emergency not in ("0", "1"):
            raise CorpusError(f"{where}: emergency must be 0 or 1, not {emergency!r}")
        examples.append(Example(text.strip(), category, where, emergency == "1"))
    return examples


def read_situations(path: Path) -> list[Example]:
    """Each situation note of `situations.yaml` as an example of its leaf, labelled with its danger."""
    if not path.is_file():
        return []
    try:
        leaves = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise CorpusError(f"{path.name}: not YAML: {error}") from None
    examples = []
    for code, leaf in leaves.items():
        for number, situation in enumerate((leaf or {}).get("situations", []), 1):
            note = situation if isinstance(situation, dict) else {"text": situation}
            if not str(note.get("text", "")).strip():
                raise CorpusError(f"{path.name}: {code} situation {number} has no text")
            emergency = bool(note.get("emergency", False))
            examples.append(
                Example(str(note["text"]).strip(), str(code), f"{path.name}:{code}.{number}", emergency)
            )
    return examples


def read_test_set(folder: Path) -> list[TestRequest]:
    requests = []
    for where, (category, district, street, emergency, text) in _lines(folder, 5):
        if emergency not in ("0", "1"):
            raise CorpusError(f"{where}: emergency must be 0 or 1, not {emergency!r}")
        requests.append(TestRequest(text.strip(), category, district, street, emergency == "1", where))
    return requests


def read_retired_examples(folder: Path) -> list[Example]:
    """Retired development and test requests as training examples, with their danger labels."""
    return [Example(r.text, r.category, r.source, r.emergency) for r in read_test_set(folder)]


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
