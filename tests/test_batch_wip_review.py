"""Review of batch stations (stations.S.batch) and initial work in process (initial_wip).

Adversarial cases worked out by hand: constant times give exact timelines, so every time,
count and state total asserted below follows from the timeline written in each test's
docstring (times in seconds). The semantics checked are those of docs/modelling.md
("Batches", "Initial work in process") and docs/scenario-format.md ("Batch stations",
"Starting from work in process").
"""

from __future__ import annotations

from dataclasses import replace

import pytest

import twin
from twin.engine.replication import Replication
from twin.model import build
from twin.scenario.initial import initial_wip_problems
from twin.scenario.schema import Scenario

H = 3600.0
NEVER = {"interarrival": "1000 d"}  # no new units during these runs


def scenario(doc: dict) -> Scenario:
    return Scenario.model_validate({"name": "review", **doc})


def run(doc: dict, warmup: float = 0, **options):
    return twin.run(scenario(doc), warmup=warmup, event_log=True, **options)


def values(res, kind: str, entity: str, replication: int = 0):
    m = res.measures
    sub = m[(m.replication == replication) & (m.kind == kind) & (m.entity == entity)]
    return sub.set_index("measure")["value"]


def system(res, replication: int = 0):
    return values(res, "system", "", replication)


def events(res):
    """The event log in seconds."""
    ev = res.events.copy()
    ev["t0"] = (ev["start_h"] * H).round(6)
    ev["t1"] = (ev["end_h"] * H).round(6)
    return ev


def rows(ev, activity: str, station: str | None = None):
    sub = ev[ev.activity == activity]
    if station is not None:
        sub = sub[sub.station == station]
    return sub


def units_processed(ev, station: str, start: float) -> list[int]:
    sub = rows(ev, "process", station)
    return sorted(sub.loc[sub.t0 == start, "unit"].astype(int).tolist())


# --- batches ---------------------------------------------------------------------------------


def test_blocked_senders_enter_the_buffer_and_the_batch_as_it_is_taken() -> None:
    """prep (3 machines, 10 s, saturated) feeds an oven taking up to 4 once 2 wait, buffer 2,
    100 s per batch. Units are numbered in release order.

    t=0 prep takes 1, 2, 3. t=10: 1 and 2 fill the buffer (the oven is woken), 3 blocks;
    prep takes 4, 5. The oven takes 1 (3 enters), 2, then 3: batch {1,2,3} 10-110; prep's
    third machine, freed, takes 6. t=20: 4, 5 fill the buffer, 6 blocks; prep takes 7, 8;
    t=30: 7 and 8 block. t=110: the oven takes 4 (6 enters), 5 (7 enters), 6 (8 enters), 7:
    batch {4,5,6,7}; 8 stays in the buffer. Blocked: 6 20-110, 7 and 8 30-110. The freed
    prep machines take 9, 10, 11 (110-120): 9 joins 8, 10 and 11 block at 120; 12 (120-130)
    blocks at 130. t=210: the oven takes 8 (10 enters), 9 (11 enters), 10 (12 enters), 11;
    12 stays. Horizon 215 (a unit's process row is logged when its batch ends).
    """
    res = run({
        "run": {"horizon": 215},
        "products": {"a": {"route": ["prep", "oven", "pack"]}},
        "stations": {"prep": {"servers": 3, "process_time": 10, "buffer": 0},
                     "oven": {"process_time": 100, "batch": {"size": 4, "min": 2},
                              "buffer": 2},
                     "pack": {"process_time": 1}}})
    ev = events(res)
    assert units_processed(ev, "oven", 10) == [1, 2, 3]
    assert units_processed(ev, "oven", 110) == [4, 5, 6, 7]
    blocked = rows(ev, "blocked", "prep").set_index("unit")
    assert blocked.loc[6, ["t0", "t1"]].tolist() == [20, 110]
    assert blocked.loc[7, ["t0", "t1"]].tolist() == [30, 110]
    assert blocked.loc[8, ["t0", "t1"]].tolist() == [30, 110]
    assert blocked.loc[10, ["t0", "t1"]].tolist() == [120, 210]
    assert blocked.loc[12, ["t0", "t1"]].tolist() == [130, 210]
    oven = values(res, "station", "oven")
    assert oven["queue_end"] == 1  # unit 12
    assert oven["produced"] == 7
    # waits at batch starts: 1, 2, 3: 0 (all entered at 10); 4, 5: 90, 6, 7: 0 (entered
    # at 110); 8: 100, 9: 90, 10, 11: 0 (entered at 210)
    assert oven["waits"] == 11
    assert oven["wait_h"] * H == pytest.approx(370 / 11)


