"""Floors and lifts (twin/engine/lifts.py, twin/scenario/lifts.py, routes in
twin/scenario/network.py): hand traces of calls, empty car runs and first come first served,
the route choice by expected time, the battery reach check with lift rides, and scenarios
without lifts unchanged."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import twin
from twin.errors import ScenarioError
from twin.scenario.load import load
from twin.scenario.network import Routes

from support import write_scenario

# Two floors 6 m apart; a lift of 0.5 m/s with 4 s to drive in and 4 s to drive out (a ride:
# 20 s); a (ground) is 20 m from the lift, b (first) 10 m from it.
FLOORS = """\
  points: {a: [0, 0], lift-0: [20, 0], lift-1: [20, 0], b: [30, 0]}
  floors:
    ground: {height: 0, points: [a, lift-0]}
    first: {height: 6, points: [lift-1, b]}
  paths: [[a, lift-0], [lift-1, b]]
"""


def two_floors(tmp_path, *, vehicles: int = 1, cars: int = 1, home: str = "ground",
               servers: int = 1, conwip: int = 1, extra: str = ""):
    """a (ground) -> b (first) by AGVs at 1 m/s, 5 s to load and unload; b never finishes
    in the horizon, so each unit makes exactly one trip."""
    text = f"""\
name: lift trace
run: {{horizon: "300 s"}}
products:
  tray: {{route: [a, b], release: {{conwip: {conwip}}}, transport: agv}}
stations:
  a: {{process_time: "1 s", servers: {servers}}}
  b: {{process_time: "5000 s", servers: {servers}}}
logistics:
{FLOORS}  lifts:
    lift:
      points: {{ground: lift-0, first: lift-1}}
      cars: {cars}
      home: {home}
      speed: 0.5
      load_time: "4 s"
      unload_time: "4 s"
      power_kw: {{moving_loaded: 10, moving_empty: 6, loading: 1, unloading: 1, idle: 0.5}}
  fleets:
    agv:
      vehicles: {vehicles}
      speed_loaded: 1.0
      load_time: "5 s"
      unload_time: "5 s"
      home: a
{extra}"""
    return twin.run(load(write_scenario(tmp_path, text, "lift.yaml")))


def measures(res, kind: str, entity: str) -> dict[str, float]:
    m = res.measures
    sub = m[(m.kind == kind) & (m.entity == entity)]
    return dict(zip(sub["measure"], sub["value"]))


def test_a_car_waiting_on_another_floor_first_travels_there_empty(tmp_path) -> None:
    """The car stands on the first floor: the AGV, at the lift 1 + 5 + 20 = 26 s, waits
    for the car to come down 6 m at 0.5 m/s (12 s), then rides (20 s)."""
    res = two_floors(tmp_path, home="first")
    lift = measures(res, "lift", "lift")
    agv = measures(res, "fleet", "agv")
    assert lift["rides"] == 1
    assert lift["moving_empty_h"] * 3600 == pytest.approx(12.0)
    assert lift["moving_loaded_h"] * 3600 == pytest.approx(12.0)
    assert lift["loading_h"] * 3600 == pytest.approx(4.0)
    assert lift["unloading_h"] * 3600 == pytest.approx(4.0)
    assert lift["wait_h"] * 3600 == pytest.approx(12.0)
    assert lift["ride_h"] * 3600 == pytest.approx(20.0)
    assert agv["waiting_lift_h"] * 3600 == pytest.approx(12.0)
    assert agv["riding_lift_h"] * 3600 == pytest.approx(20.0)
    # trip: load 5 + 20 m + wait 12 + ride 20 + 10 m + unload 5
    assert agv["trip_h"] * 3600 == pytest.approx(72.0)
    assert agv["distance_km"] == pytest.approx(0.030)  # metres driven, not ridden
    # car-hours sum to cars x period; energy is power x time per state, exactly
    total = sum(lift[f"{s}_h"] for s in ("moving_loaded", "moving_empty", "loading",
                                         "unloading", "idle"))
    assert total == pytest.approx(300 / 3600)
    assert lift["energy_moving_empty_kwh"] == pytest.approx(6 * 12 / 3600)
    assert lift["energy_idle_kwh"] == pytest.approx(0.5 * (300 - 12 - 12 - 8) / 3600)


def test_calls_are_served_first_come_first_served_by_one_car(tmp_path) -> None:
    """Two AGVs reach the lift together at 26 s. The first rides at once (to 46 s); the
    car then comes back down empty (12 s) for the second, ready at 58 s: it waited 32 s."""
    res = two_floors(tmp_path, vehicles=2, servers=2, conwip=2)
    lift = measures(res, "lift", "lift")
    agv = measures(res, "fleet", "agv")
    assert lift["rides"] == 2
    assert lift["wait_h"] * 3600 == pytest.approx((0 + 32) / 2)
    assert lift["moving_empty_h"] * 3600 == pytest.approx(12.0)
    assert agv["waiting_lift_h"] * 3600 == pytest.approx(32.0)
    # vehicles waiting for a car: one for 32 s over 300 s
    assert lift["queue_mean"] == pytest.approx(32 / 300)
    assert agv["trip_h"] * 3600 == pytest.approx((60 + 92) / 2)


def test_a_second_car_serves_the_second_call_at_once(tmp_path) -> None:
    res = two_floors(tmp_path, vehicles=2, servers=2, conwip=2, cars=2)
    lift = measures(res, "lift", "lift")
    assert lift["rides"] == 2
    assert lift["wait_h"] == 0.0
    assert lift["moving_empty_h"] == 0.0
    assert lift["moving_loaded_h"] * 3600 == pytest.approx(2 * 12.0)
    doc = res.summary()
    assert doc["lifts"]["lift"]["cars"] == 2
    assert sum(doc["lifts"]["lift"]["states"].values()) == pytest.approx(1.0)


def route_scenario(tmp_path, speed: float):
    """a and b on two floors; lift `slow` beside a (0.1 m/s: 60 s for 6 m), lift `fast`
    30 m away (1 m/s: 6 s), each with no handling time."""
    text = f"""\
