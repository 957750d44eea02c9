"""Review of vehicles carrying several units per trip (`capacity`, `load_wait`) and of a route
step's own `transport`: hand-computed timelines, invariants and load-time messages.

Every expected value below follows from the scenario's numbers (constant times), worked out
in the docstrings, or from theory (flow balance, Little's law, state time = vehicles x
period, energy = power x state time)."""

from __future__ import annotations

import copy
import random

import pytest
import yaml

import twin
from support import WAITING as SHARED_WAITING
from support import fleet_values, transport_times
from support import TRAYS as TRAYS_DOC
from twin.errors import ScenarioError

H = 3600.0


def _run(doc: str | dict, **kw):
    data = yaml.safe_load(doc) if isinstance(doc, str) else doc
    return twin.run(twin.Scenario.model_validate(data), **kw)


_fleet = fleet_values
_transports = transport_times


def _rows(res, acts=("process", "transport", "conveyor", "waiting")) -> list[tuple]:
    ev = res.events
    return [(int(u), a, s, round(b * H, 9), round(e * H, 9)) for u, a, s, b, e in
            ev[["unit", "activity", "station", "start_h", "end_h"]].itertuples(index=False)
            if a in acts]


# --- several idle vehicles: moves that become ready together share one trip ---------------

TOGETHER = """
name: two units finish together
run: {horizon: "200 s"}
products: {p: {route: [a, b], transport: agv, release: {interarrival: "1000 s"}}}
stations:
  a: {process_time: "10 s", servers: N}
  b: {process_time: "1 s", buffer: 5}
initial_wip: {a: {p: N}}
logistics:
  points: {a: [0, 0], b: [10, 0]}
  paths: [[a, b]]
  fleets:
    agv: {vehicles: VEH, capacity: N, speed_loaded: 1, home: a, load_time: "1 s",
          unload_time: "1 s"}
"""


def _together(n: int, vehicles: int):
    return _run(TOGETHER.replace("VEH", str(vehicles)).replace("N", str(n)), event_log=True)


def test_one_vehicle_takes_both_units_that_finish_together() -> None:
    """Both machines of a finish at 10 s; the vehicle (at a) loads 10-11, 11-12, drives 10 m
    (12-22) and unloads at 23 and 24 s: one trip of two units."""
    res = _together(2, 1)
    assert _transports(res) == [(10, 23), (10, 24)]
    v = _fleet(res)
    assert v["trips"] == 1 and v["units"] == 2


@pytest.mark.parametrize("n", [2, 4])
def test_a_second_idle_vehicle_is_not_sent_for_a_move_that_can_join(n: int) -> None:
    """Same as above with a second (third, fourth) idle vehicle: the first move sends
    vehicle 0, which is then bound for a with room for every unit; the other moves become
    ready at that very instant, from a to b, so by docs/modelling.md ("a move that becomes
    ready from that station to that station joins it (rather than sending another
    vehicle)"; "loads also fill up by themselves where moves ... finish together (several
    machines)") they join it: one trip of n units, loaded 10 .. 10 + n s, at b 10 s later,
    unloaded one a second; 10 m driven in all. (Bug: each move takes its own idle vehicle,
    because a vehicle only registers as collecting once its process resumes.)"""
    res = _together(n, n)
    start = 10 + n + 10  # loading ends, then 10 m at 1 m/s
    assert _transports(res) == [(10, start + k) for k in range(1, n + 1)]
    v = _fleet(res)
    assert v["trips"] == 1 and v["units"] == n
    assert v["distance_km"] * 1000 == pytest.approx(10)


KIT = """
name: a kit by tray
run: {horizon: "100 s"}
products:
  anode: {route: [cut, stack], transport: agv, release: {interarrival: "1000 s"}}
  cathode: {route: [cut, stack], transport: agv, release: {interarrival: "1000 s"}}
  cell: {route: [stack], release: assembly}
stations:
  cut: {process_time: "10 s", servers: 2}
  stack: {process_time: "12 s", assembly: {parts: {anode: 1, cathode: 1}}}
initial_wip: {cut: {anode: 1, cathode: 1}}
logistics:
  points: {cut: [0, 0], stack: [10, 0]}
  paths: [[cut, stack]]
  fleets:
    agv: {vehicles: VEH, capacity: 2, speed_loaded: 1, home: cut, load_time: "1 s",
          unload_time: "1 s"}
"""


