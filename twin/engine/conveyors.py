"""Conveyors as SimPy processes: a FIFO belt between two stations of any kind (docs/
modelling.md, Conveyors).

A conveyor of length L, speed v and pitch p holds `places` = ceil(L / p) units. A unit
finished at `from` gets on when fewer than `places` units are aboard and the unit before it
has moved p along the belt (its entry is free again); otherwise its machine is blocked and
waits in the conveyor's line of senders (a batch machine puts its units on one by one, a
warehouse's crane the unit it retrieved). It travels L / v of belt movement and waits at the
end until `to` takes it, exactly as a direct hand-over would (into a batch station's or a
warehouse's buffer, or an assembly station's lane for the unit's part).

Belt movement is measured on a *belt clock*: an accumulating conveyor's belt never stops
(units queue behind the one waiting at the end, each p behind the next), so its clock is
the real clock and the unit at the end next arrives at max(entry + L / v, last leave + p /
v); a non-accumulating conveyor stops as a whole while the unit at its end cannot leave,
and its clock stands still meanwhile (like on-shift time under a calendar).
"""

from __future__ import annotations

import math
from collections import deque
from typing import TYPE_CHECKING

import simpy

from twin.engine.accounting import ActivePeriods, Area, StateClock
from twin.model import (CONVEYOR_EMPTY, CONVEYOR_MOVING, CONVEYOR_STATES, CONVEYOR_STOPPED,
                        ConveyorModel)

if TYPE_CHECKING:
    from twin.engine.replication import Replication
    from twin.engine.stations import Unit


