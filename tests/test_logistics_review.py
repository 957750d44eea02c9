"""Review of the vehicle fleets (AGVs): hand traces, and regression tests for the bugs found.

Some tests pin behaviour verified by hand on tiny deterministic scenarios (constant times).
The others were written against bugs, since fixed: their docstrings tell what went wrong
then (the code they name, e.g. `place_freed`, is gone) and comments such as "now 0" give
the value the bug produced; each asserts what should happen, and why.
"""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

import twin
from twin.engine.stations import PLACE
from twin.engine.replication import Replication
from twin.errors import ScenarioError
from twin.model import IDLE, VEHICLE_STATES, build
from twin.scenario.load import load


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def measures(res) -> dict:
    """(kind, entity, measure) -> value of replication 0."""
    m = res.measures
    m = m[m.replication == 0]
    return {(k, e, name): v for k, e, name, v in
            m[["kind", "entity", "measure", "value"]].itertuples(index=False)}


# --- hand traces that hold --------------------------------------------------------------

def test_two_vehicle_cycle_matches_the_hand_trace_exactly(tmp_path) -> None:
    """a (20 s, no buffer, saturated) -> AGV -> b (5 s, no buffer); a-b 30 m, 1 m/s loaded,
    3 m/s empty, load 2 s, unload 2 s, two AGVs at a.

    Hand trace: from t = 98 s the plant repeats a 49 s cycle starting when b goes idle: the
    oldest move (a's unit, waiting since b had no place) is dispatched to the idle vehicle
    nearest a; both vehicles stand at b (tie -> agv/0): empty 30 m / 3 = 10 s, load 2 s
    (a is freed), loaded 30 s, unload 2 s, b works 5 s. A unit is released when a frees
    (load end) and finishes 86 s later. a finishes 20 s after being freed, so each request
    waits 49 - 20 - 12 + 10 = 27 s for its vehicle. Warm-up 363 s and horizon 60 cycles
    (2940 s) put no event on a boundary, so every count and state time is exactly 60 times
    the cycle's."""
    path = write(tmp_path, """\
        name: two AGVs, hand trace
        run: {horizon: "2940 s", warmup: "363 s"}
        products:
          tray: {route: [a, b], release: saturated, transport: agv}
        stations:
          a: {process_time: "20 s", buffer: 0}
          b: {process_time: "5 s", buffer: 0}
        logistics:
          points: {a: [0, 0], b: [30, 0]}
          paths: [[a, b]]
          fleets:
            agv:
              vehicles: 2
              speed_loaded: 1
              speed_empty: 3
              load_time: "2 s"
              unload_time: "2 s"
              home: a
              power_kw: {moving_loaded: 2, moving_empty: 1, loading: 0.5, unloading: 0.5,
                         waiting: 3, idle: 0.1}
        """)
    m = measures(twin.run(load(path)))
    h = 3600.0
    fleet = {s: m[("fleet", "agv", f"{s}_h")] * h for s in VEHICLE_STATES}
    assert fleet == pytest.approx({"moving_loaded": 1800, "moving_empty": 600, "loading": 120,
                                   "unloading": 120, "waiting": 0, "idle": 3240,
                                   "to_charger": 0, "waiting_charger": 0, "charging": 0},
                                  abs=1e-9)
    assert sum(fleet.values()) == pytest.approx(2 * 2940)  # vehicles x period
    energy = sum(m[("fleet", "agv", f"energy_{s}_kwh")] for s in VEHICLE_STATES)
    assert energy == pytest.approx((2 * 1800 + 1 * 600 + 0.5 * 240 + 0.1 * 3240) / h)
    assert m[("fleet", "agv", "trips")] == 60
    assert m[("fleet", "agv", "distance_km")] == pytest.approx(60 * 60 / 1000)
    assert m[("fleet", "agv", "trip_h")] * h == pytest.approx(2 + 30 + 2)
    assert m[("fleet", "agv", "response_h")] * h == pytest.approx(27)
    assert m[("product", "tray", "released")] == m[("product", "tray", "finished")] == 60
    assert m[("product", "tray", "lead_time_h")] * h == pytest.approx(86)
    assert m[("system", "", "wip_mean")] == pytest.approx(86 / 49)  # Little, units on AGVs in
    assert m[("station", "a", "blocked_h")] * h == pytest.approx(60 * 29)
    assert m[("station", "b", "starved_h")] * h == pytest.approx(60 * 44)


