"""The single-machine line kernel: the max-plus departure-time recursion.

For a line of single machines whose route visits stations 0, 1, ..., J-1, unit n starts at
station k at max(entry, machine free) and leaves at max(completion, the time unit
n - (buffer + 1) of the next station left it). A few nanoseconds per station visit. The
semantics are those of the SimPy engine (see `twin.kernels.flowline`), and
`twin.kernels.reference.reference_line` is the same recursion in plain Python.
"""

from __future__ import annotations

from numba import njit

from twin.kernels.columns import (BLOCKED, BUSY, CONWIP, C_ROOM, C_ROWP, C_ROWS, DONE, DOWN,
                                  F_BTF, F_DPEND, F_FREE, F_PE, F_PROC, F_PS, F_QAREA, F_TF, F_TR,
                                  F_WAIT, F_XBD, F_XC, F_XF, F_XS, GROW, G_A, G_ARG, G_CUR,
                                  G_CURE, G_CURREL, G_DONE, G_ENDEXIT, G_FIN, G_LEAD, G_N,
                                  G_NEXIT, G_PREEXIT, G_PREREL, G_REL, G_SCR, G_SCRSUM, G_WIP,
                                  G_WIPAREA, G_WIPSTART, INTERARRIVAL, I_ARR, I_NPER, I_PROD,
                                  I_QEND, I_SCRAP, I_WAITS, I_XPF, I_XPR, NEED_DRAWS, P_CONWIP,
                                  P_END, P_KIND, P_RECORD, P_ROWA, P_STATS, P_WARMUP, ROOM_UP,
                                  SATURATED, STARVED, TIE)
from twin.kernels.failures import tf_close, tf_end, tf_push, tf_start
from twin.kernels.periods import covered


@njit(cache=True, inline="always")
def _clip(t: float, w: float, end: float) -> float:
    """`t` clipped to the measured window [w, end]."""
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
def _budget(spec, mrow, dpos, dfill, si, ring, pst, record):
    """How many more units can pass every station before a stream, ring or period array
    runs out (each unit takes at most one of each per station); (n, status, arg)."""
    n = 1 << 62
    status, arg = DONE, -1
    width = ring.shape[1]
    for k in range(spec.shape[0]):
        for row in (spec[k, C_ROWP], spec[k, C_ROWS]):
            if row >= 0 and dfill[row] - dpos[row] < n:
                n, status, arg = dfill[row] - dpos[row], NEED_DRAWS, row
        if spec[k, C_ROOM] > width and width - si[k, I_ARR] < n:
            n, status, arg = width - si[k, I_ARR], GROW, k
        if record and pst.shape[1] - 1 - si[k, I_NPER] < n:
            n, status, arg = pst.shape[1] - 1 - si[k, I_NPER], GROW, k
    return n, status, arg


