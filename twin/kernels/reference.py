"""The plain-Python reference of the single-machine line kernel: the same recursion, written
straightforwardly over whole lists of draws, that `line_kernel` (and, on lines of single
machines, `event_kernel` and the SimPy engine) is tested against.
"""

from __future__ import annotations

from twin.kernels.columns import INTERARRIVAL, SATURATED


def reference_line(rooms, scrap, ptimes, uniforms, ttf, ttr, kind, conwip, gaps, w, end,
                   timed=None):
    """The single-machine line recursion, straightforwardly, over whole lists of draws.

    First every unit's times are computed (release, and start, completion and departure at
    each station it reaches), then the statistics are read off those times. `rooms[k]` is
    buffer + 1 (None: unlimited); `ptimes[k]`, `uniforms[k]` (None: no scrap), `ttf[k]`,
    `ttr[k]` (None: no failures) and `gaps` are iterators of draws; `timed[k]`: station k's
    failures are time-dependent (else operation-dependent). Returns a dict of totals;
    `line_kernel` must give the same. (Ties of simultaneous events are not its business.)
    """
    n_st = len(rooms)
    timed = timed or [False] * n_st
    free = [0.0] * n_st
    btf = [next(f) if f is not None and not timed[k] else 0.0 for k, f in enumerate(ttf)]
    down = [[] for _ in range(n_st)]  # time-dependent failures: down intervals (F, R)

    def intervals(k, x):
        """Station k's down intervals, made up to the first beginning after `x`."""
        spans = down[k]
        while not spans or spans[-1][0] <= x:
            fail = (spans[-1][1] if spans else 0.0) + next(ttf[k])
            spans.append((fail, fail + next(ttr[k])))
        return spans

    def up(k, x):
        """The first moment at or after `x` that station k's machine is up."""
        for fail, repair in intervals(k, x):
            if fail <= x < repair:
                return repair
        return x

    starts: list[list[float]] = [[] for _ in range(n_st)]

    def entry(k, x):
        """When a unit ready at `x` enters station k: a place frees when the unit
        `buffer + 1` before it leaves the machine; with time-dependent failures, when the unit
        `buffer` before it leaves the buffer (a machine down takes none), and with no buffer
        when the machine is free and up."""
        n = len(left_at[k])
        if rooms[k] is None:
            return x
        if not timed[k]:
            return max(x, left_at[k][n - rooms[k]]) if n >= rooms[k] else x
        if rooms[k] == 1:
            return up(k, max(x, free[k]))
        return max(x, starts[k][n - rooms[k] + 1]) if n >= rooms[k] - 1 else x
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
        card = release  # CONWIP: released when its card is freed, though it may wait outside
        if kind != SATURATED:
            release = entry(0, release)
        elif timed[0]:  # the machine takes the next unit once it is up
            release = up(0, free[0])
        if release >= end:
            if kind not in (SATURATED, INTERARRIVAL):  # cards freed, units still outside
                waiting = [0.0] * max(0, conwip - n) + sorted(exits)[max(0, n - conwip):]
                units += [(t, float("inf"), False, []) for t in waiting if t < end]
            break
        e, visits, k = release, [], 0
        if kind not in (SATURATED, INTERARRIVAL):
            release = card
        while True:
            s = max(e, free[k])
            t = next(ptimes[k])
            now, left, spans = s, t, []
            if timed[k]:
                s = now = up(k, s)
                for fail, repair in intervals(k, now + left):
                    if now < fail <= now + left:  # (one at the very end comes first)
                        left = max(0.0, left - (fail - now))
                        now = repair
                        spans.append((fail, repair))
                        intervals(k, now + left)
            while ttf[k] is not None and not timed[k] and left >= btf[k]:
                now += btf[k]
                left -= btf[k]
                spans.append((now, now + next(ttr[k])))
                now = spans[-1][1]
                btf[k] = next(ttf[k])
            if ttf[k] is not None and not timed[k]:
                btf[k] -= left
            c = now + left
            gone = uniforms[k] is not None and next(uniforms[k]) < scrap[k]
            d = c
            if not gone and k + 1 < n_st:
                d = entry(k + 1, c)
            starts[k].append(s)
            left_at[k].append(d)
            free[k] = d
            visits.append((k, e, s, c, d, t, spans))
            if gone or k == n_st - 1:
                units.append((release, c, not gone, visits))
                exits.append(c)
                break
            e, k = d, k + 1
    for k in range(n_st):
        if timed[k]:
            intervals(k, end)
    return _reference_totals(units, free, n_st, w, end, down)


def _reference_totals(units, free, n_st, w, end, down):
    def clip(t):
        return min(max(t, w), end)

    def overlap(k, a, b):  # station k's time down within [a, b], clipped
        return sum(max(0.0, clip(min(r, b)) - clip(max(f, a))) for f, r in down[k])

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
            lost = sum(clip(b) - clip(a) for a, b in spans)
            out["starved"][k] += clip(s) - clip(last_free[k]) - overlap(k, last_free[k], s)
            out["busy"][k] += clip(c) - clip(s) - lost
            out["down"][k] += lost
            out["blocked"][k] += clip(d) - clip(c) - overlap(k, c, d)
            out["queue_area"][k] += clip(s) - clip(e)
            last_free[k] = d
            if w <= s < end:
                out["waits"][k] += 1
                out["wait_sum"][k] += s - e
            if w <= c < end:
                out["produced"][k] += 1
                out["scrapped_at"][k] += (k, c) == (visits[-1][0], exit_) and not finished
    for k in range(n_st):
        out["starved"][k] += end - clip(free[k]) - overlap(k, free[k], end)
        if down[k]:  # time-dependent: down whatever the machine was doing
            out["down"][k] = overlap(k, 0.0, end)
    return out
