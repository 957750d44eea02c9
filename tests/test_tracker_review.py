"""Review of the compiled online bottleneck tracker (twin.kernels.tracker) and how the
flowline kernels feed it: adversarial inputs for the tracker itself, the kernels' side of
its contract (time order, disjoint periods, the `until` promise), and the flowline engine
against the SimPy engine with many mid-run hand-overs (small `PERIODS`).

Expected values are worked out by hand or come from independent implementations (the
offline method `twin.analysis.bottleneck`, the SimPy engine), never from the tracker.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_flowline import assert_same_records, line, records_both
from twin.analysis.bottleneck import bottleneck_shares
from twin.engine import flowline as fl
from twin.engine import replication
from twin.engine.bottleneck import BottleneckTracker
from twin.kernels.tracker import Tracker
from twin.model import build
from twin.scenario.schema import Scenario


# --- helpers ------------------------------------------------------------------------------
def offline_seconds(periods: list, start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
    """Sole and shifting seconds per station by the offline method (index = station)."""
    shares = bottleneck_shares({f"r{k}": p for k, p in enumerate(periods)}, start, end)
    span = end - start
    sole = np.array([shares[f"r{k}"]["sole"] * span for k in range(len(periods))])
    shift = np.array([shares[f"r{k}"]["shifting"] * span for k in range(len(periods))])
    return sole, shift


def arr(spans) -> tuple[np.ndarray, np.ndarray]:
    a = np.array(spans, dtype=float).reshape(-1, 2)
    return a[:, 0].copy(), a[:, 1].copy()


def add(tracker: Tracker, k: int, spans, open_s=None, open_e=None, pad: int = 3) -> None:
    """Add station k's spans from a buffer larger than n (as the engine's buffers are)."""
    s, e = arr(spans)
    n = s.size
    ps, pe = np.full(n + pad, 123.0), np.full(n + pad, -7.0)  # junk past n must be ignored
    ps[:n], pe[:n] = s, e
    tracker.add(k, ps, pe, n, open_s, open_e)


def assert_totals(tracker: Tracker, sole, shifting, tol: float = 1e-7) -> None:
    np.testing.assert_allclose(tracker.sole, sole, rtol=0, atol=tol)
    np.testing.assert_allclose(tracker.shifting, shifting, rtol=0, atol=tol)


# --- the tracker on hand-made inputs ------------------------------------------------------
def test_period_longer_than_the_window_is_sole_bottleneck_all_along() -> None:
    """[-100, 1000) over [0, 50) counts with its clipped length 50: nothing inside the
    window is longer, so station 1 is sole bottleneck for the whole window."""
    tracker = Tracker(3, 0.0, 50.0)
    add(tracker, 0, [(-10, 5), (10, 20), (30, 49)])
    add(tracker, 1, [(-100, 1000)])
    add(tracker, 2, [(40, 60)])
    tracker.resolve(1e9)  # far beyond the end, not final
    tracker.resolve(50.0, final=True)
    assert_totals(tracker, [0.0, 50.0, 0.0], [0.0, 0.0, 0.0])


def test_period_begun_before_the_window_and_ending_inside() -> None:
    """Window [10, 30): a [0, 18) clipped to [10, 18) (8 s) against b [12, 21) (9 s):
    a wins [10, 12), b wins [12, 21) (overlap of the two links [12, 18) is shifting)."""
    tracker = Tracker(2, 10.0, 30.0)
    add(tracker, 0, [(0, 18)])
    tracker.resolve(12.0)
    add(tracker, 1, [(12, 21)])
    tracker.resolve(30.0, final=True)
    # a: sole [10,12) = 2; b: sole [18,21) = 3; shifting [12,18) = 6 each
    assert_totals(tracker, [2.0, 3.0], [6.0, 6.0])
    sole, shifting = offline_seconds([[(0, 18)], [(12, 21)]], 10.0, 30.0)
    assert_totals(tracker, sole, shifting)


@pytest.mark.parametrize("first_longer_raw", [True, False])
def test_clipped_lengths_decide_and_ties_go_to_the_lower_station(first_longer_raw) -> None:
    """Both periods reach back before the window and end together: clipped, they are
    equally long, so the lower station wins whatever their raw lengths."""
    a, b = ((0, 20), (5, 20)) if first_longer_raw else ((5, 20), (0, 20))
    tracker = Tracker(2, 10.0, 30.0)
    add(tracker, 1, [b, (22, 25)])
    add(tracker, 0, [a])
    tracker.resolve(30.0, final=True)
    assert_totals(tracker, [10.0, 3.0], [0.0, 0.0])


def test_many_stations_with_identical_periods() -> None:
    """Seven stations active [2, 9), added highest first in separate batches: station 0
    is the sole bottleneck there (ties to the lower index), no link changes, no shifting;
    then all active [9.5, 10.5) over a window ending at 10: again station 0."""
    n = 7
    tracker = Tracker(n, 0.0, 10.0)
    for k in reversed(range(n)):
        add(tracker, k, [(2, 9), (9.5, 10.5)])
        tracker.resolve(2.0)
        tracker.resolve(2.0)
    tracker.resolve(10.0)
    tracker.resolve(10.0, final=True)
    tracker.resolve(10.0, final=True)
    expect = np.zeros(n)
    expect[0] = 7.5
    assert_totals(tracker, expect, np.zeros(n))


def test_identical_periods_with_a_longer_one_in_the_middle() -> None:
    """Stations 1 and 2 both active [0, 10); station 0 [4, 20) (longer) takes over at 4:
    links 1 -> 0, overlap [4, 10) shifting for stations 1 and 0 (not 2, never a link)."""
    tracker = Tracker(3, 0.0, 30.0)
    add(tracker, 2, [(0, 10)])
    add(tracker, 1, [(0, 10)])
    tracker.resolve(4.0)
    add(tracker, 0, [(4, 20)])
    tracker.resolve(30.0, final=True)
    assert_totals(tracker, [10.0, 4.0, 0.0], [6.0, 6.0, 0.0])


def test_until_before_start_beyond_end_and_repeated() -> None:
    """resolve with `until` before the window, repeatedly, and far past its end: each
    moment counted once. a [0,6) [8,12), b [4,9): a [0,4) sole, [4,6) shifting (a, b),
    b [6,8) sole, [8,9) shifting (b and a's [8,12)), a [9,12) sole."""
    tracker = Tracker(2, 0.0, 12.0)
    for until in (-50.0, -50.0, 0.0, 0.0):
        tracker.resolve(until)
    add(tracker, 0, [(0, 6)])
    tracker.resolve(4.0)
    tracker.resolve(4.0)
    tracker.resolve(-3.0)
    add(tracker, 1, [(4, 9)])
    tracker.resolve(8.0)
    tracker.resolve(8.0)
    add(tracker, 0, [(8, 12)])
    for _ in range(3):
        tracker.resolve(1e12)
    tracker.resolve(1e12, final=True)
    tracker.resolve(1e12, final=True)
    assert_totals(tracker, [4.0 + 3.0, 2.0], [2.0 + 1.0, 2.0 + 1.0])
    sole, shifting = offline_seconds([[(0, 6), (8, 12)], [(4, 9)]], 0.0, 12.0)
    assert_totals(tracker, sole, shifting)


def test_nothing_active_and_everything_outside_the_window() -> None:
    tracker = Tracker(3, 100.0, 200.0)
    add(tracker, 0, [(0, 50), (60, 100)])  # ends exactly at the window's start
    add(tracker, 1, [(200, 300)])  # begins exactly at its end
    add(tracker, 2, [(150, 150)])  # zero length
    tracker.resolve(200.0, final=True)
    assert tracker.added == 0
    assert_totals(tracker, [0, 0, 0], [0, 0, 0])


def test_alternating_links_grow_runs_and_marks() -> None:
    """a [10i, 10i+6), b [10i+4, 10i+9) for 1000 cycles, all resolved in one call: per
    cycle a is sole 4 s, b sole 3 s, both shifting 2 s (overlap [10i+4, 10i+6)). Far
    more runs and marks than the initial 256 rows."""
    cycles = 1000
    i = 10.0 * np.arange(cycles)
    tracker = Tracker(2, 0.0, 10.0 * cycles)
    tracker.add(0, i, i + 6, cycles)
    tracker.add(1, i + 4, i + 9, cycles)
    tracker.resolve(10.0 * cycles, final=True)
    assert tracker.rt.shape[0] > 256 and tracker.mt.shape[0] > 256  # the growth path ran
    assert_totals(tracker, [4.0 * cycles, 3.0 * cycles], [2.0 * cycles, 2.0 * cycles], 1e-6)


def test_queue_slides_and_grows() -> None:
    """Station 0's queue (256 wide) slides to the front after its head moved, and grows
    for a batch larger than it; the answers stay those worked out per cycle."""
    tracker = Tracker(2, 0.0, 1e6)
    width = tracker.qs.shape[1]
    t = 0.0

    def batch(n):
        nonlocal t
        i = t + 10.0 * np.arange(n)
        tracker.add(0, i, i + 6, n)
        tracker.add(1, i + 4, i + 9, n)
        t += 10.0 * n
        tracker.resolve(t)  # every later period begins at or after t

    batch(200)
    assert tracker.qh[0] > 0
    batch(200)  # 200 + 200 > width: slides (head > 0), no growth needed
    assert tracker.qs.shape[1] == width
    batch(3 * width)  # more than the queue holds: grows
    assert tracker.qs.shape[1] > width
    batch(5)
    n = 400 + 3 * width + 5
    tracker.resolve(1e6, final=True)
    assert_totals(tracker, [4.0 * n, 3.0 * n], [2.0 * n, 2.0 * n], 1e-6)


def test_drop_inside_an_open_period_begun_before_the_window() -> None:
    """LATENT: `add` may drop a period inside another station's open period begun earlier
    -- but the comparison uses the open period's start as given and the new period's start
    clipped to the window. Station 1's open period [-5, 10] (its final period [-5, 10))
    and station 0's [-3, 10) both clip to [0, 10): equally long, so station 0 (lower) is
    the bottleneck; the drop hands it to station 1. The kernels pass clipped open periods,
    so engine results are not affected; the function's doc admits this input."""
    tracker = Tracker(2, 0.0, 20.0)
    add(tracker, 0, [(-3, 10)], np.array([-1.0, -5.0]), np.array([-1.0, 10.0]))
    add(tracker, 1, [(-5, 10)])
    tracker.resolve(20.0, final=True)
    sole, shifting = offline_seconds([[(-3, 10)], [(-5, 10)]], 0.0, 20.0)
    assert sole == pytest.approx([10.0, 0.0])
    assert_totals(tracker, sole, shifting)


# --- the tracker on random inputs ---------------------------------------------------------
@st.composite
def scenarios(draw):
    """Per station: disjoint, non-touching periods in time order, on a fine or coarse grid
    (ties), starting before the window, some longer than it; the window; and a
    seeded order of hand-over."""
    grid = draw(st.sampled_from([1.0, 0.5, 0.25]))
    periods = []
    for _ in range(draw(st.integers(1, 6))):
        t, spans = grid * draw(st.integers(-30, 5)), []
        for _ in range(draw(st.integers(0, 25))):
            t += grid * draw(st.integers(1, 5))
            length = grid * draw(st.sampled_from([1, 2, 3, 5, 8, 40, 400]))
            spans.append((t, t + length))
            t += length
        periods.append(spans)
    start = draw(st.sampled_from([0.0, 2.5, -7.0, 30.0]))
    end = start + draw(st.sampled_from([0.75, 13.0, 60.0, 1000.0]))
    return periods, start, end, draw(st.integers(0, 2**32))


def _feed_randomly(periods, start, end, seed, open_drops: bool):
    """Hand periods over in random batches, resolving as far as allowed (sometimes less,
    sometimes the same `until` again); with open_drops, pass other stations' open periods
    (clipped prefixes of their next periods, as the line kernel does)."""
    rng = random.Random(seed)
    n_st = len(periods)
    tracker = Tracker(n_st, start, end)
    python = BottleneckTracker(n_st, start, end)
    done = [0] * n_st
    while any(d < len(p) for d, p in zip(done, periods)):
        k = rng.choice([i for i, p in enumerate(periods) if done[i] < len(p)])
        n = rng.randint(1, len(periods[k]) - done[k])
        spans = periods[k][done[k]:done[k] + n]
        open_s = open_e = None
        if open_drops:
            open_s, open_e = np.full(n_st, -1.0), np.full(n_st, -1.0)
            for j in range(n_st):
                if j != k and done[j] < len(periods[j]) and rng.random() < 0.7:
                    a, b = periods[j][done[j]]
                    b = rng.uniform(a, b)  # the open period has grown this far so far
                    open_s[j], open_e[j] = max(a, start), min(b, end)
        add(tracker, k, spans, open_s, open_e, pad=rng.randint(0, 4))
        for s, e in spans:
            python.add(k, s, e)
        done[k] += n
        nxt = [p[d][0] for d, p in zip(done, periods) if d < len(p)]
        until = min(nxt) if nxt else end + rng.choice([0.0, 1e6])
        for _ in range(rng.randint(1, 3)):
            u = until if rng.random() < 0.6 else rng.uniform(start - 10, until)
            tracker.resolve(u)
            python.resolve(u)
    tracker.resolve(end, final=True)
    python.finish()
    return tracker, python


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.booleans())
def test_random_periods_equal_offline_and_the_simpy_tracker(case, open_drops) -> None:
    periods, start, end, seed = case
    tracker, python = _feed_randomly(periods, start, end, seed, open_drops)
    sole, shifting = offline_seconds(periods, start, end)
    assert_totals(tracker, sole, shifting, 1e-6)
    np.testing.assert_allclose(tracker.sole, python.sole, rtol=0, atol=1e-6)
    np.testing.assert_allclose(tracker.shifting, python.shifting, rtol=0, atol=1e-6)
    # sole time of all plus shifting time (counted once) never exceeds the window
    assert tracker.sole.sum() <= (end - start) + 1e-6


