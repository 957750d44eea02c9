"""Stations and their machines as SimPy processes.

A station is an input buffer (a deque with a capacity) and `servers` identical machines.
Units move by hand-off: a machine that finishes a unit offers it to the next station, which
gives it straight to an idle machine, puts it in the buffer, or refuses it — then the
offering machine is blocked (blocking after service) and waits in the station's `blocked`
line until a place frees. This costs one event per hand-off instead of SimPy's put/get pair.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import simpy

from twin.engine.accounting import ActivePeriods, Area, StateClock, activity_observer
from twin.engine.conveyors import Conveyor
from twin.errors import RunError
from twin.engine.vehicles import Fleet, Move
from twin.model import (ACTIVE_STATES, BLOCKED, BUSY, DOWN, OFF_SHIFT, SETUP, STARVED, STATES,
                         StationModel)

if TYPE_CHECKING:
    from twin.calendars import ShiftCalendar
    from twin.engine.replication import Replication


PLACE = object()  # in a station's blocked line: a vehicle move waiting for a place there


class Owed:
    """In a station's blocked line: a loaded vehicle whose reserved machine broke down."""

    __slots__ = ("event",)

    def __init__(self, event: simpy.Event):
        self.event = event


class Unit:
    """One unit of a product on its way through the factory."""

    __slots__ = ("id", "product", "step", "released", "entered", "reworked", "place")

    def __init__(self, id: int, product: int, released: float):
        self.id = id
        self.product = product
        self.step = 0
        self.released = released
        self.entered = released  # when it entered its current station's buffer
        self.reworked = False  # sent back by a rework loop at least once
        self.place: tuple[float, float] | None = None  # its place in a warehouse's rack
        # (crane travel seconds from the I/O point along the aisle and up)


WORKING = (BUSY, SETUP)  # states of a machine at work on a unit (finished in overtime)


