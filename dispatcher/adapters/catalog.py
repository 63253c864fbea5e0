"""The dispatch catalog on disk: loaded at start, reloaded when its files change, never replaced by a
broken one (the errors are logged with file:line and the catalog in force stays).

The text classifier trained from the catalog's corpus (`jiesu rules train`) is `model.npz` in the same
folder; it is loaded and reloaded with the catalog. Without it requests are classified by keywords only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from rules.catalog import Catalog
from rules.complaint import Complaint
from rules.decision import Assignment, Decision
from rules.loader import FILES, CatalogError, load_catalog
from rules.router import CatalogRouter
from rules.textmodel import TextModel
from sla.calendar import BEIJING, ChineseCalendar

log = logging.getLogger(__name__)
Fingerprint = tuple[tuple[str, int, int], ...]
MODEL_FILE = "model.npz"


def fingerprint(folder: Path) -> Fingerprint:
    stats = []
    for name in (*FILES, MODEL_FILE):
        path = folder / name
        stat = path.stat() if path.exists() else None
        stats.append((name, stat.st_mtime_ns if stat else 0, stat.st_size if stat else -1))
    return tuple(stats)


def save_model(model: TextModel, folder: Path) -> Path:
    """Write the model next to the catalog (through a temporary file: a running worker never reads half)."""
    path, partial = folder / MODEL_FILE, folder / f".{MODEL_FILE}.partial"
    with partial.open("wb") as file:
        savez: Any = np.savez_compressed  # its stubs take the arrays' names for its own keywords
        savez(file, **model.to_arrays())
    partial.replace(path)
    return path


def load_model(folder: Path, catalog: Catalog) -> TextModel | None:
    """The catalog's text model, or None (logged) when there is none or it proposes unknown categories."""
    path = folder / MODEL_FILE
    if not path.exists():
        log.warning(
            "no text model in %s: requests are classified by keywords only (jiesu rules train)", folder
        )
        return None
    with np.load(path, allow_pickle=False) as arrays:
        model = TextModel.from_arrays(arrays)
    unknown = sorted(set(model.classes) - set(catalog.categories))
    if unknown:
        log.error(
            "text model %s proposes categories the catalog lacks (%s): not used; run jiesu rules train",
            model.version,
            ", ".join(unknown[:5]),
        )
        return None
    return model


def catalog_router(folder: Path, calendar: ChineseCalendar) -> CatalogRouter:
    """Load the catalog in `folder` (and its text model) for routing on `calendar` (the operator's, from
    `load_sla`: rosters and `working_day` conditions count on it); raises `CatalogError` when it is
    invalid."""
    catalog = load_catalog(folder)
    return CatalogRouter(catalog, calendar.is_working_day, BEIJING, load_model(folder, catalog))


class ReloadingRouter:
    """Routes with the newest valid catalog in `folder`, looking for changes at most every `interval` s;
    every catalog loaded routes on the same `calendar`."""

    def __init__(
        self,
        folder: Path,
        calendar: ChineseCalendar,
        interval: float = 2.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._folder = folder
        self._calendar = calendar
        self._interval = interval
        self._monotonic = monotonic
        self._seen = fingerprint(folder)
        self.router = catalog_router(folder, calendar)
        self._checked = monotonic()
        log.info("dispatch catalog %s loaded from %s", self.router.version, folder)

    def route(self, complaint: Complaint, at: datetime) -> Decision:
        self.maybe_reload()
        return self.router.route(complaint, at)

    def propose(self, complaint: Complaint, at: datetime, exclude: frozenset[str]) -> Decision:
        self.maybe_reload()
        return self.router.propose(complaint, at, exclude)

    def assignment_for(self, unit_id: str, post_id: str | None, at: datetime, why: str) -> Assignment:
        return self.router.assignment_for(unit_id, post_id, at, why)

    def unit_class(self, unit_id: str) -> str:
        return self.router.unit_class(unit_id)

    def catalog(self) -> Catalog:
        """The catalog in force (reloaded first if its files changed)."""
        self.maybe_reload()
        return self.router.catalog

    def maybe_reload(self) -> bool:
        """Reload if the files changed since the last look; True if a new catalog is now in force."""
        now = self._monotonic()
        if now - self._checked < self._interval:
            return False
        self._checked = now
        seen = fingerprint(self._folder)
        if seen == self._seen:
            return False
        self._seen = seen
        try:
            router = catalog_router(self._folder, self._calendar)
        except CatalogError as error:
            log.error(
                "dispatch catalog in %s refused; %s stays in force:\n%s",
                self._folder,
                self.router.version,
                error,
            )
            return False
        if router.version == self.router.version:
            return False
        log.info("dispatch catalog %s replaces %s", router.version, self.router.version)
        self.router = router
        return True