# --- the kernels' side of the contract ----------------------------------------------------
class Recording(Tracker):
    """The compiled tracker, logging every hand-over and `until`."""

    made: list = []

    def __init__(self, stations, start, end):
        super().__init__(stations, start, end)
        self.window = (start, end)
        self.log = []
        Recording.made.append(self)

    def add(self, k, ps, pe, n, open_s=None, open_e=None):
        self.log.append(("add", k, np.array(ps[:n]), np.array(pe[:n])))
        super().add(k, ps, pe, n, open_s, open_e)

    def resolve(self, until, final=False):
        self.log.append(("resolve", float(until), final))
        super().resolve(until, final)


def _check_contract(tracker: Recording) -> list:
    """Each station's periods (clipped, non-empty) disjoint, not touching, in time order;
    none handed over after a `resolve(until)` begins before `until`; the last call is
    final at the end. Returns the periods handed over, per station."""
    start, end = tracker.window
    per = [[] for _ in range(tracker.qs.shape[0])]
    promised = -math.inf
    for entry in tracker.log:
        if entry[0] == "resolve":
            promised = max(promised, min(entry[1], end))
            continue
        _, k, ps, pe = entry
        for s, e in zip(ps, pe):
            assert e >= s, (k, s, e)
            s, e = max(s, start), min(e, end)
            if e <= s:
                continue
            assert s >= promised, f"station {k}: [{s}, {e}) after resolve({promised})"
            if per[k]:
                assert s > per[k][-1][1], f"station {k}: {per[k][-1]} then {(s, e)}"
            per[k].append((s, e))
    assert tracker.log[-1] == ("resolve", end, True)
    return per


