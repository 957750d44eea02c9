"""Vehicle fleets against exact results (validation.md, Logistics) and flow identities."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import twin
from twin.scenario.load import load


def write_scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text))
    return path

LOAD, UNLOAD, METRES, V_LOADED, V_EMPTY = 5.0, 5.0, 30.0, 1.5, 2.0
TRIP_S = LOAD + METRES / V_LOADED + UNLOAD  # 30 s, the formula of validation.md
CYCLE_S = TRIP_S + METRES / V_EMPTY  # and back empty: 45 s per unit


def test_single_agv_trip_time_is_exact(cases) -> None:
    """Trip = distance / speed + load + unload, exactly; the empty run back likewise."""
    doc = twin.run(load(cases.path("agv_shuttle.yaml"))).summary()
    agv = doc["fleets"]["agv"]
    assert agv["trip_h"]["mean"] == pytest.approx(TRIP_S / 3600, rel=1e-12)
    # a is freed when loading ends and asks again 10 s later; the AGV arrives one cycle
    # after it began loading: the request waits cycle - load - 10 s = 30 s, every time
    assert agv["response_h"]["mean"] == pytest.approx((CYCLE_S - LOAD - 10) / 3600, rel=1e-12)
    # the AGV is the bottleneck: one unit per cycle, so 80 per hour (+-1 unit in 10 h)
    assert doc["products"]["tray"]["throughput_per_h"]["mean"] == pytest.approx(
        3600 / CYCLE_S, abs=0.1)
    assert doc["bottleneck"]["resource"] == "agv"
    states = agv["states"]
    assert states["moving_loaded"] == pytest.approx(METRES / V_LOADED / CYCLE_S, abs=1e-3)
    assert states["moving_empty"] == pytest.approx(METRES / V_EMPTY / CYCLE_S, abs=1e-3)
    assert sum(states.values()) == pytest.approx(1.0, abs=1e-12)
    # energy = sum of power x time per state, exactly
    hours = 10.0
    expected = hours * (2.0 * states["moving_loaded"] + 1.0 * states["moving_empty"]
                        + 0.1 * states["idle"])
    assert agv["energy_kwh"]["mean"] == pytest.approx(expected, rel=1e-9)
    assert doc["energy"]["by_area"]["logistics"]["kwh"]["mean"] == pytest.approx(expected)
    km = doc["fleets"]["agv"]["distance_km_per_h"]["mean"]
    assert km == pytest.approx(2 * METRES / 1000 * 3600 / CYCLE_S, rel=0.01)


def test_the_nearest_idle_vehicle_is_sent(tmp_path) -> None:
    """Two AGVs at a; the first carries the unit to b (100 m). When b asks, the nearest idle
    vehicle is that one, at b (no wait), not the other, idle longer but 100 m away."""
    path = write_scenario(tmp_path, """\
        name: nearest vehicle
        run: {horizon: "200 s"}
        products:
          tray: {route: [a, b, c], release: {conwip: 1}, transport: agv}
        stations:
          a: {process_time: "1 s"}
          b: {process_time: "1 s"}
          c: {process_time: "1000 s"}
        logistics:
          points: {a: [0, 0], b: [100, 0], c: [110, 0]}
          paths: [[a, b], [b, c]]
          fleets:
            agv: {vehicles: 2, speed_loaded: 1, speed_empty: 1, home: a}
        """)
    res = twin.run(load(path))
    agv = res.summary()["fleets"]["agv"]
    m = res.measures.set_index("measure")["value"]
    assert m["trips"] == 2
    assert agv["response_h"]["mean"] == 0.0  # the longest idle would have taken 100 s
    assert m["distance_km"] == pytest.approx(0.110)  # no empty run at all
    # trips: a -> b 100 m, b -> c 10 m at 1 m/s, no load or unload time
    assert agv["trip_h"]["mean"] == pytest.approx(55 / 3600)


def test_vehicles_are_sent_only_to_a_free_place_and_flow_balances(tmp_path) -> None:
    """b (60 s) limits the line. A vehicle is sent only once b has a place for its unit
    (reserved), so none ever waits loaded at b's full buffer; none is lost either."""
    path = write_scenario(tmp_path, """\
        name: vehicles feed a slow station
        run: {horizon: "20 h", warmup: "1 h", replications: 3, seed: 5}
        products:
          tray: {route: [a, b], release: saturated, transport: agv}
        stations:
          a: {process_time: {exponential: "20 s"}, buffer: 0}
          b: {process_time: "60 s", buffer: 1}
        logistics:
          points: {a: [0, 0], b: [20, 0]}
          paths: [[a, b]]
          fleets:
            agv: {vehicles: 3, speed_loaded: 1, load_time: "2 s", unload_time: "2 s", home: a}
        """)
    res = twin.run(load(path))
    doc = res.summary()
    throughput = doc["products"]["tray"]["throughput_per_h"]["mean"]
    assert 55 < throughput <= 60 + 1 / 20  # b's capacity (one unit of edge effect)
    assert doc["fleets"]["agv"]["states"]["waiting"] == 0.0
    assert doc["bottleneck"]["station"] == "b"
    assert doc["deadlocks"] == []
    m = res.measures
    for r in range(3):
        sub = m[(m.replication == r) & (m.kind.isin(["product", "system"]))].set_index("measure")["value"]
        assert sub["released"] - sub["finished"] == sub["wip_end"] - sub["wip_start"]
    # Little's law holds with units on vehicles counted in the WIP
    wip, check = doc["wip"]["mean"], doc["checks"]["littles_law_wip"]["mean"]
    assert check == pytest.approx(wip, rel=0.03)