def test_a_release_is_refused_the_place_reserved_for_a_vehicle(tmp_path) -> None:
    """b (3 s, no buffer) is fed by AGV from a (11 s) and by open arrivals of q every 15 s;
    moves and releases queue for b's place first come, first served.

    Hand trace: at 11 s b's idle machine is reserved for P1 (10 s trip). Q1 arrives at 15 s
    and is refused (b idle but promised): it enters at 24 s when b finishes P1. P2 asks at
    22 s, behind Q1, and gets the place b frees at 27 s; the AGV (at b) drives 10 s empty
    and 10 s loaded: b is reserved 27-47 s, so Q2 (arrived 30 s) enters only at 50 s. Q3
    (arrived 45 s) waits outside until Q2 is in (50 s) and so queues behind P3, which asked
    at 48 s: b's place freed at 53 s is reserved for P3 and Q3 is still out at 60 s."""
    path = write(tmp_path, """\
        name: release waits for a reserved place
        run: {horizon: "60 s"}
        products:
          p: {route: [a, b], release: saturated, transport: agv}
          q: {route: [b], release: {interarrival: "15 s"}}
        stations:
          a: {process_time: "11 s", buffer: 0}
          b: {process_time: "3 s", buffer: 0}
        logistics:
          points: {a: [0, 0], b: [10, 0]}
          paths: [[a, b]]
          fleets:
            agv: {vehicles: 1, speed_loaded: 1, home: a}
        """)
    rep = Replication(replace(build(load(path)), event_log=True), 0, 0, 0.0)
    rep.run()
    q_enters = [start for _, product, what, _, start, _ in rep.events
                if product == 1 and what == "release"]
    assert q_enters == [24.0, 50.0]
    p_at_b = [(start, end) for _, product, what, station, start, end in rep.events
              if product == 0 and what == "process" and station == 1]
    assert p_at_b == [(21.0, 24.0), (47.0, 50.0)]


def _invariants(rep: Replication, period: float, problems: list):
    """A process checking, between events, the reservation counters and that no move
    waits while a vehicle is idle."""
    env = rep.env
    while True:
        yield env.timeout(period)
        now = env.now
        # every vehicle not idle holds a reservation: on its way, or waiting loaded where its
        # reserved machine broke down (the place stays owed to it)
        on_way = sum(1 for f in rep.fleets for v in f.vehicles if v.state != IDLE)
        ready = sum(len(f.requests) for f in rep.fleets)  # reserved, waiting for a vehicle
        if sum(st.incoming for st in rep.stations) != on_way + ready:
            problems.append((now, "incoming"))
        for st in rep.stations:
            if st.incoming < 0:
                problems.append((now, "incoming < 0", st.spec.name))
            for move, event in st.blocked:  # moves waiting for a place wait on the station
                if event is PLACE and move.machine.blocked_on is not st:
                    problems.append((now, "blocked_on", st.spec.name))
        for f in rep.fleets:
            for move in f.requests:  # moves with a place wait on the fleet
                if move.machine.blocked_on is not f:
                    problems.append((now, "blocked_on", f.spec.name))
            if len(f.idle) != sum(1 for v in f.vehicles if v.state == IDLE):
                problems.append((now, "idle list", f.spec.name))
            if f.idle and f.requests:
                problems.append((now, "missed dispatch", f.spec.name))


