"""Review of conveyor ends at batch stations, warehouses and assembly stations (merge
434dd24; docs/modelling.md, Conveyors). Each check rests on a hand computation, an identity
(flow balance, state sums, Little's law, energy = sum of power x state time) or a documented
choice (a conveyor takes precedence over the product's fleet)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

import twin
from twin.scenario.schema import Scenario

H = 3600.0
ROOT = Path(__file__).resolve().parents[1]
STATES = ("busy", "starved", "blocked", "down", "setup", "off_shift")
FAST_RACK = {"rack": {"length": 1, "height": 1},
             "speed": {"horizontal": 1e6, "vertical": 1e6}}


def run(doc: dict, **options) -> twin.Results:
    return twin.run(Scenario.model_validate({"name": "conveyor ends review", **doc}), **options)


def measures(res, kind, entity, r=0) -> dict:
    m = res.measures
    sub = m[(m.kind == kind) & (m.entity == entity) & (m.replication == r)]
    return dict(zip(sub["measure"], sub["value"]))


def belt(frm, to, length, speed, pitch, **more) -> dict:
    return {"from": frm, "to": to, "length": length, "speed": speed, "pitch": pitch, **more}


def balance(res, r=0) -> tuple[float, float]:
    """(released, finished + scrapped + consumed + WIP change) of replication r."""
    m = res.measures
    mr = m[m.replication == r]

    def tot(x):
        return float(mr[(mr.kind == "product") & (mr.measure == x)]["value"].sum())

    def sys(x):
        return float(mr[(mr.kind == "system") & (mr.measure == x)]["value"].sum())
    return tot("released"), (tot("finished") + tot("scrapped") + tot("consumed")
                             + sys("wip_end") - sys("wip_start"))


UNLOAD = {"run": {"horizon": "1000 s"},
          "products": {"cell": {"route": ["stack", "oven", "weld"]}},
          "stations": {"stack": {"process_time": "1 s"},
                       "oven": {"process_time": "100 s", "batch": {"size": 5}, "buffer": 10},
                       "weld": {"process_time": "0.1 s"}},
          "logistics": {"conveyors": {"belt": belt("oven", "weld", 30, 0.5, 1.5)}}}


def test_scrapped_units_of_a_batch_take_no_place_on_the_belt() -> None:
    """Batch of 5, scrap 0.3 at the oven: the units not scrapped get on one pitch (3 s)
    apart from the batch's end, in batch order (a scrapped unit costs no belt time), and
    flow balances (released = finished + scrapped + WIP change)."""
    doc = copy.deepcopy(UNLOAD)
    doc["stations"]["oven"]["scrap"] = 0.3
    res = run(doc, event_log=True)
    ev = res.events
    ends = ev[(ev.activity == "process") & (ev.station == "oven")]
    scrapped = set(ev[ev.activity == "scrap"].unit)
    rides = ev[ev.activity == "conveyor"].set_index("unit")
    checked = 0
    for end_h, group in ends.groupby("end_h"):
        kept = [u for u in sorted(group.unit) if u not in scrapped]
        assert not (set(group.unit) - set(kept)) & set(rides.index)
        for j, u in enumerate(kept):
            if u in rides.index:
                assert rides.loc[u, "start_h"] * H == pytest.approx(end_h * H + 3 * j)
                checked += 1
    assert checked > 20
    released, out = balance(res)
    assert released == out
    oven = measures(res, "station", "oven")
    assert sum(oven[f"{s}_h"] for s in STATES) == pytest.approx(1000 / H)


def test_warm_up_ending_mid_unload() -> None:
    """UNLOAD (cycle of 112 s: batch k unloads over [105 + 112 k, 117 + 112 k]) with a
    warm-up of 110 s, i.e. in the middle of the first unload, and 1000 s measured
    (110-1110 s): the oven is blocked 7 s (110-117) + 8 x 12 s (k = 1..8) = 103 s; every
    unit rides 60 s, so by Little the belt holds carried / 1000 s x 60 s on average (up to
    the units aboard at the ends)."""
    doc = copy.deepcopy(UNLOAD)
    doc["run"] = {"horizon": "1000 s", "warmup": "110 s"}
    res = run(doc)
    oven = measures(res, "station", "oven")
    assert oven["blocked_h"] * H == pytest.approx(103)
    assert sum(oven[f"{s}_h"] for s in STATES) * H == pytest.approx(1000)
    c = measures(res, "conveyor", "belt")
    assert c["aboard_h"] * H == pytest.approx(60)
    assert c["aboard_mean"] == pytest.approx(c["carried"] / 1000 * 60, abs=5 * 60 / 1000)
    released, out = balance(res)
    assert released == out


def test_belt_takes_precedence_over_the_fleet_at_batch_and_warehouse_ends() -> None:
    """The product has an AGV `transport`, but every move is carried by a conveyor
    (schema: a conveyor takes precedence over the product's fleet): the AGV never drives,
    and each finished unit rode both belts."""
    lg = {"points": {"a": [0, 0], "b": [10, 0], "c": [20, 0]},
          "paths": [["a", "b"], ["b", "c"]],
          "fleets": {"agv": {"vehicles": 1, "speed_loaded": 1, "home": "a"}},
          "conveyors": {"ab": belt("a", "b", 2, 1, 1), "bc": belt("b", "c", 30, 0.5, 1.5)}}
    batch = {"process_time": "100 s", "batch": {"size": 5}, "buffer": 10}
    store = {"process_time": "10 s", "buffer": 5,
             "warehouse": {"places": 50, "pick_deposit": "1 s", **FAST_RACK}}
    for b in (batch, store):
        res = run({"run": {"horizon": "1000 s"},
                   "products": {"cell": {"route": ["a", "b", "c"], "transport": "agv"}},
                   "stations": {"a": {"process_time": "1 s"}, "b": b,
                                "c": {"process_time": "0.1 s"}},
                   "logistics": copy.deepcopy(lg)}, event_log=True)
        s = res.summary()
        assert s["deadlocks"] == []
        assert s["fleets"]["agv"]["trips_per_h"]["mean"] == 0
        ev = res.events
        assert not (ev.activity == "transport").any()
        done = set(ev[ev.activity == "finish"].unit)
        assert len(done) > 30
        rides = ev[ev.activity == "conveyor"].groupby("unit").size()
        assert all(rides.get(u, 0) == 2 for u in done)


def test_batch_oven_on_a_calendar_unloading_onto_a_belt_keeps_state_sums() -> None:
    """Two ovens (1 h batches of 20) on a 16 h day shift unload onto a belt (a unit every
    3 s): for either at_shift_end, each oven's states sum to the 72 h measured (144 h for
    two), flow balances, and every unit rides exactly 60 s (weld is always free)."""
    base = {"run": {"horizon": "3 d", "warmup": "1 d"},
            "calendars": {"day": {"shifts": [["6 h", "22 h"]]}},
            "products": {"cell": {"route": ["stack", "oven", "weld"]}},
            "stations": {"stack": {"process_time": "10 s"},
                         "oven": {"process_time": "1 h", "batch": {"size": 20},
                                  "buffer": 40, "calendar": "day", "servers": 2},
                         "weld": {"process_time": "1 s"}},
            "logistics": {"conveyors": {"belt": belt("oven", "weld", 30, 0.5, 1.5)}}}
    for end in ("pause", "finish"):
        doc = copy.deepcopy(base)
        doc["stations"]["oven"]["at_shift_end"] = end
        res = run(doc)
        oven = measures(res, "station", "oven")
        assert sum(oven[f"{s}_h"] for s in STATES) == pytest.approx(144)
        # a batch's 20 units leave over 19 x 3 s; the ovens are blocked just that long
        batches = oven["produced"] / 20
        assert oven["blocked_h"] * H == pytest.approx(batches * 57, rel=0.05)
        c = measures(res, "conveyor", "belt")
        assert c["aboard_h"] * H == pytest.approx(60)
        assert c["moving_h"] + c["stopped_h"] + c["empty_h"] == pytest.approx(72)
        released, out = balance(res)
        assert released == out


def test_assembly_fed_by_belt_and_by_vehicle() -> None:
    """Part A by AGV, part B by belt, into lanes of 2: no deadlock, equal consumption of A
    and B (one each per kit = per unit released), flow balance, Little's law on the belt."""
    doc = {"run": {"horizon": "4 h", "warmup": "1 h", "replications": 2, "seed": 3},
           "products": {"A": {"route": ["ca", "asm"], "transport": "agv"},
                        "B": {"route": ["cb", "asm"]},
                        "C": {"route": ["asm", "pack"], "release": "assembly"}},
           "stations": {"ca": {"process_time": {"exponential": "20 s"}},
                        "cb": {"process_time": {"exponential": "20 s"}},
                        "asm": {"process_time": {"exponential": "22 s"}, "buffer": 2,
                                "assembly": {"parts": {"A": 1, "B": 1}}},
                        "pack": {"process_time": "5 s"}},
           "logistics": {"points": {"ca": [0, 0], "asm": [10, 0]}, "paths": [["ca", "asm"]],
                         "fleets": {"agv": {"vehicles": 1, "speed_loaded": 2, "load_time": 1,
                                            "unload_time": 1, "home": "ca"}},
                         "conveyors": {"b": belt("cb", "asm", 6, 0.5, 1.5)}}}
    res = run(doc)
    assert res.summary()["deadlocks"] == []
    for r in range(2):
        released, out = balance(res, r)
        assert released == out
        a, b = measures(res, "product", "A", r), measures(res, "product", "B", r)
        c = measures(res, "product", "C", r)
        assert a["consumed"] == b["consumed"] == c["released"] > 300
        belt_m = measures(res, "conveyor", "b", r)
        assert belt_m["aboard_mean"] == pytest.approx(
            belt_m["carried"] / 4 * belt_m["aboard_h"], abs=0.1)  # (<= 4 aboard at the ends)


