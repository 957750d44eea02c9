"""Shift calendars: when a station works, and how long work takes across its breaks.

A `ShiftCalendar` is a weekly pattern of working (on-shift) intervals plus one-off planned
stops. Machines under a calendar live in *on-shift time*: a process time, setup, time to
failure or repair of t seconds started at wall time s ends at `advance(s, t)`, the first
moment by which t seconds of on-shift time have passed. So work pauses over a break and
resumes where it stopped, with no event at the break itself.

Times are seconds of simulated time (warm-up included); the weekly pattern is turned so
that simulated time 0 is the moment of the week the scenario starts at. Intervals are
half-open [start, end): a station is off shift at the very moment its shift ends.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from twin.intervals import minus, union

WEEK = 7 * 86400.0
EPS = 1e-6  # seconds: gaps this small between turned intervals are rounding, not breaks


def weekly_intervals(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Spans in week time (any start in [0, WEEK), end after start, possibly past the week's
    end) folded into sorted disjoint intervals within [0, WEEK]."""
    folded: list[tuple[float, float]] = []
    for a, b in spans:
        length = min(max(b - a, 0.0), WEEK)
        a = a % WEEK
        b = a + length
        if b <= WEEK:
            folded.append((a, b))
        else:  # runs past the end of the week into the next one
            folded += [(a, WEEK), (0.0, b - WEEK)]
    return union(folded)


@dataclass(frozen=True)
class ShiftCalendar:
    """Working time of a station: weekly on-shift intervals less one-off stops.

    `starts`/`ends` are the on-shift intervals of one week in simulated time modulo a week
    (the week already turned so that simulated time 0 is its origin).
    """

    name: str
    starts: tuple[float, ...]
    ends: tuple[float, ...]
    stops: tuple[tuple[float, float], ...] = ()  # [start, end) in simulated time, sorted

    def __post_init__(self) -> None:
        cum, total = [], 0.0
        for a, b in zip(self.starts, self.ends):
            cum.append(total)
            total += b - a
        object.__setattr__(self, "_cum", tuple(cum))  # on time of the week before each start
        object.__setattr__(self, "_cum_end", tuple(c + b - a for c, a, b in
                                                   zip(cum, self.starts, self.ends)))
        object.__setattr__(self, "_per_week", total)

    @property
    def on_share(self) -> float:
        """Fraction of a week on shift (before one-off stops)."""
        return self._per_week / WEEK

    @property
    def always(self) -> bool:
        """On shift all week (stops aside)."""
        return self._per_week >= WEEK - EPS

    # --- the weekly pattern ----------------------------------------------------------
    def _f(self, t: float) -> float:
        """On-shift time of the weekly pattern in [0, t) (stops ignored)."""
        q, r = divmod(t, WEEK)
        i = bisect_right(self.starts, r) - 1
        inside = 0.0 if i < 0 else self._cum[i] + min(r, self.ends[i]) - self.starts[i]
        return q * self._per_week + inside

    def _f_inv(self, v: float) -> float:
        """The first moment by which the pattern has `v` > 0 seconds on shift."""
        q, r = divmod(v, self._per_week)
        if r == 0.0:  # exactly a whole number of weeks: the end of the last interval
            q, r = q - 1, self._per_week
        i = min(bisect_left(self._cum_end, r), len(self.starts) - 1)
        return q * WEEK + self.starts[i] + (r - self._cum[i])

    def _lost(self, t: float) -> float:
        """Pattern on-shift time the stops take away in [0, t)."""
        lost = 0.0
        for a, b in self.stops:
            if a >= t:
                break
            lost += self._f(min(b, t)) - self._f(a)
        return lost

    # --- the calendar ----------------------------------------------------------------
    def worked(self, t: float) -> float:
        """On-shift seconds in [0, t)."""
        return self._f(t) - self._lost(t) if self.stops else self._f(t)

    def on_time(self, a: float, b: float) -> float:
        """On-shift seconds in [a, b)."""
        return self.worked(b) - self.worked(a) if b > a else 0.0

    def advance(self, t: float, d: float) -> float:
        """The first moment by which `d` seconds on shift have passed since `t`."""
        if d <= 0.0:
            return t
        target = self.worked(t) + d
        lost = 0.0
        x = None
        for a, b in self.stops:  # each stop the work reaches adds its lost time
            x = self._f_inv(target + lost)
            if x <= a:
                break
            lost += self._f(b) - self._f(a)
            x = None
        if x is None:
            x = self._f_inv(target + lost)
        # d seconds of work take at least d seconds (rounding of worked(t) could say less)
        return max(x, t + d)

    def _pattern_on(self, t: float) -> bool:
        r = t % WEEK
        i = bisect_right(self.starts, r) - 1
        return i >= 0 and r < self.ends[i]

    def is_on(self, t: float) -> bool:
        """Is the station on shift at time t?"""
        if not self._pattern_on(t):
            return False
        return not any(a <= t < b for a, b in self.stops)

    def next_on(self, t: float) -> float:
        """The first moment at or after t on shift (later than t when t is off shift)."""
        start = t
        while True:
            if not self._pattern_on(t):
                q, r = divmod(t, WEEK)
                j = bisect_right(self.starts, r)
                t = q * WEEK + (self.starts[j] if j < len(self.starts) else
                                WEEK + self.starts[0])
            stop = next(((a, b) for a, b in self.stops if a <= t < b), None)
            if stop is None:
                break
            t = stop[1]
        # (rounding can put a start a hair below t; time must move on all the same)
        return t if t > start or self.is_on(start) else math.nextafter(start, math.inf)

    def shifts(self) -> Iterator[tuple[float, float]]:
        """The on-shift stretches [start, end) in time order from 0, stops taken out (the
        last one may end at inf)."""
        stops = iter(self.stops)
        stop = next(stops, None)
        for a, b in self._stretches():
            while a < b:
                while stop is not None and stop[1] <= a:
                    stop = next(stops, None)
                if stop is None or stop[0] >= b:
                    yield a, b
                    break
                if stop[0] > a:
                    yield a, stop[0]
                a = stop[1]

    def _stretches(self) -> Iterator[tuple[float, float]]:
        """The weekly pattern's on-shift stretches in time order, touching ones joined."""
        if self.always:
            yield 0.0, math.inf
            return
        q = 0
        a = b = None
        while True:
            for s, e in zip(self.starts, self.ends):
                s, e = q * WEEK + s, q * WEEK + e
                if b is not None and s <= b + EPS:
                    b = max(b, e)
                    continue
                if b is not None and b > a:
                    yield a, b
                a, b = s, e
            q += 1


