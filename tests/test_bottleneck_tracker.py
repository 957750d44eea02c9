"""The online active period method against the offline one, on random periods."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.analysis.bottleneck import bottleneck_shares, bottleneck_timeline
from twin.engine.bottleneck import BottleneckTracker

from support import period_sets


def _online(periods: dict, start: float, end: float, interval: float | None,
            prune: bool, draw) -> BottleneckTracker:
    names = list(periods)
    items = [(e, s, names.index(name)) for name in names for s, e in periods[name]]
    if prune:  # what ActivePeriods keeps: not inside an older period of another resource
        # (the engines clip periods to the window before they compare them)
        items = [(min(e, end), max(s, start), r) for e, s, r in items
                 if min(e, end) > max(s, start)]
        items = [(e, s, r) for e, s, r in items
                 if not any(s2 < s and e2 >= e for e2, s2, r2 in items if r2 != r)]
    items.sort()  # in the order they close
    tracker = BottleneckTracker(len(names), start, end, interval)
    for i, (e, s, r) in enumerate(items):
        later = [s2 for _, s2, _ in items[i:]]  # not yet added: all start at or after R
        resolve_to = min([e] + later)
        if draw(st.booleans()):
            tracker.resolve(draw(st.floats(min(start, resolve_to) - 5, resolve_to)))
        tracker.add(r, s, e)
        tracker.resolve(min([e] + [s2 for _, s2, _ in items[i + 1:]]))
    tracker.finish()
    return tracker


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(periods=period_sets(), data=st.data(), prune=st.booleans())
def test_online_equals_offline(periods, data, prune) -> None:
    start = data.draw(st.sampled_from([0.0, 3.0, 7.5]))
    end = start + data.draw(st.sampled_from([20.0, 60.0, 200.0]))
    tracker = _online(periods, start, end, 5.0, prune, data.draw)
    offline = bottleneck_shares(periods, start, end)
    span = end - start
    for r, name in enumerate(periods):
        assert tracker.sole[r] / span == pytest.approx(offline[name]["sole"], abs=1e-9), name
        assert tracker.shifting[r] / span == pytest.approx(offline[name]["shifting"],
                                                           abs=1e-9), name
    # the intervals add up to the totals and agree with the offline timeline, bin by bin
    timeline = bottleneck_timeline(periods, start, end)
    for kind, bins, totals in (("sole", tracker.sole_bins, tracker.sole),
                               ("shifting", tracker.shifting_bins, tracker.shifting)):
        got = np.array(bins).sum(axis=0) if bins else np.zeros(len(periods))
        assert got == pytest.approx(totals, abs=1e-9)
        for k, row in enumerate(bins):
            lo, hi = start + 5.0 * k, start + 5.0 * (k + 1)
            for r, name in enumerate(periods):
                rows = timeline[(timeline["station"] == name) & (timeline["kind"] == kind)]
                want = (np.minimum(rows["end"], hi) - np.maximum(rows["start"], lo)).clip(0).sum()
                assert row[r] == pytest.approx(want, abs=1e-9), (kind, k, name)


def test_validation_example() -> None:
    """validation.md: M1 [0,50), [55,100); M2 [0,20), [22,70), [72,100) over [0, 100):
    sole M1 52%, M2 5%; shifting during [22,50) and [55,70) (43%)."""
    tracker = BottleneckTracker(2, 0.0, 100.0)
    for r, s, e in sorted([(0, 0, 50), (0, 55, 100), (1, 0, 20), (1, 22, 70), (1, 72, 100)],
                          key=lambda x: x[2]):
        tracker.add(r, s, e)
    tracker.finish()
    assert tracker.sole == pytest.approx([52.0, 5.0])
    assert tracker.shifting == pytest.approx([43.0, 43.0])


def test_memory_stays_bounded_on_a_long_run() -> None:
    """Two resources alternating for 100,000 periods: only a few are ever held."""
    tracker = BottleneckTracker(2, 0.0, 1e9)
    most = 0
    t = 0.0
    for i in range(100_000):
        tracker.add(i % 2, t, t + 3.0 + (i % 3))
        t += 2.0
        tracker.resolve(t)
        most = max(most, len(tracker.live) + len(tracker.runs) + len(tracker.marks))
    assert most < 20
    assert tracker.most_held < 20


def test_engine_online_bottleneck_equals_the_offline_method_on_its_periods() -> None:
    """The SimPy engine's bottleneck hours (online) against the offline method on the
    periods it keeps with an event log; warm-up, failures, rework, several products."""
    from pathlib import Path

    import twin
    from twin.scenario.load import load

    path = Path(__file__).parents[1] / "scenarios" / "validation" / "identities.yaml"
    res = twin.run(load(path, overrides=["run.replications=2", "run.horizon=3 d"]),
                   event_log=True)
    m, periods = res.measures, res.active_periods
    assert len(periods)
    warm, horizon = res.meta["warmup_h"], res.meta["horizon_h"]
    for r in sorted(set(m["replication"])):
        sub = periods[periods["replication"] == r]
        names = list(m[(m.replication == r) & (m.kind == "station")]["entity"].unique())
        spans = {n: list(zip(g["start_h"], g["end_h"])) for n, g in sub.groupby("station")}
        offline = bottleneck_shares({n: spans.get(n, []) for n in names}, warm, warm + horizon)
        for name in names:
            row = m[(m.replication == r) & (m.entity == name)].set_index("measure")["value"]
            assert row["bottleneck_sole_h"] / horizon == pytest.approx(
                offline[name]["sole"], abs=1e-9)
            assert row["bottleneck_shifting_h"] / horizon == pytest.approx(
                offline[name]["shifting"], abs=1e-9)


def test_engine_keeps_no_periods_without_an_event_log() -> None:
    """Memory: without an event log the engine hands periods to the tracker and keeps none;
    what the tracker holds at once (periods of one 15-minute resolution step, links) does
    not grow with the horizon."""
    from twin.engine.replication import Replication
    from twin.model import build
    from twin.scenario.schema import Scenario

    stations = {f"s{i}": {"process_time": {"exponential": 1.0}, "buffer": 2} for i in range(5)}
    held = []
    for horizon in (20_000, 80_000):
        model = build(Scenario.model_validate({
            "name": "long line", "run": {"horizon": horizon},
            "products": {"u": {"route": list(stations)}}, "stations": stations}))
        rep = Replication(model, 0, 1, 0.0)
        rep.run()
        assert all(len(st.active.starts) == 0 for st in rep.stations)
        assert rep.bottleneck.added > horizon / 100
        held.append(rep.bottleneck.most_held)
    assert held[1] < 1.5 * held[0], held
