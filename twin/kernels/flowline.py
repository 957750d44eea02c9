"""Flow-line kernels: one replication of a line of stations, on arrays only.

Two kernels compute the same thing, the SimPy engine's `twin/engine/stations.py` semantics
(blocking after service, FIFO buffers, idle machines handed work longest-idle first, blocked
senders let in in the order they blocked, operation-dependent failures, scrap, saturated,
interarrival or CONWIP release), for a line whose route visits stations 0, 1, ..., J-1:

* `line_kernel`: the max-plus departure-time recursion for lines of single machines. Unit n
  starts at station k at max(entry, machine free) and leaves at max(completion, the time
  unit n - (buffer + 1) of the next station left it). A few nanoseconds per station visit.
* `event_kernel`: an event-driven kernel for any number of machines per station. It keeps
  SimPy's own event order (time, then scheduling order; zero-delay events after the timed
  events of the same instant), so that even simultaneous events resolve the same way.

Both are resumable: all state lives in the arrays they are handed, and they return a status
when they need more random draws (`NEED_DRAWS`) or more room (`GROW_*`); the caller refills
or widens the arrays and calls again. A station visit (an event) is a transaction: a kernel
stops before it, never in the middle. Draws come pre-computed in `dv[row, :]`, read at
`dpos[row]` up to `dfill[row]`, one row per named random stream.

Times are clipped to the measured window [w, end) with `min(max(t, w), end)`, so an interval
[a, b] contributes clip(b) - clip(a): no branches for the warm-up or the end of the run.
`reference_line` is the recursion in plain Python over whole arrays, the reference both
kernels are tested against (as is the SimPy engine itself).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# statuses
DONE, NEED_DRAWS, GROW, TIE = 0, 1, 2, 3
# release kinds
SATURATED, INTERARRIVAL, CONWIP = 0, 1, 2
# machine states (twin.model.STATES order); busy, down and setup are active
BUSY, STARVED, BLOCKED, DOWN = 0, 1, 2, 3

# static station spec, int columns: servers, room (buffer + servers; -1 unlimited),
# stream rows of process times and scrap decisions (-1 none), first machine's number
C_SERVERS, C_ROOM, C_ROWP, C_ROWS, C_M0 = range(5)
# station float state: state totals (seconds, columns = machine states) then ...
F_QAREA, F_WAIT, F_PROC, F_FREE, F_BTF, F_QLAST, F_OPENED = range(6, 13)
N_SF = 13
# station int state
I_WAITS, I_PROD, I_SCRAP, I_QEND, I_NPER, I_ARR, I_QHEAD, I_BHEAD, I_BN, I_IHEAD, I_IN, \
    I_ACTIVE = range(12)
N_SI = 12
# parameters: int and float
P_KIND, P_CONWIP, P_ROWA, P_RECORD = range(4)
P_WARMUP, P_END = range(2)
# global float state
G_A, G_WIPAREA, G_LEAD, G_CURE, G_CURREL, G_NOW, G_WIPLAST = range(7)
N_GF = 7
# global int state
(G_N, G_REL, G_FIN, G_SCR, G_PREREL, G_PREEXIT, G_ENDEXIT, G_CUR, G_ARG, G_NEXIT, G_EID,
 G_HN, G_FHEAD, G_FN, G_BACKLOG, G_RWAIT, G_WIP, G_WIPSTART, G_DONE) = range(19)
N_GI = 19


@njit(cache=True, inline="always")
def _clip(t: float, w: float, end: float) -> float:
    return min(max(t, w), end)


@njit(cache=True)
def _heap_push(keys, vals, n, key, val):
    """Push (key, val) on a binary min-heap of n items; returns the new size."""
    i = n
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= key:
            break
        keys[i] = keys[parent]
        vals[i] = vals[parent]
        i = parent
    keys[i] = key
    vals[i] = val
    return n + 1


@njit(cache=True)
def _heap_pop(keys, vals, n):
    """Remove the root of a min-heap of n items (n >= 1); returns the new size."""
    n -= 1
    key, val = keys[n], vals[n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and keys[c + 1] < keys[c]:
            c += 1
        if keys[c] >= key:
            break
        keys[i] = keys[c]
        vals[i] = vals[c]
        i = c
    if n > 0:
        keys[i] = key
        vals[i] = val
    return n


@njit(cache=True)
def line_kernel(spec, scrap, mrow, par_i, par_f, dv, dpos, dfill, sf, si, gf, gi, ring,
                exits, exit_id, pst, pen):
    """Run the single-machine line recursion until the next release is at or after `end`.

    `ring[k, r % W]` holds the time arrival r left station k (W a power of two; needs
    W >= min(room, arrivals)). `exits` is a min-heap of exit times (CONWIP releases).
    """
    n_st = spec.shape[0]
    w = par_f[P_WARMUP]
    end = par_f[P_END]
    kind = par_i[P_KIND]
    record = par_i[P_RECORD]
    mask = ring.shape[1] - 1
    width = ring.shape[1]
    n_per = pst.shape[1]
    if gi[G_DONE]:
        return DONE
    while True:
        k = gi[G_CUR]
        if k < 0:  # release the next unit into station 0
            avail = 0.0
            a = 0.0
            if kind == SATURATED:
                avail = sf[0, F_FREE]
            elif kind == INTERARRIVAL:
                ra = par_i[P_ROWA]
                if dpos[ra] == dfill[ra]:
                    gi[G_ARG] = ra
                    return NEED_DRAWS
                a = gf[G_A] + dv[ra, dpos[ra]]
                avail = a
            elif gi[G_N] >= par_i[P_CONWIP]:
                avail = exits[0]
            room = spec[0, C_ROOM]
            r0 = si[0, I_ARR]
            if kind != SATURATED and room >= 0 and r0 >= room:
                avail = max(avail, ring[0, (r0 - room) & mask])
            if avail >= end:
                return _finish_line(sf, si, gi, w, end, n_st)
            if w > 0 and avail == w:
                return TIE
            if kind == INTERARRIVAL:
                dpos[par_i[P_ROWA]] += 1
                gf[G_A] = a
            elif kind == CONWIP and gi[G_N] >= par_i[P_CONWIP]:
                gi[G_NEXIT] = _heap_pop(exits, exit_id, gi[G_NEXIT])
            gi[G_N] += 1
            if avail < w:
                gi[G_PREREL] += 1
            else:
                gi[G_REL] += 1
            gf[G_CURE] = avail
            gf[G_CURREL] = avail
            gi[G_CUR] = 0
            k = 0
        # --- one visit of the current unit at station k --------------------------------
        r = si[k, I_ARR]
        room = spec[k, C_ROOM]
        if room > width and r >= width:
            gi[G_ARG] = k
            return GROW
        if record and si[k, I_NPER] >= n_per - 1:
            gi[G_ARG] = k
            return GROW
        rp = spec[k, C_ROWP]
        pp = dpos[rp]
        if pp == dfill[rp]:
            gi[G_ARG] = rp
            return NEED_DRAWS
        e = gf[G_CURE]
        s = max(e, sf[k, F_FREE])
        t = dv[rp, pp]
        now = s
        left = t
        down = 0.0
        rf = mrow[k, 0]
        btf = 0.0
        if rf >= 0:  # operation-dependent failures: busy time to failure runs while busy
            rr = mrow[k, 1]
            pf = dpos[rf]
            pr = dpos[rr]
            btf = sf[k, F_BTF]
            while left >= btf:
                now = now + btf
                left -= btf
                if pr == dfill[rr]:
                    gi[G_ARG] = rr
                    return NEED_DRAWS
                if pf == dfill[rf]:
                    gi[G_ARG] = rf
                    return NEED_DRAWS
                fail_at = now
                now = now + dv[rr, pr]
                pr += 1
                down += _clip(now, w, end) - _clip(fail_at, w, end)
                btf = dv[rf, pf]
                pf += 1
            btf -= left
        c = now + left
        scrapped = False
        rs = spec[k, C_ROWS]
        if rs >= 0:
            if dpos[rs] == dfill[rs]:
                gi[G_ARG] = rs
                return NEED_DRAWS
            scrapped = dv[rs, dpos[rs]] < scrap[k]
            dpos[rs] += 1
        if w > 0 and (s == w or c == w):
            return TIE
        d = c
        last = scrapped or k == n_st - 1
        if not last:
            room1 = spec[k + 1, C_ROOM]
            r1 = si[k + 1, I_ARR]
            if room1 >= 0 and r1 >= room1:
                d = max(c, ring[k + 1, (r1 - room1) & mask])
        # commit
        dpos[rp] = pp + 1
        if rf >= 0:
            dpos[rf] = pf
            dpos[rr] = pr
            sf[k, F_BTF] = btf
        cs = _clip(s, w, end)
        cc = _clip(c, w, end)
        sf[k, STARVED] += cs - _clip(sf[k, F_FREE], w, end)
        sf[k, BUSY] += cc - cs - down
        sf[k, DOWN] += down
        sf[k, BLOCKED] += _clip(d, w, end) - cc
        sf[k, F_QAREA] += cs - _clip(e, w, end)
        if w <= s < end:
            si[k, I_WAITS] += 1
            sf[k, F_WAIT] += s - e
        if w <= c < end:
            si[k, I_PROD] += 1
            sf[k, F_PROC] += t
            if scrapped:
                si[k, I_SCRAP] += 1
        if e < end <= s:
            si[k, I_QEND] += 1
        if room >= 0:
            ring[k, r & mask] = d
        si[k, I_ARR] = r + 1
        sf[k, F_FREE] = d
        if record:  # active while busy or down: [s, c], merged when touching
            npd = si[k, I_NPER]
            if npd > 0 and pen[k, npd - 1] == cs:
                pen[k, npd - 1] = cc
            elif cc > cs:
                pst[k, npd] = cs
                pen[k, npd] = cc
                si[k, I_NPER] = npd + 1
        if last:
            rel = gf[G_CURREL]
            gf[G_WIPAREA] += cc - _clip(rel, w, end)
            if c < w:
                gi[G_PREEXIT] += 1
            if c < end:
                gi[G_ENDEXIT] += 1
                if c >= w:
                    if scrapped:
                        gi[G_SCR] += 1
                    else:
                        gi[G_FIN] += 1
                        gf[G_LEAD] += c - rel
            if kind == CONWIP:
                gi[G_NEXIT] = _heap_push(exits, exit_id, gi[G_NEXIT], c, 0)
            gi[G_CUR] = -1
        else:
            gi[G_CUR] = k + 1
            gf[G_CURE] = d


@njit(cache=True)
def _finish_line(sf, si, gi, w, end, n_st):
    """No unit is released before `end`: every machine is starved from its last departure."""
    for k in range(n_st):
        sf[k, STARVED] += end - _clip(sf[k, F_FREE], w, end)
    gi[G_WIP] = gi[G_N] - gi[G_ENDEXIT]
    gi[G_WIPSTART] = gi[G_PREREL] - gi[G_PREEXIT]
    gi[G_DONE] = 1
    return DONE
