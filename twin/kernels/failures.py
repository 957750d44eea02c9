"""Time-dependent failures of single machines in the line kernel.

Without shift calendars a machine's time-dependent failures are an alternating timeline that
no unit changes: it fails after its first time to failure (drawn at time 0), is repaired a
time to repair later, fails again a time to failure after that, and so on (SimPy's
`run_failures`), each time computed as SimPy computes it (now + delay). The line kernel
walks each station's timeline forward as its units pass:

- a unit starts when the machine is free, the unit is there and the machine is up: a start
  that falls in a down interval moves to its repair;
- processing stops at each failure and resumes after the repair with the work left
  (`left = max(0, left - (failure - resumed))`, as SimPy's `work`); a failure at the very
  moment the work would end comes first (its event was scheduled earlier), so the unit
  ends after the repair;
- a blocked machine may break down; its finished unit still leaves when the next station
  takes it, and the machine takes new work only after the repair;
- the machine is `down` during every down interval, whatever it would otherwise be;
  active (for the bottleneck) while busy or down, merged when touching.

A visit is a transaction: `tf_start` and `tf_end` work on copies (`F_X...`, `I_X...`) of
the station's committed state and commit only at the end, so a visit that stops for draws
or room is simply done again. `tf_close` takes the timeline to the end of the run. No
function walks a timeline past the end of the run: what happens after it is not measured,
and a process time far longer than the run would otherwise walk millions of failures.

Most visits meet no failure: the line kernel sees that from the station's next down
interval and calls these functions only when one is near (a call with arrays costs
numba's reference counting, more than the visit itself).

Where a failure or repair falls exactly on a moment whose order against it SimPy decides by
its event queue (a unit handed to an idle machine at the instant it fails, the first
unit's completion at time 0's failure, an event at the end of the warm-up), they return
`TIE`; the engine then runs that replication again on the event kernel, which keeps
SimPy's event order.
"""

from __future__ import annotations

from numba import njit

from twin.kernels.columns import (BLOCKED, DONE, DOWN, F_DPEND, F_FREE, F_PE, F_PS, F_TF,
                                  F_TR, F_XBD, F_XC, F_XF, F_XPE, F_XPS, F_XR, F_XS,
                                  F_XSD, GROW, G_ARG, I_NPER, I_XNP, I_XPF, I_XPR, NEED_DRAWS,
                                  STARVED, TIE)
from twin.kernels.periods import covered

FULL = -2  # G_ARG of a GROW: a station's active periods fill its buffer within one visit


@njit(cache=True, inline="always")
def _clip(t: float, w: float, end: float) -> float:
    return min(max(t, w), end)


@njit(cache=True, inline="always")
def _next_down(f, r, pf, pr, rf, rr, dv, dfill, gi):
    """The down interval after [f, r) of a machine whose failure and repair streams are rows
    rf, rr read up to pf, pr: (True, its failure, its repair, pf + 1, pr + 1) as SimPy times
    them (repair + time to failure, failure + time to repair); (False, unchanged) with
    G_ARG naming the stream that ran dry."""
    if pf == dfill[rf] or pr == dfill[rr]:
        gi[G_ARG] = rf if pf == dfill[rf] else rr
        return False, f, r, pf, pr
    f = r + dv[rf, pf]
    return True, f, f + dv[rr, pr], pf + 1, pr + 1


@njit(cache=True, inline="always")
def _committed(k, rf, rr, dpos, sf, si):
    """Station k's committed failure state: its next failure and repair, its failure and
    repair streams' positions, its open active period and its stored periods' count."""
    return (sf[k, F_TF], sf[k, F_TR], dpos[rf], dpos[rr], sf[k, F_PS], sf[k, F_PE],
            si[k, I_NPER])