def test_rework_back_into_a_batch_station_by_belt() -> None:
    """Inspection sends 30 % back to the batch oven on a belt: every unit reworked got on
    that belt (carried = reworked, up to the units aboard at the ends, at most its 10
    places), and flow balances."""
    doc = {"run": {"horizon": "10 h", "warmup": "1 h", "seed": 4},
           "products": {"cell": {"route": ["a", "b",
                                           {"station": "c", "rework": {"p": 0.3, "to": "b"}}]}},
           "stations": {"a": {"process_time": {"exponential": "60 s"}},
                        "b": {"process_time": "10 min", "batch": {"size": 10, "min": 5},
                              "buffer": 30, "servers": 2},
                        "c": {"process_time": {"exponential": "20 s"}, "buffer": 20}},
           "logistics": {"conveyors": {"ab": belt("a", "b", 4, 1, 1),
                                       "bc": belt("b", "c", 10, 0.5, 1),
                                       "cb": belt("c", "b", 10, 0.5, 1)}}}
    res = run(doc)
    assert res.summary()["deadlocks"] == []
    released, out = balance(res)
    assert released == out
    reworked = measures(res, "station", "c")["reworked"]
    assert reworked > 50
    assert abs(measures(res, "conveyor", "cb")["carried"] - reworked) <= 10