@pytest.mark.parametrize("vehicles", [1, 2])
def test_parts_of_two_products_to_one_assembly_station_share_a_trip(vehicles: int) -> None:
    """Anode and cathode leave cut at 10 s for the same station: one tray carries both
    (loaded 10-12, at stack at 22, set down at 23 and 24 s, each into its own lane); the
    kit is complete at 24 s and the cell is assembled 24-36 s. With a second idle vehicle
    nothing changes (the cathode's move joins the vehicle just sent; see above)."""
    res = _run(KIT.replace("VEH", str(vehicles)), event_log=True)
    assert _transports(res) == [(10, 23), (10, 24)]
    assert (3, "process", "stack", 24, 36) in _rows(res)
    v = _fleet(res)
    assert v["trips"] == 1 and v["units"] == 2


# --- moves to different stations never share a trip -------------------------------------

SPLIT = """
name: two destinations
run: {horizon: "200 s"}
products:
  p: {route: [a, b], transport: agv, release: {interarrival: "1000 s"}}
  q: {route: [a, c], transport: agv, release: {interarrival: "1000 s"}}
stations:
  a: {process_time: "10 s", servers: 2}
  b: {process_time: "1 s"}
  c: {process_time: "1 s"}
initial_wip: {a: {p: 1, q: 1}}
logistics:
  points: {a: [0, 0], b: [10, 0], c: [0, 10]}
  paths: [[a, b], [a, c]]
  fleets:
    agv: {vehicles: 1, capacity: 4, speed_loaded: 1, home: a, load_time: "1 s",
          unload_time: "1 s"}
"""


def test_moves_to_different_stations_make_separate_trips() -> None:
    """Both units are ready at 10 s, one for b and one for c (both 10 m from a). The
    vehicle takes the first alone: loaded 10-11, there at 21, set down at 22; back to a
    empty (22-32), loads the other 32-33, there at 43, set down at 44 s. 30 m, 2 trips of
    one unit; response 0 and 22 s."""
    res = _run(SPLIT, event_log=True)
    assert _transports(res) == [(10, 22), (10, 44)]
    v = _fleet(res)
    assert v["trips"] == 2 and v["units"] == 2
    assert v["distance_km"] * 1000 == pytest.approx(30)
    assert v["response_h"] * H == pytest.approx((0 + 22) / 2)
    ev = res.events
    proc = ev[ev.activity == "process"]
    done = {(p, s) for p, s in zip(proc["product"], proc["station"])}
    assert ("p", "b") in done and ("q", "c") in done


# --- lifts: the vehicle rides with its whole load ------------------------------------------

LIFT = """
name: a tray up the lift
run: {horizon: "200 s"}
products: {tray: {route: [a, b], release: {interarrival: "1000 s"}, transport: agv}}
stations:
  a: {process_time: "10 s", servers: 2}
  b: {process_time: "10 s", buffer: 2}
initial_wip: {a: {tray: 2}}
logistics:
  points: {a: [0, 0], lift-0: [20, 0], lift-1: [20, 0], b: [30, 0]}
  floors:
    ground: {height: 0, points: [a, lift-0]}
    first: {height: 6, points: [lift-1, b]}
  paths: [[a, lift-0], [lift-1, b]]
  lifts:
    lift: {points: {ground: lift-0, first: lift-1}, speed: 0.5, load_time: "4 s",
           unload_time: "4 s"}
  fleets:
    agv: {vehicles: 1, capacity: 2, speed_loaded: 1.0, speed_empty: 2.0, load_time: "5 s",
          unload_time: "5 s", home: a}
"""


def test_a_two_unit_load_rides_the_lift_once() -> None:
    """Loads 10-15, 15-20; 20 m to the lift (20-40); drive in 4 s, 6 m up at 0.5 m/s
    (12 s), drive out 4 s (40-60); 10 m to b (60-70); unloads 70-75, 75-80. One trip of
    2 units, 30 m, 20 s riding the lift; trip 70 s, response (0 + 5) / 2 s."""
    res = _run(LIFT, event_log=True)
    assert _transports(res) == [(10, 75), (10, 80)]
    v = _fleet(res)
    assert v["trips"] == 1 and v["units"] == 2
    assert v["riding_lift_h"] * H == pytest.approx(20)
    assert v["moving_loaded_h"] * H == pytest.approx(30)
    assert v["distance_km"] * 1000 == pytest.approx(30)
    assert v["trip_h"] * H == pytest.approx(70)
    assert v["response_h"] * H == pytest.approx(2.5)


