"""Roser's active period method, online and compiled: the flow-line kernels' bottleneck.

The same method and conventions as `twin.engine.bottleneck.BottleneckTracker` (the SimPy
engine's), on arrays, for the flowline engine: sole and shifting bottleneck seconds per
station in memory that does not grow with the run. It relies on what a station's active
periods always are: disjoint, not touching (the kernels merge touching ones) and added in
time order. So at any moment at most one period
per station covers it, and the sweep keeps one queue per station instead of a heap:

1. `add_periods` appends a station's closed periods (clipped to the window) to its queue;
   a period inside another station's still-growing period, begun earlier, is dropped on
   the way (it is never the longest at any moment, so no answer changes).
2. `resolve` (`until`: every period beginning before it has been added) sweeps the
   elementary intervals up to `until`: on each, the covering period that is longest (ties:
   the lower station) wins. Runs of one winning period are the chain's links; where two
   consecutive links' periods overlap, both stations are shifting bottlenecks (marks).
3. Then it settles the time before which no new mark can reach (the earliest start of the
   latest link and of the periods still covering `until`): sole for the winner where no
   mark covers the moment, shifting for each station marked there; runs and marks before
   it are forgotten.

Scalars live in `tf` (float) and `ti` (int); `qs`/`qe` hold each station's queue, `qh`/`qn`
its head and end; `rt`/`rw` the runs not yet settled, `mt`/`mw` the marks. The caller
(`twin.engine.flowline.Tracker`) makes room before each call (`room_needed`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# float scalars: window, sweep position, settled-up-to, current winner and last link
T_START, T_END, T_POS, T_DONE, T_WS, T_WE, T_LS, T_LE = range(8)
N_TF = 8
# int scalars: winner's station (-1: none), last link's station, runs and marks held
T_WR, T_LR, T_NRUN, T_NMARK, T_ADDED, T_HELD = range(6)
N_TI = 6


def new_state(stations: int, start: float, end: float, width: int = 256) -> tuple:
    """Fresh arrays for `stations` stations over the window [start, end)."""
    tf = np.zeros(N_TF)
    tf[T_START], tf[T_END], tf[T_POS], tf[T_DONE] = start, end, start, start
    ti = np.zeros(N_TI, dtype=np.int64)
    ti[T_WR] = ti[T_LR] = -1
    qs = np.zeros((stations, width))
    qe = np.zeros((stations, width))
    qh = np.zeros(stations, dtype=np.int64)
    qn = np.zeros(stations, dtype=np.int64)
    rt = np.zeros((width, 2))
    rw = np.zeros(width, dtype=np.int64)
    mt = np.zeros((width, 2))
    mw = np.zeros(width, dtype=np.int64)
    totals = np.zeros((2, stations))  # sole, shifting seconds
    return tf, ti, qs, qe, qh, qn, rt, rw, mt, mw, totals


@njit(cache=True)
def add_periods(k, ps, pe, n, open_s, open_e, tf, ti, qs, qe, qh, qn):
    """Append station k's closed periods [ps[i], pe[i]), i < n (in time order, neither
    overlapping nor touching each other or those added before), to its queue, dropping each inside another station's open period [open_s, open_e] begun
    before it (open_e <= open_s: none). The queue must have room for n more."""
    start, end = tf[T_START], tf[T_END]
    t = qn[k]
    if qh[k] > 0 and t + n > qs.shape[1]:  # slide the queue to the front
        h = qh[k]
        for i in range(h, t):
            qs[k, i - h] = qs[k, i]
            qe[k, i - h] = qe[k, i]
        t -= h
        qh[k] = 0
    for i in range(n):
        s = max(ps[i], start)
        e = min(pe[i], end)
        if e <= s:
            continue
        inside = False
        for j in range(open_s.shape[0]):
            if j != k and open_e[j] > open_s[j] and max(open_s[j], start) < s and \
                    min(open_e[j], end) >= e:
                inside = True
                break
        if inside:
            continue
        qs[k, t] = s
        qe[k, t] = e
        t += 1
        ti[T_ADDED] += 1
    qn[k] = t


@njit(cache=True)
def resolve(until, final, tf, ti, qs, qe, qh, qn, rt, rw, mt, mw, totals):
    """Decide the momentary bottleneck up to `until` and settle what can be settled;
    `final`: the run is over, settle everything."""
    until = min(until, tf[T_END])
    t = tf[T_POS]
    n_st = qs.shape[0]
    if until > t:
        # each station's next boundary: the end of its period covering t, else its next start
        nb = np.empty(n_st)
        cover = np.zeros(n_st, dtype=np.bool_)
        best, length = -1, -1.0
        for j in range(n_st):
            h = qh[j]
            while h < qn[j] and qe[j, h] <= t:
                h += 1
            qh[j] = h
            nb[j] = np.inf
            if h < qn[j]:
                if qs[j, h] <= t:
                    cover[j] = True
                    nb[j] = qe[j, h]
                    if qe[j, h] - qs[j, h] > length:
                        best, length = j, qe[j, h] - qs[j, h]
                else:
                    nb[j] = qs[j, h]
        # the current winner (station, its period) and where its run began
        cw, cws, cwe, run0 = ti[T_WR], tf[T_WS], tf[T_WE], t
        while True:  # one boundary at a time, in time order
            j, nt = 0, nb[0]
            for i in range(1, n_st):
                if nb[i] < nt:
                    j, nt = i, nb[i]
            if nt > t:  # `best` wins [t, min(nt, until)): a new link if it is a new period
                if best != cw or (best >= 0 and qs[best, qh[best]] != cws):
                    if t > run0:
                        _extend(run0, t, cw, cws, cwe, tf, ti, rt, rw, mt, mw)
                    cw, cws, cwe, run0 = best, -1.0, -1.0, t
                    if best >= 0:
                        cws, cwe = qs[best, qh[best]], qe[best, qh[best]]
                if nt >= until:
                    _extend(run0, until, cw, cws, cwe, tf, ti, rt, rw, mt, mw)
                    break
                t = nt
            h = qh[j]
            if cover[j]:  # station j's period ends
                cover[j] = False
                qh[j] = h + 1
                nb[j] = qs[j, h + 1] if h + 1 < qn[j] else np.inf
                if j == best:
                    best, length = -1, -1.0
                    for i in range(n_st):
                        if cover[i] and qe[i, qh[i]] - qs[i, qh[i]] > length:
                            best, length = i, qe[i, qh[i]] - qs[i, qh[i]]
            else:  # station j's next period begins
                cover[j] = True
                nb[j] = qe[j, h]
                span = qe[j, h] - qs[j, h]
                if span > length or (span == length and j < best):
                    best, length = j, span
        tf[T_POS] = until
    held = ti[T_NRUN] + ti[T_NMARK]
    for j in range(n_st):
        held += qn[j] - qh[j]
    ti[T_HELD] = max(ti[T_HELD], held)
    _settle(final, tf, ti, qs, qh, qn, rt, rw, mt, mw, totals)


@njit(cache=True, inline="always")
def _extend(t0, t1, best, bs, be, tf, ti, rt, rw, mt, mw):
    """[t0, t1) is won by station `best`'s period [bs, be) (best -1: nobody is active)."""
    if best >= 0 and not (best == ti[T_WR] and bs == tf[T_WS]):
        last = ti[T_LR]
        if last >= 0:
            lo, hi = max(tf[T_LS], bs), min(tf[T_LE], be)
            if hi > lo:
                m = ti[T_NMARK]
                mt[m, 0], mt[m, 1], mw[m] = lo, hi, last
                mt[m + 1, 0], mt[m + 1, 1], mw[m + 1] = lo, hi, best
                ti[T_NMARK] = m + 2
        ti[T_LR], tf[T_LS], tf[T_LE] = best, bs, be
    ti[T_WR], tf[T_WS], tf[T_WE] = best, bs, be
    n = ti[T_NRUN]
    if n > 0 and rw[n - 1] == best and rt[n - 1, 1] == t0:
        rt[n - 1, 1] = t1
    else:
        rt[n, 0], rt[n, 1], rw[n] = t0, t1, best
        ti[T_NRUN] = n + 1