name: route choice
run: {{horizon: "1 h"}}
products:
  tray: {{route: [a, b], transport: agv}}
stations:
  a: {{process_time: "60 s"}}
  b: {{process_time: "60 s"}}
logistics:
  points: {{a: [0, 0], s0: [0, 0], s1: [0, 0], b: [0, 5], f0: [30, 0], f1: [30, 0]}}
  floors:
    ground: {{height: 0, points: [a, s0, f0]}}
    first: {{height: 6, points: [s1, b, f1]}}
  paths: [[a, s0], [a, f0], [s1, b], [f1, b]]
  lifts:
    slow: {{points: [s0, s1], speed: 0.1}}
    fast: {{points: [f0, f1], speed: 1.0}}
  fleets:
    agv: {{vehicles: 1, speed_loaded: {speed}, home: a}}
"""
    return load(write_scenario(tmp_path, text, "routes.yaml"))


def test_routes_take_the_lift_with_the_least_expected_time(tmp_path) -> None:
    # at 1 m/s: slow 0 + 60 + 5 = 65 s, fast 30 + 6 + ~30.4 = 66.4 s -> slow (just)
    # at 2 m/s: slow 60 + 2.5 = 62.5 s, fast 15 + 6 + 15.2 = 36.2 s -> fast
    for speed, lift, seconds in ((1.0, 0, 65.0), (2.0, 1, 36.2)):
        lg = route_scenario(tmp_path, speed).logistics
        routes = Routes(lg, speed)
        names = list(lg.points)
        a, b = names.index("a"), names.index("b")
        legs = routes.legs(a, b)
        rides = [leg for leg in legs if leg[1] >= 0]
        assert [leg[1] for leg in rides] == [lift]
        assert routes.time[a, b] == pytest.approx(seconds, abs=0.05)
        # driven metres plus the ride time make the expected time
        ride_s = 60.0 if lift == 0 else 6.0
        assert routes.metres(a, b) / speed + ride_s == pytest.approx(routes.time[a, b])


def test_the_engine_follows_the_chosen_route(tmp_path) -> None:
    res = twin.run(route_scenario(tmp_path, 2.0))
    fast, slow = measures(res, "lift", "fast"), measures(res, "lift", "slow")
    assert fast["rides"] > 0 and slow["rides"] == 0


def test_a_slow_lift_shared_by_many_vehicles_is_the_bottleneck(tmp_path) -> None:
    """Four AGVs but one car of 30 s per ride: every unit costs the car two rides (up with
    the loaded AGV, down with the empty one), so at most 60 units per hour; the lift is
    busy all the time, the vehicles queue for it, and it is the bottleneck."""
    text = f"""\