class Station:
    """Input buffer, blocked senders, idle machines and the station's counters."""

    def __init__(self, spec: StationModel, rep: Replication):
        self.spec = spec
        self.rep = rep
        self.capacity = spec.capacity
        self.queue: deque[Unit] = deque()
        self.blocked: deque[tuple[Unit, simpy.Event | None]] = deque()
        self.idle: deque[Machine] = deque()
        self.queue_area = Area()
        # each metered power (electricity, heat, ...) integrated over time, in kW·s
        self.meters = [Area(0.0, spec.servers * kw[STARVED]) for _, kw in spec.meters]
        self.active = ActivePeriods(spec.servers, rep.open_groups, spec.index,
                                    rep.bottleneck, rep.model.event_log)
        self.saturated: list[int] = []  # products released here whenever a machine is free
        self._next_saturated = 0
        self._in_campaign = 0  # units of the current saturated product released in a row
        self.machines: list[Machine] = []
        self.n_blocked = 0  # machines holding a finished unit they cannot pass on
        self.incoming = 0  # units on vehicles coming here, each with a place reserved
        self.on_vehicles = 0  # units loaded on vehicles coming here (deadlock reports)
        self.calendar = spec.calendar  # working time (None: round the clock)
        self.restart(0.0)

    def restart(self, now: float) -> None:
        """Delete statistics at the end of warm-up."""
        self.wait_sum = 0.0
        self.waits = 0
        self.produced = 0
        self.scrapped = 0
        self.reworked = 0
        self.process_sum = 0.0
        self.changeovers = 0
        self.planned_sum = 0.0  # Σ planned times of the units produced (where times vary)
        self.queue_area.restart(now)
        for meter in self.meters:
            meter.restart(now)
        self.active.restart(now)

    def waiting(self) -> int:
        """Units waiting in the buffer."""
        return len(self.queue)

    def kept(self) -> int:
        """Units it keeps that no machine holds (deadlock reports): its buffer's here; a
        warehouse adds those in its storage places."""
        return self.waiting()

    def stuck(self) -> bool:
        """Every machine holds a finished unit it cannot pass on."""
        return self.n_blocked == self.spec.servers

    def waits_on(self) -> list:
        """The stations and fleets its blocked machines wait on."""
        return [m.blocked_on for m in self.machines if m.blocked_on is not None]

    def held(self) -> list[Conveyor]:
        """Conveyors whose units cannot move while this station is stuck, beyond those its
        senders wait on (deadlock reports): none here; see AssemblyStation."""
        return []

    @property
    def work_calendar(self) -> ShiftCalendar | None:
        """The calendar whose on-shift time work runs in: the station's, or None (clock
        time) when work under way goes on past a shift's end (`finish_in_hand`)."""
        return None if self.spec.finish_in_hand else self.calendar

    def on_shift(self, now: float) -> bool:
        """Is the station working at `now` (always, without a calendar)?"""
        return self.calendar is None or self.calendar.is_on(now)

    def room(self) -> float:
        """Places free for a new unit: idle machines (on shift) and buffer places, less
        reservations."""
        idle = len(self.idle) if self.on_shift(self.rep.env.now) else 0
        return idle + self.capacity - len(self.queue) - self.incoming

    def offer(self, unit: Unit, now: float, reserved: bool = False) -> bool:
        """Take `unit` if a machine or a buffer place is free; False means the sender blocks.

        Places reserved for units on their way by vehicle are not free for others; the
        vehicle's own unit (`reserved`) takes its place.
        """
        if reserved:
            self.incoming -= 1
        elif self.incoming and self.room() <= 0:
            return False
        unit.entered = now
        # off shift an idle machine takes no unit, except one a vehicle reserved it for
        # while the station was on shift (the unit waits on it for the next shift)
        if self.idle and (reserved or self.on_shift(now)):
            machine = self.idle.popleft()
            machine.wake.succeed(unit)
            return True
        if len(self.queue) < self.capacity:
            self.queue_area.add(1, now)
            self.queue.append(unit)
            return True
        return False

    def ask_place(self, move: Move) -> None:
        """A vehicle move to here: reserve a place now if one is free and nobody waits for
        one, else wait in line with the blocked senders (first come, first served)."""
        if not self.blocked and self.room() > 0:
            self.incoming += 1
            move.fleet.ready(move)
        else:
            self.blocked.append((move, PLACE))
            move.machine.blocked_on = self

    def wait_owed(self, unit: Unit, wait: simpy.Event) -> None:
        """A vehicle's unit found its reserved machine broken down: the place stays owed to
        it, and it is first in line for the next one that frees."""
        self.incoming += 1
        self.blocked.appendleft((unit, Owed(wait)))

    def shift_ends(self, now: float) -> None:
        """The station goes off shift: every machine's clock counts `off_shift` (whatever it
        was doing pauses: its work ends in on-shift time) and idle machines take no units.
        With `finish_in_hand`, a machine at work (busy or setting up, and up) goes on in
        overtime, and is off shift once it has done (`Machine.set`, `Machine.off_duty`)."""
        finish = self.spec.finish_in_hand
        for m in self.machines:
            if finish and not m.down and m.base in WORKING:
                m.overtime = True
                continue
            m.off = True
            m.enter(OFF_SHIFT, now)

    def shift_starts(self, now: float) -> None:
        """Back on shift: each machine resumes the state it would be in, and idle machines
        take the work that waits."""
        for m in self.machines:
            m.off = m.overtime = False
            m.enter(DOWN if m.down else m.base, now)
        # each idle machine in turn, out of the idle line while it looks for work (as after
        # a repair): it takes a unit, is reserved for one on its way (then idle again), or
        # finds nothing
        waiting, self.idle = self.idle, deque()
        for m in waiting:
            self.serve(m, now)

    def serve(self, m: Machine, now: float) -> None:
        """A machine waiting for work, and out of the idle line, looks for it (after a repair
        or at the start of a shift): it takes the work, or joins the idle line."""
        work = self.work_for_idle(now) if self.on_shift(now) else None
        if work is None:
            self.idle.append(m)
            # (back in the idle line: with the rest of its station waiting, an assembly
            # station may now be stuck for good)
            check_deadlock(self, now)
        else:
            m.wake.succeed(work)

    def work_for_idle(self, now: float) -> Unit | None:
        """What an idle machine back from repair wakes up with: the unit it takes, or None
        (it waits, idle, for one)."""
        return self.take(now)

    def take(self, now: float) -> Unit | None:
        """The next unit for a free machine, letting one blocked sender in; None if none."""
        queue = self.queue
        blocked = self.blocked
        if queue:
            unit = queue.popleft()
            # the place it left goes to the longest-waiting sender, unless it is owed to a
            # unit on its way whose reserved machine broke down meanwhile
            if blocked and (type(blocked[0][1]) is Owed or self.room() > 0):
                waiting, event = blocked.popleft()
                if event is PLACE:  # a vehicle move: the place is reserved for its unit
                    self.queue_area.add(-1, now)
                    self.incoming += 1
                    waiting.fleet.ready(waiting)
                else:
                    if type(event) is Owed:
                        self.incoming -= 1
                        event = event.event
                    waiting.entered = now
                    queue.append(waiting)
                    if event is not None:
                        event.succeed()
            else:
                self.queue_area.add(-1, now)
            return unit
        if blocked and type(blocked[0][1]) is Owed:  # its place was lost to a breakdown
            unit, owed = blocked.popleft()
            self.incoming -= 1
            unit.entered = now
            owed.event.succeed()
            return unit
        if self.incoming and self.incoming > len(self.idle) + self.capacity:
            return None  # this machine is the place reserved for a unit on its way
        if blocked:
            unit, event = blocked.popleft()
            if event is PLACE:  # reserve this machine for the move's unit, and wait for it
                self.incoming += 1
                unit.fleet.ready(unit)
                return None
            unit.entered = now
            if event is not None:
                event.succeed()
            return unit
        if self.saturated:  # the products take turns, each for its campaign of units
            p = self.saturated[self._next_saturated]
            self._in_campaign += 1
            if self._in_campaign >= self.rep.model.products[p].campaign:
                self._in_campaign = 0
                self._next_saturated = (self._next_saturated + 1) % len(self.saturated)
            return self.rep.release(p, now)
        return None


