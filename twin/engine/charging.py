"""Vehicles with batteries: when they recharge, where, and for how long.

The policy (docs/modelling.md, Batteries and charging): a vehicle whose charge is at or below the fleet's
threshold after setting a unit down, or that reaches it while idle, drives empty to the
nearest charging point with a free place that its charge can reach (else to the nearest
charging point, where it waits in line, first come first served), charges at the charger's
power to `charge_to`, frees the place and is idle there. Such a charge is never interrupted
for a move. With opportunity charging, an idle vehicle below `charge_to` also charges, at the
nearest free place it can reach (it never waits for one); a move that finds no idle vehicle
takes the fullest vehicle charging so (`Fleet.ready`), which frees its place at once, and a
vehicle at the threshold that must wait for a place takes one from a vehicle charging so.
Nothing here draws random numbers: a battery changes no stream.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import simpy

from twin.engine.vehicles import BatteryVehicle, ChargingPoint, Fleet, Move, carry, travel
from twin.model import CHARGING, IDLE, RIDING_LIFT, TO_CHARGER, WAITING_CHARGER, WAITING_LIFT

if TYPE_CHECKING:
    from twin.engine.replication import Replication

LOW = object()  # an idle vehicle's wake-up value: its charge fell to the threshold
FULL = object()  # a vehicle charging by opportunity reached charge_to
YIELD = object()  # ... or must leave its place to a vehicle at the threshold


def charger_for(fleet: Fleet, v: BatteryVehicle, env: simpy.Environment
                ) -> tuple[ChargingPoint, simpy.Event | None]:
    """The charging point `v` drives to and its turn there (None: a place is its now).

    The nearest point (path distance, or with lifts expected time; ties to the one listed
    first) with a free place whose run the vehicle's charge covers; if there is none, the
    nearest point, to wait in line.
    """
    here = fleet.reach[v.at]
    reachable = [c for c in fleet.chargers if math.isfinite(here[c.point])]
    point = free_charger(fleet, v, env.now) or min(reachable, key=lambda c: here[c.point])
    return point, point.take(env)


def free_charger(fleet: Fleet, v: BatteryVehicle, now: float) -> ChargingPoint | None:
    """The nearest charging point (ties to the one listed first) with a free place that the
    charge of `v` can reach; None if there is none."""
    here = fleet.reach[v.at]
    level = v.charge_at(now)
    free = [c for c in fleet.chargers
            if c.free and math.isfinite(here[c.point]) and need_to(fleet, v, c.point) <= level]
    return min(free, key=lambda c: here[c.point]) if free else None


def need_to(fleet: Fleet, v: BatteryVehicle, point: int) -> float:
    """kWh to drive empty (as to a charger) from where `v` stands to `point`. A lift on the
    way counts as the load check counts it (twin.scenario.battery): a wait, in state
    waiting_lift, for a car coming from the lift's farthest stop, and a ride, in state
    riding_lift, with the longest drive-in and drive-out; a line for the car is not
    bounded."""
    spec = fleet.spec
    per_metre = -v.rate[TO_CHARGER] / spec.speed_empty  # kWh per metre
    if spec.routes_empty is None:
        return fleet.distance[v.at][point] * per_metre
    kwh = 0.0
    for metres, lift, frm, to in spec.routes_empty[v.at][point]:
        if lift < 0:
            kwh += metres * per_metre
        else:
            ls = fleet.lifts[lift].spec
            wait = max(ls.travel(s, frm) for s in range(len(ls.stops)))
            ride = ls.load_time.longest + ls.travel(frm, to) + ls.unload_time.longest
            kwh += -v.rate[WAITING_LIFT] * wait - v.rate[RIDING_LIFT] * ride
    return kwh


def recharge(env: simpy.Environment, v: BatteryVehicle, fleet: Fleet):
    """Drive to a charger, wait for a place if none was free, charge to `charge_to`. A
    vehicle that has to wait in line cuts short the fullest charge by opportunity there,
    if any: that place is the next to free, and it is the first in line's."""
    point, turn = charger_for(fleet, v, env)
    if turn is not None:
        _make_room(fleet, point)
    yield from _drive(env, v, fleet, point)
    if turn is not None and not turn.triggered:
        v.enter(WAITING_CHARGER, env.now)
        yield turn
    yield from _charge_full(env, v, fleet, point)


def _drive(env: simpy.Environment, v: BatteryVehicle, fleet: Fleet, point: ChargingPoint):
    """Drive empty, as to a charger, to `point`."""
    metres = yield from travel(env, v, fleet, point.point, TO_CHARGER, False,
                               fleet.lift_to_charger)
    fleet.charger_metres += metres  # (not `+= yield from`: that reads the sum before the drive)


def _charge_full(env: simpy.Environment, v: BatteryVehicle, fleet: Fleet,
                 point: ChargingPoint):
    """Charge at a place of `point` up to `charge_to`, uninterrupted; then free the place."""
    v.enter(CHARGING, env.now)  # (brings v.level up to now)
    fleet.charges += 1
    yield env.timeout(max(0.0, fleet.spec.battery.charge_to - v.level) / v.rate[CHARGING])
    v.topped = True
    _free(fleet, point, env.now)


