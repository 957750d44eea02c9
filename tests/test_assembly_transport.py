"""Parts carried by vehicle to an assembly station: a move reserves a place in its part's
lane, the vehicle carries the unit and sets it down there; kits, deadlocks and the load-time
checks around it.

The first test pins numbers worked out by hand on a tiny scenario with constant times (events
fall on exact instants; the warm-up is chosen so that no event ties with it).
"""

from __future__ import annotations

import copy

import pytest

import twin
from twin.engine.assembly import AssemblyStation
from twin.errors import ScenarioError
from twin.scenario.load import load
from twin.scenario.schema import Scenario

from support import check_kits_and_flow, write_scenario

H = 3600.0
VEHICLE_STATES = ("moving_loaded", "moving_empty", "loading", "unloading", "waiting", "idle")

# A is cut at ca (10 s) and carried 10 m at 1 m/s by one AGV (load 2 s, unload 3 s) into its
# lane at asm (one place per part); B is released straight into its lane every 30 s; a kit
# of one A and one B makes C (5 s).
CARRIED = {
    "name": "a part carried by vehicle to its assembly station",
    "run": {"horizon": 3600, "warmup": 61},
    "products": {"A": {"route": ["ca", "asm"], "transport": "agv"},
                 "B": {"route": ["asm"], "release": {"interarrival": 30}},
                 "C": {"route": ["asm"], "release": "assembly"}},
    "stations": {"ca": {"process_time": 10},
                 "asm": {"process_time": 5, "buffer": 1,
                         "assembly": {"parts": {"A": 1, "B": 1}}}},
    "logistics": {"points": {"ca": [0, 0], "asm": [10, 0]}, "paths": [["ca", "asm"]],
                  "fleets": {"agv": {"vehicles": 1, "speed_loaded": 1, "load_time": 2,
                                     "unload_time": 3, "home": "ca"}}},
}


def run(doc: dict, **options):
    return twin.run(Scenario.model_validate(doc), **options)


def mean(stat: dict) -> float:
    return stat["mean"]


def test_hand_computed_kits_transports_and_states() -> None:
    """By hand. A1 is cut 0-10 s; its lane is free, so a place is reserved and the AGV (at
    ca) loads 10-12, drives 12-22, unloads 22-25. A2 is cut 12-22 but at 22 the lane's one
    place is A1's (reserved, A1 still on the AGV): A2's move waits, ca blocked. B1 comes at
    30: kit 1 at 30 (C1 30-35); the place A1 left goes to A2, the AGV drives empty 30-40,
    loads 40-42 (ca free, cuts A3 42-52), drives 42-52, unloads 52-55; A3 waits from 52.
    From then on a kit every 30 s (at 30 k, paced by B) and per 30 s: the AGV 10 s empty,
    2 loading, 10 loaded, 3 unloading, 5 idle; ca 10 busy, 20 blocked; asm 5 busy. A spends
    12 -> 60 = 48 s in the system, C 5 s: WIP 120/h x (48 + 5) s = 1.7667."""
    s = run(CARRIED).summary()
    assert s["deadlocks"] == []
    p = s["products"]
    assert mean(p["C"]["throughput_per_h"]) == pytest.approx(120)
    assert mean(p["A"]["consumed"]) == mean(p["B"]["consumed"]) == 120
    assert mean(p["A"]["consumed_time_h"]) * H == pytest.approx(48)
    assert mean(p["B"]["consumed_time_h"]) * H == pytest.approx(0)
    ca, asm = s["stations"]["ca"]["states"], s["stations"]["asm"]["states"]
    assert (ca["busy"], ca["blocked"]) == pytest.approx((1 / 3, 2 / 3))
    assert (asm["busy"], asm["starved"]) == pytest.approx((1 / 6, 5 / 6))
    agv = s["fleets"]["agv"]["states"]
    expected = {"moving_empty": 10 / 30, "loading": 2 / 30, "moving_loaded": 10 / 30,
                "unloading": 3 / 30, "idle": 5 / 30, "waiting": 0.0}
    assert {k: agv[k] for k in expected} == pytest.approx(expected)
    assert mean(s["wip"]) == pytest.approx(120 * 53 / H)
    assert mean(s["wip"]) == pytest.approx(mean(s["checks"]["littles_law_wip"]))


