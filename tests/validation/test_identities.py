"""Identities that hold on every scenario (validation.md, "Identities").

Most run on scenarios/validation/identities.yaml: three products (closed loop, open arrivals,
saturated), scrap, rework, both kinds of failures, finite buffers with blocking and power in
every state. Little's law also runs on theory cases that other modules simulate (the runs
are cached, so they cost nothing extra when the whole suite runs).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from twin.analysis.stats import ci95
from twin.units import parse_duration

STATES = ("busy", "starved", "blocked", "down", "setup", "off_shift")
NO_SCRAP = ("stations.cut.scrap=0", "stations.paint.scrap=0")


def _system(res) -> pd.DataFrame:
    sub = res.measures[res.measures["kind"] == "system"]
    return sub.pivot(index="replication", columns="measure", values="value")


@pytest.fixture(scope="module")
def results(cases):
    return cases.results("identities.yaml")


@pytest.fixture(scope="module")
def stations(results) -> pd.DataFrame:
    return results.stations()


@pytest.fixture(scope="module")
def system(results) -> pd.DataFrame:
    return _system(results)


@pytest.fixture(scope="module")
def spec(cases) -> dict:
    """The scenario file as written: the numbers the identities are checked against."""
    with open(cases.path("identities.yaml")) as f:
        return yaml.safe_load(f)


def test_scenario_exercises_every_mechanism(results, stations) -> None:
    """Guard the identities against a scenario that quietly stopped stressing the engine."""
    products = results.products()
    assert (products.groupby(level="entity")["scrapped"].sum() > 0).sum() >= 2
    assert (stations["reworked"] > 0).any()
    for state in ("busy", "starved", "blocked", "down"):
        assert (stations[state] > 0.005).any(), f"no station spends time {state}"
    assert (stations["servers"] > 1).any()


# Runs the exact identities are checked on: the identities scenario plus cached theory cases.
RUNS = {
    "identities": ("identities.yaml", ()),
    "identities without scrap": ("identities.yaml", NO_SCRAP),
    "M/M/1": ("mm1.yaml", ()),
    "tandem": ("tandem.yaml", ()),
    "Penny Fab exponential w=6": ("penny_fab_exp.yaml", ("products.pf.release={conwip: 6}",)),
    "Penny Fab best w=10": ("penny_fab_best.yaml", ("products.pf.release={conwip: 10}",)),
}


@pytest.mark.parametrize("run", list(RUNS))
def test_flow_balance(cases, run: str) -> None:
    """released = finished + scrapped + wip change, exactly, in every replication."""
    res = cases.results(RUNS[run][0], *RUNS[run][1])
    system = _system(res)
    totals = res.products().groupby(level="replication").sum()
    change = system["wip_end"] - system["wip_start"]
    balance = totals["released"] - totals["finished"] - totals["scrapped"] - change
    assert (balance == 0).all(), f"{run}: flow balance broken: {balance.to_dict()}"
    assert (totals["finished"] > 100).all()


@pytest.mark.parametrize("run", list(RUNS))
def test_state_fractions_sum_to_one(cases, run: str) -> None:
    res = cases.results(RUNS[run][0], *RUNS[run][1])
    stations, system = res.stations(), _system(res)
    fractions = stations[list(STATES)]
    assert (fractions >= 0).all().all() and (fractions <= 1).all().all()
    np.testing.assert_allclose(fractions.sum(axis=1), 1.0, rtol=0, atol=1e-9)
    # and in hours: Σ state time = servers × measured period
    period = stations.index.get_level_values("replication").map(system["period_h"])
    hours = stations[[f"{s}_h" for s in STATES]].sum(axis=1)
    np.testing.assert_allclose(hours, stations["servers"] * period.to_numpy(float), rtol=1e-12)


def _longest_h(dist) -> float:
    """Largest value (hours) of the bounded process-time distributions used in the file."""
    if isinstance(dist, (str, int, float)):
        return parse_duration(dist) / 3600
    (kind, params), = dist.items()
    assert kind in ("uniform", "triangular", "empirical"), f"unbounded {kind}"
    return max(parse_duration(p) for p in params) / 3600


def test_busy_time_is_work_done(stations, system, spec) -> None:
    """busy fraction × servers × period = Σ process times of the units completed in the
    period, up to the units in process at its two ends. The gap is (busy time in the period
    of units unfinished at its end) − (busy time before the period of units finished in it);
    each term is at most one unit per machine, so |gap| ≤ servers × longest process time."""
    for (rep, name), row in stations.iterrows():
        st = spec["stations"][name]
        servers = st.get("servers", 1)
        busy_h = row["busy"] * servers * system.loc[rep, "period_h"]
        bound = servers * _longest_h(st["process_time"])
        gap = busy_h - row["process_h"]
        assert abs(gap) <= bound + 1e-9, (
            f"replication {rep} {name}: busy {busy_h:.4f} h vs work "
            f"{row['process_h']:.4f} h, gap {gap:.4f} h > {bound:.4f} h")
        assert abs(gap) / busy_h < 0.01


def test_energy_is_power_times_state_time(results, stations, spec) -> None:
    """With constant powers, energy = Σ power × state time, exactly (from the file's powers)."""
    for (rep, name), row in stations.iterrows():
        power = spec["stations"][name].get("power_kw", {})
        # the power is per machine and state hours are summed over the station's machines
        expected = sum(power.get(s, 0.0) * row[f"{s}_h"] for s in STATES)
        assert math.isclose(row["energy_kwh"], expected, rel_tol=1e-9), (rep, name)
        assert row["energy_kwh"] > 0
    doc = results.summary()
    per_rep = stations.groupby(level="replication")["energy_kwh"].sum()
    assert doc["energy"]["total_kwh"]["mean"] == pytest.approx(per_rep.mean(), rel=1e-12)
    for name, st in doc["stations"].items():
        mean = stations.xs(name, level="entity")["energy_kwh"].mean()
        assert st["energy_kwh"]["mean"] == pytest.approx(mean, rel=1e-12)


# --- Little's law ---------------------------------------------------------------------------
def _little_gap(res) -> np.ndarray:
    """Per replication: wip − Σ throughput × lead time, relative to wip."""
    prod = res.products()
    flow = (prod["throughput_per_h"] * prod["lead_time_h"]).groupby(level="replication").sum()
    sub = res.measures[(res.measures["kind"] == "system") & (res.measures["measure"] == "wip_mean")]
    wip = sub.set_index("replication")["value"]
    return ((wip - flow) / wip).to_numpy(float)


LITTLE_CASES = {
    "M/M/1": ("mm1.yaml", ()),
    "tandem": ("tandem.yaml", ()),
    "Penny Fab exponential w=6": ("penny_fab_exp.yaml", ("products.pf.release={conwip: 6}",)),
    "identities without scrap": ("identities.yaml", NO_SCRAP),
}


@pytest.mark.parametrize("case", list(LITTLE_CASES))
def test_littles_law(cases, case: str) -> None:
    """wip = Σ throughput × lead time up to end effects: the mean relative gap over the
    replications is within its sampling error (95% CI contains 0) or below 0.1%, and no
    replication is off by 1%."""
    name, overrides = LITTLE_CASES[case]
    gap = _little_gap(cases.results(name, *overrides))
    stat = ci95(gap)
    lo, hi = stat["ci95"]
    assert lo <= 0.0 <= hi or abs(stat["mean"]) < 1e-3, f"{case}: relative gap {stat}"
    assert np.all(np.abs(gap) < 0.01), f"{case}: relative gaps {gap}"


def test_littles_law_with_scrap(cases) -> None:
    """Scrapped units occupy the system without finishing, so Σ TH × LT alone falls short of
    wip by their share (scrap is 1-2% here); counting the time scrapped units spent in the
    system too (`scrapped_time_h`, the summary's `checks.littles_law_wip`) closes the gap."""
    res = cases.results("identities.yaml")
    gap = _little_gap(res)
    assert np.all((gap > 0.0) & (gap < 0.03)), gap
    prod = res.products()
    period = res.measures.query("kind == 'system' and measure == 'period_h'").set_index(
        "replication")["value"]
    scrap_flow = (prod["scrapped"] / period.reindex(prod.index.get_level_values("replication"))
                  .to_numpy() * prod["scrapped_time_h"].fillna(0.0))
    flow = (prod["throughput_per_h"] * prod["lead_time_h"] + scrap_flow).groupby(
        level="replication").sum()
    wip = res.measures.query("kind == 'system' and measure == 'wip_mean'").set_index(
        "replication")["value"]
    full_gap = ((wip - flow) / wip).to_numpy(float)
    assert np.all(np.abs(full_gap) < 0.01), full_gap
    stat = ci95(full_gap)
    assert stat["ci95"][0] <= 0.0 <= stat["ci95"][1] or abs(stat["mean"]) < 1e-3, stat
    doc = res.summary()
    assert doc["checks"]["littles_law_wip"]["mean"] == pytest.approx(float(flow.mean()), rel=1e-9)


def test_littles_law_per_station(stations, system) -> None:
    """queue_mean = (units starting per hour) × wait, at every station, up to end effects."""
    period = stations.index.get_level_values("replication").map(system["period_h"])
    rate = stations["waits"] / period.to_numpy(float)
    lhs = stations["queue_mean"]
    rhs = rate * stations["wait_h"]
    for (rep, name), a, b in zip(stations.index, lhs, rhs):
        assert abs(a - b) <= 0.01 * max(a, b) + 1e-3, f"replication {rep} {name}: {a} vs {b}"
