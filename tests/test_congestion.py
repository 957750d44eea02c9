"""Congestion on paths (twin/engine/traffic.py, limited segments in twin/scenario/network.py
and twin/model.py): the `capacity` key and its checks, first come first served per segment,
both directions sharing one capacity, never more vehicles on a segment than its capacity
(seen by a probe around every drive along a segment, not by the segment's own counters),
results unchanged to the bit without capacities, and no deadlock in a crowded grid."""

from __future__ import annotations

import textwrap
from collections import defaultdict
from pathlib import Path

import pytest
import simpy
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import twin
import twin.engine.vehicles as vehicles
from twin.engine.traffic import Segment, drive_segment
from twin.errors import ScenarioError
from twin.model import SegmentModel, build
from twin.scenario.load import load, scenario_json_schema

from support import write_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

SHUTTLE = """\
name: shuttle
run: {{horizon: "2 h", seed: 1}}
products:
  tray: {{route: [a, b], release: saturated, transport: agv}}
stations:
  a: {{process_time: "1 s", buffer: 0}}
  b: {{process_time: "1 s"}}
logistics:
  points: {{a: [0, 0], m: [10, 0], b: [30, 0]}}
  paths:
{paths}
  fleets:
    agv: {{vehicles: {vehicles}, speed_loaded: 1.0, speed_empty: 2.0, load_time: "5 s",
           unload_time: "5 s", home: a}}
"""
TWO_LEGS = "    - [a, m]\n    - {from: m, to: b, capacity: 1}"


def shuttle(tmp_path: Path, paths: str = TWO_LEGS, vehicles: int = 2) -> Path:
    return write_scenario(tmp_path, SHUTTLE.format(paths=paths, vehicles=vehicles))


# --- schema and load-time checks --------------------------------------------------------
@pytest.mark.parametrize("capacity, expect", [
    ("0", "must be at least 1, got 0"), ("-2", "must be at least 1, got -2"),
    ("1.5", "expected a whole number, got 1.5"), ("two", "expected a whole number"),
    ("true", "true and false are no numbers")])
def test_capacity_is_a_positive_whole_number(tmp_path, capacity, expect) -> None:
    path = shuttle(tmp_path, f"    - [a, m]\n    - {{from: m, to: b, capacity: {capacity}}}")
    with pytest.raises(ScenarioError) as info:
        load(path)
    [problem] = info.value.problems
    assert problem.where == "logistics.paths[1].capacity"
    assert expect in problem.message


def test_a_limited_path_must_be_the_only_path_between_its_points(tmp_path) -> None:
    path = shuttle(tmp_path, TWO_LEGS + "\n    - {from: b, to: m, length: 25, one_way: true}")
    with pytest.raises(ScenarioError) as info:
        load(path)
    [problem] = info.value.problems
    assert problem.where == "logistics.paths[1].capacity"
    assert "logistics.paths[2] joins the same points" in problem.message
    assert "capacity: the lanes of both" in problem.message
    # a one-way lane each way is two lanes, not one path listed twice
    load(shuttle(tmp_path, "    - [a, m]\n    - {from: m, to: b, capacity: 1, one_way: true}"
                           "\n    - {from: b, to: m, capacity: 1, one_way: true}"))


def test_a_limited_loop_is_refused(tmp_path) -> None:
    path = shuttle(tmp_path, TWO_LEGS + "\n    - {from: m, to: m, length: 5, capacity: 1}")
    with pytest.raises(ScenarioError) as info:
        load(path)
    assert info.value.problems[0].where == "logistics.paths[2].capacity"
    assert "to itself has a capacity" in info.value.problems[0].message


def test_capacity_is_in_the_json_schema_with_a_description_and_examples() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = scenario_json_schema()
    paths = schema["$defs"]["Logistics"]["properties"]["paths"]
    assert any("capacity" in str(e) for e in paths["examples"])
    form = next(f for f in paths["items"]["anyOf"] if f.get("type") == "object")
    cap = form["properties"]["capacity"]
    assert cap["description"] and cap["examples"]
    doc = yaml.safe_load(SHUTTLE.format(paths=TWO_LEGS, vehicles=2).replace("{{", "{"))
    validator = jsonschema.Draft202012Validator(schema)
    for value, ok in ((1, True), (3, True), (0, False), (1.5, False), (True, False)):
        doc["logistics"]["paths"][1]["capacity"] = value
        assert (list(validator.iter_errors(doc)) == []) == ok, value


