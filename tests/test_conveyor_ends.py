"""Conveyors at warehouses, batch and assembly stations (docs/modelling.md, Conveyors: "Ends
at warehouses, batch and assembly stations").

Numbers are worked out by hand on small scenarios with constant times (a crane's travel is
made negligible with a tiny rack and fast crane, < 1e-6 s), or come from theory: the
throughput of a line is its slowest rate, Little's law holds on a conveyor (mean aboard =
units carried per second x mean time aboard), flow balances, state fractions sum to 1.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import twin
from twin.engine.assembly import AssemblyStation
from twin.scenario.schema import Scenario

H = 3600.0
FAST_RACK = {"rack": {"length": 1, "height": 1},
             "speed": {"horizontal": 1e6, "vertical": 1e6}}  # travel < 1e-6 s


def run(doc: dict, **options) -> twin.Results:
    return twin.run(Scenario.model_validate({"name": "conveyor ends", **doc}), **options)


def measures(res: twin.Results, kind: str, entity: str) -> dict[str, float]:
    m = res.measures
    sub = m[(m.kind == kind) & (m.entity == entity) & (m.replication == 0)]
    return dict(zip(sub["measure"], sub["value"]))


def belt(frm: str, to: str, length: float, speed: float, pitch: float, **more) -> dict:
    return {"from": frm, "to": to, "length": length, "speed": speed, "pitch": pitch, **more}


def fractions(m: dict[str, float], states: tuple[str, ...]) -> dict[str, float]:
    total = sum(m[f"{s}_h"] for s in states)
    return {s: m[f"{s}_h"] / total for s in states}


STATION_STATES = ("busy", "starved", "blocked", "down", "setup", "off_shift")


# --- into a batch station -------------------------------------------------------------------

@pytest.mark.parametrize("stack_s, oven_s, rate", [
    (4, 30, 900),   # the feeder binds: 3600 / 4
    (2, 20, 1200),  # the belt binds: v / p = 0.5 / 1.5 per s
    (2, 60, 600),   # the oven binds: 10 units per 60 s
])
def test_a_belt_feeds_a_batch_oven_at_the_least_of_three_rates(stack_s, oven_s, rate) -> None:
    """Stack (saturated) -> belt (12 m, 0.5 m/s, pitch 1.5 m: a unit every 3 s) -> oven
    (batches of 10, constant time). Throughput = min(3600 / stack, 1200, 10 x 3600 / oven)
    per hour, up to one batch in the 2 h measured. The stack is blocked, waiting for the
    belt's entry, the share of its time it is not needed: 1 - rate x stack time."""
    res = run({"run": {"horizon": "2 h", "warmup": "30 min"},
               "products": {"cell": {"route": ["stack", "oven"]}},
               "stations": {"stack": {"process_time": f"{stack_s} s"},
                            "oven": {"process_time": f"{oven_s} s", "batch": {"size": 10},
                                     "buffer": 20}},
               "logistics": {"conveyors": {"belt": belt("stack", "oven", 12, 0.5, 1.5)}}})
    cell = measures(res, "product", "cell")
    assert cell["throughput_per_h"] == pytest.approx(rate, abs=10 / 2)
    stack = measures(res, "station", "stack")
    assert fractions(stack, STATION_STATES)["blocked"] == pytest.approx(
        1 - rate * stack_s / H, abs=2e-3)
    oven = measures(res, "station", "oven")
    assert fractions(oven, STATION_STATES)["busy"] == pytest.approx(
        rate / 10 * oven_s / H, abs=5e-3)
    for m in (stack, oven):
        assert sum(fractions(m, STATION_STATES).values()) == pytest.approx(1.0)
        assert sum(m[f"{s}_h"] for s in STATION_STATES) == pytest.approx(2.0)
    c = measures(res, "conveyor", "belt")
    assert c["moving_h"] + c["stopped_h"] + c["empty_h"] == pytest.approx(2.0)
    if rate == H / stack_s:  # the feeder binds: nothing waits, every unit rides 24 s
        assert c["aboard_h"] * H == pytest.approx(24.0, abs=1e-6)


# --- out of a batch station -----------------------------------------------------------------