def test_reservation_counters_never_drift_and_no_dispatch_is_missed(tmp_path) -> None:
    """Failures while idle (reserved machine lost), scrap, rework on the same station and
    back by vehicle, two fleets, a direct product sharing a station with transported ones,
    open and CONWIP releases and a warm-up (no loop that can jam: see the bugs below):
    `incoming` always equals the vehicles on their way plus the moves with a place reserved
    that wait for a vehicle, and no move waits while a vehicle is idle.
    Vehicle time sums to vehicles x period and flow balances."""
    path = write(tmp_path, """\
        name: counters under stress
        run: {horizon: "4 h", warmup: "1234 s", seed: 4}
        products:
          p: {route: [a, {station: b, rework: {p: 0.2, to: b}}, c],
              release: {interarrival: {exponential: "45 s"}}, transport: agv}
          r: {route: [d, c], release: {conwip: 2}, transport: tug}
          q: {route: [e, c], release: {conwip: 3}}
          s: {route: [f, {station: g, rework: {p: 0.3, to: f}}],
              release: {interarrival: {exponential: "60 s"}}, transport: agv}
        stations:
          a: {process_time: {exponential: "12 s"}, buffer: 4,
              failures: {mtbf: {exponential: "10 min"}, mttr: {exponential: "1 min"}}}
          b: {process_time: "9 s", buffer: 2, servers: 2, scrap: 0.05,
              failures: {mtbf: {exponential: "4 min"}, mttr: {exponential: "40 s"}}}
          c: {process_time: {exponential: "5 s"}, buffer: 0,
              failures: {mtbf: {exponential: "5 min"}, mttr: {exponential: "30 s"}}}
          d: {process_time: "30 s", buffer: 1}
          e: {process_time: "20 s", buffer: 1}
          f: {process_time: "10 s"}
          g: {process_time: {exponential: "8 s"}, buffer: 1}
        logistics:
          points: {home: [0, 0], a: [10, 0], b: [20, 5], c: [5, 15], d: [0, 25], f: [30, 5],
                   g: [30, 20]}
          paths: [[home, a], [a, b], [b, c], {from: c, to: a, length: 30}, [c, d], [b, f],
                  [f, g]]
          fleets:
            agv: {vehicles: 3, speed_loaded: 1.5, speed_empty: 2, load_time: "4 s",
                  unload_time: {uniform: ["2 s", "6 s"]}, home: home,
                  power_kw: {moving_loaded: 2, moving_empty: 1.5, loading: 1, waiting: 0.3,
                             idle: 0.1}}
            tug: {vehicles: 1, speed_loaded: 1, home: d}
        """)
    model = build(load(path))
    for seed in range(3):
        rep = Replication(model, 0, seed, 1234.0)
        problems: list = []
        rep.env.process(_invariants(rep, 7.3137, problems))
        res = rep.run()
        assert problems == []
        m = {(k, e, name): v for k, e, name, v in res.measures}
        for fleet, n in (("agv", 3), ("tug", 1)):
            assert sum(m[("fleet", fleet, f"{s}_h")] for s in VEHICLE_STATES) == \
                pytest.approx(n * 4)
        assert m[("fleet", "agv", "waiting_h")] > 0  # reserved machines did break down
        left = sum(m[("product", p, "finished")] + m[("product", p, "scrapped")] for p in "prqs")
        released = sum(m[("product", p, "released")] for p in "prqs")
        assert released - left == m[("system", "", "wip_end")] - m[("system", "", "wip_start")]


# --- bugs: places that free are never given to moves that wait for them -------------------

