"""Vehicles that carry several units at once (`logistics.fleets.F.capacity`), by hand.

Station a has 4 machines of a constant 100 s, fed saturated; b takes 1 s with room for
all. One vehicle (home at a) drives 10 m at 1 m/s, loads each unit in 2 s and unloads each
in 3 s. All times below follow from these numbers.
"""

from __future__ import annotations

import pytest
import yaml

import twin
from support import TRAYS, WAITING, fleet_values, transport_times
from twin.errors import ScenarioError

H = 3600.0
DOC = TRAYS  # (HORIZON, WARMUP, CAPACITY to fill in)


def run(capacity: int, horizon: str = "300 s", warmup: str = "0 s", **kw):
    doc = DOC.replace("CAPACITY", str(capacity)).replace("HORIZON", horizon) \
        .replace("WARMUP", warmup)
    return twin.run(twin.Scenario.model_validate(yaml.safe_load(doc)), **kw)


def fleet(res) -> dict:
    return fleet_values(res)


def test_one_trip_takes_every_unit_waiting_and_those_that_join_on_the_way() -> None:
    """At 100 s all four machines finish: the vehicle, at a, loads the four units at
    100-102-104-106-108 s (the machines are free again at 102, 104, 106, 108), drives to
    b (118 s) and unloads them at 121, 124, 127, 130 s. The machines finish again at 202,
    204, 206, 208 s: the first sends the vehicle (at b) back empty, arriving at 212 s;
    the other three join it on its way. It loads until 220 s, is at b at 230 s and sets
    the units down at 233, 236, 239, 242 s."""
    res = run(4, event_log=True)
    assert transport_times(res) == [(100, 121), (100, 124), (100, 127), (100, 130),
                                    (202, 233), (204, 236), (206, 239), (208, 242)]
    v = fleet(res)
    assert v["trips"] == 2 and v["units"] == 8
    assert v["trip_h"] * H == pytest.approx(30)  # 100-130 and 212-242 s
    # response per unit: loading began 0, 2, 4, 6 s after the first trip's requests, and
    # 212 - 202, 214 - 204, 216 - 206, 218 - 208 = 10 s each for the second's
    assert v["response_h"] * H == pytest.approx((0 + 2 + 4 + 6 + 4 * 10) / 8)
    assert v["distance_km"] * 1000 == pytest.approx(30)  # loaded, empty, loaded
    # states over 300 s: loading 16 s, unloading 24 s, loaded 20 s, empty 10 s, the rest idle
    assert v["loading_h"] * H == pytest.approx(16)
    assert v["unloading_h"] * H == pytest.approx(24)
    assert v["moving_loaded_h"] * H == pytest.approx(20)
    assert v["moving_empty_h"] * H == pytest.approx(10)
    assert v["idle_h"] * H == pytest.approx(300 - 70)
    assert v["energy_moving_loaded_kwh"] == pytest.approx(3 * 20 / H)
    summary = res.summary()["fleets"]["agv"]
    assert summary["units_per_trip"]["mean"] == pytest.approx(4)


def test_a_vehicle_of_one_place_makes_a_trip_per_unit() -> None:
    """Capacity 1: the units of 100 s go one by one: the vehicle loads at 100-102, is at b
    at 112 s, unloads at 115 s, drives back empty (125 s) for the second unit (loaded at
    127 s, delivered at 140 s), then 165 s and 190 s."""
    res = run(1, event_log=True)
    assert transport_times(res)[:4] == [(100, 115), (100, 140), (100, 165), (100, 190)]
    v = fleet(res)
    assert "units" not in v  # (measured only for vehicles carrying several units)
    assert "units_per_trip" not in res.summary()["fleets"]["agv"]


def test_steady_state_throughput_of_the_tray_cycle() -> None:
    """In steady state a cycle of the four machines takes 100 s of processing plus the
    vehicle's empty run (10 s) and the loading of the first unit (2 s): the machine that
    sends the vehicle waits 10 s for it and 2 s to be loaded, the others finish 2, 4, 6 s
    later and are loaded in turn, so each machine restarts every 112 s: 4 units per 112 s.
    Measured over 50 whole cycles after 2 cycles of warm-up (from 214 s, when the first
    machine of the second cycle restarts; deliveries then come 4 per 112 s)."""
    cycles = 50
    res = run(4, horizon=f"{cycles * 112} s", warmup="214 s")
    tput = res.summary()["products"]["cell"]["throughput_per_h"]["mean"]
    assert tput == pytest.approx(4 * cycles / (cycles * 112 / H))
    assert fleet(res)["trips"] == cycles


