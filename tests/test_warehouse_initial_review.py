"""Review of units in a warehouse's store at time 0 (`initial_wip` at a warehouse).

Expected values are derived by hand (timelines with given places, `Warehouse.place`
patched as in tests/test_warehouse_dual.py) or from renewal theory (the stationary
residual of a dwell D has density (1 − F(r)) / E[D]; a constant D gives U[0, D], an
exponential one the same exponential; age + remaining is the length-biased dwell).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml
from scipy import stats

import twin
from twin.engine import warehouse as wh_engine
from twin.errors import ScenarioError
from twin.scenario.distributions import parse_distribution
from twin.scenario.load import scenario_json_schema
from twin.scenario.schema import StoredUnits

H = 3600.0

# one crane; places one way (s along the aisle, s up); pick or deposit 1 s
HAND = """
name: store at time 0, by hand
run: {horizon: "100 s"}
products:
  a: {route: [w], release: {interarrival: "1000 s"}}
  b: {route: [w], release: {interarrival: "1000 s"}}
stations:
  w:
    process_time: "1 h"
    buffer: 5
    warehouse: {places: 2, rack: {length: 1, height: 1},
                speed: {horizontal: 1, vertical: 1}, pick_deposit: "1 s"}
"""
PLACES = [(5.0, 0.0), (2.0, 3.0), (4.0, 4.0)]


def _hand(monkeypatch, doc: dict):
    given = iter(PLACES + [(1.0, 1.0)] * 50)
    monkeypatch.setattr(wh_engine.Warehouse, "place", lambda self: next(given))
    res = twin.run(twin.Scenario.model_validate(doc), event_log=True)
    ev = res.events
    times = {(int(u), a): (round(s * H, 9), round(e * H, 9)) for u, a, s, e in
             ev[["unit", "activity", "start_h", "end_h"]].itertuples(index=False)}
    m = res.measures
    value = {(e, k): v for e, k, v in m[["entity", "measure", "value"]].itertuples(index=False)}
    return times, value


def _measures(res) -> dict:
    m = res.measures
    return {(e, k): v for e, k, v in m[["entity", "measure", "value"]].itertuples(index=False)}


def test_two_products_beyond_the_places_by_hand(monkeypatch) -> None:
    """Two places; a: 1 unit with 10 s left, b: 2 units with 20 s left, listed a then b.
    Unit 1 (a) takes (5, 0), unit 2 (b) takes (2, 3), unit 3 (b) waits on the input.
    Unit 1 due at 10: retrieve 10-22 (5 + 1 picked at 16, + 5 + 1). Unit 2 due at 20
    (b's own remaining, not a's), crane busy: retrieve 22-30 (3 + 1, picked at 26, + 3 + 1).
    Then unit 3 is stored at (4, 4): 30-40 (1 + 4 + 1 + 4). Places held: unit 1 0-16,
    unit 2 0-26, unit 3 30-100 → stored_mean = 112/100. Unit 3 waited 30 s; times in
    place 10 and 22 s (from time 0: given remaining)."""
    doc = yaml.safe_load(HAND)
    doc["initial_wip"] = {"w": {"a": {"units": 1, "remaining": "10 s"},
                                "b": {"units": 2, "remaining": "20 s"}}}
    t, v = _hand(monkeypatch, doc)
    assert t[1, "retrieve"] == (10, 22) and t[2, "retrieve"] == (22, 30)
    assert t[3, "store"] == (30, 40) and (1, "store") not in t and (2, "store") not in t
    assert all(t[u, "initial"] == (0, 0) for u in (1, 2, 3))
    assert v["w", "stored_mean"] == pytest.approx(112 / 100)
    assert v["w", "wait_h"] * H == pytest.approx(30)
    assert v["w", "in_store_h"] * H == pytest.approx((10 + 22) / 2)
    assert v["", "wip_start"] == 3 and v["", "wip_end"] == 1
    assert v["a", "finished"] == 1 and v["b", "finished"] == 1
    assert v["a", "released"] == 0 and v["b", "released"] == 0


def test_dual_commands_with_a_full_store_and_a_unit_on_the_input(monkeypatch) -> None:
    """Dual commands; places 2, a: 3 units, 10 s left each: units 1 (5, 0) and 2 (2, 3) in
    store, unit 3 on the input. At 10 s both are due; the store is full, so unit 1 is a
    single retrieval 10-22 (place freed at 16). At 22 s unit 2 is due and unit 3 waits on
    the input with a place free: one dual cycle. Pick unit 3 (23), travel 4 to (4, 4)
    (27), set down (28); to (2, 3): max(2, 1) = 2 (30), pick (31), back 3 (34), set
    down: 35. Places: unit 1 0-16, unit 2 0-31, unit 3 from 22 (its cycle) → stored_mean
    (16 + 31 + 78)/100; in place 10 and 22 s; unit 3 waited 22 s."""
    doc = yaml.safe_load(HAND)
    doc["stations"]["w"]["warehouse"]["commands"] = "dual"
    doc["initial_wip"] = {"w": {"a": {"units": 3, "remaining": "10 s"}}}
    t, v = _hand(monkeypatch, doc)
    assert t[1, "retrieve"] == (10, 22)
    assert t[3, "store"] == (22, 28) and t[2, "retrieve"] == (22, 35)
    assert t[2, "finish"] == (35, 35)
    assert v["w", "dual_cycles"] == 1 and v["w", "dual_cycle_h"] * H == pytest.approx(13)
    assert v["w", "stored_mean"] == pytest.approx((16 + 31 + 78) / 100)
    assert v["w", "in_store_h"] * H == pytest.approx((10 + 22) / 2)
    assert v["w", "wait_h"] * H == pytest.approx(22)


def test_warm_up_with_units_in_store_by_hand(monkeypatch) -> None:
    """Ten places, a: 3 units 10 s left at (5, 0), (2, 3), (4, 4); warm-up 15 s, horizon
    85 s. Retrievals 10-22 (picked at 16), 22-30 (at 26), 30-40 (at 35). After the
    warm-up: in_store_h over retrievals begun after 15 s: units 2 and 3, 22 and 30 s in
    place (from time 0); stored_mean (1 + 11 + 20)/85; all three in WIP at 15 s and all
    finish after it; lead times from time 0: 22, 30, 40 s."""
    doc = yaml.safe_load(HAND)
    doc["stations"]["w"]["warehouse"]["places"] = 10
    doc["run"] = {"horizon": "85 s", "warmup": "15 s"}
    doc["initial_wip"] = {"w": {"a": {"units": 3, "remaining": "10 s"}}}
    t, v = _hand(monkeypatch, doc)
    assert t[1, "retrieve"] == (10, 22) and t[3, "retrieve"] == (30, 40)
    assert v["w", "in_store_h"] * H == pytest.approx((22 + 30) / 2)
    assert v["w", "stored_mean"] == pytest.approx((1 + 11 + 20) / 85)
    assert v["", "wip_start"] == 3 and v["", "wip_end"] == 0
    assert v["a", "finished"] == 3
    assert v["a", "lead_time_h"] * H == pytest.approx((22 + 30 + 40) / 3)


def test_no_remaining_dwell_is_retrieved_at_once(monkeypatch) -> None:
    """remaining "0 s": both units due at time 0; unit 1 at (5, 0) 0-12, unit 2 at (2, 3)
    12-20; their time in place is 0 and 12 s."""
    doc = yaml.safe_load(HAND)
    doc["initial_wip"] = {"w": {"a": {"units": 2, "remaining": "0 s"}}}
    t, v = _hand(monkeypatch, doc)
    assert t[1, "retrieve"] == (0, 12) and t[2, "retrieve"] == (12, 20)
    assert v["w", "in_store_h"] * H == pytest.approx(6)


def test_the_event_log_shows_the_wait_on_the_input(monkeypatch) -> None:
    """Unit 3 (beyond the two places) waits on the input conveyor, the warehouse's
    buffer, from 0 to 30 s: wait_h and queue_mean count it (30 s of 100), so the event log
    should show it as `queue` 0-30 s, as it does for units waiting in any station's
    buffer (docs/results.md: `queue` (waiting in a buffer))."""
    doc = yaml.safe_load(HAND)
    doc["initial_wip"] = {"w": {"a": {"units": 1, "remaining": "10 s"},
                                "b": {"units": 2, "remaining": "20 s"}}}
    t, v = _hand(monkeypatch, doc)
    assert v["w", "queue_mean"] == pytest.approx(0.3)
    assert t.get((3, "queue")) == (0, 30)


def test_the_dwell_of_a_given_remaining_starts_at_plus_zero(monkeypatch) -> None:
    """With `remaining` given, a unit's time in place counts from time 0: its `dwell`
    event starts at 0.0, not at −0.0 (which a CSV event log writes as "-0.0")."""
    doc = yaml.safe_load(HAND)
    doc["initial_wip"] = {"w": {"a": {"units": 1, "remaining": "10 s"}}}
    given = iter(PLACES)
    monkeypatch.setattr(wh_engine.Warehouse, "place", lambda self: next(given))
    ev = twin.run(twin.Scenario.model_validate(doc), event_log=True).events
    start = ev[ev.activity == "dwell"].start_h.to_numpy()
    assert len(start) == 1 and start[0] == 0 and not np.signbit(start[0])
    assert "-0.0" not in ev.to_csv(index=False)


# ---- stationary residual -----------------------------------------------------------
FREE = """
name: a store emptying
run: {horizon: "2 h", seed: 11}
products: {p: {route: [w], release: {interarrival: "10000 h"}}}
stations:
  w:
    process_time: "1 h"
    warehouse: {places: 2000, cranes: 4, rack: {length: 1, height: 1},
                speed: {horizontal: 100, vertical: 100}}