UNLOAD = {"run": {"horizon": "1000 s"},
          "products": {"cell": {"route": ["stack", "oven", "weld"]}},
          "stations": {"stack": {"process_time": "1 s"},
                       "oven": {"process_time": "100 s", "batch": {"size": 5}, "buffer": 10},
                       "weld": {"process_time": "0.1 s"}},
          "logistics": {"conveyors": {"belt": belt("oven", "weld", 30, 0.5, 1.5)}}}


def test_a_batch_unloads_onto_the_belt_one_pitch_apart() -> None:
    """By hand: units reach the oven at 1..5 s; the first batch runs 5-105 s. Its units get
    on at 105, 108, 111, 114, 117 (one every p / v = 3 s: the last (5 - 1) x 3 s after the
    first), the oven blocked meanwhile. The stack has filled the buffer, so the next batch
    starts at 117 and ends at 217: a cycle of 100 + 12 s. In 1000 s: 8 batches unloaded
    (8 x 12 s blocked), busy 8 x 100 + (1000 - 901), starved the first 5 s."""
    res = run(UNLOAD, event_log=True)
    ev = res.events
    on = np.sort(ev[ev.activity == "conveyor"].start_h.to_numpy() * H)
    expect = [105 + 112 * k + 3 * i for k in range(8) for i in range(5)]
    assert on == pytest.approx(expect, abs=1e-6)
    oven = measures(res, "station", "oven")
    assert oven["blocked_h"] * H == pytest.approx(8 * 12)
    assert oven["busy_h"] * H == pytest.approx(8 * 100 + 99)
    assert oven["starved_h"] * H == pytest.approx(5)
    c = measures(res, "conveyor", "belt")
    assert c["aboard_h"] * H == pytest.approx(60)  # 30 m at 0.5 m/s, weld always free
    assert c["aboard_max"] == 5


def test_two_batches_unloading_onto_one_belt_are_not_interleaved() -> None:
    """Two racks (batches of 3, 100 s) fed every 1 s start at 3 and 6 s; the belt takes a
    unit every 4 s. Rack A's units get on at 103, 107, 111; rack B finishes at 106 while A's
    second unit waits for the entry and joins the line behind it; at 107 A's third unit
    keeps A's turn (it goes before B's first): B's units get on at 115, 119, 123. A is
    blocked 103-111, B 106-123."""
    doc = copy.deepcopy(UNLOAD)
    doc["run"]["horizon"] = "160 s"  # (a ride ends 32 s after it began)
    doc["stations"]["oven"] = {"process_time": "100 s", "batch": {"size": 3}, "buffer": 6,
                               "servers": 2}
    doc["logistics"]["conveyors"]["belt"] = belt("oven", "weld", 8, 0.25, 1)
    res = run(doc, event_log=True)
    ev = res.events
    rides = ev[ev.activity == "conveyor"].sort_values("start_h")
    assert rides.start_h.to_numpy() * H == pytest.approx([103, 107, 111, 115, 119, 123])
    # the first three released (rack A's batch) ride first, then rack B's
    released = ev[ev.activity == "release"].sort_values("start_h").unit.tolist()
    assert rides.unit.tolist() == released[:6]
    assert measures(res, "station", "oven")["blocked_h"] * H == pytest.approx(8 + 17)


# --- into and out of a warehouse ------------------------------------------------------------