name: lift bottleneck
run: {{horizon: "4 h", warmup: "30 min"}}
products:
  tray: {{route: [a, b], release: saturated, transport: agv}}
stations:
  a: {{process_time: "5 s", servers: 4, buffer: 0}}
  b: {{process_time: "5 s", buffer: 4}}
logistics:
{FLOORS}  lifts:
    lift: {{points: [lift-0, lift-1], speed: 0.5, load_time: "9 s", unload_time: "9 s"}}
  fleets:
    agv: {{vehicles: 4, speed_loaded: 1.0, load_time: "5 s", unload_time: "5 s", home: a}}
"""
    doc = twin.run(load(write_scenario(tmp_path, text, "slow.yaml"))).summary()
    lift = doc["lifts"]["lift"]
    assert lift["utilization"]["mean"] > 0.98
    throughput = doc["products"]["tray"]["throughput_per_h"]["mean"]
    assert throughput <= 60 + 1 / 4
    # two rides per unit (+- the units on the way at the ends of the horizon)
    assert lift["rides_per_h"]["mean"] == pytest.approx(2 * throughput, abs=8 / 4)
    # first come, first served across floors: calls alternate between the floors, so the
    # car often travels empty (12 s); every ride has 9 s in and 9 s out
    states = lift["states"]
    assert states["loading"] == pytest.approx(lift["rides_per_h"]["mean"] * 9 / 3600,
                                              abs=1e-3)
    assert states["moving_empty"] > 0.1
    assert doc["bottleneck"]["resource"] == "lift"
    assert lift["wait_h"]["mean"] > 0
    assert doc["fleets"]["agv"]["states"]["waiting_lift"] > 0.2


SHUTTLE = """\
name: stochastic shuttle
run: {horizon: "6 h", warmup: "30 min", replications: 2, seed: 11}
products:
  tray: {route: [a, b], release: saturated, transport: agv}
stations:
  a: {process_time: {exponential: "40 s"}, buffer: 0}
  b: {process_time: {exponential: "30 s"}, buffer: 2}
logistics:
  points: {depot: [0, 10], a: [0, 0], b: [30, 0]EXTRA_POINTS}
  paths: [[depot, a], [a, b]EXTRA_PATHS]
  fleets:
    agv:
      vehicles: 2
      speed_loaded: 1.5
      speed_empty: 2.0
      load_time: {uniform: ["4 s", "6 s"]}
      unload_time: "5 s"
      home: depot
"""


def test_a_lift_no_route_uses_changes_no_result(tmp_path) -> None:
    """The same moves with floors and an unused lift to a mezzanine: the same random
    streams, the same routes, so every station, product and fleet figure is identical."""
    plain = twin.run(load(write_scenario(
        tmp_path, SHUTTLE.replace("EXTRA_POINTS", "").replace("EXTRA_PATHS", ""), "p.yaml")))
    lifted = SHUTTLE.replace("EXTRA_POINTS", ", m0: [50, 0], m1: [50, 0]").replace(
        "EXTRA_PATHS", ", [b, m0]") + """\
  floors:
    ground: {height: 0, points: [depot, a, b, m0]}
    mezzanine: {height: 4, points: [m1]}
  lifts:
    hoist: {points: [m0, m1], speed: 0.4, load_time: {uniform: ["3 s", "5 s"]}}