def test_a_batch_station_fed_by_one_agv_keeps_its_reservations() -> None:
    """a (10 s, saturated) -> oven (batch of 2, buffer 2, 100 s) -> c (1 s), all moves by one
    AGV at 1 m/s, 10 m between neighbours, no load/unload time. A unit finished at a asks
    for a place at the oven; with none free it waits in the oven's line and gets the place
    freed when the oven takes its next batch.

    Units 1, 2 reach the oven at 20 and 40 (batch 40-140); 3, 4 at 60 and 80; unit 5 is
    finished at 80 with no place (buffer full). 140: AGV carries 1 to c (150, done 151),
    fetches 2 (160, done 171); the oven is freed at 160, takes 3, 4 (160-260) and gives the
    place to 5's move. From then on the cycle repeats every 120 s: batches start at 40, 160,
    280, ..., 880, and each batch's units finish 111 s and 131 s after it starts.
    """
    res = run({
        "run": {"horizon": 1000},
        "products": {"a": {"route": ["a", "oven", "c"], "transport": "agv"}},
        "stations": {"a": {"process_time": 10, "buffer": 0},
                     "oven": {"process_time": 100, "batch": {"size": 2}, "buffer": 2},
                     "c": {"process_time": 1}},
        "logistics": {"points": {"a": [0, 0], "oven": [10, 0], "c": [20, 0]},
                      "paths": [["a", "oven"], ["oven", "c"]],
                      "fleets": {"agv": {"vehicles": 1, "speed_loaded": 1, "home": "a"}}}})
    doc = res.summary()
    assert doc["deadlocks"] == []
    ev = events(res)
    starts = sorted(set(rows(ev, "process", "oven").t0))
    assert starts == [40 + 120 * k for k in range(8)]
    finish = sorted(rows(ev, "finish").t1)
    expected = sorted([s + d for s in starts for d in (111, 131) if s + d < 1000])
    assert finish == pytest.approx(expected)
    assert doc["products"]["a"]["finished"]["mean"] == 15
    assert doc["fleets"]["agv"]["states"]["waiting"] == 0.0  # never loaded at a full buffer


def test_agv_fed_batches_with_failures_never_lose_a_place() -> None:
    """Random times, partial batches and oven failures, units carried by two AGVs: at the end
    no place is reserved twice or lost (0 <= incoming, queue + incoming <= buffer, every
    reservation belongs to a move on its way), and units still flow late in the run."""
    sc = scenario({
        "run": {"horizon": "40 h", "seed": 11},
        "products": {"a": {"route": ["prep", "oven", "pack"], "release": "saturated",
                           "transport": "agv"}},
        "stations": {
            "prep": {"servers": 2, "process_time": {"exponential": 15}, "buffer": 1},
            "oven": {"servers": 2, "process_time": {"uniform": [150, 300]},
                     "batch": {"size": 8, "min": 3}, "buffer": 4,
                     "failures": {"mtbf": {"exponential": "30 min"},
                                  "mttr": {"exponential": "5 min"}}},
            "pack": {"process_time": {"exponential": 8}, "buffer": 1}},
        "logistics": {"points": {"prep": [0, 0], "oven": [15, 0], "pack": [30, 0]},
                      "paths": [["prep", "oven"], ["oven", "pack"]],
                      "fleets": {"agv": {"vehicles": 2, "speed_loaded": 1.5, "home": "prep"}}}})
    model = replace(build(sc), event_log=True)
    rep = Replication(model, 0, 11, 0.0)
    result = rep.run()
    oven = rep.stations[1]
    assert oven.incoming >= 0
    assert len(oven.queue) + oven.incoming <= oven.capacity
    fleet = rep.fleets[0]
    # every reservation at the oven is a move to the oven still on its way (a request waiting
    # for a vehicle, or a vehicle going to fetch or carry its unit)
    waiting = sum(1 for mv in fleet.requests if mv.dst is oven)
    assert oven.incoming <= waiting + len(fleet.vehicles)
    finish = [row for row in result.events if row[2] == "finish"]
    # (the log's times are hours) still flowing at the end
    assert any(row[4] * H > 0.9 * rep.end for row in finish)