SMALL_LINES = {
    "constant": ({"a": {"process_time": 2.0, "buffer": 0}, "b": {"process_time": 1.0},
                  "c": {"process_time": 1.5, "buffer": 1}}, "saturated", 500.0, 7.3),
    "failures_scrap": ({"a": {"process_time": {"exponential": 1.0}, "scrap": 0.1,
                              "failures": {"mtbf": {"exponential": 15}, "mttr": 2.0,
                                           "mode": "operation"}},
                        "b": {"process_time": {"lognormal": {"mean": 1.1, "cv": 0.7}},
                              "buffer": 2},
                        "c": {"process_time": {"exponential": 0.9}, "buffer": 0,
                              "failures": {"mtbf": {"exponential": 25},
                                           "mttr": {"exponential": 3}, "mode": "operation"}}},
                       {"conwip": 5}, 1500.0, 40.0),
    "interarrival_ties": ({"a": {"process_time": 1.0}, "b": {"process_time": 1.0, "buffer": 0},
                           "c": {"process_time": 0.5}}, {"interarrival": 1.0}, 300.0, 5.5),
    "parallel": ({"a": {"process_time": 2.0, "servers": 2, "buffer": 0},
                  "b": {"process_time": {"exponential": 1.0}, "buffer": 1},
                  "c": {"process_time": 3.0, "servers": 3, "buffer": 0}},
                 "saturated", 400.0, 10.0),
    "parallel_failures": ({"a": {"process_time": {"gamma": {"mean": 1.8, "cv": 0.5}},
                                 "servers": 2, "scrap": 0.05,
                                 "failures": {"mtbf": {"exponential": 12}, "mttr": 1.5,
                                              "mode": "operation"}},
                           "b": {"process_time": {"exponential": 1.0}, "buffer": 0}},
                          {"interarrival": {"exponential": 1.1}}, 1200.0, 33.0),
    "short": ({"a": {"process_time": {"exponential": 1.0}},
               "b": {"process_time": {"exponential": 1.0}, "buffer": 0}},
              "saturated", 0.7, 3.3),
    "tie_at_warmup": ({"a": {"process_time": 2.0}, "b": {"process_time": 1.0, "buffer": 0}},
                      "saturated", 200.0, 10.0),
    "no_warmup": ({"a": {"process_time": {"uniform": [0.5, 1.5]}},
                   "b": {"process_time": 1.0, "buffer": 0}}, {"conwip": 2}, 600.0, 0.0),
}


