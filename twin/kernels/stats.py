"""Kernels for the hot paths of output analysis, each a pure function on arrays.

* `time_weighted`: mean, variance, minimum and maximum over [start, end) of a level that
  changes by steps (queue length, WIP), given its state-change arrays.
* `time_in_states`: time spent in each state of a categorical state-change record (machine
  states).
* `mser5`: the MSER-5 truncation point (White 1997; Franklin and White 2008): the warm-up
  that minimises the marginal standard error of the mean of the batch means that are kept.
* `batch_means`: non-overlapping batch means of a long output series, for intervals from
  one long run (feed them to `twin.analysis.stats.ci95`).

State-change arrays: `times[i]` is when the level (state) became `values[i]`; `times` is
non-decreasing; before `times[0]` the level is `initial`. A change at the same instant as
another simply replaces it. Each kernel has a plain-Python reference (`*_reference`) it is
tested against, also with NUMBA_DISABLE_JIT=1.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def time_weighted(times, values, initial, start, end):
    """(mean, variance, min, max) over [start, end) of the step function (times, values)."""
    span = end - start
    level = initial
    t_prev = start
    s1 = 0.0
    s2 = 0.0
    lo = math.inf
    hi = -math.inf
    for i in range(times.shape[0] + 1):
        t = end if i == times.shape[0] else min(max(times[i], start), end)
        dt = t - t_prev
        if dt > 0:
            s1 += level * dt
            s2 += level * level * dt
            lo = min(lo, level)
            hi = max(hi, level)
            t_prev = t
        if i < times.shape[0]:
            level = values[i]
    if span <= 0:
        return math.nan, math.nan, math.nan, math.nan
    mean = s1 / span
    return mean, max(s2 / span - mean * mean, 0.0), lo, hi


@njit(cache=True)
def time_in_states(times, states, initial, n_states, start, end):
    """Time in each of `n_states` states over [start, end) (an array indexed by state)."""
    out = np.zeros(n_states)
    state = initial
    t_prev = start
    for i in range(times.shape[0] + 1):
        t = end if i == times.shape[0] else min(max(times[i], start), end)
        if t > t_prev:
            out[state] += t - t_prev
            t_prev = t
        if i < times.shape[0]:
            state = states[i]
    return out


@njit(cache=True)
def mser_statistics(z):
    """MSER(d) = sum_{j>=d} (z_j - mean_d)^2 / (m - d)^2 for every d < m (Welford, backwards)."""
    m = z.shape[0]
    out = np.full(m, math.inf)
    mean = 0.0
    m2 = 0.0
    for d in range(m - 1, -1, -1):
        n = m - d
        delta = z[d] - mean
        mean += delta / n
        m2 += delta * (z[d] - mean)
        out[d] = m2 / (n * n)
    return out


@njit(cache=True)
def mser5(y):
    """MSER-5 truncation point: how many leading observations of `y` to delete.

    The series is cut into batches of 5 (a trailing partial batch is ignored); the deleted
    number of batches d minimises MSER(d) over d <= m / 2 (beyond half the run the rule is
    unreliable, and a minimum there says the run is too short). Returns 5 d.
    """
    m = y.shape[0] // 5
    if m < 2:
        return 0
    z = np.empty(m)
    for j in range(m):
        z[j] = (y[5 * j] + y[5 * j + 1] + y[5 * j + 2] + y[5 * j + 3] + y[5 * j + 4]) / 5.0
    stat = mser_statistics(z)
    best = 0
    for d in range(1, m // 2 + 1):
        if stat[d] < stat[best]:
            best = d
    return 5 * best


@njit(cache=True)
def batch_means(y, n_batches):
    """Means of `n_batches` equal, consecutive batches of `y` (the first len(y) mod
    n_batches observations, the most transient ones, are left out)."""
    b = y.shape[0] // n_batches
    out = np.empty(n_batches)
    skip = y.shape[0] - b * n_batches
    for j in range(n_batches):
        s = 0.0
        for i in range(skip + j * b, skip + (j + 1) * b):
            s += y[i]
        out[j] = s / b if b > 0 else math.nan
    return out


# --- plain-Python references -------------------------------------------------------------
def _pieces(times, values, initial, start, end):
    """(level, duration) of each piece of the step function inside [start, end)."""
    bounds = [start] + [min(max(t, start), end) for t in times] + [end]
    levels = [initial] + list(values)
    return [(levels[i], bounds[i + 1] - bounds[i]) for i in range(len(levels))
            if bounds[i + 1] > bounds[i]]


def time_weighted_reference(times, values, initial, start, end):
    pieces = _pieces(times, values, initial, start, end)
    span = end - start
    if span <= 0:
        return (math.nan,) * 4
    mean = sum(v * dt for v, dt in pieces) / span
    var = sum((v - mean) ** 2 * dt for v, dt in pieces) / span
    return mean, var, min(v for v, _ in pieces), max(v for v, _ in pieces)


def time_in_states_reference(times, states, initial, n_states, start, end):
    out = [0.0] * n_states
    for s, dt in _pieces(times, states, initial, start, end):
        out[int(s)] += dt
    return np.array(out)


def mser5_reference(y):
    m = len(y) // 5
    if m < 2:
        return 0
    z = [sum(y[5 * j:5 * j + 5]) / 5 for j in range(m)]

    def mser(d):
        kept = z[d:]
        mean = sum(kept) / len(kept)
        return sum((v - mean) ** 2 for v in kept) / len(kept) ** 2

    return 5 * min(range(m // 2 + 1), key=lambda d: (mser(d), d))


def batch_means_reference(y, n_batches):
    b = len(y) // n_batches
    skip = len(y) - b * n_batches
    return np.array([np.mean(y[skip + j * b: skip + (j + 1) * b]) for j in range(n_batches)])
