"""Experiments: replications on any backend, failures as data, auto rules, the summary."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import twin
from twin import ScenarioError
from twin.streams import stream, uniforms

SMALL = """\
    name: small line
    run: {horizon: "20 h", replications: 4, seed: 7}
    products:
      p: {route: [a, b], release: {interarrival: {exponential: "3 min"}}, energy_kwh: 2.0}
      q: {route: [b], release: saturated}
    stations:
      a:
        process_time: {exponential: "2 min"}
        power_kw: {busy: 5, starved: 1}
      b:
        process_time: {exponential: "1 min"}
        buffer: 3
        scrap: 0.02
        failures: {mtbf: {exponential: "2 h"}, mttr: {exponential: "10 min"}}
        power_kw: {busy: 8, starved: 2, down: 0.5}
"""


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def without_timing(doc: dict) -> str:
    doc = dict(doc)
    doc.pop("timing")
    return json.dumps(doc, sort_keys=True)


def test_same_summary_serial_processes_and_dask(tmp_path):
    pytest.importorskip("distributed")
    scenario = twin.load(write(tmp_path, SMALL))
    serial = twin.run(scenario, workers=1).summary()
    pool = twin.run(scenario, workers=2).summary()
    dask = twin.run(scenario, workers=2, dask="local").summary()
    assert without_timing(serial) == without_timing(pool) == without_timing(dask)
    assert serial["replications"] == 4 and serial["run"]["replications_ok"] == 4


# --- failures are data ------------------------------------------------------------------------
LOOP = """\
    name: sometimes deadlocks
    run: {horizon: "10.5 min", replications: 8, seed: 3}
    products:
      p: {route: [a, {station: b, rework: {p: 0.05, to: a}}]}
    stations:
      a: {process_time: "1 min", buffer: 0}
      b: {process_time: "1 min", buffer: 0}
"""


def deadlocking(seed: int, reps: int) -> set[int]:
    """Any rework draw below p among b's 9 completions (2, 3, ..., 10 min) deadlocks."""
    out = set()
    for r in range(reps):
        u = uniforms(stream(seed, r, "rework", "p/1"))
        if min(next(u) for _ in range(9)) < 0.05:
            out.add(r)
    return out


@pytest.mark.parametrize("workers", [1, 2])
def test_failed_replications_are_recorded_and_the_rest_go_on(tmp_path, workers):
    expected = deadlocking(3, 8)
    assert 0 < len(expected) < 8
    out = tmp_path / "out"
    r = twin.run(twin.load(write(tmp_path, LOOP)), workers=workers, out=out)
    s = r.summary()
    assert s["replications"] == 8
    assert s["run"]["replications_ok"] == 8 - len(expected)
    assert {f["replication"] for f in s["run"]["failed_replications"]} == expected
    assert all("deadlock" in f["error"] for f in s["run"]["failed_replications"])
    # the KPIs are over the replications that completed
    m = r.measures
    finished = m[(m["measure"] == "finished")].set_index("replication")["value"]
    assert sorted(finished.index) == sorted(set(range(8)) - expected)
    assert s["products"]["p"]["finished"]["mean"] == pytest.approx(finished.mean())
    # and each failure is saved with its error
    for rep in expected:
        record = json.loads((out / "replications" / f"r{rep:05d}.json").read_text())
        assert record["status"] == "failed" and "deadlock" in record["error"]


def test_an_exception_in_a_replication_is_recorded_not_raised(tmp_path, monkeypatch):
    """A replication that raises (here: a broken engine for replication 1) is recorded with
    its error; the others finish normally."""
    import twin.engine.replication as engine

    real = engine.simulate

    def flaky(model, replication, seed, warmup):
        if replication == 1:
            raise ValueError("boom in replication 1")
        return real(model, replication, seed, warmup)

    monkeypatch.setattr(engine, "simulate", flaky)
    r = twin.run(twin.load(write(tmp_path, SMALL)), replications=3, workers=1)
    s = r.summary()
    (failure,) = s["run"]["failed_replications"]
    assert failure["replication"] == 1 and "boom in replication 1" in failure["error"]
    assert s["run"]["replications_ok"] == 2
    assert s["deadlocks"] == []


