"""State accounting that any resource can use: exact time in each state, and areas.

A `StateClock` belongs to one thing that is always in exactly one state (a machine, later an
AGV or a lift). It adds up the time spent in each state; `restart` deletes what was counted
(warm-up) without touching the current state. An `Area` integrates a count over time (queue
length, work in process) for time averages.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from collections.abc import Callable


class StateClock:
    """Time per state of one resource; `enter` is called at every state change."""

    __slots__ = ("state", "since", "totals", "on_change")

    def __init__(self, n_states: int, state: int, now: float,
                 on_change: Callable[[int, int, float], None] | None = None):
        self.state = state
        self.since = now
        self.totals = [0.0] * n_states
        self.on_change = on_change  # observer of (old, new, now), e.g. active periods

    def enter(self, state: int, now: float) -> None:
        old = self.state
        if state == old:
            return
        self.totals[old] += now - self.since
        self.state = state
        self.since = now
        if self.on_change is not None:
            self.on_change(old, state, now)

    def restart(self, now: float) -> None:
        """Forget the time counted so far (end of warm-up)."""
        self.totals = [0.0] * len(self.totals)
        self.since = now

    def close(self, now: float) -> list[float]:
        """Totals including the open interval up to `now` (end of the run)."""
        self.totals[self.state] += now - self.since
        self.since = now
        return self.totals


class Area:
    """Integral over time of a count that changes by steps; `level` is the current count."""

    __slots__ = ("level", "area", "last", "start")

    def __init__(self, now: float = 0.0, level: float = 0):
        self.level = level
        self.area = 0.0
        self.last = now
        self.start = now

    def add(self, delta: int, now: float) -> None:
        self.area += self.level * (now - self.last)
        self.last = now
        self.level += delta

    def restart(self, now: float) -> None:
        self.area = 0.0
        self.last = now
        self.start = now

    def integral(self, now: float) -> float:
        """The integral from the last restart to `now`."""
        return self.area + self.level * (now - self.last)

    def mean(self, now: float) -> float:
        """Time average from the last restart to `now`."""
        span = now - self.start
        return (self.area + self.level * (now - self.last)) / span if span > 0 else 0.0


class OpenGroups:
    """The groups (stations) that are active now, oldest first, shared by their
    `ActivePeriods`: a group's closed period that lies inside another group's still-open,
    earlier-started period can never be the momentary bottleneck, so it is not kept."""

    __slots__ = ("since",)

    def __init__(self) -> None:
        self.since: OrderedDict[int, float] = OrderedDict()

    def earliest(self) -> float | None:
        """The start of the oldest open period, or None (conservative: an approximate
        order can only make it later, never earlier, so pruning stays exact)."""
        for opened in self.since.values():
            return opened
        return None


class ActivePeriods:
    """Periods during which a group (a station's machines) is active as a whole.

    A group of `size` members is active while all of them are active: a station with an idle
    (starved or blocked) machine has capacity to spare, so it cannot be what limits the
    flow. For one member this is simply that member's active periods. Members report
    `change(+1 | -1, now)` when they become active or inactive. Periods are kept as two
    arrays of start and end times, cheap to append and compact in memory.

    Only periods that can matter to Roser's method are kept: a period closed while another
    group has been active since before it began is covered by that group's longer period at
    every moment, so it is never the momentary bottleneck and is dropped; the bottleneck
    results are exactly those of all periods, in much less memory. A period that ends at
    the very instant the group becomes active again continues (one period, not two).
    """

    __slots__ = ("size", "count", "opened", "starts", "ends", "pending", "groups", "key",
                 "tracker", "keep")

    def __init__(self, size: int = 1, groups: OpenGroups | None = None, key: int = 0,
                 tracker=None, keep: bool = True) -> None:
        self.size = size
        self.count = 0
        self.opened = 0.0
        self.starts = array("d")
        self.ends = array("d")
        self.pending: tuple[float, float, bool] | None = None  # the last closed period
        self.groups = OpenGroups() if groups is None else groups
        self.key = key
        self.tracker = tracker  # a BottleneckTracker told of every period kept, or None
        self.keep = keep  # also keep the periods themselves (memory grows with the run)

    def _store(self, start: float, end: float) -> None:
        if self.keep:
            self.starts.append(start)
            self.ends.append(end)
        if self.tracker is not None:
            self.tracker.add(self.key, start, end)

    def _settle(self) -> None:
        """Keep or drop the pending closed period, now that it will not continue."""
        pending = self.pending
        if pending is not None:
            if pending[2]:
                self._store(pending[0], pending[1])
            self.pending = None

    def unsettled_since(self, now: float) -> float:
        """The start of the pending period, or of the open one (inf if neither). A pending
        period that ended before `now` can no longer continue: it is settled first."""
        if self.pending is not None:
            if self.pending[1] < now:
                self._settle()
            else:
                return self.pending[0]
        return self.opened if self.count >= self.size else float("inf")

    def change(self, delta: int, now: float) -> None:
        size = self.size
        before = self.count
        self.count = before + delta
        if before < size <= self.count:
            pending = self.pending
            if pending is not None and pending[1] == now:
                self.opened = pending[0]  # inactive for no time at all: the period goes on
                self.pending = None
            else:
                self._settle()
                self.opened = now
            self.groups.since[self.key] = self.opened
        elif before >= size > self.count:
            del self.groups.since[self.key]
            if now > self.opened:
                earliest = self.groups.earliest()
                self.pending = (self.opened, now, earliest is None or earliest >= self.opened)

    def restart(self, now: float) -> None:
        self.starts = array("d")
        self.ends = array("d")
        self.pending = None
        if self.count >= self.size:
            self.opened = now
            self.groups.since[self.key] = now

    def close(self, now: float) -> tuple[array, array]:
        self._settle()
        if self.count >= self.size and now > self.opened:
            self._store(self.opened, now)
            self.opened = now
        return self.starts, self.ends


def activity_observer(active: ActivePeriods, active_states: frozenset[int]
                      ) -> Callable[[int, int, float], None]:
    """A StateClock observer telling `active` when its resource becomes active or not."""
    def on_change(old: int, new: int, t: float) -> None:
        was, now_active = old in active_states, new in active_states
        if was != now_active:
            active.change(1 if now_active else -1, t)
    return on_change
