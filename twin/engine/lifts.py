"""Lifts as SimPy processes: cars that carry vehicles, with their units, between floors.

A vehicle at a lift's point calls a car (`Lift.call`); calls are served first come, first
served across all floors. A call gets the idle car nearest to its floor (by travel time;
ties to the lowest number) or waits until a car finishes its ride. The car travels empty to
the caller's floor if it is not there, the vehicle drives in (`load_time`), the car travels
to the target floor, the vehicle drives out (`unload_time`), and the car stands idle there.
One vehicle per car. Drive-in and drive-out times have their own random streams, named by
the lift, so adding a lift changes no other sample.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import simpy

from twin.engine.accounting import ActivePeriods, Area, StateClock, activity_observer
from twin.model import (LIFT_IDLE, LIFT_LOADING, LIFT_MOVING_EMPTY, LIFT_MOVING_LOADED,
                        LIFT_STATES, LIFT_UNLOADING, RIDING_LIFT, WAITING_LIFT, LiftModel)
from twin.streams import draws

if TYPE_CHECKING:
    from twin.engine.replication import Replication
    from twin.engine.vehicles import Vehicle

# Roser's active period method for a lift: a car is active whenever it serves a ride
# (travelling loaded or empty, a vehicle driving in or out), inactive only when idle.
ACTIVE_LIFT_STATES = frozenset((LIFT_MOVING_LOADED, LIFT_MOVING_EMPTY, LIFT_LOADING,
                                LIFT_UNLOADING))


class Call:
    """A vehicle's call for a ride from stop `frm` to stop `to`: `ready` fires when the car
    is at `frm` for it, `done` when it has driven out at `to`."""

    __slots__ = ("frm", "to", "asked", "ready", "done")

    def __init__(self, env: simpy.Environment, frm: int, to: int):
        self.frm, self.to, self.asked = frm, to, env.now
        self.ready = env.event()
        self.done = env.event()


class Car(StateClock):
    """One car: a StateClock over LIFT_STATES, the stop it stands at, what wakes it."""

    __slots__ = ("index", "stop", "wake")

    def __init__(self, lift: Lift, index: int):
        super().__init__(len(LIFT_STATES), LIFT_IDLE, 0.0,
                         activity_observer(lift.active, ACTIVE_LIFT_STATES))
        self.index = index
        self.stop = lift.spec.home
        self.wake: simpy.Event | None = None


class Lift:
    """A lift's cars, its idle ones, the calls waiting for a car, and its counters."""

    def __init__(self, spec: LiftModel, rep: Replication, key: int):
        self.spec = spec
        self.env = rep.env
        # active (Roser) while every car serves a ride, like a station's machines
        self.active = ActivePeriods(spec.cars, rep.open_groups, key, rep.bottleneck,
                                    rep.model.event_log)
        self.cars = [Car(self, i) for i in range(spec.cars)]
        self.idle: list[Car] = []
        self.line: deque[Call] = deque()
        self.waiting = Area()  # vehicles waiting for a car
        self.load_times = draws(spec.load_time.sample, rep._rng("lift_load", spec.name))
        self.unload_times = draws(spec.unload_time.sample, rep._rng("lift_unload", spec.name))
        self.restart(0.0)

    def restart(self, now: float) -> None:
        """Delete statistics at the end of warm-up."""
        self.rides = 0  # rides completed (vehicle driven out)
        self.wait_sum = 0.0  # call to car ready, over the rides begun
        self.waits = 0  # rides begun (car ready)
        self.ride_sum = 0.0  # car ready to vehicle out, over the rides completed
        self.waiting.restart(now)
        for car in self.cars:
            car.restart(now)
        self.active.restart(now)

    def energy_integral(self, now: float) -> float:
        """The cars' electricity since the last restart, kW·s (power per state x time)."""
        kw = self.spec.power_kw
        total = 0.0
        for car in self.cars:
            total += sum(k * t for k, t in zip(kw, car.totals))
            total += kw[car.state] * (now - car.since)
        return total

    def call(self, frm: int, to: int) -> Call:
        """A ride from stop `frm` to stop `to`: the nearest idle car takes it, or it waits in
        line for the next car that finishes (first come, first served)."""
        call = Call(self.env, frm, to)
        self.waiting.add(1, call.asked)
        if self.idle:
            spec = self.spec
            car = min(self.idle, key=lambda c: (spec.travel(c.stop, frm), c.index))
            self.idle.remove(car)
            car.wake.succeed(call)
        else:
            self.line.append(call)
        return call

    def ride(self, v: Vehicle, frm: int, to: int):
        """The vehicle's side of a ride: wait at `frm` for a car, ride to `to`."""
        env = self.env
        v.enter(WAITING_LIFT, env.now)
        call = self.call(frm, to)
        yield call.ready
        v.enter(RIDING_LIFT, env.now)
        yield call.done
        v.at = self.spec.stops[to][0]


def run_car(env: simpy.Environment, car: Car, lift: Lift):
    """The life of one car: take the oldest call (or wait for one) and serve it."""
    spec = lift.spec
    timeout = env.timeout
    while True:
        call = lift.line.popleft() if lift.line else None
        if call is None:
            car.enter(LIFT_IDLE, env.now)
            car.wake = env.event()
            lift.idle.append(car)
            call = yield car.wake
            car.wake = None
        if car.stop != call.frm:
            car.enter(LIFT_MOVING_EMPTY, env.now)
            yield timeout(spec.travel(car.stop, call.frm))
            car.stop = call.frm
        ready = env.now
        lift.waiting.add(-1, ready)
        lift.waits += 1
        lift.wait_sum += ready - call.asked
        call.ready.succeed()
        car.enter(LIFT_LOADING, ready)
        yield timeout(next(lift.load_times))
        car.enter(LIFT_MOVING_LOADED, env.now)
        yield timeout(spec.travel(call.frm, call.to))
        car.stop = call.to
        car.enter(LIFT_UNLOADING, env.now)
        yield timeout(next(lift.unload_times))
        lift.rides += 1
        lift.ride_sum += env.now - ready
        call.done.succeed()