def test_a_warehouse_fed_and_emptied_by_conveyors() -> None:
    """A cell every 60 s -> stack (10 s) -> belt in (12 m at 0.5 m/s: 24 s) -> aging store
    (dwell 1 h, 2 cranes) -> belt out (6 m at 0.5 m/s: 12 s) -> grade (5 s). Nothing is
    ever held up (the store's infeed is unlimited, grade is idle when a unit arrives), so
    the throughput is the arrival rate, 60 per hour, every unit rides exactly 24 s and 12 s,
    and by Little's law each belt holds on average 60 x 24 / 3600 = 0.4 and 0.2 units."""
    res = run({"run": {"horizon": "4 h", "warmup": "2 h"},
               "products": {"cell": {"route": ["stack", "aging", "grade"],
                                     "release": {"interarrival": "60 s"}}},
               "stations": {"stack": {"process_time": "10 s"},
                            "aging": {"process_time": "1 h",
                                      "warehouse": {"places": 200, "cranes": 2,
                                                    "rack": {"length": 20, "height": 10},
                                                    "speed": {"horizontal": 2,
                                                              "vertical": 1},
                                                    "pick_deposit": "5 s"}},
                            "grade": {"process_time": "5 s"}},
               "logistics": {"conveyors": {"in": belt("stack", "aging", 12, 0.5, 1.2),
                                           "out": belt("aging", "grade", 6, 0.5, 1.2)}}})
    cell = measures(res, "product", "cell")
    assert cell["throughput_per_h"] == pytest.approx(60, abs=0.5)
    for name, ride in (("in", 24.0), ("out", 12.0)):
        c = measures(res, "conveyor", name)
        assert c["aboard_h"] * H == pytest.approx(ride, abs=1e-6)
        assert c["carried"] / 4 == pytest.approx(60, abs=0.5)
        # Little's law, with the units aboard at the ends of the period as the error
        assert c["aboard_mean"] == pytest.approx(c["carried"] / 4 * c["aboard_h"], abs=0.01)
        assert c["aboard_mean"] == pytest.approx(60 * ride / H, abs=0.01)
        assert c["moving_h"] + c["stopped_h"] + c["empty_h"] == pytest.approx(4.0)
        assert c["stopped_h"] == 0


def test_a_crane_waits_holding_its_unit_for_the_outfeed_belt() -> None:
    """One crane, pick/deposit 1 s, negligible travel, 1 s dwell: a store and a retrieval
    take 2 s each. The infeed always holds a unit; the belt out takes one every 10 s (pitch
    5 m at 0.5 m/s), well below the crane's 4 s per unit: throughput 360 per hour. Each unit
    is stored and retrieved once, so the crane is busy 360 x 4 s per hour = 0.4; it is never
    idle (a unit waits on the infeed, and with a 1 s dwell few places are taken), so the
    rest, 0.6, it waits holding a retrieved unit for the belt's entry (blocked, as it would
    wait for a full station)."""
    res = run({"run": {"horizon": "1 h", "warmup": "10 min"},
               "products": {"cell": {"route": ["stack", "store", "grade"]}},
               "stations": {"stack": {"process_time": "1 s"},
                            "store": {"process_time": "1 s", "buffer": 5,
                                      "warehouse": {"places": 50, "pick_deposit": "1 s",
                                                    **FAST_RACK}},
                            "grade": {"process_time": "1 s"}},
               "logistics": {"conveyors": {"in": belt("stack", "store", 1, 1, 1),
                                           "out": belt("store", "grade", 20, 0.5, 5)}}})
    assert measures(res, "product", "cell")["throughput_per_h"] == pytest.approx(360, abs=1)
    crane = fractions(measures(res, "station", "store"), STATION_STATES)
    assert crane["busy"] == pytest.approx(0.4, abs=2e-3)
    assert crane["blocked"] == pytest.approx(0.6, abs=2e-3)
    out = measures(res, "conveyor", "out")
    assert out["aboard_h"] * H == pytest.approx(40, abs=1e-6)  # grade is always free
    assert out["aboard_mean"] == pytest.approx(360 * 40 / H, abs=0.02)  # Little


# --- out of an assembly station -------------------------------------------------------------

def assembly_line(stack_s: float, belts: dict, **more) -> dict:
    """Anodes and cathodes cut every 1 s into lanes of 2 places; stack joins one of each
    into a cell in `stack_s`; the cell goes on to weld (1 s)."""
    doc = {"run": {"horizon": "1 h", "warmup": "10 min"},
           "products": {"anode": {"route": ["cut_a", "stack"]},
                        "cathode": {"route": ["cut_c", "stack"]},
                        "cell": {"route": ["stack", "weld"], "release": "assembly"}},
           "stations": {"cut_a": {"process_time": "1 s"}, "cut_c": {"process_time": "1 s"},
                        "stack": {"process_time": f"{stack_s} s", "buffer": 2,
                                  "assembly": {"parts": {"anode": 1, "cathode": 1}}},
                        "weld": {"process_time": "1 s"}},
           "logistics": {"conveyors": belts}}
    doc.update(more)
    return doc


