"""Review of assembly stations (commits c801031, 6a6438e): adversarial tests.

Most tests pin numbers worked out by hand on tiny scenarios with constant times (events fall
on exact instants; warm-ups and horizons are chosen so that no event ties with the end of the
warm-up or of the run), or check identities and invariants on random scenarios. Tests whose
docstrings begin with "BUG" failed on the code as reviewed (commit 58c41c2) and say what
should happen instead; all are fixed since.
"""

from __future__ import annotations

import copy
import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

import twin
from twin.engine import replication
from twin.errors import ScenarioError
from twin.model import build
from twin.report.text import text_summary
from twin.scenario.load import load, scenario_json_schema
from twin.scenario.schema import Scenario

from support import check_kits_and_flow, twin_command, without_timing

ROOT = Path(__file__).resolve().parents[1]
H = 3600.0


def scenario(doc: dict) -> Scenario:
    return Scenario.model_validate({"name": "assembly review", **doc})


def run(doc: dict, **options):
    return twin.run(scenario(doc), **options)


def simulate(doc: dict, warmup: float = 0.0, seed: int = 0):
    """One replication straight on the engine: {(kind, entity, measure): value}."""
    res = replication.simulate(build(scenario(doc)), 0, seed, warmup)
    return {(k, e, n): v for k, e, n, v in res.measures}


def write(tmp_path: Path, doc: dict, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"name": "assembly review", **doc}, sort_keys=False))
    return path


def mean(stat: dict) -> float:
    return stat["mean"]


# Two part lines (anodes A, cathodes B) and an assembly station making C from one of each.
CELL = {
    "run": {"horizon": 3600},
    "products": {"A": {"route": ["ca", "asm"]}, "B": {"route": ["cb", "asm"]},
                 "C": {"route": ["asm"], "release": "assembly"}},
    "stations": {"ca": {"process_time": 10}, "cb": {"process_time": 10},
                 "asm": {"process_time": 5, "assembly": {"parts": {"A": 1, "B": 1}}}},
}


def cell(**changes) -> dict:
    doc = copy.deepcopy(CELL)
    for path, value in changes.items():
        node = doc
        *head, last = path.split("__")
        for key in head:
            node = node.setdefault(key, {})
        node[last] = value
    return doc


# ------------------------------------------------------------------------------------------
# Hand-computed constant-time cases


def test_two_assembly_servers_warmup_mid_assembly_energy_and_oee() -> None:
    """Parts in pairs every 10 s; two assemblers of 15 s each: kit k taken at 10k by the
    free machine (they alternate), busy 15 of every 20 s. Warm-up ends at 57 s, in the middle
    of kit 5 (50-65 s). Measured [57, 3657): kits 6..365 taken (360 consumed of each part, 360
    C released), C finished at 10k+15 for k = 5..364 (360), busy 8 + 359*15 + 7 = 5400
    machine-s of 7200: utilisation 0.75; power 10 kW busy, 2 kW idle: 54000 + 3600 kW s =
    16 kWh; OEE = 7.5 s planned per unit (15 s / 2 servers) x 360 / 3600 s = 0.75. Parts are
    consumed on arrival (10 s in the system), C's lead time is 15 s, WIP 1 + 1 + 1.5."""
    doc = cell()
    doc["run"]["warmup"] = 57
    doc["stations"]["asm"].update(servers=2, process_time=15,
                                  power_kw={"busy": 10, "starved": 2})
    s = run(doc).summary()
    p, asm = s["products"], s["stations"]["asm"]
    assert mean(p["A"]["consumed"]) == mean(p["B"]["consumed"]) == 360
    assert mean(p["C"]["released"]) == mean(p["C"]["finished"]) == 360
    assert mean(p["C"]["throughput_per_h"]) == pytest.approx(360)
    assert mean(p["C"]["lead_time_h"]) * H == pytest.approx(15)
    assert mean(p["A"]["consumed_time_h"]) * H == pytest.approx(10)
    assert mean(asm["utilization"]) == pytest.approx(0.75)
    assert asm["states"]["starved"] == pytest.approx(0.25)
    assert mean(asm["energy_kwh"]) == pytest.approx(16)
    assert mean(asm["oee"]) == pytest.approx(0.75)
    assert mean(s["wip"]) == pytest.approx(3.5)
    assert mean(s["checks"]["littles_law_wip"]) == pytest.approx(3.5)