def test_routes_drive_each_limited_segment_on_its_own(tmp_path) -> None:
    text = SHUTTLE.format(paths="    - [a, m]\n    - [m, n]\n    - {from: n, to: b, capacity: 2}",
                          vehicles=2).replace("m: [10, 0]", "m: [10, 0], n: [20, 0]")
    model = build(load(write_scenario(tmp_path, text)))
    [seg] = model.segments
    assert (seg.name, seg.capacity, seg.metres) == ("n <-> b", 2, 10.0)
    fleet = model.fleets[0]
    assert not fleet.rides_lifts and fleet.time_empty is None  # "nearest" stays by metres
    a, b = model.points.index("a"), model.points.index("b")
    # the two unlimited paths joined into one drive, the limited one a leg of its own,
    # the same segment both ways
    assert fleet.routes_loaded[a][b] == ((20.0, -1, -1, -1), (10.0, -1, 0, -1))
    assert fleet.routes_empty[b][a] == ((10.0, -1, 0, -1), (20.0, -1, -1, -1))


# --- the segment: first come, first served --------------------------------------------
def test_a_segment_serves_vehicles_first_come_first_served() -> None:
    """Capacity 2: v0 enters at 0 for 30 s, v1 at 1 for 5 s; v2 (t = 2) and v3 (t = 3)
    wait, and the room v1 frees at 6 goes to v2 (the first in line), then v3 at 11."""
    env = simpy.Environment()
    seg = Segment(SegmentModel(0, "x <-> y", 2, 10.0), env)
    out = {}

    def vehicle(name, arrive, seconds):
        yield env.timeout(arrive)
        yield from drive_segment(env, seg, seconds)
        out[name] = env.now

    for name, arrive, seconds in (("v0", 0, 30), ("v1", 1, 5), ("v2", 2, 5), ("v3", 3, 5)):
        env.process(vehicle(name, arrive, seconds))
    env.run()
    assert out == {"v0": 30, "v1": 6, "v2": 11, "v3": 16}
    assert (seg.entries, seg.passes, seg.waits, seg.queue_max) == (4, 4, 2, 2)
    assert seg.wait_sum == (6 - 2) + (11 - 3)
    assert seg.on.integral(30) == 30 + 5 + 5 + 5
    assert seg.waiting.integral(30) == seg.wait_sum


def test_capacity_one_passes_vehicles_in_the_order_they_came() -> None:
    env = simpy.Environment()
    seg = Segment(SegmentModel(0, "x -> y", 1, 10.0), env)
    order = []

    def vehicle(i):
        yield env.timeout(0.5 * i)
        yield from drive_segment(env, seg, 10.0)
        order.append((i, env.now))

    for i in (3, 0, 4, 1, 2):  # started in another order than they arrive
        env.process(vehicle(i))
    env.run()
    assert order == [(i, 10.0 * (i + 1)) for i in range(5)]


@settings(max_examples=150, deadline=None)
@given(capacity=st.integers(1, 3),
       vehicles=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 12)), min_size=1,
                         max_size=12))
def test_a_segment_is_a_first_come_first_served_queue_with_k_servers(capacity, vehicles):
    """Against a hand-written FIFO k-server queue: vehicle i (arriving at a_i, on the segment
    for s_i) enters when it arrives or when the earliest of the k places frees, never before
    the vehicle ahead of it; integer times make ties (arrivals at once, a leave and an
    arrival at once) frequent."""
    import heapq
    arrivals = sorted(vehicles, key=lambda v: v[0])
    free = [0.0] * capacity
    expected, last = [], 0.0
    for a, s in arrivals:
        last = max(a, heapq.heappop(free), last)
        expected.append(last)
        heapq.heappush(free, last + s)
    env = simpy.Environment()
    seg = Segment(SegmentModel(0, "x <-> y", capacity, 1.0), env)
    entered = {}

    def vehicle(i, a, s):
        yield env.timeout(a)
        yield from drive_segment(env, seg, s)
        entered[i] = env.now - s

    for i, (a, s) in enumerate(arrivals):
        env.process(vehicle(i, a, s))
    env.run()
    assert [entered[i] for i in range(len(arrivals))] == expected
    assert seg.entries == seg.passes == len(arrivals) and seg.free == capacity
    assert seg.wait_sum == sum(e - a for e, (a, _) in zip(expected, arrivals))
    assert seg.on.level == 0 and not seg.line


