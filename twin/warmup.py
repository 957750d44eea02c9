"""Automatic warm-up (`warmup: auto`): MSER-5 on the work in process of pilot replications.

Pilot replications run from the empty state for the horizon with no warm-up; their WIP per
timeline interval is averaged across the pilots (which smooths the series the way Welch's
method does) and MSER-5 picks how many leading intervals to delete. That many intervals is
the warm-up of the experiment proper, which then runs warm-up + horizon as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np

from twin.backends import Outcome
from twin.errors import RunError
from twin.kernels.stats import mser5
from twin.model import Model
from twin.units import HOUR

PILOTS = 3


@dataclass(frozen=True)
class WarmupChoice:
    seconds: float
    intervals: int
    of_intervals: int
    pilots: int
    at_limit: bool  # the minimum was at half the run: the run may be too short

    def describe(self) -> str:
        text = (f"MSER-5 on WIP of {self.pilots} pilot replication(s): delete "
                f"{self.intervals} of {self.of_intervals} intervals")
        if self.at_limit:
            text += " (minimum at half the run: a longer horizon would be safer)"
        return text


def detect_warmup(model: Model,
                  execute: Callable[[Model, list[int]], Iterable[Outcome]]) -> WarmupChoice:
    """Run the pilots with `execute` and choose the warm-up by MSER-5."""
    pilots = max(1, min(PILOTS, model.max_replications if model.replications == "auto"
                        else int(model.replications)))
    pilot_model = replace(model, warmup=0.0, event_log=False)
    series: dict[int, np.ndarray] = {}  # by replication: averaged in that order, whatever
    ends_h: list[float] = []  # the order the workers finish in (the intervals' end times)
    for outcome in execute(pilot_model, list(range(pilots))):
        if outcome.result is None:
            raise RunError(f"warm-up detection: pilot replication {outcome.replication} "
                           f"failed: {outcome.error}")
        rows = [(t, v) for t, kind, _, measure, v in outcome.result.timeline
                if kind == "system" and measure == "wip_mean"]
        rows.sort()
        series[outcome.replication] = np.array([v for _, v in rows], dtype=np.float64)
        if len(rows) > len(ends_h):
            ends_h = [t for t, _ in rows]
    n = min(len(s) for s in series.values())
    mean = np.mean([series[r][:n] for r in sorted(series)], axis=0)
    deleted = int(mser5(mean))
    return WarmupChoice(
        seconds=ends_h[deleted - 1] * HOUR if deleted else 0.0,
        intervals=deleted,
        of_intervals=n,
        pilots=pilots,
        at_limit=n >= 10 and deleted >= 5 * ((n // 5) // 2),
    )


def describe_hours(choice: WarmupChoice) -> str:
    return f"{choice.seconds / HOUR:g} h ({choice.describe()})"
