"""Roser's active period method, online: bottleneck time per resource in bounded memory.

`twin.analysis.bottleneck` computes the method from all active periods of a run; keeping
those periods makes memory grow with the horizon. `BottleneckTracker` gives the same sole
and shifting times while the run goes on, keeping only the periods and chain links that can
still change an answer, and adds them up per resource and per timeline interval.

Its input are active periods as they become known, each station's merged (never touching
one another) and, for memory's sake, pruned of periods inside an older period of another
resource (`ActivePeriods` does both). `resolve(t)` promises that every period beginning
before t has been added; the tracker then decides the momentary bottleneck up to t:

1. Winners: on each elementary interval (between period boundaries) the covering period
   with the longest (window-clipped) length wins; ties go to the lower resource number.
2. Links: runs of the same winning period; where the periods of two consecutive links
   overlap, both resources are shifting bottlenecks (marks, which may reach back to the
   earlier of the two periods' starts, or ahead into the future).
3. Finalising: no later link pair can overlap time before the earliest start of the last
   link and of the periods still live, so up to there every moment is settled: sole for its
   winner where no shifting mark covers it, shifting for each resource marked there.

The conventions are those of `twin.analysis.bottleneck` (clipping, ties, shifting), and
the test suite checks the two against each other on random periods.
"""

from __future__ import annotations

import heapq

from twin.intervals import minus, union


class BottleneckTracker:
    """Sole and shifting bottleneck seconds per resource over the window [start, end).

    With `interval`, also per interval of that length from `start` (`sole_bins[k][r]`,
    `shifting_bins[k][r]`), for the momentary-bottleneck timeline.
    """

    def __init__(self, n: int, start: float, end: float, interval: float | None = None):
        self.n = n
        self.start, self.end = start, end
        self.sole = [0.0] * n
        self.shifting = [0.0] * n
        self.interval = interval
        self.sole_bins: list[list[float]] = []
        self.shifting_bins: list[list[float]] = []
        self.pos = start  # winners are known up to here
        self.done = start  # and final up to here
        self.live: list[tuple[float, float, int, int]] = []  # (s, e, resource, id), e > pos
        self.pending: list[tuple[float, float, int, int]] = []  # added, not yet reached
        self.runs: list[tuple[float, float, int]] = []  # [t0, t1) won by resource, >= done
        self.marks: list[tuple[float, float, int]] = []  # shifting [t0, t1) of resource
        self.winner: tuple[float, float, int, int] | None = None  # period winning at pos
        self.last_link: tuple[float, float, int, int] | None = None
        self.added = 0  # periods added (of positive length in the window)
        self.most_held = 0  # the most periods, runs and marks held at once (memory)

    def add(self, resource: int, s: float, e: float) -> None:
        """A closed active period [s, e) of `resource`."""
        s, e = max(s, self.start), min(e, self.end)
        if e <= s:
            return
        self.added += 1
        self.pending.append((s, e, resource, self.added))

    def resolve(self, until: float) -> None:
        """Every period that begins before `until` has been added: decide up to there."""
        until = min(until, self.end)
        if until <= self.pos:
            return
        pending = self.pending
        if pending:
            keep = []
            for p in pending:
                (self.live if p[0] < until else keep).append(p)
            self.pending = keep
        self._winners(until)
        held = len(self.live) + len(self.pending) + len(self.runs) + len(self.marks)
        self.most_held = max(self.most_held, held)
        self._finalise()

    def finish(self) -> None:
        """The end of the run: decide and settle everything."""
        self.resolve(self.end)
        self._finalise(final=True)

    # --- steps ---------------------------------------------------------------------------
    def _winners(self, until: float) -> None:
        """Winning periods on [pos, until), links and their shifting marks: a sweep over
        the period boundaries with the covering periods in a heap, best first."""
        pos = self.pos
        live = sorted(self.live)
        cuts = {pos, until}
        for s, e, _, _ in live:
            if pos < s < until:
                cuts.add(s)
            if pos < e < until:
                cuts.add(e)
        grid = sorted(cuts)
        heap: list[tuple[float, int, int, tuple]] = []
        i = 0
        for t0, t1 in zip(grid, grid[1:]):
            while i < len(live) and live[i][0] <= t0:
                p = live[i]
                heapq.heappush(heap, (p[0] - p[1], p[2], p[3], p))  # longest, lowest first
                i += 1
            while heap and heap[0][3][1] <= t0:
                heapq.heappop(heap)
            self._extend(t0, t1, heap[0][3] if heap else None)
        self.pos = until
        self.live = [p for p in live if p[1] > until]

    def _extend(self, t0: float, t1: float, best) -> None:
        """[t0, t1) is won by period `best` (None: nobody is active)."""
        if best is not None and best is not self.winner:
            last = self.last_link
            if last is not None:
                lo, hi = max(last[0], best[0]), min(last[1], best[1])
                if hi > lo:
                    self.marks.append((lo, hi, last[2]))
                    self.marks.append((lo, hi, best[2]))
            self.last_link = best
        self.winner = best
        who = -1 if best is None else best[2]
        runs = self.runs
        if runs and runs[-1][2] == who and runs[-1][1] == t0:
            runs[-1] = (runs[-1][0], t1, who)
        else:
            runs.append((t0, t1, who))

    def _finalise(self, final: bool = False) -> None:
        """Settle the time before which no new shifting mark can reach."""
        upto = self.pos
        if not final:
            for p in self.live:
                upto = min(upto, p[0])
            if self.last_link is not None:
                upto = min(upto, self.last_link[0])
        if upto <= self.done:
            return
        lo = self.done
        marks = [(max(a, lo), min(b, upto), r) for a, b, r in self.marks if a < upto and b > lo]
        shifting = union([(a, b) for a, b, _ in marks])
        for r in {m[2] for m in marks}:
            for a, b in union([(a, b) for a, b, q in marks if q == r]):
                self._count(self.shifting, self.shifting_bins, r, a, b)
        j = 0  # runs and the shifting union are both in time order: one merge-walk
        for t0, t1, who in self.runs:
            a, b = max(t0, lo), min(t1, upto)
            if who < 0 or b <= a:
                continue
            while j < len(shifting) and shifting[j][1] <= a:
                j += 1
            for x, y in minus(a, b, shifting, j):
                self._count(self.sole, self.sole_bins, who, x, y)
        self.runs = [(max(t0, upto), t1, w) for t0, t1, w in self.runs if t1 > upto]
        self.marks = [(max(a, upto), b, r) for a, b, r in self.marks if b > upto]
        self.done = upto

    def _count(self, totals: list[float], bins: list[list[float]], r: int, a: float,
               b: float) -> None:
        totals[r] += b - a
        if self.interval is None:
            return
        k = int((a - self.start) // self.interval)
        while a < b:
            while len(bins) <= k:
                bins.append([0.0] * self.n)
            edge = self.start + (k + 1) * self.interval
            part = min(b, edge)
            bins[k][r] += part - a
            a, k = part, k + 1


def _before(p, q) -> bool:
    """Does period p outrank q: longer, or as long and of a lower-numbered resource?"""
    lp, lq = p[1] - p[0], q[1] - q[0]
    return lp > lq or (lp == lq and p[2] < q[2])