"""
    with_lift = twin.run(load(write_scenario(tmp_path, lifted, "l.yaml")))
    cols = ["replication", "kind", "entity", "measure"]
    a = plain.measures[plain.measures.kind.isin(["station", "product", "system"])]
    b = with_lift.measures[with_lift.measures.kind.isin(["station", "product", "system"])]
    pd.testing.assert_series_equal(a.set_index(cols)["value"], b.set_index(cols)["value"])
    fa, fb = measures(plain, "fleet", "agv"), measures(with_lift, "fleet", "agv")
    assert {k: v for k, v in fb.items() if "lift" not in k} == fa
    assert fb["waiting_lift_h"] == 0.0 and fb["riding_lift_h"] == 0.0
    assert measures(with_lift, "lift", "hoist")["rides"] == 0


def test_floors_without_lifts_and_no_floors_give_the_same_document(tmp_path) -> None:
    text = SHUTTLE.replace("EXTRA_POINTS", "").replace("EXTRA_PATHS", "")
    plain = twin.run(load(write_scenario(tmp_path, text, "p.yaml"))).summary()
    one_floor = text + "  floors: {hall: {height: 0, points: [depot, a, b]}}\n"
    floored = twin.run(load(write_scenario(tmp_path, one_floor, "f.yaml"))).summary()
    for doc in (plain, floored):
        doc.pop("timing")
        doc["run"].pop("scenario_sha256", None)
    assert json.dumps(plain, sort_keys=True) == json.dumps(floored, sort_keys=True)
    assert "lifts" not in plain and "waiting_lift" not in plain["fleets"]["agv"]["states"]


BATTERY = """\
      power_kw: {{moving_loaded: 1.0, moving_empty: 1.0, riding_lift: {riding}}}
      battery: {{capacity_kwh: 1.0, recharge_below: 0.1, charge_kw: 2, chargers: [a]}}
"""


def test_the_battery_reach_check_counts_lift_rides(tmp_path) -> None:
    """The worst sequence: from b (first floor) empty to a, loaded back to b, then to the
    charger at a: 3 x 30 m driven at 1 kW and 1 m/s (90 / 3600 kWh) and three lift rides,
    each a wait for a car from the other floor (12 s, at waiting_lift = idle = 0 kW) and
    20 s riding. At riding_lift 0.5 kW that is 0.0333 kWh, under the 0.1 kWh threshold; at
    10 kW it is 0.1917 kWh, over it."""
    ok = two_floors(tmp_path, extra=BATTERY.format(riding=0.5))
    assert ok.summary()["fleets"]["agv"]["battery"]["charges_per_h"]["mean"] >= 0
    with pytest.raises(ScenarioError) as info:
        two_floors(tmp_path, extra=BATTERY.format(riding=10))
    text = str(info.value)
    assert "logistics.fleets.agv.battery.recharge_below" in text
    assert f"{90 / 3600 + 3 * 20 * 10 / 3600:.4g} kWh" in text


def test_riding_drains_the_battery_at_its_own_power(tmp_path) -> None:
    res = two_floors(tmp_path, home="first", extra=BATTERY.format(riding=0.5))
    m = measures(res, "fleet", "agv")
    assert m["energy_riding_lift_kwh"] == pytest.approx(0.5 * 20 / 3600)
    assert m["energy_waiting_lift_kwh"] == 0.0  # idle power 0 by default
    drawn = sum(v for k, v in m.items() if k.startswith("energy_") and k.endswith("_kwh"))
    assert m["battery_start_kwh"] - m["battery_end_kwh"] == pytest.approx(drawn)


def test_every_new_key_has_a_description_and_an_example() -> None:
    from twin.scenario.load import scenario_json_schema
    schema = scenario_json_schema()
    defs = schema["$defs"]
    keys = {"Floor": None, "Lift": None, "LiftPower": None,
            "Logistics": ("floors", "lifts"), "VehiclePower": ("waiting_lift", "riding_lift")}
    for name, only in keys.items():
        for key, spec in defs[name]["properties"].items():
            if only is None or key in only:
                assert spec.get("description"), (name, key)
                assert spec.get("examples"), (name, key)