def test_three_of_a_part_per_kit_with_two_assemblers() -> None:
    """A every 5 s, B every 15 s, kit {A: 3, B: 1}: a kit every 15 s (240/h) at 15k, taken by
    whichever of the two 25 s assemblers is free (busy 25 of 30 s each). The three anodes of a
    kit waited 10, 5, 0 s in the lane (A: 5 + 5 s in the system, lane holds 0, 1, 2 for 5 s
    each: queue 1), B 15 s, C 25 s; WIP = 2 + 1 + 25/15."""
    doc = cell()
    doc["run"]["warmup"] = 100
    doc["stations"].update(ca={"process_time": 5}, cb={"process_time": 15})
    doc["stations"]["asm"].update(servers=2, process_time=25,
                                  assembly={"parts": {"A": 3, "B": 1}})
    s = run(doc).summary()
    p = s["products"]
    assert mean(p["C"]["throughput_per_h"]) == pytest.approx(240)
    assert mean(p["A"]["consumed"]) == 3 * mean(p["B"]["consumed"]) == 720
    assert mean(p["A"]["consumed_time_h"]) * H == pytest.approx(10)
    assert mean(p["B"]["consumed_time_h"]) * H == pytest.approx(15)
    assert mean(p["C"]["lead_time_h"]) * H == pytest.approx(25)
    assert mean(s["stations"]["asm"]["utilization"]) == pytest.approx(25 / 30)
    assert mean(s["stations"]["asm"]["queue_mean"]) == pytest.approx(1.0)
    assert mean(s["wip"]) == pytest.approx(3 + 25 / 15)
    assert mean(s["checks"]["littles_law_wip"]) == pytest.approx(3 + 25 / 15)


def test_blocked_senders_enter_only_their_own_parts_lane() -> None:
    """Kit {A: 2, B: 1}, two places per lane, a 30 s assembler; two A cutters and one B
    cutter of 10 s. Each kit frees two A places (both A cutters, blocked, move in) and one B
    place (the B cutter moves in). Every cutter is then blocked 20 s in 30; lanes stay full
    (queue 4); an A unit spends 10 + 20 + 30 s (60 s), a B unit 10 + 20 + 2 x 30 s (90 s)
    because its lane holds two kits' worth; WIP 4 + 3 + 1 = 8 = Little's sum. A blocked A
    sender taking a freed B place would break all of these."""
    doc = cell()
    doc["run"]["warmup"] = 115
    doc["stations"].update(ca={"servers": 2, "process_time": 10}, cb={"process_time": 10})
    doc["stations"]["asm"].update(process_time=30, buffer=2,
                                  assembly={"parts": {"A": 2, "B": 1}})
    s = run(doc).summary()
    p, st = s["products"], s["stations"]
    assert mean(p["C"]["throughput_per_h"]) == pytest.approx(120)
    assert st["ca"]["states"]["blocked"] == pytest.approx(2 / 3)
    assert st["cb"]["states"]["blocked"] == pytest.approx(2 / 3)
    assert mean(st["asm"]["queue_mean"]) == pytest.approx(4)
    assert mean(p["A"]["consumed_time_h"]) * H == pytest.approx(60)
    assert mean(p["B"]["consumed_time_h"]) * H == pytest.approx(90)
    assert mean(s["wip"]) == pytest.approx(8)
    assert mean(s["checks"]["littles_law_wip"]) == pytest.approx(8)


def test_queue_end_counts_the_parts_waiting_in_the_lanes() -> None:
    """BUG: one place per lane, a 30 s assembler, parts every 10 s: after the first kits
    both lanes are always full (queue_mean 2, each part waits 30 s in its lane), so at the end
    of the run 2 units wait at the assembly station. `queue_end` reports 0: the replication
    records `len(st.queue)`, but an assembly station keeps its parts in `lanes` and its
    `queue` is never used. Fix: record `st.waiting()` (the lanes' sum) in
    Replication.collect."""
    doc = cell()
    doc["stations"]["asm"].update(process_time=30, buffer=1)
    m = simulate(doc, warmup=95)
    assert m[("station", "asm", "queue_mean")] == pytest.approx(2)
    assert m[("station", "asm", "wait_h")] * H == pytest.approx(30)
    assert m[("station", "ca", "blocked_h")] == pytest.approx(2 / 3)
    assert m[("station", "asm", "queue_end")] == 2


def test_time_and_operation_failures_of_an_assembler_resume_the_kit() -> None:
    """Parts every second, a 30 s assembly, failures every 100 s (of clock time, or of busy
    time) repaired in 20 s: the kit in process resumes after the repair (its parts are
    consumed once). Time mode: up [1, 100], then [120k, 120k + 100]: 2999 s of processing by
    3600 s, 99 units, 100 kits taken; down 30 x 20 s. Operation mode: 3000 busy s, the 100th
    unit waits out a repair to 3601 s: 99 finished, 100 kits; down 29 x 20 + 19 s."""
    expected = {"time": (2999, 600), "operation": (3000, 599)}
    for mode, (busy, down) in expected.items():
        doc = cell()
        doc["stations"].update(ca={"process_time": 1}, cb={"process_time": 1})
        doc["stations"]["asm"].update(process_time=30, buffer=5, failures={
            "mtbf": 100, "mttr": 20, "mode": mode})
        s = run(doc).summary()
        p, st = s["products"], s["stations"]["asm"]["states"]
        assert mean(p["C"]["finished"]) == 99, mode
        assert mean(p["C"]["released"]) == mean(p["A"]["consumed"]) == 100, mode
        assert st["busy"] == pytest.approx(busy / H), mode
        assert st["down"] == pytest.approx(down / H), mode
        assert sum(st.values()) == pytest.approx(1.0)


