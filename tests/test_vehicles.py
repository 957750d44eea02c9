"""Vehicle fleets in the engine: deadlock graph with vehicles, reservations, dispatch."""

from __future__ import annotations

import textwrap

import pytest

from twin.engine.replication import Replication
from twin.engine.stations import Deadlock, check_deadlock
from twin.model import build
from twin.scenario.load import load

SCENARIO = """\
name: two stations and a fleet
run: {horizon: "1 h"}
products:
  tray: {route: [a, b], transport: agv}
stations:
  a: {process_time: "10 s", buffer: 0}
  b: {process_time: "10 s", buffer: 0}
logistics:
  points: {a: [0, 0], b: [10, 0]}
  paths: [[a, b]]
  fleets:
    agv: {vehicles: 2, speed_loaded: 1, home: a}
"""


@pytest.fixture
def rep(tmp_path) -> Replication:
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(SCENARIO))
    return Replication(build(load(path)), 0, 0, 0.0)


def test_deadlock_of_vehicles_waiting_at_a_station_that_waits_for_them(rep) -> None:
    """Both vehicles wait loaded at b; b's machine waits for the fleet: a closed set."""
    a, b = rep.stations
    fleet = rep.fleets[0]
    for v in fleet.vehicles:
        v.blocked_on = b
    fleet.n_waiting = 2
    b.machines[0].blocked_on = fleet
    b.n_blocked = 1
    with pytest.raises(Deadlock) as info:
        check_deadlock(b, 7200.0)
    record = info.value.record()
    assert record["stations"] == ["b"]
    assert record["vehicles"] == ["agv/0", "agv/1"]
    assert record["time_h"] == 2.0
    assert "every vehicle of agv waits" in str(info.value)


def test_no_deadlock_while_one_vehicle_can_still_move(rep) -> None:
    a, b = rep.stations
    fleet = rep.fleets[0]
    fleet.vehicles[0].blocked_on = b
    fleet.n_waiting = 1  # the other vehicle is free
    b.machines[0].blocked_on = fleet
    b.n_blocked = 1
    check_deadlock(b, 10.0)  # nothing raised


def test_reserved_places_are_not_offered_to_others(rep) -> None:
    """A place reserved for a unit on a vehicle is refused to a direct sender."""
    a, b = rep.stations
    b.idle.append(b.machines[0])
    b.incoming = 1
    assert b.room() == 0
    unit = rep.release(0, 0.0)
    assert not b.offer(unit, 0.0)
    b.incoming = 0
    assert b.room() == 1