def test_a_failure_of_an_idle_batch_machine_delays_the_batch_to_the_repair() -> None:
    """A unit every 10 s (10, 20, 30, ...), batches of 2 taking 20 s; the oven fails at 15
    (idle, waiting for its second unit) and is repaired at 25; it fails again at 40 and 65,
    10 s each time. The batch of units 1 and 2 is ready at 20 but the oven is down: it must
    start at the repair, 25 (not at the next arrival, 30). 25-40 work, 40-50 down, 50-55 the
    rest: done at 55. Then {3, 4} 55-60 (horizon 60). In [0, 60): starved 15, down 20,
    busy 25."""
    res = run({
        "run": {"horizon": 60},
        "products": {"a": {"route": ["oven"], "release": {"interarrival": 10}}},
        "stations": {"oven": {"process_time": 20, "batch": {"size": 2}, "buffer": 4,
                              "failures": {"mtbf": 15, "mttr": 10}}}})
    ev = events(res)
    proc = rows(ev, "process", "oven").set_index("unit")
    assert proc.loc[1, ["t0", "t1"]].tolist() == [25, 55]
    assert proc.loc[2, ["t0", "t1"]].tolist() == [25, 55]
    oven = values(res, "station", "oven")
    assert oven["starved_h"] * H == pytest.approx(15)
    assert oven["down_h"] * H == pytest.approx(20)
    assert oven["busy_h"] * H == pytest.approx(25)
    assert values(res, "product", "a")["finished"] == 2


def test_a_failure_mid_batch_interrupts_and_resumes_the_batch() -> None:
    """A saturated oven, batches of 2 taking 100 s; failures every 60 s up, 20 s down (down
    60-80, 140-160, 220-240). Batch 1: 0-60, 80-120 (ends 120). Batch 2: 120-140, 160-220,
    240-260 (ends 260). Batch 3 from 260. Horizon 290: busy 230 s, down 60 s, 4 units."""
    res = run({
        "run": {"horizon": 290},
        "products": {"a": {"route": ["oven"], "release": "saturated"}},
        "stations": {"oven": {"process_time": 100, "batch": {"size": 2}, "buffer": 2,
                              "failures": {"mtbf": 60, "mttr": 20}}}})
    oven = values(res, "station", "oven")
    assert oven["busy_h"] * H == pytest.approx(230)
    assert oven["down_h"] * H == pytest.approx(60)
    assert oven["produced"] == 4
    assert oven["process_h"] * H == pytest.approx(200)  # two batch times, not four
    finish = sorted(rows(events(res), "finish").t1)
    assert finish == pytest.approx([120, 120, 260, 260])


def test_a_failure_while_blocked_passing_units_on() -> None:
    """Saturated oven (batches of 2, 10 s) before pack (25 s, no buffer); the oven fails at
    20, 50, 80, each time for 10 s. 0-10 busy; 1 to pack (10-35), 2 blocked 10-20, down
    20-30, blocked 30-35; at 35 pack takes 2, the oven takes {3,4} 35-45; 3 blocked 45-50,
    down 50-60; at 60 pack takes 3, 4 blocks 60-80, down 80-90 (pack takes 4 at 85 while the
    oven is down); repaired at 90 it takes {5,6}, busy 90-100. In [0, 100): busy 30,
    blocked 40, down 30; pack finishes 1, 2, 3 at 35, 60, 85."""
    res = run({
        "run": {"horizon": 100},
        "products": {"a": {"route": ["oven", "pack"], "release": "saturated"}},
        "stations": {"oven": {"process_time": 10, "batch": {"size": 2}, "buffer": 2,
                              "failures": {"mtbf": 20, "mttr": 10}},
                     "pack": {"process_time": 25, "buffer": 0}}})
    oven = values(res, "station", "oven")
    assert oven["busy_h"] * H == pytest.approx(30)
    assert oven["blocked_h"] * H == pytest.approx(40)
    assert oven["down_h"] * H == pytest.approx(30)
    assert oven["produced"] == 4
    finish = sorted(rows(events(res), "finish").t1)
    assert finish == pytest.approx([35, 60, 85])
    assert values(res, "product", "a")["released"] == 6