def test_assembled_units_ride_a_belt_like_any_machines() -> None:
    """Stack 10 s (the bottleneck: the cutters keep both lanes full), belt to weld 24 m at
    0.4 m/s (60 s): a cell every 10 s, 360 per hour, each released at its kit's start and
    finished 10 + 60 + 1 = 71 s later (weld is free every time)."""
    res = run(assembly_line(10, {"belt": belt("stack", "weld", 24, 0.4, 1.2)}))
    cell = measures(res, "product", "cell")
    assert cell["throughput_per_h"] == pytest.approx(360, abs=1)
    assert cell["lead_time_h"] * H == pytest.approx(71)
    assert measures(res, "conveyor", "belt")["aboard_h"] * H == pytest.approx(60)
    assert measures(res, "product", "anode")["consumed"] == pytest.approx(
        measures(res, "product", "cathode")["consumed"])


def test_an_assembly_machine_waits_for_the_belt_entry() -> None:
    """Stack 2 s, belt entry every 3 s (pitch 1.2 m at 0.4 m/s): the belt binds, 1200 cells
    per hour, and the stack is blocked 1 s in every 3."""
    res = run(assembly_line(2, {"belt": belt("stack", "weld", 24, 0.4, 1.2)}))
    assert measures(res, "product", "cell")["throughput_per_h"] == pytest.approx(1200, abs=1)
    stack = fractions(measures(res, "station", "stack"), STATION_STATES)
    assert stack["blocked"] == pytest.approx(1 / 3, abs=1e-3)
    assert stack["busy"] == pytest.approx(2 / 3, abs=1e-3)


# --- into an assembly station's lanes -------------------------------------------------------

def test_parts_ride_a_belt_into_their_lane_and_wait_at_its_end() -> None:
    """Anodes cut every 2 s ride a 3 m belt at 1 m/s (pitch 1 m: 3 places, 3 s ride) into a
    lane of 2; cathodes go straight into theirs; stack takes 10 s. Stack binds (360 per
    hour); in steady state the anode lane is full, the belt holds 3 anodes, the first waiting
    at the end: each kit taken lets that one into the lane, the next closes up in 1 s (one
    pitch) and the blocked cutter's anode gets on. So the belt moves 1 s in 10, holds 3 all
    the time, and each anode rides 3 kit cycles = 30 s (Little: 3 = 0.1/s x 30 s); the
    anode cutter works 2 s in 10 (blocked 0.8)."""
    doc = assembly_line(10, {"belt": belt("cut_a", "stack", 3, 1, 1)})
    doc["stations"]["cut_a"]["process_time"] = "2 s"
    doc["stations"]["cut_c"]["process_time"] = "2 s"
    res = run(doc)
    assert measures(res, "product", "cell")["throughput_per_h"] == pytest.approx(360, abs=1)
    c = measures(res, "conveyor", "belt")
    assert c["aboard_mean"] == pytest.approx(3.0)
    assert c["aboard_h"] * H == pytest.approx(30.0)
    assert c["carried"] == pytest.approx(360, abs=1)
    states = fractions(c, ("moving", "stopped", "empty"))
    assert states == pytest.approx({"moving": 0.1, "stopped": 0.9, "empty": 0.0}, abs=1e-3)
    cut = fractions(measures(res, "station", "cut_a"), STATION_STATES)
    assert cut["blocked"] == pytest.approx(0.8, abs=1e-3)


QUEUE = {"run": {"horizon": "1 h"},
         "products": {"anode": {"route": ["cut_a", "stack"]},
                      "q": {"route": ["cut_a", "cut_c"]},
                      "cathode": {"route": ["cut_c", "stack"]},
                      "cell": {"route": ["stack"], "release": "assembly"}},
         "stations": {"cut_a": {"process_time": "1 s"},
                      "cut_c": {"process_time": "0.7 s", "buffer": 0},
                      "stack": {"process_time": "10 s", "buffer": 1,
                                "assembly": {"parts": {"anode": 1, "cathode": 1}}}},
         "logistics": {"conveyors": {"belt": belt("cut_a", "stack", 5, 1, 1)}}}


