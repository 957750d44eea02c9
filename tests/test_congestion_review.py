"""Review of congestion on paths (limited segments, docs/modelling.md "Congestion").

Every expected number here is computed by hand from the scenario (distances, speeds, fixed
times) or follows from an invariant of a first-come-first-served zone controller; none is
copied from twin's output. Hand traces use deterministic times so that every event time is
known; the random-scenario tests watch every drive along a limited segment with an
independent probe (asked, entered, left) and check the path results against it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import pytest
import simpy
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import twin
import twin.engine.vehicles as vehicles
from twin.errors import ScenarioError
from twin.model import build
from twin.scenario.load import load
from twin.scenario.network import Routes, distances

H = 3600.0


# --- helpers ---------------------------------------------------------------------------
def write(tmp_path: Path, doc: dict, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run_doc(tmp_path: Path, doc: dict, **kw):
    res = twin.run(load(write(tmp_path, doc)), workers=1, **kw)
    return res, res.summary()


def mean(node) -> float:
    return node["mean"] if isinstance(node, dict) else node


class Probe:
    """Independent record of every drive along a limited segment: (asked, entered, left),
    left = None while the vehicle is still on it (or never entered)."""

    def __init__(self):
        self.spans: dict[str, list[list]] = defaultdict(list)
        self.real = vehicles.drive_segment

    def __call__(self, env, segment, seconds):
        rec = [env.now, None, None, segment.spec.capacity]
        self.spans[segment.spec.name].append(rec)
        steps = self.real(env, segment, seconds)
        event = next(steps)
        while True:
            if isinstance(event, simpy.events.Timeout) and rec[1] is None:
                rec[1] = env.now
            value = yield event
            try:
                event = steps.send(value)
            except StopIteration:
                break
        if rec[1] is None:
            rec[1] = env.now
        rec[2] = env.now


def most_at_once(spans, end=math.inf) -> int:
    edges = []
    for _, a, b, _ in spans:
        if a is None:
            continue
        edges.append((a, 1))
        edges.append((end if b is None else b, -1))
    edges.sort()
    level = top = 0
    for _, step in edges:
        level += step
        top = max(top, level)
    return top


# Two points A and B joined by one aisle of 20 m; two fleets of one AGV at 1 m/s, load and
# unload 1 s. Fleet f1 (home A) carries x from a (at A, 10 s) to b (at B); fleet f2 (home B)
# carries y from c (at B, 11 s) to d (at A). Downstream stations take 1000 s, so each fleet
# makes exactly one move in the first minute. f1 asks for the aisle at t = 11 (10 + load),
# f2 at t = 12, head-on.
def head_on(paths, horizon="60 s", warmup=None, speed2=1.0) -> dict:
    run = {"horizon": horizon, "seed": 1}
    if warmup:
        run["warmup"] = warmup
    return {
        "name": "head-on", "run": run,
        "products": {"x": {"route": ["a", "b"], "release": "saturated", "transport": "f1"},
                     "y": {"route": ["c", "d"], "release": "saturated", "transport": "f2"}},
        "stations": {"a": {"process_time": "10 s", "buffer": 0, "at": "A"},
                     "b": {"process_time": "1000 s", "buffer": 0, "at": "B"},
                     "c": {"process_time": "11 s", "buffer": 0, "at": "B"},
                     "d": {"process_time": "1000 s", "buffer": 0, "at": "A"}},
        "logistics": {
            "points": {"A": [0, 0], "B": [20, 0]}, "paths": paths,
            "fleets": {
                "f1": {"vehicles": 1, "speed_loaded": 1.0, "load_time": "1 s",
                       "unload_time": "1 s", "home": "A"},
                "f2": {"vehicles": 1, "speed_loaded": speed2, "load_time": "1 s",
                       "unload_time": "1 s", "home": "B"}}}}


ONE_LANE = [{"from": "A", "to": "B", "capacity": 1}]


# --- exact hand traces ------------------------------------------------------------------
def test_head_on_on_a_one_lane_aisle_hand_trace(tmp_path) -> None:
    """f1 enters at 11, leaves at 31; f2 asked at 12, waits 19 s, enters 31, leaves 51.
    Over 60 s: 2 entries, 2 passes, 1 wait, Wq = 19/2 s, 20 s on the path per pass,
    L = 40/60, queue 19/60; f2's trip 1 + 19 + 20 + 1 = 41 s, moving_loaded 39/60."""
    _, doc = run_doc(tmp_path, head_on(ONE_LANE))
    p = doc["paths"]["A <-> B"]
    assert p["capacity"] == 1 and p["length_m"] == 20.0
    assert mean(p["passes"]) == 2 and mean(p["waits"]) == 1
    assert mean(p["wait_h"]) == pytest.approx(9.5 / H, rel=1e-12)
    assert mean(p["time_on_h"]) == pytest.approx(20 / H, rel=1e-12)
    assert mean(p["vehicles_mean"]) == pytest.approx(40 / 60, rel=1e-12)
    assert mean(p["utilization"]) == pytest.approx(40 / 60, rel=1e-12)
    assert mean(p["queue_mean"]) == pytest.approx(19 / 60, rel=1e-12)
    assert mean(p["queue_max"]) == 1
    assert mean(p["passes_per_h"]) == pytest.approx(2 / (60 / H), rel=1e-12)
    f1, f2 = doc["fleets"]["f1"], doc["fleets"]["f2"]
    assert mean(f1["trip_h"]) == pytest.approx(22 / H, rel=1e-12)
    assert mean(f2["trip_h"]) == pytest.approx(41 / H, rel=1e-12)
    assert f2["states"]["moving_loaded"] == pytest.approx(39 / 60, rel=1e-12)
    assert sum(f2["states"].values()) == pytest.approx(1.0, abs=1e-12)