class Conveyor:
    """The units aboard, the senders waiting to put one on, the belt clock, the state clock
    and the counters of one conveyor."""

    def __init__(self, spec: ConveyorModel, rep: Replication, key: int):
        self.spec = spec
        self.env = rep.env
        self.target = rep.stations[spec.to]
        self.places = spec.places
        self.travel = spec.length / spec.speed  # belt seconds from the entry to the end
        self.gap = spec.pitch / spec.speed  # belt seconds until the entry is free again
        self.aboard: deque[tuple[Unit, float, float]] = deque()  # (unit, belt, clock at entry)
        self.blocked: deque[tuple[Unit, simpy.Event]] = deque()  # senders waiting to enter
        self.clock = StateClock(len(CONVEYOR_STATES), CONVEYOR_EMPTY, 0.0)
        # Roser: active while its entry is occupied and the belt moves (docs/modelling.md)
        self.active = ActivePeriods(1, rep.open_groups, key, rep.bottleneck,
                                    rep.model.event_log)
        self.level = Area()  # units aboard
        self.belt = 0.0  # belt clock at `belt_at`
        self.belt_at = 0.0
        self.running = True  # the belt moves (a non-accumulating one stops as a whole)
        self.entry_busy = False  # the last unit in has not yet moved a pitch
        self.entered_belt = -math.inf  # belt clock when the last unit got on
        self.at_end = -1.0  # clock time the unit at the end began to wait (-1: none waits)
        self.last_leave = -math.inf  # clock time the last unit left
        self.wake: simpy.Event | None = None  # the conveyor's process, waiting for a unit
        self._entry_timer = 0  # generation of the entry timer (older ones are void)
        self._state_timer = 0
        self.restart(0.0)

    def restart(self, now: float) -> None:
        """Delete statistics at the end of warm-up (units stay aboard)."""
        self.carried = 0  # units that left for `to`
        self.aboard_sum = 0.0  # their time aboard, s
        self.most = len(self.aboard)  # most units aboard at once
        self.clock.restart(now)
        self.level.restart(now)
        self.active.restart(now)

    # --- the belt clock ---------------------------------------------------------------
    def belt_now(self, now: float) -> float:
        """Seconds of belt movement since time 0."""
        return self.belt + (now - self.belt_at if self.running else 0.0)

    def _stop(self, now: float) -> None:
        self.belt = self.belt_now(now)
        self.belt_at = now
        self.running = False
        if self.entry_busy:  # a stopped belt is held up by `to`: inactive, like blocked
            self.active.change(-1, now)
            self._entry_timer += 1

    def _start(self, now: float) -> None:
        self.belt_at = now
        self.running = True
        if self.entry_busy:
            self.active.change(1, now)
            self._time_entry(now)

    # --- entry ------------------------------------------------------------------------
    def stuck(self) -> bool:
        """No unit can get on until `to` takes the unit at the end."""
        return self.at_end >= 0 and (len(self.aboard) >= self.places
                                     or (self.entry_busy and not self.running))

    def waits_on(self) -> list:
        return [self.target] if self.at_end >= 0 else []

    def offer(self, unit: Unit, now: float) -> bool:
        """Put `unit` on now if nobody waits before it and there is room at the entry;
        False means the sender blocks (and joins `blocked`)."""
        if self.blocked or self.entry_busy or len(self.aboard) >= self.places:
            return False
        self._enter(unit, now)
        return True

    def _admit(self, now: float) -> None:
        """The first waiting sender puts its unit on, if there is room now."""
        if self.blocked and not self.entry_busy and len(self.aboard) < self.places:
            unit, event = self.blocked.popleft()
            self._enter(unit, now)
            event.succeed()

    def _enter(self, unit: Unit, now: float) -> None:
        b = self.belt_now(now)
        self.aboard.append((unit, b, now))
        self.level.add(1, now)
        self.most = max(self.most, len(self.aboard))
        self.entered_belt = b
        self.entry_busy = True
        if self.running:
            self.active.change(1, now)
            self._time_entry(now)
        if self.wake is not None:
            wake, self.wake = self.wake, None
            wake.succeed()
        self._update(now)

    def _time_entry(self, now: float) -> None:
        """Free the entry once the belt has moved a pitch since the last unit got on."""
        self._entry_timer += 1
        gen = self._entry_timer
        delay = max(0.0, self.entered_belt + self.gap - self.belt_now(now))
        self.env.timeout(delay).callbacks.append(lambda _: self._entry_free(gen))

    def _entry_free(self, gen: int) -> None:
        if gen != self._entry_timer:
            return  # the belt stopped meanwhile; a new timer runs when it starts again
        now = self.env.now
        self.entry_busy = False
        self.active.change(-1, now)
        self._admit(now)

    # --- states -----------------------------------------------------------------------
    def _update(self, now: float) -> None:
        """Enter the state the conveyor is in now; while an accumulating conveyor's units
        are still closing up behind the one at the end, time the moment they all stand."""
        self._state_timer += 1
        if not self.aboard:
            self.clock.enter(CONVEYOR_EMPTY, now)
            return
        if self.at_end < 0:
            self.clock.enter(CONVEYOR_MOVING, now)
            return
        if not self.spec.accumulating:
            self.clock.enter(CONVEYOR_STOPPED, now)
            return
        # the last unit stops k pitches behind the end, k = the units ahead of it
        k = len(self.aboard) - 1
        entered = self.aboard[-1][2]
        stands = max(self.at_end, entered + (self.spec.length - k * self.spec.pitch)
                     / self.spec.speed)
        if stands <= now:
            self.clock.enter(CONVEYOR_STOPPED, now)
            return
        self.clock.enter(CONVEYOR_MOVING, now)
        gen = self._state_timer
        self.env.timeout(stands - now).callbacks.append(lambda _: self._closed_up(gen))

    def _closed_up(self, gen: int) -> None:
        if gen == self._state_timer:
            self.clock.enter(CONVEYOR_STOPPED, self.env.now)

    # --- the end ----------------------------------------------------------------------
    def arrival(self, now: float) -> float:
        """Clock time the first unit aboard reaches the end (the belt runs while none
        waits there)."""
        _, b, _ = self.aboard[0]
        due = b + self.travel
        if self.spec.accumulating:  # it queued behind the last one to leave
            due = max(due, self.last_leave + self.gap)
        return now + max(0.0, due - self.belt_now(now))

    def waits_at_end(self, now: float) -> None:
        """The unit at the end cannot go on into `to`: it waits there, and a
        non-accumulating belt stops as a whole."""
        self.at_end = now
        if not self.spec.accumulating:
            self._stop(now)
        self._update(now)

    def leave(self, now: float) -> Unit:
        """The unit at the end goes on into `to` (which has taken it)."""
        unit, _, entered = self.aboard.popleft()
        self.level.add(-1, now)
        self.carried += 1
        self.aboard_sum += now - entered
        self.last_leave = now
        if self.at_end >= 0:
            self.at_end = -1.0
            if not self.running:
                self._start(now)
        self._update(now)
        self._admit(now)
        return unit

    def energy_integral(self, now: float) -> float:
        """Electricity since the last restart, kW·s (power per state x time)."""
        kw = self.spec.power_kw
        c = self.clock
        return sum(k * t for k, t in zip(kw, c.totals)) + kw[c.state] * (now - c.since)


def run_conveyor(env: simpy.Environment, c: Conveyor, rep: Replication):
    """The end of a conveyor: the first unit aboard reaches it and goes on into `to`, or
    waits there, like a blocked sender, in `to`'s line until a place frees."""
    from twin.engine.stations import check_deadlock  # (stations imports this module)

    target = c.target
    # an assembly station counts the parts aboard as on their way until one waits at the
    # end (AssemblyStation.missing): then a kitting deadlock may begin
    lanes = target.spec.assembly is not None
    log = rep.events
    while True:
        if not c.aboard:
            c.wake = env.event()
            yield c.wake
        yield env.timeout(c.arrival(env.now) - env.now)
        unit = c.aboard[0][0]
        if not target.offer(unit, env.now):
            c.waits_at_end(env.now)
            wait = env.event()
            target.blocked.append((unit, wait))
            check_deadlock(c, env.now)
            if lanes:
                check_deadlock(target, env.now)
            yield wait
        entered = c.aboard[0][2]
        c.leave(env.now)
        if log is not None:
            log.append((unit.id, unit.product, "conveyor", c.spec.frm, entered, env.now))