@njit(cache=True)
def line_kernel(spec, scrap, mrow, par_i, par_f, dv, dpos, dfill, sf, si, gf, gi, ring,
                exits, exit_id, pst, pen, timed):
    """Run the single-machine line recursion until the next release is at or after `end`.

    `ring[k, r % W]` holds the time arrival r left station k (W a power of two; needs
    W >= min(room, arrivals)). `exits` is a min-heap of exit times (CONWIP releases). A
    unit's trip runs in an inner loop with its times in registers; it is saved to `gi`/`gf`
    only if a failure stream runs dry in the middle of it.

    `timed[k]` is 1 for a station with time-dependent failures (`twin.kernels.failures`),
    or `timed` is None: a line without them, for which numba compiles the kernel without
    any of their code (it prunes the branches on `timed is None`).
    """
    n_st = spec.shape[0]
    w = par_f[P_WARMUP]
    end = par_f[P_END]
    kind = par_i[P_KIND]
    record = par_i[P_RECORD]
    stats = par_i[P_STATS]  # 0: the line's own figures only (sweeps), no station's
    mask = ring.shape[1] - 1
    if gi[G_DONE]:
        return DONE
    budget, status, arg = _budget(spec, mrow, dpos, dfill, si, ring, pst, record)
    k = gi[G_CUR]
    e = gf[G_CURE]
    rel = gf[G_CURREL]
    if k >= 0 and budget <= 0:
        gi[G_ARG] = arg
        return status
    if k >= 0:  # a unit resumes mid-trip: it takes one of the budget's units
        budget -= 1
    while True:
        if k < 0:  # release the next unit into station 0
            if budget <= 0:
                budget, status, arg = _budget(spec, mrow, dpos, dfill, si, ring, pst, record)
                if budget <= 0:
                    gi[G_ARG] = arg
                    return status
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
            card = avail  # CONWIP: released when the card is freed, also if it waits outside
            room = spec[0, C_ROOM]
            r0 = si[0, I_ARR]
            if kind != SATURATED and room >= 0 and r0 >= room:
                avail = max(avail, ring[0, (r0 - room) & mask])
            if timed is not None:
                if timed[0] and (kind == SATURATED or room == ROOM_UP):
                    # the machine takes the unit once it is free and up
                    x = max(avail, sf[0, F_FREE])
                    if x >= end:  # (after the end no failure matters: not read there)
                        avail = x
                    elif sf[0, F_TR] > x:  # its next down interval decides
                        avail = sf[0, F_TR] if sf[0, F_TF] <= x else x
                    else:
                        avail, status = tf_push(0, x, False, mrow, dv, dpos, dfill, sf, gi)
                        if status != DONE:
                            return status
            if avail >= end:
                if timed is not None:
                    for j in range(n_st):  # the failure timelines to the end of the run
                        if timed[j]:
                            status = tf_close(j, w, end, record, mrow, dv, dpos, dfill, sf,
                                              si, gi, pst, pen)
                            if status != DONE:
                                return status
                if kind == CONWIP:
                    _waiting_cards(exits, gi, gf, w, end, par_i[P_CONWIP])
                return _finish_line(sf, si, gi, w, end, n_st, pst, pen, record)
            if w > 0 and (avail == w or card == w):
                return TIE
            if kind == INTERARRIVAL:
                dpos[par_i[P_ROWA]] += 1
                gf[G_A] = a
            elif kind == CONWIP and gi[G_N] >= par_i[P_CONWIP]:
                gi[G_NEXIT] = _heap_pop(exits, exit_id, gi[G_NEXIT])
            gi[G_N] += 1
            rel = card if kind == CONWIP else avail
            if rel < w:
                gi[G_PREREL] += 1
            else:
                gi[G_REL] += 1
            e = avail
            k = 0
            budget -= 1
        ce = _clip(e, w, end)
        while True:  # the unit visits station k
            rp = spec[k, C_ROWP]
            pp = dpos[rp]
            s = max(e, sf[k, F_FREE])
            t = dv[rp, pp]
            now = s
            left = t
            down = 0.0
            rf = mrow[k, 0]
            tk = False  # time-dependent failures here
            walked = False  # ... and the unit met one (`tf_start`, `tf_end` keep the books)
            if timed is not None:
                tk = timed[k] != 0
                if tk and sf[k, F_TF] <= s + t:  # a failure before the unit could end
                    walked = True
                    status = tf_start(k, e, t, w, end, record, mrow, dv, dpos, dfill, sf, si,
                                      gi, pst, pen)
                    if status != DONE:
                        if status != TIE:
                            gi[G_CUR] = k
                            gf[G_CURE] = e
                            gf[G_CURREL] = rel
                        return status
                    s = sf[k, F_XS]
                    now = sf[k, F_XC]
                    left = 0.0
                    down = sf[k, F_XBD]
                elif rf >= 0:  # (kept, to undo the commits below if the visit stops)
                    sf[k, F_XF] = sf[k, F_BTF]
                    si[k, I_XPF] = dpos[rf]
                    si[k, I_XPR] = dpos[mrow[k, 1]]
            if rf >= 0 and not tk:  # operation-dependent failures: busy time to failure
                # runs while busy
                rr = mrow[k, 1]
                pf = dpos[rf]
                pr = dpos[rr]
                btf = sf[k, F_BTF]
                while left >= btf:
                    if pr == dfill[rr] or pf == dfill[rf]:
                        gi[G_ARG] = rr if pr == dfill[rr] else rf
                        gi[G_CUR] = k
                        gf[G_CURE] = e
                        gf[G_CURREL] = rel
                        return NEED_DRAWS
                    now = now + btf
                    left -= btf
                    fail_at = now
                    now = now + dv[rr, pr]
                    pr += 1
                    down += _clip(now, w, end) - _clip(fail_at, w, end)
                    btf = dv[rf, pf]
                    pf += 1
                dpos[rf] = pf
                dpos[rr] = pr
                sf[k, F_BTF] = btf - left
            c = now + left
            dpos[rp] = pp + 1
            scrapped = False
            rs = spec[k, C_ROWS]
            if rs >= 0:
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
                elif timed is not None:
                    if room1 == ROOM_UP:  # no buffer, time-dependent failures: it enters
                        # when the machine is free and up
                        x = max(c, sf[k + 1, F_FREE])
                        if x >= end:
                            d = x
                        elif sf[k + 1, F_TR] > x and sf[k + 1, F_TF] != x:
                            d = sf[k + 1, F_TR] if sf[k + 1, F_TF] < x else x
                        else:  # (past its next down interval, or exactly at a failure)
                            d, status = tf_push(k + 1, x, True, mrow, dv, dpos, dfill, sf, gi)
                            if status != DONE:
                                _undo(k, tk, rp, rs, mrow, dpos, sf, si, gi, gf, e, rel,
                                      status)
                                return status
            if timed is not None:
                if tk and (walked or sf[k, F_TF] < d):  # failures met, or while blocked
                    status = tf_end(k, s, c, d, not walked, w, end, record, stats, mrow, dv,
                                    dpos, dfill, sf, si, gi, pst, pen)
                    if status != DONE:
                        _undo(k, tk, rp, rs, mrow, dpos, sf, si, gi, gf, e, rel, status)
                        return status
                    walked = True
                    if record:  # it may have noted several periods: fewer units fit now
                        budget = min(budget, pst.shape[1] - 2 - si[k, I_NPER])
            cs = _clip(s, w, end)
            cc = _clip(c, w, end)
            cd = _clip(d, w, end)
            if stats:
                sf[k, STARVED] += cs - _clip(sf[k, F_FREE], w, end)
                sf[k, BUSY] += cc - cs - down
                sf[k, DOWN] += down
                sf[k, BLOCKED] += cd - cc
                sf[k, F_QAREA] += cs - ce
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
            r = si[k, I_ARR]
            if spec[k, C_ROOM] >= 0:
                if timed is None:
                    ring[k, r & mask] = d
                else:  # (with time-dependent failures: starts, `C_ROOM`)
                    ring[k, r & mask] = s if tk else d
            si[k, I_ARR] = r + 1
            sf[k, F_FREE] = d
            if record and not walked:  # active while busy or down: [s, c], merged when touching
                # the open period (F_PS, F_PE) grows or, when a new one begins, closes:
                # it is written to the station's buffer unless another station's older
                # period covers it (`covered`: then it never matters)
                ps = sf[k, F_PS]
                pe = sf[k, F_PE]
                touch = cs == pe
                new = (not touch) & (cc > cs)
                if new and pe > ps and not covered(k, ps, pe, sf, si, pst, pen):
                    npd = si[k, I_NPER]
                    pst[k, npd] = ps
                    pen[k, npd] = pe
                    si[k, I_NPER] = npd + 1
                sf[k, F_PS] = cs if new else ps
                sf[k, F_PE] = cc if new | touch else pe
            if last:
                break
            k += 1
            e = d
            ce = cd
        # the unit leaves the line at c: finished, or scrapped at station k
        gf[G_WIPAREA] += cc - _clip(rel, w, end)
        if c < w:
            gi[G_PREEXIT] += 1
        if c < end:
            gi[G_ENDEXIT] += 1
            if c >= w:
                if scrapped:
                    gi[G_SCR] += 1
                    gf[G_SCRSUM] += c - rel
                else:
                    gi[G_FIN] += 1
                    gf[G_LEAD] += c - rel
        if kind == CONWIP:
            gi[G_NEXIT] = _heap_push(exits, exit_id, gi[G_NEXIT], c, 0)
        k = -1
        gi[G_CUR] = -1