def test_shift_calendar_assembly_waits_for_the_shift_and_starts_every_free_machine() -> None:
    """Parts every 10 min round the clock; two 5 min assemblers on shift 8-16 h. By 8 h 48
    kits wait; at 8 h both machines start at once (4 parts consumed at 8 h), no kit is taken
    off shift; pairs 1..95 are assembled (pair 96 arrives at 16 h, off shift): 95 cells,
    95 x 300 machine-s busy of 2 x 24 h, off shift 2/3."""
    doc = cell()
    doc["run"]["horizon"] = "1 d"
    doc["calendars"] = {"day": {"shifts": [["8 h", "16 h"]]}}
    doc["stations"].update(ca={"process_time": 600}, cb={"process_time": 600})
    doc["stations"]["asm"].update(servers=2, process_time=300, buffer=100, calendar="day")
    res = run(doc, event_log=True)
    s = res.summary()
    assert mean(s["products"]["C"]["finished"]) == 95
    st = s["stations"]["asm"]["states"]
    assert st["busy"] == pytest.approx(95 * 300 / (2 * 86400))
    assert st["off_shift"] == pytest.approx(2 / 3)
    ev = res.events
    consumed = ev[ev.activity == "consumed"]
    assert ((consumed.start_h < 8) | (consumed.start_h >= 16)).sum() == 0
    assert (consumed.start_h == 8).sum() == 4


def test_conwip_part_loops_are_refilled_when_their_parts_are_consumed() -> None:
    """A in a CONWIP loop of 3 through its 10 s cutter, K in a loop of 2 released straight
    into its lane, B saturated: a kit {A, B, K} every 10 s (360/h, loops refilled at each
    consumption). A: 3 in the system at 360/h, 30 s each; K: 2, 20 s; B: 10 s; C 5 s."""
    doc = cell()
    doc["run"]["warmup"] = 100
    doc["products"]["A"]["release"] = {"conwip": 3}
    doc["products"]["K"] = {"route": ["asm"], "release": {"conwip": 2}}
    doc["stations"]["asm"]["assembly"]["parts"]["K"] = 1
    s = run(doc).summary()
    p = s["products"]
    assert mean(p["C"]["finished"]) == 360
    for part, t in (("A", 30), ("B", 10), ("K", 20)):
        assert mean(p[part]["consumed"]) == 360, part
        assert mean(p[part]["released"]) == 360, part
        assert mean(p[part]["consumed_time_h"]) * H == pytest.approx(t), part
    assert mean(s["wip"]) == pytest.approx(3 + 1 + 2 + 0.5)


def test_a_sub_assembly_feeds_a_second_assembly_station() -> None:
    """S (A + B, 4 s at s1) is a part of C (S + 2 K, 3 s at s2), then w 2 s. A kit of S
    every 10 s: 360 C/h, C's lead time 5 s, S spends 4 s in the system. K: a 4 s cutter, lane
    of 3: blocked 2 s in 10, lane at 2 then 3 (mean 2.6), 720 K/h, 18 s each."""
    doc = {
        "run": {"horizon": 3600, "warmup": 100},
        "products": {"A": {"route": ["ca", "s1"]}, "B": {"route": ["cb", "s1"]},
                     "S": {"route": ["s1", "s2"], "release": "assembly"},
                     "K": {"route": ["ck", "s2"]},
                     "C": {"route": ["s2", "w"], "release": "assembly"}},
        "stations": {"ca": {"process_time": 10}, "cb": {"process_time": 10},
                     "ck": {"process_time": 4},
                     "s1": {"process_time": 4, "assembly": {"parts": {"A": 1, "B": 1}}},
                     "s2": {"process_time": 3, "buffer": 3,
                            "assembly": {"parts": {"S": 1, "K": 2}}},
                     "w": {"process_time": 2}},
    }
    s = run(doc).summary()
    p, st = s["products"], s["stations"]
    assert mean(p["C"]["throughput_per_h"]) == pytest.approx(360)
    assert mean(p["C"]["lead_time_h"]) * H == pytest.approx(5)
    assert mean(p["S"]["consumed_time_h"]) * H == pytest.approx(4)
    assert mean(p["K"]["consumed"]) == 2 * mean(p["S"]["consumed"]) == 720
    assert mean(p["K"]["consumed_time_h"]) * H == pytest.approx(18)
    assert st["ck"]["states"]["blocked"] == pytest.approx(0.2)
    assert mean(st["s1"]["utilization"]) == pytest.approx(0.4)
    assert mean(st["s2"]["utilization"]) == pytest.approx(0.3)
    assert mean(s["wip"]) == pytest.approx(mean(s["checks"]["littles_law_wip"]))


