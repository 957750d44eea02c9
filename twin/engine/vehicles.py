"""Vehicle fleets as SimPy processes: units carried between stations over the path network.

A machine that finishes a unit whose product travels by a fleet holds it, blocked, and asks
the next station for a place (`Station.ask_place`): a free place not promised to anyone is
reserved at once, otherwise the move waits in the station's line of blocked senders, first
come first served, for the next place that frees. With its place reserved the move goes to
the fleet (`Fleet.ready`), which sends its idle vehicle nearest to the pickup (by path
distance; ties to the lowest number) or, when none is idle, keeps it until a vehicle frees,
oldest first. A vehicle drives empty to the pickup, loads (the machine is free again),
drives loaded, unloads and sets the unit in its reserved place; only if the reserved machine
broke down meanwhile does it wait there, loaded. Vehicles share the paths at their loaded or
empty speed without hindering one another, except on paths with a capacity, which they
drive segment by segment (`twin.engine.traffic`). With lifts a vehicle follows
its fleet's fastest route (`FleetModel.routes_loaded` / `routes_empty`), riding lifts with
its unit on the way (`twin.engine.lifts`).

A fleet with a battery has `BatteryVehicle`s, whose charge follows their state, and
`ChargingPoint`s; when and where they recharge is `twin.engine.charging`.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import simpy

from twin.engine.accounting import ActivePeriods, Area, StateClock, activity_observer
from twin.engine.traffic import Segment, drive_segment
from twin.errors import RunError
from twin.model import (CHARGING, IDLE, LOADING, MOVING_EMPTY, MOVING_LOADED, RIDING_LIFT,
                        ALL_VEHICLE_STATES, TO_CHARGER, UNLOADING, WAITING, WAITING_CHARGER,
                        FleetModel)
from twin.streams import draws
from twin.units import HOUR

# Roser's active period method for a vehicle: working for a move (riding a lift included),
# or recharging (like a machine's repair, the vehicle itself holds up the flow); waiting
# loaded at a full buffer is blocked, idle is starved, and waiting for a lift car is held
# up by the lift (inactive, like blocked: the lift is the active resource then).
ACTIVE_VEHICLE_STATES = frozenset((MOVING_LOADED, MOVING_EMPTY, LOADING, UNLOADING,
                                   TO_CHARGER, WAITING_CHARGER, CHARGING, RIDING_LIFT))
# what a vehicle is doing in each state, for messages
DOING = ("driving loaded", "driving empty", "loading", "unloading",
         "waiting loaded for a place or a fuller load", "idle", "driving to a charger",
         "waiting for a charging place", "charging", "waiting for a lift car",
         "riding a lift")
FLAT = 1e-9  # a charge below -FLAT x capacity is a flat battery, not rounding

if TYPE_CHECKING:
    from twin.engine.lifts import Lift
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
    """One vehicle: a StateClock over ALL_VEHICLE_STATES, where it is, and what it waits on."""

    __slots__ = ("fleet", "index", "at", "wake", "blocked_on", "cargo", "joined")

    def __init__(self, fleet: Fleet, index: int, now: float):
        super().__init__(len(ALL_VEHICLE_STATES), IDLE, now,
                         activity_observer(fleet.active, ACTIVE_VEHICLE_STATES))
        self.fleet = fleet
        self.index = index
        self.at = fleet.spec.home
        self.wake: simpy.Event | None = None
        self.blocked_on: Station | None = None
        self.cargo: list[Move] = []  # the moves of its trip (while collecting: so far)
        self.joined: simpy.Event | None = None  # while it waits at a pickup for more units

    @property
    def name(self) -> str:
        return f"{self.fleet.spec.name}/{self.index}"


class BatteryVehicle(Vehicle):
    """A vehicle with a battery: its charge (kWh) falls at its power in each state and, while
    it charges, rises at the charger's power less its own draw. The charge is brought up to
    date at every state change (`level` holds it at `since`)."""

    __slots__ = ("level", "rate", "topped", "spare")

    def __init__(self, fleet: Fleet, index: int, now: float):
        super().__init__(fleet, index, now)
        b = fleet.spec.battery
        self.level = b.initial
        self.topped = False  # charged to charge_to since its last move (no opportunity charge)
        # charging by opportunity: any move may take it, so it holds up nothing (inactive
        # for Roser's method, like idle); set before entering CHARGING, cleared on leaving it
        self.spare = False
        self.on_change = self._activity
        # kWh per second in each state
        rate = [-kw / HOUR for kw in fleet.spec.power_kw]
        rate[CHARGING] += b.charge_kw / HOUR
        self.rate = tuple(rate)

    def _activity(self, old: int, new: int, t: float) -> None:
        """Tell the fleet's active periods when the vehicle becomes active or not."""
        was = old in ACTIVE_VEHICLE_STATES and not (old == CHARGING and self.spare)
        now_active = new in ACTIVE_VEHICLE_STATES and not (new == CHARGING and self.spare)
        if was != now_active:
            self.fleet.active.change(1 if now_active else -1, t)

    def charge_at(self, now: float) -> float:
        """The battery's charge (kWh) at `now`, in the current state since `since`."""
        return self.level + self.rate[self.state] * (now - self.since)

    def enter(self, state: int, now: float) -> None:
        old = self.state
        if state == old:
            return
        self.check(now)
        self.level = self.charge_at(now)
        if old == CHARGING:
            self.fleet.charging.add(-1, now)
        elif state == CHARGING:
            self.fleet.charging.add(1, now)
        super().enter(state, now)
        if old == CHARGING:
            self.spare = False

    def check(self, now: float) -> None:
        """Stop the run if the battery ran flat before `now` (it was drained, not charged)."""
        level = self.charge_at(now)
        b = self.fleet.spec.battery
        if level >= -FLAT * b.capacity:
            return
        drain = -self.rate[self.state]
        flat_at = self.since + max(0.0, self.charge_at(self.since)) / drain
        name = self.fleet.spec.name
        raise RunError(
            f"the battery of vehicle {self.name} ran flat at t = {flat_at / HOUR:.6g} h while "
            f"{DOING[self.state]}: nothing in the charging policy "
            f"covers that long in this state; raise logistics.fleets.{name}.battery."
            f"recharge_below, add charging places, or lower power_kw."
            f"{ALL_VEHICLE_STATES[self.state]}")

    def restart(self, now: float) -> None:
        self.check(now)  # (a battery that ran flat in the warm-up: stop at the right time)
        self.level = self.charge_at(now)
        super().restart(now)


