"""The flowline engine: exactly the SimPy engine's answer on lines, its reference, its limits.

Both engines draw every station's process times, scrap decisions, failures and arrivals from
the same named streams in the same order, so their summaries must agree to floating-point
precision, not only statistically (hypothesis checks this on many random lines).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst

import twin
from twin.engine import flowline as fl
from twin.engine import replication
from twin.errors import ScenarioError
from twin.kernels import flowline as kf
from twin.model import build
from twin.scenario.schema import Scenario
from twin.streams import draws, stream, uniforms

ROOT = Path(__file__).resolve().parents[1]


def line(stations: dict, release="saturated", horizon=300.0, warmup=20.0, seed=0,
         replications=1) -> Scenario:
    return Scenario.model_validate({
        "name": "line", "run": {"horizon": horizon, "warmup": warmup, "seed": seed,
                                "replications": replications},
        "products": {"u": {"route": list(stations), "release": release}},
        "stations": stations,
    })


TIMELINE_ONLY = ("peak_kw", "peak_at_h", "demand_interval_h")


def assert_same(a, b, path: str = "") -> None:
    """Two summary documents agree to floating-point precision (engine and timing aside)."""
    if isinstance(a, dict):
        assert set(a) == set(b), f"{path}: keys differ: {set(a) ^ set(b)}"
        for key in a:
            if path == "" and key in ("engine", "timing"):
                continue
            if path == ".energy" and key in TIMELINE_ONLY:
                continue  # from the per-interval timeline, which only the SimPy engine keeps
            if path == ".bottleneck" and key == "station":
                share = a["share"]
                assert math.isclose(share[a[key]], share[b[key]], rel_tol=1e-9), path
                continue
            assert_same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(
            a, b, rel_tol=1e-9, abs_tol=1e-12), f"{path}: simpy {a!r}, flowline {b!r}"
    else:
        assert a == b, f"{path}: simpy {a!r}, flowline {b!r}"


SIMPY_ONLY = ("peak_station_kw", "peak_start_h", "peak_end_h")  # its 15-minute demand tracker


def assert_same_records(a: replication.ReplicationResult, b: replication.ReplicationResult):
    ours = [m for m in a.measures if m[2] not in SIMPY_ONLY]
    assert [m[:3] for m in ours] == [m[:3] for m in b.measures]
    for x, y in zip(ours, b.measures):
        u, v = float(x[3]), float(y[3])
        assert (math.isnan(u) and math.isnan(v)) or math.isclose(
            u, v, rel_tol=1e-9, abs_tol=1e-12), f"{x[:3]}: simpy {u!r}, flowline {v!r}"
    # bottleneck hours are among the measures; neither engine keeps periods by default
    assert a.active_periods == {} and b.active_periods == {}


def records_both(sc: Scenario, replication_number: int = 0):
    model = build(sc)
    warm = float(model.warmup)
    return (replication.simulate(model, replication_number, model.seed, warm),
            fl.simulate(model, replication_number, model.seed, warm))


# --- random lines ---------------------------------------------------------------------------
def _dist(draw, mean: float) -> dict:
    kind = draw(hst.sampled_from(
        ["exponential", "lognormal", "gamma", "erlang", "uniform", "triangular", "weibull",
         "normal"]))
    cv = draw(hst.floats(0.1, 1.2))
    if kind == "exponential":
        return {"exponential": mean}
    if kind in ("lognormal", "gamma"):
        return {kind: {"mean": mean, "cv": cv}}
    if kind == "erlang":
        return {"erlang": {"mean": mean, "k": draw(hst.integers(1, 4))}}
    if kind == "uniform":
        return {"uniform": [mean * 0.5, mean * 1.5]}
    if kind == "triangular":
        return {"triangular": [mean * 0.5, mean * 0.8, mean * 1.7]}
    if kind == "weibull":
        return {"weibull": {"shape": draw(hst.floats(0.8, 3.0)), "scale": mean}}
    return {"normal": {"mean": mean, "sd": mean * cv / 2}}


@hst.composite
def lines(draw, parallel_time_failures: bool = False) -> Scenario:
    """Random lines; `parallel_time_failures`: some station has parallel machines and some
    (maybe another) time-dependent failures."""
    n = draw(hst.integers(1, 6))
    wide = draw(hst.integers(0, n - 1))  # (with parallel_time_failures) parallel machines
    timed = draw(hst.integers(0, n - 1))  # and time-dependent failures here
    stations = {}
    for i in range(n):
        st = {"process_time": _dist(draw, draw(hst.floats(0.4, 2.0))),
              "servers": draw(hst.sampled_from([1, 1, 2, 3]))}
        if parallel_time_failures and i == wide:
            st["servers"] = draw(hst.sampled_from([2, 3]))
        buffer = draw(hst.one_of(hst.none(), hst.integers(0, 5)))
        if buffer is not None:
            st["buffer"] = buffer
        if draw(hst.booleans()):
            st["scrap"] = draw(hst.floats(0.01, 0.2))
        if draw(hst.booleans()):
            mode = draw(hst.sampled_from(["operation", "time"]))
            mtbf = {"exponential": draw(hst.floats(3.0, 40.0))} if mode == "operation" \
                else _dist(draw, draw(hst.floats(3.0, 40.0)))
            st["failures"] = {"mtbf": mtbf, "mttr": _dist(draw, draw(hst.floats(0.3, 4.0))),
                              "mode": mode}
        if parallel_time_failures and i == timed and st.get("failures", {}).get("mode") != "time":
            st["failures"] = {"mtbf": _dist(draw, draw(hst.floats(3.0, 40.0))),
                              "mttr": _dist(draw, draw(hst.floats(0.3, 4.0))), "mode": "time"}
        st["power_kw"] = {"busy": 10.0, "starved": 1.0, "blocked": 2.0, "down": 0.5}
        stations[f"st{i}"] = st
    release = draw(hst.one_of(
        hst.just("saturated"),
        hst.builds(lambda m: {"interarrival": {"exponential": m}}, hst.floats(0.5, 3.0)),
        hst.builds(lambda w: {"conwip": w}, hst.integers(1, 10))))
    return line(stations, release, horizon=draw(hst.floats(150.0, 400.0)),
                warmup=draw(hst.floats(1.0, 50.0)), seed=draw(hst.integers(0, 10_000)),
                replications=2)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines())
def test_random_lines_agree_exactly_with_simpy(sc: Scenario) -> None:
    simpy_doc = twin.run(sc).summary()
    fast_doc = twin.run(sc, engine="flowline").summary()
    assert fast_doc["engine"] == "flowline"
    assert_same(simpy_doc, fast_doc)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines())
def test_random_lines_records_and_both_kernels(sc: Scenario) -> None:
    """Every record and active period; and the event kernel agrees with the recursion."""
    slow, fast = records_both(sc, 1)
    assert_same_records(slow, fast)
    model = build(sc)
    timed = any(st.failures and not st.failures.operation_dependent for st in model.stations)
    if timed:  # continuous times meet no tie: a kernel itself gave these records
        line_, state = fl.run_line(model, fl.Feed(model.seed, 1), float(model.warmup))
        assert_same_records(slow, fl.collect(model, line_, state, 1, float(model.warmup), 0))
    if all(st.servers == 1 for st in model.stations):
        line_, state = fl.run_line(model, fl.Feed(model.seed, 1), float(model.warmup),
                                   events=True)
        assert state.events
        assert_same_records(slow, fl.collect(model, line_, state, 1, float(model.warmup), 0))


# --- fixed cases ---------------------------------------------------------------------------
FAILING = {"mtbf": {"exponential": 20}, "mttr": {"gamma": {"mean": 3, "cv": 0.5}},
           "mode": "operation"}


@pytest.mark.parametrize("release", ["saturated", {"interarrival": {"exponential": 1.2}},
                                     {"conwip": 6}])
@pytest.mark.parametrize("servers", [1, 2])
def test_long_line_with_refills_and_growth(release, servers) -> None:
    """Thousands of units: draws refilled, rings, queues and period arrays widened."""
    stations = {f"s{i}": {"process_time": {"lognormal": {"mean": 1.0, "cv": 0.6}},
                          "servers": servers if i == 1 else 1, "scrap": 0.03,
                          "failures": FAILING, "buffer": [2, 300, 1][i]}
                for i in range(3)}
    stations["s2"].pop("buffer")  # unlimited
    slow, fast = records_both(line(stations, release, horizon=12_000.0, warmup=100.0))
    assert_same_records(slow, fast)


def test_constant_times_with_ties_agree(tmp_path) -> None:
    """Constant times make events simultaneous; the event kernel keeps SimPy's order."""
    stations = {"a": {"process_time": 2.0, "servers": 2, "buffer": 0},
                "b": {"process_time": 1.0, "buffer": 1},
                "c": {"process_time": 3.0, "servers": 3, "buffer": 0}}
    for release in ("saturated", {"interarrival": 1.0}, {"conwip": 5}):
        slow, fast = records_both(line(stations, release, horizon=200.0, warmup=10.0))
        assert_same_records(slow, fast)