def test_a_deadlock_behind_a_batch_reports_every_unit_stuck() -> None:
    """CONWIP 7 into an oven (batches of 3, buffer 3, 10 s), then b (10 s, no buffer) that
    sends every unit back to the oven. t=0: 1, 2, 3 fill the buffer, 4 waits outside; the
    oven takes {1,2,3} (4 enters), then 5, 6 are released (7 waits outside). t=10: 1 goes to
    b, 2 blocks the oven (holding 2 and 3). t=20: b sends 1 back to the full oven and blocks:
    deadlock of oven and b. Stuck: 4, 5, 6 in the buffer, 2 and 3 on the oven, 1 on b: 6
    units, all the WIP there is."""
    res = run({
        "run": {"horizon": 1000},
        "products": {"a": {"route": ["oven", {"station": "b", "rework": {"p": 0.999999, "to": "oven"}}],
                           "release": {"conwip": 7}}},
        "stations": {"oven": {"process_time": 10, "batch": {"size": 3}, "buffer": 3},
                     "b": {"process_time": 10, "buffer": 0}}})
    dl = res.summary()["deadlocks"]
    assert len(dl) == 1
    assert dl[0]["time_h"] * H == pytest.approx(20)
    assert dl[0]["stations"] == ["oven", "b"]
    # a batch machine blocked on its first unit still holds the rest of its batch
    assert dl[0]["units"] == 6


def test_saturated_products_fill_batches_in_their_campaigns() -> None:
    """Saturated p (campaign 3) and q (campaign 2) into an oven of 4 (100 s) then pack (1 s).
    Releases go p p p q q p p p q q ...; 10 batches start in [0, 1000): 40 released (24 p,
    16 q); the 9 ending by 900 finish (pack takes <= 4 s): the first 36 of the sequence,
    22 p and 14 q."""
    res = run({
        "run": {"horizon": 1000},
        "products": {"p": {"route": ["oven", "pack"], "release": "saturated", "campaign": 3},
                     "q": {"route": ["oven", "pack"], "release": "saturated", "campaign": 2}},
        "stations": {"oven": {"process_time": 100, "batch": {"size": 4}, "buffer": 4},
                     "pack": {"process_time": 1}}})
    p, q = values(res, "product", "p"), values(res, "product", "q")
    assert (p["released"], q["released"]) == (24, 16)
    assert (p["finished"], q["finished"]) == (22, 14)
    ev = events(res)
    first = rows(ev, "process", "oven")
    first = first[first.t0 == 0].sort_values("unit")
    assert first["product"].tolist() == ["p", "p", "p", "q"]
    assert values(res, "station", "oven")["busy_h"] * H == pytest.approx(1000)


def test_warmup_ending_mid_batch() -> None:
    """Saturated oven, batches of 5, 100 s; warm-up 50, horizon 200 (window [50, 250)).
    Batches 0-100, 100-200, 200-300: busy all 200 s of the window; produced and finished:
    the batches ending at 100 and 200 (10 units, two batch times of process_h); released in
    the window: those of the batches started at 100 and 200 (10); WIP 5 at both ends; every
    finished unit spent 100 s in the system (lead time from its release at time 0 or 100)."""
    res = run({
        "run": {"horizon": 200},
        "products": {"a": {"route": ["oven"], "release": "saturated"}},
        "stations": {"oven": {"process_time": 100, "batch": {"size": 5}, "buffer": 5}}},
        warmup=50)
    oven = values(res, "station", "oven")
    assert oven["busy_h"] * H == pytest.approx(200)
    assert oven["produced"] == 10
    assert oven["process_h"] * H == pytest.approx(200)
    a = values(res, "product", "a")
    assert (a["released"], a["finished"]) == (10, 10)
    assert a["lead_time_h"] * H == pytest.approx(100)
    sysm = system(res)
    assert (sysm["wip_start"], sysm["wip_end"]) == (5, 5)
    assert sysm["wip_mean"] == pytest.approx(5)
    # the batch that straddles the end of the warm-up is in the log (it ends after it)
    assert units_processed(events(res), "oven", 0) == [1, 2, 3, 4, 5]


