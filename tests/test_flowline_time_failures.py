"""Time-dependent failures on the flowline engine: exactly the SimPy engine's answer.

A machine's time-dependent failures are a timeline of down intervals that no unit changes;
the line kernel walks it as units pass (`twin.kernels.failures`). These tests hold it to
hand-computed schedules, to the SimPy engine record by record (random and constant times,
warm-up, no buffers, scrap, mixed failure modes, every release), and check that a tie only
SimPy's event order decides goes to the SimPy engine rather than giving another answer.
On lines with parallel machines the event kernel runs a failure process per machine, as
SimPy does; the last tests hold it to the SimPy engine (hand-picked, integer times, random).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst

import twin
from test_flowline import assert_same, assert_same_records, line, lines
from twin.engine import flowline as fl
from twin.engine import replication
from twin.kernels import flowline as kf
from twin.model import build
from twin.scenario.schema import Scenario

TF = {"mtbf": {"exponential": 20}, "mttr": {"gamma": {"mean": 3, "cv": 0.5}}}  # mode: time
RELEASES = ["saturated", {"interarrival": {"exponential": 1.3}}, {"conwip": 4}]


def on_kernel(sc: Scenario, rep: int = 0):
    """SimPy's records and the line kernel's (which must not hand over to the event kernel)."""
    model = build(sc)
    warm = float(model.warmup)
    line_, state = fl.run_line(model, fl.Feed(model.seed, rep), warm)
    assert not state.events
    return (replication.simulate(model, rep, model.seed, warm),
            fl.collect(model, line_, state, rep, warm, 0.0))


def measure(result, kind: str, entity: str, name: str) -> float:
    return next(v for k, e, m, v in result.measures if (k, e, m) == (kind, entity, name))


# --- by hand -------------------------------------------------------------------------------
def test_one_machine_by_hand() -> None:
    """Process 10 s, a failure every 100 s up, 20 s repairs, saturated: the machine fails
    at 100, 220, 340, ...; the tenth unit of each cycle would end at the failure, which comes
    first (its event was scheduled earlier), so it ends after the repair: 10 units per
    120 s. In 1200 s: 99 units (the 100th ends at 1200, the end), busy 1000 s, down 200 s."""
    sc = line({"a": {"process_time": 10, "failures": {"mtbf": 100, "mttr": 20}}},
              horizon=1200.0, warmup=0.0)
    slow, fast = on_kernel(sc)
    assert_same_records(slow, fast)
    assert measure(fast, "product", "u", "finished") == 99
    assert measure(fast, "station", "a", "busy_h") * 3600 == pytest.approx(1000.0)
    assert measure(fast, "station", "a", "down_h") * 3600 == pytest.approx(200.0)
    assert measure(fast, "station", "a", "starved_h") == 0.0
    # lead time: 9 units of 10 s and one of 30 s per cycle
    assert measure(fast, "product", "u", "lead_time_h") * 3600 == pytest.approx(
        (90 * 10 + 9 * 30) / 99)


def test_two_machines_by_hand_with_warmup() -> None:
    """a: 10 s, failures 100 s up / 20 s down (down 100-120, 220-240); b: 4 s, no buffer,
    failures 55 up / 30 down (down 55-85, 140-170, 225-255). a ends units at 10, ..., 60;
    the one of 60 waits, a blocked, until b's repair at 85; 95; the next is interrupted at
    100 and ends at 125; 135; 145 waits for b until 170; 180, ..., 210; the one that would
    end at 220 meets a's failure, which comes first: it ends at 240. b ends units at 14,
    24, 34, 44, 54, 89, 99, 129, 139, 174, 184, ..., 214. Measured from 35 to 240."""
    sc = line({"a": {"process_time": 10, "failures": {"mtbf": 100, "mttr": 20}},
               "b": {"process_time": 4, "buffer": 0,
                     "failures": {"mtbf": 55, "mttr": 30}}},
              horizon=205.0, warmup=35.0)
    slow, fast = on_kernel(sc)
    assert_same_records(slow, fast)

    def seconds(station, state):
        return measure(fast, "station", station, f"{state}_h") * 3600

    assert measure(fast, "product", "u", "finished") == 11
    assert measure(fast, "station", "a", "produced") == 11
    assert seconds("a", "blocked") == pytest.approx(25 + 25)
    assert seconds("a", "down") == pytest.approx(20 + 20)
    assert seconds("a", "busy") == pytest.approx(205 - 50 - 40)
    assert seconds("a", "starved") == pytest.approx(0.0, abs=1e-9)
    assert seconds("b", "down") == pytest.approx(30 + 30 + 15)
    assert seconds("b", "busy") == pytest.approx(11 * 4)
    assert seconds("b", "starved") == pytest.approx(205 - 44 - 75)


# --- against SimPy, fixed lines ------------------------------------------------------------
@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("buffers", [(2, 1, None), (0, 0, 0), (None, 0, 3)])
def test_lines_agree(release, buffers) -> None:
    """Long lines (draws refilled, rings widened): buffers, none, unlimited; scrap; a station
    with operation-dependent failures among time-dependent ones; warm-up."""
    stations = {}
    for i, b in enumerate(buffers):
        st = {"process_time": {"lognormal": {"mean": 1.0 + 0.1 * i, "cv": 0.6}},
              "scrap": 0.03 * (i != 1),
              "failures": TF if i != 1 else {**TF, "mode": "operation"}}
        if b is not None:
            st["buffer"] = b
        stations[f"s{i}"] = st
    slow, fast = on_kernel(line(stations, release, horizon=8000.0, warmup=300.0, seed=4))
    assert_same_records(slow, fast)
    assert measure(fast, "station", "s0", "down_h") > 0


@pytest.mark.parametrize("blocked", [False, True])
def test_long_waits_fill_the_period_buffer(blocked) -> None:
    """Frequent short failures while a machine waits long, starved (a unit every 400 s) or
    blocked behind a slow machine: one visit notes more active periods than the period
    buffer holds (starved: none is inside another station's, so all are kept), and needs
    more draws than a stream's row holds."""
    stations = {"a": {"process_time": 0.5, "buffer": 0,
                      "failures": {"mtbf": {"exponential": 0.05}, "mttr": 0.01}}}
    if blocked:
        stations["b"] = {"process_time": 400.0, "buffer": 0}
    sc = line(stations, "saturated" if blocked else {"interarrival": 400},
              horizon=2000.0, warmup=10.0)
    slow, fast = on_kernel(sc)
    assert_same_records(slow, fast)
    model = build(sc)
    feed = fl.Feed(model.seed, 0)
    _, state = fl.run_line(model, feed, 10.0)
    if not blocked:  # (while blocked they lie in the slow machine's busy period)
        assert state.pst.shape[1] > fl.PERIODS  # widened for one visit's periods
    assert feed.dv.shape[1] > fl.FEED_BLOCKS * 1024  # and the rows for its draws


@pytest.mark.parametrize("release", RELEASES)
def test_visits_redone_when_streams_run_dry(release) -> None:
    """Failures every fraction of a second: failure streams run dry in the middle of
    visits (the visit is done again, its draws given back), also in the middle of the
    check whether a station without buffer is up, after a station with operation-dependent
    failures."""
    stations = {"a": {"process_time": {"exponential": 0.5},
                      "failures": {"mtbf": {"exponential": 0.2}, "mttr": 0.05,
                                   "mode": "operation"}, "scrap": 0.05},
                "b": {"process_time": {"exponential": 0.5}, "buffer": 0,
                      "failures": {"mtbf": {"exponential": 0.3}, "mttr": {"exponential": 0.1}}},
                "c": {"process_time": {"exponential": 0.4}, "buffer": 1, "scrap": 0.05,
                      "failures": {"mtbf": {"exponential": 0.25}, "mttr": 0.05}}}
    slow, fast = on_kernel(line(stations, release, horizon=4000.0, warmup=50.0, seed=2))
    assert_same_records(slow, fast)


def test_summary_agrees_over_replications() -> None:
    sc = line({"a": {"process_time": {"exponential": 1.0}, "failures": TF, "buffer": 1},
               "b": {"process_time": {"gamma": {"mean": 0.9, "cv": 0.7}}, "buffer": 0,
                     "failures": {"mtbf": {"weibull": {"shape": 1.5, "scale": 30}},
                                  "mttr": {"exponential": 4}}}},
              {"conwip": 5}, horizon=2000.0, warmup=100.0, replications=3)
    assert_same(twin.run(sc).summary(), twin.run(sc, engine="flowline").summary())


def test_sweep_rows_equal_full_runs() -> None:
    from twin import sweep as sw
    sc = line({"a": {"process_time": {"exponential": 1.0}, "failures": TF},
               "b": {"process_time": {"exponential": 1.0}, "failures": TF}},
              horizon=3000.0, warmup=100.0, replications=1)
    table = sw.sweep(sc, sw.grid(sc, buffers={"b": [0, 2]}), workers=1)
    assert len(table) == 2
    for _, row in table.iterrows():
        model = sw.apply(build(sc), {"stations.b.buffer": row["stations.b.buffer"]})
        full = fl.simulate(model, 0, model.seed, 100.0)
        assert row["finished"] == measure(full, "product", "u", "finished")
        assert row["lead_time_h"] == pytest.approx(
            measure(full, "product", "u", "lead_time_h"), rel=1e-12)
        assert row["wip_mean"] == pytest.approx(measure(full, "system", "", "wip_mean"),
                                                rel=1e-12)


# --- ties ------------------------------------------------------------------------------------
TIES = {
    # a unit handed by a's completion to idle b at the very instant b fails (20)
    "handover": ({"a": {"process_time": 10}, "b": {"process_time": 1, "buffer": 2,
                                                  "failures": {"mtbf": 20, "mttr": 3}}}, 0.0),
    # the same with no buffer at b (a's offer meets b's failure)
    "handover, no buffer": ({"a": {"process_time": 10},
                             "b": {"process_time": 1, "buffer": 0,
                                   "failures": {"mtbf": 20, "mttr": 3}}}, 0.0),
    # the first unit, begun at time 0, ends at the first failure
    "time 0": ({"a": {"process_time": 10, "failures": {"mtbf": 10, "mttr": 3}}}, 0.0),
    # a repair at the end of the warm-up
    "warm-up": ({"a": {"process_time": 3, "failures": {"mtbf": 7, "mttr": 3}}}, 10.0),
}


def _meets_tie(model, warm: float) -> bool:
    """Does the line kernel stop at a tie on this model (seed 0, replication 0)?"""
    feed = fl.Feed(0, 0)
    state = fl.State(fl.build_line(model, feed, warm), False)
    state.prepare_failures(feed)
    return state.run(feed) == kf.TIE


@pytest.mark.parametrize("name", list(TIES))
def test_ties_go_to_the_event_kernel(name) -> None:
    """Where only SimPy's event order decides, the recursion stops and the replication is
    run again on the event kernel, which keeps SimPy's order: the flowline engine's answer
    is still exactly SimPy's."""
    stations, warm = TIES[name]
    sc = line(stations, horizon=300.0, warmup=warm)
    model = build(sc)
    assert _meets_tie(model, warm)
    _, state = fl.run_line(model, fl.Feed(0, 0), warm)
    assert state.events  # the rerun
    slow = replication.simulate(model, 0, 0, warm)
    fast = fl.simulate(model, 0, 0, warm)
    assert_same_records(slow, fast)
    assert_same(twin.run(sc).summary(), twin.run(sc, engine="flowline").summary())


def _constant_line(draw) -> Scenario:
    """Integer times: failures, repairs, starts and ends coincide often."""
    n = draw(hst.integers(1, 4))
    stations = {}
    for i in range(n):
        st = {"process_time": draw(hst.integers(1, 6))}
        buffer = draw(hst.one_of(hst.none(), hst.integers(0, 2)))
        if buffer is not None:
            st["buffer"] = buffer
        if draw(hst.booleans()):
            st["failures"] = {"mtbf": draw(hst.integers(2, 30)), "mttr": draw(hst.integers(1, 8)),
                              "mode": draw(hst.sampled_from(["time", "time", "operation"]))}
        stations[f"st{i}"] = st
    release = draw(hst.sampled_from(["saturated", {"interarrival": 3}, {"conwip": 3}]))
    return line(stations, release, horizon=float(draw(hst.integers(50, 300))),
                warmup=float(draw(hst.integers(0, 20))), seed=0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hst.composite(_constant_line)())
def test_constant_times_agree_ties_or_not(sc: Scenario) -> None:
    """With constant times the recursion meets simultaneous events often: it orders those
    it can as SimPy does and hands the others to the event kernel; either way, SimPy's
    answer."""
    model = build(sc)
    warm = float(model.warmup)
    assert_same_records(replication.simulate(model, 0, 0, warm),
                        fl.simulate(model, 0, 0, warm))


def test_constant_times_mostly_stay_on_the_kernel() -> None:
    """The tie rules are narrow: a constant line whose failures meet completions and
    repairs meet starts (ordered as SimPy orders them) runs on the kernel."""
    sc = line({"a": {"process_time": 5, "failures": {"mtbf": 45, "mttr": 5}},
               "b": {"process_time": 5, "buffer": 1, "failures": {"mtbf": 20, "mttr": 10}}},
              horizon=1000.0, warmup=0.0)
    slow, fast = on_kernel(sc)
    assert_same_records(slow, fast)


# --- reach -----------------------------------------------------------------------------------
def test_time_failures_of_parallel_machines_in_reach() -> None:
    """Parallel machines with time-dependent failures (or beside them), either mode: the
    event kernel runs them (before, the engine refused them)."""
    doc = {"name": "x", "run": {"horizon": 10}, "products": {"u": {"route": ["a", "b"]}},
           "stations": {"a": {"process_time": 1, "servers": 2,
                              "failures": {"mtbf": 50, "mttr": 5}},
                        "b": {"process_time": 1, "failures": {"mtbf": 50, "mttr": 5}}}}
    assert fl.unsupported(build(Scenario.model_validate(doc))) is None
    doc["stations"]["a"]["failures"]["mode"] = "operation"  # time ones beside them
    assert fl.unsupported(build(Scenario.model_validate(doc))) is None


def test_sweep_layout_with_parallel_machines_and_time_failures() -> None:
    """A sweep layout giving a station with time-dependent failures a second machine: its
    row is the SimPy engine's."""
    from twin import sweep as sw
    stations = {"a": {"process_time": {"exponential": 1.0},
                      "failures": {"mtbf": {"exponential": 50}, "mttr": 5}},
                "b": {"process_time": {"exponential": 0.6}, "buffer": 1}}
    sc = line(stations, horizon=2000.0, warmup=0.0)
    table = sw.sweep(sc, sw.grid(sc, servers={"a": [2]}), workers=1)
    stations["a"]["servers"] = 2
    slow = replication.simulate(build(line(stations, horizon=2000.0, warmup=0.0)), 0, 0, 0.0)
    row = table.iloc[0]
    assert row["finished"] == measure(slow, "product", "u", "finished") > 0
    assert row["lead_time_h"] == pytest.approx(measure(slow, "product", "u", "lead_time_h"),
                                               rel=1e-9)
    assert row["wip_mean"] == pytest.approx(measure(slow, "system", "", "wip_mean"), rel=1e-9)


def test_many_periods_between_hand_overs_to_the_tracker() -> None:
    """Visits that meet many failures (noting many active periods) between visits that
    meet none (noting one each): the period buffers fill at uneven rates and are handed to
    the tracker in time, whatever the mix (the kernel recounts how many units fit)."""
    stations = {"a": {"process_time": {"exponential": 0.5},
                      "failures": {"mtbf": {"exponential": 1.0}, "mttr": 0.1}},
                "b": {"process_time": {"exponential": 0.3}, "buffer": 0}}
    sc = line(stations, {"interarrival": {"exponential": 6.0}}, horizon=15_000.0,
              warmup=10.0, seed=3)
    slow, fast = on_kernel(sc)
    assert_same_records(slow, fast)


def test_sweep_row_of_a_tie_is_the_simpy_engines() -> None:
    """A layout whose replication meets a tie: its row (rerun on the event kernel from
    the sweep's kept draws) is the SimPy engine's."""
    from twin import sweep as sw
    stations, _ = TIES["handover"]
    sc = line(stations, horizon=300.0, warmup=0.0)
    table = sw.sweep(sc, sw.grid(sc, buffers={"b": [2]}), workers=1)
    model = build(sc)
    assert _meets_tie(model, 0.0)
    slow = replication.simulate(model, 0, 0, 0.0)
    row = table.iloc[0]
    assert row["finished"] == measure(slow, "product", "u", "finished") > 0
    assert row["lead_time_h"] == measure(slow, "product", "u", "lead_time_h")
    assert row["wip_mean"] == measure(slow, "system", "", "wip_mean")


# --- parallel machines: the event kernel ------------------------------------------------------
def on_events(sc: Scenario, rep: int = 0):
    """SimPy's records and the event kernel's (no hand-over to SimPy: it has no ties)."""
    model = build(sc)
    warm = float(model.warmup)
    line_, state = fl.run_line(model, fl.Feed(model.seed, rep), warm, events=True)
    assert state.events
    return (replication.simulate(model, rep, model.seed, warm),
            fl.collect(model, line_, state, rep, warm, 0.0))


def test_two_parallel_machines_by_hand() -> None:
    """Two machines, 10 s each, each failing 100 s after its repair (20 s repairs), as the
    one machine of `test_one_machine_by_hand` twice over: each breaks down at 100, 220, ...
    with its tenth unit of a cycle ending after the repair; 2 × 99 units in 1200 s, busy
    2 × 1000 s, down 2 × 200 s (state totals are the machines' sums)."""
    sc = line({"a": {"process_time": 10, "servers": 2,
                     "failures": {"mtbf": 100, "mttr": 20}}}, horizon=1200.0, warmup=0.0)
    slow, fast = on_events(sc)
    assert_same_records(slow, fast)
    assert measure(fast, "product", "u", "finished") == 198
    assert measure(fast, "station", "a", "down_h") * 3600 == pytest.approx(400.0)


P_TF = {"mtbf": {"exponential": 15}, "mttr": {"gamma": {"mean": 2.5, "cv": 0.5}}}
P_OF = {"mtbf": {"exponential": 12}, "mttr": 1.5, "mode": "operation"}
PARALLEL = {
    # two machines with failures feeding one without, no buffer between
    "2 servers, no buffer": {
        "a": {"process_time": {"exponential": 1.6}, "servers": 2, "failures": P_TF},
        "b": {"process_time": {"exponential": 0.7}, "buffer": 0}},
    # three machines behind a finite buffer, scrap, an operation-mode station after
    "3 servers, finite buffer, scrap, mixed modes": {
        "a": {"process_time": {"lognormal": {"mean": 0.8, "cv": 0.4}}, "failures": P_TF},
        "b": {"process_time": {"exponential": 2.0}, "servers": 3, "buffer": 2,
              "scrap": 0.1, "failures": P_TF},
        "c": {"process_time": {"gamma": {"mean": 0.7, "cv": 0.6}}, "servers": 2,
              "buffer": 1, "failures": P_OF}},
    # unlimited buffers, time failures on single and parallel stations alike
    "unlimited buffers": {
        "a": {"process_time": {"exponential": 0.9}, "failures": P_TF},
        "b": {"process_time": {"exponential": 1.7}, "servers": 2, "failures": P_TF},
        "c": {"process_time": {"uniform": [0.5, 1.2]}, "failures": P_OF, "scrap": 0.05}},
    # parallel machines without failures beside a single one with time failures
    "failures on the single machine": {
        "a": {"process_time": {"exponential": 2.1}, "servers": 3, "buffer": 1},
        "b": {"process_time": {"exponential": 0.7}, "buffer": 0, "failures": P_TF}},
}


@pytest.mark.parametrize("release", RELEASES, ids=["saturated", "interarrival", "conwip"])
@pytest.mark.parametrize("warmup", [0.0, 37.0])
@pytest.mark.parametrize("name", list(PARALLEL))
def test_parallel_machines_agree_with_simpy(name, warmup, release) -> None:
    """Every record (state totals, active periods and so the bottleneck, WIP, lead time)
    is SimPy's, on the event kernel; and the summaries through `twin.run`."""
    sc = line(PARALLEL[name], release, horizon=1500.0, warmup=warmup, seed=5)
    slow, fast = on_events(sc)
    assert_same_records(slow, fast)
    assert measure(fast, "product", "u", "finished") > 0


def test_parallel_machines_summary_with_replications() -> None:
    sc = line(PARALLEL["3 servers, finite buffer, scrap, mixed modes"], {"conwip": 5},
              horizon=2000.0, warmup=50.0, seed=2, replications=3)
    fast = twin.run(sc, engine="flowline").summary()
    assert fast["engine"] == "flowline"
    assert_same(twin.run(sc).summary(), fast)


def test_parallel_machines_long_run_with_refills() -> None:
    """Tens of thousands of events: draws refilled, queues and period arrays widened,
    failures striking busy, idle, blocked and just-woken machines."""
    stations = {"a": {"process_time": {"exponential": 0.5}, "servers": 2, "buffer": 40,
                      "failures": {"mtbf": {"exponential": 8}, "mttr": {"exponential": 2}}},
                "b": {"process_time": {"exponential": 0.9}, "servers": 3, "buffer": 0,
                      "failures": P_TF, "scrap": 0.02},
                "c": {"process_time": {"exponential": 0.3}, "failures": P_TF}}
    slow, fast = on_events(line(stations, {"interarrival": {"exponential": 0.45}},
                                horizon=20_000.0, warmup=100.0))
    assert_same_records(slow, fast)


def test_single_machines_on_the_event_kernel() -> None:
    """The event kernel runs lines of single machines with time-dependent failures too
    (exactly, ties included): the hand-picked ties of `TIES`, which the recursion hands to
    the SimPy engine."""
    for stations, warm in TIES.values():
        slow, fast = on_events(line(stations, horizon=300.0, warmup=warm))
        assert_same_records(slow, fast)


def _constant_parallel_line(draw) -> Scenario:
    """Integer times and parallel machines: simultaneous failures, repairs, completions,
    hand-overs to idle machines and the end of the warm-up."""
    n = draw(hst.integers(1, 4))
    wide = draw(hst.integers(0, n - 1))
    stations = {}
    for i in range(n):
        st = {"process_time": draw(hst.integers(1, 6)),
              "servers": draw(hst.integers(2, 3)) if i == wide else draw(hst.integers(1, 3))}
        buffer = draw(hst.one_of(hst.none(), hst.integers(0, 2)))
        if buffer is not None:
            st["buffer"] = buffer
        if draw(hst.booleans()):
            st["scrap"] = 0.1
        if i == wide or draw(hst.booleans()):
            st["failures"] = {"mtbf": draw(hst.integers(2, 30)), "mttr": draw(hst.integers(1, 8)),
                              "mode": "time" if i == wide else
                              draw(hst.sampled_from(["time", "operation"]))}
        stations[f"st{i}"] = st
    release = draw(hst.sampled_from(["saturated", {"interarrival": 3}, {"conwip": 3}]))
    return line(stations, release, horizon=float(draw(hst.integers(50, 300))),
                warmup=float(draw(hst.integers(0, 20))), seed=draw(hst.integers(0, 100)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hst.composite(_constant_parallel_line)())
def test_parallel_constant_times_agree(sc: Scenario) -> None:
    """The event kernel keeps SimPy's event order (the failure process's interruption is
    urgent, handled at once), so every tie resolves as in SimPy: no hand-over needed."""
    slow, fast = on_events(sc)
    assert_same_records(slow, fast)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines(parallel_time_failures=True))
def test_random_parallel_lines_agree_exactly_with_simpy(sc: Scenario) -> None:
    """Random lines (the strategy of test_flowline.py) with parallel machines and
    time-dependent failures: every summary measure is SimPy's."""
    simpy_doc = twin.run(sc).summary()
    fast_doc = twin.run(sc, engine="flowline").summary()
    assert fast_doc["engine"] == "flowline"
    assert_same(simpy_doc, fast_doc)


@pytest.mark.parametrize("long_at", ["a", "b"])
def test_no_failure_timeline_is_walked_past_the_end(long_at) -> None:
    """A process time far longer than the run (a typo: 1e7 s for 10 s) ahead of, or at, a
    station with time-dependent failures: what happens after the end is not measured, so
    the kernel reads each failure timeline only up to the end, about 3600 / 70 failures
    here (walking it to 1e7 s would read some 140,000; at 1e12 s the run never ended);
    the records are still the SimPy engine's."""
    fail = {"mtbf": {"exponential": 60.0}, "mttr": {"exponential": 10.0}}
    stations = {"a": {"process_time": 10.0, "failures": fail},
                "b": {"process_time": 10.0, "buffer": 0, "failures": fail}}
    stations[long_at]["process_time"] = 1e7
    sc = line(stations, horizon=3600.0, warmup=0.0)
    model = build(sc)
    feed = fl.Feed(0, 0, keep=True)  # (positions count every value read)
    line_, state = fl.run_line(model, feed, 0.0)
    drawn = sum(int(feed.dpos[r]) for (purpose, _), r in feed.rows.items()
                if purpose in ("failure", "repair"))
    assert drawn < 1000  # (about 3600 / 70 per stream)
    assert_same_records(replication.simulate(model, 0, 0, 0.0),
                        fl.collect(model, line_, state, 0, 0.0, 0.0))