class Machine(StateClock):
    """One server of a station: a StateClock with the bookkeeping failures need."""

    __slots__ = ("station", "index", "blocked_on", "down", "off", "base", "wake", "repaired",
                 "processing", "process", "busy_to_failure", "product", "holding", "overtime")

    def __init__(self, station: Station, index: int, now: float):
        active = station.active
        meters = [(area, kw) for area, (_, kw) in zip(station.meters, station.spec.meters)]

        if meters:
            def on_change(old: int, new: int, t: float) -> None:
                was, now_active = old in ACTIVE_STATES, new in ACTIVE_STATES
                if was != now_active:
                    active.change(1 if now_active else -1, t)
                for area, kw in meters:
                    area.add(kw[new] - kw[old], t)
        else:  # nothing to meter: the cheaper observer
            on_change = activity_observer(active, ACTIVE_STATES)

        super().__init__(len(STATES), STARVED, now, on_change)
        self.station = station
        self.index = index
        self.blocked_on: Station | Fleet | Conveyor | None = None  # what its unit waits for
        self.down = False
        self.off = False  # off shift: the clock counts off_shift whatever else holds
        self.base = STARVED  # the state the machine would be in if it were up
        self.wake: simpy.Event | None = None
        self.repaired: simpy.Event | None = None
        self.processing = False
        self.process: simpy.Process | None = None
        self.busy_to_failure = 0.0
        self.product = -1  # the product it is set up for (-1: none yet, set up for the first)
        self.holding = 1  # units it holds while blocked (a batch machine: the rest of its batch)
        self.overtime = False  # finishing its work in hand after its shift ended

    def off_duty(self, now: float) -> None:
        """Its work in hand done after the shift ended (`finish_in_hand`): off shift now."""
        self.overtime = False
        self.off = True
        self.enter(OFF_SHIFT, now)

    def set(self, state: int, now: float) -> None:
        """Change the working state; while down or off shift, the clock keeps counting
        `down` or `off_shift`."""
        self.base = state
        if self.overtime and state not in WORKING:
            self.off_duty(now)
        elif not (self.down or self.off):
            self.enter(state, now)

    def fail(self, env: simpy.Environment) -> None:
        """Break down now: interrupt processing, or stop taking work if idle."""
        now = env.now
        self.down = True
        self.repaired = env.event()
        if not self.off:
            self.enter(DOWN, now)
        if self.processing:
            self.process.interrupt()
        elif self.wake is not None and not self.wake.triggered:
            self.station.idle.remove(self)  # idle machines that are down take no work

    def repair(self, env: simpy.Environment) -> None:
        """Back up: resume the state it would be in, and look for work if idle."""
        now = env.now
        self.down = False
        if not self.off:
            self.enter(self.base, now)
        repaired, self.repaired = self.repaired, None
        repaired.succeed()
        if self.wake is not None and not self.wake.triggered:
            self.station.serve(self, now)