def test_head_on_faster_vehicle_still_waits_its_turn(tmp_path) -> None:
    """f2 drives at 4 m/s (5 s on the aisle) but asked after f1: it still waits until 31
    (no overtaking of the line by a faster vehicle), trip 1 + 19 + 5 + 1 = 26 s."""
    _, doc = run_doc(tmp_path, head_on(ONE_LANE, speed2=4.0))
    p = doc["paths"]["A <-> B"]
    assert mean(p["time_on_h"]) == pytest.approx(12.5 / H, rel=1e-12)
    assert mean(doc["fleets"]["f2"]["trip_h"]) == pytest.approx(26 / H, rel=1e-12)
    assert mean(p["vehicles_mean"]) == pytest.approx(25 / 60, rel=1e-12)


def test_one_way_pair_acts_as_two_lanes(tmp_path) -> None:
    """A -> B and B -> A one-way, capacity 1 each: no wait, f2's trip 22 s, each lane one
    pass and 20/60 vehicles on it on average."""
    lanes = [{"from": "A", "to": "B", "capacity": 1, "one_way": True},
             {"from": "B", "to": "A", "capacity": 1, "one_way": True}]
    _, doc = run_doc(tmp_path, head_on(lanes))
    assert set(doc["paths"]) == {"A -> B", "B -> A"}
    for name in ("A -> B", "B -> A"):
        p = doc["paths"][name]
        assert mean(p["passes"]) == 1 and mean(p["waits"]) == 0
        assert mean(p["wait_h"]) == 0
        assert mean(p["vehicles_mean"]) == pytest.approx(20 / 60, rel=1e-12)
    assert mean(doc["fleets"]["f2"]["trip_h"]) == pytest.approx(22 / H, rel=1e-12)


def three_vehicles(capacity: int) -> dict:
    """One fleet of 3 AGVs at A; three products from stations at A (10, 11, 12 s) to
    stations at B (1000 s). Each asks the aisle at process end + 1 s load: 11, 12, 13."""
    stations, products = {}, {}
    for k, t in enumerate((10, 11, 12)):
        stations[f"s{k}"] = {"process_time": f"{t} s", "buffer": 0, "at": "A"}
        stations[f"t{k}"] = {"process_time": "1000 s", "buffer": 0, "at": "B"}
        products[f"p{k}"] = {"route": [f"s{k}", f"t{k}"], "release": "saturated",
                             "transport": "agv"}
    return {"name": "three", "run": {"horizon": "60 s", "seed": 1},
            "products": products, "stations": stations,
            "logistics": {"points": {"A": [0, 0], "B": [20, 0]},
                          "paths": [{"from": "A", "to": "B", "capacity": capacity}],
                          "fleets": {"agv": {"vehicles": 3, "speed_loaded": 1.0,
                                             "load_time": "1 s", "unload_time": "1 s",
                                             "home": "A"}}}}


def test_capacity_two_with_three_vehicles_hand_trace(tmp_path) -> None:
    """v0 on 11-31, v1 on 12-32, v2 asked at 13, waits for v0 to leave: on 31-51.
    Time on the path 20 + 20 + 20 = 60 s -> L = 1, utilisation 1/2; one wait of 18 s,
    Wq = 6 s; trips 22, 22, 40 s -> mean 28 s."""
    with pytest.MonkeyPatch.context() as mp:
        probe = Probe()
        mp.setattr(vehicles, "drive_segment", probe)
        _, doc = run_doc(tmp_path, three_vehicles(2))
    spans = probe.spans["A <-> B"]
    assert sorted((a, e, l) for a, e, l, _ in spans) == [(11, 11, 31), (12, 12, 32),
                                                         (13, 31, 51)]
    p = doc["paths"]["A <-> B"]
    assert mean(p["passes"]) == 3 and mean(p["waits"]) == 1
    assert mean(p["wait_h"]) == pytest.approx(6 / H, rel=1e-12)
    assert mean(p["vehicles_mean"]) == pytest.approx(1.0, rel=1e-12)
    assert mean(p["utilization"]) == pytest.approx(0.5, rel=1e-12)
    assert mean(p["queue_mean"]) == pytest.approx(18 / 60, rel=1e-12)
    assert mean(doc["fleets"]["agv"]["trip_h"]) == pytest.approx(28 / H, rel=1e-12)