@njit(cache=True, inline="always")
def _emit(k, a, b, ps, pe, npd, sf, si, pst, pen):
    """Station k is active over [a, b] (clipped): the open period (ps, pe) grows when it
    touches, else a new one opens and the old is stored (unless another station's older
    period covers it); returns (ps, pe, stored periods)."""
    touch = a == pe
    new = (not touch) and (b > a)
    if new and pe > ps and not covered(k, ps, pe, sf, si, pst, pen):
        pst[k, npd] = ps
        pen[k, npd] = pe
        npd += 1
    if new:
        ps = a
    if new or touch:
        pe = b
    return ps, pe, npd


@njit(cache=True)
def tf_push(k, x, check, mrow, dv, dpos, dfill, sf, gi):
    """When can station k's machine (no buffer) take a unit offered at `x`: `x`, or the
    repair of the down interval `x` falls in. Reads the timeline without passing it;
    (time, status). `check`: a unit offered by the previous station's completion at the
    very instant of a failure of an idle machine is a tie (SimPy's event order decides)."""
    rf = mrow[k, 0]
    rr = mrow[k, 1]
    f = sf[k, F_TF]
    r = sf[k, F_TR]
    pf = dpos[rf]
    pr = dpos[rr]
    while r <= x:
        ok, f, r, pf, pr = _next_down(f, r, pf, pr, rf, rr, dv, dfill, gi)
        if not ok:
            return x, NEED_DRAWS
    if check and f == x and sf[k, F_FREE] < x:
        return x, TIE
    if f <= x:
        return r, DONE
    return x, DONE


@njit(cache=True)
def tf_start(k, e, t, w, end, record, mrow, dv, dpos, dfill, sf, si, gi, pst, pen):
    """A unit that entered station k at `e` with process time `t`: its start (after the down
    intervals it meets while waiting) and completion (with the ones during processing), and
    the down time in each part, into the visit's copies. Returns a status."""
    rf = mrow[k, 0]
    rr = mrow[k, 1]
    free = sf[k, F_FREE]
    f, r, pf, pr, ps, pe, npd = _committed(k, rf, rr, dpos, sf, si)
    width = pst.shape[1]
    s = max(e, free)
    sd = 0.0
    while f <= s and f < end:  # down intervals begun by the start: passed while idle (or
        # blocked); none after the end matters (and walking there could take long)
        if k > 0 and f == e and free < e:  # handed over exactly as the idle machine fails
            return TIE
        if f == w or r == w:
            return TIE
        if r > s:
            s = r
        sd += _clip(r, w, end) - _clip(max(f, free), w, end)
        if record and f >= free:  # (one begun before `free` was noted by the last visit)
            if npd + 2 >= width:
                gi[G_ARG] = FULL
                return GROW
            ps, pe, npd = _emit(k, _clip(f, w, end), _clip(r, w, end), ps, pe, npd, sf, si,
                                pst, pen)
        ok, f, r, pf, pr = _next_down(f, r, pf, pr, rf, rr, dv, dfill, gi)
        if not ok:
            return NEED_DRAWS
    now = s
    left = t
    bd = 0.0
    while f <= now + left and f < end:  # failures during processing (one at its very end
        # first)
        if now == 0.0 and f == now + left:  # the first unit's end was scheduled first
            return TIE
        if f == w or r == w:
            return TIE
        left = max(0.0, left - (f - now))
        now = r
        bd += _clip(r, w, end) - _clip(f, w, end)
        ok, f, r, pf, pr = _next_down(f, r, pf, pr, rf, rr, dv, dfill, gi)
        if not ok:
            return NEED_DRAWS
    sf[k, F_XF] = f
    sf[k, F_XR] = r
    si[k, I_XPF] = pf
    si[k, I_XPR] = pr
    sf[k, F_XPS] = ps
    sf[k, F_XPE] = pe
    si[k, I_XNP] = npd
    sf[k, F_XS] = s
    sf[k, F_XC] = now + left
    sf[k, F_XSD] = sd
    sf[k, F_XBD] = bd
    return DONE