@pytest.fixture(scope="module")
def formation():
    doc = yaml.safe_load((ROOT / "scenarios/examples/formation_conveyor.yaml").read_text())
    doc["run"]["horizon"] = "1 d"
    doc["run"]["warmup"] = "2 d"
    return doc


def test_formation_example_reproducible_balanced_and_metered(formation) -> None:
    """The example with every new kind of end: the same seed gives the same summary with 1
    and 2 workers; per replication flow balances, each belt's states sum to 24 h, its
    energy is the sum of power x state time, and the event log holds one ride per unit
    carried in the measured day."""
    sc = Scenario.model_validate(formation)
    r1 = twin.run(sc, event_log=True)
    r2 = twin.run(sc, workers=2)
    def dump(r):  # (wall-clock timings left out)
        doc = {k: v for k, v in r.summary().items() if "tim" not in k and "perf" not in k}
        return json.dumps(doc, sort_keys=True, default=str)
    assert dump(r1) == dump(r2)
    assert r1.summary()["deadlocks"] == []
    belts = formation["logistics"]["conveyors"]
    ev = r1.events
    for r in range(2):
        released, out = balance(r1, r)
        assert released == out
        for name, spec in belts.items():
            c = measures(r1, "conveyor", name, r)
            assert c["moving_h"] + c["stopped_h"] + c["empty_h"] == pytest.approx(24)
            kw = spec["power_kw"]
            for s in ("moving", "stopped", "empty"):
                assert c[f"energy_{s}_kwh"] == pytest.approx(kw[s] * c[f"{s}_h"])
            rides = ev[(ev.replication == r) & (ev.activity == "conveyor")
                       & (ev.station == spec["from"]) & (ev.end_h > 48)]
            assert len(rides) == c["carried"]
