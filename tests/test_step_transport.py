"""A route step's own `transport`: which moves a fleet carries, move by move."""

from __future__ import annotations

import pytest
import yaml

import twin
from twin.errors import ScenarioError

H = 3600.0
DOC = """
name: some moves by AGV
run: {horizon: "100 s"}
products:
  p:
    route: [a, {station: b, transport: agv}, c]
    release: {interarrival: "50 s"}
stations:
  a: {process_time: "10 s"}
  b: {process_time: "10 s"}
  c: {process_time: "10 s"}
logistics:
  points: {a: [0, 0], b: [20, 0]}
  paths: [[a, b]]
  fleets:
    agv: {vehicles: 1, speed_loaded: 2, home: a, load_time: "1 s", unload_time: "1 s"}
"""


def run(doc: str, **kw):
    return twin.run(twin.Scenario.model_validate(yaml.safe_load(doc)), event_log=True, **kw)


def timeline(res) -> dict[tuple[int, str, str], tuple[float, float]]:
    ev = res.events
    return {(int(u), a, s): (round(b * H, 9), round(e * H, 9)) for u, a, s, b, e in
            ev[["unit", "activity", "station", "start_h", "end_h"]].itertuples(index=False)}


def test_only_the_move_into_the_step_goes_by_vehicle() -> None:
    """Unit 1 arrives at 50 s (the first arrival after one gap), is processed at a 50-60 s;
    the AGV (at a) loads it 60-61, drives 20 m at 2 m/s (71), unloads (72); b processes it
    72-82 s and hands it straight to c (no point, no vehicle), which processes 82-92 s."""
    t = timeline(run(DOC))
    assert t[1, "process", "a"] == (50, 60)
    assert t[1, "transport", "a"] == (60, 72)
    assert t[1, "process", "b"] == (72, 82)
    assert t[1, "process", "c"] == (82, 92)
    assert not any(k[1] == "transport" and k[2] == "b" for k in t)


def test_direct_overrides_the_products_fleet() -> None:
    """The product's fleet carries every move but the one into c, marked `direct`: the same
    timeline as above."""
    doc = DOC.replace("route: [a, {station: b, transport: agv}, c]",
                      "route: [a, b, {station: c, transport: direct}]\n    transport: agv")
    t = timeline(run(doc))
    assert t[1, "transport", "a"] == (60, 72)
    assert t[1, "process", "c"] == (82, 92)
    assert not any(k[1] == "transport" and k[2] == "b" for k in t)


REWORK = """
name: rework by AGV
run: {horizon: "200 s"}
products:
  p:
    route: [{station: a, transport: agv}, {station: b, rework: {p: 0.999999, to: a}}]
    release: {interarrival: "1000 s"}
stations:
  a: {process_time: "10 s"}
  b: {process_time: "10 s"}
logistics:
  points: {a: [0, 0], b: [20, 0]}
  paths: [[a, b]]
  fleets:
    agv: {vehicles: 1, speed_loaded: 2, home: a}
"""


def test_rework_back_to_a_step_takes_that_steps_transport() -> None:
    """One unit starts at a at time 0 (initial work in process): a 0-10 s, then straight
    to b (its step has no transport) 10-20 s; rework (p = 0.999999: every time here) back to a, whose step says
    agv: the AGV, home at a, drives 20 m empty at 2 m/s (30 s) and back loaded (40 s);
    a 40-50, b 50-60, the AGV (now at a) again 60-80, a 80-90, b 90-100, ..."""
    ev = run(REWORK + "initial_wip: {a: {p: 1}}\n").events
    rows = [(a, s, round(b * H, 9), round(e * H, 9)) for a, s, b, e in
            ev[["activity", "station", "start_h", "end_h"]].itertuples(index=False)
            if a in ("process", "transport")]
    assert rows[:8] == [("process", "a", 0, 10), ("process", "b", 10, 20),
                        ("transport", "b", 20, 40), ("process", "a", 40, 50),
                        ("process", "b", 50, 60), ("transport", "b", 60, 80),
                        ("process", "a", 80, 90), ("process", "b", 90, 100)]


def load_text(tmp_path, text: str):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return twin.load(path)


