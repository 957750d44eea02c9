"""Review of session 8's changes (dual-command cranes, flowline ties on the event kernel,
the data-file cache, `at_shift_end: pause` without a calendar), checked by running things.

Warehouse timelines are computed by hand with given places (Warehouse.place patched to
hand out a list, as tests/test_warehouse_dual.py does): a place is (seconds along the
aisle, seconds up) from the I/O point; one way takes the larger, between two places the
larger of the two differences (Chebyshev); pick-up and set-down take 1 s each.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import pytest
import yaml

import twin
from twin.engine import warehouse as wh_engine

sys.path.insert(0, str(Path(__file__).parent))
from test_flowline import assert_same, assert_same_records, line  # noqa: E402

H = 3600.0


def run_by_hand(monkeypatch, doc: str, places: list[tuple[float, float]]):
    """Run `doc` with the given places (in store order); event times and measures in s."""
    given = iter(places + [(1.0, 1.0)] * 100)
    monkeypatch.setattr(wh_engine.Warehouse, "place", lambda self: next(given))
    res = twin.run(twin.Scenario.model_validate(yaml.safe_load(doc)), event_log=True)
    times = {(int(u), a): (round(s * H, 6), round(e * H, 6)) for u, a, s, e in
             res.events[["unit", "activity", "start_h", "end_h"]].itertuples(index=False)}
    m = res.measures

    def value(entity: str, measure: str) -> float:
        v = float(m[(m.entity == entity) & (m.measure == measure)]["value"].iloc[0])
        return v * H if measure.endswith("_h") else v

    return times, value


# --- two cranes, dual commands --------------------------------------------------------------
TWO_CRANES = """
name: two cranes by hand
run: {horizon: "HORIZON"}
products: {p: {route: [w], release: {interarrival: "10 s"}}}
stations:
  w:
    process_time: "25 s"
    power_kw: {busy: 10, starved: 1}
    warehouse: {places: 10, cranes: 2, rack: {length: 1, height: 1},
                speed: {horizontal: 1, vertical: 1}, pick_deposit: "1 s", commands: dual}
