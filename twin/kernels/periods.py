"""Active periods in the flow-line kernels: kept only where they can matter.

A period that lies inside another station's period begun earlier is shorter than that one at
every moment it covers, so it is never the momentary bottleneck of Roser's method; dropping it
changes no bottleneck result (`twin.analysis.bottleneck`) and the stored periods shrink from
about one per three station visits to a few per hundred. Both kernels decide when a period is
*settled*, i.e. when the station is next active at a later instant (until then the period may
go on):

* the event kernel as the SimPy engine's `ActivePeriods` does: when a period closes it notes
  whether another station has been active since before it began (`F_PDROP`), keeps the
  period pending (`F_PS`, `F_PE`) and stores it on settling unless so covered (`settle`);
* the line kernel, which computes unit by unit rather than in time order, stores a period at
  once and, on settling it, drops it if a stored period of another station covers it
  (`covered`).
"""

from __future__ import annotations

from numba import njit

from twin.kernels.columns import F_PE, F_PS, I_NPER

SCAN = 8  # stored periods looked back at per other station


@njit(cache=True, inline="always")
def covered(k, start, end, si, pst, pen):
    """Is [start, end] inside a stored period of another station, begun before `start`?

    The line kernel stores a period at once and settles it when the station's next period
    begins (it may still grow until then). Each other station's stored periods are sorted;
    its latest one begun before `start` is found by stepping back from its last (at most
    `SCAN` steps: stations are seldom far apart in time) and covers the period if it lasts
    to `end` (the last one can only grow). A period whose cover is not found so (further
    back, or not yet stored) is kept, which is always safe.
    """
    for j in range(si.shape[0]):
        if j != k:
            last = si[j, I_NPER] - 1
            i = last
            while i >= 0 and pst[j, i] >= start and last - i < SCAN:
                i -= 1
            if i >= 0 and pst[j, i] < start and pen[j, i] >= end:
                return True
    return False


@njit(cache=True, inline="always")
def settle(k, drop, sf, si, pst, pen):
    """Store station k's pending period unless `drop`; nothing is pending afterwards.

    Returns True when station k's period arrays are nearly full (the caller widens them).
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