def test_unknown_fleet_on_a_step_is_named_with_a_suggestion(tmp_path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_text(tmp_path, DOC.replace("transport: agv}", "transport: agx}"))
    msg = str(info.value)
    assert "products.p.route[1].transport" in msg and "'agx'" in msg and "agv" in msg


def test_a_fleet_may_not_be_called_direct(tmp_path) -> None:
    text = DOC.replace("transport: agv}", "transport: direct}").replace("    agv: {", "    direct: {")
    with pytest.raises(ScenarioError) as info:
        load_text(tmp_path, text)
    assert "logistics.fleets.direct" in str(info.value)


def test_a_station_reached_by_vehicle_needs_a_point(tmp_path) -> None:
    """c is reached directly and needs no point; carried into c, it does."""
    with pytest.raises(ScenarioError) as info:
        load_text(tmp_path, DOC.replace("route: [a, {station: b, transport: agv}, c]",
                                        "route: [a, b, {station: c, transport: agv}]"))
    msg = str(info.value)
    assert "stations.c" in msg and "fleet agv" in msg


def test_the_flowline_engine_names_the_step(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(DOC)
    problems = twin.check(path, ["run.engine=flowline"])
    assert len(problems) == 1
    assert "products.p.route[1].transport" in str(problems[0])


TWO_FLEETS = """
name: two fleets on one route
run: {horizon: "1 h"}
products:
  p:
    route: [a, {station: b, transport: small}, {station: c, transport: big}]
stations:
  a: {process_time: "60 s"}
  b: {process_time: "60 s"}
  c: {process_time: "60 s"}
logistics:
  points: {a: [0, 0], b: [10, 0], c: [1000, 0]}
  paths: [[a, b], [b, c]]
  fleets:
    small:
      vehicles: 1
      speed_loaded: 1
      home: a
      power_kw: {moving_loaded: 36}
      battery: {capacity_kwh: 10, recharge_below: 0.3, charge_kw: 5, chargers: [a]}
    big: {vehicles: 1, speed_loaded: 1, home: b}
"""


def test_each_fleets_battery_check_counts_only_its_own_moves(tmp_path) -> None:
    """small carries a -> b (10 m loaded at 36 kW: 0.1 kWh, within its 3 kWh threshold);
    b -> c (1000 m: 10 kWh) is big's. Given b -> c as well, small's check fails."""
    path = tmp_path / "s.yaml"
    path.write_text(TWO_FLEETS)
    assert twin.check(path) == []
    path.write_text(TWO_FLEETS.replace("transport: big}", "transport: small}"))
    problems = twin.check(path)
    assert len(problems) == 1 and "logistics.fleets.small.battery.recharge_below" in \
        str(problems[0])
    res = twin.run(twin.load(_write(tmp_path, TWO_FLEETS)), event_log=True)
    ev = res.events
    moved = ev[ev.activity == "transport"]
    assert len(moved) > 0 and set(moved.station) == {"a", "b"}
    m = res.measures
    trips = dict(m[m.measure == "trips"][["entity", "value"]].itertuples(index=False))
    assert trips["small"] > 0 and trips["big"] > 0


def _write(tmp_path, text: str):
    path = tmp_path / "run.yaml"
    path.write_text(text)
    return path


def test_a_move_a_conveyor_carries_is_not_in_the_battery_check(tmp_path) -> None:
    """As above, with the long b -> c move on a conveyor: small carries only a -> b."""
    text = TWO_FLEETS.replace("transport: big}", "transport: small}").replace(
        "    big: {vehicles: 1, speed_loaded: 1, home: b}",
        "    big: {vehicles: 1, speed_loaded: 1, home: b}\n"
        "  conveyors:\n    b-to-c: {from: b, to: c, length: 20, speed: 1, pitch: 1}")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    assert twin.check(path) == []


def test_a_step_with_its_own_process_time_keeps_its_transport() -> None:
    """b's step has a process time of its own (8 s) and the AGV carries units into it: the
    timeline of the first test with b taking 8 s (a 50-60, AGV 60-72, b 72-80, c 80-90)."""
    doc = DOC.replace("{station: b, transport: agv}",
                      '{station: b, transport: agv, process_time: "8 s"}')
    t = timeline(run(doc))
    assert t[1, "transport", "a"] == (60, 72)
    assert t[1, "process", "b"] == (72, 80)
    assert t[1, "process", "c"] == (80, 90)
