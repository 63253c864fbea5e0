"""Load a catalog folder: parse the YAML files, validate them, resolve references, version by content.

Every problem is reported as `file:line: message`; a catalog with any error is refused as a whole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from rules import schema
from rules.build import build_catalog
from rules.catalog import Catalog
from rules.source import Parsed, line_of

FILES = ("catalog.yaml", "areas.yaml", "categories.yaml", "units.yaml", "rules.yaml", "places.yaml")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class CatalogError(Exception):
    """The catalog was refused; `problems` says where and why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def parse(folder: Path, name: str, model: type[M], problems: list[Problem]) -> Parsed | None:
    path = folder / name
    try:
        text = path.read_text(encoding="utf-8")
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node else {}
        finally:
            loader.dispose()
    except FileNotFoundError:
        problems.append(Problem(name, 1, "file missing"))
        return None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problems.append(Problem(name, mark.line + 1 if mark else 1, f"not valid YAML: {error}"))
        return None
    try:
        return Parsed(name, model.model_validate(data), node)
    except ValidationError as error:
        for detail in error.errors(include_url=False):
            where = ".".join(str(part) for part in detail["loc"])
            line = line_of(node, [part for part in detail["loc"] if isinstance(part, str | int)])
            problems.append(Problem(name, line, f"{where}: {detail['msg']}"))
        return None


def version_of(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in FILES:
        path = folder / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"") + b"\0")
    return digest.hexdigest()[:12]


def load_catalog(folder: Path) -> Catalog:
    """Load and validate the catalog in `folder`; raise `CatalogError` listing every problem."""
    problems: list[Problem] = []
    settings = parse(folder, "catalog.yaml", schema.SettingsFile, problems)
    areas = parse(folder, "areas.yaml", schema.AreasFile, problems)
    categories = parse(folder, "categories.yaml", schema.CategoriesFile, problems)
    units = parse(folder, "units.yaml", schema.UnitsFile, problems)
    rules = parse(folder, "rules.yaml", schema.RulesFile, problems)
    places = None
    if (folder / "places.yaml").exists():  # optional: compounds, roads and landmarks callers name
        places = parse(folder, "places.yaml", schema.PlacesFile, problems)
    if problems or not (settings and areas and categories and units and rules):
        raise CatalogError(problems)
    catalog, reference_problems = build_catalog(
        version_of(folder), settings, areas, categories, units, rules, places
    )
    if reference_problems:
        raise CatalogError([Problem(file, line, message) for file, line, message in reference_problems])
    return catalog