def test_scrap_is_decided_per_unit_of_a_batch() -> None:
    """Scrap 0.5 at an oven of 10 units: each unit is scrapped on its own, so the number
    scrapped per batch is Binomial(10, 0.5), not all-or-nothing, and about half overall."""
    res = run({
        "run": {"horizon": 20000, "seed": 3},
        "products": {"a": {"route": ["oven"], "release": "saturated"}},
        "stations": {"oven": {"process_time": 100, "batch": {"size": 10}, "buffer": 10,
                              "scrap": 0.5}}})
    ev = events(res)
    per_batch = rows(ev, "scrap").groupby("t1").size()
    batches = 199  # ends at 100, ..., 19900
    assert 0.45 < per_batch.sum() / (10 * batches) < 0.55
    assert ((per_batch > 0) & (per_batch < 10)).sum() > batches / 2
    oven = values(res, "station", "oven")
    a = values(res, "product", "a")
    assert oven["produced"] == 10 * batches
    assert a["finished"] + a["scrapped"] == 10 * batches
    assert oven["scrapped"] == a["scrapped"]


def test_two_machines_start_partial_batches_in_turn() -> None:
    """A unit every 10 s, two ovens taking up to 4 once 2 wait, 35 s per batch. Batches of
    exactly 2 start every 20 s from t=20 (20-55, 40-75, 60-95, ...) on alternate ovens: the
    oven back at 55 finds one unit and waits for the second at 60. Window [40, 2040):
    busy 35 s in each 40 s per oven (0.875), waits 10 and 0 s (mean 5), 200 units produced;
    effectiveness = (35/2/4 s x 200) / (1750 s per oven) = 0.5 (half-full batches)."""
    doc = run({
        "run": {"horizon": 2000},
        "products": {"a": {"route": ["oven"], "release": {"interarrival": 10}}},
        "stations": {"oven": {"servers": 2, "process_time": 35,
                              "batch": {"size": 4, "min": 2}, "buffer": 8}}},
        warmup=40).summary()
    oven = doc["stations"]["oven"]
    assert oven["utilization"]["mean"] == pytest.approx(0.875)
    assert oven["wait_h"]["mean"] * H == pytest.approx(5)
    assert oven["produced"]["mean"] == 200
    assert oven["oee_factors"]["effectiveness"]["mean"] == pytest.approx(0.5)


def test_the_batch_station_is_the_bottleneck_while_it_is_busy() -> None:
    """prep (10 s) fills the oven's buffer (4) long before each 100 s batch ends, pack takes
    5 s a unit: the oven (25 s a unit) is active all but the first 40 s, the others are
    starved or blocked most of the time: the oven is the bottleneck."""
    res = run({
        "run": {"horizon": 10000},
        "products": {"a": {"route": ["prep", "oven", "pack"]}},
        "stations": {"prep": {"process_time": 10, "buffer": 0},
                     "oven": {"process_time": 100, "batch": {"size": 4}, "buffer": 4},
                     "pack": {"process_time": 5}}})
    doc = res.summary()
    assert doc["bottleneck"]["station"] == "oven"
    oven = values(res, "station", "oven")
    assert oven["planned_unit_time_h"] * H == pytest.approx(25)  # 100 s / 1 oven / 4 units
    assert doc["stations"]["oven"]["utilization"]["mean"] == pytest.approx(9960 / 10000)
    # 4 units per 100 s after the first batch (starts at 40): 99 batches end by 9940
    assert doc["products"]["a"]["finished"]["mean"] == 4 * 99


# --- initial work in process ------------------------------------------------------------------


def test_initial_units_at_a_batch_station_form_batches() -> None:
    """8 units at two ovens (batches of 3, 100 s, buffer 6): each oven takes 3 at time 0;
    the 2 left are fewer than a batch and wait for good. Horizon 300: 6 produced and
    finished at 100 (lead 100 s), 2 in the buffer, ovens busy 200 of 600 machine-seconds."""
    res = run({
        "run": {"horizon": 300},
        "products": {"a": {"route": ["oven"], "release": NEVER}},
        "stations": {"oven": {"servers": 2, "process_time": 100, "batch": {"size": 3},
                              "buffer": 6}},
        "initial_wip": {"oven": {"a": 8}}})
    oven = values(res, "station", "oven")
    assert oven["produced"] == 6
    assert oven["queue_end"] == 2
    assert oven["queue_mean"] == pytest.approx(2)  # the 6 taken at once leave the buffer
    assert oven["busy_h"] * H == pytest.approx(200)
    a = values(res, "product", "a")
    assert a["finished"] == 6 and a["released"] == 0
    assert a["lead_time_h"] * H == pytest.approx(100)
    assert system(res)["wip_end"] == 2
    assert units_processed(events(res), "oven", 0) == [1, 2, 3, 4, 5, 6]