MANY_PERIODS = ("constant", "failures_scrap", "parallel", "parallel_failures", "no_warmup")


@pytest.mark.parametrize("periods_room", [4, 7, 4096])
@pytest.mark.parametrize("name", list(SMALL_LINES))
def test_engines_agree_with_many_hand_overs(name, periods_room, monkeypatch) -> None:
    """Tiny period buffers force hand-overs all through the run (and during warm-up):
    every record still equals the SimPy engine's; both kernels keep the tracker's
    contract, and its answer is the offline method's on what it was handed."""
    stations, release, horizon, warmup = SMALL_LINES[name]
    monkeypatch.setattr(fl, "PERIODS", periods_room)
    monkeypatch.setattr(fl, "Tracker", Recording)
    Recording.made = []
    sc = line(stations, release, horizon=horizon, warmup=warmup, seed=3)
    slow, fast = records_both(sc)
    assert_same_records(slow, fast)
    model = build(sc)
    if all(s.servers == 1 for s in model.stations):  # also the event kernel, forced
        line_, state = fl.run_line(model, fl.Feed(3, 0), float(model.warmup), events=True)
        assert_same_records(slow, fl.collect(model, line_, state, 0, float(model.warmup), 0))
    used = [t for t in Recording.made if t.log and t.log[-1][-1] is True]
    assert used
    for tracker in used:
        per = _check_contract(tracker)
        sole, shifting = offline_seconds(per, *tracker.window)
        assert_totals(tracker, sole, shifting, 1e-6)
    if periods_room == 4 and name in MANY_PERIODS:  # the hand-overs did happen mid-run
        assert max(sum(e[0] == "resolve" for e in t.log) for t in used) > 20


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000))
def test_random_lines_with_tiny_buffers_agree(seed) -> None:
    """Random lines (parallel servers, failures, scrap, ties) with PERIODS = 5."""
    rng = random.Random(seed)
    stations = {}
    for i in range(rng.randint(1, 4)):
        s = {"process_time": rng.choice([1.0, 2.0, {"exponential": rng.uniform(0.5, 2)}]),
             "servers": rng.choice([1, 1, 2])}
        if rng.random() < 0.6:
            s["buffer"] = rng.randint(0, 3)
        if rng.random() < 0.3:
            s["scrap"] = 0.1
        if rng.random() < 0.3:
            s["failures"] = {"mtbf": {"exponential": 10.0}, "mttr": 2.0, "mode": "operation"}
        stations[f"s{i}"] = s
    release = rng.choice(["saturated", {"interarrival": 1.0}, {"conwip": 3},
                          {"interarrival": {"exponential": 1.5}}])
    sc = line(stations, release, horizon=rng.choice([2.0, 90.0, 700.0]),
              warmup=rng.choice([0.0, 4.5, 20.0]), seed=seed)
    old = fl.PERIODS
    fl.PERIODS = 5
    try:
        assert_same_records(*records_both(sc))
    finally:
        fl.PERIODS = old