def test_a_vehicle_waits_when_its_reserved_machine_breaks_down(tmp_path) -> None:
    """b has no buffer: a vehicle is sent when b's machine is idle, but if that machine
    fails before the vehicle arrives, the vehicle waits loaded until the repair."""
    path = write_scenario(tmp_path, """\
        name: vehicles wait for a repair
        run: {horizon: "50 h", seed: 8}
        products:
          tray: {route: [a, b], release: saturated, transport: agv}
        stations:
          a: {process_time: {exponential: "30 s"}, buffer: 0}
          b: {process_time: "15 s", buffer: 0,
              failures: {mtbf: {exponential: "5 min"}, mttr: {exponential: "2 min"}}}
        logistics:
          points: {a: [0, 0], b: [40, 0]}
          paths: [[a, b]]
          fleets:
            agv: {vehicles: 2, speed_loaded: 1, home: a}
        """)
    res = twin.run(load(path))
    doc = res.summary()
    assert doc["fleets"]["agv"]["states"]["waiting"] > 0.01
    assert doc["deadlocks"] == []
    m = res.measures.set_index("measure")["value"]
    assert m["released"] - m["finished"] == m["wip_end"] - m["wip_start"]


def test_transport_deadlock_is_diagnosed(tmp_path) -> None:
    """Rework sends units back from b to a while a's finished unit waits for a place at b:
    neither move can ever be made. Reported with both stations, at once."""
    path = write_scenario(tmp_path, """\
        name: transport deadlock
        run: {horizon: "1000 h", seed: 2}
        products:
          tray:
            route: [a, {station: b, rework: {p: 0.5, to: a}}]
            release: saturated
            transport: agv
        stations:
          a: {process_time: "10 s", buffer: 0}
          b: {process_time: "10 s", buffer: 0}
        logistics:
          points: {a: [0, 0], b: [10, 0]}
          paths: [[a, b]]
          fleets:
            agv: {vehicles: 1, speed_loaded: 1, home: a}
        """)
    res = twin.run(load(path))
    doc = res.summary()
    assert len(doc["deadlocks"]) == 1
    dl = doc["deadlocks"][0]
    assert dl["stations"] == ["a", "b"]
    assert "vehicles" not in dl  # the vehicle is free: it is the places that are missing
    assert dl["time_h"] < 1.0  # a 1-in-2 rework jams within minutes, not at the horizon
    assert doc["run"]["failed_replications"]


