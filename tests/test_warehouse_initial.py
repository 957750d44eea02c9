"""Units in a warehouse's store at time 0 (`initial_wip` at a warehouse)."""

from __future__ import annotations

import pytest
import yaml

import twin
from support import run_with_places
from twin.engine import warehouse as wh_engine
from twin.errors import ScenarioError
from twin.scenario.distributions import parse_distribution

H = 3600.0
BY_HAND = """
name: store at time 0
run: {horizon: "100 s"}
products: {p: {route: [w], release: {interarrival: "1000 s"}}}
stations:
  w:
    process_time: "1 h"
    buffer: 5
    warehouse: {places: PLACES, rack: {length: 1, height: 1},
                speed: {horizontal: 1, vertical: 1}, pick_deposit: "1 s"}
initial_wip: {w: {p: {units: 3, remaining: "10 s"}}}
"""


def by_hand(monkeypatch, places: int):
    return run_with_places(monkeypatch, BY_HAND.replace("PLACES", str(places)),
                           [(5.0, 0.0), (2.0, 3.0), (4.0, 4.0)])


def test_units_in_store_with_a_given_remaining_dwell(monkeypatch) -> None:
    """Three units at places 5 s, 3 s and 4 s away (one way), 10 s left each, one crane,
    pick or deposit 1 s: all are due at 10 s and retrieved one after the other: 10-22 s
    (5 + 1 + 5 + 1), 22-30 s (3 + 1 + 3 + 1), 30-40 s (4 + 1 + 4 + 1)."""
    t, v = by_hand(monkeypatch, places=10)
    assert t[1, "retrieve"] == (10, 22) and t[2, "retrieve"] == (22, 30)
    assert t[3, "retrieve"] == (30, 40) and t[3, "finish"] == (40, 40)
    assert all(t[u, "initial"] == (0, 0) for u in (1, 2, 3))
    # in store from time 0 until picked up at 16, 26 and 35 s, of 100 s
    assert v["stored_mean"] == pytest.approx((16 + 26 + 35) / 100)
    # their time in place counts from time 0 (a given remaining dwell says no age)
    assert v["in_store_h"] * H == pytest.approx((10 + 22 + 30) / 3)
    assert v["stores"] == 0 and v["retrieves"] == 3


def test_units_beyond_the_places_wait_on_the_input(monkeypatch) -> None:
    """Two places: units 1 and 2 are in store, unit 3 waits on the input conveyor. At 10 s
    the crane retrieves unit 1 (10-22 s), then unit 2 (22-30 s: due since 10 s, retrievals
    go first), then stores unit 3 in the next place drawn, (4, 4): 30-40 s."""
    t, v = by_hand(monkeypatch, places=2)
    assert t[1, "retrieve"] == (10, 22) and t[2, "retrieve"] == (22, 30)
    assert t[3, "store"] == (30, 40)
    assert v["stores"] == 1 and v["stored_end"] == 1
    assert v["wait_h"] * H == pytest.approx(30)  # unit 3 on the input from 0 to 30 s


STEADY = """
name: a store filled at a steady rate
run: {horizon: "2 h", replications: 30, seed: 7}
products: {p: {route: [w], release: {interarrival: {exponential: "60 s"}}}}
stations:
  w:
    process_time: {uniform: ["2 h", "4 h"]}
    warehouse: {places: 1000, cranes: 2, rack: {length: 1, height: 1},
                speed: {horizontal: 100, vertical: 100}}
"""


def test_a_stationary_store_has_no_start_up() -> None:
    """A unit a minute into a store of 2-4 h dwell holds λ E[D] = 60/h × 3 h = 180 units
    (Little). Started with them and no given remaining dwell, the store is in its steady
    state from time 0: over the first 2 h (shorter than any dwell, so only the initial
    units can leave) units leave at λ = 60/h, the stock stays at 180 on average, and the
    units leaving spent E[D] = 3 h in their places (cranes take 0.02 s: no wait). Started
    empty, nothing at all leaves in those 2 h."""
    doc = yaml.safe_load(STEADY)
    empty = twin.run(twin.Scenario.model_validate(doc)).summary()
    assert empty["products"]["p"]["finished"]["mean"] == 0
    doc["initial_wip"] = {"w": {"p": 180}}
    warm = twin.run(twin.Scenario.model_validate(doc)).summary()
    throughput = warm["products"]["p"]["throughput_per_h"]
    wh = warm["stations"]["w"]["warehouse"]
    for stat, theory in ((throughput, 60.0), (wh["stored_mean"], 180.0), (wh["in_store_h"], 3.0)):
        lo, hi = stat["ci95"]
        assert lo <= theory <= hi, (stat, theory)
        assert hi - lo < 0.1 * theory  # (a tight enough interval to mean something)


def test_stationary_residual_by_theory() -> None:
    """The remaining dwell of units found in a steady store has density (1 − F(r)) / E[D]:
    for a dwell uniform on [2, 4] h, P(R < r) = r / 3 for r ≤ 2 h, and E[R] = E[D²] / (2
    E[D]) = (28/3) / 6 = 14/9 h; age and remaining dwell add up to the dwell, and a
    constant dwell D gives remaining dwell uniform on [0, D]."""
    import numpy as np

    rng = np.random.default_rng(3)
    dwell = parse_distribution({"uniform": ["2 h", "4 h"]})
    left, age = wh_engine.residual_dwell(dwell, 200_000, rng)
    assert np.mean(left < H) == pytest.approx(1 / 3, abs=0.005)
    assert np.mean(left < 2 * H) == pytest.approx(2 / 3, abs=0.005)
    assert np.mean(left) / H == pytest.approx(14 / 9, rel=0.01)
    assert np.all((left + age >= 2 * H - 1e-6) & (left + age <= 4 * H + 1e-6))
    flat, _ = wh_engine.residual_dwell(parse_distribution("1 h"), 100_000, rng)
    assert flat.min() >= 0 and flat.max() <= H
    assert np.mean(flat) / H == pytest.approx(0.5, abs=0.005)


@pytest.mark.parametrize("entry, fragment", [
    ({"w": {"p": 1006}}, "1006 units do not fit into w: it holds 1000 in its storage places "
                         "and 5 in its buffer; give at most 1005"),
    ({"a": {"p": {"units": 2, "remaining": "1 h"}}}, "a is no warehouse"),
])
def test_bad_initial_stock(entry, fragment) -> None:
    doc = yaml.safe_load(STEADY)
    doc["stations"]["w"]["buffer"] = 5
    doc["stations"]["a"] = {"process_time": "1 s"}
    doc["products"]["p"]["route"] = ["a", "w"]
    doc["initial_wip"] = entry
    with pytest.raises(ScenarioError) as e:
        twin.run(twin.Scenario.model_validate(doc))
    assert fragment in str(e.value)