def test_the_assembled_product_carried_on_by_vehicle() -> None:
    """Kits every 30 s; C (5 s) is carried 10 m at 1 m/s by one AGV, then 5 s at w. After
    the first cell the AGV waits at w: it drives 10 s empty to fetch each cell (the
    assembler is blocked 10 s in 30), 10 s loaded; C's lead time 5 + 10 + 10 + 5 = 30 s."""
    doc = cell()
    doc["run"]["warmup"] = 100
    doc["products"]["C"].update(route=["asm", "w"], transport="agv")
    doc["stations"].update(ca={"process_time": 30}, cb={"process_time": 30},
                           w={"process_time": 5})
    doc["logistics"] = {"points": {"asm": [0, 0], "w": [10, 0]}, "paths": [["asm", "w"]],
                        "fleets": {"agv": {"vehicles": 1, "speed_loaded": 1, "home": "asm"}}}
    s = run(doc).summary()
    assert mean(s["products"]["C"]["throughput_per_h"]) == pytest.approx(120)
    assert mean(s["products"]["C"]["lead_time_h"]) * H == pytest.approx(30)
    st = s["stations"]["asm"]["states"]
    assert (st["busy"], st["blocked"]) == pytest.approx((1 / 6, 1 / 3))
    agv = s["fleets"]["agv"]["states"]
    assert (agv["moving_empty"], agv["moving_loaded"]) == pytest.approx((1 / 3, 1 / 3))
    assert mean(s["wip"]) == pytest.approx(3) == mean(s["checks"]["littles_law_wip"])


def test_the_assembled_products_own_process_time_at_the_assembly_step() -> None:
    """C's own 8 s at asm (not the station's 5 s): util 8/10 with a kit every 10 s."""
    doc = cell()
    doc["run"]["warmup"] = 100
    doc["products"]["C"]["route"] = [{"station": "asm", "process_time": 8}]
    s = run(doc).summary()
    assert mean(s["stations"]["asm"]["utilization"]) == pytest.approx(0.8)
    assert mean(s["products"]["C"]["lead_time_h"]) * H == pytest.approx(8)


# ------------------------------------------------------------------------------------------
# Deadlocks


def test_a_real_deadlock_through_an_assembly_station_reports_its_units() -> None:
    """C goes from asm back to the A cutter (no buffer). t = 0..1: A1, B1; kit at 1 s (C1,
    1-2 s). At 2 s the cutter, free, takes A3 before C1 arrives: C1 blocks asm; lanes hold
    A2, B2. At 3 s A3 cannot enter the full A lane: cut and asm wait on each other. Units
    stuck: A2, B2 in the lanes, C1 on asm, A3 on cut = 4."""
    doc = {"run": {"horizon": 3600},
           "products": {"A": {"route": ["cut", "asm"]}, "B": {"route": ["feed", "asm"]},
                        "C": {"route": ["asm", "cut"], "release": "assembly"}},
           "stations": {"cut": {"process_time": 1, "buffer": 0},
                        "feed": {"process_time": 1},
                        "asm": {"process_time": 1, "buffer": 1,
                                "assembly": {"parts": {"A": 1, "B": 1}}}}}
    s = run(doc).summary()
    [d] = s["deadlocks"]
    assert d["time_h"] * H == pytest.approx(3)
    assert set(d["stations"]) == {"cut", "asm"}
    assert d["units"] == 4


def test_no_false_deadlock_when_lanes_and_the_next_buffer_are_full() -> None:
    """A slow welder after the assembler, tiny lanes and buffers, random times and failures:
    everything blocks often, but nothing loops back: no deadlock, and flows balance."""
    doc = cell()
    doc["run"].update(horizon="12 h", seed=3)
    doc["products"]["C"]["route"] = ["asm", "weld"]
    doc["stations"].update(
        ca={"servers": 2, "process_time": {"exponential": "8 s"}, "buffer": 0},
        cb={"process_time": {"exponential": "6 s"}, "buffer": 0},
        weld={"process_time": {"exponential": "12 s"}, "buffer": 0,
              "failures": {"mtbf": {"exponential": "20 min"}, "mttr": {"exponential": "3 min"}}})
    doc["stations"]["asm"].update(process_time={"exponential": "5 s"}, buffer=1, servers=2)
    s = run(doc).summary()
    assert s["deadlocks"] == []
    assert mean(s["products"]["C"]["finished"]) > 1000