class ChargingPoint:
    """The charging places of a fleet at one point, and the vehicles waiting for one (first
    come, first served); a place is a vehicle's from when it is given until it has charged."""

    __slots__ = ("point", "free", "line")

    def __init__(self, point: int, places: int):
        self.point = point
        self.free = places
        self.line: deque[simpy.Event] = deque()

    def take(self, env: simpy.Environment) -> simpy.Event | None:
        """A free place now (None), or the event that gives the next one that frees."""
        if self.free:
            self.free -= 1
            return None
        turn = env.event()
        self.line.append(turn)
        return turn

    def leave(self) -> None:
        """A vehicle has charged: its place goes to the first in line, or is free."""
        if self.line:
            self.line.popleft().succeed()
        else:
            self.free += 1


class Fleet:
    """A fleet's vehicles, its idle ones, its waiting requests and its counters."""

    def __init__(self, spec: FleetModel, rep: Replication):
        self.spec = spec
        self.env = rep.env
        self.distance = rep.model.distances
        # what "nearest" compares: metres, or with lifts the expected seconds driving empty
        self.reach = spec.time_empty if spec.time_empty is not None else self.distance
        self.lifts: list[Lift] = rep.lifts
        self.segments: list[Segment] = rep.segments  # limited paths (congestion)
        # active (Roser) while every vehicle is working, like a station's machines
        self.active = ActivePeriods(spec.vehicles, rep.open_groups,
                                    len(rep.model.stations) + spec.index, rep.bottleneck,
                                    rep.model.event_log)
        self.charging = Area()  # vehicles charging now (with a battery)
        self.lift_to_charger = Area()  # vehicles waiting for or riding a lift to a charger
        self.chargers = [ChargingPoint(p, n) for p, n in spec.battery.chargers] \
            if spec.battery else []
        kind = BatteryVehicle if spec.battery else Vehicle
        self.vehicles = [kind(self, i, 0.0) for i in range(spec.vehicles)]
        self.idle: list[Vehicle] = []
        # vehicles charging by opportunity, which a move finding no idle vehicle may take
        self.topping: list[BatteryVehicle] = []
        self.requests: deque[Move] = deque()
        # vehicles of capacity > 1 on their way to a pickup or loading there: a move from
        # the same station to the same station joins one with room (`Fleet.ready`)
        self.collecting: list[Vehicle] = []
        self.n_waiting = 0  # vehicles loaded at a full buffer
        self.load_times = draws(spec.load_time.sample, rep._rng("load", spec.name))
        self.unload_times = draws(spec.unload_time.sample, rep._rng("unload", spec.name))
        self.restart(0.0)

    def restart(self, now: float) -> None:
        """Delete statistics at the end of warm-up."""
        self.trips = 0
        self.carried = 0  # units of the trips counted (more than trips with capacity > 1)
        self.metres = 0.0
        self.response_sum = 0.0  # request to the start of loading, over the units carried
        self.trip_sum = 0.0  # start of loading to end of unloading
        self.charges = 0  # charges begun
        self.opportunity_charges = 0  # of which by opportunity
        self.interrupted = 0  # opportunity charges cut short (for a move or a vehicle in line)
        self.since = now  # start of the period the counters count (charges begun since)
        self.charger_metres = 0.0  # driven to chargers
        for v in self.vehicles:
            v.restart(now)
        self.charging.restart(now)
        self.lift_to_charger.restart(now)
        self.active.restart(now)
        self.battery_start = self.stored(now)

    def grid_integral(self, now: float) -> float:
        """The chargers' draw from the grid since the last restart, kW·s (0 without a
        battery): delivered power / efficiency while a vehicle charges."""
        b = self.spec.battery
        if b is None:
            return 0.0
        return self.charging.integral(now) * b.charge_kw / b.efficiency

    def stored(self, now: float) -> float:
        """kWh in the fleet's batteries at `now` (0 without a battery)."""
        if self.spec.battery is None:
            return 0.0
        return sum(v.charge_at(now) for v in self.vehicles)

    def ready(self, move: Move) -> None:
        """A place is reserved for the move's unit: with `capacity` > 1, join the vehicle
        (the earliest sent) already bound for the same pickup and drop with room left and
        not yet gone from the pickup; else send the idle vehicle nearest to the pickup; with
        opportunity charging, else the fullest vehicle charging by opportunity (ties to the
        nearest, then the lowest number), which stops charging; else queue the move until a
        vehicle frees (first come, first served)."""
        move.machine.blocked_on = self  # now it waits for a vehicle only
        pickup = move.src.spec.point
        for v in self.collecting:
            if v.cargo[0].src is move.src and v.cargo[0].dst is move.dst and \
                    len(v.cargo) < self.spec.capacity:
                v.cargo.append(move)
                if v.joined is not None and not v.joined.triggered:  # waiting for more
                    v.joined.succeed()
                return
        if self.idle:
            best = min(self.idle, key=lambda v: (self.reach[v.at][pickup], v.index))
            self.idle.remove(best)
        elif self.topping:
            now = self.env.now
            best = min(self.topping, key=lambda v: (-v.charge_at(now), self.reach[v.at][pickup],
                                                    v.index))
            self.topping.remove(best)
        else:
            self.requests.append(move)
            return
        if self.spec.capacity > 1:  # bound for the pickup from now: others may join
            best.cargo = [move]
            self.collecting.append(best)
        best.wake.succeed(move)

    # --- what can make progress (deadlock detection) -------------------------------
    def stuck(self) -> bool:
        """Every vehicle is loaded at a full buffer: none will come for a unit."""
        return self.n_waiting == self.spec.vehicles

    def waits_on(self) -> list[Station]:
        return [v.blocked_on for v in self.vehicles if v.blocked_on is not None]