def test_pickup_at_the_far_end_of_a_limited_path(tmp_path) -> None:
    """Home A, pickup at B (far end of a one-lane aisle A-B of 20 m), drop at C (10 m
    further, unlimited). Empty at 2 m/s: 10 s on the aisle, arrives at 10; source takes 5 s
    so the response is 10 s (asked at 5: 15 - 5), then load 1, 10 m loaded at 1 m/s, unload
    1: trip 12 s. The aisle is passed once (empty), in 10 s."""
    doc = {"name": "far", "run": {"horizon": "40 s", "seed": 1},
           "products": {"x": {"route": ["s", "t"], "release": "saturated",
                              "transport": "agv"}},
           "stations": {"s": {"process_time": "5 s", "buffer": 0, "at": "B"},
                        "t": {"process_time": "1000 s", "buffer": 0, "at": "C"}},
           "logistics": {"points": {"A": [0, 0], "B": [20, 0], "C": [30, 0]},
                         "paths": [{"from": "A", "to": "B", "capacity": 1}, ["B", "C"]],
                         "fleets": {"agv": {"vehicles": 1, "speed_loaded": 1.0,
                                            "speed_empty": 2.0, "load_time": "1 s",
                                            "unload_time": "1 s", "home": "A"}}}}
    _, out = run_doc(tmp_path, doc)
    p = out["paths"]["A <-> B"]
    assert mean(p["passes"]) == 1
    assert mean(p["time_on_h"]) == pytest.approx(10 / H, rel=1e-12)
    f = out["fleets"]["agv"]
    assert mean(f["response_h"]) == pytest.approx(10 / H, rel=1e-12)
    assert mean(f["trip_h"]) == pytest.approx(12 / H, rel=1e-12)
    # 20 m empty + 10 m loaded in 40 s
    assert mean(f["distance_km_per_h"]) == pytest.approx(0.030 / (40 / H), rel=1e-12)
    assert f["states"]["moving_empty"] == pytest.approx(10 / 40, rel=1e-12)


def test_limited_path_after_a_lift_ride(tmp_path) -> None:
    """Ground: A (home, station a) -10 m- L0; first floor (5 m up): L1 -20 m one lane- B.
    Lift 1 m/s, drive in/out 2 s each: ride 2 + 5 + 2 = 9 s. Trip: load 1 + 10 + 9 + 20 +
    unload 1 = 41 s, of which 30 s moving_loaded and 9 s riding_lift (the drive along the
    aisle after the ride is driving, not riding)."""
    doc = {"name": "lift", "run": {"horizon": "60 s", "seed": 1},
           "products": {"x": {"route": ["a", "b"], "release": "saturated",
                              "transport": "agv"}},
           "stations": {"a": {"process_time": "10 s", "buffer": 0, "at": "A"},
                        "b": {"process_time": "1000 s", "buffer": 0, "at": "B"}},
           "logistics": {
               "points": {"A": [0, 0], "L0": [10, 0], "L1": [10, 0], "B": [30, 0]},
               "floors": {"g": {"height": 0, "points": ["A", "L0"]},
                          "f": {"height": 5, "points": ["L1", "B"]}},
               "paths": [["A", "L0"], {"from": "L1", "to": "B", "capacity": 1}],
               "lifts": {"lift": {"points": {"g": "L0", "f": "L1"}, "cars": 1,
                                  "speed": 1.0, "load_time": "2 s", "unload_time": "2 s"}},
               "fleets": {"agv": {"vehicles": 1, "speed_loaded": 1.0, "load_time": "1 s",
                                  "unload_time": "1 s", "home": "A"}}}}
    _, out = run_doc(tmp_path, doc)
    f = out["fleets"]["agv"]
    assert mean(f["trip_h"]) == pytest.approx(41 / H, rel=1e-12)
    assert f["states"]["moving_loaded"] == pytest.approx(30 / 60, rel=1e-12)
    assert f["states"]["riding_lift"] == pytest.approx(9 / 60, rel=1e-12)
    p = out["paths"]["L1 <-> B"]
    assert mean(p["passes"]) == 1
    assert mean(p["time_on_h"]) == pytest.approx(20 / H, rel=1e-12)
    assert mean(p["vehicles_mean"]) == pytest.approx(20 / 60, rel=1e-12)


def battery_fleet(capacity: int = 1, opportunity: bool = False, initial: float = 0.3) -> dict:
    """Two battery AGVs at home H, the charger C (2 places) at the far end of a 20 m aisle,
    empty speed 1 m/s; both at the threshold at time 0, so both set out for C at 0."""
    battery = {"capacity_kwh": 10, "initial": initial, "recharge_below": 0.3,
               "charge_to": 0.9, "charge_kw": 6, "chargers": {"C": 2}}
    if opportunity:
        battery["opportunity"] = True
    return {"name": "charger aisle", "run": {"horizon": "120 s", "seed": 1},
            "products": {"x": {"route": ["s", "t"], "release": {"interarrival": "10 h"},
                               "transport": "agv"}},
            "stations": {"s": {"process_time": "1 s", "at": "H"},
                         "t": {"process_time": "1 s", "at": "H"}},
            "logistics": {"points": {"H": [0, 0], "C": [20, 0]},
                          "paths": [{"from": "H", "to": "C", "capacity": capacity}],
                          "fleets": {"agv": {"vehicles": 2, "speed_loaded": 1.0,
                                             "home": "H", "battery": battery}}}}


def test_charger_trips_through_a_one_lane_aisle(tmp_path) -> None:
    """v0 drives 0-20, v1 waits 20 s then drives 20-40 (in `to_charger` all along):
    to_charger 60 s of 240 vehicle-seconds, charging from 20 and 40 to 120: 180 s; the
    aisle: 2 passes, 1 wait, Wq 10 s; 40 m to chargers."""
    _, doc = run_doc(tmp_path, battery_fleet())
    f = doc["fleets"]["agv"]
    assert f["states"]["to_charger"] == pytest.approx(60 / 240, rel=1e-12)
    assert f["states"]["charging"] == pytest.approx(180 / 240, rel=1e-12)
    p = doc["paths"]["H <-> C"]
    assert mean(p["passes"]) == 2 and mean(p["waits"]) == 1
    assert mean(p["wait_h"]) == pytest.approx(10 / H, rel=1e-12)
    assert mean(f["battery"]["charges_per_h"]) == pytest.approx(2 / (120 / H), rel=1e-12)
    assert mean(f["battery"]["charging_share"]) == pytest.approx(1.0, rel=1e-12)