# --- the destination breaks down while a two-unit load is on its way -----------------------

BROKEN = """
name: broken receiver
run: {horizon: "100 s"}
products: {p: {route: [a, b], release: {interarrival: "1000 s"}, transport: agv}}
stations:
  a: {process_time: "10 s", servers: 2}
  b: {process_time: "5 s", buffer: 1, failures: {mtbf: "15 s", mttr: "30 s"}}
initial_wip: {a: {p: 2}}
logistics:
  points: {a: [0, 0], b: [10, 0]}
  paths: [[a, b]]
  fleets:
    agv: {vehicles: 1, capacity: 2, speed_loaded: 1, home: a, load_time: "1 s",
          unload_time: "1 s", power_kw: {waiting: 3.6}}
"""


def test_units_are_set_down_in_order_and_the_vehicle_waits_loaded_for_the_rest() -> None:
    """At 10 s unit 1 reserves b's idle machine and unit 2 its buffer place; loads 10-12,
    drive 12-22. b's machine fails at 15 s (up since 0) until 45 s. Unit 1, unloaded at
    23, finds no machine and takes the buffer place; unit 2, unloaded at 24, finds none
    and the vehicle waits with it, loaded, until the repair at 45 s (21 s waiting, at
    3.6 kW: 0.021 kWh), when the machine takes unit 1 (45-50) and unit 2 the buffer place
    it leaves (processed 50-55, the machine up 45-60). The trip ends with its last
    unloading: 10-24 s."""
    res = _run(BROKEN, event_log=True)
    rows = _rows(res)
    assert (1, "transport", "a", 10, 23) in rows and (2, "transport", "a", 10, 24) in rows
    assert (2, "waiting", "b", 24, 45) in rows
    assert (1, "process", "b", 45, 50) in rows and (2, "process", "b", 50, 55) in rows
    v = _fleet(res)
    assert v["waiting_h"] * H == pytest.approx(21)
    assert v["energy_waiting_kwh"] == pytest.approx(3.6 * 21 / H)
    assert v["trips"] == 1 and v["units"] == 2 and v["trip_h"] * H == pytest.approx(14)


# --- warm-up ending in the middle of a multi-unit trip -------------------------------------

# the four-machine tray case of test_vehicle_capacity.py, with a warm-up of 110 s
TRAYS = TRAYS_DOC.replace("CAPACITY", "4").replace("HORIZON", "300 s").replace(
    "WARMUP", "110 s")


def test_warmup_in_the_middle_of_a_trip() -> None:
    """Saturated a (4 machines of 100 s): trip 1 loads 100-108, drives 108-118, unloads
    118-130; the machines, free at 102..108, finish at 202..208; trip 2: empty 202-212,
    loads 212-220, drives 220-230, unloads 230-242; the machines finish at 314..320; trip
    3: empty 314-324, loads 324-332, drives 332-342, unloads 342-354. Warm-up ends at
    110 s, the run at 410 s. After it: loaded 8 + 10 + 10 s, empty 10 + 10, loading 8 + 8,
    unloading 12 + 12 + 12, idle the rest of 300 s. A trip counts whole when its last
    unit is set down: 3 trips, 12 units, 10 + 20 + 20 m, 30 s each; response per unit
    (0 + 2 + 4 + 6 + 8 x 10) / 12 s."""
    res = _run(TRAYS)
    v = _fleet(res)
    assert v["moving_loaded_h"] * H == pytest.approx(28)
    assert v["moving_empty_h"] * H == pytest.approx(20)
    assert v["loading_h"] * H == pytest.approx(16)
    assert v["unloading_h"] * H == pytest.approx(36)
    assert v["idle_h"] * H == pytest.approx(300 - 100)
    assert v["trips"] == 3 and v["units"] == 12
    assert v["distance_km"] * 1000 == pytest.approx(50)
    assert v["trip_h"] * H == pytest.approx(30)
    assert v["response_h"] * H == pytest.approx((0 + 2 + 4 + 6 + 80) / 12)
    assert v["energy_idle_kwh"] == pytest.approx(0.5 * 200 / H)
    assert res.summary()["fleets"]["agv"]["units_per_trip"]["mean"] == pytest.approx(4)


# --- load_wait: a unit that finishes exactly when the wait is up still joins --------------

WAITING = SHARED_WAITING.replace("PT", "24 s")


