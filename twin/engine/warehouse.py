"""Automated storage and retrieval (AS/RS) warehouses: stacker cranes, storage places, dwell.

A warehouse is a station whose servers are stacker cranes. A unit arriving waits on the
input conveyor (the station's buffer) until a crane is free and a storage place is too; the
crane picks it up at the input/output point, travels to a random place of the rack face
(horizontal and vertical travel at the same time, so one way takes max(x / vx, y / vy)),
sets it down and travels back: a single-command cycle. The unit then dwells for the
station's `process_time` (aging), after which it waits for a crane to retrieve it (travel,
pick up, travel back, set down at the I/O point) and goes on along its route like a unit
finished by a machine: if the next station has no room, the crane waits holding it.
Retrievals go before storage (they free places). With random storage the mean cycle is
Bozer & White's E[SC] = T(1 + b²/3) + 2 × pick/deposit, checked in tests/validation.

With `commands: dual` a crane that finds both a unit to store (and a free place) and a unit
due for retrieval does both in one trip: pick up at the I/O point, travel to the new unit's
place, set it down, travel to the retrieved unit's place (Chebyshev again), pick it up,
travel back and set it down. Its mean is E[DC] = (T/30)(40 + 15b² − b³) + 4 × pick/deposit.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np
import simpy

from twin.engine.accounting import Area
from twin.engine.stations import PLACE, Machine, Station, Unit, hand_on
from twin.model import BUSY, STARVED, StationModel
from twin.scenario.distributions import Dist
from twin.streams import draws, uniforms

if TYPE_CHECKING:
    from twin.engine.replication import Replication

STORE, RETRIEVE, DUAL = "store", "retrieve", "dual"


class Warehouse(Station):
    """A station whose machines are cranes, with storage places and units dwelling there."""

    def __init__(self, spec: StationModel, rep: Replication):
        self.stored_area = Area()  # before Station.__init__, which restarts the statistics
        super().__init__(spec, rep)
        self.wh = spec.warehouse
        self.stored = 0  # places taken (being stored, dwelling, waiting or being retrieved)
        self.ready: deque[Unit] = deque()  # dwell over, waiting for a crane
        self.slots = uniforms(rep._rng("slot", spec.name))
        self.handling = draws(self.wh.pick_deposit.sample, rep._rng("pick", spec.name))
        self.dwells = rep.process_times[spec.index]

    def restart(self, now: float) -> None:
        super().restart(now)
        self.stored_area.restart(now)
        self.store_sum = self.retrieve_sum = self.dual_sum = self.dwell_sum = 0.0
        self.stores = self.retrieves = 0  # units stored and retrieved, in any cycle
        self.fetched = 0  # retrievals begun (each adds its unit's time in place to dwell_sum)
        self.single_stores = self.single_retrieves = self.duals = 0  # cycles

    def kept(self) -> int:
        """Units on its infeed and in its storage places (a crane holding a retrieved unit
        has freed its place; that unit counts as the blocked crane's)."""
        return self.waiting() + self.stored

    def room(self) -> float:
        free_cranes = min(len(self.idle), self.wh.places - self.stored)
        return free_cranes + self.capacity - len(self.queue) - self.incoming

    def offer(self, unit: Unit, now: float, reserved: bool = False) -> bool:
        """An idle crane stores it at once if a place is free, else it waits on the input."""
        if reserved:
            self.incoming -= 1
        elif self.incoming and self.room() <= 0:
            return False
        unit.entered = now
        if self.idle and self.stored < self.wh.places:
            self._take_place(now)
            self.idle.popleft().wake.succeed((STORE, unit))
            return True
        if len(self.queue) < self.capacity:
            self.queue_area.add(1, now)
            self.queue.append(unit)
            return True
        return False

    def _take_place(self, now: float) -> None:
        self.stored += 1
        self.stored_area.add(1, now)

    def next_job(self, now: float) -> tuple[str, Unit | tuple[Unit, Unit]] | None:
        """Work for a free crane: a retrieval first, else storing the next unit in line;
        with dual commands, storing the next unit and then the retrieval where both wait."""
        if self.ready:
            if self.wh.dual and self.stored < self.wh.places and self._at_hand():
                unit = self.take(now)
                if unit is not None:
                    self._take_place(now)
                    return DUAL, (unit, self.ready.popleft())
            return RETRIEVE, self.ready.popleft()
        if self.stored < self.wh.places:
            unit = self.take(now)
            if unit is not None:
                self._take_place(now)
                return STORE, unit
        return None

    def _at_hand(self) -> bool:
        """Is a unit to store here now (on the input conveyor, at a machine blocked in
        front, or released at will)? Not so for a vehicle move still waiting for a place:
        `take` would reserve this crane for it, and a crane off on a dual cycle could not
        keep that promise."""
        if self.queue:
            return True
        if self.blocked:
            return self.blocked[0][1] is not PLACE
        return bool(self.saturated)

    def dwell(self, unit: Unit, seconds: float) -> None:
        """The unit, set down in its place, dwells for `seconds`, then is due (`dwell_over`)."""
        self.rep.env.timeout(seconds).callbacks.append(lambda _, u=unit: self.dwell_over(u))

    def fetch(self, unit: Unit, now: float) -> None:
        """A crane sets off to retrieve the unit: its time in its place ends now."""
        self.dwell_sum += now - unit.entered
        self.fetched += 1

    def dwell_over(self, unit: Unit) -> None:
        """The unit's dwell ended: an idle crane fetches it, or it waits for one."""
        if self.idle:
            self.idle.popleft().wake.succeed((RETRIEVE, unit))
        else:
            self.ready.append(unit)

    def place_freed(self, now: float) -> None:
        """A unit left its place: an idle crane may store the next unit waiting."""
        if self.idle and (self.queue or self.blocked or self.saturated):
            crane = self.idle[0]
            job = self.next_job(now)
            if job is not None:
                self.idle.remove(crane)
                crane.wake.succeed(job)

    def stock(self, units: list[Unit], remaining: Dist | None,
              rng: np.random.Generator) -> list[Unit]:
        """Units in store at time 0 (initial WIP), as many as there are free places: each
        takes a place and a random spot of the rack and dwells for its remaining time.
        Without `remaining`, that is the dwell's stationary residual (`residual_dwell`), and
        the unit's time in its place counts from its age (set down before time 0); with it,
        from time 0. Returns the units that found no place (they wait on the input)."""
        n = min(len(units), self.wh.places - self.stored)
        if not n:
            return units
        product, step = units[0].product, units[0].step
        dwell = self.rep.model.products[product].steps[step].process_time or \
            self.spec.process_time
        if remaining is None:
            left, age = residual_dwell(dwell, n, rng)
        else:
            left, age = remaining.sample(rng, n), np.zeros(n)
        for unit, r, a in zip(units[:n], left.tolist(), age.tolist()):
            self._take_place(0.0)
            unit.place = self.place()
            unit.entered = 0.0 - a  # (not -a: no -0.0 in the event log)
            self.dwell(unit, r)
        return units[n:]

    def place(self) -> tuple[float, float]:
        """A random place of the rack face (random storage), as the crane's travel times
        from the I/O point along the aisle and up; one way takes the larger (Chebyshev)."""
        wh = self.wh
        return (next(self.slots) * wh.length / wh.speed_x,
                next(self.slots) * wh.height / wh.speed_y)


POOL = 16  # dwell draws per unit from which `residual_dwell` picks by length


def residual_dwell(dwell: Dist, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Remaining dwell and age of `n` units found in a store that has been filled at a
    steady rate for longer than any dwell: a unit found there is in a dwell picked with
    probability in proportion to its length (a long dwell is more likely to be under way;
    from a pool of POOL × n draws), at a uniformly random moment of it. The remaining
    times then have the stationary residual density (1 − F(r)) / E[D], and the units
    leave at the steady rate n / E[D] from time 0."""
    if dwell.is_constant:
        lengths = np.full(n, dwell.mean)
    else:
        pool = dwell.sample(rng, max(POOL * n, 4096))
        weights = np.cumsum(pool)
        lengths = pool[np.searchsorted(weights, rng.random(n) * weights[-1], side="right")
                       .clip(0, len(pool) - 1)]
    age = rng.random(n) * lengths
    return lengths - age, age


def run_crane(env: simpy.Environment, c: Machine, wh: Warehouse, rep: Replication):
    """The life of one stacker crane: store, or retrieve and pass on; forever."""
    timeout = env.timeout
    log = rep.events
    index = wh.spec.index
    routes, stations = rep.routes, rep.stations
    belts = rep.belts_from[index]  # station index -> the Conveyor carrying that move
    while True:
        job = wh.next_job(env.now)
        if job is None:
            c.set(STARVED, env.now)
            c.wake = env.event()
            wh.idle.append(c)
            job = yield c.wake
            c.wake = None
        kind, unit = job
        start = env.now
        c.set(BUSY, start)
        if kind == RETRIEVE:
            wh.fetch(unit, start)
            back = max(unit.place)
            yield timeout(back + next(wh.handling))
        else:  # store the unit (and in a dual command go on to retrieve another)
            unit, out = unit if kind == DUAL else (unit, None)
            wh.wait_sum += start - unit.entered
            wh.waits += 1
            if log is not None and start > unit.entered:  # on the input conveyor
                log.append((unit.id, unit.product, "queue", index, unit.entered, start))
            if out is not None:  # (its time in place ends as the cycle that fetches it begins)
                wh.fetch(out, start)
            unit.place = place = wh.place()
            way = max(place)
            yield timeout(next(wh.handling) + way + next(wh.handling))
            stored_at = env.now
            dwell = next(wh.rep.step_times[unit.product][unit.step] or wh.dwells)
            wh.dwell(unit, dwell)
            unit.entered = stored_at  # (dwell, then the wait for a crane)
            wh.stores += 1
            if out is None:
                yield timeout(way)
                wh.single_stores += 1
                wh.store_sum += env.now - start
                wh.process_sum += env.now - start
                if log is not None:
                    log.append((unit.id, unit.product, "store", index, start, env.now))
                continue
            if log is not None:
                log.append((unit.id, unit.product, "store", index, start, stored_at))
            unit, there = out, out.place  # on to the retrieved unit's place
            back = max(there)
            yield timeout(max(abs(place[0] - there[0]), abs(place[1] - there[1]))
                          + next(wh.handling))
        wh.stored -= 1
        wh.stored_area.add(-1, env.now)
        wh.place_freed(env.now)
        yield timeout(back + next(wh.handling))
        now = env.now
        wh.retrieves += 1
        if kind == DUAL:
            wh.duals += 1
            wh.dual_sum += now - start
        else:
            wh.single_retrieves += 1
            wh.retrieve_sum += now - start
        wh.process_sum += now - start
        wh.produced += 1
        if log is not None:
            log.append((unit.id, unit.product, "dwell", index, unit.entered, start))
            log.append((unit.id, unit.product, "retrieve", index, start, now))
        unit.step += 1
        steps = routes[unit.product]
        if unit.step == len(steps):
            rep.finish(unit, now)
            continue
        to = steps[unit.step].station
        if belts and to in belts:  # a conveyor carries the move: the unit gets on at the
            belt = belts[to]  # I/O point, or the crane waits there holding it (blocked)
            if not belt.offer(unit, now):
                yield from hand_on(env, c, wh, unit, belt, rep)
            continue
        target = stations[to]
        if rep.transport[unit.product][unit.step] is not None or not target.offer(unit, now):
            yield from hand_on(env, c, wh, unit, target, rep)