# --- the engine, watched by a probe ---------------------------------------------------
@pytest.fixture
def probe(monkeypatch):
    """Every drive along a limited segment: segment name -> [(entered, left, seconds)];
    entered is when the drive's timeout was made (after any wait for room)."""
    drives = defaultdict(list)
    real = vehicles.drive_segment

    def watched(env, segment, seconds):
        steps = real(env, segment, seconds)
        event = next(steps)
        while True:
            if isinstance(event, simpy.events.Timeout):
                entered = env.now
            value = yield event
            try:
                event = steps.send(value)
            except StopIteration:
                break
        drives[segment.spec.name].append((entered, env.now, seconds))

    monkeypatch.setattr(vehicles, "drive_segment", watched)
    return drives


def most_at_once(spans) -> int:
    """The largest number of spans (entered, left) open at one time; one that ends at the
    moment another begins has left before it entered."""
    edges = sorted([(a, 1) for a, _, _ in spans] + [(b, -1) for _, b, _ in spans])
    level = top = 0
    for _, step in edges:
        level += step
        top = max(top, level)
    return top


def test_both_directions_share_one_lane(tmp_path, probe) -> None:
    """Loaded drives m -> b take 20 s, empty ones b -> m 10 s: both use the lane, never two
    at once, and the lane's results count both directions."""
    res = twin.run(load(shuttle(tmp_path)), workers=1)
    spans = probe["m <-> b"]
    kinds = {seconds for _, _, seconds in spans}
    assert kinds == {20.0, 10.0}
    assert most_at_once(spans) == 1
    row = res.paths().xs("m <-> b", level="entity").iloc[0]
    assert row["passes"] == pytest.approx(len(spans), abs=1)
    assert row["waits"] > 0  # the two vehicles did meet
    # with two lanes, both vehicles are on it at once at times, and more units pass
    before = len(spans)
    wide = twin.run(load(shuttle(tmp_path, TWO_LEGS.replace("capacity: 1", "capacity: 2"))),
                    workers=1)
    assert most_at_once(probe["m <-> b"][before:]) == 2
    assert (wide.summary()["products"]["tray"]["finished"]["mean"]
            > res.summary()["products"]["tray"]["finished"]["mean"])


# A 5 x 5 grid of points 20 m apart, every aisle one lane shared both ways; four products
# cross the grid from corner to corner and back through the centre, carried by 40 AGVs.
def grid_scenario(vehicles: int = 40, capacity: int = 1) -> dict:
    n = 5
    points = {f"p{i}{j}": [20 * i, 20 * j] for i in range(n) for j in range(n)}
    paths = [{"from": f"p{i}{j}", "to": f"p{i + di}{j + dj}", "capacity": capacity}
             for i in range(n) for j in range(n) for di, dj in ((1, 0), (0, 1))
             if i + di < n and j + dj < n]
    corners = ["p00", "p44", "p04", "p40"]
    stations = {c: {"servers": 2, "process_time": "20 s", "at": c}
                for c in corners}
    stations["centre"] = {"servers": 4, "process_time": "10 s", "at": "p22"}
    products = {
        f"tray{k}": {"route": [c, "centre", corners[(k + 1) % 4], corners[(k + 2) % 4]],
                     "release": {"interarrival": {"exponential": "40 s"}}, "transport": "agv"}
        for k, c in enumerate(corners)}
    return {"name": "crowded grid", "run": {"horizon": "3 h", "seed": 5},
            "products": products, "stations": stations,
            "logistics": {"points": points, "paths": paths,
                          "fleets": {"agv": {"vehicles": vehicles, "speed_loaded": 1.0,
                                             "speed_empty": 1.5, "load_time": "10 s",
                                             "unload_time": "10 s", "home": "p22"}}}}


def test_a_crowded_grid_of_single_lanes_never_deadlocks(tmp_path, probe) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(grid_scenario()))
    res = twin.run(load(path), workers=1)
    doc = res.summary()
    assert doc["deadlocks"] == [] and res.meta["failed"] == []
    # units flow to the end: every product finishes units in the last half hour
    tl = res.timeline
    late = tl[(tl["measure"] == "finished") & (tl["time_h"] > 2.5)]
    finished_late = late.groupby("entity")["value"].sum()
    assert len(finished_late) == 4 and (finished_late > 0).all(), finished_late
    # traffic was heavy (vehicles queued at many lanes) and no lane ever held two
    paths = doc["paths"]
    assert sum(p["waits"]["mean"] for p in paths.values()) > 500
    assert max(p["queue_max"]["mean"] for p in paths.values()) >= 3
    assert probe and all(most_at_once(spans) == 1 for spans in probe.values())