def top_up(env: simpy.Environment, v: BatteryVehicle, fleet: Fleet, point: ChargingPoint):
    """An opportunity charge at `point`, whose place is the vehicle's already: drive there
    and charge towards `charge_to` unless a move takes the vehicle first. Returns that move,
    or None once charged. A vehicle that arrives at or below the threshold charges as any
    vehicle at the threshold does (to `charge_to`, uninterrupted); one that finds a move
    waiting for a vehicle when it arrives takes it without charging, and one that finds a
    vehicle at the threshold in line for a place there leaves it its place."""
    battery = fleet.spec.battery
    yield from _drive(env, v, fleet, point)
    if v.charge_at(env.now) <= battery.threshold:
        yield from _charge_full(env, v, fleet, point)
        return None
    if fleet.requests or point.line:
        _free(fleet, point, env.now)
        return fleet.requests.popleft() if fleet.requests else None
    v.spare = True  # (inactive while charging so)
    began = env.now
    v.enter(CHARGING, began)  # (brings v.level up to now)
    fleet.charges += 1
    fleet.opportunity_charges += 1
    v.wake = wake = env.event()
    fleet.topping.append(v)
    timer = env.timeout(max(0.0, battery.charge_to - v.level) / v.rate[CHARGING])
    timer.callbacks.append(lambda _: _full(fleet, v, wake))
    move = yield wake
    v.wake = None
    if move is FULL:
        v.topped = True
    elif began >= fleet.since:  # counted where it began (charges begun in the period)
        if env.now > began:
            fleet.interrupted += 1
        else:  # taken the instant it began: no charge at all
            fleet.charges -= 1
            fleet.opportunity_charges -= 1
    if move is FULL or move is YIELD:
        move = None
    _free(fleet, point, env.now)
    return move


def _full(fleet: Fleet, v: BatteryVehicle, wake: simpy.Event) -> None:
    """The vehicle charging by opportunity reached charge_to: unless a move took it first,
    a move can no longer take it from the charger (it is done)."""
    if not wake.triggered:
        fleet.topping.remove(v)
        wake.succeed(FULL)


def _make_room(fleet: Fleet, point: ChargingPoint) -> None:
    """Stop the fullest vehicle charging by opportunity at `point`, if any (ties to the
    lowest number): it leaves its place (to the first in line) and is idle there."""
    now = fleet.env.now
    here = [u for u in fleet.topping if u.at == point.point]
    if here:
        u = min(here, key=lambda u: (-u.charge_at(now), u.index))
        fleet.topping.remove(u)
        u.wake.succeed(YIELD)


def _free(fleet: Fleet, point: ChargingPoint, now: float) -> None:
    """A vehicle leaves its place at `point`: the first in line gets it; with opportunity
    charging, if nobody waits, the idle vehicle that wants a charge most does."""
    point.leave()
    if not (point.free and fleet.spec.battery.opportunity and fleet.idle):
        return
    here = fleet.reach
    wanting = [u for u in fleet.idle if _wants(fleet, u, now)
               and math.isfinite(here[u.at][point.point])
               and need_to(fleet, u, point.point) <= u.charge_at(now)]
    if wanting:
        u = min(wanting, key=lambda u: (u.charge_at(now), here[u.at][point.point], u.index))
        point.take(fleet.env)
        fleet.idle.remove(u)
        u.wake.succeed(point)


def _wants(fleet: Fleet, v: BatteryVehicle, now: float) -> bool:
    """Would `v`, idle, charge by opportunity: below charge_to, and not charged to it since
    its last move (so that idle vehicles never trade places at a charger endlessly)."""
    return not v.topped and v.charge_at(now) < fleet.spec.battery.charge_to


def _low(fleet: Fleet, v: BatteryVehicle, wake: simpy.Event) -> None:
    """The idle vehicle's charge reached the threshold: unless a move came first, it is no
    longer idle and goes to charge."""
    if not wake.triggered:
        fleet.idle.remove(v)
        wake.succeed(LOW)


def _idle(env: simpy.Environment, v: BatteryVehicle, fleet: Fleet):
    """Wait, idle where `v` stands, for a move, for the charge to fall to the threshold
    (LOW) or, with opportunity charging, for a freed charging place (the ChargingPoint,
    whose place is the vehicle's)."""
    threshold = fleet.spec.battery.threshold
    idle_drain = -v.rate[IDLE]  # kWh per second
    now = env.now
    v.enter(IDLE, now)
    v.wake = wake = env.event()
    fleet.idle.append(v)
    if idle_drain > 0:
        until_low = max(0.0, v.charge_at(now) - threshold) / idle_drain
        timer = env.timeout(until_low)
        timer.callbacks.append(lambda _: _low(fleet, v, wake))
    got = yield wake
    v.wake = None
    return got


def run_battery_vehicle(env: simpy.Environment, v: BatteryVehicle, fleet: Fleet,
                        rep: Replication):
    """The life of a vehicle with a battery: moves as any vehicle's, and recharges when
    its charge is at or below the threshold after a move, while idle, or at time 0; with
    opportunity charging also whenever it would be idle below `charge_to`."""
    threshold = fleet.spec.battery.threshold
    opportunity = fleet.spec.battery.opportunity
    if v.level <= threshold:
        yield from recharge(env, v, fleet)
    while True:
        move: Move | ChargingPoint | object | None = \
            fleet.requests.popleft() if fleet.requests else None
        if move is None and opportunity and _wants(fleet, v, env.now):
            move = free_charger(fleet, v, env.now)
            if move is not None:
                move.take(env)
        if move is None:
            move = yield from _idle(env, v, fleet)
            if move is LOW:
                yield from recharge(env, v, fleet)
                continue
        if isinstance(move, ChargingPoint):
            move = yield from top_up(env, v, fleet, move)
            if move is None:
                continue
        yield from carry(env, v, fleet, rep, move)
        v.topped = False
        if v.charge_at(env.now) <= threshold:
            yield from recharge(env, v, fleet)