def test_a_kitting_deadlock_is_reported_not_run_silently_to_the_end() -> None:
    """BUG: one cutter makes both parts, taking turns A, B, A, B (saturated release); a kit
    needs two A and one B; two places per lane. A at 1, 3 s, B at 2 s: kit at 3 s; B at 4, 6,
    A at 5, 7: kit at 7 s (lane B keeps one); B at 8 s fills lane B, A at 9 s waits alone, and
    at 10 s the cutter holds a B it can never place: lane A needs a second A only this
    blocked cutter could make. Nothing moves again, yet the run goes on to the end with two
    cells and the cutter 'blocked' 99.7% of the time, no deadlock reported. Cause:
    check_deadlock only follows stations whose machines are all blocked; an assembly station
    whose idle machines wait for a part that only stuck senders can bring is not seen as
    stuck. Fix: treat an assembly station with idle machines and an incomplete kit as stuck
    when every sender that could complete it is itself stuck (here: blocked on the station),
    and report the deadlock (time 10 s, cut and asm, 4 units: one on the cutter, three in
    the lanes). The same silent stall hits a batch oven shared by two parts: a batch unloads
    in order, its first unit blocks on a full lane and the other part's units stay aboard."""
    doc = {"run": {"horizon": 3600},
           "products": {"A": {"route": ["cut", "asm"]}, "B": {"route": ["cut", "asm"]},
                        "C": {"route": ["asm"], "release": "assembly"}},
           "stations": {"cut": {"process_time": 1},
                        "asm": {"process_time": 1, "buffer": 2,
                                "assembly": {"parts": {"A": 2, "B": 1}}}}}
    s = run(doc).summary()
    assert s["deadlocks"], (
        "a kitting deadlock at 10 s went unreported: the run made "
        f"{mean(s['products']['C']['finished'])} cells, cut blocked "
        f"{s['stations']['cut']['states']['blocked']:.4f} of the time")
    [d] = s["deadlocks"]
    assert d["time_h"] * H == pytest.approx(10)
    assert set(d["stations"]) == {"cut", "asm"}
    assert d["units"] == 4


# ------------------------------------------------------------------------------------------
# Identities, the event log, determinism

RANDOM = {
    "run": {"horizon": "1 d", "warmup": "2 h", "seed": 17, "replications": 2},
    "products": {
        "A": {"route": ["ca", "asm"]},
        "B": {"route": ["cb", {"station": "insp", "rework": {"p": 0.1, "to": "cb"}}, "asm"],
              "release": {"interarrival": {"exponential": "40 s"}}},
        "K": {"route": ["asm"], "release": {"conwip": 3}},
        "C": {"route": ["asm", "test", "pack"], "release": "assembly"},
    },
    "stations": {
        "ca": {"servers": 2, "process_time": {"exponential": "12 s"}, "buffer": 2,
               "scrap": 0.05},
        "cb": {"process_time": {"gamma": {"mean": "20 s", "cv": 0.5}}},
        "insp": {"process_time": "3 s"},
        "asm": {"servers": 2, "process_time": {"lognormal": {"mean": "45 s", "cv": 0.3}},
                "buffer": 3, "scrap": 0.05, "assembly": {"parts": {"A": 2, "B": 1, "K": 1}},
                "failures": {"mtbf": {"exponential": "1 h"}, "mttr": {"exponential": "5 min"}}},
        "test": {"process_time": {"exponential": "30 s"}, "buffer": 2,
                 "failures": {"mtbf": {"exponential": "30 min"}, "mttr": "2 min",
                              "mode": "operation"}},
        "pack": {"process_time": "10 s", "buffer": 1},
    },
}


@pytest.fixture(scope="module")
def random_run():
    return run(RANDOM, event_log=True)


def test_flow_balance_kit_proportions_and_state_sums(random_run) -> None:
    """Per replication: released = finished + scrapped + consumed + (wip_end - wip_start),
    per product's kit and in total; parts consumed exactly in kit proportion to the C units
    released; every station's states sum to 1."""
    check_kits_and_flow(random_run.measures, "C", {"A": 2, "B": 1, "K": 1},
                        RANDOM["stations"], 24, least=1001)
    s = random_run.summary()
    assert mean(s["wip"]) == pytest.approx(mean(s["checks"]["littles_law_wip"]), rel=0.05)