def run_machine(env: simpy.Environment, m: Machine, st: Station, rep: Replication):
    """The life of one machine: take a unit, process it, pass it on; forever."""
    spec = st.spec
    timeout = env.timeout
    event = env.event
    ptimes = rep.process_times[spec.index]
    step_times = rep.step_times  # a product's own times at a step (None: the station's)
    varied = spec.varied
    scrap = spec.scrap
    scrap_u = rep.scrap_draws[spec.index]
    time_failures, op_failures, ttf, ttr = failure_modes(m, spec, rep)
    setup = spec.setup
    routes = rep.routes
    stations = rep.stations
    fleets = rep.transport  # per product and step: the Fleet carrying units into it, or None
    belts = rep.belts_from[spec.index]  # station index -> the Conveyor carrying that move
    log = rep.events  # None unless an event log was asked for
    cal = st.calendar
    wcal = st.work_calendar  # the time work runs in
    finish = spec.finish_in_hand  # (under a calendar) work in hand goes on past a shift
    hold = holder(env, wcal)  # waits for t seconds of work (on shift, under a calendar)
    while True:
        if m.down:
            yield m.repaired
        if cal is not None and not cal.is_on(env.now):  # it waits for the shift to begin
            if m.overtime:  # (its unit done after the shift ended, and passed on)
                m.off_duty(env.now)
            yield timeout(cal.next_on(env.now) - env.now)
            continue
        unit = st.take(env.now)
        if unit is None:
            m.set(STARVED, env.now)
            m.wake = event()
            st.idle.append(m)
            unit = yield m.wake
            m.wake = None
            while True:
                if m.down:  # broke down in the very instant the unit arrived
                    m.set(BUSY, env.now)
                    yield m.repaired
                elif cal is not None and not cal.is_on(env.now):
                    # a unit delivered off shift to the machine its vehicle had reserved:
                    # it waits on the machine for the next shift
                    yield timeout(cal.next_on(env.now) - env.now)
                else:
                    break
        now = env.now
        st.wait_sum += now - unit.entered
        st.waits += 1
        if log is not None and now > unit.entered:
            log.append((unit.id, unit.product, "queue", spec.index, unit.entered, now))
        if unit.product != m.product:  # a changeover (none before the first unit)
            if m.product >= 0 and setup is not None:
                d = next(rep.setup_draws(spec, m.product, unit.product))
                if d > 0:  # a change that takes no time is no changeover
                    st.changeovers += 1
                    m.set(SETUP, now)
                    if time_failures:  # failures interrupt a setup as they do processing
                        yield from work(env, m, d, hold, wcal)
                    else:  # operation-dependent ones count busy time only
                        yield hold(d)
                    if log is not None:
                        log.append((unit.id, unit.product, "setup", spec.index, now, env.now))
            m.product = unit.product
        m.set(BUSY, env.now)
        again = True
        passes = 0
        while again:  # more than once only for rework on this same station
            again = False
            if passes and finish and not cal.is_on(env.now):
                # the unit's next pass here is new work: none starts off shift, even in hand
                if m.overtime:
                    m.off_duty(env.now)
                yield timeout(cal.next_on(env.now) - env.now)
            passes += 1
            t = next(step_times[unit.product][unit.step] or ptimes)
            started = env.now
            if time_failures:
                yield from work(env, m, t, hold, wcal)
            elif op_failures:
                yield from operate(env, m, t, ttf, ttr, hold)
            else:
                yield hold(t)
            now = env.now
            st.produced += 1
            st.process_sum += t
            if varied:
                st.planned_sum += rep.step_means[unit.product][unit.step]
            if log is not None:
                log.append((unit.id, unit.product, "process", spec.index, started, now))
            if scrap and next(scrap_u) < scrap:
                st.scrapped += 1
                rep.scrap(unit, now)
                continue
            steps = routes[unit.product]
            step = steps[unit.step]
            if step.rework_p and next(rep.rework_draws[unit.product][unit.step]) < step.rework_p:
                st.reworked += 1
                unit.reworked = True
                unit.step = step.rework_to
                if steps[unit.step].station == spec.index:
                    # rework on this very station: the machine does it again at once,
                    # rather than queueing behind its own full buffer (a self-deadlock)
                    st.waits += 1  # a processing start with no wait
                    again = True
                    continue
            else:
                unit.step += 1
                if unit.step == len(steps):
                    rep.finish(unit, now)
                    continue
                if steps[unit.step].station == spec.index:
                    # the next step is on this same station: the machine goes on with it,
                    # as for rework here, instead of waiting for room behind itself
                    st.waits += 1
                    again = True
                    continue
            to = steps[unit.step].station
            if belts and to in belts:  # a conveyor carries the move, whatever the transport
                belt = belts[to]
                if not belt.offer(unit, now):
                    yield from hand_on(env, m, st, unit, belt, rep)
                continue
            target = stations[to]
            if fleets[unit.product][unit.step] is not None or not target.offer(unit, now):
                yield from hand_on(env, m, st, unit, target, rep)


