"""The event kernel: a line with any number of machines per station, event by event.

It keeps SimPy's own event order (time, then scheduling order; zero-delay events after the
timed events of the same instant), so that even simultaneous events resolve as in the SimPy
engine. Each process (a machine, the release, the arrivals, the warm-up, a machine's
time-dependent failures) is a resume point in `pi[p, Q_RES]` plus its columns in `pi`/`pf`;
the kernel wakes one at a time and runs it up to its next wait. A failure interrupts
processing as SimPy's `Process.interrupt` does: its Interruption event is urgent, so it is
the very next event, handled at once (`_fail`); the interrupted completion is dropped. The
queues are in `twin.kernels.queues`, the stations' take and offer in
`twin.kernels.stations`.
"""

from __future__ import annotations

from numba import njit

from twin.kernels.columns import (A_ARRIVE, A_INIT, BLOCKED, BUSY, CONWIP, C_ROWP, C_ROWS,
                                  C_SERVERS, DONE, DOWN, F_OPENED, F_PE, F_PROC, F_PS, F_PDROP,
                                  F_QAREA, F_QLAST, F_WAIT, GROW, G_ARG, G_BACKLOG, G_CHEAD,
                                  G_DONE,
                                  G_FHEAD, G_FIN, G_FN, G_GROW, G_HN, G_LEAD, G_NOW, G_REL,
                                  G_RWAIT, G_SCR, G_SCRSUM, G_WIP, G_WIPAREA, G_WIPLAST,
                                  G_WIPSTART, I_ACTIVE, I_BHEAD, I_BN, I_IHEAD, I_IN, I_NPER,
                                  I_PROD, I_QEND, I_SCRAP, I_WAITS, M_DONE, M_FAILED, M_INIT,
                                  M_LOOP, M_REPAIRED, M_START, NEED_DRAWS, P_END, P_KIND, P_RECORD,
                                  P_ROWA, P_WARMUP, Q_BTF, Q_ENT, Q_LEFT, Q_REL, Q_RES, Q_SINCE,
                                  Q_ST, Q_STATE, Q_T, R_LOOP, R_UNBLOCKED, STARVED, W_FIRE, W_INIT,
                                  C_TIME, M_GO, M_RESUME, Q_BASE, Q_DOWN, Q_OUT, Q_PROC,
                                  Q_RESUMED, Q_WREP, T_FAIL, T_INIT, T_REPAIR)
from twin.kernels.periods import settle
from twin.kernels.queues import (_cancel, _deq_push, _deq_remove, _eheap_pop, _fifo_push,
                                 _schedule)
from twin.kernels.stations import _add_backlog, _enter, _offer, _take, _wip_add


@njit(cache=True)
def _short(row, dpos, dfill):
    """Stream `row` (-1: none) has no draw left."""
    return row >= 0 and dpos[row] == dfill[row]


@njit(cache=True)
def _draw(row, dv, dpos):
    """The next draw of stream `row`."""
    v = dv[row, dpos[row]]
    dpos[row] += 1
    return v


@njit(cache=True)
def _restart(now, n_machines, spec, pf, sf, si, gf, gi):
    """End of warm-up: delete statistics, keep every unit where it is."""
    gi[G_REL] = 0
    gi[G_FIN] = 0
    gi[G_SCR] = 0
    gf[G_LEAD] = 0.0
    gf[G_SCRSUM] = 0.0
    gf[G_WIPAREA] = 0.0
    gf[G_WIPLAST] = now
    gi[G_WIPSTART] = gi[G_WIP]
    for k in range(spec.shape[0]):
        for c in (0, 1, 2, 3, 4, 5, F_QAREA, F_WAIT, F_PROC):
            sf[k, c] = 0.0
        sf[k, F_QLAST] = now
        si[k, I_WAITS] = 0
        si[k, I_PROD] = 0
        si[k, I_SCRAP] = 0
        si[k, I_NPER] = 0
        sf[k, F_PS] = -1.0
        sf[k, F_PE] = -1.0
        if si[k, I_ACTIVE] >= spec[k, C_SERVERS]:
            sf[k, F_OPENED] = now
    for m in range(n_machines):
        pf[m, Q_SINCE] = now