def test_a_unit_ready_when_the_wait_ends_joins_the_load() -> None:
    """Unit 1 at 24 s, loaded 24-25; the vehicle may wait until 24 + 25 = 49 s; a
    restarts at 25 and unit 2 is ready at 49 s, "up to that long": it joins (49-50); the
    wait is over, so the vehicle leaves with 2: at b at 60, units set down at 61, 62 s.
    Unit 3 (a restarts at 50): 74 s; the vehicle comes back 74-84, loads 84-85 and waits
    from 85 to the end (100 s): waiting 24 + 15 s."""
    res = _run(WAITING, event_log=True)
    assert _transports(res) == [(24, 61), (49, 62)]
    v = _fleet(res)
    assert v["waiting_h"] * H == pytest.approx(39)
    assert v["trips"] == 1 and v["units"] == 2


# --- a route step's own transport -----------------------------------------------------------

REWORK_DIRECT = """
name: rework back without a vehicle
run: {horizon: "100 s"}
products:
  p:
    route: [{station: a, transport: direct}, {station: b, rework: {p: 0.999999, to: a}}]
    transport: agv
    release: {interarrival: "1000 s"}
stations:
  a: {process_time: "10 s"}
  b: {process_time: "10 s"}
initial_wip: {a: {p: 1}}
logistics:
  points: {a: [0, 0], b: [20, 0]}
  paths: [[a, b]]
  fleets:
    agv: {vehicles: 1, speed_loaded: 2, home: a}
"""


def test_rework_back_to_a_direct_step_needs_no_vehicle() -> None:
    """a 0-10; a -> b by the product's AGV (at a): 20 m at 2 m/s, 10-20; b 20-30; rework
    back to a, whose step says direct: handed straight over, a 30-40; the AGV, left at b,
    drives back empty (40-50) and carries it (50-60); b 60-70; a 70-80."""
    rows = [r[1:] for r in _rows(_run(REWORK_DIRECT, event_log=True))]
    assert rows[:7] == [("process", "a", 0, 10), ("transport", "a", 10, 20),
                        ("process", "b", 20, 30), ("process", "a", 30, 40),
                        ("transport", "a", 40, 60), ("process", "b", 60, 70),
                        ("process", "a", 70, 80)]


BELT = """
name: belt then agv
run: {horizon: "100 s"}
products:
  p: {route: [a, {station: b, transport: agv}, {station: c, transport: agv}],
      release: {interarrival: "1000 s"}}
stations:
  a: {process_time: "10 s"}
  b: {process_time: "10 s"}
  c: {process_time: "10 s"}
initial_wip: {a: {p: 1}}
logistics:
  points: {b: [0, 0], c: [20, 0]}
  paths: [[b, c]]
  conveyors:
    belt: {from: a, to: b, length: 10, speed: 1, pitch: 1}
  fleets:
    agv: {vehicles: 1, speed_loaded: 2, home: b, load_time: "1 s", unload_time: "1 s"}
"""


def test_a_conveyor_carries_its_move_whatever_the_steps_transport() -> None:
    """a 0-10; the belt (10 m at 1 m/s) 10-20 (a needs no point); b 20-30; the AGV at b
    loads 30-31, 20 m at 2 m/s (41), unloads (42); c 42-52. One trip."""
    res = _run(BELT, event_log=True)
    assert [r[1:] for r in _rows(res)] == [
        ("process", "a", 0, 10), ("conveyor", "a", 10, 20), ("process", "b", 20, 30),
        ("transport", "b", 30, 42), ("process", "c", 42, 52)]
    assert _fleet(res)["trips"] == 1


def test_a_rework_move_into_a_carried_first_step_needs_points(tmp_path) -> None:
    """a's step says agv: the rework move c -> a (back into step 0) is the AGV's, so c
    needs a point (a -> b and b -> c are direct); the message names the file and key."""
    text = """name: rework needs a point
run: {horizon: "1 h"}
products:
  p: {route: [{station: a, transport: agv}, b, {station: c, rework: {p: 0.1, to: a}}]}
stations:
  a: {process_time: "10 s"}
  b: {process_time: "10 s"}
  c: {process_time: "10 s"}
logistics:
  points: {a: [0, 0], b: [10, 0]}
  paths: [[a, b]]
  fleets:
    agv: {vehicles: 1, speed_loaded: 1, home: a}
"""
    path = tmp_path / "rw.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        twin.load(path)
    msg = str(info.value)
    assert str(path) in msg and "stations.c" in msg and "fleet agv" in msg
    # with c on the network (and a path to it) it loads
    path.write_text(text.replace("b: [10, 0]}", "b: [10, 0], c: [20, 0]}")
                    .replace("[[a, b]]", "[[a, b], [b, c]]"))
    twin.load(path)