def run_vehicle(env: simpy.Environment, v: Vehicle, fleet: Fleet, rep: Replication):
    """The life of one vehicle: take the oldest request (or wait for one), carry the unit."""
    while True:
        move = fleet.requests.popleft() if fleet.requests else None
        if move is None:
            v.enter(IDLE, env.now)
            v.wake = env.event()
            fleet.idle.append(v)
            move = yield v.wake
            v.wake = None
        yield from carry(env, v, fleet, rep, move)


def travel(env: simpy.Environment, v: Vehicle, fleet: Fleet, to: int, state: int,
           loaded: bool, lift_area: Area | None = None):
    """Drive (in `state`) from where `v` stands to point `to`, riding lifts on the way with
    lifts and waiting for room before each limited segment (`twin.engine.traffic`; the
    wait counts in `state`); returns the metres driven. Without lifts and limited paths:
    one drive along the shortest path.
    `lift_area` counts the vehicle while it waits for or rides a lift (charger trips)."""
    spec = fleet.spec
    speed = spec.speed_loaded if loaded else spec.speed_empty
    routes = spec.routes_loaded if loaded else spec.routes_empty
    if routes is None:
        metres = fleet.distance[v.at][to]
        if metres > 0:
            v.enter(state, env.now)
            yield env.timeout(metres / speed)
        v.at = to
        return metres
    total = 0.0
    for metres, lift, frm, dest in routes[v.at][to]:
        if lift < 0:
            if frm >= 0:  # a limited segment: waiting for room counts in the driving state
                v.enter(state, env.now)
                yield from drive_segment(env, fleet.segments[frm], metres / speed)
            elif metres > 0:
                v.enter(state, env.now)
                yield env.timeout(metres / speed)
            total += metres
        else:
            if lift_area is not None:
                lift_area.add(1, env.now)
            yield from fleet.lifts[lift].ride(v, frm, dest)
            if lift_area is not None:
                lift_area.add(-1, env.now)
    v.at = to
    return total