def test_lanes_of_two_never_hold_three(tmp_path, probe) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(grid_scenario(vehicles=30, capacity=2)))
    doc = twin.run(load(path), workers=1, horizon="1 h").summary()
    assert doc["deadlocks"] == []
    assert max(most_at_once(spans) for spans in probe.values()) == 2


# --- without capacities, results are those of before to the bit -------------------------
# Summaries of the shipped examples computed by twin before congestion existed (commit
# d329fa7): replications=2, horizon="1 d", warmup="2 h".
BEFORE = {
    "examples/electrode_shop_agv.yaml": (
        0.8958333333333333, 14.493103048612845, 0.060232815093111486,
        0.013955406012283823, 0.07783238822598013, 62976.26635527676),
    "examples/electrode_shop_two_floors.yaml": (
        0.8958333333333333, 14.445125823496166, 0.0639588023421453,
        0.02832011210070158, 0.07667824074074074, 62201.27365991025),
    "examples/electrode_shop_agv_battery.yaml": (
        0.8541666666666667, 14.718275774548564, 0.060269359232643996,
        0.0631891928859793, 0.0732027585963505, 60745.202748569325),
}


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_without_capacities_results_are_unchanged_to_the_bit(name) -> None:
    scenario = twin.load(SCENARIOS / name)
    model = build(scenario)
    assert model.segments == ()
    if not scenario.logistics.lifts:  # one drive, one timeout, as before
        assert model.fleets[0].routes_loaded is None
    doc = twin.run(scenario, replications=2, horizon="1 d", warmup="2 h", workers=1).summary()
    fleet = doc["fleets"]["agv"]
    got = (doc["products"]["roll"]["throughput_per_h"]["mean"],
           doc["products"]["roll"]["lead_time_h"]["mean"], fleet["trip_h"]["mean"],
           fleet["response_h"]["mean"], fleet["states"]["moving_loaded"],
           doc["energy"]["total_kwh"]["mean"])
    assert got == BEFORE[name]  # exactly
    assert "paths" not in doc


def test_the_example_makes_one_aisle_single_lane() -> None:
    scenario = twin.load(SCENARIOS / "examples/electrode_shop_agv_traffic.yaml")
    limited = {(p.from_, p.to): p.capacity for p in scenario.logistics.paths if p.capacity}
    assert limited == {("coat-out", "calender"): 1, ("calender", "slit"): 2}
    doc = twin.run(scenario, replications=1, horizon="1 d", warmup="2 h", workers=1).summary()
    lane = doc["paths"]["coat-out <-> calender"]
    assert lane["passes"]["mean"] > 0 and 0 < lane["utilization"]["mean"] <= 1


def test_the_text_report_has_a_traffic_section(tmp_path) -> None:
    from twin.report.text import text_summary
    doc = twin.run(load(shuttle(tmp_path)), workers=1).summary()
    text = text_summary(doc)
    assert "traffic (path)" in text
    line = next(x for x in text.splitlines() if x.startswith("m <-> b"))
    assert line.split()[3] == "1"  # capacity
    plain = twin.run(load(shuttle(tmp_path, "    - [a, m]\n    - [m, b]")), workers=1)
    assert "traffic" not in text_summary(plain.summary())


def test_the_html_report_lists_the_limited_paths(tmp_path) -> None:
    from twin.report.html import _assumptions, paths_table
    res = twin.run(load(shuttle(tmp_path)), workers=1)
    table = paths_table(res, res.summary())
    assert list(table["path"]) == ["m <-> b"] and list(table["capacity"]) == [1]
    assert "cannot deadlock" in _assumptions(res, res.summary())
    plain = twin.run(load(shuttle(tmp_path, "    - [a, m]\n    - [m, b]")), workers=1)
    assert paths_table(plain, plain.summary()) is None
    assert "Traffic" not in _assumptions(plain, plain.summary())


def test_compare_reports_the_wait_at_each_limited_path(tmp_path) -> None:
    from twin.analysis.compare import _direction, replication_kpis
    res = twin.run(load(shuttle(tmp_path)), workers=1)
    kpis = replication_kpis(res.measures, res.meta)
    wait = res.paths().xs("m <-> b", level="entity")["wait_h"]
    assert kpis["path_wait_h:m <-> b"].tolist() == pytest.approx(wait.tolist())
    assert wait.iloc[0] > 0 and _direction("path_wait_h:m <-> b") == -1  # less is better
    plain = twin.run(load(shuttle(tmp_path, "    - [a, m]\n    - [m, b]")), workers=1)
    assert not any(k.startswith("path_") for k in replication_kpis(plain.measures, plain.meta))