# --- automatic rules --------------------------------------------------------------------------
AUTO = """\
    name: auto
    run: {{horizon: "5 h", replications: auto, seed: 1, precision: {precision},
          max_replications: {limit}}}
    products:
      p: {{route: [a], release: {{interarrival: {{exponential: "2 min"}}}}}}
    stations:
      a: {{process_time: {{exponential: "1.5 min"}}}}
"""


def relative_half_width(values: np.ndarray) -> float:
    n = len(values)
    half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n)
    return half / values.mean()


def throughputs(results: twin.Results) -> np.ndarray:
    m = results.measures
    return m[m["measure"] == "throughput_per_h"].groupby("replication")["value"].sum().to_numpy()


def test_auto_replications_stop_at_the_target_precision(tmp_path):
    r = twin.run(twin.load(write(tmp_path, AUTO.format(precision=0.012, limit=200))))
    s = r.summary()
    values = throughputs(r)
    n = s["replications"]
    assert n == len(values) == s["run"]["replications_ok"]
    assert 5 < n <= 200
    assert relative_half_width(values) <= 0.012
    assert relative_half_width(values[:5]) > 0.012  # five were not enough
    assert s["run"]["replications_rule"].startswith("auto")


def test_auto_replications_never_exceed_the_maximum(tmp_path):
    r = twin.run(twin.load(write(tmp_path, AUTO.format(precision=0.0005, limit=7))), workers=2)
    assert r.summary()["replications"] == 7
    assert relative_half_width(throughputs(r)) > 0.0005


def test_auto_warmup_is_positive_for_a_line_that_starts_empty(tmp_path):
    """a (1 min) feeds b (2 min) through a buffer of 50: the buffer fills by one unit every
    2 min and is full after about 100 min; from then on the WIP is constant at 52. MSER-5
    deletes batches of 5 x 15 min, so it must delete at least 100 min and needs at most one
    batch more."""
    r = twin.run(twin.load(write(tmp_path, """\
        name: filling
        run: {horizon: "10 h", warmup: auto, replications: 2, seed: 1}
        products:
          p: {route: [a, b]}
        stations:
          a: {process_time: "1 min"}
          b: {process_time: "2 min", buffer: 50}
    """)))
    s = r.summary()
    assert 100 / 60 <= s["warmup_h"] <= (100 + 75) / 60
    assert "MSER-5" in s["run"]["warmup_rule"]
    # the experiment proper starts after that warm-up: the line is full
    assert s["wip"]["mean"] == pytest.approx(52)
    assert s["wip"]["ci95"] == pytest.approx([52, 52])


def test_auto_warmup_is_zero_for_a_system_in_steady_state_from_the_start(tmp_path):
    """A closed loop of 6 units has 6 units in it from time 0: nothing to delete."""
    s = twin.run(twin.load(write(tmp_path, """\
        name: closed
        run: {horizon: "10 h", warmup: auto, replications: 2, seed: 1}
        products:
          p: {route: [a, b], release: {conwip: 6}}
        stations:
          a: {process_time: {exponential: "1 min"}}
          b: {process_time: {exponential: "1.2 min"}, buffer: 2}
    """))).summary()
    assert s["warmup_h"] == 0


# --- the summary document ---------------------------------------------------------------------
def assert_stat(x, what: str) -> None:
    assert isinstance(x, dict) and set(x) == {"mean", "ci95"}, what
    lo, hi = x["ci95"]
    if x["mean"] is not None:
        assert lo <= x["mean"] <= hi, what


