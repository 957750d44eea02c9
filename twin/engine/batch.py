"""Batch stations: machines (vacuum ovens, formation racks) that process several units at once.

A batch forms in the station's buffer: units never go straight onto a machine. An idle machine
starts a batch once `least` units wait (or at once when the station releases saturated
products, which fill whole batches), takes up to `size` of them, processes them together for
one process time (failures as on any machine), then passes the units on one by one in batch
order: scrap, route, blocking after service each in turn, so the machine stays blocked until
its last unit has left. Once one of its units has waited its turn at the next station, the
rest of the batch keeps that turn: a batch is unloaded as a whole, not interleaved with other
senders' units.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import simpy

from twin.engine.stations import (Station, Unit, failure_modes, hand_on, holder, next_work,
                                  process)
from twin.model import BUSY, StationModel

if TYPE_CHECKING:
    from twin.engine.replication import Replication
    from twin.engine.stations import Machine


class BatchStation(Station):
    """A station whose machines take batches from its buffer."""

    def __init__(self, spec: StationModel, rep: Replication):
        super().__init__(spec, rep)
        self.size = spec.batch.size
        self.least = spec.batch.least

    def room(self) -> float:
        """Buffer places free for a new unit (machines are filled from the buffer only)."""
        return self.capacity - len(self.queue) - self.incoming

    def offer(self, unit: Unit, now: float, reserved: bool = False) -> bool:
        """Into the buffer if it has a place; an idle machine starts once a batch can."""
        if reserved:
            self.incoming -= 1
        elif self.incoming and self.room() <= 0:
            return False
        if len(self.queue) >= self.capacity:
            return False
        unit.entered = now
        self.queue_area.add(1, now)
        self.queue.append(unit)
        if self.idle and len(self.queue) >= self.least and self.on_shift(now):
            self.idle.popleft().wake.succeed(None)
        return True

    def work_for_idle(self, now: float) -> bool | None:
        """An idle machine back from repair wakes (and takes its batch itself) when a batch
        can start; None: it waits, idle."""
        return True if self.saturated or len(self.queue) >= self.least else None

    def take_batch(self, now: float) -> list[Unit]:
        """The next batch for a free machine (empty: not enough units wait). Each unit taken
        lets a blocked sender into the buffer; saturated products fill the rest."""
        if not self.saturated and len(self.queue) < self.least:
            return []
        batch = []
        while len(batch) < self.size and (self.queue or self.saturated):
            unit = self.take(now)
            if unit is None:  # the place went to a unit coming by vehicle
                break
            batch.append(unit)
        return batch


def run_batch(env: simpy.Environment, m: Machine, st: BatchStation, rep: Replication):
    """The life of one batch machine: take a batch, process it, pass its units on; forever."""
    spec = st.spec
    ptimes = rep.process_times[spec.index]
    scrap = spec.scrap
    scrap_u = rep.scrap_draws[spec.index]
    modes = failure_modes(m, spec, rep)
    routes = rep.routes
    stations = rep.stations
    fleets = rep.transport
    belts = rep.belts_from[spec.index]  # station index -> the Conveyor carrying that move
    log = rep.events
    cal = st.work_calendar  # the time work runs in
    hold = holder(env, cal)
    while True:
        batch = yield from next_work(env, m, st, st.take_batch)
        started = env.now
        m.set(BUSY, started)
        t = next(ptimes)  # one process time for the whole batch
        yield from process(env, m, t, modes, hold, cal)
        now = env.now
        st.produced += len(batch)
        st.process_sum += t  # machine time: the batch shares it
        turn = None  # the station or conveyor whose line of senders it has the turn in
        for i, unit in enumerate(batch):
            if log is not None:
                log.append((unit.id, unit.product, "process", spec.index, started, now))
            if scrap and next(scrap_u) < scrap:
                st.scrapped += 1
                rep.scrap(unit, env.now)
                continue
            steps = routes[unit.product]
            unit.step += 1  # (no rework decided here: refused before any run)
            if unit.step == len(steps):
                rep.finish(unit, env.now)
                continue
            to = steps[unit.step].station
            m.holding = len(batch) - i  # units it holds if blocked now (deadlock reports)
            if belts and to in belts:  # a conveyor carries the move, whatever the transport
                belt = belts[to]
                if not belt.offer(unit, env.now):  # its entry is busy: one pitch per unit
                    yield from hand_on(env, m, st, unit, belt, rep, front=belt is turn)
                    turn = belt
                continue
            target = stations[to]
            if fleets[unit.product][unit.step] is not None:
                yield from hand_on(env, m, st, unit, target, rep)
            elif not target.offer(unit, env.now):
                # once its turn comes, the batch is unloaded as a whole (not interleaved
                # with other senders' units)
                yield from hand_on(env, m, st, unit, target, rep, front=target is turn)
                turn = target
        m.holding = 1
