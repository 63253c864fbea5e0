"""The dispatch catalog on disk: loaded at start, reloaded when its files change, never replaced by a
broken one (the errors are logged with file:line and the catalog in force stays)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dispatcher.domain.complaint import Complaint
from dispatcher.domain.events import Assignment, Decision
from rules.catalog import Catalog
from rules.loader import FILES, CatalogError, load_catalog
from rules.router import CatalogRouter
from sla.calendar import ChineseCalendar

log = logging.getLogger(__name__)
BEIJING = ZoneInfo("Asia/Shanghai")
Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(folder: Path) -> Fingerprint:
    stats = []
    for name in FILES:
        path = folder / name
        stat = path.stat() if path.exists() else None
        stats.append((name, stat.st_mtime_ns if stat else 0, stat.st_size if stat else -1))
    return tuple(stats)


def catalog_router(folder: Path) -> CatalogRouter:
    """Load the catalog in `folder` for routing; raises `CatalogError` when it is invalid."""
    return CatalogRouter(load_catalog(folder), ChineseCalendar().is_working_day, BEIJING)


class ReloadingRouter:
    """Routes with the newest valid catalog in `folder`, looking for changes at most every `interval` s."""

    def __init__(
        self, folder: Path, interval: float = 2.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._folder = folder
        self._interval = interval
        self._monotonic = monotonic
        self._seen = fingerprint(folder)
        self.router = catalog_router(folder)
        self._checked = monotonic()
        log.info("dispatch catalog %s loaded from %s", self.router.catalog.version, folder)

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
            router = catalog_router(self._folder)
        except CatalogError as error:
            log.error(
                "dispatch catalog in %s refused; %s stays in force:\n%s",
                self._folder,
                self.router.catalog.version,
                error,
            )
            return False
        if router.catalog.version == self.router.catalog.version:
            return False
        log.info("dispatch catalog %s replaces %s", router.catalog.version, self.router.catalog.version)
        self.router = router
        return True
