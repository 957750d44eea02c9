"""State clocks, areas and active periods: exact accounting and exact pruning."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import twin
from twin.engine import accounting
from twin.engine.accounting import ActivePeriods, Area, OpenGroups, StateClock
from twin.scenario.schema import Scenario


def test_state_clock_adds_time_per_state_and_restarts():
    clock = StateClock(3, 0, 0.0)
    clock.enter(1, 2.0)
    clock.enter(2, 5.0)
    clock.enter(1, 6.0)
    assert clock.close(10.0) == [2.0, 3.0 + 4.0, 1.0]
    clock.restart(10.0)
    clock.enter(0, 12.5)
    assert clock.close(20.0) == [7.5, 2.5, 0.0]


def test_area_time_average():
    area = Area(0.0)
    area.add(2, 1.0)   # level 2 from t=1
    area.add(-1, 3.0)  # level 1 from t=3
    assert area.mean(5.0) == pytest.approx((0 * 1 + 2 * 2 + 1 * 2) / 5)
    area.restart(5.0)
    assert area.mean(7.0) == pytest.approx(1.0)


def test_group_is_active_only_while_all_members_are():
    periods = ActivePeriods(size=2)
    periods.change(+1, 1.0)
    periods.change(+1, 2.0)   # both active from 2
    periods.change(-1, 4.0)   # one idle at 4
    periods.change(+1, 4.0)   # ...and active again at once: the period goes on
    periods.change(-1, 7.0)
    starts, ends = periods.close(10.0)
    assert list(zip(starts, ends)) == [(2.0, 7.0)]


def test_period_inside_an_older_open_period_is_dropped():
    groups = OpenGroups()
    long_one = ActivePeriods(1, groups, key=0)
    short = ActivePeriods(1, groups, key=1)
    long_one.change(+1, 0.0)
    short.change(+1, 1.0)
    short.change(-1, 3.0)      # inside long_one's period, which began earlier: dropped
    short.change(+1, 5.0)
    long_one.change(-1, 6.0)
    short.change(-1, 9.0)      # long_one no longer open: kept
    assert list(zip(*short.close(10.0))) == [(5.0, 9.0)]
    assert list(zip(*long_one.close(10.0))) == [(0.0, 6.0)]


def _line(times: list[float], buffers: list[int], servers: list[int], seed: int) -> Scenario:
    stations = {
        f"s{i}": {"process_time": {"exponential": t}, "buffer": b, "servers": c}
        for i, (t, b, c) in enumerate(zip(times, buffers, servers))}
    return Scenario.model_validate({
        "name": "line", "run": {"horizon": 3000, "warmup": 100, "seed": seed},
        "products": {"u": {"route": list(stations)}}, "stations": stations})


@settings(max_examples=12, deadline=None)
@given(
    times=st.lists(st.floats(0.5, 2.0), min_size=2, max_size=5),
    data=st.data(),
    seed=st.integers(0, 1000),
)
def test_pruning_leaves_the_bottleneck_results_unchanged(times, data, seed):
    n = len(times)
    buffers = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    servers = data.draw(st.lists(st.integers(1, 2), min_size=n, max_size=n))
    scenario = _line(times, buffers, servers, seed)
    pruned = twin.run(scenario).summary()["bottleneck"]
    original = accounting.OpenGroups.earliest
    try:
        accounting.OpenGroups.earliest = lambda self: None  # keep every period
        full = twin.run(scenario).summary()["bottleneck"]
    finally:
        accounting.OpenGroups.earliest = original
    assert pruned["station"] == full["station"]
    for name in full["share"]:
        assert pruned["share"][name] == pytest.approx(full["share"][name], abs=1e-12)
        assert pruned["sole"][name]["mean"] == pytest.approx(full["sole"][name]["mean"], abs=1e-12)
        assert pruned["shifting"][name]["mean"] == pytest.approx(
            full["shifting"][name]["mean"], abs=1e-12)