def test_capacity_is_a_whole_number_of_at_least_one(tmp_path) -> None:
    for bad in ("0", "1.5", "'4'"):
        path = tmp_path / "bad.yaml"
        path.write_text(DOC.replace("CAPACITY", bad).replace("HORIZON", "1 h")
                        .replace("WARMUP", "0 s"))
        with pytest.raises(ScenarioError) as info:
            twin.load(path)
        assert "logistics.fleets.agv.capacity" in str(info.value)


BATTERY = """
name: full loads drain the battery
run: {horizon: "1 h"}
products: {cell: {route: [a, b], transport: agv}}
stations:
  a: {process_time: "100 s"}
  b: {process_time: "1 s"}
logistics:
  points: {a: [0, 0], b: [10, 0]}
  paths: [[a, b]]
  fleets:
    agv:
      vehicles: 1
      capacity: CAPACITY
      speed_loaded: 1
      home: a
      load_time: "100 s"
      power_kw: {loading: 36}
      battery: {capacity_kwh: 20, recharge_below: 0.3, charge_kw: 50, chargers: [a]}
"""


def test_the_battery_check_counts_a_full_load(tmp_path) -> None:
    """Loading a unit takes 100 s at 36 kW: 1 kWh; nothing else draws power. The threshold
    (0.3 x 20 = 6 kWh) covers a full load of 6 units, not one of 7 (7 kWh: at least
    7 / 20 = 0.35)."""
    path = tmp_path / "b.yaml"
    path.write_text(BATTERY.replace("CAPACITY", "6"))
    assert twin.check(path) == []
    path.write_text(BATTERY.replace("CAPACITY", "7"))
    problems = twin.check(path)
    assert len(problems) == 1
    assert "logistics.fleets.agv.battery.recharge_below" in str(problems[0])
    assert "at least 0.35" in str(problems[0])


FAILING = """
name: trays with a failing receiver
run: {horizon: "3 h", warmup: "20 min", replications: 2, seed: 5}
products: {cell: {route: [a, b, c], transport: agv}}
stations:
  a: {process_time: {exponential: "30 s"}, servers: 4, buffer: 2}
  b: {process_time: {exponential: "36 s"}, servers: 3, buffer: 0,
      failures: {mtbf: {exponential: "5 min"}, mttr: {exponential: "1 min"}}}
  c: {process_time: {uniform: ["8 s", "14 s"]}, buffer: 1}
logistics:
  points: {a: [0, 0], b: [15, 0], c: [15, 20]}
  paths: [[a, b], [b, c], [c, a]]
  fleets:
    agv: {vehicles: 2, capacity: 3, speed_loaded: 1.5, home: a, load_time: "3 s",
          unload_time: {uniform: ["2 s", "4 s"]}}
"""


def test_loads_through_a_machine_that_breaks_down_keep_the_books() -> None:
    """b has three machines and no buffer, and they fail, so vehicles arrive loaded at a
    broken machine and wait there with units still aboard. Every unit released is finished or still in the system,
    vehicle states cover the vehicle time, and at most 3 units ride per trip."""
    res = twin.run(twin.Scenario.model_validate(yaml.safe_load(FAILING)), replications=2,
                   seed=5)
    m = res.measures
    for r in (0, 1):
        v = {k: x for k, x in m[(m.replication == r) & (m.entity == "agv")][
            ["measure", "value"]].itertuples(index=False)}
        s = {k: x for k, x in m[(m.replication == r) & (m.kind == "system")][
            ["measure", "value"]].itertuples(index=False)}
        states = sum(v[f"{x}_h"] for x in ("moving_loaded", "moving_empty", "loading",
                                            "unloading", "waiting", "idle"))
        assert states == pytest.approx(2 * 3.0)
        assert v["waiting_h"] > 0  # loaded at a broken b (else the test checks nothing)
        assert v["trips"] <= v["units"] <= 3 * v["trips"]
        assert v["units"] > v["trips"]  # some trips carried several
        p = {k: x for k, x in m[(m.replication == r) & (m.entity == "cell")][
            ["measure", "value"]].itertuples(index=False)}
        assert p["released"] == p["finished"] + s["wip_end"] - s["wip_start"]
        # Little's law (units on vehicles count in WIP and lead time alike)
        assert s["wip_mean"] == pytest.approx(p["throughput_per_h"] * p["lead_time_h"],
                                              rel=0.03)




def _waiting_run(process_time: str):
    doc = WAITING.replace("PT", process_time)
    res = twin.run(twin.Scenario.model_validate(yaml.safe_load(doc)), event_log=True)
    return transport_times(res), fleet(res)


