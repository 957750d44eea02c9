"""Bottleneck detection with Roser's active period method.

A station is *active* while busy, down or in setup. At each moment the momentary
bottleneck is the station whose active period covering that moment is the longest.
Following the momentary bottleneck over time gives a chain of (station, period)
links; where the periods of two consecutive links overlap, both stations are
*shifting* bottlenecks, and the rest of the bottleneck time is *sole*.

Conventions chosen here (the method leaves them open):

- Periods are clipped to the measured window [start, end); a period cut by the
  window counts with its clipped length, both for choosing the momentary
  bottleneck and for the shares (nothing outside the window is known or measured).
- Overlapping or touching periods of one station are merged: the station is then
  uninterruptedly active. Zero-length periods are ignored.
- Ties in period length go to the station listed first in `periods`.
- A moment is shifting if it lies in the overlap of any two consecutive links; the
  stations of every such overlap covering it are shifting bottlenecks there. A
  moment is sole for the momentary bottleneck only if it is not shifting. So sole
  time of all stations plus the shifting time (counted once) never exceeds the window.
- Which server states make a multi-server station "active" is the caller's choice:
  this module only sees the active periods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

Periods = Mapping[str, Sequence[tuple[float, float]] | np.ndarray]

_SOLE, _SHIFTING = 0, 1
_KINDS = np.array(["sole", "shifting"], dtype=object)


@dataclass(frozen=True)
class _Intervals:
    """Bottleneck intervals as indices into the boundary grid `grid`."""

    grid: np.ndarray  # sorted unique time boundaries
    lo: np.ndarray  # interval start index into grid
    hi: np.ndarray  # interval end index into grid
    station: np.ndarray  # station index (position in `periods`)
    kind: np.ndarray  # _SOLE or _SHIFTING


def _check_window(start: float, end: float) -> None:
    """Reject a window that is empty or not finite (shares would be meaningless)."""
    if not (np.isfinite(start) and np.isfinite(end)) or end <= start:
        raise ValueError(f"need a finite window with end > start, got [{start}, {end})")


def _station_periods(raw: Sequence[tuple[float, float]] | np.ndarray, start: float,
                     end: float) -> tuple[np.ndarray, np.ndarray]:
    """One station's periods clipped to the window, sorted, merged when touching."""
    arr = np.asarray(raw, dtype=float)
    if arr.size == 0:
        return np.empty(0), np.empty(0)
    arr = arr.reshape(-1, 2)
    if not np.all(np.isfinite(arr)):
        raise ValueError("active periods must be finite")
    if np.any(arr[:, 1] < arr[:, 0]):
        raise ValueError("an active period ends before it starts")
    s = np.clip(arr[:, 0], start, end)
    e = np.clip(arr[:, 1], start, end)
    keep = e > s
    s, e = s[keep], e[keep]
    if s.size == 0:
        return s, e
    order = np.argsort(s, kind="stable")
    s, e = s[order], e[order]
    reach = np.maximum.accumulate(e)
    first = np.flatnonzero(np.concatenate(([True], s[1:] > reach[:-1])))
    return s[first], np.maximum.reduceat(e, first)


def _floor_log2(x: np.ndarray) -> np.ndarray:
    """floor(log2(x)) for positive integers, exact (corrects float rounding)."""
    k = np.floor(np.log2(x)).astype(np.int64)
    k = np.where(np.left_shift(np.int64(1), k) > x, k - 1, k)
    return np.where(np.left_shift(np.int64(1), k + 1) <= x, k + 1, k)


def _min_cover(lo: np.ndarray, hi: np.ndarray, value: np.ndarray, m: int,
               fill: int) -> np.ndarray:
    """For each cell j < m, the least `value` of the intervals [lo, hi) covering j.

    Offline range-minimum update with a sparse table: an interval of span s is the
    union of two blocks of width 2**k (k = floor(log2 s)) starting at lo and hi - 2**k.
    The table is then pushed down one level at a time (a block of width 2**k at i is
    the blocks of width 2**(k-1) at i and i + 2**(k-1)). O((n + m) log m), in numpy.
    """
    cur = np.full(m, fill, dtype=np.int64)
    if lo.size == 0:
        return cur
    level_of = _floor_log2(hi - lo)
    order = np.argsort(level_of, kind="stable")
    top = int(level_of[order[-1]])
    bounds = np.searchsorted(level_of[order], np.arange(top + 2))
    for level in range(top, -1, -1):
        sel = order[bounds[level]:bounds[level + 1]]
        if sel.size:
            np.minimum.at(cur, lo[sel], value[sel])
            np.minimum.at(cur, hi[sel] - (1 << level), value[sel])
        if level:
            half = 1 << (level - 1)
            below = cur.copy()
            np.minimum(below[half:], cur[:-half], out=below[half:])
            cur = below
    return cur


