"""Vehicle fleets as SimPy processes: units carried between stations over the path network.

A machine that finishes a unit whose product travels by a fleet holds it, blocked, and asks
the next station for a place (`Station.ask_place`): a free place not promised to anyone is
reserved at once, otherwise the move waits in the station's line of blocked senders, first
come first served, for the next place that frees. With its place reserved the move goes to
the fleet (`Fleet.ready`), which sends its idle vehicle nearest to the pickup (by path
distance; ties to the lowest number) or, when none is idle, keeps it until a vehicle frees,
oldest first. A vehicle drives empty to the pickup, loads (the machine is free again),
drives loaded, unloads and sets the unit in its reserved place; only if the reserved machine
broke down meanwhile does it wait there, loaded. Vehicles share the paths without hindering
one another (no congestion), at their loaded or empty speed.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import simpy

from twin.engine.accounting import ActivePeriods, StateClock, activity_observer
from twin.model import (IDLE, LOADING, MOVING_EMPTY, MOVING_LOADED, UNLOADING, VEHICLE_STATES,
                        WAITING, FleetModel)
from twin.streams import draws

# Roser's active period method for a vehicle: working for a move (waiting loaded at a full
# buffer is blocked, idle is starved).
ACTIVE_VEHICLE_STATES = frozenset((MOVING_LOADED, MOVING_EMPTY, LOADING, UNLOADING))

if TYPE_CHECKING:
    from twin.engine.replication import Replication
    from twin.engine.stations import Station, Unit


class Move:
    """A request to carry `unit` from station `src` to station `dst`."""

    __slots__ = ("unit", "src", "dst", "loaded", "asked", "fleet", "machine")

    def __init__(self, unit: Unit, src: Station, dst: Station, loaded: simpy.Event, now: float,
                 fleet: Fleet, machine):
        self.unit, self.src, self.dst, self.loaded, self.asked = unit, src, dst, loaded, now
        self.fleet, self.machine = fleet, machine  # the machine holding the unit meanwhile


class Vehicle(StateClock):
    """One vehicle: a StateClock over VEHICLE_STATES, where it is, and what it waits on."""

    __slots__ = ("fleet", "index", "at", "wake", "blocked_on")

    def __init__(self, fleet: Fleet, index: int, now: float):
        super().__init__(len(VEHICLE_STATES), IDLE, now,
                         activity_observer(fleet.active, ACTIVE_VEHICLE_STATES))
        self.fleet = fleet
        self.index = index
        self.at = fleet.spec.home
        self.wake: simpy.Event | None = None
        self.blocked_on: Station | None = None

    @property
    def name(self) -> str:
        return f"{self.fleet.spec.name}/{self.index}"


class Fleet:
    """A fleet's vehicles, its idle ones, its waiting requests and its counters."""

    def __init__(self, spec: FleetModel, rep: Replication):
        self.spec = spec
        self.distance = rep.model.distances
        # active (Roser) while every vehicle is working, like a station's machines
        self.active = ActivePeriods(spec.vehicles, rep.open_groups,
                                    len(rep.model.stations) + spec.index, rep.bottleneck,
                                    rep.model.event_log)
        self.vehicles = [Vehicle(self, i, 0.0) for i in range(spec.vehicles)]
        self.idle: list[Vehicle] = []
        self.requests: deque[Move] = deque()
        self.n_waiting = 0  # vehicles loaded at a full buffer
        self.load_times = draws(spec.load_time.sample, rep._rng("load", spec.name))
        self.unload_times = draws(spec.unload_time.sample, rep._rng("unload", spec.name))
        self.restart(0.0)

    def restart(self, now: float) -> None:
        """Delete statistics at the end of warm-up."""
        self.trips = 0
        self.metres = 0.0
        self.response_sum = 0.0  # request to the vehicle's arrival, over the trips
        self.trip_sum = 0.0  # start of loading to end of unloading
        for v in self.vehicles:
            v.restart(now)
        self.active.restart(now)

    def ready(self, move: Move) -> None:
        """A place is reserved for the move's unit: send the idle vehicle nearest to the
        pickup, or queue the move until a vehicle frees (first come, first served)."""
        move.machine.blocked_on = self  # now it waits for a vehicle only
        if self.idle:
            pickup = move.src.spec.point
            best = min(self.idle, key=lambda v: (self.distance[v.at][pickup], v.index))
            self.idle.remove(best)
            best.wake.succeed(move)
        else:
            self.requests.append(move)

    # --- what can make progress (deadlock detection) -------------------------------
    def stuck(self) -> bool:
        """Every vehicle is loaded at a full buffer: none will come for a unit."""
        return self.n_waiting == self.spec.vehicles

    def waits_on(self) -> list[Station]:
        return [v.blocked_on for v in self.vehicles if v.blocked_on is not None]


def run_vehicle(env: simpy.Environment, v: Vehicle, fleet: Fleet, rep: Replication):
    """The life of one vehicle: take the oldest request (or wait for one), carry the unit."""
    spec = fleet.spec
    timeout = env.timeout
    distance = fleet.distance
    log = rep.events
    from twin.engine.stations import check_deadlock  # stations imports this module

    while True:
        move = fleet.requests.popleft() if fleet.requests else None
        if move is None:
            v.enter(IDLE, env.now)
            v.wake = env.event()
            fleet.idle.append(v)
            move = yield v.wake
            v.wake = None
        pickup, drop = move.src.spec.point, move.dst.spec.point
        metres = distance[v.at][pickup]
        if metres > 0:
            v.enter(MOVING_EMPTY, env.now)
            yield timeout(metres / spec.speed_empty)
        v.at = pickup
        loading_at = env.now
        v.enter(LOADING, loading_at)
        yield timeout(next(fleet.load_times))
        move.loaded.succeed()  # the machine is free again
        loaded = distance[pickup][drop]
        if loaded > 0:
            v.enter(MOVING_LOADED, env.now)
            yield timeout(loaded / spec.speed_loaded)
        v.at = drop
        v.enter(UNLOADING, env.now)
        yield timeout(next(fleet.unload_times))
        now = env.now
        fleet.trips += 1
        fleet.metres += metres + loaded
        fleet.response_sum += loading_at - move.asked
        fleet.trip_sum += now - loading_at
        unit = move.unit
        if log is not None:
            log.append((unit.id, unit.product, "transport", move.src.spec.index, move.asked, now))
        target = move.dst
        if not target.offer(unit, now, reserved=True):  # its machine broke down meanwhile
            v.enter(WAITING, now)
            wait = env.event()
            target.wait_owed(unit, wait)  # it had its place: first in line for the next
            v.blocked_on = target
            fleet.n_waiting += 1
            check_deadlock(target, now)
            yield wait
            fleet.n_waiting -= 1
            v.blocked_on = None
            if log is not None:
                log.append((unit.id, unit.product, "waiting", target.spec.index, now, env.now))