@njit(cache=True)
def tf_end(k, s, c, d, fresh, w, end, record, stats, mrow, dv, dpos, dfill, sf, si, gi, pst,
           pen):
    """The unit started at `s` and ended at `c` leaves station k at `d`: the down intervals
    begun while it was blocked, the visit's active periods, and the commit of the visit's
    failure state (down time, and starved and blocked time net of it, when `stats`). From
    the copies `tf_start` made, or (`fresh`: it met no failure before its end, so the line
    kernel did not call `tf_start`) from the committed state. Returns a status."""
    rf = mrow[k, 0]
    rr = mrow[k, 1]
    if fresh:
        f, r, pf, pr, ps, pe, npd = _committed(k, rf, rr, dpos, sf, si)
        sd = 0.0
    else:
        f = sf[k, F_XF]
        r = sf[k, F_XR]
        pf = si[k, I_XPF]
        pr = si[k, I_XPR]
        ps = sf[k, F_XPS]
        pe = sf[k, F_XPE]
        npd = si[k, I_XNP]
        sd = sf[k, F_XSD]
    width = pst.shape[1]
    if record:
        if npd + 2 >= width:
            gi[G_ARG] = FULL
            return GROW
        ps, pe, npd = _emit(k, _clip(s, w, end), _clip(c, w, end), ps, pe, npd, sf, si, pst,
                            pen)
    kd = 0.0
    while f < d and f < end:  # failures while blocked: the unit still leaves at d
        if f == w or r == w:
            return TIE
        kd += _clip(min(r, d), w, end) - _clip(f, w, end)
        if record:
            if npd + 2 >= width:
                gi[G_ARG] = FULL
                return GROW
            ps, pe, npd = _emit(k, _clip(f, w, end), _clip(r, w, end), ps, pe, npd, sf, si,
                                pst, pen)
        if r > d:  # still down when the unit leaves: the next visit passes it
            break
        ok, f, r, pf, pr = _next_down(f, r, pf, pr, rf, rr, dv, dfill, gi)
        if not ok:
            return NEED_DRAWS
    # commit
    sf[k, F_TF] = f
    sf[k, F_TR] = r
    dpos[rf] = pf
    dpos[rr] = pr
    if record:
        sf[k, F_PS] = ps
        sf[k, F_PE] = pe
        si[k, I_NPER] = npd
    if stats:
        sf[k, STARVED] -= sd
        sf[k, BLOCKED] -= kd
        sf[k, DOWN] += sd + kd
    return DONE


@njit(cache=True)
def tf_close(k, w, end, record, mrow, dv, dpos, dfill, sf, si, gi, pst, pen):
    """The end of the run: station k's down intervals from its last departure to `end`
    (counted in `down` and noted in F_DPEND, to come off its starved time), committed one by
    one. Returns a status."""
    rf = mrow[k, 0]
    rr = mrow[k, 1]
    free = sf[k, F_FREE]
    width = pst.shape[1]
    while sf[k, F_TF] < end:
        f = sf[k, F_TF]
        r = sf[k, F_TR]
        if f == w or r == w:
            return TIE
        if dpos[rf] == dfill[rf] or dpos[rr] == dfill[rr]:
            gi[G_ARG] = rf if dpos[rf] == dfill[rf] else rr
            return NEED_DRAWS
        fresh = f >= free  # (one begun before `free` was noted by the last visit)
        if record and fresh and si[k, I_NPER] + 2 >= width:
            gi[G_ARG] = FULL
            return GROW
        x = _clip(r, w, end) - _clip(max(f, free), w, end)
        sf[k, DOWN] += x
        sf[k, F_DPEND] += x
        if record and fresh:
            ps, pe, npd = _emit(k, _clip(f, w, end), _clip(r, w, end), sf[k, F_PS],
                                sf[k, F_PE], si[k, I_NPER], sf, si, pst, pen)
            sf[k, F_PS] = ps
            sf[k, F_PE] = pe
            si[k, I_NPER] = npd
        f = r + dv[rf, dpos[rf]]
        dpos[rf] += 1
        sf[k, F_TF] = f
        sf[k, F_TR] = f + dv[rr, dpos[rr]]
        dpos[rr] += 1
    return DONE
