"""Review tests for floors and lifts (merge b629bc5): hand traces with constant times
(first come first served across three floors, empty car runs in the caller's wait, the
nearest idle car, two lifts in sequence with rework back downstairs, warm-up in the middle
of a ride), batteries riding lifts (drain, a charger on another floor, the reach check by
hand), energy (peak demand, cost, the power timeline), identities on a stochastic
three-floor plant, determinism, scenarios without lifts unchanged, load-time checks and the
JSON Schema.

Tests that fail demonstrate bugs (see the review report):
- test_a_ride_to_a_charger_is_recharging_not_move_work
- test_a_move_no_path_allows_is_reported_not_a_crash_with_lifts_and_a_battery
- test_the_flowline_engine_simulates_or_refuses_a_lift
- test_a_boolean_is_no_floor_height_lift_speed_or_lift_power
- test_a_plant_with_lifts_builds_about_as_fast_as_one_without
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

import twin
from twin.errors import ScenarioError
from twin.scenario.load import load

from support import write_scenario

LIFT_STATES = ("moving_loaded", "moving_empty", "loading", "unloading", "idle")


def run_text(tmp_path, text: str, name: str = "s.yaml", **options):
    return twin.run(load(write_scenario(tmp_path, text, name)), **options)


def measures(res, kind: str, entity: str, replication: int = 0) -> dict[str, float]:
    m = res.measures
    sub = m[(m.kind == kind) & (m.entity == entity) & (m.replication == replication)]
    return dict(zip(sub["measure"], sub["value"]))


def seconds(d: dict[str, float], key: str) -> float:
    return d[key] * 3600


# --- hand traces: one-vehicle fleets whose calls happen at chosen times -------------------

def callers(vehicles, *, floors: dict[str, float], lift: str, run: str = '{horizon: "600 s"}',
            fleet_extra: str = "") -> str:
    """A scenario where each vehicle (name, from floor, to floor, call time) is the only
    vehicle of its own fleet f<name>: its station p<name> (process time call - 3 s) lies
    2 m from the lift point L<floor> of its floor, so the AGV (1 m/s, 1 s to load and to
    unload) calls the car exactly at the call time; its unit goes to d<name>, 1 m from the
    lift point of the target floor, where it stays (5000 s of processing): one trip each."""
    points = {f"L{f}": "[0, 0]" for f in floors}
    on = {f: [f"L{f}"] for f in floors}
    paths, products, stations, fleets = [], [], [], []
    for name, a, b, t in vehicles:
        points[f"p{name}"], points[f"d{name}"] = "[2, 0]", "[1, 0]"
        on[a].append(f"p{name}")
        on[b].append(f"d{name}")
        paths += [f"[p{name}, L{a}]", f"[L{b}, d{name}]"]
        products.append(f"  t{name}: {{route: [p{name}, d{name}], release: {{conwip: 1}}, "
                        f"transport: f{name}}}")
        stations += [f"  p{name}: {{process_time: {t - 3}}}",
                     f"  d{name}: {{process_time: \"5000 s\"}}"]
        fleets.append(f"    f{name}: {{vehicles: 1, speed_loaded: 1.0, load_time: 1, "
                      f"unload_time: 1, home: p{name}{fleet_extra}}}")
    nl = "\n"
    return f"""\
name: callers
run: {run}
products:
{nl.join(products)}
stations:
{nl.join(stations)}
logistics:
  points: {{{', '.join(f'{k}: {v}' for k, v in points.items())}}}
  floors:
{nl.join(f'    {f}: {{height: {h}, points: [{", ".join(on[f])}]}}' for f, h in floors.items())}
  paths: [{', '.join(paths)}]
  lifts:
    L:
{lift}
  fleets:
{nl.join(fleets)}
"""


THREE_FLOORS = {"G": 0, "M": 4, "T": 10}  # 0.5 m/s: G-M 8 s, M-T 12 s, G-T 20 s
ONE_CAR = """\
      points: {G: LG, M: LM, T: LT}
      speed: 0.5
      load_time: 2
      unload_time: 3
      home: T
      power_kw: {moving_loaded: 10, moving_empty: 6, loading: 1, unloading: 2, idle: 0.5}
