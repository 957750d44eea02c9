"""State accounting that any resource can use: exact time in each state, and areas.

A `StateClock` belongs to one thing that is always in exactly one state (a machine, later an
AGV or a lift). It adds up the time spent in each state; `restart` deletes what was counted
(warm-up) without touching the current state. An `Area` integrates a count over time (queue
length, work in process) for time averages.
"""

from __future__ import annotations

from array import array
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


class ActivePeriods:
    """Periods during which a group (a station's machines) is active as a whole.

    A group of `size` members is active while all of them are active: a station with an idle
    (starved or blocked) machine has capacity to spare, so it cannot be what limits the
    flow. For one member this is simply that member's active periods. Members report
    `change(+1 | -1, now)` when they become active or inactive. Periods are kept as two
    arrays of start and end times, cheap to append and compact in memory.
    """

    __slots__ = ("size", "count", "opened", "starts", "ends")

    def __init__(self, size: int = 1) -> None:
        self.size = size
        self.count = 0
        self.opened = 0.0
        self.starts = array("d")
        self.ends = array("d")

    def change(self, delta: int, now: float) -> None:
        size = self.size
        before = self.count
        self.count = before + delta
        if before < size <= self.count:
            if self.ends and self.ends[-1] == now:
                # inactive for no time at all (simultaneous events): one period, not two
                self.ends.pop()
                self.opened = self.starts.pop()
            else:
                self.opened = now
        elif before >= size > self.count:
            if now > self.opened:
                self.starts.append(self.opened)
                self.ends.append(now)

    def restart(self, now: float) -> None:
        self.starts = array("d")
        self.ends = array("d")
        if self.count >= self.size:
            self.opened = now

    def close(self, now: float) -> tuple[array, array]:
        if self.count >= self.size and now > self.opened:
            self.starts.append(self.opened)
            self.ends.append(now)
            self.opened = now
        return self.starts, self.ends