def test_event_log_of_kits_lanes_and_blocked_senders(random_run) -> None:
    """The event log: each kit's parts are consumed at the instant its C is released (2 A, 1 B,
    1 K); no unit appears after it was consumed; each lane is FIFO (the parts consumed in the
    order they entered the lane) and never holds more than its 3 places; blocked A senders
    enter in the order they blocked."""
    ev = random_run.events
    ev = ev[ev.replication == 0]
    consumed = ev[ev.activity == "consumed"]
    released_c = ev[(ev.activity == "release") & (ev["product"] == "C")]
    per_time = consumed.groupby("start_h")["product"].value_counts().unstack(fill_value=0)
    assert set(per_time.index) <= set(released_c.start_h)
    assert (per_time["A"] == 2).all() and (per_time["B"] == 1).all()
    assert (per_time["K"] == 1).all()
    gone = dict(zip(consumed.unit, consumed.end_h))
    later = ev[ev.unit.isin(gone) & (ev.start_h > ev.unit.map(gone))]
    assert later.empty
    # lane entry: end of the sender's processing, or of its blocked wait; K: its release
    for part, before in (("A", "ca"), ("B", "insp")):
        rows = ev[ev["product"] == part]
        done = rows[(rows.activity == "process") & (rows.station == before)]
        entry = done.groupby("unit").end_h.max()
        blocked = rows[(rows.activity == "blocked") & (rows.station == before)]
        entry.update(blocked.groupby("unit").end_h.max())
        units = entry.index.intersection(consumed[consumed["product"] == part].unit)
        # senders let in at one instant entered in the order they blocked (finished)
        finished = done.groupby("unit").end_h.max()
        keys = sorted(units, key=lambda u: (entry[u], finished[u]))
        order = entry[keys]
        out = consumed.set_index("unit").end_h[keys]
        assert out.is_monotonic_increasing, part
        # occupancy of the lane never above its 3 places
        t = sorted([(x, 1) for x in order] + [(y, -1) for y in out])
        level, peak = 0, 0
        for _, step in t:  # (at equal times departures sort first)
            level += step
            peak = max(peak, level)
        assert peak <= 3, part
        if part == "A":
            b = blocked.sort_values("start_h")
            assert len(b) > 50
            assert b.end_h.is_monotonic_increasing


def test_same_seed_same_results_and_workers(random_run) -> None:
    again = run(RANDOM, event_log=True, workers=2)
    assert without_timing(again.summary()) == without_timing(random_run.summary())


# ------------------------------------------------------------------------------------------
# Results: yields, text report, CLI


def test_final_yield_of_a_part_counts_its_consumed_units_as_good() -> None:
    """BUG: 20% of anodes are scrapped at the cutter, the rest are consumed by assembly; the
    anodes' final yield is reported as 0 (finished / (finished + scrapped) = 0 / scrapped),
    although about 80% of the anodes that left the system were good. results.md counts
    consumed parts as units that left the system (WIP, Little's law) but the yields do not.
    Fix: for a part, final_yield = (finished + consumed) / (finished + consumed + scrapped),
    and count first-pass consumed parts (not reworked) in first_pass."""
    doc = cell()
    doc["run"]["horizon"] = "5 h"
    doc["stations"]["ca"]["scrap"] = 0.2
    s = run(doc).summary()
    a = s["products"]["A"]
    good, bad = mean(a["consumed"]), mean(a["scrapped"])
    assert bad > 0 and good > 3 * bad
    assert a["final_yield"]["mean"] == pytest.approx(good / (good + bad))
    assert a["first_pass_yield"]["mean"] == pytest.approx(good / (good + bad))


def test_text_report_lists_parts_with_their_consumption_rate() -> None:
    doc = cell()
    doc["run"]["warmup"] = 100
    text = text_summary(run(doc).summary())
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:2] == ["part", "consumed/h"])
    rows = {line.split()[0]: line.split() for line in lines[head + 1:head + 3]}
    assert float(rows["A"][1]) == pytest.approx(360) and float(rows["B"][1]) == pytest.approx(360)
    assert float(rows["A"][2]) == pytest.approx(10 / H, rel=1e-3)
    products = lines[lines.index(next(x for x in lines if x.startswith("product"))) + 1:head]
    assert [x.split()[0] for x in products if x.strip()] == ["C"]