"""
# c calls at T at 4 s (to G), a at G at 10 s (to M), b at T at 12 s (to M), d at M at 13 s
# (to G). By hand, one car standing at T:
#   c: ready 4 (wait 0), in 4-6, T->G 6-26, out 26-29                         ride 25
#   a: car at G: ready 29 (wait 19), in 29-31, G->M 31-39, out 39-42           ride 13
#   b: the oldest call (not d's, at M where the car stands): empty M->T 42-54,
#      ready 54 (wait 42), in 54-56, T->M 56-68, out 68-71                     ride 17
#   d: car at M: ready 71 (wait 58), in 71-73, M->G 73-81, out 81-84           ride 13
FIFO = [("c", "T", "G", 4), ("a", "G", "M", 10), ("b", "T", "M", 12), ("d", "M", "G", 13)]


def test_calls_from_three_floors_are_served_first_come_first_served(tmp_path) -> None:
    res = run_text(tmp_path, callers(FIFO, floors=THREE_FLOORS, lift=ONE_CAR))
    lift = measures(res, "lift", "L")
    assert lift["rides"] == 4  # each of the four trips crosses floors once
    assert seconds(lift, "wait_h") == pytest.approx((0 + 19 + 42 + 58) / 4)
    assert seconds(lift, "ride_h") == pytest.approx((25 + 13 + 17 + 13) / 4)
    hours = {s: seconds(lift, f"{s}_h") for s in LIFT_STATES}
    assert hours == pytest.approx({"moving_loaded": 20 + 8 + 12 + 8, "moving_empty": 12,
                                   "loading": 4 * 2, "unloading": 4 * 3,
                                   "idle": 600 - 80})
    kw = {"moving_loaded": 10, "moving_empty": 6, "loading": 1, "unloading": 2, "idle": 0.5}
    for s in LIFT_STATES:
        assert lift[f"energy_{s}_kwh"] == pytest.approx(kw[s] * hours[s] / 3600)
    # vehicles waiting for the car: 19 + 42 + 58 vehicle-seconds over 600 s
    assert lift["queue_mean"] == pytest.approx(119 / 600)
    for name, wait, ride in (("c", 0, 25), ("a", 19, 13), ("b", 42, 17), ("d", 58, 13)):
        agv = measures(res, "fleet", f"f{name}")
        assert seconds(agv, "waiting_lift_h") == pytest.approx(wait), name
        assert seconds(agv, "riding_lift_h") == pytest.approx(ride), name
        # load 1 + 2 m + wait + ride + 1 m + unload 1
        assert seconds(agv, "trip_h") == pytest.approx(5 + wait + ride), name
        assert agv["distance_km"] == pytest.approx(0.003), name  # metres driven, not ridden
    # the lift is active 4-84 s without a break: it is the (shifting) bottleneck then
    assert seconds(lift, "bottleneck_sole_h") + seconds(lift, "bottleneck_shifting_h") \
        == pytest.approx(80)


def test_the_nearest_idle_car_takes_a_call_not_the_lowest_or_longest_idle(tmp_path) -> None:
    """Two cars at T. x (T at 4 s, to G) gets car 0 (a tie: the lowest number): it ends at
    G at 29 s. y (M at 5 s, to T) gets car 1, which first comes down empty 12 s (wait 12),
    ends at T at 34 s. z calls at T at 50 s: car 1 stands there (car 0 is 20 s away, has
    the lower number and has been idle longer), so z waits 0."""
    lift = ONE_CAR.replace("home: T", "home: T\n      cars: 2")
    res = run_text(tmp_path, callers([("x", "T", "G", 4), ("y", "M", "T", 5),
                                      ("z", "T", "G", 50)], floors=THREE_FLOORS, lift=lift))
    car = measures(res, "lift", "L")
    assert car["rides"] == 3
    assert seconds(measures(res, "fleet", "fz"), "waiting_lift_h") == 0.0
    assert seconds(measures(res, "fleet", "fy"), "waiting_lift_h") == pytest.approx(12)
    assert seconds(car, "wait_h") == pytest.approx(12 / 3)
    assert seconds(car, "moving_empty_h") == pytest.approx(12)
    assert seconds(car, "moving_loaded_h") == pytest.approx(20 + 12 + 20)
    # two cars: car-hours sum to 2 x 600 s, idle power 0.5 kW per car
    assert sum(seconds(car, f"{s}_h") for s in LIFT_STATES) == pytest.approx(1200)
    assert car["energy_idle_kwh"] == pytest.approx(0.5 * (1200 - 52 - 12 - 6 - 9) / 3600)


def test_warmup_in_the_middle_of_a_ride_restarts_the_lift_clocks(tmp_path) -> None:
    """The FIFO trace with a warm-up of 35 s (a's ride is under way: G->M 31-39 s): the
    window [35, 635] s sees moving loaded 35-39, 56-68, 73-81 (24 s), empty 42-54 (12 s),
    loading 54-56, 71-73 (4 s), unloading 39-42, 68-71, 81-84 (9 s); rides completed a, b,
    d; rides begun b (wait 42) and d (wait 58); vehicles waiting 35-54 and 35-71."""
    res = run_text(tmp_path, callers(FIFO, floors=THREE_FLOORS, lift=ONE_CAR,
                                     run='{horizon: "600 s", warmup: "35 s"}'))
    lift = measures(res, "lift", "L")
    hours = {s: seconds(lift, f"{s}_h") for s in LIFT_STATES}
    assert hours == pytest.approx({"moving_loaded": 24, "moving_empty": 12, "loading": 4,
                                   "unloading": 9, "idle": 600 - 49})
    assert lift["rides"] == 3
    assert seconds(lift, "wait_h") == pytest.approx((42 + 58) / 2)
    assert seconds(lift, "ride_h") == pytest.approx((13 + 17 + 13) / 3)
    assert lift["queue_mean"] == pytest.approx((19 + 36) / 600)
    a = measures(res, "fleet", "fa")  # rode 35-42, drove 42-43, unloaded 43-44
    assert seconds(a, "riding_lift_h") == pytest.approx(7)
    assert seconds(a, "waiting_lift_h") == 0.0
    assert seconds(measures(res, "fleet", "fd"), "waiting_lift_h") == pytest.approx(36)


TWO_LIFTS = """\
name: two lifts in sequence
run: {horizon: "340 s"}
products:
  tray: {route: [g, {station: t, rework: {p: 0.999999, to: g}}], release: {conwip: 1}, transport: agv}
stations:
  g: {process_time: "10 s"}
  t: {process_time: "20 s"}
logistics:
  points: {g: [0, 0], a0: [10, 0], a1: [10, 0], b1: [30, 0], b2: [30, 0], t: [40, 0]}
  floors:
    G: {height: 0, points: [g, a0]}
    M: {height: 3, points: [a1, b1]}
    T: {height: 9, points: [b2, t]}
  paths: [[g, a0], [a1, b1], [b2, t]]
  lifts:
    A: {points: [a0, a1], speed: 1, load_time: 1, unload_time: 1,
        power_kw: {moving_loaded: 10, idle: 1}}
    B: {points: {M: b1, T: b2}, speed: 0.5, load_time: 2, unload_time: 2,
        power_kw: {moving_loaded: 20, loading: 2}}
  fleets:
    agv: {vehicles: 1, speed_loaded: 1.0, speed_empty: 2.0, load_time: 5, unload_time: 5,
          home: g}
"""


def test_two_lifts_in_sequence_and_rework_back_downstairs(tmp_path) -> None:
    """g (ground) -> t (top) needs lift A (G-M: 1 + 3 + 1 = 5 s) then lift B (M-T: 2 + 12 +
    2 = 16 s); every unit is reworked back to g (p = 0.999999: p = 1 is refused, as no unit
    could ever finish; a miss in these few draws has odds of about 1e-6), down the same way. One trip:
    load 5 + 10 m + A 5 + 20 m + B 16 + 10 m + unload 5 = 71 s; the AGV never drives empty
    (it waits at the station it delivered to). g at 0-10, trip 10-81, t 81-101, trip back
    101-172, g 172-182, trip 182-253, t 253-273, trip 273-344 (under way at 340)."""
    res = run_text(tmp_path, TWO_LIFTS)
    a, b = measures(res, "lift", "A"), measures(res, "lift", "B")
    assert a["rides"] == 4 and b["rides"] == 4  # A at 30, 157, 202, 329; B at 66, 132, 238, 304
    assert {s: seconds(a, f"{s}_h") for s in LIFT_STATES} == pytest.approx(
        {"moving_loaded": 12, "moving_empty": 0, "loading": 4, "unloading": 4, "idle": 320})
    assert {s: seconds(b, f"{s}_h") for s in LIFT_STATES} == pytest.approx(
        {"moving_loaded": 48, "moving_empty": 0, "loading": 8, "unloading": 8, "idle": 276})
    agv = measures(res, "fleet", "agv")
    assert agv["trips"] == 3
    assert seconds(agv, "trip_h") == pytest.approx(71)
    assert agv["distance_km"] == pytest.approx(0.120)
    assert seconds(agv, "riding_lift_h") == pytest.approx(4 * 5 + 4 * 16)
    assert seconds(agv, "moving_loaded_h") == pytest.approx(4 * 40)
    assert seconds(agv, "moving_empty_h") == 0.0
    assert seconds(agv, "idle_h") == pytest.approx(10 + 20 + 10 + 20)
    assert measures(res, "station", "t")["reworked"] == 2
    # lift energy: A 10 kW x 12 s + 1 kW x 320 s, B 20 kW x 48 s + 2 kW x 8 s
    lift_kwh = (10 * 12 + 320 + 20 * 48 + 2 * 8) / 3600
    doc = res.summary()
    assert doc["lifts"]["A"]["energy_kwh"]["mean"] + doc["lifts"]["B"]["energy_kwh"]["mean"] \
        == pytest.approx(lift_kwh)
    assert doc["energy"]["total_kwh"]["mean"] == pytest.approx(lift_kwh)  # nothing else draws
    assert doc["energy"]["by_area"]["logistics"]["kwh"]["mean"] == pytest.approx(lift_kwh)


def test_a_same_floor_move_follows_the_faster_path_not_the_shorter_drive(tmp_path) -> None:
    """a and b are on the ground floor, 50 m apart (50 s). Two lifts make a detour over the
    first floor with only 6 m of driving but two rides of 30 s: 66 s. The path is faster,
    so no lift is used (a router by metres driven would take the lifts)."""
    text = """\
name: same floor
run: {horizon: "1 h"}
products:
  tray: {route: [a, b], transport: agv}
stations:
  a: {process_time: "60 s"}
  b: {process_time: "60 s"}
logistics:
  points: {a: [0, 0], b: [50, 0], p0: [0, 2], p1: [0, 2], q1: [2, 2], q0: [2, 2]}
  floors:
    ground: {height: 0, points: [a, b, p0, q0]}
    first: {height: 6, points: [p1, q1]}
  paths: [[a, b], [a, p0], [p1, q1], {from: q0, to: b, length: 2}]
  lifts:
    up: {points: [p0, p1], speed: 0.3, load_time: 5, unload_time: 5}
    down: {points: [q1, q0], speed: 0.3, load_time: 5, unload_time: 5}
  fleets:
    agv: {vehicles: 1, speed_loaded: 1, home: a}
"""
    res = run_text(tmp_path, text)
    assert measures(res, "lift", "up")["rides"] == 0
    assert measures(res, "lift", "down")["rides"] == 0
    agv = measures(res, "fleet", "agv")
    assert agv["trips"] > 0
    assert seconds(agv, "trip_h") == pytest.approx(50)


# --- batteries -----------------------------------------------------------------------------

def test_batteries_drain_while_waiting_for_and_riding_a_car(tmp_path) -> None:
    """The FIFO trace with batteries: d waited 58 s at waiting_lift 3.6 kW and rode 13 s
    at riding_lift 1.8 kW; the charge falls by exactly the energy of its states."""
    battery = (", power_kw: {moving_loaded: 0.36, waiting_lift: 3.6, riding_lift: 1.8}, "
               "battery: {capacity_kwh: 10, recharge_below: 0.1, charge_kw: 5, chargers: [DROP]}")
    text = callers(FIFO, floors=THREE_FLOORS, lift=ONE_CAR, fleet_extra=battery)
    for name in "cabd":  # each fleet charges at its own drop point
        text = text.replace("DROP]}}", f"d{name}]}}}}", 1)
    res = run_text(tmp_path, text)
    d = measures(res, "fleet", "fd")
    assert d["energy_waiting_lift_kwh"] == pytest.approx(3.6 * 58 / 3600)
    assert d["energy_riding_lift_kwh"] == pytest.approx(1.8 * 13 / 3600)
    drawn = 0.36 * 3 / 3600 + 3.6 * 58 / 3600 + 1.8 * 13 / 3600
    assert d["battery_start_kwh"] - d["battery_end_kwh"] == pytest.approx(drawn)
    assert d["charges"] == 0


CHARGE_UPSTAIRS = """\
name: charger upstairs
run: {horizon: "600 s"}
products:
  tray: {route: [a, b], release: {conwip: 1}, transport: agv}
stations:
  a: {process_time: "1 s"}
  b: {process_time: "5000 s"}
logistics:
  points: {a: [0, 0], b: [10, 0], l0: [0, 0], l1: [0, 0], ch: [5, 0]}
  floors:
    ground: {height: 0, points: [a, b, l0]}
    first: {height: 6, points: [l1, ch]}
  paths: [[a, b], [a, l0], [l1, ch]]
  lifts:
    lift: {points: [l0, l1], speed: 0.5, load_time: 4, unload_time: 4}
  fleets:
    agv:
      vehicles: 1
      speed_loaded: 1.0
      home: a
      power_kw: {moving_loaded: 1.0, moving_empty: 1.0, idle: 0.0, riding_lift: 0.5}
      battery: {capacity_kwh: 1.0, initial: 0.2, recharge_below: 0.2, charge_to: 0.21,
                charge_kw: 3.6, chargers: [ch]}
"""


def test_a_ride_to_a_charger_is_recharging_not_move_work(tmp_path) -> None:
    """The AGV starts at the threshold at a (ground); its only charger is upstairs. By hand:
    0-20 s it rides up (4 + 12 + 4) on its way to charge, 20-25 s drives 5 m to the charger,
    charges 25-39.17 s (to 0.21 kWh at 3.6 kW), then carries the unit requested at 1 s:
    5 m empty to the lift, rides down 20 s, drives 10 m loaded to b (ends at 74.17 s).
    Working for moves: 5 + 20 + 10 = 35 s; recharging: 20 + 5 + 14.17 = 39.17 s.

    (Was a bug.) The ride to the charger was counted as move work (utilisation) while
    "vehicles recharging ... are not working, so not in the utilisation"; it stays in the
    lift states (their power) but now counts as recharging (`lift_to_charger_h`)."""
    res = run_text(tmp_path, CHARGE_UPSTAIRS)
    m = measures(res, "fleet", "agv")
    assert m["charges"] == 1
    assert seconds(m, "charging_h") == pytest.approx(0.21 / 0.001 - 0.195833333 / 0.001,
                                                     abs=1e-3)
    assert m["to_charger_km"] == pytest.approx(0.005)  # metres driven, not ridden
    charging_s = seconds(m, "charging_h")
    doc = res.summary()["fleets"]["agv"]
    assert doc["utilization"]["mean"] == pytest.approx(35 / 600)
    assert doc["battery"]["charging_share"]["mean"] == pytest.approx((20 + 5 + charging_s) / 600)


def reach_scenario(recharge_below: float) -> str:
    return f"""\
name: reach with a three-stop lift
run: {{horizon: "1 h"}}
products:
  tray: {{route: [a, b], transport: agv}}
stations:
  a: {{process_time: "60 s"}}
  b: {{process_time: "60 s"}}
logistics:
  points: {{a: [0, 0], LG: [10, 0], LM: [10, 0], LT: [10, 0], b: [30, 0], ch: [15, 0]}}
  floors:
    G: {{height: 0, points: [a, LG]}}
    M: {{height: 4, points: [LM, b]}}
    T: {{height: 10, points: [LT, ch]}}
  paths: [[a, LG], [LM, b], [LT, ch]]
  lifts:
    L: {{points: [LG, LM, LT], speed: 0.5, load_time: "4 s",
         unload_time: {{uniform: ["2 s", "6 s"]}}}}
  fleets:
    agv:
      vehicles: 1
      speed_loaded: 1
      speed_empty: 2
      load_time: 5
      unload_time: 5
      home: a
      power_kw: {{moving_loaded: 3.6, moving_empty: 1.8, loading: 0.36, unloading: 0.36,
                 waiting_lift: 0.72, riding_lift: 0.36}}
      battery: {{capacity_kwh: 1, recharge_below: {recharge_below}, charge_kw: 10,
                chargers: [ch]}}
"""


def test_the_reach_check_with_a_three_stop_lift_by_hand(tmp_path) -> None:
    """kW·s (= kWh x 3600). A ride waits for a car from the farthest stop at 0.72 kW and
    rides (4 s in + travel + 6 s out, the longest of the uniform) at 0.36 kW:
    G->M 20 s wait + 18 s ride = 20.88; M->G 12 + 18 = 15.12; M->T 12 + 22 = 16.56.
    Driving: empty 0.9 per metre (1.8 kW at 2 m/s), loaded 3.6 per metre.
    Worst: from b empty to a (20 m + M->G + 10 m = 42.12), handling 3.6, loaded a -> b
    (30 m + G->M = 128.88), then b to the charger (20 m + M->T + 5 m = 39.06): 213.66."""
    worst = (18 + 15.12 + 9 + 3.6 + 108 + 20.88 + 18 + 16.56 + 4.5) / 3600
    with pytest.raises(ScenarioError) as info:
        load(write_scenario(tmp_path, reach_scenario(0.05), "low.yaml"))
    text = str(info.value)
    assert "logistics.fleets.agv.battery.recharge_below" in text
    assert f"{worst:.4g} kWh" in text
    assert "Raise recharge_below to at least 0.06" in text
    load(write_scenario(tmp_path, reach_scenario(0.06), "ok.yaml"))  # enough


CRASH = """\
name: no way back
run: {horizon: "1 h"}
products:
  tray: {route: [a, b], transport: agv}
stations:
  a: {process_time: "10 s"}
  b: {process_time: "10 s"}
logistics:
  points: {a: [0, 0], l0: [5, 0], l1: [5, 0], b: [9, 0]}
  floors: {ground: {height: 0, points: [a, l0]}, first: {height: 6, points: [l1, b]}}
  paths: [[a, l0], {from: b, to: l1, one_way: true}]
  lifts: {lift: {points: [l0, l1], speed: 1}}
  fleets:
    agv:
      vehicles: 1
      speed_loaded: 1
      home: a
      battery: {capacity_kwh: 1, recharge_below: 0.2, charge_kw: 5, chargers: [a]}
"""


def test_a_move_no_path_allows_is_reported_not_a_crash_with_lifts_and_a_battery(
        tmp_path) -> None:
    """The only path on the first floor runs one way, from b to the lift: a unit can never
    be carried from a to b. Without a battery (or without lifts) this is the clear message
    "fleet agv cannot carry units from a ... to b"; with a battery and lifts the reach check
    walks the missing route (Routes.legs follows predecessor -9999) and load() dies with
    KeyError: (-9999, 3) ("internal error", exit 1 from `twin validate`)."""
    path = write_scenario(tmp_path, CRASH, "crash.yaml")
    with pytest.raises(ScenarioError) as info:
        load(path)
    assert "products.tray.route[0]" in str(info.value)
    assert "cannot carry units from a" in str(info.value)


# --- energy on the grid ---------------------------------------------------------------------

PEAK = """\
name: lift peak
run: {horizon: "30 min"}
products:
  tray: {route: [a, b], release: {conwip: 1}, transport: agv}
stations:
  a: {process_time: "1000 s", power_kw: {busy: 3.6}}
  b: {process_time: "5000 s"}
logistics:
  points: {a: [0, 0], lift-0: [20, 0], lift-1: [20, 0], b: [30, 0]}
  floors:
    ground: {height: 0, points: [a, lift-0]}
    first: {height: 6, points: [lift-1, b]}
  paths: [[a, lift-0], [lift-1, b]]
  lifts:
    lift: {points: [lift-0, lift-1], speed: 0.5, load_time: 4, unload_time: 4,
           power_kw: {moving_loaded: 360}}
  fleets:
    agv: {vehicles: 1, speed_loaded: 1.0, load_time: 5, unload_time: 5, home: a}
energy:
  tariff: 0.5
  co2_kg_per_kwh: 2
"""


def test_peak_demand_cost_and_power_timeline_include_the_lift(tmp_path) -> None:
    """a is busy 0-1000 s at 3.6 kW: 0.9 kWh in the first 15 min (3.6 kW), 0.1 kWh in the
    second. The unit rides at 1025-1045 s, the car moving 12 s at 360 kW: 1.2 kWh in the
    second interval, whose mean is (0.1 + 1.2) / 0.25 h = 5.2 kW: the peak, only with the
    lift (without it, 3.6 kW in the first)."""
    from twin.analysis.energy import power_series
    res = run_text(tmp_path, PEAK)
    energy = res.summary()["energy"]
    assert energy["total_kwh"]["mean"] == pytest.approx(2.2)
    assert energy["peak_kw"]["mean"] == pytest.approx(5.2)
    assert energy["peak_at_h"] == [[0.25, 0.5]]
    assert energy["cost"]["electricity"]["mean"] == pytest.approx(0.5 * 2.2)
    assert energy["co2_kg"]["mean"] == pytest.approx(2 * 2.2)
    power = power_series(res.timeline, res.meta)
    assert list(power["lift_kw"]) == pytest.approx([0.0, 4.8])
    assert (power["lift_kw"] * power["interval_h"]).sum() == pytest.approx(1.2)
    assert list(power["net_kw"]) == pytest.approx([3.6, 5.2])


# --- identities on a stochastic plant --------------------------------------------------------

STOCHASTIC = """\
name: stochastic three floors
run: {horizon: "12 h", warmup: "37 min", replications: 2, seed: 5}
products:
  cell:
    route: [a, {station: m, rework: {p: 0.2, to: a}}, {station: t, rework: {p: 0.1, to: m}}, g2]
    release: {interarrival: {exponential: "300 s"}}
    transport: agv
stations:
  a: {process_time: {exponential: "40 s"}, power_kw: {busy: 5}}
  m: {process_time: {gamma: {mean: "50 s", cv: 0.5}}, buffer: 6,
      failures: {mtbf: {exponential: "1 h"}, mttr: {exponential: "5 min"}}}
  t: {process_time: {uniform: ["30 s", "60 s"]}, servers: 2}
  g2: {process_time: "20 s"}
logistics:
  points: {depot: [0, 0], a: [10, 0], g2: [15, 5], LG: [20, 0], KG: [24, 0], LM: [20, 0],
           m: [30, 0], KM: [24, 0], LT: [20, 0], KT: [24, 0], t: [35, 10]}
  floors:
    G: {height: 0, points: [depot, a, g2, LG, KG]}
    M: {height: 4.5, points: [LM, m, KM]}
    T: {height: 11, points: [LT, KT, t]}
  paths: [[depot, a], [a, LG], [a, g2], [LG, KG], [LM, m], [m, KM], [LT, t], [t, KT]]
  lifts:
    east: {points: [LG, LM, LT], cars: 2, speed: 0.6, load_time: {uniform: ["5 s", "9 s"]},
           unload_time: {exponential: "6 s"}, home: M,
           power_kw: {moving_loaded: 12, moving_empty: 8, loading: 1.5, unloading: 1.2,
                      idle: 0.4}}
    west: {points: {G: KG, T: KT}, speed: 1.2, load_time: "3 s", unload_time: "3 s",
           power_kw: {moving_loaded: 20, moving_empty: 15, loading: 2, unloading: 2,
                      idle: 0.7}}
  fleets:
    agv:
      vehicles: 3
      speed_loaded: 1.0
      speed_empty: 1.5
      load_time: {triangular: ["4 s", "5 s", "8 s"]}
      unload_time: "5 s"
      home: depot
      power_kw: {moving_loaded: 1.5, moving_empty: 1.0, loading: 0.5, unloading: 0.5,
                 idle: 0.2, waiting_lift: 0.3, riding_lift: 0.25}
      battery: {capacity_kwh: 0.4, recharge_below: 0.35, charge_to: 0.9, charge_kw: 3,
                efficiency: 0.9, chargers: {depot: 1, t: 1}}
"""
EAST_KW = {"moving_loaded": 12, "moving_empty": 8, "loading": 1.5, "unloading": 1.2,
           "idle": 0.4}
WEST_KW = {"moving_loaded": 20, "moving_empty": 15, "loading": 2, "unloading": 2, "idle": 0.7}


@pytest.fixture(scope="module")
def stochastic(tmp_path_factory):
    path = write_scenario(tmp_path_factory.mktemp("stoch"), STOCHASTIC, "stoch.yaml")
    return path, twin.run(load(path))


def test_lift_and_vehicle_identities_hold_on_a_stochastic_plant(stochastic) -> None:
    _, res = stochastic
    m = res.measures
    tl = res.timeline
    assert sorted(m.replication.unique()) == [0, 1]
    for r in (0, 1):
        period_h = measures(res, "system", "", r)["period_h"]
        riding_cars = waiting_area = 0.0
        for name, kw in (("east", EAST_KW), ("west", WEST_KW)):
            lift = measures(res, "lift", name, r)
            # car states sum to cars x period; energy = power x time per state
            assert sum(lift[f"{s}_h"] for s in LIFT_STATES) == pytest.approx(
                lift["cars"] * period_h, rel=1e-12)
            for s in LIFT_STATES:
                assert lift[f"energy_{s}_kwh"] == pytest.approx(kw[s] * lift[f"{s}_h"])
            # the timeline's interval energies add up to the lift's energy
            assert tl[(tl.replication == r) & (tl.kind == "lift") & (tl.entity == name)
                      & (tl.measure == "energy_kwh")]["value"].sum() == pytest.approx(
                sum(lift[f"energy_{s}_kwh"] for s in LIFT_STATES))
            riding_cars += lift["loading_h"] + lift["moving_loaded_h"] + lift["unloading_h"]
            waiting_area += lift["queue_mean"] * period_h
        agv = measures(res, "fleet", "agv", r)
        states = ("moving_loaded", "moving_empty", "loading", "unloading", "waiting", "idle",
                  "to_charger", "waiting_charger", "charging", "waiting_lift", "riding_lift")
        assert sum(agv[f"{s}_h"] for s in states) == pytest.approx(3 * period_h, rel=1e-12)
        # a vehicle rides exactly while a car carries it; it waits while the lift's line
        # counts it
        assert agv["riding_lift_h"] == pytest.approx(riding_cars, rel=1e-9)
        assert agv["waiting_lift_h"] == pytest.approx(waiting_area, rel=1e-9)
        # battery balance with lift states drawing from it
        drawn = sum(agv[f"energy_{s}_kwh"] for s in states)
        assert agv["battery_end_kwh"] - agv["battery_start_kwh"] == pytest.approx(
            agv["charged_kwh"] - drawn, abs=1e-9)
    doc = res.summary()
    assert doc["lifts"]["east"]["rides_per_h"]["mean"] > 10  # the lifts are really used
    for lift in doc["lifts"].values():
        assert sum(lift["states"].values()) == pytest.approx(1.0)
        # Little's law for the lift's line: queue = rides per hour x mean wait (+- edges)
        assert lift["queue_mean"]["mean"] == pytest.approx(
            lift["rides_per_h"]["mean"] * lift["wait_h"]["mean"], rel=0.05, abs=1e-3)
    assert sum(doc["fleets"]["agv"]["states"].values()) == pytest.approx(1.0)
    bn = doc["bottleneck"]
    shares = {**bn["share"], **bn["fleets"], **bn["lifts"]}
    assert all(0.0 <= v <= 1.0 + 1e-9 for v in shares.values())
    assert sum(bn["sole"][n]["mean"] for n in shares) <= 1.0 + 1e-9
    # Little's law for the plant, units on vehicles riding lifts included
    assert doc["checks"]["littles_law_wip"]["mean"] == pytest.approx(doc["wip"]["mean"],
                                                                     rel=0.05)
    # lifts are electricity of area logistics, in the total
    lifts_kwh = sum(lift["energy_kwh"]["mean"] for lift in doc["lifts"].values())
    charger_kwh = doc["fleets"]["agv"]["battery"]["charger_kwh"]["mean"]
    assert doc["energy"]["by_area"]["logistics"]["kwh"]["mean"] == pytest.approx(
        lifts_kwh + charger_kwh)


def test_same_seed_same_results_with_one_or_two_workers(stochastic) -> None:
    path, res = stochastic
    again = twin.run(load(path), workers=2)
    cols = ["replication", "kind", "entity", "measure"]
    pd.testing.assert_series_equal(res.measures.set_index(cols)["value"],
                                   again.measures.set_index(cols)["value"], check_exact=True)
    a, b = res.summary(), again.summary()
    for doc in (a, b):
        doc.pop("timing")
    assert json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True,
                                                                    default=str)


# --- scenarios without lifts -----------------------------------------------------------------

PLAIN = """\
name: battery shuttle
run: {horizon: "8 h", warmup: "30 min", replications: 2, seed: 3}
products:
  tray: {route: [a, {station: b, rework: {p: 0.1, to: a}}], release: saturated,
         transport: agv}
stations:
  a: {process_time: {exponential: "40 s"}, buffer: 2}
  b: {process_time: {exponential: "30 s"}, buffer: 2, calendar: cal}
calendars:
  cal: {shifts: [["0 h", "3 h"], ["3.5 h", "24 h"]]}
logistics:
  points: {depot: [0, 10], a: [0, 0], b: [30, 0], c: [40, 5]EXTRA_POINTS}
  paths: [[depot, a], [a, b], [b, c], [c, depot]EXTRA_PATHS]
  fleets:
    agv:
      vehicles: 2
      speed_loaded: 1.5
      speed_empty: 2.0
      load_time: {uniform: ["4 s", "6 s"]}
      unload_time: "5 s"
      home: depot
      power_kw: {moving_loaded: 1.5, moving_empty: 1.0, idle: 0.3}
      battery: {capacity_kwh: 1.0, recharge_below: 0.3, charge_kw: 3, chargers: [depot, c]}
"""


def test_an_unused_lift_or_one_floor_changes_no_other_measure(tmp_path) -> None:
    """A battery fleet (charger choice, reach), rework by vehicle and a calendar: the same
    run with every point on one floor, and with an unused lift to a mezzanine, gives the
    same station, product, system and fleet measures (the fleet's lift states are 0); the
    idle lift's 2 kW only add to the energy and the peak demand."""
    plain = PLAIN.replace("EXTRA_POINTS", "").replace("EXTRA_PATHS", "")
    one_floor = plain + "  floors: {hall: {height: 0, points: [depot, a, b, c]}}\n"
    lifted = PLAIN.replace("EXTRA_POINTS", ", m0: [50, 0], m1: [50, 0]").replace(
        "EXTRA_PATHS", ", [c, m0]") + """\
  floors:
    ground: {height: 0, points: [depot, a, b, c, m0]}
    mezzanine: {height: 4, points: [m1]}
  lifts:
    hoist: {points: [m0, m1], speed: 0.4, load_time: {uniform: ["3 s", "5 s"]},
            power_kw: {idle: 2}}
"""
    results = [run_text(tmp_path, t, f"{i}.yaml") for i, t in
               enumerate((plain, one_floor, lifted))]
    cols = ["replication", "kind", "entity", "measure"]

    def core(res):
        m = res.measures
        m = m[m.kind.isin(["station", "product", "system", "fleet"])
              & ~m.measure.str.contains("lift") & (m.measure != "peak_station_kw")]
        return m.set_index(cols)["value"]

    base = core(results[0])
    assert base.loc[(0, "fleet", "agv", "charges")] > 0  # the batteries matter
    for res in results[1:]:
        pd.testing.assert_series_equal(base, core(res), check_exact=True)
    # the lift's 2 kW standing idle are on the grid: in the peak and the total
    for r in (0, 1):
        assert measures(results[2], "system", "", r)["peak_station_kw"] == pytest.approx(
            measures(results[0], "system", "", r)["peak_station_kw"] + 2)
        assert measures(results[1], "system", "", r)["peak_station_kw"] == \
            measures(results[0], "system", "", r)["peak_station_kw"]
    hoist = measures(results[2], "lift", "hoist")
    assert hoist["rides"] == 0
    assert hoist["energy_idle_kwh"] == pytest.approx(2 * 8)
    doc = results[2].summary()
    assert doc["energy"]["total_kwh"]["mean"] == pytest.approx(
        results[0].summary()["energy"]["total_kwh"]["mean"] + 16)


def test_the_flowline_engine_simulates_or_refuses_a_lift(tmp_path) -> None:
    """A line (in the flowline engine's reach) in a building with a goods lift that draws
    3 kW standing idle. docs/flowline.md: "for every scenario in its reach it gives the same
    answer as the SimPy engine". BUG: the flowline engine neither refuses the lift nor
    counts it: total_kwh 2 instead of 8 (the SimPy engine's), no `lifts` block."""
    text = """\
name: line with a lift
run: {horizon: "2 h"}
products:
  tray: {route: [a, b]}
stations:
  a: {process_time: "30 s", power_kw: {busy: 1}}
  b: {process_time: "20 s"}
logistics:
  points: {m0: [20, 0], m1: [20, 0]}
  floors:
    g: {height: 0, points: [m0]}
    u: {height: 4, points: [m1]}
  lifts:
    hoist: {points: [m0, m1], speed: 0.4, power_kw: {idle: 3}}
"""
    scenario = load(write_scenario(tmp_path, text, "fl.yaml"))
    simpy_doc = twin.run(scenario).summary()
    assert simpy_doc["energy"]["total_kwh"]["mean"] == pytest.approx(2 + 6)
    try:
        flow_doc = twin.run(scenario, engine="flowline").summary()
    except ScenarioError as e:  # refusing the lift, with its place, is a fix too
        assert "lift" in str(e)
        return
    assert flow_doc["energy"]["total_kwh"]["mean"] == pytest.approx(
        simpy_doc["energy"]["total_kwh"]["mean"])
    assert "lifts" in flow_doc


# --- load-time checks and the JSON Schema -----------------------------------------------------

BAD_BASE = """\
name: bad lifts
run: {horizon: "1 h"}
products:
  tray: {route: [a, b], transport: agv}
stations:
  a: {process_time: "10 s"}
  b: {process_time: "10 s"}
logistics:
  points: {a: [0, 0], l0: [5, 0], l1: [5, 0], b: [9, 0], c: [1, 1]}
  floors: {ground: {height: 0, points: [a, l0, c]}, first: {height: 6, points: [l1, b]}}
  paths: [[a, l0], [l1, b]]
  lifts: {lift: LIFT}
  fleets:
    agv: {vehicles: 1, speed_loaded: 1, home: a}
"""
GOOD_LIFT = "{points: [l0, l1], speed: 1}"


@pytest.mark.parametrize("lift, base_edit, where, fragment", [
    ("{points: {ground: l0}, speed: 1}", None, "logistics.lifts.lift.points",
     "at least 2"),
    ("{points: [l0, l0], speed: 1}", None, "logistics.lifts.lift.points[1]",
     "stops twice on floor ground"),
    ("{points: [l0, l1], speed: 1, home: frist}", None, "logistics.lifts.lift.home",
     "Did you mean 'first'?"),
    ("{points: {grund: l0, first: l1}, speed: 1}", None, "logistics.lifts.lift.points.grund",
     "Did you mean 'ground'?"),
    ("{points: {ground: l00, first: l1}, speed: 1}", None,
     "logistics.lifts.lift.points.ground", "Did you mean 'l0'?"),
    ("{points: {ground: l1, first: l0}, speed: 1}", None,
     "logistics.lifts.lift.points.ground", "lies on floor first"),
    ("{points: [l0, l1], sped: 1}", None, "logistics.lifts.lift.sped",
     "Did you mean 'speed'?"),
    ("{points: [l0, l1], speed: 1, power_kw: {idel: 1}}", None,
     "logistics.lifts.lift.power_kw.idel", "Did you mean 'idle'?"),
    ("{points: [l0, l1], speed: 0}", None, "logistics.lifts.lift.speed", "greater than 0"),
    ("{points: [l0, l1], speed: 1, cars: 0}", None, "logistics.lifts.lift.cars", "at least 1"),
    ("{points: [l0, l1], speed: 1, cars: 1.5}", None, "logistics.lifts.lift.cars",
     "whole number"),
    (GOOD_LIFT, ("height: 6", "height: 0.0"), "logistics.floors.first.height",
     "both at 0 m"),
    (GOOD_LIFT, ("[l1, b]}", "[l1, b, a]}"), "logistics.floors.first.points[2]",
     "already on floor ground"),
    (GOOD_LIFT, (", c]}", "]}"), "logistics.points.c", "on no floor"),
    (GOOD_LIFT, (", c]}", ", c, bb]}"), "logistics.floors.ground.points[3]",
     "Did you mean 'b'?"),
    (GOOD_LIFT, ("[[a, l0], [l1, b]]", "[[a, l0], [l1, b], [c, b]]"), "logistics.paths[2]",
     "joins two floors"),
    (GOOD_LIFT, ("lifts: {lift:", "lifts: {agv:"), "logistics.lifts.agv",
     "name of a fleet"),
    (GOOD_LIFT, ("lifts: {lift:", "lifts: {a:"), "logistics.lifts.a", "name of a station"),
    (GOOD_LIFT, ("  lifts: {lift: LIFT}\n", ""), "products.tray.route[0]",
     "b is on floor first and a on floor ground"),
    (GOOD_LIFT, ("  floors: {ground: {height: 0, points: [a, l0, c]}, first: {height: 6, "
                 "points: [l1, b]}}\n", ""), "logistics.lifts.lift", "needs floors"),
    (GOOD_LIFT, ("home: a}", "home: a, power_kw: {riding_lfit: 1}}"),
     "logistics.fleets.agv.power_kw.riding_lfit", "Did you mean 'riding_lift'?"),
])
def test_each_documented_refusal_names_its_place(tmp_path, lift, base_edit, where,
                                                 fragment) -> None:
    text = BAD_BASE
    if base_edit:
        assert base_edit[0] in text
        text = text.replace(*base_edit)
    text = text.replace("LIFT", lift)
    path = write_scenario(tmp_path, text, "bad.yaml")
    with pytest.raises(ScenarioError) as info:
        load(path)
    message = str(info.value)
    assert f"{path}: {where} (" in message, message
    assert fragment in message, message


def test_valid_combinations_are_not_refused(tmp_path) -> None:
    """A list of stops in another order than the floors, a basement (negative height), a
    home on the last floor, two lifts sharing a floor, a station served at a lift point,
    a lift no vehicle needs."""
    text = """\
name: valid lifts
run: {horizon: "10 min"}
products:
  tray: {route: [a, b, c], transport: agv}
stations:
  a: {process_time: "10 s"}
  b: {process_time: "10 s", at: l1}
  c: {process_time: "10 s"}
logistics:
  points: {a: [0, 0], l0: [5, 0], l1: [5, 0], lb: [5, 0], k0: [9, 0], k1: [9, 0], c: [12, 0]}
  floors:
    first: {height: 6, points: [l1, k1]}
    ground: {height: 0, points: [a, l0, k0, c]}
    basement: {height: -4.5, points: [lb]}
  paths: [[a, l0], [l1, k1], [k0, c]]
  lifts:
    main: {points: [lb, l1, l0], speed: 1, home: ground, cars: 2}
    side: {points: {ground: k0, first: k1}, speed: 1}
  fleets:
    agv: {vehicles: 1, speed_loaded: 1, home: a}
"""
    res = run_text(tmp_path, text)
    assert measures(res, "lift", "main")["rides"] >= 1  # a -> b (at l1) up the main lift
    assert measures(res, "product", "tray")["finished"] >= 1


def schema_errors(doc: dict) -> list[str]:
    import jsonschema
    from twin.scenario.load import scenario_json_schema
    validator = jsonschema.Draft202012Validator(scenario_json_schema())
    return [e.message for e in validator.iter_errors(doc)]


def test_the_json_schema_accepts_and_refuses_lifts_as_the_loader_does(tmp_path) -> None:
    import yaml
    for text in (STOCHASTIC, TWO_LIFTS, PEAK):
        doc = yaml.safe_load(text)
        assert schema_errors(doc) == []
        load(write_scenario(tmp_path, text, "ok.yaml"))
    refused = ["{points: [l0], speed: 1}", "{points: {ground: l0}, speed: 1}",
               "{points: [l0, l0], speed: 1}", "{points: [l0, l1], speed: 0}",
               "{points: [l0, l1], speed: 1, cars: 0}", "{points: [l0, l1], sped: 1}",
               "{points: [l0, l1], speed: 1, power_kw: {idle: -1}}",
               "{points: [l0, l1], speed: 1, power_kw: {idel: 1}}",
               "{points: [l0, l1], speed: 1, home: ''}"]
    for lift in refused:
        text = BAD_BASE.replace("LIFT", lift)
        assert schema_errors(yaml.safe_load(text)), lift
        with pytest.raises(ScenarioError):
            load(write_scenario(tmp_path, text, "bad.yaml"))


def test_a_boolean_is_no_floor_height_lift_speed_or_lift_power(tmp_path) -> None:
    """`height: true` (a slip for a number) is refused by the JSON Schema ("type":
    "number") but the loader takes it as 1 m; the same for a lift's `speed` and
    `power_kw`. BUG: the loader and the schema disagree, and the mistake passes silently
    (the float fields of the schema accept booleans: pydantic's lax float)."""
    import yaml
    cases = [BAD_BASE.replace("LIFT", GOOD_LIFT).replace("height: 6", "height: true"),
             BAD_BASE.replace("LIFT", "{points: [l0, l1], speed: true}"),
             BAD_BASE.replace("LIFT", "{points: [l0, l1], speed: 1, power_kw: {idle: true}}")]
    for text in cases:
        assert schema_errors(yaml.safe_load(text))  # the schema refuses it
        with pytest.raises(ScenarioError):  # so must the loader
            load(write_scenario(tmp_path, text, "bool.yaml"))


# --- scale ---------------------------------------------------------------------------------

def grid_plant(n: int, lifts: bool) -> str:
    """Two floors of n x n points 5 m apart (aisles along both axes), a at one corner of
    the ground floor, b at the far corner of the first floor (with `lifts`: two lifts join
    the floors; without: b is on the ground floor and there are no floors)."""
    points, on, paths = [], {0: [], 1: []}, []
    for fl in (0, 1):
        for i in range(n):
            for j in range(n):
                name = f"p{fl}_{i}_{j}"
                points.append(f"{name}: [{i * 5}, {j * 5}]")
                on[fl].append(name)
                if i:
                    paths.append(f"[p{fl}_{i - 1}_{j}, {name}]")
                if j:
                    paths.append(f"[p{fl}_{i}_{j - 1}, {name}]")
    top = f"p{1 if lifts else 0}_{n - 1}_{n - 1}"
    text = f"""\
name: grid
run: {{horizon: "1 h"}}
products:
  t: {{route: [a, b], transport: agv}}
stations:
  a: {{process_time: "60 s", at: p0_0_0}}
  b: {{process_time: "60 s", at: {top}}}
logistics:
  points: {{{', '.join(points)}}}
  paths: [{', '.join(paths)}]
  fleets:
    agv: {{vehicles: 2, speed_loaded: 1, speed_empty: 1.5, home: p0_0_0}}
"""
    if lifts:
        text += f"""\
  floors:
    g: {{height: 0, points: [{', '.join(on[0])}]}}
    u: {{height: 5, points: [{', '.join(on[1])}]}}
  lifts:
    L1: {{points: [p0_3_3, p1_3_3], speed: 1}}
    L2: {{points: [p0_12_12, p1_12_12], speed: 1}}
"""
    return text


def test_a_plant_with_lifts_keeps_routes_only_where_vehicles_go(tmp_path) -> None:
    """512 points (mostly waypoints). (Was a bug, found as a 100x slower model build.)
    twin.model.fleet_routes wrote out every route between every pair of points, twice
    (loaded and empty): 2 x 262,144 tuples of legs, 28 MB pickled and sent to every worker.
    Only routes between points where vehicles stand or go (home, stations' points,
    chargers) are ever used; the model keeps only those. (Structural, not timed: speed
    goals live in benchmarks/.)"""
    from twin.model import build
    lifted = load(write_scenario(tmp_path, grid_plant(16, lifts=True), "lifted.yaml"))
    model = build(lifted)
    fleet = model.fleets[0]
    assert model.lifts and fleet.routes_loaded is not None
    stands = {fleet.home, *(s.point for s in model.stations if s.point >= 0)}
    if fleet.battery is not None:
        stands |= {p for p, _ in fleet.battery.chargers}
    for table in (fleet.routes_loaded, fleet.routes_empty):
        kept = {(a, b) for a, row in enumerate(table) for b, legs in enumerate(row) if legs}
        assert kept and all(a in stands and b in stands for a, b in kept)
        # every pair of those points that is not the same point has its route
        assert all((a, b) in kept for a in stands for b in stands if a != b)