DAY = 86400.0
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def pattern(spec) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The weekly on-shift intervals (starts, ends in week time from Monday 00:00) of a
    calendar spec: its shifts on their days, less its breaks on theirs."""
    def spans(items, default_days) -> list[tuple[float, float]]:
        out = []
        for item in items:
            for day in item.days if item.days is not None else default_days:
                a = DAY_NAMES.index(day) * DAY + item.from_
                b = DAY_NAMES.index(day) * DAY + item.to
                out.append((a, b if b > a else b + DAY))
        return out

    on = weekly_intervals(spans(spec.shifts, spec.days))
    off = weekly_intervals(spans(spec.breaks, DAY_NAMES))
    left = [piece for a, b in on for piece in minus(a, b, off)]
    return tuple(a for a, _ in left), tuple(b for _, b in left)


def calendar(name: str, spec, offset: float = 0.0) -> ShiftCalendar:
    """The ShiftCalendar of a validated calendar spec; simulated time 0 is `offset` seconds
    after Monday 00:00."""
    starts, ends = pattern(spec)
    turned = weekly_intervals([(a - offset, b - offset) for a, b in zip(starts, ends)]) \
        if offset % WEEK else list(zip(starts, ends))
    joined: list[tuple[float, float]] = []  # (the turn can leave rounding gaps: join them)
    for a, b in turned:
        if joined and a - joined[-1][1] < EPS:
            joined[-1] = (joined[-1][0], b)
        else:
            joined.append((a, b))
    if len(joined) > 1 and joined[0][0] < EPS and WEEK - joined[-1][1] < EPS:
        joined[0], joined[-1] = (0.0, joined[0][1]), (joined[-1][0], WEEK)
    turned = joined
    stops = tuple(union([(s.from_, s.to) for s in spec.stops]))
    return ShiftCalendar(name, tuple(a for a, _ in turned), tuple(b for _, b in turned), stops)