def test_cli_run_json_compare_and_html_report(tmp_path) -> None:
    doc = cell()
    doc["run"].update(warmup=100, replications=2)
    a = write(tmp_path, doc, "a.yaml")
    b_doc = copy.deepcopy(doc)
    b_doc["stations"]["asm"]["process_time"] = 8
    b = write(tmp_path, b_doc, "b.yaml")
    cmd = twin_command()
    proc = subprocess.run([*cmd, "run", str(a), "--json", "--workers", "1", "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    doc_out = json.loads(proc.stdout)
    assert doc_out["products"]["A"]["consumed"]["mean"] == 360
    assert doc_out["products"]["C"]["throughput_per_h"]["mean"] == pytest.approx(360)
    report = (tmp_path / "out" / "report.html").read_text()
    assert "asm" in report
    proc = subprocess.run([*cmd, "compare", str(a), str(b), "--out", str(tmp_path / "cmp")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "cmp" / "compare.html").exists()
    line = next(x for x in proc.stdout.splitlines() if x.startswith("lead_time_h:C"))
    assert "+0.0008333" in line  # 8 s instead of 5 s at the assembly


# ------------------------------------------------------------------------------------------
# Load-time checks


REFUSED = [
    ("part of two stations",
     lambda d: (d["stations"].update(asm2={"process_time": 5,
                                           "assembly": {"parts": {"A": 1}}}),
                d["products"].update(D={"route": ["asm2"], "release": "assembly"})),
     "stations.asm2.assembly.parts.A", "already a part"),
    ("two products made", lambda d: d["products"].update(
        D={"route": ["asm"], "release": "assembly"}), "stations.asm.assembly", "one product"),
    ("other visit", lambda d: d["products"].update(E={"route": ["ca", "asm", "w"]}),
     "products.E.route[1]", "assembly station"),
    ("part process_time", lambda d: d["products"]["A"].update(
        route=["ca", {"station": "asm", "process_time": 3}]), "products.A.route[1]",
     "not processed"),
    ("rework right after assembly", lambda d: d["products"]["C"].update(
        route=[{"station": "asm", "rework": {"p": 0.1, "to": "asm"}}, "w"]),
     "products.C.route[0].rework", "rework"),
    ("part released into its lane, by vehicle", lambda d: (d["products"]["A"].update(
        route=["asm"], release={"interarrival": 10}, transport="agv"), d.update(
        logistics={"points": {"ca": [0, 0], "asm": [10, 0]}, "paths": [["ca", "asm"]],
                   "fleets": {"agv": {"vehicles": 1, "speed_loaded": 1, "home": "ca"}}})),
     "products.A.transport", "released straight into its lane"),
    ("initial wip at asm", lambda d: d.update(initial_wip={"asm": {"A": 1}}),
     "initial_wip.asm", "initial work in process"),
    ("setup", lambda d: d["stations"]["asm"].update(setup={"time": 5}), "stations.asm",
     "setups"),
    ("release typo", lambda d: d["products"]["C"].update(release="asembly"),
     "products.C.release", "assembly"),
]


@pytest.mark.parametrize("name, change, where, what", REFUSED, ids=[r[0] for r in REFUSED])
def test_documented_refusals_are_located(tmp_path, name, change, where, what) -> None:
    doc = cell()
    doc["products"]["C"]["route"] = ["asm", "w"]
    doc["stations"]["w"] = {"process_time": 5}
    change(doc)
    path = write(tmp_path, doc)
    with pytest.raises(ScenarioError) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message and where in message and what in message, message


def test_valid_combinations_are_accepted(tmp_path) -> None:
    """Initial WIP of parts upstream and of the assembled product downstream, a part released
    straight into its lane by open arrivals, an assembled product with energy_kwh, a
    calendar, failures, scrap and rework at a later step; all satisfy the JSON Schema too."""
    jsonschema = pytest.importorskip("jsonschema")
    doc = cell()
    doc["calendars"] = {"c": {"shifts": [["6 h", "22 h"]]}}
    doc["products"]["K"] = {"route": ["asm"], "release": {"interarrival": 12}}
    doc["products"]["C"].update(
        route=["asm", {"station": "w", "rework": {"p": 0.1, "to": "w"}}], energy_kwh=3.7)
    doc["stations"]["w"] = {"process_time": 5}
    doc["stations"]["asm"].update(scrap=0.01, calendar="c", failures={
        "mtbf": {"exponential": "2 h"}, "mttr": "5 min"})
    doc["stations"]["asm"]["assembly"]["parts"]["K"] = 1
    doc["initial_wip"] = {"ca": {"A": 1}, "w": {"C": 2}}
    path = write(tmp_path, doc)
    loaded = load(path)
    jsonschema.validate(yaml.safe_load(path.read_text()), scenario_json_schema())
    jsonschema.validate(yaml.safe_load((ROOT / "scenarios/examples/cell_assembly.yaml")
                                       .read_text()), scenario_json_schema())
    m = replication.simulate(replace(build(loaded), horizon=6 * H), 0, 1, 0.0)
    v = {(k, e, n): x for k, e, n, x in m.measures}
    assert v[("system", "", "wip_start")] == 3
    assert v[("product", "C", "finished")] > 0


def test_json_schema_and_loader_agree_on_invalid_assembly_keys() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = scenario_json_schema()
    bad = {
        "no parts": lambda a: a.update(parts={}),
        "zero units": lambda a: a["parts"].update(A=0),
        "unknown key": lambda a: a.update(makes="C"),
        "parts as a list": lambda a: a.update(parts=["A", "B"]),
        "units as text": lambda a: a["parts"].update(A="2"),
    }
    for name, change in bad.items():
        doc = {"name": "x", **cell()}
        change(doc["stations"]["asm"]["assembly"])
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(doc, schema)
        with pytest.raises(ValueError):
            Scenario.model_validate(doc)


@pytest.mark.parametrize("buffer", [0, 1])
def test_a_lane_smaller_than_the_kit_is_refused(tmp_path, buffer) -> None:
    """BUG: two A per kit but `buffer` places per lane (0 or 1): no kit can ever be complete,
    the station never starts and the run makes nothing, silently (no error, no deadlock).
    A batch station whose buffer is below its batch is refused at load ("a batch forms in
    the buffer: give it at least ... places"); an assembly station should be refused the same
    way: stations.asm.buffer must be at least the largest quantity in its kit."""
    doc = cell()
    doc["stations"]["asm"].update(buffer=buffer, assembly={"parts": {"A": 2, "B": 1}})
    path = write(tmp_path, doc)
    try:
        load(path)
    except ScenarioError as e:
        assert "stations.asm" in str(e)
        return
    made = mean(run(doc).summary()["products"]["C"]["finished"])
    pytest.fail(f"accepted, and the run made {made} units: no kit of 2 A fits a lane of "
                f"{buffer}")


def test_a_conwip_part_loop_smaller_than_the_kit_is_refused(tmp_path) -> None:
    """BUG: A circulates in a CONWIP loop of 1 but a kit needs 2 A: no kit is ever complete and
    the run makes nothing, silently. The same situation for a batch station is refused at
    load (conwip_problems: "fewer than the N a batch needs to start"); assembly needs the same
    check: each CONWIP part's limit must reach its quantity in the kit."""
    doc = cell()
    doc["products"]["A"]["release"] = {"conwip": 1}
    doc["stations"]["asm"]["assembly"]["parts"]["A"] = 2
    path = write(tmp_path, doc)
    try:
        load(path)
    except ScenarioError as e:
        assert "A" in str(e)
        return
    made = mean(run(doc).summary()["products"]["C"]["finished"])
    pytest.fail(f"accepted, and the run made {made} units from a loop of 1 A per 2-A kit")


def test_a_saturated_part_starting_at_its_assembly_station_is_supplied_or_refused(
        tmp_path) -> None:
    """BUG: B's route is just [asm] with the default release, saturated. A saturated product
    is released when a machine of its first station takes work (Station.take), but an
    assembly machine takes kits (take_kit) and never releases saturated units: no B ever
    enters, and the run makes nothing without a word. Either refuse saturated release for a
    part whose route begins at its assembly station (with a hint to use interarrival or
    conwip), or keep its lane supplied (then a kit every 10 s, paced by A: 359 C by 1 h)."""
    doc = cell()
    doc["products"]["B"]["route"] = ["asm"]
    path = write(tmp_path, doc)
    try:
        load(path)
    except ScenarioError as e:
        assert "products.B" in str(e)
        return
    assert mean(run(doc).summary()["products"]["C"]["finished"]) == 359


def test_cyclic_sub_assemblies_are_refused(tmp_path) -> None:
    """BUG: X (made at s1) is a part at s2, whose product Y is a part at s1; likewise C listed
    as a part of the station that makes it. Neither kit can ever be complete, and both are
    accepted and run to zero output without a word. A load-time check should refuse a cycle
    of assembled products through the kits (at stations.S.assembly.parts.P)."""
    cyc = {"run": {"horizon": 3600},
           "products": {"A": {"route": ["ca", "s1"]}, "B": {"route": ["cb", "s2"]},
                        "X": {"route": ["s1", "s2"], "release": "assembly"},
                        "Y": {"route": ["s2", "s1"], "release": "assembly"}},
           "stations": {"ca": {"process_time": 10}, "cb": {"process_time": 10},
                        "s1": {"process_time": 5, "assembly": {"parts": {"A": 1, "Y": 1}}},
                        "s2": {"process_time": 5, "assembly": {"parts": {"X": 1, "B": 1}}}}}
    own = cell()
    own["stations"]["asm"]["assembly"]["parts"]["C"] = 1
    accepted = []
    for name, doc in (("cycle", cyc), ("own part", own)):
        try:
            load(write(tmp_path, doc, f"{name.replace(' ', '_')}.yaml"))
            accepted.append(name)
        except ScenarioError:
            pass
    assert not accepted, f"accepted, never able to assemble anything: {accepted}"