def test_single_machines_tie_at_warmup_falls_back_to_events() -> None:
    """An event exactly at the end of warm-up: SimPy's event order decides what counts."""
    stations = {"a": {"process_time": 2.0}, "b": {"process_time": 1.0, "buffer": 0}}
    sc = line(stations, horizon=100.0, warmup=10.0)
    model = build(sc)
    _, state = fl.run_line(model, fl.Feed(0, 0), 10.0)
    assert state.events  # the recursion met the tie and handed over
    assert_same_records(*records_both(sc))


@pytest.mark.parametrize("w", [1, 2, 3, 4, 6, 10])
def test_penny_fab_best_case(w: int) -> None:
    """Factory Physics' Penny Fab One, constant 2 h: TH = min(w/8, 0.5), CT = max(8, 2w)."""
    sc = twin.load(ROOT / "scenarios" / "validation" / "penny_fab_best.yaml",
                   overrides=[f"products.pf.release={{conwip: {w}}}"])
    doc = twin.run(sc, engine="flowline").summary()
    assert doc["products"]["pf"]["throughput_per_h"]["mean"] == pytest.approx(min(w / 8, 0.5))
    assert doc["products"]["pf"]["lead_time_h"]["mean"] == pytest.approx(max(8, 2 * w))
    assert_same(twin.run(sc).summary(), doc)


