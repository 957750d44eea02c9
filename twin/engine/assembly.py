"""Assembly stations: machines that join a kit of parts into one unit of another product.

Parts are units of products whose routes end at the assembly station. Each part waits in its
own lane of the station's buffer (`buffer` places per part); a sender whose lane is full is
blocked, as at any station. A part carried by vehicle reserves a place in its lane before the
vehicle is sent (`ask_place`), as at any station's buffer: a reserved place is not free for
others, and the unit always finds it when the vehicle sets it down. A free machine starts as
soon as every lane holds its part's quantity: it takes one kit, the parts leave the system
(consumed) and one unit of the product made here enters it (released), to be processed at
this, the first step of its route, and sent on like any other unit.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import simpy

from twin.engine.stations import (PLACE, Station, Unit, failure_modes, hand_on, holder,
                                  next_work, process)
from twin.model import BUSY, StationModel

if TYPE_CHECKING:
    from twin.engine.conveyors import Conveyor
    from twin.engine.replication import Replication
    from twin.engine.stations import Machine
    from twin.engine.vehicles import Move


class AssemblyStation(Station):
    """A station whose machines take kits of parts from one lane per part."""

    def __init__(self, spec: StationModel, rep: Replication):
        super().__init__(spec, rep)
        self.kit = spec.assembly.parts
        self.makes = spec.assembly.makes
        self.lanes: dict[int, deque[Unit]] = {p: deque() for p, _ in self.kit}
        # places of each lane reserved for units on their way by vehicle
        self.coming: dict[int, int] = {p: 0 for p, _ in self.kit}
        self.feeders: dict[int, list[Station]] = {}  # stations passing each part here
        # (filled in by `link`, once every station exists)
        self.belts: list[Conveyor] = []  # conveyors carrying parts into lanes (`link_belt`)

    def link(self, stations: list[Station]) -> None:
        """Note the stations that pass each part on to this one (the step before it on the
        part's route); none when the part is released straight into its lane."""
        for p, _ in self.kit:
            steps = self.rep.routes[p]
            self.feeders[p] = [stations[steps[-2].station]] if len(steps) > 1 else []

    def link_belt(self, belt: Conveyor) -> None:
        """Note a conveyor that carries parts into their lanes here: while nothing waits at
        its end, the parts aboard are on their way (see `missing`)."""
        self.belts.append(belt)

    def held(self) -> list[Conveyor]:
        """The conveyors into its lanes with a part waiting at the end: while the station is
        stuck, nothing aboard them moves (deadlock reports name them)."""
        return [c for c in self.belts if c.at_end >= 0]

    def waiting(self) -> int:
        return sum(len(lane) for lane in self.lanes.values())

    def free(self, p: int) -> int:
        """Places of part `p`'s lane neither taken nor reserved for a unit on a vehicle."""
        return self.capacity - len(self.lanes[p]) - self.coming[p]

    def room(self) -> float:
        """Free places of the fullest lane, reservations counted."""
        return min(self.free(p) for p, _ in self.kit)

    def stuck(self) -> bool:
        """No machine works and none can: each is blocked, or idle for a kit that some part
        still misses, whose every feeding station is itself waited on (see `waits_on`)."""
        if self.n_blocked == self.spec.servers:
            return True
        missing = self.missing()
        return (len(self.idle) + self.n_blocked == self.spec.servers and bool(missing)
                and all(self.feeders[p] for p in missing))

    def waits_on(self) -> list:
        """What its blocked machines wait on, and the stations that feed its missing parts."""
        return super().waits_on() + [f for p in self.missing() for f in self.feeders[p]]

    def missing(self) -> list[int]:
        """The parts short of a kit even once the units on their way by vehicle arrive (a
        loaded vehicle always sets its unit down: its place is reserved), and those aboard a
        conveyor here that nothing holds up at its end (each will be offered its lane; the
        first refused waits at the end, and the conveyor checks for a deadlock then)."""
        coming = self.coming
        if self.belts:
            coming = dict(coming)
            for belt in self.belts:
                if belt.at_end < 0:
                    for unit, _, _ in belt.aboard:
                        coming[unit.product] += 1
        return [p for p, n in self.kit if len(self.lanes[p]) + coming[p] < n]

    def complete(self) -> bool:
        """Does every lane hold its part's quantity?"""
        return all(len(self.lanes[p]) >= n for p, n in self.kit)

    def offer(self, unit: Unit, now: float, reserved: bool = False) -> bool:
        """Into its part's lane if that has a place not reserved for a unit on a vehicle (the
        vehicle's own unit, `reserved`, takes its place); an idle machine starts once a kit
        is complete."""
        p = unit.product
        lane = self.lanes[p]
        if reserved:
            self.coming[p] -= 1
        elif self.free(p) <= 0:
            return False
        unit.entered = now
        self.queue_area.add(1, now)
        lane.append(unit)
        if self.idle and self.complete() and self.on_shift(now):
            self.idle.popleft().wake.succeed(None)
        return True

    def ask_place(self, move: Move) -> None:
        """A vehicle move of a part to here: reserve a place in its lane if one is free and
        no sender of that part waits, else wait in line with the blocked senders."""
        p = move.unit.product
        if self.free(p) > 0 and not any(_part(u, e) == p for u, e in self.blocked):
            self.coming[p] += 1
            move.fleet.ready(move)
        else:
            self.blocked.append((move, PLACE))
            move.machine.blocked_on = self

    def work_for_idle(self, now: float) -> bool | None:
        """An idle machine wakes (and takes its kit itself) when a kit is complete."""
        return True if self.complete() else None

    def take_kit(self, now: float) -> list[Unit]:
        """One kit for a free machine (empty: some part is missing); each place freed lets
        the longest-waiting blocked sender of that part in."""
        if not self.complete():
            return []
        kit: list[Unit] = []
        for p, n in self.kit:
            lane = self.lanes[p]
            kit += [lane.popleft() for _ in range(n)]
            self.queue_area.add(-n, now)
            self._admit(p, n, now)
        return kit

    def _admit(self, p: int, places: int, now: float) -> None:
        """Let up to `places` blocked senders of part `p` into its lane, first come first; a
        vehicle move waiting there gets its place reserved and goes to its fleet."""
        blocked, i = self.blocked, 0
        while places and i < len(blocked):
            unit, event = blocked[i]
            if _part(unit, event) != p:
                i += 1
                continue
            del blocked[i]
            places -= 1
            if event is PLACE:
                self.coming[p] += 1
                unit.fleet.ready(unit)
                continue
            unit.entered = now
            self.lanes[p].append(unit)
            self.queue_area.add(1, now)
            if event is not None:
                event.succeed()


def _part(sender, event) -> int:
    """The part of an entry of the blocked line: a unit, or a vehicle move (PLACE)."""
    return sender.unit.product if event is PLACE else sender.product


def run_assembly(env: simpy.Environment, m: Machine, st: AssemblyStation, rep: Replication):
    """The life of one assembly machine: take a kit, make the unit, pass it on; forever."""
    spec = st.spec
    makes = st.makes
    times = rep.step_times[makes][0] or rep.process_times[spec.index]
    scrap = spec.scrap
    scrap_u = rep.scrap_draws[spec.index]
    modes = failure_modes(m, spec, rep)
    steps = rep.routes[makes]
    stations = rep.stations
    fleet = rep.transport[makes][1] if len(steps) > 1 else None  # into its next step
    # the conveyor carrying the assembled units on, if any (it goes before the fleet)
    belt = rep.belts_from[spec.index].get(steps[1].station) if len(steps) > 1 else None
    log = rep.events
    cal = st.work_calendar  # the time work runs in
    hold = holder(env, cal)
    while True:
        kit = yield from next_work(env, m, st, st.take_kit)
        started = env.now
        for part in kit:
            rep.consume(part, spec.index, started)
        unit = rep.release(makes, started)
        m.set(BUSY, started)
        t = next(times)
        yield from process(env, m, t, modes, hold, cal)
        now = env.now
        st.produced += 1
        st.process_sum += t
        if spec.varied:
            st.planned_sum += rep.step_means[makes][0]
        if log is not None:
            log.append((unit.id, makes, "process", spec.index, started, now))
        if scrap and next(scrap_u) < scrap:
            st.scrapped += 1
            rep.scrap(unit, now)
            continue
        unit.step = 1  # (no rework at an assembly step: refused when loaded)
        if len(steps) == 1:
            rep.finish(unit, now)
            continue
        if belt is not None:
            if not belt.offer(unit, now):
                yield from hand_on(env, m, st, unit, belt, rep)
            continue
        target = stations[steps[1].station]
        if fleet is not None or not target.offer(unit, now):
            yield from hand_on(env, m, st, unit, target, rep)