# --- route order differs from the stations' order -----------------------------------------
def _route_scenario(route, stations, release="saturated", horizon=100.0, warmup=11.0):
    return Scenario.model_validate({
        "name": "route", "run": {"horizon": horizon, "warmup": warmup, "seed": 0},
        "products": {"u": {"route": route, "release": release}}, "stations": stations})


def _bottleneck(result) -> dict:
    return {(m[1], m[2]): float(m[3]) for m in result.measures if "bottleneck" in m[2]}


@pytest.mark.parametrize("servers", [1, 2])
def test_ties_go_to_the_lower_station_not_the_earlier_route_step(servers) -> None:
    """BUG: stations a, b (in this order) with equal constant times, route b -> a: both are
    busy all through the window, so their (clipped) periods are equally long and the tie
    goes to the lower station -- a, as in the SimPy engine (and as the flowline engine did
    before, offline on the periods in station order). The compiled tracker numbers
    stations by route step, so it gives the tie to b."""
    stations = {"a": {"process_time": 2.0, "servers": servers},
                "b": {"process_time": 2.0, "servers": servers}}
    model = build(_route_scenario(["b", "a"], stations))
    slow = replication.simulate(model, 0, 0, 11.0)
    fast = fl.simulate(model, 0, 0, 11.0)
    assert _bottleneck(slow)[("a", "bottleneck_sole_h")] == pytest.approx(100.0 / 3600)
    assert_same_records(slow, fast)