def _runs(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximal runs of equal labels: (first index, end index, label)."""
    if labels.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    first = np.flatnonzero(np.concatenate(([True], labels[1:] != labels[:-1])))
    last = np.concatenate((first[1:], [labels.size]))
    return first, last, labels[first]


def _merge_by_station(station: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                      m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of index intervals per station (overlapping or touching ones merged)."""
    if station.size == 0:
        return station, lo, hi
    # Offsetting by station * (m + 1) keeps stations apart in one sorted sweep.
    offset = station * (m + 1)
    klo, khi = lo + offset, hi + offset
    order = np.argsort(klo, kind="stable")
    klo, khi, st = klo[order], khi[order], station[order]
    reach = np.maximum.accumulate(khi)
    first = np.flatnonzero(np.concatenate(([True], klo[1:] > reach[:-1])))
    st = st[first]
    base = st * (m + 1)
    return st, klo[first] - base, np.maximum.reduceat(khi, first) - base


def _analyse(periods: Periods, start: float, end: float) -> _Intervals:
    """Sole and shifting bottleneck intervals of all stations.

    Algorithm (O(N log N) for N periods):
    1. Clip and merge every station's periods; all boundaries form a sorted grid of
       elementary intervals, each covered by a fixed set of periods.
    2. Rank periods by (length descending, station order); per elementary interval
       the momentary bottleneck is the covering period of least rank (`_min_cover`).
    3. Runs of the same winning period are the chain links; consecutive links'
       period overlaps (on the grid, since their ends are grid points) are shifting.
    4. Elementary intervals with a winner and no shifting are sole for the winner.
    """
    _check_window(start, end)
    starts, ends, stations = [], [], []
    for k, name in enumerate(periods):
        s, e = _station_periods(periods[name], start, end)
        starts.append(s)
        ends.append(e)
        stations.append(np.full(s.size, k, dtype=np.int64))
    s = np.concatenate(starts) if starts else np.empty(0)
    e = np.concatenate(ends) if ends else np.empty(0)
    station = np.concatenate(stations) if stations else np.empty(0, dtype=np.int64)
    n = s.size
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return _Intervals(np.array([start, end]), empty, empty, empty, empty)

    grid = np.unique(np.concatenate((s, e)))
    m = grid.size - 1
    lo = np.searchsorted(grid, s)
    hi = np.searchsorted(grid, e)

    by_priority = np.lexsort((station, -(e - s)))
    rank = np.empty(n, dtype=np.int64)
    rank[by_priority] = np.arange(n)
    best = _min_cover(lo, hi, rank, m, fill=n)
    winner = np.where(best < n, by_priority[np.minimum(best, n - 1)], -1)

    _, _, link = _runs(winner)
    link = link[link >= 0]
    a, b = link[:-1], link[1:]
    olo = np.maximum(lo[a], lo[b])
    ohi = np.minimum(hi[a], hi[b])
    real = ohi > olo
    a, b, olo, ohi = a[real], b[real], olo[real], ohi[real]

    cover = np.zeros(m + 1, dtype=np.int64)
    np.add.at(cover, olo, 1)
    np.add.at(cover, ohi, -1)
    shifting = np.cumsum(cover[:m]) > 0

    sole_label = np.where((winner >= 0) & ~shifting, station[np.maximum(winner, 0)], -1)
    r_first, r_end, r_label = _runs(sole_label)
    keep = r_label >= 0
    sole = (r_label[keep], r_first[keep], r_end[keep])

    shift = _merge_by_station(np.concatenate((station[a], station[b])),
                              np.concatenate((olo, olo)), np.concatenate((ohi, ohi)), m)

    return _Intervals(
        grid=grid,
        lo=np.concatenate((sole[1], shift[1])).astype(np.int64),
        hi=np.concatenate((sole[2], shift[2])).astype(np.int64),
        station=np.concatenate((sole[0], shift[0])).astype(np.int64),
        kind=np.concatenate((np.full(sole[0].size, _SOLE), np.full(shift[0].size, _SHIFTING))),
    )


def bottleneck_timeline(periods: Periods, start: float, end: float) -> pd.DataFrame:
    """Sole and shifting bottleneck intervals over the window [start, end).

    `periods` maps each station to its active periods [start, end) (sorted and
    disjoint; see the module docstring for clipping, merging and ties). Returns a
    DataFrame with columns start, end, station, kind ("sole" or "shifting"), sorted by
    start. A shifting interval appears once per station involved, so it usually has
    two rows with the same start and end. Rows of one station never overlap.
    """
    iv = _analyse(periods, start, end)
    order = np.lexsort((iv.kind, iv.station, iv.lo))
    names = np.array(list(periods), dtype=object)
    return pd.DataFrame({
        "start": iv.grid[iv.lo[order]],
        "end": iv.grid[iv.hi[order]],
        "station": names[iv.station[order]],
        "kind": _KINDS[iv.kind[order]],
    })


def bottleneck_shares(periods: Periods, start: float, end: float) -> dict[str, dict[str, float]]:
    """Each station's bottleneck time as fractions of the window [start, end).

    Returns `{station: {"sole": f, "shifting": f, "total": f}}` for every station in
    `periods` (zeros for stations never the bottleneck); total = sole + shifting.
    """
    iv = _analyse(periods, start, end)
    k = len(periods)
    span = float(end - start)
    duration = iv.grid[iv.hi] - iv.grid[iv.lo]
    sole = np.bincount(iv.station[iv.kind == _SOLE], duration[iv.kind == _SOLE], minlength=k)
    shift = np.bincount(iv.station[iv.kind == _SHIFTING], duration[iv.kind == _SHIFTING],
                        minlength=k)
    shares = {}
    for i, name in enumerate(periods):
        f_sole, f_shift = float(sole[i] / span), float(shift[i] / span)
        shares[name] = {"sole": f_sole, "shifting": f_shift, "total": f_sole + f_shift}
    return shares