def test_opportunity_charging_through_a_one_lane_aisle(tmp_path) -> None:
    """Same, with opportunity charging and both vehicles above the threshold (0.5) and
    below charge_to: both go to charge by opportunity at 0, one after the other through
    the aisle: the same 60 s to_charger, 180 s charging."""
    _, doc = run_doc(tmp_path, battery_fleet(opportunity=True, initial=0.5))
    f = doc["fleets"]["agv"]
    assert f["states"]["to_charger"] == pytest.approx(60 / 240, rel=1e-12)
    assert f["states"]["charging"] == pytest.approx(180 / 240, rel=1e-12)
    p = doc["paths"]["H <-> C"]
    assert mean(p["passes"]) == 2 and mean(p["waits"]) == 1


# --- counting at the edges of the measured period -----------------------------------------
def test_a_vehicle_still_in_line_at_the_horizon_is_no_entry_that_waited(tmp_path) -> None:
    """Horizon 25 s: f1 entered at 11 (still on the aisle), f2 asked at 12 and is still in
    line at 25. `waits` = entries that found no room and waited (results.md): 1 entry, and
    it did not wait, so waits = 0 (and waits can never exceed entries)."""
    res, doc = run_doc(tmp_path, head_on(ONE_LANE, horizon="25 s"))
    row = res.paths().xs("A <-> B", level="entity").iloc[0]
    assert row["entries"] == 1
    assert row["waits"] <= row["entries"]
    assert row["waits"] == 0
    assert mean(doc["paths"]["A <-> B"]["queue_max"]) == 1
    assert mean(doc["paths"]["A <-> B"]["queue_mean"]) == pytest.approx(13 / 25, rel=1e-12)


def test_warmup_counts_an_entry_that_waited_across_the_warmup_end(tmp_path) -> None:
    """Warm-up 20 s, measured 20-60: f2 asked at 12, in line at 20, enters at 31 — an entry
    of the measured period that found no room: entries 1, waits 1, passes 2 (f1 at 31, f2
    at 51). On the aisle 11 s (f1, 20-31) + 20 s (f2) = 31 s of 40; in line 11 s of 40."""
    res, doc = run_doc(tmp_path, head_on(ONE_LANE, horizon="40 s", warmup="20 s"))
    row = res.paths().xs("A <-> B", level="entity").iloc[0]
    assert row["passes"] == 2
    assert row["entries"] == 1
    assert row["waits"] == 1
    p = doc["paths"]["A <-> B"]
    assert mean(p["vehicles_mean"]) == pytest.approx(31 / 40, rel=1e-12)
    assert mean(p["queue_mean"]) == pytest.approx(11 / 40, rel=1e-12)
    assert mean(p["queue_max"]) == 1


def test_warmup_time_on_path_is_consistent_with_littles_law(tmp_path) -> None:
    """Little's law on a path over the measured period, with a vehicle on the aisle at the
    warm-up end: area of vehicles on it (L x T) = time spent on it inside the period. The
    probe gives the spans; the period is 20-60."""
    with pytest.MonkeyPatch.context() as mp:
        probe = Probe()
        mp.setattr(vehicles, "drive_segment", probe)
        res, doc = run_doc(tmp_path, head_on(ONE_LANE, horizon="40 s", warmup="20 s"))
    inside = sum(max(0.0, min(60.0, l if l is not None else 60.0) - max(20.0, e))
                 for _, e, l, _ in probe.spans["A <-> B"] if e is not None)
    assert inside == 31.0
    assert mean(doc["paths"]["A <-> B"]["vehicles_mean"]) * 40 == pytest.approx(inside)


# --- invariants on random scenarios -------------------------------------------------------
def random_plant(draw) -> dict:
    """A line of 3 stations on a row of points, a few aisles limited at random, one fleet."""
    n_pts = draw(st.integers(3, 5))
    points = {f"p{i}": [15 * i, 0] for i in range(n_pts)}
    paths = []
    for i in range(n_pts - 1):
        kind = draw(st.sampled_from(["free", "lane", "oneway_pair"]))
        if kind == "free":
            paths.append([f"p{i}", f"p{i + 1}"])
        elif kind == "lane":
            paths.append({"from": f"p{i}", "to": f"p{i + 1}",
                          "capacity": draw(st.integers(1, 2))})
        else:
            paths.append({"from": f"p{i}", "to": f"p{i + 1}", "capacity": 1, "one_way": True})
            paths.append({"from": f"p{i + 1}", "to": f"p{i}", "capacity": 1, "one_way": True})
    at = [draw(st.integers(0, n_pts - 1)) for _ in range(3)]
    stations = {f"s{k}": {"process_time": {"exponential": f"{draw(st.integers(8, 25))} s"},
                          "buffer": draw(st.integers(0, 2)), "at": f"p{at[k]}"}
                for k in range(3)}
    return {"name": "random", "run": {"horizon": "1 h", "warmup": "10 min",
                                      "seed": draw(st.integers(1, 1000))},
            "products": {"x": {"route": ["s0", "s1", "s2"],
                               "release": {"interarrival": {"exponential": "20 s"}},
                               "transport": "agv"}},
            "stations": stations,
            "logistics": {"points": points, "paths": paths,
                          "fleets": {"agv": {"vehicles": draw(st.integers(3, 8)),
                                             "speed_loaded": 1.0, "speed_empty": 1.5,
                                             "load_time": "5 s", "unload_time": "5 s",
                                             "home": f"p{draw(st.integers(0, n_pts - 1))}"}}}}