def test_shuffled_routes_agree_with_simpy() -> None:
    """Random lines whose route visits the stations in another order than they are
    declared (ties frequent: constant times)."""
    rng = random.Random(7)
    bad = []
    for i in range(40):
        stations = {f"s{j}": {"process_time": rng.choice([1.0, 2.0]),
                              "servers": rng.choice([1, 1, 2]),
                              "buffer": rng.randint(0, 2)} for j in range(rng.randint(2, 4))}
        route = list(stations)
        rng.shuffle(route)
        sc = _route_scenario(route, stations, rng.choice(["saturated", {"conwip": 3}]),
                             horizon=rng.choice([50.0, 300.0]), warmup=5.5)
        model = build(sc)
        a = _bottleneck(replication.simulate(model, 0, 0, 5.5))
        b = _bottleneck(fl.simulate(model, 0, 0, 5.5))
        if any(not math.isclose(a[key], b[key], rel_tol=1e-9, abs_tol=1e-12) for key in a):
            bad.append((i, route))
    assert not bad, f"{len(bad)} of 40 lines differ, e.g. {bad[:3]}"


# --- the line kernel's budget when a unit resumes mid-trip ---------------------------------
def test_unit_resumed_after_failure_draws_ran_out_does_not_overrun_other_streams() -> None:
    """BUG (pre-existing, twin/kernels/line.py, not this change): when a failure stream
    runs dry in the middle of a unit's trip, the kernel returns NEED_DRAWS and later
    resumes the unit, recomputing `budget` without counting that unit. With exactly one
    draw left in another stream the unit uses, the resumed unit takes it and the next
    unit reads one past the filled values (another stream's first value), after which
    Feed.refill fails on a negative tail. Here a fails after every 1 s of work (so its
    failure stream runs dry every 8192 units) and scraps half its units."""
    stations = {"a": {"process_time": 1.0, "scrap": 0.5,
                      "failures": {"mtbf": 1.0, "mttr": 0.05, "mode": "operation"}},
                "b": {"process_time": 0.5}}
    sc = _route_scenario(["a", "b"], stations, horizon=17_500.0, warmup=0.3)
    model = build(sc)
    feed = fl.Feed(0, 0)
    line_, state = fl.run_line(model, feed, 0.3)
    assert (feed.dpos <= feed.dfill).all()
    assert_same_records(replication.simulate(model, 0, 0, 0.3),
                        fl.collect(model, line_, state, 0, 0.3, 0))