def test_parts_aboard_a_moving_belt_are_on_their_way(monkeypatch) -> None:
    """cut_a makes anodes (by belt, a 5 s ride) and units q for cut_c in turn; cut_c makes
    cathodes and takes q first. At 2 s: the cathode lane is full (cut_c blocked since
    1.4 s), cut_a blocked with q for cut_c, stack idle without an anode, but anode 1 is aboard
    (on at 1 s) and reaches its lane at 6 s: no deadlock, as a part on a vehicle coming to
    its reserved place is none. Kits start at 6, 16, ... (each next anode is cut right after
    a kit frees cut_c, and is in its lane 6 s later): in 3600 s, 360 kits start and 359
    cells are done. If the parts aboard were not counted, the same state would read as a
    deadlock at 2 s (checked by unlinking the belt from the station)."""
    res = run(QUEUE)
    doc = res.summary()
    assert doc["deadlocks"] == []
    assert measures(res, "product", "cell")["finished"] == 359
    assert measures(res, "product", "anode")["consumed"] == 360
    monkeypatch.setattr(AssemblyStation, "link_belt", lambda self, c: None)
    doc = run(QUEUE).summary()
    assert doc["deadlocks"] and doc["deadlocks"][0]["time_h"] * H == pytest.approx(2.0)


# --- deadlocks ------------------------------------------------------------------------------

def test_one_belt_carrying_both_parts_deadlocks_when_one_lane_is_full() -> None:
    """One cutter makes 10 anodes, then 10 cathodes (campaigns), every 2 s, onto one belt (3
    places, a unit every 1 s, 3 s ride) into lanes of 2. Anodes 1, 2 fill their lane (at 5,
    7 s); anode 3 waits at the end from 9 s; anodes 4, 5 fill the belt (on at 8, 10); anode
    6 (done at 12 s) cannot get on. No cathode can ever pass the waiting anode: a deadlock at
    12 s of cutter, stack and the belt, with 6 units (2 in the lane, 3 aboard, 1 held)."""
    doc = {"run": {"horizon": "1 h"},
           "products": {"anode": {"route": ["cutter", "stack"], "campaign": 10},
                        "cathode": {"route": ["cutter", "stack"], "campaign": 10},
                        "cell": {"route": ["stack"], "release": "assembly"}},
           "stations": {"cutter": {"process_time": "2 s"},
                        "stack": {"process_time": "10 s", "buffer": 2,
                                  "assembly": {"parts": {"anode": 1, "cathode": 1}}}},
           "logistics": {"conveyors": {"belt": belt("cutter", "stack", 3, 1, 1)}}}
    dead = run(doc).summary()["deadlocks"]
    assert len(dead) == 1
    assert dead[0]["time_h"] * H == pytest.approx(12.0)
    assert dead[0]["stations"] == ["cutter", "stack"]
    assert dead[0]["conveyors"] == ["belt"]
    assert dead[0]["units"] == 6


HELD = {"run": {"horizon": "1 h"},
        "products": {"a": {"route": ["f", "stack"], "campaign": 2},
                     "p": {"route": ["f", "stack"]},
                     "x": {"route": ["f", "y"]},
                     "k": {"route": ["y", "stack"]},
                     "cell": {"route": ["stack"], "release": "assembly"}},
        "stations": {"f": {"process_time": "1 s"},
                     "y": {"process_time": "0.7 s", "buffer": 0},
                     "stack": {"process_time": "10 s", "buffer": 1,
                               "assembly": {"parts": {"a": 1, "p": 1, "k": 1}}}},
        "logistics": {"conveyors": {"belt": belt("f", "stack", 5, 1, 1)}}}


def test_a_kitting_deadlock_begins_when_a_part_waits_at_the_belts_end() -> None:
    """f makes a, a, p (onto a 5-place belt, 5 s ride) and x for y, in turn; y makes k
    (lane of 1) and takes x first. k1 fills its lane at 0.7 s, y is blocked with k2 from
    1.4 s, f with x1 from 4 s. a1 fills its lane at 6 s; at 7 s a2 reaches the end and
    waits, with p1 behind it: the kit misses p, which can no longer arrive, f and y are
    stuck, and the belt is not full. The deadlock is reported then (7 s), naming the belt,
    with all 6 units made (a1, k1 in lanes, a2, p1 aboard, x1, k2 held)."""
    dead = run(HELD).summary()["deadlocks"]
    assert len(dead) == 1
    assert dead[0]["time_h"] * H == pytest.approx(7.0)
    assert dead[0]["stations"] == ["f", "y", "stack"]
    assert dead[0]["conveyors"] == ["belt"]
    assert dead[0]["units"] == 6