def test_summary_has_every_fixed_field_with_its_shape(tmp_path):
    s = twin.run(twin.load(write(tmp_path, SMALL)), replications=3).summary()
    assert s["scenario"] == "small line" and s["engine"] == "simpy"
    assert s["replications"] == 3 and s["seed"] == 7
    assert s["horizon_h"] == 20.0 and s["warmup_h"] == 0.0
    assert set(s["products"]) == {"p", "q"}
    for name, product in s["products"].items():
        for key in ("finished", "scrapped", "throughput_per_h", "lead_time_h"):
            assert_stat(product[key], f"{name}.{key}")
    assert_stat(s["products"]["p"]["gwh_per_year"], "gwh_per_year")
    assert_stat(s["wip"], "wip")
    assert set(s["stations"]) == {"a", "b"}
    for name, st in s["stations"].items():
        for key in ("utilization", "queue_mean", "wait_h", "energy_kwh", "oee"):
            assert_stat(st[key], f"{name}.{key}")
        assert set(st["states"]) == {"busy", "starved", "blocked", "down", "setup", "off_shift"}
        assert sum(st["states"].values()) == pytest.approx(1.0)
    assert s["bottleneck"]["method"] == "active-period"
    assert s["bottleneck"]["station"] in {"a", "b"}
    assert set(s["bottleneck"]["share"]) == {"a", "b"}
    assert_stat(s["energy"]["total_kwh"], "total_kwh")
    assert_stat(s["energy"]["kwh_per_unit"], "kwh_per_unit")
    assert set(s["timing"]) >= {"total_s", "simulate_s"}
    assert 0 <= s["timing"]["simulate_s"] <= s["timing"]["total_s"]
    assert s["deadlocks"] == []
    json.dumps(s)  # plain JSON


def test_summary_intervals_are_student_t_over_replications(tmp_path):
    r = twin.run(twin.load(write(tmp_path, SMALL)), replications=3)
    s = r.summary()
    m = r.measures
    tp = m[(m["entity"] == "p") & (m["measure"] == "throughput_per_h")]["value"].to_numpy()
    half = stats.t.ppf(0.975, 2) * tp.std(ddof=1) / math.sqrt(3)
    assert s["products"]["p"]["throughput_per_h"]["mean"] == pytest.approx(tp.mean())
    assert s["products"]["p"]["throughput_per_h"]["ci95"] == pytest.approx(
        [tp.mean() - half, tp.mean() + half])
    gwh = tp * 2.0 * 8760 / 1e6  # throughput x energy_kwh x 8760 / 1e6
    assert s["products"]["p"]["gwh_per_year"]["mean"] == pytest.approx(gwh.mean())


def test_one_replication_gives_a_point_interval(tmp_path):
    s = twin.run(twin.load(write(tmp_path, SMALL)), replications=1).summary()
    tp = s["products"]["p"]["throughput_per_h"]
    assert tp["ci95"] == [tp["mean"], tp["mean"]]
    assert s["wip"]["ci95"] == [s["wip"]["mean"], s["wip"]["mean"]]


def test_run_settings_override_the_scenario(tmp_path):
    scenario = twin.load(write(tmp_path, SMALL))
    s = twin.run(scenario, replications=2, seed=11, horizon="3 h", warmup="30 min").summary()
    assert (s["replications"], s["seed"], s["horizon_h"], s["warmup_h"]) == (2, 11, 3.0, 0.5)
    m = twin.run(scenario, replications=1, horizon=7200).measures
    assert m[m["measure"] == "period_h"]["value"].tolist() == [2.0]


@pytest.mark.parametrize("option, value", [
    ("replications", 0), ("replications", -3), ("replications", "many"),
    ("replications", 2.5), ("seed", -1), ("seed", "abc"), ("seed", 1.5),
    ("horizon", "5 sec"), ("horizon", 0), ("horizon", -60), ("horizon", "inf"),
    ("horizon", "20000 w"), ("warmup", -1), ("warmup", "2 parsecs"), ("engine", "gpss"),
])
def test_bad_run_settings_are_scenario_errors(tmp_path, option, value):
    # max_wall: a setting that slips through fails in seconds instead of running for ages
    scenario = twin.load(write(tmp_path, SMALL), overrides=["run.max_wall=1 s",
                                                             "run.replications=1"])
    with pytest.raises(ScenarioError) as err:
        twin.run(scenario, **{option: value})
    assert option in str(err.value)
