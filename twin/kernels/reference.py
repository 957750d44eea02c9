"""The plain-Python reference of the single-machine line kernel: the same recursion, written
straightforwardly over whole lists of draws, that `line_kernel` (and, on lines of single
machines, `event_kernel` and the SimPy engine) is tested against.
"""

from __future__ import annotations

from twin.kernels.columns import INTERARRIVAL, SATURATED


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
        card = release  # CONWIP: released when its card is freed, though it may wait outside
        if kind != SATURATED and rooms[0] is not None and len(left_at[0]) >= rooms[0]:
            release = max(release, left_at[0][len(left_at[0]) - rooms[0]])
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