@njit(cache=True)
def _finish_events(end, n_machines, spec, pi, pf, sf, si, gf, gi, pst, pen, record):
    """Close every clock and area at the end of the run."""
    for m in range(n_machines):
        k = pi[m, Q_ST]
        sf[k, pi[m, Q_STATE]] += end - pf[m, Q_SINCE]
    for k in range(spec.shape[0]):
        if record:
            settle(k, sf[k, F_PDROP] > 0.0, sf, si, pst, pen)
        if record and si[k, I_ACTIVE] >= spec[k, C_SERVERS] and end > sf[k, F_OPENED]:
            n = si[k, I_NPER]
            pst[k, n] = sf[k, F_OPENED]
            pen[k, n] = end
            si[k, I_NPER] = n + 1
        sf[k, F_QAREA] += si[k, I_QEND] * (end - sf[k, F_QLAST])
    gf[G_WIPAREA] += gi[G_WIP] * (end - gf[G_WIPLAST])
    gi[G_DONE] = 1
    return DONE


@njit(cache=True)
def event_kernel(spec, cap, scrap, mrow, par_i, par_f, dv, dpos, dfill, sf, si, gf, gi,
                 pi, pf, qv, dq, ht, he, hp, fifo, pst, pen, cards):
    """Run the line event by event, in SimPy's order, until the next event is at `end`.

    Processes are numbered: machines 0..M-1 (station by station, route order), then the
    release process M, the arrivals process M+1, the warm-up process M+2 and, for a machine
    m with time-dependent failures, its failure process M+3+m. Each waits on at most one
    event: in the heap (ht, he, hp) or in the zero-delay `fifo`.
    """
    n_st = spec.shape[0]
    n_m = mrow.shape[0]
    rel_proc, arr_proc = n_m, n_m + 1
    w = par_f[P_WARMUP]
    end = par_f[P_END]
    kind = par_i[P_KIND]
    record = par_i[P_RECORD]
    h_size = fifo.shape[0]
    if gi[G_DONE]:
        return DONE
    while True:
        if gi[G_GROW] >= 0:
            gi[G_ARG] = gi[G_GROW]
            gi[G_GROW] = -1
            return GROW
        now = gf[G_NOW]
        from_heap = gi[G_FN] == 0 or (gi[G_HN] > 0 and ht[0] == now)
        if from_heap:
            if gi[G_HN] == 0 or ht[0] >= end:
                return _finish_events(end, n_m, spec, pi, pf, sf, si, gf, gi, pst, pen, record)
            p = hp[0]
        else:
            p = fifo[gi[G_FHEAD]]
        # every resumption draws at most one value from each stream it reads
        if p < n_m:
            k = pi[p, Q_ST]
            for row in (spec[k, C_ROWP], spec[k, C_ROWS], mrow[p, 0], mrow[p, 1]):
                if _short(row, dpos, dfill):
                    gi[G_ARG] = row
                    return NEED_DRAWS
        elif p == arr_proc and _short(par_i[P_ROWA], dpos, dfill):
            gi[G_ARG] = par_i[P_ROWA]
            return NEED_DRAWS
        elif p >= n_m + 3:
            for row in (mrow[p - n_m - 3, 0], mrow[p - n_m - 3, 1]):
                if _short(row, dpos, dfill):
                    gi[G_ARG] = row
                    return NEED_DRAWS
        if from_heap:
            now = ht[0]
            gf[G_NOW] = now
            gi[G_HN] = _eheap_pop(ht, he, hp, gi[G_HN])
        else:
            h = gi[G_FHEAD] + 1
            gi[G_FHEAD] = 0 if h == h_size else h
            gi[G_FN] -= 1
        code = pi[p, Q_RES]
        if p >= n_m + 3:  # run_failures of machine m: up a time to failure, down a repair
            m = p - n_m - 3
            if code == T_INIT or code == T_REPAIR:
                if code == T_REPAIR:
                    _repair(m, now, kind, rel_proc, spec, pi, pf, sf, si, gf, gi, qv, dq, fifo,
                            pst, pen, record)
                _schedule(p, now + _draw(mrow[m, 0], dv, dpos), now, gi, ht, he, hp, fifo)
                pi[p, Q_RES] = T_FAIL
            else:
                _fail(m, now, spec, pi, pf, sf, si, gi, dq, ht, he, hp, fifo, pst, pen, record)
                _schedule(p, now + _draw(mrow[m, 1], dv, dpos), now, gi, ht, he, hp, fifo)
                pi[p, Q_RES] = T_REPAIR
            continue
        if p >= n_m:  # release, arrivals or warm-up process
            if code == A_INIT or code == A_ARRIVE:
                if code == A_ARRIVE:
                    _add_backlog(rel_proc, gi, fifo)
                _schedule(p, now + _draw(par_i[P_ROWA], dv, dpos), now, gi, ht, he, hp, fifo)
                pi[p, Q_RES] = A_ARRIVE
            elif code == W_INIT:
                _schedule(p, now + w, now, gi, ht, he, hp, fifo)
                pi[p, Q_RES] = W_FIRE
            elif code == W_FIRE:
                _restart(now, n_m, spec, pf, sf, si, gf, gi)
            else:
                if code == R_UNBLOCKED and kind != CONWIP:
                    gi[G_REL] += 1
                    _wip_add(1, now, gf, gi)
                while True:
                    if gi[G_BACKLOG] == 0:
                        gi[G_RWAIT] = 1
                        pi[p, Q_RES] = R_LOOP
                        break
                    if si[0, I_QEND] == qv.shape[2] and cap[0] > qv.shape[2]:
                        # the buffer's ring is full: widen it, then resume here, next
                        h = gi[G_FHEAD] - 1
                        gi[G_FHEAD] = h + h_size if h < 0 else h
                        fifo[gi[G_FHEAD]] = p
                        gi[G_FN] += 1
                        pi[p, Q_RES] = R_LOOP
                        gi[G_ARG] = 0
                        return GROW
                    gi[G_BACKLOG] -= 1
                    pf[p, Q_REL] = now
                    if kind == CONWIP:  # released (and counted) when its card was freed
                        pf[p, Q_REL] = cards[gi[G_CHEAD]]
                        gi[G_CHEAD] = (gi[G_CHEAD] + 1) % cards.shape[0]
                    if not _offer(p, 0, now, cap, pf, sf, si, gi, qv, dq, fifo):
                        _deq_push(dq, si, 0, 0, I_BHEAD, I_BN, p)
                        pi[p, Q_RES] = R_UNBLOCKED
                        break
                    if kind != CONWIP:
                        gi[G_REL] += 1
                        _wip_add(1, now, gf, gi)
            continue
        # a machine
        k = pi[p, Q_ST]
        timed = spec[k, C_TIME] == 1
        if code == M_INIT:
            if mrow[p, 0] >= 0 and not timed:
                pf[p, Q_BTF] = _draw(mrow[p, 0], dv, dpos)
            code = M_LOOP
        elif code == M_DONE:
            pi[p, Q_PROC] = 0
            si[k, I_PROD] += 1
            sf[k, F_PROC] += pf[p, Q_T]
            gone = False
            if spec[k, C_ROWS] >= 0 and _draw(spec[k, C_ROWS], dv, dpos) < scrap[k]:
                si[k, I_SCRAP] += 1
                gi[G_SCR] += 1
                gf[G_SCRSUM] += now - pf[p, Q_REL]
                gone = True
            elif k == n_st - 1:
                gi[G_FIN] += 1
                gf[G_LEAD] += now - pf[p, Q_REL]
                gone = True
            if gone:
                _wip_add(-1, now, gf, gi)
                if kind == CONWIP:  # its card releases the next unit now (it may wait outside)
                    cards[(gi[G_CHEAD] + gi[G_BACKLOG]) % cards.shape[0]] = now
                    gi[G_REL] += 1
                    _wip_add(1, now, gf, gi)
                    _add_backlog(rel_proc, gi, fifo)
            elif not _offer(p, k + 1, now, cap, pf, sf, si, gi, qv, dq, fifo):
                pi[p, Q_BASE] = BLOCKED  # Machine.set: while down, the clock stays down
                if pi[p, Q_DOWN] == 0:
                    _enter(p, BLOCKED, now, spec, pi, pf, sf, si, pst, pen, record, gi)
                _deq_push(dq, si, k + 1, 0, I_BHEAD, I_BN, p)
                pi[p, Q_RES] = M_LOOP
                continue
            code = M_LOOP
        elif code == M_FAILED:
            pf[p, Q_LEFT] -= pf[p, Q_BTF]
            _enter(p, DOWN, now, spec, pi, pf, sf, si, pst, pen, record, gi)
            _schedule(p, now + _draw(mrow[p, 1], dv, dpos), now, gi, ht, he, hp, fifo)
            pi[p, Q_RES] = M_REPAIRED
            continue
        elif code == M_REPAIRED:
            _enter(p, BUSY, now, spec, pi, pf, sf, si, pst, pen, record, gi)
            pf[p, Q_BTF] = _draw(mrow[p, 0], dv, dpos)
            _proceed(p, now, pi, pf, gi, ht, he, hp, fifo)
            continue
        elif code == M_RESUME:  # repaired: processing goes on with the work left
            pf[p, Q_RESUMED] = now
            pi[p, Q_PROC] = 1
            _schedule(p, now + pf[p, Q_LEFT], now, gi, ht, he, hp, fifo)
            pi[p, Q_RES] = M_DONE
            continue
        elif code == M_START and pi[p, Q_DOWN]:  # woken with a unit as it broke down
            pi[p, Q_BASE] = BUSY  # (m.set(BUSY) while down)
            pi[p, Q_WREP] = 1
            pi[p, Q_RES] = M_GO
            continue
        if code == M_LOOP:
            if pi[p, Q_DOWN]:  # it waits for its repair before it takes work
                pi[p, Q_WREP] = 1
                pi[p, Q_RES] = M_LOOP
                continue
            if not _take(p, k, now, kind, rel_proc if kind != CONWIP else -1, pf, sf, si, gf,
                         gi, qv, dq, fifo):
                pi[p, Q_BASE] = STARVED  # Machine.set: while down, the clock stays down
                if pi[p, Q_DOWN] == 0:
                    _enter(p, STARVED, now, spec, pi, pf, sf, si, pst, pen, record, gi)
                _deq_push(dq, si, k, 1, I_IHEAD, I_IN, p)
                pi[p, Q_RES] = M_START
                continue
        # M_START, M_GO: processing starts
        sf[k, F_WAIT] += now - pf[p, Q_ENT]
        si[k, I_WAITS] += 1
        pi[p, Q_BASE] = BUSY  # Machine.set: while down, the clock stays down
        if pi[p, Q_DOWN] == 0:
            _enter(p, BUSY, now, spec, pi, pf, sf, si, pst, pen, record, gi)
        t = _draw(spec[k, C_ROWP], dv, dpos)
        pf[p, Q_T] = t
        if timed:  # time-dependent failures may interrupt it (`_fail`)
            pf[p, Q_LEFT] = t
            pf[p, Q_RESUMED] = now
            pi[p, Q_PROC] = 1
            _schedule(p, now + t, now, gi, ht, he, hp, fifo)
            pi[p, Q_RES] = M_DONE
        elif mrow[p, 0] >= 0:
            pf[p, Q_LEFT] = t
            _proceed(p, now, pi, pf, gi, ht, he, hp, fifo)
        else:
            _schedule(p, now + t, now, gi, ht, he, hp, fifo)
            pi[p, Q_RES] = M_DONE