def test_initial_units_fill_a_saturated_batch_first_then_releases() -> None:
    """2 units at a saturated oven (batches of 4, 100 s): the first batch is the 2 initial
    units and 2 new releases; later batches are 4 releases. Horizon 250: released 2 + 4 + 4,
    finished 8 (at 100 and 200), WIP 2 -> 4."""
    res = run({
        "run": {"horizon": 250},
        "products": {"a": {"route": ["oven"], "release": "saturated"}},
        "stations": {"oven": {"process_time": 100, "batch": {"size": 4}, "buffer": 4}},
        "initial_wip": {"oven": {"a": 2}}})
    a = values(res, "product", "a")
    assert (a["released"], a["finished"]) == (10, 8)
    assert units_processed(events(res), "oven", 0) == [1, 2, 3, 4]
    sysm = system(res)
    assert (sysm["wip_start"], sysm["wip_end"]) == (2, 4)


def test_the_initial_wip_check_counts_the_units_a_batch_machine_holds() -> None:
    """Two ovens of 10 and a buffer of 10 hold 30 units (each oven loaded, buffer full), the
    state a digital twin of a running oven line starts from; the load check allows only
    servers + buffer = 12 as if each oven held one unit."""
    sc = scenario({
        "run": {"horizon": 250},
        "products": {"a": {"route": ["oven"], "release": NEVER}},
        "stations": {"oven": {"servers": 2, "process_time": 100, "batch": {"size": 10},
                              "buffer": 10}},
        "initial_wip": {"oven": {"a": 30}}})
    assert initial_wip_problems(sc) == []


def test_the_engine_runs_a_batch_station_started_full() -> None:
    """The same 30 units (the load check bypassed): ovens take 10 each at 0; at 100 one
    takes the last 10 (100-200). Horizon 250: 30 produced and finished, lead times 100 (x20)
    and 200 (x10): mean 133.3 s."""
    res = run({
        "run": {"horizon": 250},
        "products": {"a": {"route": ["oven"], "release": NEVER}},
        "stations": {"oven": {"servers": 2, "process_time": 100, "batch": {"size": 10},
                              "buffer": 10}},
        "initial_wip": {"oven": {"a": 30}}})
    a = values(res, "product", "a")
    assert a["finished"] == 30
    assert a["lead_time_h"] * H == pytest.approx(400 / 3)
    assert values(res, "station", "oven")["queue_end"] == 0


def test_initial_units_on_a_station_without_buffer_block_the_sender() -> None:
    """b has 2 machines (20 s) and no buffer, both loaded at time 0 with initial units; a
    (5 s, saturated) finishes unit 3 at 5 and must wait (blocked 5-20) for a machine, not
    slip into a buffer place b does not have. Then a and b alternate: finishes at 20, 20,
    40, 45, 60, 65, 80, 85; lead times 20, 20 (from time 0), 40, 25, 35, 25, 35, 25."""
    res = run({
        "run": {"horizon": 100},
        "products": {"u": {"route": ["a", "b"], "release": "saturated"}},
        "stations": {"a": {"process_time": 5, "buffer": 0},
                     "b": {"servers": 2, "process_time": 20, "buffer": 0}},
        "initial_wip": {"b": {"u": 2}}})
    ev = events(res)
    blocked = rows(ev, "blocked", "a").set_index("unit")
    assert blocked.loc[3, ["t0", "t1"]].tolist() == [5, 20]
    finish = sorted(rows(ev, "finish").t1)
    assert finish == pytest.approx([20, 20, 40, 45, 60, 65, 80, 85])
    u = values(res, "product", "u")
    assert u["lead_time_h"] * H == pytest.approx(225 / 8)
    assert values(res, "station", "b")["queue_end"] == 0