def test_hand_computed_event_times_from_the_start() -> None:
    """The same scenario from time 0: A's transports asked at 10, 22, 52, 82 s end at 25,
    55, 85, 115 s (the second waits 22 -> 30 for its lane's place, then for the AGV's empty
    run); then every 30 s; kits start at 30, 60, 90, ... s, each consuming one A and one B."""
    doc = copy.deepcopy(CARRIED)
    doc["run"] = {"horizon": 200}
    log = run(doc, event_log=True).events
    moves = log[log.activity == "transport"]
    # (logged when the unit is set down: the move asked at 172 s ends after the horizon)
    assert list(moves.start_h * H) == pytest.approx([10, 22, 52, 82, 112, 142])
    assert list(moves.end_h * H) == pytest.approx([25, 55, 85, 115, 145, 175])
    assert (moves["product"] == "A").all() and (moves.station == "ca").all()
    consumed = log[log.activity == "consumed"]
    per_kit = consumed.groupby("start_h")["product"].value_counts().unstack(fill_value=0)
    assert list(per_kit.index * H) == pytest.approx([30, 60, 90, 120, 150, 180])
    assert (per_kit["A"] == 1).all() and (per_kit["B"] == 1).all()


# Two parts carried by two AGVs with random times (A two per kit), a third released straight
# into its lane, failures at the assembler, and the assembled product carried on by the same
# fleet to a packing station.
RANDOM = {
    "name": "random parts by vehicle",
    "run": {"horizon": "12 h", "warmup": "1 h", "seed": 11, "replications": 2},
    "products": {
        "A": {"route": ["ca", "asm"], "transport": "agv"},
        "B": {"route": ["cb", {"station": "insp", "rework": {"p": 0.1, "to": "cb"}}, "asm"],
              "transport": "agv"},
        "K": {"route": ["asm"], "release": {"interarrival": {"exponential": "40 s"}}},
        "C": {"route": ["asm", "pack"], "release": "assembly", "transport": "agv"},
    },
    "stations": {
        "ca": {"servers": 2, "process_time": {"exponential": "14 s"}, "buffer": 2,
               "scrap": 0.05},
        "cb": {"process_time": {"gamma": {"mean": "25 s", "cv": 0.5}}},
        "insp": {"process_time": "3 s"},
        "asm": {"servers": 2, "process_time": {"lognormal": {"mean": "45 s", "cv": 0.3}},
                "buffer": 3, "assembly": {"parts": {"A": 2, "B": 1, "K": 1}},
                "failures": {"mtbf": {"exponential": "1 h"}, "mttr": {"exponential": "5 min"}}},
        "pack": {"process_time": {"exponential": "20 s"}, "buffer": 2},
    },
    "logistics": {
        "points": {"ca": [0, 0], "cb": [0, 20], "insp": [10, 20], "asm": [30, 10],
                   "pack": [50, 10]},
        "paths": [["ca", "asm"], ["cb", "insp"], ["insp", "asm"], ["asm", "pack"],
                  ["insp", "cb"], ["ca", "cb"]],
        "fleets": {"agv": {"vehicles": 2, "speed_loaded": 1.5, "speed_empty": 2,
                           "load_time": {"uniform": ["3 s", "6 s"]},
                           "unload_time": {"exponential": "4 s"}, "home": "asm"}},
    },
}