"""
TWO_PLACES = [(10, 4), (3, 8), (6, 6), (4.5, 1), (5.5, 2), (7, 3), (2, 9), (9, 2)]


def test_two_cranes_dual_timeline_by_hand(monkeypatch) -> None:
    """Arrivals at 10, 20, ... s; dwell 25 s; cranes A and B. Hand timeline:
    U1 A 10-32 single store (set down 22, due 47). U2 B 20-38 (set 30, due 55).
    U3 waits 30-32; A 32-46 (set 40, due 65). U4 B 40-51 (way 4.5; set 46.5, due 71.5).
    A idle at 46; U1 due 47 -> A single retrieval 47-69 (pick-up 58). U5 waits 50-51,
    B 51-64 (way 5.5, set 58.5, due 83.5). At 64 B finds U2 due (55) and U6 waiting (60):
    dual 64-88: U6 set down 73 (due 98), to U2's (3,8): max(4,5) = 5, pick-up 79, back 8,
    set down 88. At 69 A: U3 due, nothing to store (U7 comes at 70): single 69-83
    (pick-up 76). At 83 A: U4 due and U7 waiting (70): dual 83-108.5: U7 at (2,9) set 94,
    to (4.5,1): 8 s, pick-up 103, back 4.5. At 88 B: U5 due (83.5), U8 waiting: dual 88-110:
    U8 at (9,2) set 99, to (5.5,2): 3.5 s, pick-up 103.5. At 108.5 A: dual with U9 and U6.
    Horizon 109 s."""
    t, v = run_by_hand(monkeypatch, TWO_CRANES.replace("HORIZON", "109 s"), TWO_PLACES)
    assert t[1, "store"] == (10, 32) and t[2, "store"] == (20, 38)
    assert t[3, "store"] == (32, 46) and t[4, "store"] == (40, 51) and t[5, "store"] == (51, 64)
    assert t[6, "store"] == (64, 73) and t[2, "retrieve"] == (64, 88)
    assert t[1, "retrieve"] == (47, 69) and t[3, "retrieve"] == (69, 83)
    assert t[7, "store"] == (83, 94) and t[4, "retrieve"] == (83, 108.5)
    assert t[8, "store"] == (88, 99)
    # single stores 22, 18, 14, 11, 13 s; single retrievals 22, 14 s; duals 24, 25.5 s
    assert v("w", "store_cycle_h") == pytest.approx(78 / 5)
    assert v("w", "retrieve_cycle_h") == pytest.approx(18)
    assert v("w", "dual_cycles") == 2 and v("w", "dual_cycle_h") == pytest.approx(24.75)
    assert v("w", "stores") == 8  # U1..U8 set down by 109 (U9 at 111.5)
    assert v("w", "retrieves") == 4 and v("p", "finished") == 4  # U1, U3, U2, U4
    # places held (store start -> pick-up): U1 10-58, U2 20-79, U3 32-76, U4 40-103,
    # U5 51-103.5, U6 64-, U7 83-, U8 88-, U9 108.5- (to 109)
    held = 48 + 59 + 44 + 63 + 52.5 + 45 + 26 + 21 + 0.5
    assert v("w", "stored_mean") == pytest.approx(held / 109)
    assert v("w", "stored_end") == 4
    # cranes: A busy 10-46, 47-109 (98 s); B busy 20-38, 40-109 (87 s); starved the rest
    assert v("w", "busy_h") == pytest.approx(98 + 87)
    assert v("w", "starved_h") == pytest.approx(11 + 22)
    assert v("w", "blocked_h") == 0
    assert v("w", "energy_busy_kwh") == pytest.approx(10 * 185 / H)
    assert v("w", "energy_starved_kwh") == pytest.approx(1 * 33 / H)
    # waits on the input: U3 2, U5 1, U6 4, U7 13, U8 8, U9 18.5 (9 units taken; U10 waits)
    assert v("w", "waits") == 9 and v("w", "wait_h") == pytest.approx(46.5 / 9)
    assert v("w", "queue_mean") == pytest.approx((2 + 1 + 4 + 13 + 8 + 18.5 + 9) / 109)
    assert v("w", "process_h") == pytest.approx(78 + 36 + 49.5)
    # planned run time per unit: E[DC] / 2 cranes; T = 1 s, b = 1: 54/30 + 4 x 1 s
    assert v("w", "planned_unit_time_h") == pytest.approx((54 / 30 + 4) / 2)


def test_in_store_counts_a_dual_retrieval_begun_before_the_end(monkeypatch) -> None:
    """The same run: in_store_h is 'the mean time in a place, from being set down to the
    start of the cycle that retrieves it, of the units whose retrieval began in the period'
    (docs/results.md, modelling.md). Retrievals begun by 109 s: U1 at 47 (in place since
    22), U2 64 (30), U3 69 (40), U4 83 (46.5), U5 88 (58.5), and U6 in the dual cycle begun
    at 108.5 s (set down 73): (25 + 34 + 29 + 36.5 + 29.5 + 35.5) / 6 s. (The program adds a
    dual cycle's retrieval only when the store leg ends, 111.5 s here, though it measures
    its time to the cycle's start.)"""
    _, v = run_by_hand(monkeypatch, TWO_CRANES.replace("HORIZON", "109 s"), TWO_PLACES)
    assert v("w", "in_store_h") == pytest.approx(189.5 / 6)


ONE_CRANE = """
name: one crane by hand
run: {horizon: "30 s", warmup: "128 s"}
products: {p: {route: [w], release: {interarrival: "30 s"}}}
stations:
  w:
    process_time: "50 s"
    warehouse: {places: 10, rack: {length: 1, height: 1},
                speed: {horizontal: 1, vertical: 1}, pick_deposit: "1 s", commands: dual}
"""
ONE_PLACES = [(10.0, 4.0), (3.0, 8.0), (6.0, 6.0), (2.0, 1.0)]


def test_warmup_boundary_inside_a_dual_cycle(monkeypatch) -> None:
    """tests/test_warehouse_dual.py's timeline (dual cycle 126-147 s: U4 set down at 130,
    U2, set down at 70, picked up at 138) measured from 128 s to 158 s. In the period:
    the dual cycle ends (counted whole, like any cycle ending in the period: 21 s), U4 is set
    down (1 store), U2 is set down at the I/O point (1 retrieval). U3 (set down 98, due 148)
    is retrieved alone from 148 (crane idle 147-148): 6 + 1 + 6 + 1 s, until 162, after the
    end. Places: U2 until 138, U3 until 155 (pick-up), U4 all along: (10 + 27 + 30) / 30.
    Crane busy 128-147 and 148-158: 29 s. in_store_h: the only retrieval begun in the period
    is U3's, at 148 (50 s in place); U2's began at 126, in the warm-up."""
    _, v = run_by_hand(monkeypatch, ONE_CRANE, ONE_PLACES)
    assert v("w", "dual_cycles") == 1 and v("w", "dual_cycle_h") == pytest.approx(21)
    assert v("w", "stores") == 1 and v("w", "retrieves") == 1
    assert math.isnan(v("w", "store_cycle_h")) and math.isnan(v("w", "retrieve_cycle_h"))
    assert v("w", "stored_mean") == pytest.approx(67 / 30)
    assert v("w", "stored_end") == 1
    assert v("w", "busy_h") == pytest.approx(29) and v("w", "starved_h") == pytest.approx(1)


def test_in_store_at_the_warmup_boundary(monkeypatch) -> None:
    """As above: of the retrievals begun in the period (U3's at 148 s only), 50 s in place.
    (U2's retrieval began at 126 s, in the warm-up, in the dual cycle's start; the program
    counts it because that cycle's store leg ends at 130 s, after the warm-up.)"""
    _, v = run_by_hand(monkeypatch, ONE_CRANE, ONE_PLACES)
    assert v("w", "in_store_h") == pytest.approx(50)


# --- full rack: dual impossible ---------------------------------------------------------------
FULL = """
name: full rack by hand
run: {horizon: "100 s"}
products: {p: {route: [w], release: {interarrival: "10 s"}}}
stations:
  w:
    process_time: "20 s"
    warehouse: {places: 2, rack: {length: 1, height: 1},
                speed: {horizontal: 1, vertical: 1}, pick_deposit: "1 s", commands: dual}
"""


def test_full_rack_makes_single_retrievals(monkeypatch) -> None:
    """Two places, dwell 20 s. U1 10-20.5 (way 4.25, set 16.25, due 36.25); U2 waits
    20-20.5, 20.5-38.5 (way 8, set 30.5, due 50.5): the rack is full. At 38.5 U1 is due and
    U3 (30) and U4 (40... not yet) wait, but no place is free: single retrieval 38.5-49
    (pick-up 43.75). At 49 nothing is due: U3 stored 49-63 (way 6, set 57, due 77), the
    rack full again. At 63 U2 is due and U4, U5, U6 wait, the rack full: single retrieval
    63-81 (pick-up 72). At 81 U3 is due, a place is free: dual 81-98 (U4 to (2,1): set 85;
    to (3,6): 5 s, pick-up 91; back 6 s). At 98 U5 is stored (to (1,1)), busy to 100."""
    t, v = run_by_hand(monkeypatch, FULL, [(4.25, 1), (8, 2), (3, 6), (2, 1)])
    assert t[1, "retrieve"] == (38.5, 49) and t[2, "retrieve"] == (63, 81)
    assert t[3, "store"] == (49, 63)
    assert t[4, "store"] == (81, 85) and t[3, "retrieve"] == (81, 98)
    assert v("w", "dual_cycles") == 1 and v("w", "dual_cycle_h") == pytest.approx(17)
    assert v("w", "store_cycle_h") == pytest.approx((10.5 + 18 + 14) / 3)
    assert v("w", "retrieve_cycle_h") == pytest.approx((10.5 + 18) / 2)
    assert v("w", "stores") == 4 and v("w", "retrieves") == 3
    # places: U1 10-43.75, U2 20.5-72, U3 49-91, U4 81-100, U5 98-100; never above 2
    assert v("w", "stored_mean") == pytest.approx((33.75 + 51.5 + 42 + 19 + 2) / 100)
    assert v("w", "stored_end") == 2
    assert v("w", "in_store_h") == pytest.approx((22.25 + 32.5 + 24) / 3)
    assert v("w", "busy_h") == pytest.approx(90) and v("w", "starved_h") == pytest.approx(10)


# --- blocked after a dual cycle ----------------------------------------------------------------
BLOCKED = """
name: blocked by hand
run: {horizon: "120 s"}
products: {p: {route: [w, m], release: {interarrival: "10 s"}}}
stations:
  w:
    process_time: "20 s"
    warehouse: {places: 10, rack: {length: 1, height: 1},
                speed: {horizontal: 1, vertical: 1}, pick_deposit: "1 s", commands: dual}
  m: {process_time: "40 s", buffer: 0}
"""


def test_crane_blocked_holding_the_unit_of_a_dual_cycle(monkeypatch) -> None:
    """m (40 s, no buffer) follows the warehouse. U1 10-21 (set 16.5, due 36.5), U2 21-29
    (set 26, due 46), U3 30-42 (set 37, due 57). At 42 U1 due, U4 waits: dual 42-58 (U4 set
    50; to (4.5,1): 1.5 s, pick-up 52.5, back 4.5); U1 to m, busy 58-98. At 58 U2 due, U5
    waits: dual 58-68 (U5 set 61; to (3,2): 2 s; pick-up 64; back 3); m busy: the crane is
    blocked holding U2 68-98. At 98 U3 due, U6 waits: dual 98-112 (U6 set 102; to (2,5):
    3 s; pick-up 106; back 5), blocked again 112-120 (m busy with U2 98-138).
    Cycles exclude the blocked time: duals 16, 10, 14 s."""
    t, v = run_by_hand(monkeypatch, BLOCKED, [(4.5, 1), (3, 2), (2, 5), (6, 1), (1, 1), (2, 2)])
    assert t[2, "retrieve"] == (58, 68) and t[2, "blocked"] == (68, 98)
    assert t[3, "retrieve"] == (98, 112)
    assert v("w", "dual_cycles") == 3 and v("w", "dual_cycle_h") == pytest.approx(40 / 3)
    assert v("w", "store_cycle_h") == pytest.approx((11 + 8 + 12) / 3)
    assert math.isnan(v("w", "retrieve_cycle_h"))
    assert v("w", "blocked_h") == pytest.approx(30 + 8)
    assert v("w", "busy_h") == pytest.approx(71) and v("w", "starved_h") == pytest.approx(11)
    assert v("w", "process_h") == pytest.approx(31 + 40)
    assert v("w", "retrieves") == 3 and v("w", "produced") == 3 and v("w", "stores") == 6
    assert v("p", "finished") == 1
    # places: U1 10-52.5, U2 21-64, U3 30-106, U4 42-, U5 58-, U6 98-
    assert v("w", "stored_mean") == pytest.approx((42.5 + 43 + 76 + 78 + 62 + 22) / 120)
    assert v("w", "in_store_h") == pytest.approx((25.5 + 32 + 61) / 3)


# --- single and dual side by side: summary and report -------------------------------------------
SIDE = """
name: side by side
run: {horizon: "2 h", warmup: "20 min", replications: 2, seed: 5}
products: {tray: {route: [w1, w2], release: {interarrival: {exponential: "70 s"}}}}
stations:
  w1:
    process_time: "10 min"
    buffer: 1000
    warehouse: {places: 500, rack: {length: 90, height: 20}, speed: {horizontal: 3, vertical: 1},
                pick_deposit: "5 s", commands: dual}
  w2:
    process_time: "10 min"
    buffer: 1000
    warehouse: {places: 500, cranes: 2, rack: {length: 80, height: 30},
                speed: {horizontal: 3, vertical: 1}, pick_deposit: "5 s"}
"""


def test_summary_and_report_with_dual_and_single_warehouses() -> None:
    """w1 dual (1 crane, T = 30, b = 2/3): planned unit time E[DC] = 40 + 20/3 - 8/27 + 20
    s; w2 single with 2 cranes (L/vx = 26.67, H/vy = 30: T = 30, b = 8/9): 2 E[SC] / 2 =
    30 (1 + b^2/3) + 10 s. The summary gives w2 no dual cycles (0, null mean); the report's
    warehouse table has the dual column, '–' for w2."""
    from twin.report.html import warehouses_table

    res = twin.run(twin.Scenario.model_validate(yaml.safe_load(SIDE)))
    m = res.measures
    planned = {e: float(m[(m.entity == e) & (m.measure == "planned_unit_time_h")]["value"].iloc[0])
               * H for e in ("w1", "w2")}
    assert planned["w1"] == pytest.approx(40 + 20 / 3 - 8 / 27 + 20)
    b = (80 / 3) / 30
    assert planned["w2"] == pytest.approx(30 * (1 + b * b / 3) + 10)
    doc = res.summary()
    w1, w2 = doc["stations"]["w1"]["warehouse"], doc["stations"]["w2"]["warehouse"]
    assert w2["dual_cycles"]["mean"] == 0 and w2["dual_cycle_h"]["mean"] is None
    assert w1["dual_cycles"]["mean"] > 0
    assert 20 / H < w1["dual_cycle_h"]["mean"] < 110 / H  # 4 x 5 s + at most 3 x 30 s
    table = warehouses_table(res, doc).set_index("warehouse")
    assert table.loc["w2", "dual cycle (s)"] == "–" and table.loc["w1", "dual cycle (s)"] != "–"


# --- vary over commands: Bozer & White ---------------------------------------------------------
def test_vary_commands_throughput_and_littles_law(tmp_path: Path) -> None:
    """One crane, rack 9 x 2 m at 3 and 1 m/s (T = 3 s, b = 2/3), pick/deposit 0.5 s:
    E[SC] = 3 (1 + 4/27) + 1 = 4.444 s, E[DC] = (3/30)(40 + 15 b^2 - b^3) + 2 = 6.637 s.
    A unit every 7 s (exponential): with single commands the crane is the limit,
    3600 / (2 E[SC]) = 405 units/h; with dual commands it keeps up, 3600/7 = 514.3/h.
    Little's law in dual mode: units in store = rate x time holding a place, which is the
    store leg (2 x 0.5 + E[one way] = 1 + T(1 + b^2/3)/2), the measured time in place (to
    the start of the cycle retrieving it), and from that start to the pick-up: in a single
    retrieval E[one way] + 0.5 s; in a dual cycle the other unit's store leg first, then
    E[between] = (T/30)(10 + 5b^2 - b^3) + 0.5 s."""
    from twin.vary import run_sweep

    path = tmp_path / "commands.yaml"
    path.write_text("""
name: commands
run: {horizon: "6 h", warmup: "20 min", replications: 2, seed: 9}
products: {t: {route: [w], release: {interarrival: {exponential: "7 s"}}}}
stations:
  w:
    process_time: "60 s"
    buffer: 5000
    warehouse: {places: 5000, rack: {length: 9, height: 2}, speed: {horizontal: 3, vertical: 1},
                pick_deposit: "0.5 s"}
vary:
  factorial: {stations.w.warehouse.commands: [single, dual]}
""")
    sweep = run_sweep(path)
    single = sweep.results["warehouse.commands=single"]
    dual = sweep.results["warehouse.commands=dual"]
    T, b = 3.0, 2 / 3
    one_way = T * (1 + b * b / 3) / 2
    sc, dc = 2 * one_way + 1, T / 30 * (40 + 15 * b * b - b ** 3) + 2
    between = T / 30 * (10 + 5 * b * b - b ** 3)
    assert single.summary()["products"]["t"]["throughput_per_h"]["mean"] == \
        pytest.approx(3600 / (2 * sc), rel=0.03)
    d = dual.summary()
    assert d["products"]["t"]["throughput_per_h"]["mean"] == pytest.approx(3600 / 7, rel=0.03)
    assert d["stations"]["w"]["warehouse"]["dual_cycle_h"]["mean"] * H == pytest.approx(dc, rel=0.03)
    m = dual.measures
    for r in (0, 1):
        def val(measure, entity="w"):
            return float(m[(m.replication == r) & (m.entity == entity)
                           & (m.measure == measure)]["value"].iloc[0])
        rate = val("retrieves") / (val("period_h", "") * H)
        share = val("dual_cycles") / val("retrieves")
        hold = (1 + one_way) + val("in_store_h") * H + \
            (share * (1 + one_way + between) + (1 - share) * one_way) + 0.5
        assert val("stored_mean") == pytest.approx(rate * hold, rel=0.015)


# --- flowline: ties rerun on the event kernel --------------------------------------------------
def _integer_line(rng):
    """A random line of single machines with small integer random times (empirical), often
    time-dependent failures: completions, failures and repairs coincide often."""
    n = rng.randint(1, 4)
    stations = {}
    for i in range(n):
        st = {"process_time": {"empirical": sorted(rng.sample(range(1, 7), rng.randint(1, 3)))}}
        if rng.random() < 0.6:
            st["buffer"] = rng.randint(0, 2)
        if rng.random() < 0.7:
            st["failures"] = {"mtbf": {"empirical": rng.sample(range(3, 30), 2)},
                              "mttr": {"empirical": rng.sample(range(1, 6), 2)},
                              "mode": rng.choice(["time", "time", "operation"])}
        if rng.random() < 0.2:
            st["scrap"] = 0.1
        stations[f"s{i}"] = st
    release = rng.choice(["saturated", {"interarrival": {"empirical": [2, 3, 4]}}, {"conwip": 3}])
    return line(stations, release, horizon=float(rng.randint(100, 400)),
                warmup=float(rng.randint(0, 20)), seed=rng.randint(0, 5), replications=2)


def test_random_integer_lines_with_ties_equal_simpy() -> None:
    """The flowline engine's records equal the SimPy engine's (the product's claim), on
    random integer-time lines where the recursion meets ties (checked: some do); and the
    event kernel forced on the same single-machine lines equals SimPy too."""
    import random

    from twin.engine import flowline as fl
    from twin.engine import replication
    from twin.kernels import flowline as kf
    from twin.model import build

    rng = random.Random(8)
    ties = 0
    for _ in range(60):
        model = build(_integer_line(rng))
        warm = float(model.warmup)
        for rep in (0, 1):
            feed = fl.Feed(model.seed, rep)
            state = fl.State(fl.build_line(model, feed, warm), False)
            state.prepare_failures(feed)
            ties += state.run(feed) == kf.TIE
            slow = replication.simulate(model, rep, model.seed, warm)
            assert_same_records(slow, fl.simulate(model, rep, model.seed, warm))
            line_, st = fl.run_line(model, fl.Feed(model.seed, rep), warm, events=True)
            assert_same_records(slow, fl.collect(model, line_, st, rep, warm, 0.0))
    assert ties >= 10


def test_summary_of_a_tie_line_on_both_engines() -> None:
    """twin.run on both engines, 3 replications of a line meeting ties (a handover at the
    instant of b's failure, tests/test_flowline_time_failures.py): the same summary."""
    stations = {"a": {"process_time": 10},
                "b": {"process_time": {"empirical": [1, 2]}, "buffer": 2,
                      "failures": {"mtbf": {"empirical": [20, 30]}, "mttr": 3}}}
    sc = line(stations, horizon=600.0, warmup=0.0, replications=3)
    assert_same(twin.run(sc).summary(), twin.run(sc, engine="flowline").summary())


def test_sweep_rows_of_tie_lines_equal_full_simpy_runs() -> None:
    """Sweep layouts (buffers and servers) of random integer lines, 2 replications, on
    feeds kept across layouts: each row equals the SimPy engine's run of that layout."""
    import random

    from twin import sweep as sw
    from twin.engine import replication
    from twin.model import build

    rng = random.Random(3)
    for _ in range(15):
        sc = _integer_line(rng)
        names = list(sc.stations)
        layouts = sw.grid(sc, buffers={names[-1]: [0, 2]}, servers={names[0]: [1, 2]})
        table = sw.sweep(sc, layouts, workers=1)
        model = build(sc)
        for i, layout in enumerate(layouts.to_dict("records")):
            m = sw.apply(model, layout)
            for r in (0, 1):
                row = table[(table.layout == i) & (table.replication == r)].iloc[0]
                got = {(k, mm): v for k, _, mm, v in
                       replication.simulate(m, r, model.seed, float(model.warmup)).measures}
                assert row["finished"] == got["product", "finished"]
                if row["finished"]:
                    assert row["lead_time_h"] == pytest.approx(got["product", "lead_time_h"],
                                                               rel=1e-9)
                assert row["wip_mean"] == pytest.approx(got["system", "wip_mean"], rel=1e-9,
                                                        abs=1e-12)


# --- data-file cache ------------------------------------------------------------------------------
def test_csv_cache_changes_folders_columns_units(tmp_path: Path, monkeypatch) -> None:
    """Values follow the file's bytes, folder, column and unit, never a stale parse."""
    from twin.scenario import datafiles
    from twin.scenario.datafiles import read_durations

    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    a, b = tmp_path / "x" / "t.csv", tmp_path / "y" / "t.csv"
    a.write_text("c1,c2\n1,10\n2,20\n")
    b.write_text("c1,c2\n3,30\n4,40\n")
    assert read_durations(str(a), "c1") == [1.0, 2.0]
    assert read_durations(str(b), "c1") == [3.0, 4.0]
    assert read_durations(str(a), "c2") == [10.0, 20.0]
    assert read_durations(str(a), "c2", "min") == [600.0, 1200.0]
    # a relative name, from another working directory
    monkeypatch.chdir(tmp_path / "y")
    assert read_durations("t.csv", "c2") == [30.0, 40.0]
    monkeypatch.chdir(tmp_path / "x")
    assert read_durations("t.csv", "c2") == [10.0, 20.0]
    # the caller's list is its own
    got = read_durations(str(a), "c1")
    got.append(99.0)
    assert read_durations(str(a), "c1") == [1.0, 2.0]
    # changed contents (same length)
    a.write_text("c1,c2\n5,10\n6,20\n")
    assert read_durations(str(a), "c1") == [5.0, 6.0]
    # many files: the oldest forgotten, still right when read again
    parsed = []
    real = datafiles._parse
    monkeypatch.setattr(datafiles, "_parse", lambda *x: parsed.append(x[1]) or real(*x))
    files = []
    for k in range(10):
        f = tmp_path / f"f{k}.csv"
        f.write_text(f"v\n{k}\n{k + 1}\n")
        files.append(f)
        assert read_durations(str(f)) == [float(k), float(k + 1)]
    assert read_durations(str(files[0])) == [0.0, 1.0]
    assert read_durations(str(files[9])) == [9.0, 10.0]
    assert len(parsed) == 11  # ten files, then the first again (the last was kept)


def test_csv_errors_still_name_the_file(tmp_path: Path) -> None:
    """A file read well once, then broken, still gets its error naming the file (and the
    line); a column it lacks is named with the file, also when another column was cached."""
    from twin.scenario.datafiles import read_durations

    f = tmp_path / "times.csv"
    f.write_text("cycle_s,other\n30,1\n40,2\n")
    assert read_durations(str(f), "cycle_s") == [30.0, 40.0]
    with pytest.raises(ValueError, match=r"times\.csv has no column 'nope'"):
        read_durations(str(f), "nope")
    f.write_text("cycle_s,other\n30,1\nforty,2\n")
    with pytest.raises(ValueError, match=r"times\.csv, line 3: 'forty'"):
        read_durations(str(f), "cycle_s")
    f.write_text("cycle_s,other\n30,1\n40,2\n")  # mended: read again
    assert read_durations(str(f), "cycle_s") == [30.0, 40.0]
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: s\nrun: {horizon: 100}\nproducts: {u: {route: [a]}}\n"
                        "stations:\n  a: {process_time: {empirical: {file: times.csv, "
                        "column: missing}}}\n")
    with pytest.raises(twin.ScenarioError, match=r"times\.csv"):
        twin.load(scenario)
    os.remove(f)
    with pytest.raises(ValueError, match=r"cannot read .*times\.csv: no such file"):
        read_durations(str(f), "cycle_s")


