"""The long-running processes' heap: what start-up built set apart from the garbage collector."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Set what start-up built (the catalog, the text model, the libraries: some 200,000 objects) apart
    from the garbage collector's full collections (`gc.freeze`): each traversed it all, 100-230 ms of CPU,
    once every few dozen pages in `jiesu web` and a few times per thousand requests in `jiesu run`, the
    page or the batch it fell in waiting meanwhile. What it built is still freed when nothing refers to it;
    only a reference cycle among it is kept. Called once the process is built, before it serves."""
    gc.collect()
    gc.freeze()