def _gather(fleet: Fleet, v: Vehicle, move: Move) -> list[Move]:
    """The moves the trip of `v` for `move` takes: `move` (and, with `capacity` > 1, those
    that joined since `Fleet.ready` sent the vehicle), then the oldest moves waiting in the
    fleet's line from the same station to the same station, up to the capacity. The
    vehicle is (still) among the fleet's collecting ones."""
    if v.cargo and v.cargo[0] is move:  # sent by Fleet.ready: already collecting
        cargo = v.cargo
    else:  # (it took the move from the fleet's line itself)
        cargo = [move]
        if fleet.spec.capacity > 1:
            fleet.collecting.append(v)
    room = fleet.spec.capacity - len(cargo)
    if room > 0 and fleet.requests:
        for m in list(fleet.requests):
            if m.src is move.src and m.dst is move.dst:
                fleet.requests.remove(m)
                cargo.append(m)
                room -= 1
                if not room:
                    break
    return cargo


def carry(env: simpy.Environment, v: Vehicle, fleet: Fleet, rep: Replication, move: Move):
    """One trip: empty to the pickup, load, loaded to the drop, unload, set each unit in its
    reserved place (waiting there, loaded, if its reserved machine broke down meanwhile).

    With `capacity` > 1 the trip takes every move waiting from the same station to the same
    station (oldest first, up to the capacity), and moves that become ready while it drives
    to the pickup or loads there join it; the units are loaded one by one, in the order
    their moves came, and unloaded in the same order."""
    timeout = env.timeout
    log = rep.events
    pickup, drop = move.src.spec.point, move.dst.spec.point
    cargo = v.cargo = _gather(fleet, v, move)
    capacity = fleet.spec.capacity
    many = capacity > 1
    wait = fleet.spec.load_wait  # (0 unless many)
    metres = yield from travel(env, v, fleet, pickup, MOVING_EMPTY, False)
    started = env.now
    response = 0.0
    i = 0
    while i < len(cargo):  # (moves that join meanwhile are loaded too)
        m = cargo[i]
        loading_at = env.now
        response += loading_at - m.asked
        v.enter(LOADING, loading_at)
        yield timeout(next(fleet.load_times))
        m.loaded.succeed()  # the machine is free again
        m.dst.on_vehicles += 1
        i += 1
        if many and i == len(cargo):  # a batch machine hands its units over one by one:
            yield timeout(0)  # let it hand over the next now, so that it joins this load
        if i == len(cargo) < capacity and started + wait > env.now:  # a part load: wait
            v.enter(WAITING, env.now)  # for more to join, until `load_wait` after arrival
            v.joined = env.event()
            yield v.joined | timeout(started + wait - env.now)
            v.joined = None
    if many:
        fleet.collecting.remove(v)
    loaded = yield from travel(env, v, fleet, drop, MOVING_LOADED, True)
    last = cargo[-1]
    for m in cargo:
        v.enter(UNLOADING, env.now)
        yield timeout(next(fleet.unload_times))
        now = env.now
        if m is last:  # the trip (and its units) counted when its last unit is set down
            fleet.trips += 1
            fleet.carried += len(cargo)
            fleet.metres += metres + loaded
            fleet.response_sum += response
            fleet.trip_sum += now - started
        yield from _set_down(env, v, log, m, now)
    v.cargo = []


def _set_down(env: simpy.Environment, v: Vehicle, log, move: Move, now: float):
    """Set the move's unit, unloaded at `now`, in its reserved place (waiting loaded for the
    next place that frees there if its reserved machine broke down meanwhile)."""
    fleet = v.fleet
    unit = move.unit
    if log is not None:
        log.append((unit.id, unit.product, "transport", move.src.spec.index, move.asked, now))
    target = move.dst
    target.on_vehicles -= 1
    if not target.offer(unit, now, reserved=True):  # its machine broke down meanwhile
        from twin.engine.stations import check_deadlock  # stations imports this module
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