@pytest.fixture(scope="module")
def probed_run():
    """The random scenario, with every lane checked after each change: units in the lane
    plus places reserved never exceed `buffer`, reservations never fall below 0, and a
    vehicle's reserved unit always finds its place. Returns (result, fullest seen, checks)."""
    seen = {"fullest": 0, "checks": 0, "reserved_offers": 0}
    offer, ask, take = AssemblyStation.offer, AssemblyStation.ask_place, AssemblyStation.take_kit

    def check(st: AssemblyStation) -> None:
        for p, lane in st.lanes.items():
            used = len(lane) + st.coming[p]
            assert st.coming[p] >= 0, (p, st.coming[p])
            assert used <= st.capacity, (p, len(lane), st.coming[p])
            seen["fullest"] = max(seen["fullest"], used)
        seen["checks"] += 1

    def probed_offer(self, unit, now, reserved=False):
        taken = offer(self, unit, now, reserved)
        if reserved:
            assert taken, "a unit on a vehicle found its reserved place gone"
            seen["reserved_offers"] += 1
        check(self)
        return taken

    def probed_ask(self, move):
        ask(self, move)
        check(self)

    def probed_take(self, now):
        kit = take(self, now)
        check(self)
        return kit

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(AssemblyStation, "offer", probed_offer)
        mp.setattr(AssemblyStation, "ask_place", probed_ask)
        mp.setattr(AssemblyStation, "take_kit", probed_take)
        result = run(RANDOM)
    return result, seen


def test_lane_places_are_never_exceeded_counting_reservations(probed_run) -> None:
    result, seen = probed_run
    assert seen["reserved_offers"] > 1000  # parts did come by vehicle
    assert seen["fullest"] == RANDOM["stations"]["asm"]["buffer"]  # lanes did fill up
    assert result.summary()["deadlocks"] == []


def test_parts_consumed_in_kit_proportion_flow_balance_and_little(probed_run) -> None:
    """Per replication: parts consumed exactly 2 A, 1 B, 1 K per C released; released =
    finished + scrapped + consumed + (wip_end - wip_start); machine and vehicle states sum
    to the horizon; and WIP = Σ rate x time in system (Little's law, units on vehicles
    included)."""
    result, _ = probed_run
    check_kits_and_flow(result.measures, "C", {"A": 2, "B": 1, "K": 1}, RANDOM["stations"],
                        12, least=400)
    s = result.summary()
    agv = s["fleets"]["agv"]["states"]
    assert sum(agv[k] for k in VEHICLE_STATES) == pytest.approx(1)
    assert agv["waiting"] == pytest.approx(0)  # a lane place is reserved: never waits loaded
    assert mean(s["wip"]) == pytest.approx(mean(s["checks"]["littles_law_wip"]), rel=0.005)


def test_a_kitting_deadlock_with_vehicles_is_reported_not_a_hang() -> None:
    """One cutter (1 s) makes A and B in turn (saturated); one AGV (0 s load, 1 s loaded,
    0.5 s empty, 0.25 s unload) carries both to asm, whose kit needs two A and one B in
    lanes of two places. By hand: parts are set down at A1 2.25, B1 4, A2 5.75 (kit 1),
    B2 7.5, A3 9.25, B3 11, A4 12.75 (kit 2), B4 14.5 s. At 12.5 s B4 finds lane B full (B2,
    B3) and waits, while lane A holds A3 with A4 aboard: no deadlock, the kit is coming (it
    starts at 12.75 and frees B4's place). A5 is cut 13.25-14.25 and loaded at 15; at 16 s
    B5 finds lane B full (B3, B4) while lane A has only A5, still aboard: A needs a second
    A that only the blocked cutter could make. Deadlock at 16 s of cut and asm, 4 units
    stuck (B3, B4 in the lane, B5 on the cutter, A5 on the vehicle); the vehicle is not
    part of it. With one A per kit the same plant runs on."""
    doc = {
        "name": "kitting deadlock by vehicle",
        "run": {"horizon": "10 h"},
        "products": {"A": {"route": ["cut", "asm"], "transport": "agv"},
                     "B": {"route": ["cut", "asm"], "transport": "agv"},
                     "C": {"route": ["asm"], "release": "assembly"}},
        "stations": {"cut": {"process_time": 1},
                     "asm": {"process_time": 1, "buffer": 2,
                             "assembly": {"parts": {"A": 2, "B": 1}}}},
        "logistics": {"points": {"cut": [0, 0], "asm": [10, 0]}, "paths": [["cut", "asm"]],
                      "fleets": {"agv": {"vehicles": 1, "speed_loaded": 10,
                                         "speed_empty": 20, "unload_time": 0.25,
                                         "home": "cut"}}},
    }
    s = run(doc).summary()
    [d] = s["deadlocks"]
    assert d["time_h"] * H == pytest.approx(16)
    assert set(d["stations"]) == {"cut", "asm"}
    assert d["units"] == 4
    assert "vehicles" not in d
    doc["stations"]["asm"]["assembly"]["parts"]["A"] = 1
    s = run(doc).summary()
    assert s["deadlocks"] == []
    assert mean(s["products"]["C"]["finished"]) > 1000


