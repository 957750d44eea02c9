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
G_A, G_WIPAREA, G_LEAD, G_CURE, G_CURREL, G_NOW, G_WIPLAST, G_SCRSUM = range(8)
N_GF = 8
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
                exits, exit_id, pst, pen):
    """Run the single-machine line recursion until the next release is at or after `end`.

    `ring[k, r % W]` holds the time arrival r left station k (W a power of two; needs
    W >= min(room, arrivals)). `exits` is a min-heap of exit times (CONWIP releases). A
    unit's trip runs in an inner loop with its times in registers; it is saved to `gi`/`gf`
    only if a failure stream runs dry in the middle of it.
    """
    n_st = spec.shape[0]
    w = par_f[P_WARMUP]
    end = par_f[P_END]
    kind = par_i[P_KIND]
    record = par_i[P_RECORD]
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
            e = avail
            rel = avail
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
            if rf >= 0:  # operation-dependent failures: busy time to failure runs while busy
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
            cs = _clip(s, w, end)
            cc = _clip(c, w, end)
            cd = _clip(d, w, end)
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
def _finish_line(sf, si, gi, w, end, n_st):
    """No unit is released before `end`: every machine is starved from its last departure."""
    for k in range(n_st):
        sf[k, STARVED] += end - _clip(sf[k, F_FREE], w, end)
    gi[G_WIP] = gi[G_N] - gi[G_ENDEXIT]
    gi[G_WIPSTART] = gi[G_PREREL] - gi[G_PREEXIT]
    gi[G_DONE] = 1
    return DONE


# --- the event-driven kernel ------------------------------------------------------------
# process resume points (the yields of run_machine, Replication._release and _arrivals)
M_INIT, M_START, M_DONE, M_FAILED, M_REPAIRED, M_LOOP = range(6)
R_LOOP, R_UNBLOCKED, A_INIT, A_ARRIVE, W_INIT, W_FIRE = range(6, 12)
# process int columns and float columns
Q_RES, Q_ST, Q_STATE = range(3)
Q_SINCE, Q_BTF, Q_LEFT, Q_T, Q_REL, Q_ENT = range(6)
G_GROW = G_CUR  # the event kernel's "a station needs a wider array" flag


@njit(cache=True)
def _eheap_push(ht, he, hp, n, t, eid, p):
    """Push an event on the (time, scheduling number) min-heap; returns the new size."""
    i = n
    while i > 0:
        up = (i - 1) >> 1
        if ht[up] < t or (ht[up] == t and he[up] < eid):
            break
        ht[i], he[i], hp[i] = ht[up], he[up], hp[up]
        i = up
    ht[i], he[i], hp[i] = t, eid, p
    return n + 1