def test_transported_product_is_not_starved_by_a_direct_sender(tmp_path) -> None:
    """Products p (a -> c directly) and q (b -> c by AGV) share c (10 s, no buffer); a and b
    are fast. Without vehicles c serves its blocked senders first come first served, about
    180 units/h each. With q on the AGV, q's move waits for a place at c, but whenever c
    finishes, Station.take hands the machine straight to a's blocked unit: c never goes
    idle, place_freed is never called, and q finishes nothing in an hour (throughput 0,
    both AGVs idle 100 %, no deadlock). A freed place should go to the oldest waiter, move
    or sender ("a machine waiting for a place downstream stays blocked exactly as it would
    without vehicles", modelling.md)."""
    path = write(tmp_path, """\
        name: shared station
        run: {horizon: "1 h"}
        products:
          p: {route: [a, c], release: saturated}
          q: {route: [b, c], release: saturated, transport: agv}
        stations:
          a: {process_time: "1 s", buffer: 0}
          b: {process_time: "1 s", buffer: 0}
          c: {process_time: "10 s", buffer: 0}
        logistics:
          points: {a: [0, 0], b: [0, 5], c: [5, 0]}
          paths: [[a, c], [b, c]]
          fleets:
            agv: {vehicles: 2, speed_loaded: 5, home: b}
        """)
    doc = twin.run(load(path)).summary()
    assert doc["products"]["p"]["throughput_per_h"]["mean"] > 60
    assert doc["products"]["q"]["throughput_per_h"]["mean"] > 60  # now 0


def test_move_back_to_a_saturated_station_is_not_starved(tmp_path) -> None:
    """Route [a, b, a] (a 10 s, no buffer, saturated release; b 5 s, unlimited buffer) by
    AGV. Without vehicles b's unit waits in a's blocked line and a takes it before the next
    release: 179 units/h. With the AGV, the move b -> a waits for a place at a, but each
    time a's machine frees, Station.take releases a new saturated unit instead (only
    *dispatched* moves are protected), so a never has room: b stays blocked on its first
    unit forever, nothing finishes, WIP grows by 360 units/h, and no deadlock is reported.
    (With b's buffer at 2 the same policy turns this into a 'deadlock' after 41 s, while
    the same line without vehicles runs.) Waiting moves should come before saturated
    releases, as blocked senders do."""
    path = write(tmp_path, """\
        name: route visits a twice
        run: {horizon: "1 h"}
        products:
          tray: {route: [a, b, a], release: saturated, transport: agv}
        stations:
          a: {process_time: "10 s", buffer: 0}
          b: {process_time: "5 s"}
        logistics:
          points: {a: [0, 0], b: [5, 0]}
          paths: [[a, b]]
          fleets:
            agv: {vehicles: 2, speed_loaded: 5, home: a}
        """)
    doc = twin.run(load(path)).summary()
    assert doc["products"]["tray"]["finished"]["mean"] > 100  # now 0
    assert doc["wip"]["mean"] < 10  # now 164


def test_two_fleets_delivering_to_one_station_share_it(tmp_path) -> None:
    """p (a -> x) travels by fleet f1, q (b -> x) by fleet f2; x takes 10 s, no buffer.
    Station.place_freed offers every freed place to f1 first, then to f2, so f1's newer
    move always beats f2's older one: q finishes 0 units in an hour while p finishes 300.
    With one fleet for both, dispatch is oldest-first and each gets 145. modelling.md: "a
    place that frees goes to the oldest move waiting for it"."""
    path = write(tmp_path, """\
        name: two fleets to one station
        run: {horizon: "1 h"}
        products:
          p: {route: [a, x], release: saturated, transport: f1}
          q: {route: [b, x], release: saturated, transport: f2}
        stations:
          a: {process_time: "1 s", buffer: 0}
          b: {process_time: "1 s", buffer: 0}
          x: {process_time: "10 s", buffer: 0}
        logistics:
          points: {a: [0, 0], b: [0, 5], x: [5, 0]}
          paths: [[a, x], [b, x]]
          fleets:
            f1: {vehicles: 2, speed_loaded: 5, home: a}
            f2: {vehicles: 2, speed_loaded: 5, home: b}
        """)
    doc = twin.run(load(path)).summary()
    assert doc["products"]["q"]["finished"]["mean"] > 100  # now 0