def run_random(tmp_path_factory, data):
    doc = random_plant(data.draw)
    tmp = tmp_path_factory.mktemp("rand")
    with pytest.MonkeyPatch.context() as mp:
        probe = Probe()
        mp.setattr(vehicles, "drive_segment", probe)
        res, out = run_doc(tmp, doc, replications=1)
    return probe, res, out


T0, T1 = 600.0, 4200.0  # the measured period of random_plant


@settings(max_examples=8, deadline=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
@given(st.data())
def test_random_plants_keep_every_path_invariant(tmp_path_factory, data) -> None:
    """Capacity never exceeded, first come first served, Little's law on each path (as an
    exact area identity, L x T = vehicle-seconds on it in the period, and the same for the
    line), entries and passes as the probe counts them, no deadlock, units finishing, the
    plant's flow balance, vehicle states summing to the period."""
    probe, res, out = run_random(tmp_path_factory, data)
    assert out["deadlocks"] == [] and res.meta["failed"] == []
    period = T1 - T0
    assert sum(out["fleets"]["agv"]["states"].values()) == pytest.approx(1.0, abs=1e-9)
    m = res.measures
    pm = m[(m["kind"] == "product")].set_index("measure")["value"]
    sm = m[(m["kind"] == "system")].set_index("measure")["value"]
    assert pm["finished"] > 0
    assert sm["wip_start"] + pm["released"] == pm["finished"] + pm["scrapped"] + sm["wip_end"]
    table = res.paths()
    for name, spans in probe.spans.items():
        cap = spans[0][3]
        assert most_at_once(spans) <= cap, name
        entered = sorted((a, e) for a, e, _, _ in spans if e is not None)
        assert [e for _, e in entered] == sorted(e for _, e in entered), name
        row = table.xs(name, level="entity").iloc[0]
        assert row["entries"] == sum(1 for s in spans if s[1] is not None and T0 <= s[1] < T1)
        assert row["passes"] == sum(1 for s in spans if s[2] is not None and T0 <= s[2] < T1)
        inside = sum(max(0.0, min(T1, l if l is not None else T1) - max(T0, e))
                     for _, e, l, _ in spans if e is not None)
        assert row["vehicles_mean"] * period == pytest.approx(inside, rel=1e-9, abs=1e-6)
        queued = sum(max(0.0, min(T1, e if e is not None else T1) - max(T0, a))
                     for a, e, _, _ in spans)
        assert row["queue_mean"] * period == pytest.approx(queued, rel=1e-9, abs=1e-6)


@settings(max_examples=20, deadline=None, derandomize=True,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
@given(st.data())
def test_random_plants_count_waits_among_the_entries_of_the_period(tmp_path_factory,
                                                                    data) -> None:
    """`waits` = entries (of the measured period) that found no room and waited
    (results.md): the probe's entries in [warm-up end, horizon) with entered > asked. A
    vehicle that asked before the warm-up end and entered after it is such an entry; one
    still in line at the horizon is none."""
    probe, res, out = run_random(tmp_path_factory, data)
    table = res.paths()
    for name, spans in probe.spans.items():
        row = table.xs(name, level="entity").iloc[0]
        in_entries = [s for s in spans if s[1] is not None and T0 <= s[1] < T1]
        assert row["waits"] <= row["entries"], name
        assert row["waits"] == sum(1 for s in in_entries if s[1] > s[0]), name


# --- without binding capacities ------------------------------------------------------------
def shuttle_doc(capacity=None, vehicles_n: int = 3) -> dict:
    path = {"from": "m", "to": "b"}
    if capacity is not None:
        path["capacity"] = capacity
    return {"name": "shuttle", "run": {"horizon": "4 h", "warmup": "30 min", "seed": 3,
                                       "replications": 2},
            "products": {"tray": {"route": ["a", "b"],
                                  "release": {"interarrival": {"exponential": "50 s"}},
                                  "transport": "agv"}},
            "stations": {"a": {"process_time": {"exponential": "30 s"}, "buffer": 2},
                         "b": {"process_time": {"exponential": "35 s"}}},
            "logistics": {"points": {"a": [0, 0], "m": [10.3, 0], "n": [20.7, 3.1],
                                     "b": [31.9, 0.3]},
                          "paths": [["a", "m"], ["m", "n"], {"from": "n", "to": "b",
                                                             **({"capacity": capacity}
                                                                if capacity else {})}],
                          "fleets": {"agv": {"vehicles": vehicles_n, "speed_loaded": 1.1,
                                             "speed_empty": 1.7, "load_time": "7 s",
                                             "unload_time": "7 s", "home": "a"}}}}


def test_a_capacity_that_never_binds_changes_nothing_but_rounding(tmp_path) -> None:
    """Capacity 100 000 for 3 vehicles never binds: the same units, trips and distances as
    without it (times equal up to floating-point summation of the segment legs)."""
    _, free = run_doc(tmp_path, shuttle_doc())
    _, wide = run_doc(tmp_path, shuttle_doc(100000))
    assert mean(wide["paths"]["n <-> b"]["waits"]) == 0
    assert mean(wide["paths"]["n <-> b"]["queue_max"]) == 0
    for key in ("finished", "throughput_per_h", "lead_time_h"):
        assert mean(wide["products"]["tray"][key]) == pytest.approx(
            mean(free["products"]["tray"][key]), rel=1e-9)
    for key in ("trips_per_h", "trip_h", "response_h", "distance_km_per_h", "utilization"):
        assert mean(wide["fleets"]["agv"][key]) == pytest.approx(
            mean(free["fleets"]["agv"][key]), rel=1e-9), key
    for s, v in free["fleets"]["agv"]["states"].items():
        assert wide["fleets"]["agv"]["states"][s] == pytest.approx(v, abs=1e-9)


def test_null_capacity_is_no_capacity_to_the_bit(tmp_path) -> None:
    _, free = run_doc(tmp_path, shuttle_doc())
    doc = shuttle_doc()
    doc["logistics"]["paths"][2] = {"from": "n", "to": "b", "capacity": None}
    _, null = run_doc(tmp_path, doc)
    for d in (free, null):
        d.pop("timing")
        d["run"].pop("scenario_sha256", None)
    assert "paths" not in null
    assert null["products"] == free["products"] and null["fleets"] == free["fleets"]


# --- route splitting --------------------------------------------------------------------
def test_routes_merge_unlimited_stretches_and_keep_distances(tmp_path) -> None:
    """a-m-n unlimited, n-p and p-q limited (adjacent), q-r-b unlimited: legs are
    [a..n], [n-p], [p-q], [q..b]; the legs' metres sum to the shortest distance."""
    pts = {"a": [0, 0], "m": [3, 4], "n": [6, 8], "p": [6, 20], "q": [11, 20], "r": [11, 30],
           "b": [20, 30]}
    doc = {"name": "split", "run": {"horizon": "1 h"},
           "products": {"x": {"route": ["sa", "sb"], "transport": "agv",
                              "release": "saturated"}},
           "stations": {"sa": {"process_time": "60 s", "at": "a"},
                        "sb": {"process_time": "60 s", "at": "b"}},
           "logistics": {"points": pts,
                         "paths": [["a", "m"], ["m", "n"], {"from": "n", "to": "p",
                                                            "capacity": 1},
                                   {"from": "p", "to": "q", "capacity": 2}, ["q", "r"],
                                   ["r", "b"]],
                         "fleets": {"agv": {"vehicles": 1, "speed_loaded": 1.0,
                                            "home": "a"}}}}
    scenario = load(write(tmp_path, doc))
    model = build(scenario)
    ix = {n: i for i, n in enumerate(model.points)}
    legs = model.fleets[0].routes_loaded[ix["a"]][ix["b"]]
    assert [(round(l[0], 9), l[2]) for l in legs] == [(10.0, -1), (12.0, 0), (5.0, 1),
                                                      (19.0, -1)]
    back = model.fleets[0].routes_empty[ix["b"]][ix["a"]]
    assert [(round(l[0], 9), l[2]) for l in back] == [(19.0, -1), (5.0, 1), (12.0, 0),
                                                      (10.0, -1)]
    d = distances(scenario.logistics)
    assert sum(l[0] for l in legs) == pytest.approx(d[ix["a"], ix["b"]], rel=1e-12)
    assert [s.metres for s in model.segments] == [12.0, 5.0]
    _, out = run_doc(tmp_path, doc)
    # the vehicle starts at a: per trip 46 m loaded + 46 m back empty
    f = out["fleets"]["agv"]
    trips = mean(f["trips_per_h"])
    km = mean(f["distance_km_per_h"])
    assert km == pytest.approx(trips * 0.092, rel=0.05)


# --- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize("capacity", ["0", "1.5", "two", "true", "false", "-1", ".inf",
                                      "1000000000000000000000", "[1]", "'3'"])
