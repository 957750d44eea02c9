"""Numba kernels: pure functions on arrays, each with a plain-Python reference.

- `flowline`: one replication of a line of stations; it re-exports `line` (max-plus
  recursion for single machines), `events` (an event kernel in SimPy's event order for
  parallel machines, with `queues` and `stations`), `columns` (the array layouts) and
  `reference` (plain Python).
- `stats`: time-weighted statistics from state-change arrays, MSER-5, batch means.

Kernels import only numpy and numba; the engines and analysis turn models into arrays.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def _drop_stale_caches() -> None:
    """Delete numba's on-disk caches when any kernel source changed.

    numba checks only a function's own file when it reuses a cached compilation, so a
    kernel that calls helpers (or reads constants) from another module here would run
    stale machine code after that module is edited. A digest of all kernel sources,
    kept beside the caches, catches that. Best effort: a read-only install keeps its caches.
    """
    here = Path(__file__).resolve().parent
    cache = here / "__pycache__"
    digest = hashlib.sha256(
        b"".join(p.read_bytes() for p in sorted(here.glob("*.py")))).hexdigest()
    stamp = cache / "kernels.sha256"
    try:
        if stamp.read_text() == digest:
            return
    except OSError:
        pass
    try:
        for stale in cache.glob("*.nb[ic]"):
            stale.unlink(missing_ok=True)
        cache.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:
        pass


_drop_stale_caches()