@njit(cache=True)
def _undo(k, tk, rp, rs, mrow, dpos, sf, si, gi, gf, e, rel, status):
    """A visit to station k stops after its draws were taken (time-dependent failures: a
    stream ran dry, or the period buffer is full): give them back, and note where the unit
    is, so that the visit is done again from its start."""
    dpos[rp] -= 1
    if rs >= 0:
        dpos[rs] -= 1
    rf = mrow[k, 0]
    if rf >= 0 and not tk:  # operation-dependent failures, as the visit found them
        dpos[rf] = si[k, I_XPF]
        dpos[mrow[k, 1]] = si[k, I_XPR]
        sf[k, F_BTF] = sf[k, F_XF]
    if status != TIE:
        gi[G_CUR] = k
        gf[G_CURE] = e
        gf[G_CURREL] = rel


@njit(cache=True)
def _waiting_cards(exits, gi, gf, w, end, conwip):
    """CONWIP at the end: the units whose cards were freed before `end` (at time 0, or as
    a unit left) but which never got into the first station are released, in the system
    from then to the end."""
    first = max(0, conwip - gi[G_N])  # cards of time 0 not yet used
    n = 0
    for i in range(first + gi[G_NEXIT]):
        t = 0.0 if i < first else exits[i - first]
        if t >= end:
            continue
        n += 1
        if t < w:
            gi[G_PREREL] += 1
        else:
            gi[G_REL] += 1
        gf[G_WIPAREA] += end - _clip(t, w, end)
    gi[G_N] += n


@njit(cache=True)
def _finish_line(sf, si, gi, w, end, n_st, pst, pen, record):
    """No unit is released before `end`: every machine is starved from its last departure;
    the open active periods are closed (written to the buffers)."""
    for k in range(n_st):  # (less the down time then: time-dependent failures)
        sf[k, STARVED] += end - _clip(sf[k, F_FREE], w, end) - sf[k, F_DPEND]
        n = si[k, I_NPER]
        if record and sf[k, F_PE] > sf[k, F_PS]:  # the open period closes (kept: others'
            # open periods close now too, so none of them is older and outlasts it)
            pst[k, n] = sf[k, F_PS]
            pen[k, n] = sf[k, F_PE]
            si[k, I_NPER] = n + 1
            sf[k, F_PS] = -1.0
            sf[k, F_PE] = -1.0
    gi[G_WIP] = gi[G_N] - gi[G_ENDEXIT]
    gi[G_WIPSTART] = gi[G_PREREL] - gi[G_PREEXIT]
    gi[G_DONE] = 1
    return DONE