def test_a_loop_through_an_assembly_station_by_vehicle_is_reported() -> None:
    """C goes from asm back to the A cutter, both moves by vehicle, no buffer at the cutter:
    the cutter waits for a place in lane A while asm waits for the cutter (as without
    vehicles, tests/test_assembly_review.py): a deadlock of cut and asm."""
    doc = {
        "name": "a loop through an assembly station by vehicle",
        "run": {"horizon": "1 h"},
        "products": {"A": {"route": ["cut", "asm"], "transport": "agv"},
                     "B": {"route": ["feed", "asm"]},
                     "C": {"route": ["asm", "cut"], "release": "assembly", "transport": "agv"}},
        "stations": {"cut": {"process_time": 1, "buffer": 0},
                     "feed": {"process_time": 1},
                     "asm": {"process_time": 1, "buffer": 1,
                             "assembly": {"parts": {"A": 1, "B": 1}}}},
        "logistics": {"points": {"cut": [0, 0], "asm": [10, 0], "feed": [10, 10]},
                      "paths": [["cut", "asm"], ["feed", "asm"]],
                      "fleets": {"agv": {"vehicles": 2, "speed_loaded": 5, "home": "cut"}}},
    }
    s = run(doc).summary()
    [d] = s["deadlocks"]
    assert {"cut", "asm"} <= set(d["stations"])
    assert d["time_h"] * H < 60


def test_a_part_carried_to_its_assembly_station_loads(tmp_path) -> None:
    """The former refusal ("parts carried by vehicle") is gone."""
    path = write_scenario(tmp_path, """\
        name: a part by vehicle
        run: {horizon: "1 h"}
        products:
          A: {route: [ca, asm], transport: agv}
          C: {route: [asm], release: assembly}
        stations:
          ca: {process_time: "10 s"}
          asm: {process_time: "5 s", assembly: {parts: {A: 1}}}
        logistics:
          points: {ca: [0, 0], asm: [10, 0]}
          paths: [[ca, asm]]
          fleets: {agv: {vehicles: 1, speed_loaded: 1, home: ca}}
        """)
    scenario = load(path)
    assert scenario.products["A"].transport == "agv"


def test_a_part_released_into_its_lane_cannot_be_carried(tmp_path) -> None:
    path = write_scenario(tmp_path, """\
        name: a part released into its lane, with a fleet
        run: {horizon: "1 h"}
        products:
          K: {route: [asm], release: {interarrival: "20 s"}, transport: agv}
          C: {route: [asm], release: assembly}
        stations:
          asm: {process_time: "5 s", assembly: {parts: {K: 1}}}
        logistics:
          points: {asm: [0, 0], depot: [10, 0]}
          paths: [[asm, depot]]
          fleets: {agv: {vehicles: 1, speed_loaded: 1, home: depot}}
        """)
    with pytest.raises(ScenarioError) as info:
        load(path)
    text = str(info.value)
    assert "products.K.transport" in text
    assert "released straight into its lane at asm" in text and "leave transport out" in text