def test_initial_units_at_a_saturated_first_station_go_before_new_releases() -> None:
    """Saturated a and b at m (10 s, buffer 3), with b, b, a there at time 0 (in the order
    listed). m: b 0-10, b 10-20, a 20-30, then releases a, b, a, b, ... at 30, 40, ..., 90.
    Released a 4, b 3; finished a at 30, 40, 60, 80 and b at 10, 20, 50, 70, 90; mean lead
    a (30+10+10+10)/4 = 15 s, b (10+20+10+10+10)/5 = 12 s."""
    res = run({
        "run": {"horizon": 100},
        "products": {"a": {"route": ["m"], "release": "saturated"},
                     "b": {"route": ["m"], "release": "saturated"}},
        "stations": {"m": {"process_time": 10, "buffer": 3}},
        "initial_wip": {"m": {"b": 2, "a": 1}}})
    a, b = values(res, "product", "a"), values(res, "product", "b")
    assert (a["released"], b["released"]) == (4, 3)
    assert (a["finished"], b["finished"]) == (4, 5)
    assert a["lead_time_h"] * H == pytest.approx(15)
    assert b["lead_time_h"] * H == pytest.approx(12)
    sysm = system(res)
    assert (sysm["wip_start"], sysm["wip_end"]) == (3, 1)


def test_initial_units_of_a_product_carried_by_vehicles() -> None:
    """Units 1, 2 at b (10 s) of a product moved by one AGV (1 m/s, at b; b-c 20 m). b: 1
    0-10, loaded at once at 10, at c 30 (5 s: done 35); b: 2 10-20, asks at 20, the AGV
    frees at 30, drives back 30-50, loads at 50, at c 70, done 75. b blocked 20-50; lead
    times 35 and 75 (from time 0); AGV 60 m, response (0 + 30)/2 s."""
    res = run({
        "run": {"horizon": 100},
        "products": {"u": {"route": ["a", "b", "c"], "release": NEVER, "transport": "agv"}},
        "stations": {"a": {"process_time": 1}, "b": {"process_time": 10},
                     "c": {"process_time": 5}},
        "initial_wip": {"b": {"u": 2}},
        "logistics": {"points": {"a": [0, 0], "b": [10, 0], "c": [30, 0]},
                      "paths": [["a", "b"], ["b", "c"]],
                      "fleets": {"agv": {"vehicles": 1, "speed_loaded": 1, "home": "b"}}}})
    doc = res.summary()
    u = values(res, "product", "u")
    assert u["finished"] == 2
    assert u["lead_time_h"] * H == pytest.approx(55)
    assert values(res, "station", "b")["blocked_h"] * H == pytest.approx(30)
    assert values(res, "station", "a")["produced"] == 0
    agv = values(res, "fleet", "agv")
    assert agv["trips"] == 2
    assert agv["distance_km"] == pytest.approx(0.060)
    assert doc["fleets"]["agv"]["response_h"]["mean"] * H == pytest.approx(15)


def test_conwip_above_the_limit_counts_scrapped_units_that_leave() -> None:
    """CONWIP 2 with 4 units at m (10 s, every unit scrapped): the first two to leave (at
    10, 20) are not replaced; from 30 each one leaving is replaced at once. WIP 4, 3, then
    2: mean (40 + 30 + 160) / 100 = 2.3; 9 scrapped, 7 released (30, ..., 90)."""
    res = run({
        "run": {"horizon": 100},
        "products": {"a": {"route": ["m"], "release": {"conwip": 2}}},
        "stations": {"m": {"process_time": 10, "buffer": 3, "scrap": 1.0}},
        "initial_wip": {"m": {"a": 4}}})
    a = values(res, "product", "a")
    assert (a["scrapped"], a["released"], a["finished"]) == (9, 7, 0)
    sysm = system(res)
    assert (sysm["wip_start"], sysm["wip_end"]) == (4, 2)
    assert sysm["wip_mean"] == pytest.approx(2.3)