def test_flowline_refuses_transport(tmp_path, cases) -> None:
    with pytest.raises(Exception) as info:
        twin.run(load(cases.path("agv_shuttle.yaml"), overrides=["run.engine=flowline"]))
    assert "transport" in str(info.value) and "engine: simpy" in str(info.value)


SC_S = 30 * (1 + (2 / 3) ** 2 / 3) + 2 * 5  # Bozer & White single command, 44.444 s


def test_asrs_single_command_cycle_bozer_white(cases, check) -> None:
    """Store and retrieval cycles with random storage average E[SC] = T(1 + b²/3) + 2 t_pd."""
    doc = twin.run(load(cases.path("asrs_single_command.yaml"))).summary()
    wh = doc["stations"]["asrs"]["warehouse"]
    check.in_ci(wh["store_cycle_h"], SC_S / 3600, "store cycle (h)")
    check.in_ci(wh["retrieve_cycle_h"], SC_S / 3600, "retrieval cycle (h)")
    # Little's law in the store: units stored = arrival rate x time in a place (dwell 1 h
    # plus the store cycle's return trip and the wait for a crane, which is short here)
    rate = doc["products"]["tray"]["throughput_per_h"]["mean"]
    in_store = wh["in_store_h"]["mean"]
    assert 1.0 < in_store < 1.05
    assert wh["stored_mean"]["mean"] == pytest.approx(rate * (in_store + SC_S / 2 / 3600),
                                                      rel=0.05)


DC_S = 30 / 30 * (40 + 15 * (2 / 3) ** 2 - (2 / 3) ** 3) + 4 * 5  # dual command, 66.370 s


def test_asrs_dual_command_cycle_bozer_white(cases, check) -> None:
    """Dual commands (a store and a retrieval in one trip) with random storage average
    E[DC] = (T/30)(40 + 15b² − b³) + 4 t_pd; the single cycles made when only one kind
    waits still average E[SC]. Dual cycles let one crane keep up with a unit every 70 s,
    which single commands (2 E[SC] = 88.9 s per unit) cannot: their throughput is the
    crane's, 1 / (2 E[SC])."""
    doc = cases.summary("asrs_dual_command.yaml")
    wh = doc["stations"]["asrs"]["warehouse"]
    check.in_ci(wh["dual_cycle_h"], DC_S / 3600, "dual-command cycle (h)")
    check.in_ci(wh["store_cycle_h"], SC_S / 3600, "single store cycle (h)", 0.15)
    finished = doc["products"]["tray"]["finished"]["mean"]
    assert wh["dual_cycles"]["mean"] > 0.5 * finished  # most units leave in dual cycles
    check.in_ci(doc["products"]["tray"]["throughput_per_h"], 3600 / 70, "throughput (dual)")
    single = cases.summary("asrs_dual_command.yaml", "stations.asrs.warehouse.commands=single")
    assert single["stations"]["asrs"]["warehouse"]["dual_cycles"]["mean"] == 0
    check.in_ci(single["products"]["tray"]["throughput_per_h"], 3600 / (2 * SC_S),
                "throughput (single commands, crane-bound)")


def test_a_full_warehouse_whose_output_is_blocked_deadlocks(tmp_path) -> None:
    """Rework after grading sends units back into the warehouse, whose places are all taken
    and whose cranes hold retrieved units for the full grading station: a deadlock of the
    warehouse and the station, reported at once rather than a run at zero throughput."""
    path = write_scenario(tmp_path, """\
        name: full warehouse
        run: {horizon: "100 d", seed: 1}
        products:
          cell:
            route: [fill, aging, {station: grade, rework: {p: 0.5, to: aging}}]
        stations:
          fill: {process_time: "10 s", buffer: 0}
          aging:
            process_time: "1 h"
            buffer: 0
            warehouse: {places: 20, cranes: 1, rack: {length: 10, height: 5},
                        speed: {horizontal: 2, vertical: 1}}
          grade: {process_time: "60 s", buffer: 0}
        """)
    doc = twin.run(load(path)).summary()
    assert len(doc["deadlocks"]) == 1
    dl = doc["deadlocks"][0]
    assert dl["stations"] == ["aging", "grade"]
    assert dl["time_h"] < 24