@pytest.mark.parametrize("modes", ["operation", "time and operation"])
def test_reference_recursion_agrees_with_kernel(modes) -> None:
    """`reference_line` (plain Python, whole lists) against `line_kernel`; with
    time-dependent failures on every other station in the second case."""
    timed = [modes != "operation" and i % 2 == 0 for i in range(4)]
    stations = {f"s{i}": {"process_time": {"gamma": {"mean": 1.0, "cv": 0.8}},
                          "buffer": i % 3, "scrap": 0.05 * (i % 2),
                          "failures": {**FAILING, "mode": "time" if timed[i] else "operation"}}
                for i in range(4)}
    for release in ("saturated", {"interarrival": {"exponential": 1.4}}, {"conwip": 4}):
        sc = line(stations, release, horizon=3000.0, warmup=200.0, seed=5)
        model = build(sc)
        _, state = fl.run_line(model, fl.Feed(5, 0), 200.0)
        assert not state.events

        def rng(purpose, entity):
            return stream(5, 0, purpose, entity)

        sts = model.stations
        ref = kf.reference_line(
            rooms=[None if math.isinf(s.capacity) else int(s.capacity) + 1 for s in sts],
            scrap=[s.scrap for s in sts],
            ptimes=[draws(s.process_time.sample, rng("process", s.name)) for s in sts],
            uniforms=[uniforms(rng("scrap", s.name)) if s.scrap else None for s in sts],
            ttf=[draws(s.failures.mtbf.sample, rng("failure", f"{s.name}/0")) for s in sts],
            ttr=[draws(s.failures.mttr.sample, rng("repair", f"{s.name}/0")) for s in sts],
            kind=model.products[0].release and state.line.par_i[kf.P_KIND],
            conwip=model.products[0].conwip,
            gaps=draws(model.products[0].interarrival.sample, rng("arrivals", "u"))
            if model.products[0].interarrival else None,
            w=200.0, end=3200.0, timed=timed)
        sf, si, gf, gi = state.sf, state.si, state.gf, state.gi
        for col, key in ((kf.BUSY, "busy"), (kf.STARVED, "starved"), (kf.BLOCKED, "blocked"),
                         (kf.DOWN, "down"), (kf.F_QAREA, "queue_area"),
                         (kf.F_WAIT, "wait_sum")):
            np.testing.assert_allclose(sf[:, col], ref[key], rtol=1e-9, atol=1e-9)
        for col, key in ((kf.I_WAITS, "waits"), (kf.I_PROD, "produced"),
                         (kf.I_SCRAP, "scrapped_at")):
            assert list(si[:, col]) == ref[key]
        assert (gi[kf.G_REL], gi[kf.G_FIN], gi[kf.G_SCR]) == (
            ref["released"], ref["finished"], ref["scrapped"])
        assert gf[kf.G_LEAD] == pytest.approx(ref["lead_sum"], rel=1e-12)
        assert gf[kf.G_WIPAREA] == pytest.approx(ref["wip_area"], rel=1e-12)


def test_memory_stays_bounded_in_a_long_run() -> None:
    """Streaming draws: a long run holds a few blocks per stream, not every draw."""
    stations = {f"s{i}": {"process_time": {"exponential": 1.0}, "buffer": 3} for i in range(3)}
    model = build(line(stations, horizon=200_000.0, warmup=0.0))
    feed = fl.Feed(0, 0)
    _, state = fl.run_line(model, feed, 0.0)
    assert state.si[0, kf.I_ARR] > 100_000
    assert feed.dv.shape[1] == fl.FEED_BLOCKS * 1024
    assert state.ring.shape[1] <= 8


# --- refusals -------------------------------------------------------------------------------
def _refusal(**changes) -> str:
    base = {"name": "x", "run": {"horizon": 10},
            "products": {"u": {"route": ["a", "b"]}},
            "stations": {"a": {"process_time": 1}, "b": {"process_time": 1}}}
    for key, value in changes.items():
        base[key] = value
    with pytest.raises(ScenarioError) as err:
        twin.run(Scenario.model_validate(base), engine="flowline")
    return str(err.value)