def test_bad_capacity_is_one_clear_error_naming_the_key(tmp_path, capacity) -> None:
    text = yaml.safe_dump(head_on(ONE_LANE)).replace("capacity: 1", f"capacity: {capacity}")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load(path)
    problems = info.value.problems
    assert len(problems) == 1
    assert problems[0].where == "logistics.paths[0].capacity"
    assert "Traceback" not in str(info.value)


def test_a_duplicated_limited_path_is_refused_naming_it(tmp_path) -> None:
    lanes = [{"from": "A", "to": "B", "capacity": 1}, {"from": "A", "to": "B", "capacity": 1}]
    with pytest.raises(ScenarioError) as info:
        load(write(tmp_path, head_on(lanes)))
    wheres = {p.where for p in info.value.problems}
    assert wheres <= {"logistics.paths[0].capacity", "logistics.paths[1].capacity"}
    assert wheres


def test_the_cli_reports_a_bad_capacity_without_a_traceback(tmp_path) -> None:
    import subprocess
    import sys
    text = yaml.safe_dump(head_on(ONE_LANE)).replace("capacity: 1", "capacity: 0")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    out = subprocess.run([sys.executable, "-m", "twin.cli", "run", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr + out.stdout
    assert "logistics.paths[0].capacity" in out.stderr + out.stdout


# --- summary document --------------------------------------------------------------------
def test_summary_paths_block_has_the_documented_fields(tmp_path) -> None:
    _, doc = run_doc(tmp_path, head_on(ONE_LANE))
    p = doc["paths"]["A <-> B"]
    assert set(p) == {"capacity", "length_m", "passes", "passes_per_h", "vehicles_mean",
                      "utilization", "waits", "wait_h", "time_on_h", "queue_mean",
                      "queue_max"}
    # the spec'd fleet fields are still there
    f = doc["fleets"]["f1"]
    for key in ("vehicles", "utilization", "states", "trips_per_h", "response_h", "trip_h",
                "distance_km_per_h", "energy_kwh"):
        assert key in f


# --- opportunity charging and shift calendars through one-lane aisles -----------------------
def busy_plant(opportunity: bool, calendar: bool) -> dict:
    """Stations s0 (p0) -> s1 (p2) -> s2 (p0) with one-lane aisles p0-p1 and p1-p2, the
    charger behind a one-lane aisle p0-c; four battery AGVs."""
    battery = {"capacity_kwh": 2, "initial": 0.9, "recharge_below": 0.3, "charge_to": 0.9,
               "charge_kw": 3, "chargers": {"c": 2}}
    if opportunity:
        battery["opportunity"] = True
    stations = {"s0": {"process_time": {"exponential": "40 s"}, "buffer": 1, "at": "p0"},
                "s1": {"process_time": {"exponential": "45 s"}, "buffer": 1, "at": "p2"},
                "s2": {"process_time": {"exponential": "30 s"}, "buffer": 1, "at": "p0"}}
    doc = {"name": "busy", "run": {"horizon": "6 h", "warmup": "1 h", "seed": 11},
           "products": {"x": {"route": ["s0", "s1", "s2"],
                              "release": {"interarrival": {"exponential": "60 s"}},
                              "transport": "agv"}},
           "stations": stations,
           "logistics": {"points": {"p0": [0, 0], "p1": [30, 0], "p2": [60, 0], "c": [0, 20]},
                         "paths": [{"from": "p0", "to": "p1", "capacity": 1},
                                   {"from": "p1", "to": "p2", "capacity": 1},
                                   {"from": "p0", "to": "c", "capacity": 1}],
                         "fleets": {"agv": {"vehicles": 4, "speed_loaded": 1.0,
                                            "speed_empty": 1.5, "load_time": "5 s",
                                            "unload_time": "5 s", "home": "p0",
                                            "power_kw": {"moving_loaded": 1.0,
                                                         "moving_empty": 0.8,
                                                         "idle": 0.1, "loading": 0.5,
                                                         "unloading": 0.5},
                                            "battery": battery}}}}
    if calendar:
        doc["calendars"] = {"day": {"shifts": [["0 h", "3 h"], ["4 h", "24 h"]]}}
        stations["s1"]["calendar"] = "day"
    return doc


@pytest.mark.parametrize("opportunity, calendar", [(False, False), (True, False),
                                                   (True, True)])
def test_battery_fleet_through_one_lane_aisles_keeps_the_invariants(tmp_path, opportunity,
                                                                    calendar) -> None:
    with pytest.MonkeyPatch.context() as mp:
        probe = Probe()
        mp.setattr(vehicles, "drive_segment", probe)
        res, doc = run_doc(tmp_path, busy_plant(opportunity, calendar), replications=1)
    assert doc["deadlocks"] == [] and res.meta["failed"] == []
    assert mean(doc["products"]["x"]["finished"]) > 100
    f = doc["fleets"]["agv"]
    assert sum(f["states"].values()) == pytest.approx(1.0, abs=1e-9)
    for name, spans in probe.spans.items():
        assert most_at_once(spans) <= 1, name
    # the charger aisle was used, and every drive to the charger went through it
    assert probe.spans["p0 <-> c"]
    t0, t1 = 3600.0, 7 * 3600.0
    row = res.paths().xs("p0 <-> c", level="entity").iloc[0]
    spans = probe.spans["p0 <-> c"]
    assert row["passes"] == sum(1 for s in spans if s[2] is not None and t0 <= s[2] < t1)
    # Little's law on each path as an exact area identity over the measured period
    table = res.paths()
    for name, spans in probe.spans.items():
        r = table.xs(name, level="entity").iloc[0]
        inside = sum(max(0.0, min(t1, l if l is not None else t1) - max(t0, e))
                     for _, e, l, _ in spans if e is not None)
        assert r["vehicles_mean"] * (t1 - t0) == pytest.approx(inside, rel=1e-9, abs=1e-6)
    # the vehicles' state hours add up to vehicles x measured period
    hours = sum(v for k, v in fm_states(res).items())
    assert hours == pytest.approx(4 * 6.0, rel=1e-9)
    # battery balance: end - start = delivered - drawn (energy of the vehicles' states)
    m = res.measures
    fm = m[(m["kind"] == "fleet") & (m["entity"] == "agv")].set_index("measure")["value"]
    drawn = sum(v for k, v in fm.items() if k.startswith("energy_") and k.endswith("_kwh"))
    assert fm["battery_end_kwh"] - fm["battery_start_kwh"] == pytest.approx(
        fm["charged_kwh"] - drawn, abs=1e-6)


# --- overrides and scenarios built in code ------------------------------------------------
def test_set_override_gives_a_path_a_capacity(tmp_path) -> None:
    """`--set logistics.paths[0].capacity=1` (list items as `route[2]`) turns the free aisle
    of the head-on plant into the one-lane aisle of the hand trace: f2's trip 41 s."""
    path = write(tmp_path, head_on([{"from": "A", "to": "B"}]))
    scenario = twin.load(path, overrides=["logistics.paths[0].capacity=1"])
    doc = twin.run(scenario, workers=1).summary()
    assert mean(doc["fleets"]["f2"]["trip_h"]) == pytest.approx(41 / H, rel=1e-12)
    assert mean(doc["paths"]["A <-> B"]["waits"]) == 1


def test_a_scenario_built_in_code_gets_the_capacity_cross_checks() -> None:
    """Scenario.model_validate skips the load; twin.run must still refuse a limited path
    that another path duplicates, with one ScenarioError naming the key path."""
    from twin.scenario.schema import Scenario
    lanes = [{"from": "A", "to": "B", "capacity": 1}, {"from": "B", "to": "A", "length": 25}]
    scenario = Scenario.model_validate(head_on(lanes))
    with pytest.raises(ScenarioError) as info:
        twin.run(scenario, workers=1)
    assert any(p.where.endswith("logistics.paths[0].capacity") for p in info.value.problems), \
        [(p.where, p.message) for p in info.value.problems]


def fm_states(res) -> dict:
    from twin.model import ALL_VEHICLE_STATES
    m = res.measures
    fm = m[(m["kind"] == "fleet") & (m["entity"] == "agv")].set_index("measure")["value"]
    return {s: fm[f"{s}_h"] for s in ALL_VEHICLE_STATES if f"{s}_h" in fm}


def test_a_battery_that_runs_flat_in_line_for_an_aisle_stops_the_replication(tmp_path) -> None:
    """Three AGVs at the threshold (0.3 kWh of 1) set out at 0 for the charger behind a
    20 m one-lane aisle at 30 kW to_charger: one drive takes 1/6 kWh (the reach check is
    met), but the second waits 20 s and drives 20 s: flat at 0.3 / 30 kW = 36 s = 0.01 h,
    as is the third, still in line. The replication fails naming a vehicle and the time."""
    doc = battery_fleet()
    f = doc["logistics"]["fleets"]["agv"]
    f["vehicles"] = 3
    f["battery"].update({"capacity_kwh": 1, "initial": 0.3, "chargers": {"C": 3}})
    f["power_kw"] = {"moving_empty": 1, "to_charger": 30}
    res = twin.run(load(write(tmp_path, doc)), workers=1)
    [failed] = res.meta["failed"]
    assert "ran flat at t = 0.01 h" in failed["error"]
    assert "agv/1" in failed["error"] or "agv/2" in failed["error"]


def test_loader_and_json_schema_agree_on_a_null_capacity(tmp_path) -> None:
    """`capacity: null`: the loader and the published JSON Schema must give the same
    verdict (an editor validating with the schema must not reject what twin runs, nor the
    reverse). The docs allow a whole number >= 1 or the key omitted."""
    jsonschema = pytest.importorskip("jsonschema")
    from twin.scenario.load import scenario_json_schema
    doc = head_on([{"from": "A", "to": "B", "capacity": None}])
    schema_ok = not list(jsonschema.Draft202012Validator(scenario_json_schema())
                         .iter_errors(doc))
    try:
        load(write(tmp_path, doc))
        loader_ok = True
    except ScenarioError as e:
        loader_ok = False
        assert [p.where for p in e.problems] == ["logistics.paths[0].capacity"]
    assert schema_ok == loader_ok, (schema_ok, loader_ok)


def test_a_vehicle_waiting_for_room_draws_its_driving_power(tmp_path) -> None:
    """Docs: the waiting vehicle draws the power of its driving state. f2 (2 kW driving
    loaded, 0.5 kW loading/unloading, 0 idle) waits 19 s and drives 20 s loaded:
    2 x 39 + 0.5 x 2 = 79 kJ = 79/3600 kWh."""
    doc = head_on(ONE_LANE)
    doc["logistics"]["fleets"]["f2"]["power_kw"] = {"moving_loaded": 2.0, "loading": 0.5,
                                                    "unloading": 0.5}
    _, out = run_doc(tmp_path, doc)
    assert mean(out["fleets"]["f2"]["energy_kwh"]) == pytest.approx(79 / 3600, rel=1e-12)


def test_a_saturated_one_lane_aisle_bounds_the_fleet_and_is_its_bottleneck(tmp_path) -> None:
    """Three AGVs shuttle over one 20 m one-lane aisle at 1 m/s, stations of 5 s: every
    trip takes the aisle twice (loaded there, empty back), 20 s each, one vehicle at a
    time, so at most 3600 / 40 = 90 trips per hour, and with three vehicles the aisle is
    never idle: ~90 trips/h, utilisation ~1, and the fleet (whose waiting vehicles count
    active) is the bottleneck resource."""
    doc = three_vehicles(1)
    doc["run"]["horizon"] = "2 h"
    for k in range(3):
        doc["stations"][f"t{k}"]["process_time"] = "5 s"
        doc["stations"][f"s{k}"]["process_time"] = "5 s"
    _, out = run_doc(tmp_path, doc)
    trips = mean(out["fleets"]["agv"]["trips_per_h"])
    assert trips <= 90 + 1e-9
    assert trips == pytest.approx(90, rel=0.01)
    assert mean(out["paths"]["A <-> B"]["utilization"]) == pytest.approx(1.0, abs=0.01)
    assert out["bottleneck"]["resource"] == "agv"