def test_a_repaired_machine_keeps_its_reserved_place(tmp_path) -> None:
    """Minor. b (6 s, no buffer) fails at 15 s and is repaired at 20 s (constant times).
    14 s: a's p1 is dispatched to b, whose idle machine is reserved (10 s trip, arrives
    24 s). 15 s b fails. 16 s c's q1 is refused by b (reserved) and blocks. 20 s b is
    repaired: Machine.repair -> Station.take pops the blocked q1 although b's only place
    is promised to p1 (take checks reservations for saturated releases, not for blocked
    senders). The AGV arrives at 24 s and waits loaded until 26 s. The reservation should
    survive a repair that comes before the vehicle: q1 was refused *because* of it, and
    nothing is lost by keeping the repaired machine for the unit on its way."""
    path = write(tmp_path, """\
        name: repaired machine taken by a blocked sender
        run: {horizon: "30 s"}
        products:
          p: {route: [a, b], release: saturated, transport: agv}
          q: {route: [c, b], release: saturated}
        stations:
          a: {process_time: "14 s", buffer: 0}
          b: {process_time: "6 s", buffer: 0, failures: {mtbf: "15 s", mttr: "5 s"}}
          c: {process_time: "16 s", buffer: 0}
        logistics:
          points: {a: [0, 0], b: [10, 0]}
          paths: [[a, b]]
          fleets:
            agv: {vehicles: 1, speed_loaded: 1, home: a}
        """)
    m = measures(twin.run(load(path)))
    assert m[("fleet", "agv", "waiting_h")] == 0  # now 2 s


# --- bugs: deadlock detection with a stale Machine.blocked_on -----------------------------

def test_no_deadlock_is_reported_while_a_vehicle_is_on_its_way(tmp_path) -> None:
    """a (5 s, no buffer) sends p by AGV to b (10 s, buffer 1); b sends e to z and f to a
    directly. The AGV starts 100 m away.

    Trace: 0 s e1 on b's machine, f1 in b's buffer, p1 on a. 5 s a asks for a move to b:
    b has no place, so m.blocked_on = b. 10 s b passes e1 on and takes f1 from its buffer;
    the freed place is reserved and the AGV sent (it will load at 110 s), but a's
    blocked_on stays b. 20 s b's f1 is refused by a (a holds p1): check_deadlock(a) follows
    a -> b -> a and raises 'deadlock at t = 0.00556 h', killing the replication. Yet the AGV
    loads p1 at 110 s, a takes f1, b goes on: with the check switched off this run makes
    140 e, 140 f and 70 p in the hour. a waited for the fleet, not for b."""
    path = write(tmp_path, """\
        name: stale blocked_on gives a false deadlock
        run: {horizon: "1 h"}
        products:
          e: {route: [b, z], release: {conwip: 1}}
          f: {route: [b, a], release: {conwip: 1}}
          p: {route: [a, b], release: {conwip: 1}, transport: agv}
        stations:
          a: {process_time: "5 s", buffer: 0}
          b: {process_time: "10 s", buffer: 1}
          z: {process_time: "1 s", buffer: 0}
        logistics:
          points: {depot: [0, 100], a: [0, 0], b: [10, 0]}
          paths: [[depot, a], [a, b]]
          fleets:
            agv: {vehicles: 1, speed_loaded: 1, home: depot}
        """)
    doc = twin.run(load(path)).summary()
    assert doc["deadlocks"] == []  # now one at t = 20 s
    assert doc["products"]["p"]["finished"]["mean"] > 0


