"""The compiled online tracker (flowline engine) against the offline active period method
and the SimPy engine's tracker, on random periods."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.analysis.bottleneck import bottleneck_shares
from twin.kernels.tracker import Tracker

from support import period_sets


def _feed(periods, start, end, draw) -> Tracker:
    """Add each station's periods in random batches, resolving as far as allowed."""
    tracker = Tracker(len(periods), start, end)
    done = [0] * len(periods)
    while any(d < len(p) for d, p in zip(done, periods)):
        k = draw(st.sampled_from([i for i, p in enumerate(periods) if done[i] < len(p)]))
        n = draw(st.integers(1, len(periods[k]) - done[k]))
        batch = np.array(periods[k][done[k]:done[k] + n], dtype=float).reshape(-1, 2)
        tracker.add(k, batch[:, 0].copy(), batch[:, 1].copy(), n)
        done[k] += n
        # every period beginning before `until` has been added
        nxt = [p[d][0] for d, p in zip(done, periods) if d < len(p)]
        until = min(nxt) if nxt else end
        if draw(st.booleans()):
            until = draw(st.floats(min(start, until) - 5, until))
        tracker.resolve(until)
    tracker.resolve(end, final=True)
    return tracker


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(named=period_sets(), data=st.data())
def test_compiled_tracker_equals_offline(named, data) -> None:
    periods = list(named.values())
    start = data.draw(st.sampled_from([0.0, 3.0, 7.5]))
    end = start + data.draw(st.sampled_from([20.0, 60.0, 200.0]))
    tracker = _feed(periods, start, end, data.draw)
    offline = bottleneck_shares({f"r{k}": p for k, p in enumerate(periods)}, start, end)
    span = end - start
    for k in range(len(periods)):
        assert tracker.sole[k] / span == pytest.approx(offline[f"r{k}"]["sole"], abs=1e-9)
        assert tracker.shifting[k] / span == pytest.approx(offline[f"r{k}"]["shifting"],
                                                           abs=1e-9)


def test_validation_example() -> None:
    """validation.md: M1 [0,50), [55,100); M2 [0,20), [22,70), [72,100) over [0, 100):
    sole M1 52%, M2 5%; shifting during [22,50) and [55,70) (43%)."""
    tracker = Tracker(2, 0.0, 100.0)
    tracker.add(0, np.array([0.0, 55.0]), np.array([50.0, 100.0]), 2)
    tracker.add(1, np.array([0.0, 22.0, 72.0]), np.array([20.0, 70.0, 100.0]), 3)
    tracker.resolve(100.0, final=True)
    assert tracker.sole == pytest.approx([52.0, 5.0])
    assert tracker.shifting == pytest.approx([43.0, 43.0])


def test_inside_an_open_period_is_dropped_without_changing_the_answer() -> None:
    """Periods inside another station's open period begun earlier are not queued; the
    shares are those of all periods."""
    tracker = Tracker(2, 0.0, 100.0)
    open_s, open_e = np.array([-1.0, 10.0]), np.array([-1.0, 60.0])  # station 1 open
    tracker.add(0, np.array([20.0, 45.0]), np.array([30.0, 60.0]), 2, open_s, open_e)
    assert tracker.added == 0
    tracker.add(1, np.array([10.0]), np.array([80.0]), 1)
    tracker.resolve(100.0, final=True)
    offline = bottleneck_shares({"a": [(20, 30), (45, 60)], "b": [(10, 80)]}, 0.0, 100.0)
    assert tracker.sole[1] / 100 == pytest.approx(offline["b"]["sole"])
    assert tracker.sole[0] == 0.0 == offline["a"]["sole"]


def test_memory_stays_bounded_on_a_long_run() -> None:
    """Two stations alternating for 100,000 periods, fed in batches: only a few are ever
    held, and the arrays do not grow."""
    tracker = Tracker(2, 0.0, 1e9)
    t = 0.0
    for _ in range(1000):
        starts = t + 4.0 * np.arange(50)
        tracker.add(0, starts, starts + 3.0, 50)
        tracker.add(1, starts + 2.0, starts + 2.0 + 1.5, 50)
        t += 200.0
        tracker.resolve(t)
    assert tracker.added == 100_000
    assert tracker.most_held < 400
    assert tracker.qs.shape[1] <= 256 and tracker.rt.shape[0] <= 1024