@njit(cache=True)
def _settle(final, tf, ti, qs, qh, qn, rt, rw, mt, mw, totals):
    """Count sole and shifting time up to where no later link pair can reach."""
    pos = tf[T_POS]
    upto = pos
    if not final:
        for j in range(qs.shape[0]):
            if qh[j] < qn[j] and qs[j, qh[j]] < upto:
                upto = qs[j, qh[j]]
        if ti[T_LR] >= 0:
            upto = min(upto, tf[T_LS])
    lo = tf[T_DONE]
    if upto <= lo:
        return
    nm = ti[T_NMARK]
    # the marks' parts in [lo, upto), sorted by start
    a = np.empty(nm)
    b = np.empty(nm)
    r = np.empty(nm, dtype=np.int64)
    c = 0
    for i in range(nm):
        x, y = max(mt[i, 0], lo), min(mt[i, 1], upto)
        if y > x:
            a[c], b[c], r[c] = x, y, mw[i]
            c += 1
    order = np.argsort(a[:c])
    # shifting: the union of each station's marks
    for st in range(qs.shape[0]):
        x, y = 0.0, -1.0
        for i in order:
            if r[i] != st:
                continue
            if y >= x and a[i] <= y:
                y = max(y, b[i])
            else:
                if y > x:
                    totals[1, st] += y - x
                x, y = a[i], b[i]
        if y > x:
            totals[1, st] += y - x
    # the union of all marks, as disjoint spans in time order
    ua = np.empty(c)
    ub = np.empty(c)
    nu = 0
    for i in order:
        if nu > 0 and a[i] <= ub[nu - 1]:
            ub[nu - 1] = max(ub[nu - 1], b[i])
        else:
            ua[nu], ub[nu] = a[i], b[i]
            nu += 1
    # sole: each run's part in [lo, upto) less that union (runs are in time order too)
    u = 0
    for i in range(ti[T_NRUN]):
        who = rw[i]
        x, y = max(rt[i, 0], lo), min(rt[i, 1], upto)
        if who < 0 or y <= x:
            continue
        while u < nu and ub[u] <= x:
            u += 1
        v = u
        while x < y:
            if v < nu and ua[v] < y:
                if ua[v] > x:
                    totals[0, who] += ua[v] - x
                x = max(x, ub[v])
                v += 1
            else:
                totals[0, who] += y - x
                x = y
    # keep what reaches past upto
    n = 0
    for i in range(ti[T_NRUN]):
        if rt[i, 1] > upto:
            rt[n, 0], rt[n, 1], rw[n] = max(rt[i, 0], upto), rt[i, 1], rw[i]
            n += 1
    ti[T_NRUN] = n
    n = 0
    for i in range(nm):
        if mt[i, 1] > upto:
            mt[n, 0], mt[n, 1], mw[n] = max(mt[i, 0], upto), mt[i, 1], mw[i]
            n += 1
    ti[T_NMARK] = n
    tf[T_DONE] = upto