def failure_modes(m: Machine, spec: StationModel, rep: Replication) -> tuple:
    """(time-dependent?, operation-dependent?, busy time to failure and repair streams) of
    machine `m`; with operation-dependent failures it draws its first busy time to failure."""
    f = spec.failures
    time_failures = f is not None and not f.operation_dependent
    op_failures = f is not None and f.operation_dependent
    ttf = ttr = None
    if op_failures:
        ttf, ttr = rep.failure_draws(spec, m)
        m.busy_to_failure = next(ttf)
    return time_failures, op_failures, ttf, ttr


def next_work(env: simpy.Environment, m: Machine, st: Station, take):
    """Wait until machine `m` is up, on shift and `take(now)` gives it work (a batch, a
    kit); idle in the station's line meanwhile. Returns the work, and the moment it starts
    with all the units' waits in the station's counters."""
    while True:
        if m.down:
            yield m.repaired
        on = st.on_shift(env.now)
        if not on and m.overtime:  # (its work done after the shift ended, and passed on)
            m.off_duty(env.now)
        units = take(env.now) if on else None
        if units:
            break
        # it waits in the idle line (off shift too: the shift's start serves it), so that
        # a kitting deadlock is seen whenever it begins
        m.set(STARVED, env.now)
        m.wake = env.event()
        st.idle.append(m)
        check_deadlock(st, env.now)  # (an assembly station may wait for stuck feeders)
        yield m.wake
        m.wake = None
    started = env.now
    log = st.rep.events
    for unit in units:
        st.wait_sum += started - unit.entered
        st.waits += 1
        if log is not None and started > unit.entered:
            log.append((unit.id, unit.product, "queue", st.spec.index, unit.entered, started))
    return units


def process(env: simpy.Environment, m: Machine, t: float, modes: tuple, hold,
            cal: ShiftCalendar | None):
    """`t` seconds of processing on `m` under its failure `modes` (from `failure_modes`)."""
    time_failures, op_failures, ttf, ttr = modes
    if time_failures:
        yield from work(env, m, t, hold, cal)
    elif op_failures:
        yield from operate(env, m, t, ttf, ttr, hold)
    else:
        yield hold(t)


