"""The event kernel's queues, on arrays: the (time, scheduling number) event heap, the FIFO
of zero-delay events, and each station's two ring deques (side 0: blocked senders waiting to
enter, side 1: idle machines waiting for work).

`_schedule` keeps SimPy's event order: timed events by time, then by the order they were
scheduled; an event at the current instant queues behind every event already due now.
"""

from __future__ import annotations

from numba import njit

from twin.kernels.columns import G_EID, G_FHEAD, G_FN, G_HN


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
    """Remove the earliest event (the root) of a heap of n events (n >= 1); returns the new size."""
    n -= 1
    if n > 0:
        i = _sift_down(ht, he, hp, n, 0, ht[n], he[n])
        ht[i], he[i], hp[i] = ht[n], he[n], hp[n]
    return n


@njit(cache=True, inline="always")
def _sift_down(ht, he, hp, n, i, t, eid):
    """Move the hole at i of a heap of n events down past the entries that come before
    (t, eid); returns where the hole ends (the caller puts its entry there)."""
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
    return i


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
    """Queue process p's zero-delay event at the back of the ring FIFO."""
    i = gi[G_FHEAD] + gi[G_FN]
    if i >= fifo.shape[0]:
        i -= fifo.shape[0]
    fifo[i] = p
    gi[G_FN] += 1


@njit(cache=True)
def _deq_push(dq, si, k, side, head_col, n_col, p):
    """Append process p to station k's ring deque `side` (head and length in `si`)."""
    i = si[k, head_col] + si[k, n_col]
    if i >= dq.shape[2]:
        i -= dq.shape[2]
    dq[k, side, i] = p
    si[k, n_col] += 1


@njit(cache=True)
def _deq_pop(dq, si, k, side, head_col, n_col):
    """Remove and return the first process of station k's ring deque `side`."""
    h = si[k, head_col]
    p = dq[k, side, h]
    h += 1
    si[k, head_col] = 0 if h == dq.shape[2] else h
    si[k, n_col] -= 1
    return p


@njit(cache=True)
def _eheap_remove(ht, he, hp, n, i):
    """Remove entry i of a heap of n events; returns the new size (a cancelled event: SimPy
    would pop it and run no callback, which changes nothing)."""
    n -= 1
    if i == n:
        return n
    t, eid, p = ht[n], he[n], hp[n]
    j = i
    while j > 0:
        up = (j - 1) >> 1
        if ht[up] < t or (ht[up] == t and he[up] < eid):
            break
        ht[j], he[j], hp[j] = ht[up], he[up], hp[up]
        j = up
    if j == i:
        j = _sift_down(ht, he, hp, n, j, t, eid)
    ht[j], he[j], hp[j] = t, eid, p
    return n


@njit(cache=True)
def _cancel(p, gi, ht, he, hp, fifo):
    """Drop process p's pending event, in the heap or the zero-delay FIFO (it has one)."""
    for i in range(gi[G_HN]):
        if hp[i] == p:
            gi[G_HN] = _eheap_remove(ht, he, hp, gi[G_HN], i)
            return
    if _ring_remove(fifo, gi[G_FHEAD], gi[G_FN], p):
        gi[G_FN] -= 1


@njit(cache=True)
def _deq_remove(dq, si, k, side, head_col, n_col, p):
    """Remove process p from station k's ring deque `side` if it is there; True if it was."""
    found = _ring_remove(dq[k, side], si[k, head_col], si[k, n_col], p)
    if found:
        si[k, n_col] -= 1
    return found


@njit(cache=True, inline="always")
def _ring_remove(ring, head, n, p):
    """Take p out of the n entries of a ring buffer from `head`, closing the gap (the
    caller counts one fewer); True if p was there."""
    size = ring.shape[0]
    found = False
    for j in range(n):
        i = head + j
        if i >= size:
            i -= size
        if found:
            ring[i - 1 if i > 0 else size - 1] = ring[i]
        elif ring[i] == p:
            found = True
    return found