def test_a_loop_through_a_belt_into_a_batch_oven_deadlocks() -> None:
    """press (1 s, no buffer) -> belt (2 places, a unit every 1 s, 2 s ride) -> oven
    (batches of 2, 100 s, buffer 2) -> back to press. The oven starts units 1, 2 at 4 s;
    units 3, 4 fill its buffer (5, 6 s), 5 waits at the belt's end from 7 s with 6 behind it
    (belt full), 7 stays on the press. At 104 s the oven's batch is done and its first unit
    finds the press blocked: a deadlock of press, oven and belt with all 7 units made."""
    doc = {"run": {"horizon": "1 h"},
           "products": {"cell": {"route": ["press", "oven", "press"]}},
           "stations": {"press": {"process_time": "1 s", "buffer": 0},
                        "oven": {"process_time": "100 s", "batch": {"size": 2},
                                 "buffer": 2}},
           "logistics": {"conveyors": {"belt": belt("press", "oven", 2, 1, 1)}}}
    dead = run(doc).summary()["deadlocks"]
    assert len(dead) == 1
    assert dead[0]["time_h"] * H == pytest.approx(104.0)
    assert (dead[0]["stations"], dead[0]["conveyors"]) == (["press", "oven"], ["belt"])
    assert dead[0]["units"] == 7


def test_a_loop_through_a_belt_into_a_warehouse_deadlocks() -> None:
    """As above with a store (1 crane, 2 places, infeed of 1, 100 s dwell) instead of the
    oven: units 1, 2 are stored at 3, 4 s, 3 waits on the infeed, 4 at the belt's end
    behind it, the belt is full and the press blocked from 6 s. At 103 s unit 1's dwell ends,
    the crane retrieves it and finds the press blocked: a deadlock naming the belt. Stuck:
    unit 1 on the crane, 2 in its place, 3 on the infeed, 4 and 5 on the belt (2 places),
    6 on the blocked press: 6 units, every one released."""
    doc = {"run": {"horizon": "1 h"},
           "products": {"cell": {"route": ["press", "store", "press"]}},
           "stations": {"press": {"process_time": "1 s", "buffer": 0},
                        "store": {"process_time": "100 s", "buffer": 1,
                                  "warehouse": {"places": 2, **FAST_RACK}}},
           "logistics": {"conveyors": {"belt": belt("press", "store", 2, 1, 1)}}}
    dead = run(doc).summary()["deadlocks"]
    assert len(dead) == 1
    assert dead[0]["time_h"] * H == pytest.approx(103.0, abs=1e-4)
    assert (dead[0]["stations"], dead[0]["conveyors"]) == (["press", "store"], ["belt"])
    assert dead[0]["units"] == 6


# --- every kind of end at once, random ------------------------------------------------------

RANDOM = {"run": {"horizon": "12 h", "warmup": "2 h", "replications": 3, "seed": 5},
          "products": {"cell": {"route": ["fill", "formation", "aging", "module"]},
                       "frame": {"route": ["frame_cut", "module"],
                                 "release": {"interarrival": {"exponential": "40 s"}}},
                       "pack": {"route": ["module", "test"], "release": "assembly"}},
          "stations": {
              "fill": {"process_time": {"exponential": "18 s"}, "scrap": 0.01},
              "formation": {"process_time": {"uniform": ["20 min", "40 min"]}, "servers": 3,
                            "batch": {"size": 40, "min": 30}, "buffer": 80},
              "aging": {"process_time": {"exponential": "1 h"}, "buffer": 10,
                        "warehouse": {"places": 400, "cranes": 2,
                                      "rack": {"length": 20, "height": 8},
                                      "speed": {"horizontal": 2, "vertical": 1},
                                      "pick_deposit": "3 s"}},
              "frame_cut": {"process_time": {"exponential": "30 s"},
                            "failures": {"mtbf": "2 h", "mttr": "10 min"}},
              "module": {"process_time": {"exponential": "35 s"}, "buffer": 6,
                         "assembly": {"parts": {"cell": 2, "frame": 1}}},
              "test": {"process_time": {"exponential": "30 s"}, "buffer": 0, "scrap": 0.02}},
          "logistics": {"conveyors": {
              "to_formation": belt("fill", "formation", 12, 0.4, 1.2),
              "to_aging": belt("formation", "aging", 12, 0.4, 1.2, accumulating=False),
              "to_module": belt("aging", "module", 9, 0.3, 1.2),
              "frames": belt("frame_cut", "module", 6, 0.3, 1.5),
              "to_test": belt("module", "test", 6, 0.3, 1.2, accumulating=False)}}}