def holder(env: simpy.Environment, cal: ShiftCalendar | None):
    """A function giving the event of `t` seconds of work from now: a plain timeout, or
    under a calendar one that ends when `t` seconds on shift have passed."""
    if cal is None:
        return env.timeout
    timeout, advance = env.timeout, cal.advance

    def hold(t: float) -> simpy.Timeout:
        now = env.now
        return timeout(advance(now, t) - now)
    return hold


def work(env: simpy.Environment, m: Machine, t: float, hold, cal: ShiftCalendar | None):
    """`t` seconds of work (processing or a setup) on machine `m` (`hold` from `holder`): a
    time-dependent failure interrupts it, and after the repair it resumes where it stopped."""
    left = t
    while True:
        resumed = env.now
        m.processing = True
        try:
            yield hold(left)
            m.processing = False
            return
        except simpy.Interrupt:
            m.processing = False
            done = env.now - resumed if cal is None else cal.on_time(resumed, env.now)
            left = max(0.0, left - done)  # never below 0: a failure at the very end
            yield m.repaired


def repair_wait(env: simpy.Environment, m: Machine, t: float, hold) -> simpy.Timeout:
    """The repair of `t` seconds of a machine broken down while processing: as its work runs
    (`hold`), except under `finish_in_hand`, where work runs in clock time but a repair
    counts on-shift time (a machine down at a shift's end stops until the next), unless the
    machine broke down in overtime."""
    station = m.station
    if not station.spec.finish_in_hand or m.overtime:
        return hold(t)
    now = env.now
    return env.timeout(station.calendar.advance(now, t) - now)


def operate(env: simpy.Environment, m: Machine, t: float, ttf, ttr, hold):
    """`t` seconds of processing under operation-dependent failures: the machine's busy time
    to failure runs down while it processes; when it is used up, the machine is repaired
    (`ttr`) and draws its next busy time to failure (`ttf`). `hold` as in `work`."""
    left = t
    while left >= m.busy_to_failure:
        yield hold(m.busy_to_failure)
        left -= m.busy_to_failure
        m.down = True
        if not m.off:
            m.enter(DOWN, env.now)
        yield repair_wait(env, m, next(ttr), hold)
        m.down = False
        if not m.off:
            m.enter(BUSY, env.now)
        m.busy_to_failure = next(ttf)
    m.busy_to_failure -= left
    yield hold(left)


def hand_on(env: simpy.Environment, m: Machine, st: Station, unit: Unit,
            target: Station | Conveyor, rep: Replication, front: bool = False):
    """Pass `unit`, finished on machine `m` of `st`, to `target` when it cannot go at once:
    by vehicle (a place reserved first, the machine holding the unit until it is loaded) or
    by waiting, blocked, in the target's line of senders (at its front with `front`: a batch
    machine keeps its turn for the rest of its batch, behind any place owed after a
    breakdown). A conveyor `target` has a line of senders like a station's."""
    now = env.now
    fleet = rep.transport[unit.product][unit.step] if isinstance(target, Station) else None
    m.set(BLOCKED, now)
    st.n_blocked += 1
    if fleet is not None:
        loaded = env.event()
        # it waits for a place at the target, then (with one reserved) for a vehicle
        target.ask_place(Move(unit, st, target, loaded, now, fleet, m))
        check_deadlock(m.blocked_on, now)
        yield loaded
    else:
        wait = env.event()
        line = target.blocked
        if front:  # at the front, behind the places owed to vehicles' units
            owed = 0
            while owed < len(line) and type(line[owed][1]) is Owed:
                owed += 1
            line.insert(owed, (unit, wait))
        else:
            line.append((unit, wait))
        m.blocked_on = target
        check_deadlock(target, now)
        yield wait
        if rep.events is not None:
            rep.events.append((unit.id, unit.product, "blocked", st.spec.index, now, env.now))
    st.n_blocked -= 1
    m.blocked_on = None