# --- load-time messages ----------------------------------------------------------------------

BASE = """name: messages
run: {horizon: "1 h"}
products: {p: {route: [a, STEP], transport: agv}}
stations:
  a: {process_time: "10 s"}
  b: {process_time: "10 s"}
logistics:
  points: {a: [0, 0], b: [10, 0]}
  paths: [[a, b]]
  fleets:
    agv: {vehicles: 1, EXTRA speed_loaded: 1, home: a}
"""


@pytest.mark.parametrize("step, extra, where, words", [
    ("b", "capacity: 0,", "logistics.fleets.agv.capacity", "at least 1"),
    ("b", "capacity: 2, load_wait: -5 s,", "logistics.fleets.agv.load_wait", "at least 0"),
    ("b", "load_wait: 10 s,", "logistics.fleets.agv", "capacity above 1"),
    ("b", "capacity: 2, load_wait: soon,", "logistics.fleets.agv.load_wait", "duration"),
    ("{station: b, transport: agb}", "", "products.p.route[1].transport", "'agv'"),
])
def test_bad_values_are_named_with_file_and_key(tmp_path, step, extra, where, words) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BASE.replace("STEP", step).replace("EXTRA", extra))
    with pytest.raises(ScenarioError) as info:
        twin.load(path)
    msg = str(info.value)
    assert str(path) in msg and where in msg and words in msg


