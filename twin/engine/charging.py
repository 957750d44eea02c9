"""Vehicles with batteries: when they recharge, where, and for how long.

The policy (docs/modelling.md, Batteries and charging): a vehicle whose charge is at or below the fleet's
threshold after setting a unit down, or that reaches it while idle, drives empty to the
nearest charging point with a free place that its charge can reach (else to the nearest
charging point, where it waits in line, first come first served), charges at the charger's
power to `charge_to`, frees the place and is idle there. Charging is never interrupted for a
move. Nothing here draws random numbers: a battery changes no stream.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import simpy

from twin.engine.vehicles import BatteryVehicle, ChargingPoint, Fleet, carry, travel
from twin.model import CHARGING, IDLE, RIDING_LIFT, TO_CHARGER, WAITING_CHARGER

if TYPE_CHECKING:
    from twin.engine.replication import Replication

LOW = object()  # an idle vehicle's wake-up value: its charge fell to the threshold


def charger_for(fleet: Fleet, v: BatteryVehicle, env: simpy.Environment
                ) -> tuple[ChargingPoint, simpy.Event | None]:
    """The charging point `v` drives to and its turn there (None: a place is its now).

    The nearest point (path distance, or with lifts expected time; ties to the one listed
    first) with a free place whose run the vehicle's charge covers; if there is none, the
    nearest point, to wait in line.
    """
    here = fleet.reach[v.at]
    level = v.charge_at(env.now)
    reachable = [c for c in fleet.chargers if math.isfinite(here[c.point])]
    free = [c for c in reachable if c.free and need_to(fleet, v, c.point) <= level]
    point = min(free or reachable, key=lambda c: here[c.point])
    return point, point.take(env)


def need_to(fleet: Fleet, v: BatteryVehicle, point: int) -> float:
    """kWh to drive empty (as to a charger) from where `v` stands to `point`; lifts on the
    way at their nominal ride time, in state riding_lift, with no wait for a car."""
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
            ride = ls.load_time.mean + ls.travel(frm, to) + ls.unload_time.mean
            kwh += -v.rate[RIDING_LIFT] * ride
    return kwh


def recharge(env: simpy.Environment, v: BatteryVehicle, fleet: Fleet):
    """Drive to a charger, wait for a place if none was free, charge to `charge_to`."""
    battery = fleet.spec.battery
    point, turn = charger_for(fleet, v, env)
    metres = yield from travel(env, v, fleet, point.point, TO_CHARGER, False,
                               fleet.lift_to_charger)
    fleet.charger_metres += metres
    if turn is not None and not turn.triggered:
        v.enter(WAITING_CHARGER, env.now)
        yield turn
    v.enter(CHARGING, env.now)  # (brings v.level up to now)
    fleet.charges += 1
    yield env.timeout(max(0.0, battery.charge_to - v.level) / v.rate[CHARGING])
    point.leave()


def _low(fleet: Fleet, v: BatteryVehicle, wake: simpy.Event) -> None:
    """The idle vehicle's charge reached the threshold: unless a move came first, it is no
    longer idle and goes to charge."""
    if not wake.triggered:
        fleet.idle.remove(v)
        wake.succeed(LOW)


def run_battery_vehicle(env: simpy.Environment, v: BatteryVehicle, fleet: Fleet,
                        rep: Replication):
    """The life of a vehicle with a battery: moves as any vehicle's, and recharges when
    its charge is at or below the threshold after a move, while idle, or at time 0."""
    threshold = fleet.spec.battery.threshold
    idle_drain = -v.rate[IDLE]  # kWh per second
    if v.level <= threshold:
        yield from recharge(env, v, fleet)
    while True:
        move = fleet.requests.popleft() if fleet.requests else None
        if move is None:
            now = env.now
            v.enter(IDLE, now)
            v.wake = wake = env.event()
            fleet.idle.append(v)
            if idle_drain > 0:
                until_low = max(0.0, v.charge_at(now) - threshold) / idle_drain
                timer = env.timeout(until_low)
                timer.callbacks.append(lambda _, wake=wake: _low(fleet, v, wake))
            move = yield wake
            v.wake = None
            if move is LOW:
                yield from recharge(env, v, fleet)
                continue
        yield from carry(env, v, fleet, rep, move)
        if v.charge_at(env.now) <= threshold:
            yield from recharge(env, v, fleet)

