"""What a station does in the event kernel, on arrays: `Station.take`, `Station.offer`,
letting in the longest-blocked sender, `StateClock.enter` with the station's active periods,
and the system's work in process (the semantics of `twin/engine/stations.py`).
"""

from __future__ import annotations

from numba import njit

from twin.kernels.columns import (BUSY, C_SERVERS, DOWN, F_OPENED, F_PDROP, F_PE, F_PS, F_QAREA,
                                  F_QLAST, G_BACKLOG, G_GROW, G_REL, G_RWAIT, G_WIP, G_WIPAREA,
                                  G_WIPLAST, I_ACTIVE, I_BHEAD, I_BN, I_IHEAD, I_IN, I_QEND,
                                  I_QHEAD, Q_ENT, Q_REL, Q_SINCE, Q_ST, Q_STATE, SATURATED)
from twin.kernels.periods import settle
from twin.kernels.queues import _deq_pop, _fifo_push


@njit(cache=True)
def _wip_add(delta, now, gf, gi):
    """Change the work in process by `delta` at `now`, adding the area under it so far."""
    gf[G_WIPAREA] += gi[G_WIP] * (now - gf[G_WIPLAST])
    gf[G_WIPLAST] = now
    gi[G_WIP] += delta


@njit(cache=True)
def _enter(p, new, now, spec, pi, pf, sf, si, pst, pen, record, gi):
    """StateClock.enter plus the station's ActivePeriods (active while all machines are)."""
    old = pi[p, Q_STATE]
    if new == old:
        return
    k = pi[p, Q_ST]
    sf[k, old] += now - pf[p, Q_SINCE]
    pi[p, Q_STATE] = new
    pf[p, Q_SINCE] = now
    was = old == BUSY or old == DOWN
    act = new == BUSY or new == DOWN
    if was == act:
        return
    size = spec[k, C_SERVERS]
    before = si[k, I_ACTIVE]
    after = before + 1 if act else before - 1
    si[k, I_ACTIVE] = after
    if before < size <= after:
        if record and sf[k, F_PE] == now:  # inactive for no time: the period goes on
            sf[k, F_OPENED] = sf[k, F_PS]
            sf[k, F_PS] = -1.0
            sf[k, F_PE] = -1.0
        else:
            if record and settle(k, sf[k, F_PDROP] > 0.0, sf, si, pst, pen):
                gi[G_GROW] = k
            sf[k, F_OPENED] = now
    elif before >= size > after and now > sf[k, F_OPENED] and record:
        opened = sf[k, F_OPENED]
        sf[k, F_PS] = opened
        sf[k, F_PE] = now
        sf[k, F_PDROP] = 0.0
        for j in range(spec.shape[0]):  # another station active since before it opened
            if j != k and si[j, I_ACTIVE] >= spec[j, C_SERVERS] and sf[j, F_OPENED] < opened:
                sf[k, F_PDROP] = 1.0
                break


@njit(cache=True)
def _let_in(k, now, rel_proc, pf, si, dq, gi, fifo):
    """The longest-blocked sender of station k enters it now; returns that process."""
    q = _deq_pop(dq, si, k, 0, I_BHEAD, I_BN)
    pf[q, Q_ENT] = now
    if q == rel_proc:  # a unit waiting outside is released when it enters
        pf[q, Q_REL] = now
    _fifo_push(q, gi, fifo)
    return q


@njit(cache=True)
def _take(p, k, now, kind, rel_proc, pf, sf, si, gf, gi, qv, dq, fifo):
    """Station.take: the next unit for machine p (into its slot); False if there is none."""
    n = si[k, I_QEND]
    wq = qv.shape[2]
    if n > 0:
        h = si[k, I_QHEAD]
        pf[p, Q_REL] = qv[k, 0, h]
        pf[p, Q_ENT] = qv[k, 1, h]
        h = 0 if h + 1 == wq else h + 1
        si[k, I_QHEAD] = h
        if si[k, I_BN] > 0:
            q = _let_in(k, now, rel_proc, pf, si, dq, gi, fifo)
            i = h + n - 1
            if i >= wq:
                i -= wq
            qv[k, 0, i] = pf[q, Q_REL]
            qv[k, 1, i] = now
        else:
            sf[k, F_QAREA] += n * (now - sf[k, F_QLAST])
            sf[k, F_QLAST] = now
            si[k, I_QEND] = n - 1
        return True
    if si[k, I_BN] > 0:
        q = _let_in(k, now, rel_proc, pf, si, dq, gi, fifo)
        pf[p, Q_REL] = pf[q, Q_REL]
        pf[p, Q_ENT] = now
        return True
    if k == 0 and kind == SATURATED:
        gi[G_REL] += 1
        _wip_add(1, now, gf, gi)
        pf[p, Q_REL] = now
        pf[p, Q_ENT] = now
        return True
    return False


@njit(cache=True)
def _offer(p, k, now, cap, pf, sf, si, gi, qv, dq, fifo):
    """Station.offer: station k takes p's unit into an idle machine or its buffer, or not."""
    pf[p, Q_ENT] = now
    if si[k, I_IN] > 0:
        m = _deq_pop(dq, si, k, 1, I_IHEAD, I_IN)
        pf[m, Q_REL] = pf[p, Q_REL]
        pf[m, Q_ENT] = now
        _fifo_push(m, gi, fifo)
        return True
    n = si[k, I_QEND]
    if n < cap[k]:
        wq = qv.shape[2]
        sf[k, F_QAREA] += n * (now - sf[k, F_QLAST])
        sf[k, F_QLAST] = now
        i = si[k, I_QHEAD] + n
        if i >= wq:
            i -= wq
        qv[k, 0, i] = pf[p, Q_REL]
        qv[k, 1, i] = now
        si[k, I_QEND] = n + 1
        if n + 1 == wq and cap[k] > wq:
            gi[G_GROW] = k
        return True
    return False


@njit(cache=True)
def _add_backlog(rel_proc, gi, fifo):
    """One more unit may be released; wake the release process if it waits for one."""
    gi[G_BACKLOG] += 1
    if gi[G_RWAIT]:
        gi[G_RWAIT] = 0
        _fifo_push(rel_proc, gi, fifo)