def test_a_zero_load_wait_is_fine_with_one_place(tmp_path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(BASE.replace("STEP", "b").replace("EXTRA", "load_wait: 0 s,"))
    twin.load(path)


# --- invariants over random scenarios --------------------------------------------------------

POWER = {"moving_loaded": 2, "moving_empty": 1.5, "loading": 1, "unloading": 1.2,
         "waiting": 0.7, "idle": 0.3}
STATES = ["moving_loaded", "moving_empty", "loading", "unloading", "waiting", "idle",
          "to_charger", "waiting_charger", "charging"]


def _random(seed: int) -> dict:
    rng = random.Random(seed)
    cap_a, cap_b = rng.choice([2, 3, 4]), rng.choice([1, 2, 5])

    def step(station, extra=None):
        d = {"station": station}
        t = rng.choice(["agv", "cart", "direct", None])
        if t:
            d["transport"] = t
        d.update(extra or {})
        return d

    fail = {"mtbf": {"exponential": "10 min"}, "mttr": {"exponential": "1 min"}}
    p = {"route": [step("a"), step("b"), step("c", {"rework": {"p": 0.05, "to": "b"}}),
                   step("d")],
         "release": {"interarrival": {"exponential": f"{rng.choice([30, 40, 60])} s"}},
         "transport": rng.choice(["agv", "cart"])}
    q = {"route": [step("a"), step("c"), step("d")],
         "release": {"interarrival": {"exponential": "90 s"}}}
    doc = {
        "name": "random", "run": {"horizon": "5 h", "warmup": "17 min",
                                  "seed": rng.randrange(1000)},
        "products": {"p": p, "q": q},
        "stations": {
            "a": {"process_time": {"exponential": "15 s"}, "servers": 2, "buffer": 2},
            "b": {"process_time": {"uniform": ["10 s", "40 s"]}, "servers": 3, "buffer": 8,
                  "failures": fail},
            "c": {"process_time": {"exponential": "20 s"}, "servers": 2, "buffer": 10,
                  "failures": fail},
            "d": {"process_time": "5 s", "buffer": 20},
        },
        "logistics": {
            "points": {"a": [0, 0], "b": [30, 0], "c": [30, 40], "d": [0, 40]},
            "paths": [["a", "b"], ["b", "c"], {"from": "c", "to": "d", "capacity": 1},
                      ["d", "a"]],
            "fleets": {
                "agv": {"vehicles": 2, "capacity": cap_a, "load_wait": "20 s",
                        "speed_loaded": 1, "speed_empty": 1.5, "home": "a",
                        "load_time": {"uniform": ["2 s", "4 s"]}, "unload_time": "3 s",
                        "power_kw": dict(POWER),
                        "battery": {"capacity_kwh": 5, "recharge_below": 0.3,
                                    "charge_kw": 3, "chargers": {"a": 1},
                                    "opportunity": bool(seed % 2)}},
                "cart": {"vehicles": 2, "capacity": cap_b, "speed_loaded": 0.8,
                         "home": "c", "load_time": "2 s",
                         "unload_time": {"exponential": "2 s"}, "power_kw": dict(POWER)},
            }}}
    return doc


def _check_books(res, doc) -> None:
    m = res.measures
    assert not res.meta["failed"]
    system = {k: v for k, v in m[m.kind == "system"][["measure", "value"]]
              .itertuples(index=False)}
    period = system["period_h"]
    for name, spec in doc["logistics"]["fleets"].items():
        v = _fleet(res, name)
        assert sum(v[f"{s}_h"] for s in STATES) == pytest.approx(spec["vehicles"] * period)
        for s, kw in POWER.items():
            assert v[f"energy_{s}_kwh"] == pytest.approx(kw * v[f"{s}_h"], abs=1e-12)
        if spec["capacity"] > 1:
            assert v["trips"] <= v["units"] <= spec["capacity"] * v["trips"]
        else:
            assert "units" not in v
    got = {p: {k: x for k, x in m[m.entity == p][["measure", "value"]]
               .itertuples(index=False)} for p in doc["products"]}
    released = sum(g["released"] for g in got.values())
    out = sum(g["finished"] + g["scrapped"] for g in got.values())
    assert released == out + system["wip_end"] - system["wip_start"]


@pytest.mark.parametrize("seed", [1, 2, 5])
def test_books_balance_with_full_loads_step_transports_and_batteries(seed: int) -> None:
    doc = _random(seed)
    res = _run(copy.deepcopy(doc))
    _check_books(res, doc)
    again = _run(copy.deepcopy(doc))
    assert res.measures.equals(again.measures)  # same seed, same result


def test_capacity_one_and_step_transports_equal_to_the_products_change_nothing() -> None:
    """`capacity: 1` written out is the default; a step whose own transport names the
    product's fleet is what the product says anyway: the same results either way."""
    doc = _random(3)
    for f in doc["logistics"]["fleets"].values():
        f["capacity"] = 1
        f.pop("load_wait", None)
    p = doc["products"]["p"]
    p["transport"] = "agv"
    for st in p["route"]:
        st.pop("transport", None)
    for st in doc["products"]["q"]["route"]:
        st.pop("transport", None)
    plain = copy.deepcopy(doc)
    for f in plain["logistics"]["fleets"].values():
        f.pop("capacity")
    spelled = copy.deepcopy(doc)
    for st in spelled["products"]["p"]["route"]:
        st["transport"] = "agv"
    spelled["products"]["q"]["route"] = [{"station": s["station"], "transport": "direct"}
                                         for s in spelled["products"]["q"]["route"]]
    a, b, c = _run(doc), _run(plain), _run(spelled)
    assert a.measures.equals(b.measures)
    assert a.measures.equals(c.measures)


LITTLE = """
name: little with trays
run: {horizon: "60 h", warmup: "2 h", seed: 11}
products: {cell: {route: [a, b, c], transport: agv, release: {interarrival: {exponential: "40 s"}}}}
stations:
  a: {process_time: {exponential: "30 s"}, servers: 2, buffer: 20}
  b: {process_time: {exponential: "25 s"}, servers: 2, buffer: 20}
  c: {process_time: {uniform: ["8 s", "14 s"]}, buffer: 20}
logistics:
  points: {a: [0, 0], b: [15, 0], c: [15, 20]}
  paths: [[a, b], [b, c], [c, a]]
  fleets:
    agv: {vehicles: 2, capacity: 3, load_wait: "30 s", speed_loaded: 1.5, home: a,
          load_time: "3 s", unload_time: "2 s"}
"""


def test_littles_law_with_waiting_for_fuller_loads() -> None:
    res = _run(LITTLE)
    m = res.measures
    s = {k: x for k, x in m[m.kind == "system"][["measure", "value"]].itertuples(index=False)}
    p = {k: x for k, x in m[m.entity == "cell"][["measure", "value"]].itertuples(index=False)}
    assert s["wip_mean"] == pytest.approx(p["throughput_per_h"] * p["lead_time_h"], rel=0.03)
    assert p["throughput_per_h"] == pytest.approx(90, rel=0.05)  # 3600 / 40 s, stable
    v = _fleet(res)
    assert v["waiting_h"] > 0 and v["units"] > v["trips"]
