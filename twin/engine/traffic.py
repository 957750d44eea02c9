"""Congestion on paths: limited segments that hold a few vehicles at a time (zone control).

A path with `capacity: k` (docs/modelling.md, Congestion) is a `Segment`: at most k vehicles
on it at once, both directions of a two-way path counted together. A vehicle asks for room
at the segment's start point (`take`); when there is none it waits there in the segment's
line, first come first served, and the vehicle that leaves the segment (`leave`) hands its
room straight to the first in line. A vehicle holds at most one segment at a time and
waits at points, which have unlimited room, so traffic cannot deadlock.
"""

from __future__ import annotations

from collections import deque

import simpy

from twin.engine.accounting import Area
from twin.model import SegmentModel


class Segment:
    """One limited path: the vehicles on it, those waiting to enter, and its counters."""

    __slots__ = ("spec", "env", "free", "line", "on", "waiting", "entries", "passes",
                 "waits", "wait_sum", "on_sum", "queue_max")

    def __init__(self, spec: SegmentModel, env: simpy.Environment):
        self.spec = spec
        self.env = env
        self.free = spec.capacity
        self.line: deque[tuple[simpy.Event, float]] = deque()  # (turn, asked at)
        self.on = Area()  # vehicles on the segment
        self.waiting = Area()  # vehicles waiting at its ends to enter
        self.restart(0.0)

    def restart(self, now: float) -> None:
        """Delete statistics at the end of warm-up (vehicles stay where they are)."""
        self.entries = 0  # vehicles that entered
        self.passes = 0  # vehicles that left it at its other end
        self.waits = 0  # entries that found no room and waited
        self.wait_sum = 0.0  # seconds waited, over the entries
        self.on_sum = 0.0  # seconds on the segment, over the passes
        self.queue_max = len(self.line)
        self.on.restart(now)
        self.waiting.restart(now)

    def take(self) -> simpy.Event | None:
        """Room on the segment now (None), or the event that gives the vehicle its turn."""
        now = self.env.now
        if self.free:
            self.free -= 1
            self._enter(now, now, False)
            return None
        turn = self.env.event()
        self.line.append((turn, now))
        self.waiting.add(1, now)
        self.queue_max = max(self.queue_max, len(self.line))
        return turn

    def _enter(self, asked: float, now: float, waited: bool) -> None:
        """A vehicle that asked for room at `asked` enters now; `waited`: it found none and
        waited in line (counted with the entries, in the period it enters)."""
        self.entries += 1
        self.waits += waited
        self.wait_sum += now - asked
        self.on.add(1, now)

    def leave(self, entered: float) -> None:
        """A vehicle that entered at `entered` has driven off the far end: its room goes to
        the first in line (who enters now), or is free."""
        now = self.env.now
        self.passes += 1
        self.on_sum += now - entered
        self.on.add(-1, now)
        if self.line:
            turn, asked = self.line.popleft()
            self.waiting.add(-1, now)
            self._enter(asked, now, True)
            turn.succeed()
        else:
            self.free += 1


def drive_segment(env: simpy.Environment, segment: Segment, seconds: float):
    """Wait at the segment's start for room, drive along it, leave it at its end."""
    turn = segment.take()
    if turn is not None:
        yield turn
    entered = env.now
    yield env.timeout(seconds)
    segment.leave(entered)