# --- at_shift_end without a calendar ---------------------------------------------------------------
def test_at_shift_end_without_calendar(tmp_path: Path) -> None:
    """pause (what a station without a calendar does) is taken; finish is refused, the
    message naming the key and the line; a full dump (every default, a dual warehouse with
    at_shift_end: pause) reads back to the same scenario and hash."""
    from twin.scenario.load import scenario_hash

    path = tmp_path / "s.yaml"
    body = ("name: s\nrun: {horizon: 100}\nproducts: {u: {route: [a, w]}}\nstations:\n"
            "  a: {process_time: 1, at_shift_end: AT}\n"
            "  w: {process_time: 5, warehouse: {places: 5, rack: {length: 3, height: 3}, "
            "speed: {horizontal: 1, vertical: 1}, commands: dual}}\n")
    path.write_text(body.replace("AT", "pause"))
    scenario = twin.load(path)
    assert scenario.stations["a"].at_shift_end == "pause"
    path.write_text(body.replace("AT", "finish"))
    with pytest.raises(twin.ScenarioError) as e:
        twin.load(path)
    assert "stations.a.at_shift_end" in str(e.value) and "line 5" in str(e.value)
    full = tmp_path / "full.yaml"
    full.write_text(yaml.safe_dump(scenario.model_dump(mode="json", by_alias=True),
                                   sort_keys=False))
    again = twin.load(full)
    assert again == scenario and scenario_hash(again) == scenario_hash(scenario)
    assert again.stations["w"].warehouse.commands == "dual"