def test_conwip_below_the_limit_releases_the_rest_at_once_and_replaces_scrap() -> None:
    """CONWIP 3 with 1 unit at m (10 s, every unit scrapped): 2 released at 0, then one per
    unit scrapped (10, ..., 90): WIP 3 throughout; 9 scrapped, 11 released."""
    res = run({
        "run": {"horizon": 100},
        "products": {"a": {"route": ["m"], "release": {"conwip": 3}}},
        "stations": {"m": {"process_time": 10, "buffer": 3, "scrap": 1.0}},
        "initial_wip": {"m": {"a": 1}}})
    a = values(res, "product", "a")
    assert (a["scrapped"], a["released"]) == (9, 11)
    sysm = system(res)
    assert (sysm["wip_start"], sysm["wip_end"]) == (1, 3)
    assert sysm["wip_mean"] == pytest.approx(3)


def test_conwip_initial_units_at_a_batch_station_with_scrap() -> None:
    """CONWIP 3 with 5 units at an oven (batches of up to 5 starting at 3, 100 s, all
    scrapped): at 100 five leave, of which 2 are over the limit: 3 are replaced at once and
    bake 100-200; scrapped, replaced, they bake 200-300 (ending outside [0, 300)). Scrapped
    5 + 3, released 3 + 3; WIP 5 then 3."""
    res = run({
        "run": {"horizon": 300},
        "products": {"a": {"route": ["oven"], "release": {"conwip": 3}}},
        "stations": {"oven": {"process_time": 100, "batch": {"size": 5, "min": 3},
                              "buffer": 5, "scrap": 1.0}},
        "initial_wip": {"oven": {"a": 5}}})
    a = values(res, "product", "a")
    assert (a["scrapped"], a["released"]) == (8, 6)
    sysm = system(res)
    assert (sysm["wip_start"], sysm["wip_end"]) == (5, 3)
    assert sysm["wip_mean"] == pytest.approx((5 * 100 + 3 * 200) / 300)


def test_initial_wip_with_a_warmup() -> None:
    """5 units at m (10 s), warm-up 25: 2 finished during it, so the measured period starts
    with 3 (wip_start); they finish at 30, 40, 50: lead times from time 0, mean 40 s; WIP
    mean over [25, 125): (3x5 + 2x10 + 1x10) / 100 = 0.45."""
    res = run({
        "run": {"horizon": 100},
        "products": {"a": {"route": ["m"], "release": NEVER}},
        "stations": {"m": {"process_time": 10, "buffer": 4}},
        "initial_wip": {"m": {"a": 5}}}, warmup=25)
    a = values(res, "product", "a")
    assert (a["finished"], a["released"]) == (3, 0)
    assert a["lead_time_h"] * H == pytest.approx(40)
    sysm = system(res)
    assert (sysm["wip_start"], sysm["wip_end"]) == (3, 0)
    assert sysm["wip_mean"] == pytest.approx(0.45)


def test_event_log_initial_rows_and_lead_times_from_time_zero() -> None:
    """p: s1 -> s2, q: s2. At time 0: p, p at s1 and q, p at s2 (in the order listed): one
    `initial` row each at time 0, units 1-4 in that order. s1 (10 s): 1 0-10, 2 10-20;
    s2 (10 s): 3 (q) 0-10, 4 (p) 10-20, then 1 20-30 (arrived 10), 2 30-40 (arrived 20).
    Finish: q 10; p 20, 30, 40: mean lead p 30 s, q 10 s."""
    res = run({
        "run": {"horizon": 100},
        "products": {"p": {"route": ["s1", "s2"], "release": NEVER},
                     "q": {"route": ["s2"], "release": NEVER}},
        "stations": {"s1": {"process_time": 10}, "s2": {"process_time": 10}},
        "initial_wip": {"s1": {"p": 2}, "s2": {"q": 1, "p": 1}}})
    ev = events(res)
    init = rows(ev, "initial").sort_values("unit")
    assert init["unit"].tolist() == [1, 2, 3, 4]
    assert init["station"].tolist() == ["s1", "s1", "s2", "s2"]
    assert init["product"].tolist() == ["p", "p", "q", "p"]
    assert (init["t0"] == 0).all() and (init["t1"] == 0).all()
    assert rows(ev, "release").empty
    assert values(res, "product", "p")["lead_time_h"] * H == pytest.approx(30)
    assert values(res, "product", "q")["lead_time_h"] * H == pytest.approx(10)
    queue = rows(ev, "queue", "s2").set_index("unit")
    assert queue.loc[4, ["t0", "t1"]].tolist() == [0, 10]
    assert queue.loc[1, ["t0", "t1"]].tolist() == [10, 20]
