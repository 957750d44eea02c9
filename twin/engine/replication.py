"""One replication of a Model on the SimPy engine: build, run, collect.

The phases are explicit: `Replication(model, r, seed)` builds the processes, `run()` simulates
warm-up plus horizon and returns a `ReplicationResult` of plain records. Warm-up deletes
statistics, never units: at its end every counter, clock and area restarts.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import simpy
from simpy.core import StopSimulation

from twin.engine.accounting import Area, OpenGroups
from twin.engine.bottleneck import BottleneckTracker
from twin.engine.records import (Row, battery_rows, bottleneck_rows, bottleneck_timeline_rows,
                                 conveyor_rows, fleet_rows, lift_rows, product_rows,
                                 segment_rows, station_rows, system_rows, warehouse_rows)
from twin.errors import RunError
from twin.engine.assembly import AssemblyStation, run_assembly
from twin.engine.batch import BatchStation, run_batch
from twin.engine.stations import Machine, Station, Unit, run_failures, run_machine
from twin.engine.charging import run_battery_vehicle
from twin.engine.conveyors import Conveyor, run_conveyor
from twin.engine.lifts import Lift, run_car
from twin.engine.traffic import Segment
from twin.engine.vehicles import Fleet, run_vehicle
from twin.engine.warehouse import Warehouse, run_crane
from twin.model import (ALL_VEHICLE_STATES, CONVEYOR_STATES, LIFT_STATES, STATES, Model,
                        StationModel)
from twin.streams import draws, stream, uniforms
from twin.units import HOUR


@dataclass
class ReplicationResult:
    """What one replication measured, as tidy records; the run stage turns them into tables."""

    replication: int
    measures: list[tuple[str, str, str, float]]  # (kind, entity, measure, value)
    active_periods: dict[str, tuple[np.ndarray, np.ndarray]]  # station -> (starts_h, ends_h)
    simulate_s: float = 0.0
    timeline: list[tuple[float, str, str, str, float]] = field(default_factory=list)
    events: list[tuple[int, str, str, str, float, float]] = field(default_factory=list)
    # (time_h at the interval's end, kind, entity, measure, value in that interval)


class Replication:
    """The SimPy model of one replication: stations, machines, releases, failures."""

    def __init__(self, model: Model, replication: int, seed: int, warmup: float):
        self.model = model
        self.replication = replication
        self.warmup = warmup
        self.end = warmup + model.horizon
        self.env = env = simpy.Environment()

        def rng(purpose: str, entity: str) -> np.random.Generator:
            return stream(seed, replication, purpose, entity)

        self._rng = rng
        self.process_times = [
            draws(s.process_time.sample, rng("process", s.name)) for s in model.stations]
        self.scrap_draws = [uniforms(rng("scrap", s.name)) for s in model.stations]
        # a product's own process time at a step: its own stream (None: the station's)
        self.step_times = [
            [draws(st.process_time.sample, rng("process", st.stream)) if st.process_time
             else None for st in p.steps] for p in model.products]
        self.step_means = [  # planned run time of each step, for OEE where times vary
            [(st.process_time or model.stations[st.station].process_time).mean
             for st in p.steps] for p in model.products]
        self.rework_draws = [
            [uniforms(rng("rework", f"{p.name}/{k}")) if st.rework_p else None
             for k, st in enumerate(p.steps)]
            for p in model.products]
        self.routes = [p.steps for p in model.products]
        self._setups: dict[tuple[int, int, int], Iterator[float]] = {}  # see setup_draws
        self.units = 0  # units created so far: the next unit's id
        # (unit, product, activity, station or -1, start s, end s) when an event log is asked for
        self.events: list[tuple[int, int, str, int, float, float]] | None = (
            [] if model.event_log else None)
        n = len(model.products)
        self.wip = Area()
        self.released = [0] * n
        self.finished = [0] * n
        self.scrapped = [0] * n
        self.lead_sum = [0.0] * n
        self.scrap_sum = [0.0] * n  # time in system of scrapped units (Little's law)
        self.first_pass = [0] * n  # finished without any rework
        self.consumed = [0] * n  # parts joined into another product at an assembly station
        self.consumed_sum = [0.0] * n  # their time in the system (Little's law)
        self.wip_start = 0
        self.backlog = [0] * n
        # CONWIP: units released by a freed card (a leaving unit frees one) and not yet
        # taken to the first station: in the system from then on, also while they wait
        # outside a full first station
        self.cards: list[deque[Unit]] = [deque() for _ in range(n)]
        self.release_wake: list[simpy.Event | None] = [None] * n

        self.open_groups = OpenGroups()  # stations active now, for pruning active periods
        self.interval = sample_interval(model.horizon)
        # Roser's method on the fly: stations, then fleets, lifts and conveyors (periods
        # kept only with a log)
        self.bottleneck = BottleneckTracker(
            len(model.stations) + len(model.fleets) + len(model.lifts) + len(model.conveyors),
            warmup, self.end, self.interval)
        self.stations = [Warehouse(s, self) if s.warehouse else
                         BatchStation(s, self) if s.batch else
                         AssemblyStation(s, self) if s.assembly else Station(s, self)
                         for s in model.stations]
        first_lift = len(model.stations) + len(model.fleets)
        self.lifts = [Lift(spec, self, first_lift + spec.index) for spec in model.lifts]
        for lift in self.lifts:
            for car in lift.cars:
                env.process(run_car(env, car, lift))
        for st in self.stations:
            if isinstance(st, AssemblyStation):
                st.link(self.stations)
        first_belt = first_lift + len(model.lifts)
        self.conveyors = [Conveyor(spec, self, first_belt + spec.index)
                          for spec in model.conveyors]
        # per station: the conveyors leaving it, by the station they go to
        self.belts_from: list[dict[int, Conveyor]] = [{} for _ in model.stations]
        for c in self.conveyors:
            self.belts_from[c.spec.frm][c.spec.to] = c
            if isinstance(c.target, AssemblyStation):  # it carries parts into their lanes
                c.target.link_belt(c)
            env.process(run_conveyor(env, c, self))
        self.segments = [Segment(spec, env) for spec in model.segments]
        self.fleets = [Fleet(f, self) for f in model.fleets]
        # per product and route step: the Fleet carrying units into that step, or None
        self.transport = [[self.fleets[s.fleet] if s.fleet >= 0 else None for s in p.steps]
                          for p in model.products]
        for fleet in self.fleets:
            life = run_battery_vehicle if fleet.spec.battery else run_vehicle
            for v in fleet.vehicles:
                env.process(life(env, v, fleet, self))
        for st in self.stations:
            for i in range(st.spec.servers):
                m = Machine(st, i, 0.0)
                st.machines.append(m)
                life = run_crane if st.spec.warehouse else \
                    run_batch if st.spec.batch else \
                    run_assembly if st.spec.assembly else run_machine
                m.process = env.process(life(env, m, st, self))
                if st.spec.failures is not None and not st.spec.failures.operation_dependent:
                    ttf, ttr = self.failure_draws(st.spec, m)
                    env.process(run_failures(env, m, ttf, ttr))
            if st.calendar is not None:
                env.process(self._shifts(st))
        self.initial = self._place_initial_wip()  # units per product at time 0
        # CONWIP counts the units already in: fewer to release, or some not to replace
        self.excess = [max(0, n - p.conwip) if p.release == "conwip" else 0
                       for n, p in zip(self.initial, model.products)]
        for p in model.products:
            first = self.stations[p.steps[0].station]
            if p.release == "saturated":
                first.saturated.append(p.index)
            elif p.release != "assembly":  # (assembled units enter when their kit is taken)
                env.process(self._release(p.index, first))
                if p.release == "interarrival":
                    env.process(self._arrivals(p.index, p.interarrival))
                else:
                    for _ in range(max(0, p.conwip - self.initial[p.index])):
                        self._add_backlog(p.index)
        if warmup > 0:
            env.process(self._end_warmup(warmup))
        self.peak = (-math.inf, math.nan, math.nan)  # kW, start h, end h after warm-up
        self.samples: list[tuple[float, str, str, str, float]] = []
        self.sample_times: list[float] = []  # each timeline interval's end, hours
        env.process(self._sample())

    def setup_draws(self, spec: StationModel, frm: int, to: int):
        """Setup times of one product change at one station: a stream of its own, named by
        the station and both products (common random numbers across layouts)."""
        key = (spec.index, frm, to)
        it = self._setups.get(key)
        if it is None:
            names = self.model.products
            entity = f"{spec.name}/{names[frm].name}>{names[to].name}"
            it = self._setups[key] = draws(spec.setup.time(frm, to).sample,
                                           self._rng("setup", entity))
        return it

    def failure_draws(self, spec: StationModel, m: Machine):
        """Times to failure and to repair of one machine, each its own stream."""
        name = f"{spec.name}/{m.index}"
        f = spec.failures
        return (draws(f.mtbf.sample, self._rng("failure", name)),
                draws(f.mttr.sample, self._rng("repair", name)))

    # --- flow of units -------------------------------------------------------------
    def release(self, product: int, now: float) -> Unit:
        """A new unit enters the system now."""
        self.released[product] += 1
        self.wip.add(1, now)
        if self.wip.level > self.model.max_wip:
            self._runaway(now)
        self.units += 1
        unit = Unit(self.units, product, now)
        if self.events is not None:
            self.events.append((unit.id, product, "release", -1, now, now))
        return unit

    def _runaway(self, now: float) -> None:
        raise RunError(
            f"runaway run: {self.wip.level} units in the system at t = {now / HOUR:.6g} h, "
            f"over the limit run.max_wip = {self.model.max_wip}; arrivals outpace capacity "
            f"or a buffer grows without bound")

    def finish(self, unit: Unit, now: float) -> None:
        p = unit.product
        self.finished[p] += 1
        if not unit.reworked:
            self.first_pass[p] += 1
        self.lead_sum[p] += now - unit.released
        self.wip.add(-1, now)
        if self.events is not None:
            self.events.append((unit.id, p, "finish", -1, now, now))
        self._leave(p)

    def scrap(self, unit: Unit, now: float) -> None:
        self.scrapped[unit.product] += 1
        self.scrap_sum[unit.product] += now - unit.released
        self.wip.add(-1, now)
        if self.events is not None:
            self.events.append((unit.id, unit.product, "scrap", -1, now, now))
        self._leave(unit.product)

    def consume(self, unit: Unit, station: int, now: float) -> None:
        """A part joined into another product at an assembly station leaves the system."""
        p = unit.product
        self.consumed[p] += 1
        if not unit.reworked:
            self.first_pass[p] += 1
        self.consumed_sum[p] += now - unit.released
        self.wip.add(-1, now)
        if self.events is not None:
            self.events.append((unit.id, p, "consumed", station, now, now))
        self._leave(p)

    def _leave(self, p: int) -> None:
        if self.model.products[p].release == "conwip":
            if self.excess[p]:  # an initial unit over the CONWIP limit: not replaced
                self.excess[p] -= 1
            else:
                self._add_backlog(p)

    def _place_initial_wip(self) -> list[int]:
        """Units in the factory at time 0 wait in their station's buffer for their step
        there (its first on the route); the machines take the first ones at once. At a
        warehouse the first ones are in store, dwelling (`Warehouse.stock`)."""
        initial = [0] * len(self.model.products)
        for s, p, n, remaining in self.model.initial_wip:
            st = self.stations[s]
            step = next(k for k, stp in enumerate(self.routes[p]) if stp.station == s)
            found = []
            for _ in range(n):
                self.units += 1
                unit = Unit(self.units, p, 0.0)
                unit.step = step
                found.append(unit)
                if self.events is not None:
                    self.events.append((unit.id, p, "initial", s, 0.0, 0.0))
            if st.spec.warehouse is not None:
                found = st.stock(found, remaining, self._rng(
                    "initial", f"{st.spec.name}/{self.model.products[p].name}"))
            st.queue.extend(found)
            st.queue_area.add(len(found), 0.0)
            self.wip.add(n, 0.0)
            initial[p] += n
        self.wip_start = self.wip.level
        return initial

    def _shifts(self, st: Station):
        """A station's calendar: it goes off shift between its on-shift stretches."""
        env = self.env
        on = True
        for start, end in st.calendar.shifts():
            if start > env.now:
                if on:  # (only at time 0: the run begins off shift)
                    st.shift_ends(env.now)
                    on = False
                yield env.timeout(start - env.now)
            if not on:
                st.shift_starts(env.now)
                on = True
            if math.isinf(end):
                return
            yield env.timeout(max(0.0, end - env.now))
            st.shift_ends(env.now)
            on = False

    def _add_backlog(self, p: int) -> None:
        if self.model.products[p].release == "conwip":  # released now (see `cards`)
            now = self.env.now
            self.units += 1
            unit = Unit(self.units, p, now)
            self.cards[p].append(unit)
            if self.events is not None:
                self.events.append((unit.id, p, "release", -1, now, now))
            self.released[p] += 1
            self.wip.add(1, now)
            if self.wip.level > self.model.max_wip:
                self._runaway(now)
        self.backlog[p] += 1
        wake = self.release_wake[p]
        if wake is not None:
            self.release_wake[p] = None
            wake.succeed()

    def _arrivals(self, p: int, interarrival):
        """Open arrivals: each adds one unit to the product's release backlog. Under an
        arrival calendar the gaps count on-shift time, so units arrive only on shift."""
        product = self.model.products[p]
        gaps = draws(interarrival.sample, self._rng("arrivals", product.name))
        env = self.env
        timeout = env.timeout
        cal = product.arrival_calendar
        while True:
            if cal is None:
                yield timeout(next(gaps))
            else:  # (a gap ending exactly at a shift's end, or of 0 off shift, arrives at
                # the next shift's start: shifts are half-open)
                t = cal.advance(env.now, next(gaps))
                yield timeout((t if cal.is_on(t) else cal.next_on(t)) - env.now)
            self._add_backlog(p)

    def _release(self, p: int, first: Station):
        """Release backlog units into the first station; wait outside while it is full."""
        env = self.env
        while True:
            if self.backlog[p] == 0:
                self.release_wake[p] = wake = env.event()
                yield wake
            self.backlog[p] -= 1
            cards = self.cards[p]
            if cards:  # CONWIP: released when its card was freed (counted then)
                unit = cards.popleft()
                unit.entered = env.now
            else:
                self.units += 1
                unit = Unit(self.units, p, env.now)
            if not first.offer(unit, env.now):
                wait = env.event()
                first.blocked.append((unit, wait))
                yield wait
            if self.model.products[p].release == "conwip":
                continue
            # open arrivals: released when it enters the system (buffer or machine), not
            # while it waits outside
            unit.released = env.now
            if self.events is not None:
                self.events.append((unit.id, p, "release", -1, env.now, env.now))
            self.released[p] += 1
            self.wip.add(1, env.now)
            if self.wip.level > self.model.max_wip:
                self._runaway(env.now)

    # --- measurement ---------------------------------------------------------------
    def _sample(self):
        """Every `interval` of the horizon: energy per station, output, WIP in that interval.

        Cumulative integrals are read at the interval's end and differenced, so the values
        are exact (no sampling of states), e.g. the interval's energy and mean power.
        """
        env, interval = self.env, self.interval
        yield env.timeout(self.warmup)
        self._last = ({}, [0] * len(self.model.products), 0.0, env.now)
        self._demand = (0.0, env.now)  # net electricity so far, and when it was read
        every = round(interval / DEMAND_INTERVAL)  # demand intervals per timeline interval
        k = 0
        while True:
            k += 1
            yield env.timeout(self.warmup + k * DEMAND_INTERVAL - env.now)
            self._take_demand(env.now)
            self._resolve_bottleneck(env.now)
            if k % every == 0:
                self._take_sample(env.now)

    def _resolve_bottleneck(self, now: float) -> None:
        """Let the tracker decide up to the oldest period still open or pending."""
        until = now
        for group in self._groups():
            until = min(until, group.unsettled_since(now))
        self.bottleneck.resolve(until)

    def _groups(self):
        return ([st.active for st in self.stations] + [f.active for f in self.fleets]
                + [lift.active for lift in self.lifts] + [c.active for c in self.conveyors])

    def _net_electricity(self, now: float) -> float:
        """Stations' electricity less recovered power, plus vehicle chargers' draw from the
        grid, integrated to `now` (kW·s)."""
        total = 0.0
        for st in self.stations:
            for (carrier, _), meter in zip(st.spec.meters, st.meters):
                if carrier == "energy":
                    total += meter.integral(now)
                elif carrier == "recovered":
                    total -= meter.integral(now)
        for fleet in self.fleets:
            total += fleet.grid_integral(now)
        for lift in self.lifts:
            total += lift.energy_integral(now)
        for c in self.conveyors:
            total += c.energy_integral(now)
        return total

    def _take_demand(self, now: float) -> None:
        """Track the highest mean net electric power over a 15-minute demand interval."""
        energy, since = self._demand
        if now <= since:
            return
        e = self._net_electricity(now)
        kw = (e - energy) / (now - since)
        if kw > self.peak[0]:
            self.peak = (kw, (since - self.warmup) / HOUR, (now - self.warmup) / HOUR)
        self._demand = (e, now)

    def _timeline_meters(self) -> list[tuple[str, str, str, Callable[[float], float]]]:
        """(kind, entity, measure, energy integral to a time) of everything metered in the
        timeline: stations' carriers, battery fleets' chargers, lifts, conveyors."""
        return ([("station", st.spec.name, f"{carrier}_kwh", meter.integral)
                 for st in self.stations
                 for (carrier, _), meter in zip(st.spec.meters, st.meters)]
                + [("fleet", f.spec.name, "energy_kwh", f.grid_integral)
                   for f in self.fleets if f.spec.battery]
                + [("lift", lift.spec.name, "energy_kwh", lift.energy_integral)
                   for lift in self.lifts]
                + [("conveyor", c.spec.name, "energy_kwh", c.energy_integral)
                   for c in self.conveyors])

    def _take_sample(self, now: float) -> None:
        energy, finished, wip, since = self._last
        if now <= since:
            return
        t_h = (now - self.warmup) / HOUR
        self.sample_times.append(t_h)
        rows = self.samples
        for key, (kind, name, measure, integral) in enumerate(self._timeline_meters()):
            e = integral(now)
            rows.append((t_h, kind, name, measure, (e - energy.get(key, 0.0)) / HOUR))
            energy[key] = e
        for p in self.model.products:
            rows.append((t_h, "product", p.name, "finished",
                         self.finished[p.index] - finished[p.index]))
            finished[p.index] = self.finished[p.index]
        w = self.wip.integral(now)
        rows.append((t_h, "system", "", "wip_mean", (w - wip) / (now - since)))
        self._last = (energy, finished, w, now)

    def _end_warmup(self, warmup: float):
        yield self.env.timeout(warmup)
        self.restart(self.env.now)

    def restart(self, now: float) -> None:
        """End of warm-up: delete statistics, keep every unit where it is."""
        n = len(self.model.products)
        self.released = [0] * n
        self.finished = [0] * n
        self.scrapped = [0] * n
        self.lead_sum = [0.0] * n
        self.scrap_sum = [0.0] * n
        self.first_pass = [0] * n
        self.consumed = [0] * n
        self.consumed_sum = [0.0] * n
        self.wip.restart(now)
        self.wip_start = self.wip.level
        for st in self.stations:
            st.restart(now)
            for m in st.machines:
                m.restart(now)
        for fleet in self.fleets:
            fleet.restart(now)
        for lift in self.lifts:
            lift.restart(now)
        for c in self.conveyors:
            c.restart(now)
        for segment in self.segments:
            segment.restart(now)

    def run(self) -> ReplicationResult:
        """Simulate to the end, checking the runaway guards every CHECK_EVERY events."""
        started = time.perf_counter()
        env, model = self.env, self.model
        # What Environment.run(until) does, with a counted loop instead of its bare one:
        # an urgent event at the end stops the run before any regular event at that time.
        until = simpy.Event(env)
        until._ok = True
        until._value = None
        env.schedule(until, simpy.events.URGENT, self.end - env.now)
        until.callbacks.append(StopSimulation.callback)
        step = env.step
        events = 0
        limit = model.max_events
        wall = model.max_wall_s
        try:
            while True:
                for _ in range(CHECK_EVERY):
                    step()
                events += CHECK_EVERY
                if limit is not None and events >= limit:
                    raise RunError(
                        f"runaway run: replication {self.replication} processed {events:,} "
                        f"events (run.max_events) and reached only t = {env.now / HOUR:.6g} h "
                        f"of {self.end / HOUR:.6g} h; check for very short process times")
                if wall is not None and time.perf_counter() - started > wall:
                    raise RunError(
                        f"runaway run: replication {self.replication} took more than "
                        f"{wall:g} s of wall time (run.max_wall) and reached only "
                        f"t = {env.now / HOUR:.6g} h of {self.end / HOUR:.6g} h")
        except StopSimulation:
            pass
        self.events_processed = events
        elapsed = time.perf_counter() - started
        return self.collect(elapsed)

    def collect(self, elapsed: float) -> ReplicationResult:
        """Close every clock at the end of the horizon and emit tidy records."""
        end, model = self.end, self.model
        period_h = model.horizon / HOUR
        self._take_demand(end)  # the last intervals end with the run
        self._take_sample(end)
        rows: list[Row] = []
        for p in model.products:
            j = p.index
            rows += product_rows(p, period_h, self.released[j], self.finished[j],
                                 self.scrapped[j], self.first_pass[j], self.lead_sum[j],
                                 self.scrap_sum[j], self.consumed[j], self.consumed_sum[j])
        # every period reaches the tracker before it settles the bottleneck
        periods = {}
        for group, name in zip(self._groups(), self._names()):
            starts, ends = group.close(end)
            if model.event_log:
                periods[name] = (np.frombuffer(starts, dtype=float) / HOUR,
                                 np.frombuffer(ends, dtype=float) / HOUR)
        tracker = self.bottleneck
        tracker.finish()
        for st in self.stations:
            totals = np.zeros(len(STATES))
            for m in st.machines:
                totals += m.close(end)
            rows += station_rows(st.spec, totals, st.queue_area.mean(end), st.wait_sum,
                                 st.waits, st.produced, st.scrapped, st.reworked,
                                 st.process_sum, st.waiting(), st.changeovers,
                                 st.planned_sum if st.spec.varied else None)
            if st.spec.warehouse:
                rows += warehouse_rows(
                    st.spec, st.stored_area.mean(end), st.stored, st.stores, st.retrieves,
                    [(st.single_stores, st.store_sum), (st.single_retrieves, st.retrieve_sum),
                     (st.duals, st.dual_sum)], (st.fetched, st.dwell_sum))
        for fleet in self.fleets:
            totals = np.zeros(len(ALL_VEHICLE_STATES))
            stored = fleet.stored(end)
            for v in fleet.vehicles:
                if fleet.spec.battery:
                    v.check(end)  # a battery that ran flat and stayed so
                totals += v.close(end)
            rows += fleet_rows(fleet.spec, totals, fleet.trips, fleet.carried,
                               fleet.metres + fleet.charger_metres, fleet.response_sum,
                               fleet.trip_sum)
            if fleet.spec.battery:
                rows += battery_rows(fleet.spec, totals, fleet.charges, fleet.charger_metres,
                                     fleet.battery_start, stored,
                                     fleet.lift_to_charger.integral(self.end),
                                     (fleet.opportunity_charges, fleet.interrupted))
        for lift in self.lifts:
            totals = np.zeros(len(LIFT_STATES))
            for car in lift.cars:
                totals += car.close(end)
            rows += lift_rows(lift.spec, totals, lift.rides, lift.waits, lift.wait_sum,
                              lift.ride_sum, lift.waiting.mean(end))
        for c in self.conveyors:
            rows += conveyor_rows(c.spec, c.clock.close(end), c.carried, c.aboard_sum,
                                  c.level.mean(end), c.most, len(c.aboard))
        for segment in self.segments:
            rows += segment_rows(segment.spec, segment.on.mean(end), segment.entries,
                                 segment.passes, segment.waits, segment.wait_sum,
                                 segment.on_sum, segment.waiting.mean(end), segment.queue_max)
        rows += system_rows(self.wip.mean(end), self.wip_start, self.wip.level, period_h,
                            self.warmup)
        rows += [("system", "", "peak_station_kw", self.peak[0]),
                 ("system", "", "peak_start_h", self.peak[1]),
                 ("system", "", "peak_end_h", self.peak[2])]
        kinds = [("station", s.name) for s in model.stations] + \
                [("fleet", f.name) for f in model.fleets] + \
                [("lift", lift.name) for lift in model.lifts] + \
                [("conveyor", c.name) for c in model.conveyors]
        rows += bottleneck_rows(kinds, tracker.sole, tracker.shifting)
        samples = self.samples + bottleneck_timeline_rows(kinds, tracker, self.sample_times)
        return ReplicationResult(self.replication, rows, periods, simulate_s=elapsed,
                                 timeline=samples, events=self._event_rows())

    def _names(self) -> list[str]:
        return ([s.name for s in self.model.stations] + [f.name for f in self.model.fleets]
                + [lift.name for lift in self.model.lifts]
                + [c.name for c in self.model.conveyors])

    def _event_rows(self) -> list[tuple[int, str, str, str, float, float]]:
        """The event log in hours, names resolved; events that ended before the warm-up
        did are left out (the log covers the measured period, like every statistic)."""
        if self.events is None:
            return []
        products = [p.name for p in self.model.products]
        stations = [s.name for s in self.model.stations]
        w = self.warmup
        return [(u, products[p], activity, stations[k] if k >= 0 else "", a / HOUR, b / HOUR)
                for u, p, activity, k, a, b in self.events if b >= w]


MAX_INTERVALS = 5000
CHECK_EVERY = 50_000  # events between two checks of the runaway guards


DEMAND_INTERVAL = 900.0  # seconds: peak demand is the highest 15-minute mean power


def sample_interval(horizon: float) -> float:
    """The timeline's interval: 15 minutes, or a whole multiple of it when the horizon would
    give more than MAX_INTERVALS (peak demand is still tracked over 15 minutes)."""
    return DEMAND_INTERVAL * max(1, math.ceil(horizon / MAX_INTERVALS / DEMAND_INTERVAL))


def simulate(model: Model, replication: int, seed: int, warmup: float) -> ReplicationResult:
    """Build and run one replication."""
    return Replication(model, replication, seed, warmup).run()