class Tracker:
    """The compiled tracker's arrays, widened as needed between calls (see module doc)."""

    def __init__(self, stations: int, start: float, end: float):
        (self.tf, self.ti, self.qs, self.qe, self.qh, self.qn, self.rt, self.rw, self.mt,
         self.mw, self.totals) = new_state(stations, start, end)

    @property
    def sole(self) -> np.ndarray:
        """Sole bottleneck seconds per station (settled so far)."""
        return self.totals[0]

    @property
    def shifting(self) -> np.ndarray:
        """Shifting bottleneck seconds per station (settled so far)."""
        return self.totals[1]

    @property
    def added(self) -> int:
        """Periods added so far (of positive length in the window, not dropped)."""
        return int(self.ti[T_ADDED])

    @property
    def most_held(self) -> int:
        """The most queued periods, runs and marks held at once (memory)."""
        return int(self.ti[T_HELD])

    def add(self, k: int, ps: np.ndarray, pe: np.ndarray, n: int,
            open_s: np.ndarray | None = None, open_e: np.ndarray | None = None) -> None:
        """Station k's first n closed periods (in time order); those inside another
        station's open period [open_s[j], open_e[j]] begun earlier are dropped."""
        if open_s is None:
            open_s = open_e = np.zeros(0)
        held = self.qn[k] - self.qh[k]
        if held + n > self.qs.shape[1]:
            width = 2 * max(held + n, self.qs.shape[1])
            for name in ("qs", "qe"):
                old = getattr(self, name)
                new = np.zeros((old.shape[0], width))
                new[:, :old.shape[1]] = old
                setattr(self, name, new)
        add_periods(k, ps, pe, n, open_s, open_e, self.tf, self.ti, self.qs, self.qe, self.qh,
                    self.qn)

    def resolve(self, until: float, final: bool = False) -> None:
        """Every period beginning before `until` has been added: decide up to there
        (`final`: the run is over; settle everything)."""
        queued = int((self.qn - self.qh).sum())
        runs = self.ti[T_NRUN] + 2 * queued + 2
        marks = self.ti[T_NMARK] + 4 * queued + 4
        if runs > self.rt.shape[0]:
            self.rt = _grown(self.rt, 2 * runs)
            self.rw = _grown(self.rw, 2 * runs)
        if marks > self.mt.shape[0]:
            self.mt = _grown(self.mt, 2 * marks)
            self.mw = _grown(self.mw, 2 * marks)
        resolve(until, final, self.tf, self.ti, self.qs, self.qe, self.qh, self.qn, self.rt,
                self.rw, self.mt, self.mw, self.totals)


def _grown(a: np.ndarray, rows: int) -> np.ndarray:
    out = np.zeros((rows,) + a.shape[1:], dtype=a.dtype)
    out[:a.shape[0]] = a
    return out
