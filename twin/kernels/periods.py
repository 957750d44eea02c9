"""Active periods in the event kernel: kept only where they can matter.

A period that lies inside another station's period begun earlier is shorter than that one at
every moment it covers, so it is never the momentary bottleneck of Roser's method; dropping it
changes no bottleneck result. The event kernel decides this as the SimPy engine's
`ActivePeriods` does: when a period closes it notes whether another station has been active
since before it began (`F_PDROP`), keeps the period pending (`F_PS`, `F_PE`; it may go on if
the station is active again at the same instant) and stores it on settling unless so covered
(`settle`). The stored periods go to the compiled tracker (`twin.kernels.tracker`) in
batches; the line kernel drops covered periods on the way there instead.
"""

from __future__ import annotations

from numba import njit

from twin.kernels.columns import F_PE, F_PS, I_NPER

SCAN = 8  # stored periods looked back at per other station


@njit(cache=True, inline="always")
def covered(k, start, end, sf, si, pst, pen):
    """Line kernel: is station k's closed period [start, end] inside a period of another
    station begun before `start`? Then it is never the momentary bottleneck.

    Each other station's candidates are its open period (`F_PS`, `F_PE`; it can only grow)
    and its periods stored since the last hand-over to the tracker, sorted: the latest
    begun before `start` is found by stepping back from the last (at most `SCAN` steps:
    stations are seldom far apart in time). A period whose cover is not found so is kept,
    which is always safe.
    """
    for j in range(si.shape[0]):
        if j != k and sf[j, F_PS] < start and sf[j, F_PE] >= end:
            return True
    for j in range(si.shape[0]):
        last = si[j, I_NPER] - 1
        if j == k or last < 0 or pen[j, last] < end:  # the last stored ends latest
            continue
        i = last
        while i >= 0 and pst[j, i] >= start and last - i < SCAN:
            i -= 1
        if i >= 0 and pst[j, i] < start and pen[j, i] >= end:
            return True
    return False


@njit(cache=True, inline="always")
def settle(k, drop, sf, si, pst, pen):
    """Store station k's pending period unless `drop`; nothing is pending afterwards.

    Returns True when station k's period arrays are nearly full (the caller hands them to the tracker).
    """
    n = si[k, I_NPER]
    if sf[k, F_PE] > sf[k, F_PS] and not drop:
        pst[k, n] = sf[k, F_PS]
        pen[k, n] = sf[k, F_PE]
        n += 1
        si[k, I_NPER] = n
    sf[k, F_PS] = -1.0
    sf[k, F_PE] = -1.0
    return n + 2 >= pst.shape[1]