"""


def test_constant_dwell_units_leave_uniformly_and_stay_the_dwell() -> None:
    """Constant dwell D = 1 h, 400 units in store, no arrivals, fast cranes (0.02 s a
    cycle, 4 of them: no wait). Remaining dwell ~ U[0, D] (residual of a constant), so
    finish times are U[0, 1 h] (KS test) and the lead time (from time 0) averages 0.5 h
    (σ of the mean 0.289/20 = 0.014 h); age + remaining = D, so each unit's time in place
    is exactly 1 h (dwell event from −age to its retrieval) and in_store_h = 1 h."""
    doc = yaml.safe_load(FREE)
    doc["initial_wip"] = {"w": {"p": 400}}
    res = twin.run(twin.Scenario.model_validate(doc), event_log=True)
    v = _measures(res)
    ev = res.events
    fin = ev[ev.activity == "finish"].end_h.to_numpy()
    assert len(fin) == 400 and v["p", "finished"] == 400
    assert stats.kstest(fin, "uniform", args=(0, 1)).pvalue > 1e-3
    assert v["p", "lead_time_h"] == pytest.approx(0.5, abs=0.06)
    assert v["w", "in_store_h"] == pytest.approx(1.0, abs=1e-4)
    dwell = ev[ev.activity == "dwell"]
    assert np.allclose(dwell.end_h - dwell.start_h, 1.0, atol=1e-4)
    assert (dwell.start_h <= 0).all()


def test_exponential_dwell_in_the_engine_leaves_at_the_exponential_rate() -> None:
    """Exponential dwell, mean 1 h, 1000 units, no arrivals: the residual of an exponential
    is the same exponential, so by 0.5 h 1000 (1 − e^−0.5) = 393.5 units have left
    (binomial σ 15.4; ±60 is ~4σ), and the stock averages
    1000 (1 − e^−2)/2 = 432.3 over 2 h (± 25)."""
    doc = yaml.safe_load(FREE)
    doc["stations"]["w"]["process_time"] = {"exponential": "1 h"}
    doc["initial_wip"] = {"w": {"p": 1000}}
    res = twin.run(twin.Scenario.model_validate(doc), event_log=True)
    ev = res.events
    fin = ev[ev.activity == "finish"].end_h.to_numpy()
    assert abs(np.sum(fin <= 0.5) - 1000 * (1 - math.exp(-0.5))) < 60
    assert _measures(res)["w", "stored_mean"] == pytest.approx(
        1000 * (1 - math.exp(-2)) / 2, abs=25)


@pytest.mark.parametrize("dwell, cdf_at_1h, mean_h, age_mean_h", [
    # exponential mean 1 h: residual exponential mean 1 h; P(R < 1 h) = 1 − 1/e
    ({"exponential": "1 h"}, 1 - math.exp(-1), 1.0, 1.0),
    # empirical {1 h, 3 h} equally likely: E[D] = 2, density (1 − F(r))/2 = 1/2 on
    # [0, 1), 1/4 on [1, 3): P(R < 1) = 1/2; E[R] = E[D²]/(2E[D]) = 5/(2·2) = 5/4 h
    ({"empirical": ["1 h", "3 h"]}, 0.5, 1.25, 1.25),
    # constant 2 h: residual U[0, 2 h]: P(R < 1 h) = 1/2, mean 1 h
    ("2 h", 0.5, 1.0, 1.0),
])
def test_residual_dwell_by_theory(dwell, cdf_at_1h, mean_h, age_mean_h) -> None:
    """Remaining dwell and age of units in a steady store, from renewal theory (the age
    has the same distribution as the remaining time)."""
    rng = np.random.default_rng(5)
    left, age = wh_engine.residual_dwell(parse_distribution(dwell), 200_000, rng)
    assert np.mean(left < H) == pytest.approx(cdf_at_1h, abs=0.006)
    assert np.mean(left) / H == pytest.approx(mean_h, rel=0.015)
    assert np.mean(age) / H == pytest.approx(age_mean_h, rel=0.015)
    assert np.all(left >= 0) and np.all(age >= 0)


def test_empirical_dwell_picks_long_dwells_by_length() -> None:
    """Empirical {1 h, 3 h}: a unit found in store is in a 3 h dwell with probability
    3·½ / (1·½ + 3·½) = 3/4 (length-biased), so age + remaining is 3 h for 3/4 of them."""
    rng = np.random.default_rng(9)
    left, age = wh_engine.residual_dwell(parse_distribution({"empirical": ["1 h", "3 h"]}),
                                         100_000, rng)
    total = (left + age) / H
    assert np.all(np.isclose(total, 1) | np.isclose(total, 3))
    assert np.mean(np.isclose(total, 3)) == pytest.approx(0.75, abs=0.006)


@pytest.mark.parametrize("route, dwell_h", [
    ([{"station": "w", "process_time": "10 h"}], 10.0),
    # the step at w is the second: its own dwell counts, not the first step's
    (["m", {"station": "w", "process_time": "10 h"}], 10.0),
    ([{"station": "m", "process_time": "10 h"}, "w"], 1.0),
])
def test_a_products_own_dwell_sets_its_residual(route, dwell_h) -> None:
    """Station dwell 1 h; the product's route step at w may say 10 h (constant). The 200
    units' remaining dwell is then U[0, 10 h]: in 2 h about 200 · 0.2 = 40 leave
    (binomial σ 5.7; 20..60), not all 200 (as with the station's 1 h), and each one
    spent exactly 10 h in its place (age + remaining). With w's own 1 h dwell all 200
    leave within the 2 h, each after exactly 1 h in place."""
    doc = yaml.safe_load(FREE)
    doc["products"]["p"]["route"] = route
    doc["stations"]["m"] = {"process_time": "1 s"}
    doc["initial_wip"] = {"w": {"p": 200}}
    v = _measures(twin.run(twin.Scenario.model_validate(doc)))
    if dwell_h == 10:
        assert 20 <= v["w", "produced"] <= 60
    else:
        assert v["w", "produced"] == 200
    assert v["w", "in_store_h"] == pytest.approx(dwell_h, abs=1e-3)


def test_units_count_form_without_remaining_is_the_plain_count() -> None:
    """`{units: N}` without `remaining` is the stationary start, exactly as `N`."""
    doc = yaml.safe_load(FREE)
    doc["stations"]["w"]["process_time"] = {"uniform": ["0.5 h", "3 h"]}
    doc["initial_wip"] = {"w": {"p": 50}}
    a = twin.run(twin.Scenario.model_validate(doc)).measures
    doc["initial_wip"] = {"w": {"p": {"units": 50}}}
    b = twin.run(twin.Scenario.model_validate(doc)).measures
    assert np.array_equal(a["value"].to_numpy(), b["value"].to_numpy(), equal_nan=True)


def test_replications_draw_their_own_initial_dwells() -> None:
    """Two replications: the stream `initial` is per replication, so the units' retrieval
    moments differ (identical only if the stream ignored the replication)."""
    doc = yaml.safe_load(FREE)
    doc["run"]["replications"] = 2
    doc["stations"]["w"]["process_time"] = {"uniform": ["0.5 h", "1.5 h"]}
    doc["initial_wip"] = {"w": {"p": 30}}
    ev = twin.run(twin.Scenario.model_validate(doc), event_log=True).events
    r = ev[ev.activity == "retrieve"]
    t0 = np.sort(r[r.replication == 0].start_h.to_numpy())
    t1 = np.sort(r[r.replication == 1].start_h.to_numpy())
    assert len(t0) == len(t1) == 30 and not np.allclose(t0, t1)


STEADY = """
name: a steady store
run: {horizon: "1 h", replications: 20, seed: 3}
products: {p: {route: [w], release: {interarrival: {exponential: "60 s"}}}}
stations:
  w:
    process_time: {exponential: "2 h"}
    warehouse: {places: 1000, cranes: 2, rack: {length: 1, height: 1},
                speed: {horizontal: 100, vertical: 100}}
initial_wip: {w: {p: 120}}
"""


def test_exponential_store_is_stationary_from_time_zero() -> None:
    """Arrivals 60/h, exponential dwell 2 h: Little's stock λE[D] = 120. Started with 120
    units (stationary residual), over the first hour the throughput is λ = 60/h and
    the stock averages 120 (an M/G/∞ store in equilibrium), with no transient."""
    s = twin.run(twin.Scenario.model_validate(yaml.safe_load(STEADY))).summary()
    for stat, theory in ((s["products"]["p"]["throughput_per_h"], 60.0),
                         (s["stations"]["w"]["warehouse"]["stored_mean"], 120.0)):
        lo, hi = stat["ci95"]
        assert lo <= theory <= hi, (stat, theory)
        assert hi - lo < 0.2 * theory


def test_flow_balance_with_units_in_store_and_on_the_input() -> None:
    """released + initial = finished + scrapped + wip_end, with units in store, units on
    the input (places 50 < 80 initial) and scrap after the store."""
    doc = yaml.safe_load(STEADY)
    doc["run"] = {"horizon": "3 h", "seed": 4}
    doc["products"]["p"]["route"] = ["w", "m"]
    doc["stations"]["w"]["warehouse"]["places"] = 50
    doc["stations"]["w"]["buffer"] = 40
    doc["stations"]["w"]["process_time"] = {"uniform": ["0.5 h", "1 h"]}
    doc["stations"]["m"] = {"process_time": {"exponential": "50 s"}, "scrap": 0.1}
    doc["initial_wip"] = {"w": {"p": 80}}
    res = twin.run(twin.Scenario.model_validate(doc), event_log=True)
    v = _measures(res)
    assert v["", "wip_start"] == 80
    assert v["p", "released"] + 80 == v["p", "finished"] + v["p", "scrapped"] + v["", "wip_end"]
    ev = res.events
    init = ev[ev.activity == "initial"]
    assert len(init) == 80 and (init.start_h == 0).all() and (init.station == "w").all()
    stored = set(ev[ev.activity == "store"].unit)
    assert len(stored & set(init.unit)) == 30  # only those beyond the 50 places are stored


def test_conwip_counts_units_in_store() -> None:
    """CONWIP 5, 3 units in store at time 0: 2 released at time 0 and the WIP is exactly
    5 all along (wip_start is the initial WIP, taken before the time-0 releases, which
    count as released: flow balance, as in tests/test_initial_wip.py)."""
    doc = yaml.safe_load(FREE)
    doc["products"]["p"]["release"] = {"conwip": 5}
    doc["initial_wip"] = {"w": {"p": 3}}
    res = twin.run(twin.Scenario.model_validate(doc), event_log=True)
    ev = res.events
    rel = ev[ev.activity == "release"]
    assert (rel.start_h == 0).sum() == 2
    v = _measures(res)
    assert v["", "wip_start"] == 3 and v["", "wip_mean"] == pytest.approx(5)
    assert v["", "wip_end"] == 5
    assert v["p", "released"] + 3 == v["p", "finished"] + v["", "wip_end"]


# ---- two products in one store: independent draws -----------------------------------
TWO = """
name: two products in one store
run: {horizon: "10 h", seed: 1}
products:
  a: {route: [w], release: {interarrival: "10000 h"}}
  b: {route: [w], release: {interarrival: "10000 h"}}
stations:
  w:
    process_time: {uniform: ["1 h", "3 h"]}
    warehouse: {places: 100, cranes: 4, rack: {length: 1, height: 1},
                speed: {horizontal: 100, vertical: 100}}
"""


@pytest.mark.parametrize("entry", [20, {"units": 20, "remaining": {"uniform": ["0 h", "2 h"]}}])
def test_two_products_in_one_store_draw_independent_dwells(entry) -> None:
    """Each unit draws its own remaining dwell (docs: "each unit draws its remaining
    dwell"). Products a and b, 20 units each, same dwell: with independent continuous
    draws no a-unit shares its retrieval moment (to 1 s) with a b-unit, bar chance:
    expected such pairs 20·20·2 s / 7200 s ≈ 0.1 (given remaining; fewer by default).
    Identical draws for both products (the k-th a-unit leaving with the k-th b-unit)
    would make all 20 coincide."""
    doc = yaml.safe_load(TWO)
    doc["initial_wip"] = {"w": {"a": entry, "b": entry}}
    ev = twin.run(twin.Scenario.model_validate(doc), event_log=True).events
    r = ev[ev.activity == "retrieve"]
    ta = r[r["product"] == "a"].start_h.to_numpy() * H
    tb = r[r["product"] == "b"].start_h.to_numpy() * H
    assert len(ta) == len(tb) == 20
    close = sum(np.min(np.abs(tb - x)) < 1.0 for x in ta)
    assert close <= 2, f"{close} of 20 a-units leave with a b-unit"


# ---- input checks, schema, overrides, round trip ------------------------------------
CHECK = """
name: checks
run: {horizon: "1 h"}
products: {p: {route: [m, w], release: {interarrival: "60 s"}},
           q: {route: [w], release: {interarrival: "60 s"}}}
stations:
  m: {process_time: "10 s", buffer: 2}
  w:
    process_time: "1 h"
    buffer: 3
    warehouse: {places: 10, rack: {length: 10, height: 5},
                speed: {horizontal: 1, vertical: 1}}
"""


def _write(tmp_path, initial) -> str:
    doc = yaml.safe_load(CHECK)
    doc["initial_wip"] = initial
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


@pytest.mark.parametrize("initial, fragment", [
    # 8 + 6 = 14 units in all, places 10 + buffer 3 = 13
    ({"w": {"p": {"units": 8}, "q": 6}}, "give at most 13"),
    ({"w": {"p": {"units": 2, "remain": "1 h"}}}, "remain"),
    ({"w": {"p": {"units": 2, "remaining": "-1 h"}}}, "negative"),
    ({"w": {"p": {"remaining": "1 h"}}}, "units"),
    ({"m": {"p": {"units": 1, "remaining": "1 h"}}}, "m is no warehouse"),
    ({"m": {"p": {"units": 1}}}, "m is no warehouse"),
])
def test_bad_initial_stock_is_refused(tmp_path, initial, fragment) -> None:
    with pytest.raises(ScenarioError) as e:
        twin.load(_write(tmp_path, initial))
    assert fragment in str(e.value)


def test_a_typo_in_stored_units_is_not_reported_as_a_wrong_number(tmp_path) -> None:
    """A mapping at initial_wip.w.p is the `{units, remaining}` form; a typo in it should
    be reported as the typo (did you mean 'remaining'), not also as "expected a whole
    number, got a mapping", which tells the user a mapping is not allowed there."""
    with pytest.raises(ScenarioError) as e:
        twin.load(_write(tmp_path, {"w": {"p": {"units": 2, "remain": "1 h"}}}))
    assert "remaining" in str(e.value)
    assert "expected a whole number" not in str(e.value)


def test_places_plus_buffer_is_accepted(tmp_path) -> None:
    """13 = 10 places + 3 on the input, split over two products and both forms."""
    s = twin.load(_write(tmp_path, {"w": {"p": {"units": 7, "remaining": "1 h"}, "q": 6}}))
    v = _measures(twin.run(s))
    assert v["", "wip_start"] == 13
    assert v["w", "stored_end"] == 10  # (1 h dwell, 1 h horizon: still all in store)


def test_the_json_schema_takes_both_forms_and_refuses_bad_keys() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(scenario_json_schema())
    doc = yaml.safe_load(CHECK)
    for initial in ({"w": {"q": 5}}, {"w": {"q": {"units": 5}}},
                    {"w": {"q": {"units": 5, "remaining": {"uniform": ["0 d", "2 d"]}}}}):
        doc["initial_wip"] = initial
        assert list(validator.iter_errors(doc)) == [], initial
    for bad in ({"units": 5, "remain": "1 h"}, {"remaining": "1 h"}, {"units": -1}):
        doc["initial_wip"] = {"w": {"q": bad}}
        assert list(validator.iter_errors(doc)), bad


def test_overrides_of_the_stored_units(tmp_path) -> None:
    path = _write(tmp_path, {"w": {"q": {"units": 4, "remaining": "1 h"}}})
    s = twin.load(path, overrides=["initial_wip.w.q.units=12"])
    assert s.initial_wip["w"]["q"].units == 12
    assert s.initial_wip["w"]["q"].remaining.mean == pytest.approx(H)
    s = twin.load(path, overrides=['initial_wip.w.q={units: 2, remaining: "5 s"}'])
    assert s.initial_wip["w"]["q"] == StoredUnits(units=2, remaining=parse_distribution("5 s"))
    s = twin.load(path, overrides=["initial_wip.w.q=3"])
    assert s.initial_wip["w"]["q"] == 3
    with pytest.raises(ScenarioError):
        twin.load(path, overrides=["initial_wip.w.q.units=14"])  # 14 > 10 + 3


def test_a_full_dump_reads_back_and_runs_the_same(tmp_path) -> None:
    """A scenario with both `{units, remaining}` and `{units}` (stationary) entries dumped
    in full (every default written), as JSON and as YAML, reads back equal and gives
    the same results."""
    doc = yaml.safe_load(CHECK)
    doc["initial_wip"] = {"w": {"p": {"units": 4, "remaining": {"uniform": ["0 h", "2 h"]}},
                                "q": {"units": 3}}}
    s = twin.Scenario.model_validate(doc)
    dumped = s.model_dump(mode="json")
    assert twin.Scenario.model_validate(json.loads(json.dumps(dumped))) == s
    path = tmp_path / "dump.yaml"
    path.write_text(yaml.safe_dump(dumped))
    back = twin.load(str(path))
    assert back == s
    a, b = twin.run(s).measures, twin.run(back).measures
    assert np.array_equal(a["value"].to_numpy(), b["value"].to_numpy(), equal_nan=True)