def test_a_vehicle_waits_at_the_pickup_until_its_load_is_full() -> None:
    """a makes a unit every 10 s of its own time (1 machine, held while a unit is loaded).
    Unit 1 at 10 s: loaded 10-11; the vehicle waits (up to 25 s after its arrival at 10 s);
    a restarts at 11, unit 2 at 21 joins (loaded 21-22), unit 3 at 32 (32-33): full. To b
    33-43, unloaded at 44, 45, 46 s. Unit 4 (43 s) waits for the vehicle, which comes back
    46-56, loads 56-57; units 5 (67 s) and 6 (78 s) join: to b 79-89, at 90, 91, 92 s.
    Waiting: 11-21, 22-32, 57-67, 68-78 s."""
    times, v = _waiting_run("10 s")
    assert times == [(10, 44), (21, 45), (32, 46), (43, 90), (67, 91), (78, 92)]
    assert v["waiting_h"] * H == pytest.approx(40)
    assert v["trips"] == 2 and v["units"] == 6


def test_a_vehicle_leaves_with_a_part_load_when_its_wait_is_over() -> None:
    """a makes a unit every 20 s: unit 1 at 20 s (loaded 20-21), unit 2 at 41 s (41-42); the
    wait ends 25 s after the arrival at 20 s, at 45 s: it leaves with 2 units, at b at 55 s,
    unloaded at 56, 57 s. Unit 3 (62 s) brings it back (62-72); unit 4 (93 s) joins; it
    leaves at 97 s and is still on its way at 100 s. Waiting 21-41, 42-45, 73-93, 94-97 s."""
    times, v = _waiting_run("20 s")
    assert times == [(20, 56), (41, 57)]
    assert v["waiting_h"] * H == pytest.approx(46)
    assert v["moving_loaded_h"] * H == pytest.approx(10 + 3)


def test_load_wait_needs_room_for_more_than_one(tmp_path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(WAITING.replace("PT", "10 s").replace("capacity: 3", "capacity: 1"))
    with pytest.raises(ScenarioError) as info:
        twin.load(path)
    assert "logistics.fleets.agv" in str(info.value) and "capacity above 1" in str(info.value)


def test_the_battery_check_counts_the_wait_for_a_fuller_load(tmp_path) -> None:
    """Six units a load take 6 kWh of the 6 kWh threshold; waiting up to 10 min at 6 kW
    for more adds 1 kWh: the threshold must be at least 7 / 20 = 0.35."""
    text = BATTERY.replace("CAPACITY", "6").replace(
        "power_kw: {loading: 36}", "power_kw: {loading: 36, waiting: 6}\n      load_wait: 10 min")
    path = tmp_path / "w.yaml"
    path.write_text(text)
    problems = twin.check(path)
    assert len(problems) == 1 and "at least 0.35" in str(problems[0])


BATCH = """
name: an oven load by AGV
run: {horizon: "200 s"}
products: {cell: {route: [oven, b], transport: agv, release: {interarrival: "1000 s"}}}
stations:
  oven: {process_time: "100 s", batch: {size: 4}}
  b: {process_time: "1 s"}
initial_wip: {oven: {cell: 4}}
logistics:
  points: {oven: [0, 0], b: [10, 0]}
  paths: [[oven, b]]
  fleets:
    agv: {vehicles: 1, capacity: 4, speed_loaded: 1, home: oven, load_time: "2 s",
          unload_time: "3 s"}
"""


def test_a_batch_stations_load_goes_in_one_trip() -> None:
    """The oven starts its load of 4 at 0 s and ends at 100 s; it hands the units over one
    by one, each joining the vehicle's load as the one before is aboard: loaded 100-108 s,
    at b at 118 s, unloaded at 121, 124, 127, 130 s."""
    doc = twin.Scenario.model_validate(yaml.safe_load(BATCH))
    res = twin.run(doc, event_log=True)
    assert transport_times(res) == [(100, 121), (102, 124), (104, 127), (106, 130)]
    v = fleet(res)
    assert v["trips"] == 1 and v["units"] == 4


def test_the_text_report_shows_units_per_trip(tmp_path, capsys) -> None:
    """The four-machine case of the first test: 8 units in 2 trips, 4 a trip."""
    from twin.cli import main

    path = tmp_path / "trays.yaml"
    path.write_text(DOC.replace("CAPACITY", "4").replace("HORIZON", "300 s")
                    .replace("WARMUP", "0 s"))
    assert main(["run", str(path), "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    i = next(i for i, line in enumerate(out) if line.split()[:2] == ["loads", "units/trip"])
    assert out[i + 1].split() == ["agv", "4"]