@njit(cache=True)
def _proceed(p, now, pi, pf, gi, ht, he, hp, fifo):
    """Operation-dependent failures: fail during this processing, or finish it."""
    left = pf[p, Q_LEFT]
    btf = pf[p, Q_BTF]
    if left >= btf:
        _schedule(p, now + btf, now, gi, ht, he, hp, fifo)
        pi[p, Q_RES] = M_FAILED
    else:
        pf[p, Q_BTF] = btf - left
        _schedule(p, now + left, now, gi, ht, he, hp, fifo)
        pi[p, Q_RES] = M_DONE


@njit(cache=True)
def _fail(m, now, spec, pi, pf, sf, si, gi, dq, ht, he, hp, fifo, pst, pen, record):
    """Machine.fail: down now; processing is interrupted (SimPy's Interruption is urgent, so
    it is handled at once: the work left is noted and the pending completion dropped), an
    idle machine leaves the idle line."""
    pi[m, Q_DOWN] = 1
    _enter(m, DOWN, now, spec, pi, pf, sf, si, pst, pen, record, gi)
    if pi[m, Q_PROC]:
        pi[m, Q_PROC] = 0
        pf[m, Q_LEFT] = max(0.0, pf[m, Q_LEFT] - (now - pf[m, Q_RESUMED]))
        _cancel(m, gi, ht, he, hp, fifo)
        pi[m, Q_WREP] = 1
        pi[m, Q_RES] = M_RESUME
    elif pi[m, Q_RES] == M_START:  # idle, unless already woken with a unit
        if _deq_remove(dq, si, pi[m, Q_ST], 1, I_IHEAD, I_IN, m):
            pi[m, Q_OUT] = 1


@njit(cache=True)
def _repair(m, now, kind, rel_proc, spec, pi, pf, sf, si, gf, gi, qv, dq, fifo, pst, pen,
            record):
    """Machine.repair: up again in the state it would be in; the machine goes on if it
    waited for the repair, or looks for work if it was idle (Station.serve)."""
    pi[m, Q_DOWN] = 0
    _enter(m, pi[m, Q_BASE], now, spec, pi, pf, sf, si, pst, pen, record, gi)
    if pi[m, Q_WREP]:
        pi[m, Q_WREP] = 0
        _fifo_push(m, gi, fifo)
    if pi[m, Q_OUT]:
        pi[m, Q_OUT] = 0
        k = pi[m, Q_ST]
        if _take(m, k, now, kind, rel_proc if kind != CONWIP else -1, pf, sf, si, gf, gi, qv,
                 dq, fifo):
            _fifo_push(m, gi, fifo)
        else:
            _deq_push(dq, si, k, 1, I_IHEAD, I_IN, m)