def test_jam_behind_a_move_waiting_for_a_place_is_reported(tmp_path) -> None:
    """p: a -> b by the one AGV; f: c -> b -> a directly. a 5 s no buffer, b 10 s buffer 1,
    c 11 s no buffer, a and b 10 m apart at 1 m/s. a waits for b and b for a: the jam must be
    reported as a deadlock, not run silently to the horizon (as it did when a machine's
    `blocked_on` was left stale). The trace below is how it went before places were
    reserved at the request:

    Trace: 5 s the AGV takes p1 (b's machine reserved). 10 s a asks for p2; b still has its
    buffer place free but the AGV is busy, so m.blocked_on = fleet. 11 s c's f1 takes b's
    last free place (b's machine). 15 s p1 goes into b's buffer; the AGV idles, p2 has no
    place at b. 21 s b's f1 is refused by a (holding p2): check_deadlock(a) sees a waiting
    on the fleet, which is not stuck, and returns. a waits for b, b for a: nothing ever moves
    again, yet the run goes to the 10 h horizon with a and b blocked 99.9 % and 0 units
    finished, no deadlock reported (modelling.md promises one)."""
    path = write(tmp_path, """\
        name: stale blocked_on hides a deadlock
        run: {horizon: "10 h"}
        products:
          p: {route: [a, b], release: saturated, transport: agv}
          f: {route: [c, b, a], release: saturated}
        stations:
          a: {process_time: "5 s", buffer: 0}
          b: {process_time: "10 s", buffer: 1}
          c: {process_time: "11 s", buffer: 0}
        logistics:
          points: {a: [0, 0], b: [10, 0]}
          paths: [[a, b]]
          fleets:
            agv: {vehicles: 1, speed_loaded: 1, home: a}
        """)
    doc = twin.run(load(path)).summary()
    # (with places reserved when a move is asked for, the jam comes at 35 s: p3 waits at a
    # for a place at b, whose machine holds f1 for a)
    assert len(doc["deadlocks"]) == 1
    assert doc["deadlocks"][0]["stations"] == ["a", "b"]
    assert doc["deadlocks"][0]["time_h"] < 0.01


# --- bugs: network checks ----------------------------------------------------------------

def test_fleet_serving_two_products_must_get_from_every_drop_to_every_pickup(tmp_path) -> None:
    """One fleet carries p (a -> b) and q (c -> d) over two one-way loops joined only at the
    home. Each product's own moves pass network_problems, which checks drop -> pickup only
    within a product. But after a p drop at b the vehicle is sent to c: distance inf, so it
    drives 'moving_empty' for the rest of the run (timeout(inf)); 1 unit finishes in an hour.
    scenario-format.md: every move a fleet must make, from each drop point back to each
    pickup, is checked when the file is loaded (exit 2)."""
    path = write(tmp_path, """\
        name: two products share a fleet over one-way loops
        run: {horizon: "1 h"}
        products:
          p: {route: [a, b], release: saturated, transport: agv}
          q: {route: [c, d], release: saturated, transport: agv}
        stations:
          a: {process_time: "10 s", buffer: 0}
          b: {process_time: "10 s", buffer: 0}
          c: {process_time: "10 s", buffer: 0}
          d: {process_time: "10 s", buffer: 0}
        logistics:
          points: {home: [0, 0], a: [10, 0], b: [20, 0], c: [0, 10], d: [0, 20]}
          paths:
            - {from: home, to: a, one_way: true}
            - {from: home, to: c, one_way: true}
            - {from: a, to: b, one_way: true}
            - {from: b, to: a, one_way: true}
            - {from: c, to: d, one_way: true}
            - {from: d, to: c, one_way: true}
          fleets:
            agv: {vehicles: 1, speed_loaded: 1, home: home}
        """)
    with pytest.raises(ScenarioError, match="cannot"):
        load(path)


def test_unknown_at_point_without_logistics_is_refused(tmp_path) -> None:
    """`stations.a.at: nowhere` with no logistics section loads silently:
    network_problems returns before the `at` check when logistics is None. The docs list
    unknown points in `at` among the located load errors (exit 2); a typo'd `at` in a file
    whose logistics section was forgotten (or dropped by `extends`) should not pass."""
    path = write(tmp_path, """\
        name: at without logistics
        run: {horizon: "1 h"}
        products:
          p: {route: [a, b]}
        stations:
          a: {process_time: "10 s", at: nowhere}
          b: {process_time: "10 s"}
        """)
    with pytest.raises(ScenarioError, match="nowhere"):
        load(path)
