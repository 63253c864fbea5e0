"""The long-running processes' heap: what start-up built set apart from the garbage collector, and, where
the C library is glibc, the memory it keeps after it was freed."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import logging

log = logging.getLogger(__name__)
M_ARENA_MAX = -8  # glibc's mallopt parameter


def settle_heap() -> None:
    """Set what start-up built (the catalog, the text model, the libraries: some 200,000 objects) apart
    from the garbage collector's full collections (`gc.freeze`): each traversed it all, 100-230 ms of CPU,
    once every few dozen pages in `jiesu web` and a few times per thousand requests in `jiesu run`, the
    page or the batch it fell in waiting meanwhile. What it built is still freed when nothing refers to it;
    only a reference cycle among it is kept. Called once the process is built, before it serves."""
    gc.collect()
    gc.freeze()


@functools.cache  # finding the library runs ldconfig: once per process, not once a minute
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name)
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def limit_arenas(arenas: int = 2) -> None:
    """At most `arenas` malloc arenas for the threads to come. glibc gives each thread that meets a busy
    arena one of its own, up to eight per core; memory freed in one is kept there for that arena's next
    allocations. The worker's threads (agents, relay, deliverers, sweeper) each take large short-lived
    buffers (fetched records, batches, SQLite's statements), so freed memory spread over many arenas and
    the resident size crept up while nothing was held (docs/benchmarks.md, "Memory"). Called before the
    process starts its threads; nothing where the C library is not glibc."""
    libc = _glibc()
    if libc is not None and not libc.mallopt(M_ARENA_MAX, arenas):
        log.warning("could not limit malloc arenas to %d", arenas)


def give_back() -> None:
    """Return the memory glibc keeps after it was freed to the system (`malloc_trim`): run once a minute
    by `jiesu run`; nothing where the C library is not glibc."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