class Deadlock(RunError):
    """No unit can move again: a closed set of stations whose machines are all blocked, and
    of fleets whose vehicles all wait, loaded, at those stations' full buffers.

    All data travel in `args`, because SimPy re-creates a process's exception from them.
    """

    def __init__(self, message: str, time_h: float = 0.0, stations: tuple[str, ...] = (),
                 units: int = 0, vehicles: tuple[str, ...] = (),
                 conveyors: tuple[str, ...] = ()):
        super().__init__(message, time_h, tuple(stations), units, tuple(vehicles),
                         tuple(conveyors))

    @classmethod
    def of(cls, now: float, stations: list[Station], fleets: list = (),
           belts: list[Conveyor] = ()) -> Deadlock:
        names = tuple(st.spec.name for st in stations)
        vehicles = tuple(v.name for f in fleets for v in f.vehicles)
        # (a blocked batch machine holds more; units loaded on vehicles bound for a station
        # of the set will be stuck there too)
        units = sum(st.kept() + st.n_blocked + st.on_vehicles +
                    sum(m.holding - 1 for m in st.machines if m.blocked_on is not None)
                    for st in stations) + len(vehicles) + sum(len(c.aboard) for c in belts)
        what = f"every machine of {', '.join(names)} is blocked"
        if belts:
            what += (f" and conveyor{'s' * (len(belts) > 1)} "
                     f"{', '.join(c.spec.name for c in belts)} take{'s' * (len(belts) == 1)} "
                     f"no unit")
        if fleets:
            what += (f" and every vehicle of {', '.join(f.spec.name for f in fleets)} waits, "
                     f"loaded, at a full buffer")
        fix = "give a station of the loop a larger buffer or send rework elsewhere"
        if fleets:
            fix = "give a station a larger buffer or the fleet more vehicles"
        return cls(
            f"deadlock at t = {now / 3600:.6g} h: {what}, each waiting for room in a full "
            f"buffer of the same set ({units} units stuck); {fix}",
            now / 3600, names, units, vehicles, tuple(c.spec.name for c in belts))

    def __str__(self) -> str:
        return self.args[0]

    def record(self) -> dict:
        """The deadlock as data for the results."""
        doc = {"time_h": self.args[1], "stations": list(self.args[2]), "units": self.args[3]}
        if self.args[4]:
            doc["vehicles"] = list(self.args[4])
        if self.args[5]:
            doc["conveyors"] = list(self.args[5])
        return doc


def check_deadlock(start, now: float) -> None:
    """Raise Deadlock if `start` (a Station, Fleet or Conveyor) and everything it waits on,
    transitively, are stuck: stations with every machine blocked, fleets with every vehicle
    waiting at a full buffer, conveyors that take no unit until their end one leaves. Then
    none of them can ever move a unit again.

    Called when a machine or vehicle starts waiting on something stuck, the only moments a
    deadlock can begin; otherwise something on the chain can still move and will.
    """
    if not start.stuck():
        return
    seen = {id(start): start}
    todo = [start]
    while todo:
        node = todo.pop()
        if not node.stuck():
            return
        for target in node.waits_on():
            if id(target) not in seen:
                seen[id(target)] = target
                todo.append(target)
    stations = sorted((n for n in seen.values() if isinstance(n, Station)),
                      key=lambda st: st.spec.index)
    fleets = sorted((n for n in seen.values() if isinstance(n, Fleet)),
                    key=lambda f: f.spec.index)
    for st in stations:  # (a belt holding parts behind one waiting at its lane)
        for c in st.held():
            seen.setdefault(id(c), c)
    belts = sorted((n for n in seen.values() if isinstance(n, Conveyor)),
                   key=lambda c: c.spec.index)
    raise Deadlock.of(now, stations, fleets, belts)


def run_failures(env: simpy.Environment, m: Machine, ttf, ttr):
    """Time-dependent failures of one machine: the clock runs whenever the machine is up
    (and on shift: under a calendar both times are on-shift time)."""
    hold = holder(env, m.station.calendar)
    while True:
        yield hold(next(ttf))
        m.fail(env)
        yield hold(next(ttr))
        m.repair(env)