@njit(cache=True)
def _eheap_pop(ht, he, hp, n):
    n -= 1
    t, eid, p = ht[n], he[n], hp[n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and (ht[c + 1] < ht[c] or (ht[c + 1] == ht[c] and he[c + 1] < he[c])):
            c += 1
        if ht[c] > t or (ht[c] == t and he[c] > eid):
            break
        ht[i], he[i], hp[i] = ht[c], he[c], hp[c]
        i = c
    if n > 0:
        ht[i], he[i], hp[i] = t, eid, p
    return n


@njit(cache=True)
def _schedule(p, t, now, gi, ht, he, hp, fifo):
    """Wake process p at time t: zero-delay events queue behind every event at `now`."""
    if t == now:
        _fifo_push(p, gi, fifo)
    else:
        gi[G_HN] = _eheap_push(ht, he, hp, gi[G_HN], t, gi[G_EID], p)
        gi[G_EID] += 1


@njit(cache=True)
def _fifo_push(p, gi, fifo):
    i = gi[G_FHEAD] + gi[G_FN]
    if i >= fifo.shape[0]:
        i -= fifo.shape[0]
    fifo[i] = p
    gi[G_FN] += 1


@njit(cache=True)
def _deq_push(dq, si, k, side, head_col, n_col, p):
    i = si[k, head_col] + si[k, n_col]
    if i >= dq.shape[2]:
        i -= dq.shape[2]
    dq[k, side, i] = p
    si[k, n_col] += 1


@njit(cache=True)
def _deq_pop(dq, si, k, side, head_col, n_col):
    h = si[k, head_col]
    p = dq[k, side, h]
    h += 1
    si[k, head_col] = 0 if h == dq.shape[2] else h
    si[k, n_col] -= 1
    return p


@njit(cache=True)
def _wip_add(delta, now, gf, gi):
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
    n = si[k, I_NPER]
    if before < size <= after:
        if record and n > 0 and pen[k, n - 1] == now:  # inactive for no time: one period
            si[k, I_NPER] = n - 1
            sf[k, F_OPENED] = pst[k, n - 1]
        else:
            sf[k, F_OPENED] = now
    elif before >= size > after and now > sf[k, F_OPENED] and record:
        pst[k, n] = sf[k, F_OPENED]
        pen[k, n] = now
        si[k, I_NPER] = n + 1
        if n + 2 >= pst.shape[1]:
            gi[G_GROW] = k


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
    gi[G_BACKLOG] += 1
    if gi[G_RWAIT]:
        gi[G_RWAIT] = 0
        _fifo_push(rel_proc, gi, fifo)


@njit(cache=True)
def _short(row, dpos, dfill):
    return row >= 0 and dpos[row] == dfill[row]


@njit(cache=True)
def _draw(row, dv, dpos):
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
                 pi, pf, qv, dq, ht, he, hp, fifo, pst, pen):
    """Run the line event by event, in SimPy's order, until the next event is at `end`.

    Processes are numbered: machines 0..M-1 (station by station, route order), then the
    release process M, the arrivals process M+1 and the warm-up process M+2. Each waits
    on at most one event: in the heap (ht, he, hp) or in the zero-delay `fifo`.
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
        if from_heap:
            now = ht[0]
            gf[G_NOW] = now
            gi[G_HN] = _eheap_pop(ht, he, hp, gi[G_HN])
        else:
            h = gi[G_FHEAD] + 1
            gi[G_FHEAD] = 0 if h == h_size else h
            gi[G_FN] -= 1
        code = pi[p, Q_RES]
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
                if code == R_UNBLOCKED:
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
                    if not _offer(p, 0, now, cap, pf, sf, si, gi, qv, dq, fifo):
                        _deq_push(dq, si, 0, 0, I_BHEAD, I_BN, p)
                        pi[p, Q_RES] = R_UNBLOCKED
                        break
                    gi[G_REL] += 1
                    _wip_add(1, now, gf, gi)
            continue
        # a machine
        k = pi[p, Q_ST]
        if code == M_INIT:
            if mrow[p, 0] >= 0:
                pf[p, Q_BTF] = _draw(mrow[p, 0], dv, dpos)
            code = M_LOOP
        elif code == M_DONE:
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
                if kind == CONWIP:
                    _add_backlog(rel_proc, gi, fifo)
            elif not _offer(p, k + 1, now, cap, pf, sf, si, gi, qv, dq, fifo):
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
        if code == M_LOOP:
            if not _take(p, k, now, kind, rel_proc, pf, sf, si, gf, gi, qv, dq, fifo):
                _enter(p, STARVED, now, spec, pi, pf, sf, si, pst, pen, record, gi)
                _deq_push(dq, si, k, 1, I_IHEAD, I_IN, p)
                pi[p, Q_RES] = M_START
                continue
        # M_START: processing starts
        sf[k, F_WAIT] += now - pf[p, Q_ENT]
        si[k, I_WAITS] += 1
        _enter(p, BUSY, now, spec, pi, pf, sf, si, pst, pen, record, gi)
        t = _draw(spec[k, C_ROWP], dv, dpos)
        pf[p, Q_T] = t
        if mrow[p, 0] >= 0:
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


# --- plain-Python reference ----------------------------------------------------------------
def reference_line(rooms, scrap, ptimes, uniforms, ttf, ttr, kind, conwip, gaps, w, end):
    """The single-machine line recursion, straightforwardly, over whole lists of draws.

    First every unit's times are computed (release, and start, completion and departure at
    each station it reaches), then the statistics are read off those times. `rooms[k]` is
    buffer + 1 (None: unlimited); `ptimes[k]`, `uniforms[k]` (None: no scrap), `ttf[k]`,
    `ttr[k]` (None: no failures) and `gaps` are iterators of draws. Returns a dict of
    totals; `line_kernel` must give the same.
    """
    n_st = len(rooms)
    free = [0.0] * n_st
    btf = [next(f) if f is not None else 0.0 for f in ttf]
    left_at: list[list[float]] = [[] for _ in range(n_st)]  # departures by arrival order
    units = []  # (release, exit, finished, visits[(k, e, s, c, d, t, down_spans)])
    exits: list[float] = []
    arrival = 0.0
    while True:
        n = len(units)
        if kind == SATURATED:
            release = free[0]
        elif kind == INTERARRIVAL:
            arrival += next(gaps)
            release = arrival
        else:
            release = sorted(exits)[n - conwip] if n >= conwip else 0.0
        if kind != SATURATED and rooms[0] is not None and len(left_at[0]) >= rooms[0]:
            release = max(release, left_at[0][len(left_at[0]) - rooms[0]])
        if release >= end:
            break
        e, visits, k = release, [], 0
        while True:
            s = max(e, free[k])
            t = next(ptimes[k])
            now, left, spans = s, t, []
            while ttf[k] is not None and left >= btf[k]:
                now += btf[k]
                left -= btf[k]
                spans.append((now, now + next(ttr[k])))
                now = spans[-1][1]
                btf[k] = next(ttf[k])
            if ttf[k] is not None:
                btf[k] -= left
            c = now + left
            gone = uniforms[k] is not None and next(uniforms[k]) < scrap[k]
            d = c
            if not gone and k + 1 < n_st and rooms[k + 1] is not None:
                past = left_at[k + 1]
                if len(past) >= rooms[k + 1]:
                    d = max(c, past[len(past) - rooms[k + 1]])
            left_at[k].append(d)
            free[k] = d
            visits.append((k, e, s, c, d, t, spans))
            if gone or k == n_st - 1:
                units.append((release, c, not gone, visits))
                exits.append(c)
                break
            e, k = d, k + 1
    return _reference_totals(units, free, n_st, w, end)


def _reference_totals(units, free, n_st, w, end):
    def clip(t):
        return min(max(t, w), end)

    out = {"busy": [0.0] * n_st, "starved": [0.0] * n_st, "blocked": [0.0] * n_st,
           "down": [0.0] * n_st, "queue_area": [0.0] * n_st, "wait_sum": [0.0] * n_st,
           "waits": [0] * n_st, "produced": [0] * n_st, "scrapped_at": [0] * n_st,
           "released": 0, "finished": 0, "scrapped": 0, "lead_sum": 0.0, "wip_area": 0.0}
    last_free = [0.0] * n_st
    for release, exit_, finished, visits in units:
        out["released"] += w <= release < end
        out["wip_area"] += clip(exit_) - clip(release)
        if w <= exit_ < end:
            out["finished" if finished else "scrapped"] += 1
            out["lead_sum"] += (exit_ - release) if finished else 0.0
        for k, e, s, c, d, t, spans in visits:
            down = sum(clip(b) - clip(a) for a, b in spans)
            out["starved"][k] += clip(s) - clip(last_free[k])
            out["busy"][k] += clip(c) - clip(s) - down
            out["down"][k] += down
            out["blocked"][k] += clip(d) - clip(c)
            out["queue_area"][k] += clip(s) - clip(e)
            last_free[k] = d
            if w <= s < end:
                out["waits"][k] += 1
                out["wait_sum"][k] += s - e
            if w <= c < end:
                out["produced"][k] += 1
                out["scrapped_at"][k] += (k, c) == (visits[-1][0], exit_) and not finished
    for k in range(n_st):
        out["starved"][k] += end - clip(free[k])
    return out