def test_refuses_rework() -> None:
    msg = _refusal(products={"u": {"route": ["a", {"station": "b",
                                                   "rework": {"p": 0.1, "to": "a"}}]}})
    assert "products.u.route[1].rework" in msg and "engine: simpy" in msg


def test_refuses_two_products() -> None:
    msg = _refusal(products={"u": {"route": ["a", "b"]}, "v": {"route": ["a", "b"]}})
    assert "products: 2 products (u, v)" in msg and "engine: simpy" in msg


def test_time_failures_of_parallel_machines_in_reach() -> None:
    """Time-dependent failures on a line with parallel machines: the event kernel's."""
    for stations in ({"a": {"process_time": 1, "failures": {"mtbf": 50, "mttr": 5},
                            "servers": 2}, "b": {"process_time": 1}},
                     {"a": {"process_time": 1, "failures": {"mtbf": 50, "mttr": 5}},
                      "b": {"process_time": 1, "servers": 3}}):
        sc = line(stations)
        assert fl.unsupported(build(sc)) is None
        assert twin.run(sc, engine="flowline").summary()["engine"] == "flowline"


def test_refuses_station_off_the_route_and_revisits() -> None:
    assert "stations.b: not on the route" in _refusal(products={"u": {"route": ["a"]}})
    msg = _refusal(products={"u": {"route": ["a", "b", "a"]}})
    assert "products.u.route[2]" in msg and "second time" in msg


# --- without the JIT ----------------------------------------------------------------------
NO_JIT_SCRIPT = """
import math, numpy as np
from twin.engine import flowline as fl, replication
from twin.model import build
from twin.scenario.schema import Scenario
st = {"a": {"process_time": {"exponential": 1}, "servers": 2, "buffer": 1, "scrap": 0.1,
            "failures": {"mtbf": {"exponential": 9}, "mttr": 1.5, "mode": "operation"}},
      "b": {"process_time": {"gamma": {"mean": 0.7, "cv": 0.5}}, "buffer": 0}}
for servers in (1, 2):
    st["a"]["servers"] = servers
    st["b"]["failures"] = {"mtbf": {"exponential": 6}, "mttr": 0.8}  # time-dependent
    for release in ("saturated", {"interarrival": {"exponential": 1.0}}, {"conwip": 3}):
        m = build(Scenario.model_validate({"name": "x", "run": {"horizon": 80, "warmup": 7},
              "products": {"u": {"route": ["a", "b"], "release": release}}, "stations": st}))
        a = replication.simulate(m, 0, 3, 7.0)
        b = fl.simulate(m, 0, 3, 7.0)
        ours = [x for x in a.measures if not x[2].startswith("peak_")]  # SimPy's only
        assert [x[:3] for x in ours] == [y[:3] for y in b.measures]
        for x, y in zip(ours, b.measures):
            u, v = float(x[3]), float(y[3])
            assert (math.isnan(u) and math.isnan(v)) or math.isclose(u, v, rel_tol=1e-9,
                                                                      abs_tol=1e-12), (x, y)
print("ok")
"""


def test_kernels_without_jit_agree() -> None:
    """NUMBA_DISABLE_JIT=1: the kernels run as plain Python and still agree with SimPy."""
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    proc = subprocess.run([sys.executable, "-c", NO_JIT_SCRIPT], capture_output=True,
                          text=True, env=env, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


@pytest.mark.parametrize("events", [False, True])
def test_kernels_bottleneck_in_memory_that_does_not_grow(events) -> None:
    """The kernels hand active periods to the compiled tracker in batches: a run eight
    times as long holds no more periods at once, and the bottleneck hours are the SimPy
    engine's (its own online tracker)."""
    stations = {f"s{i}": {"process_time": {"exponential": 1.0}, "buffer": 3} for i in range(6)}
    held, added = [], []
    for horizon in (100_000.0, 800_000.0):
        model = build(line(stations, horizon=horizon, warmup=0.0))
        line_, state = fl.run_line(model, fl.Feed(0, 0), 0.0, events=events)
        assert state.pst.shape[1] == fl.PERIODS  # never widened
        held.append(state.tracker.most_held)
        added.append(state.tracker.added)
        if horizon == 100_000.0:
            assert_same_records(replication.simulate(model, 0, 0, 0.0),
                                fl.collect(model, line_, state, 0, 0.0, 0))
    # periods keep coming, many more than fit in the stations' buffers at once ...
    assert added[1] > 3 * added[0] > 0 and added[1] > 2 * len(stations) * fl.PERIODS, added
    # ... but at most the buffers' worth of periods and their runs and links is ever held
    assert max(held) <= 3 * len(stations) * fl.PERIODS, held