@pytest.fixture(scope="module")
def random_run() -> twin.Results:
    return run(RANDOM, event_log=True)


def test_every_kind_of_end_keeps_flow_balance_and_state_sums(random_run) -> None:
    """Per replication: released = finished + scrapped + consumed + (WIP end - WIP start);
    two cells and one frame consumed per pack released; every station's and conveyor's state
    fractions sum to 1; no deadlock (the frames' belt and the cells' belt feed separate
    lanes, and the lanes are larger than a kit)."""
    m = random_run.measures
    assert random_run.summary()["deadlocks"] == []
    for r in range(3):
        mr = m[m.replication == r]

        def get(kind, entity, measure):
            sub = mr[(mr.kind == kind) & (mr.entity == entity) & (mr.measure == measure)]
            return float(sub["value"].sum())

        def total(measure):
            return float(mr[(mr.kind == "product") & (mr.measure == measure)]["value"].sum())

        inside = get("system", "", "wip_end") - get("system", "", "wip_start")
        assert total("released") == total("finished") + total("scrapped") \
            + total("consumed") + inside
        packs = get("product", "pack", "released")
        assert packs > 100
        # (kits are taken at once: consumption counts kits started after the warm-up)
        assert get("product", "cell", "consumed") == 2 * packs
        assert get("product", "frame", "consumed") == packs
        for name in RANDOM["stations"]:
            assert sum(get("station", name, f"{s}_h") for s in STATION_STATES) \
                == pytest.approx(12.0 * RANDOM["stations"][name].get("servers", 1)
                                 if "warehouse" not in RANDOM["stations"][name]
                                 else 12.0 * 2)
        for name in RANDOM["logistics"]["conveyors"]:
            assert sum(get("conveyor", name, f"{s}_h") for s in
                       ("moving", "stopped", "empty")) == pytest.approx(12.0)


def test_every_belt_keeps_littles_law_fifo_and_spacing(random_run) -> None:
    """On each belt: mean aboard = units carried per hour x mean hours aboard (Little's law,
    up to the units aboard at the ends of the period); units leave in the order they got
    on, get on at least pitch / speed apart and ride at least length / speed."""
    belts = RANDOM["logistics"]["conveyors"]
    doc = random_run.summary()["conveyors"]
    for name, spec in belts.items():
        block = doc[name]
        little = block["carried_per_h"]["mean"] * block["aboard_h"]["mean"]
        assert block["aboard_mean"]["mean"] == pytest.approx(little, rel=0.03, abs=0.02), name
    ev = random_run.events
    for name, spec in belts.items():
        rides = ev[(ev.activity == "conveyor") & (ev.station == spec["from"])
                   & (ev.replication == 0)]
        rides = rides[rides["product"].isin(
            [p for p, d in RANDOM["products"].items()
             if any(a == spec["from"] and b == spec["to"]
                    for a, b in zip(d["route"], d["route"][1:]))])]
        rides = rides.sort_values("start_h")
        on, off = rides.start_h.to_numpy() * H, rides.end_h.to_numpy() * H
        assert len(on) > 100, name
        assert (np.diff(off) >= -1e-9).all(), name
        assert (np.diff(on) >= spec["pitch"] / spec["speed"] - 1e-6).all(), name
        assert (off - on >= spec["length"] / spec["speed"] - 1e-6).all(), name


def test_a_batch_gets_on_as_a_whole(random_run) -> None:
    """Three formation racks unload onto one belt: the units of one batch (processed over
    the same interval) get on one after another, never interleaved with another rack's."""
    ev = random_run.events
    ev = ev[ev.replication == 0]
    batch = ev[(ev.activity == "process") & (ev.station == "formation")]
    batch_of = dict(zip(batch.unit, zip(batch.start_h, batch.end_h)))
    rides = ev[(ev.activity == "conveyor") & (ev.station == "formation")]
    order = [batch_of[u] for u in rides.sort_values("start_h").unit if u in batch_of]
    runs = [k for i, k in enumerate(order) if i == 0 or order[i - 1] != k]
    assert len(runs) == len(set(runs)) > 10  # each batch is one run of consecutive units
