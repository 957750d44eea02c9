"""Scenario -> Model: the resolved, index-based description the engines consume.

The model holds no YAML and no pydantic objects: stations and products are numbered, routes
are tuples of steps pointing at station numbers, rework targets are step numbers. Engines
trust it completely; all checking happened when the scenario was loaded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from twin.calendars import ShiftCalendar, calendar
from twin.scenario.distributions import Dist
from twin.scenario.initial import units
from twin.scenario.lifts import lift_stops
from twin.scenario.network import (Leg, Routes, _path_lengths, distances, limited_paths,
                                   rework_step, segment_name, station_point, step_fleet)
from twin.scenario.schema import (CHARGING_POWER_DEFAULTS, DIRECT, Battery, Conwip,
                                  Interarrival, Logistics, Scenario, VehiclePower,
                                  vehicle_power)

# Machine states of results.md, in this order everywhere (ledgers, tables, reports).
STATES = ("busy", "starved", "blocked", "down", "setup", "off_shift")
BUSY, STARVED, BLOCKED, DOWN, SETUP, OFF_SHIFT = range(len(STATES))
# Energy carriers metered per station: (measure prefix, station key of kW per state).
METERS = (("energy", "power_kw"), ("heat", "heat_kw"), ("recovered", "recovered_kw"))
# Roser's active period method: active = busy, down or setup.
ACTIVE_STATES = frozenset((BUSY, DOWN, SETUP))
# Vehicle states, in this order everywhere (waiting: loaded at a full buffer; the last three
# only with a battery: driving to a charger, waiting there for a place, charging).
VEHICLE_STATES = ("moving_loaded", "moving_empty", "loading", "unloading", "waiting", "idle",
                  "to_charger", "waiting_charger", "charging")
# With lifts only (and reported only then, so other scenarios keep their tables): at a
# lift's point waiting for its car; driving in, riding, driving out.
LIFT_VEHICLE_STATES = ("waiting_lift", "riding_lift")
ALL_VEHICLE_STATES = VEHICLE_STATES + LIFT_VEHICLE_STATES
(MOVING_LOADED, MOVING_EMPTY, LOADING, UNLOADING, WAITING, IDLE,
 TO_CHARGER, WAITING_CHARGER, CHARGING, WAITING_LIFT, RIDING_LIFT) = range(len(ALL_VEHICLE_STATES))
# Lift car states, in this order everywhere: travelling with a vehicle, travelling empty to
# a call, a vehicle driving in, a vehicle driving out, standing with nothing to do.
LIFT_STATES = ("moving_loaded", "moving_empty", "loading", "unloading", "idle")
(LIFT_MOVING_LOADED, LIFT_MOVING_EMPTY, LIFT_LOADING, LIFT_UNLOADING,
 LIFT_IDLE) = range(len(LIFT_STATES))

# Conveyor states, in this order everywhere: some unit aboard moving, units aboard but none
# moving, nothing aboard.
CONVEYOR_STATES = ("moving", "stopped", "empty")
CONVEYOR_MOVING, CONVEYOR_STOPPED, CONVEYOR_EMPTY = range(len(CONVEYOR_STATES))


@dataclass(frozen=True)
class FailureModel:
    mtbf: Dist
    mttr: Dist
    operation_dependent: bool


@dataclass(frozen=True)
class WarehouseModel:
    places: int
    length: float  # metres of rack along the aisle
    height: float  # metres
    speed_x: float  # m/s
    speed_y: float  # m/s
    pick_deposit: Dist
    dual: bool = False  # a store and a retrieval in one crane trip where both are waiting

    def _shape(self) -> tuple[float, float]:
        """Bozer & White's T = max(L/vx, H/vy) and shape factor b = min(L/vx, H/vy) / T."""
        tx, ty = self.length / self.speed_x, self.height / self.speed_y
        big = max(tx, ty)
        return big, min(tx, ty) / big

    @property
    def single_command(self) -> float:
        """Expected single-command crane cycle with random storage (Bozer & White 1984):
        T(1 + b²/3) + 2 × pick/deposit."""
        big, b = self._shape()
        return big * (1 + b * b / 3) + 2 * self.pick_deposit.mean

    @property
    def dual_command(self) -> float:
        """Expected dual-command crane cycle with random storage (Bozer & White 1984):
        (T/30)(40 + 15b² − b³) + 4 × pick/deposit."""
        big, b = self._shape()
        return big / 30 * (40 + 15 * b * b - b ** 3) + 4 * self.pick_deposit.mean


@dataclass(frozen=True)
class SetupModel:
    """Changeover times of a station: `default` for any product change, `changes` for the
    listed ones ((from product, to product) indices -> time)."""

    default: Dist
    changes: tuple[tuple[tuple[int, int], Dist], ...] = ()

    def time(self, frm: int, to: int) -> Dist:
        """The setup time of a change from product `frm` to product `to`."""
        return next((d for pair, d in self.changes if pair == (frm, to)), self.default)


@dataclass(frozen=True)
class BatchModel:
    size: int  # units per batch
    least: int  # units waiting before a batch starts


@dataclass(frozen=True)
class AssemblyModel:
    parts: tuple[tuple[int, int], ...]  # (part product, units per kit)
    makes: int  # the product each kit becomes


@dataclass(frozen=True)
class StationModel:
    index: int
    name: str
    servers: int
    capacity: float  # input buffer places; math.inf when unlimited
    process_time: Dist
    scrap: float
    failures: FailureModel | None
    power_kw: tuple[float, ...]  # per machine, indexed like STATES
    meters: tuple[tuple[str, tuple[float, ...]], ...]  # (carrier, kW per state) with any > 0
    area: str | None
    point: int = -1  # point of the path network where vehicles serve it (-1: none)
    warehouse: WarehouseModel | None = None  # an AS/RS: servers are its cranes
    setup: SetupModel | None = None  # changeovers between products
    varied: bool = False  # some route step sets its own process time here
    batch: BatchModel | None = None  # machines process batches of units
    calendar: ShiftCalendar | None = None  # working time (None: round the clock)
    finish_in_hand: bool = False  # at a shift's end, the work under way goes on to its end
    assembly: AssemblyModel | None = None  # machines join kits of parts into a product

    @property
    def planned_unit_time(self) -> float:
        """ISO 22400 planned run time per unit (s): mean process time / servers; for a
        warehouse, its cranes' expected work per unit (a store and a retrieval cycle, or
        one dual-command cycle where the cranes make them)."""
        if self.warehouse is not None:
            wh = self.warehouse
            return (wh.dual_command if wh.dual else 2 * wh.single_command) / self.servers
        if self.batch is not None:  # a full batch's time, shared by its units
            return self.process_time.mean / self.servers / self.batch.size
        return self.process_time.mean / self.servers


@dataclass(frozen=True)
class Step:
    station: int
    rework_p: float = 0.0
    rework_to: int = -1  # step index the unit returns to
    process_time: Dist | None = None  # this product's own time here (None: the station's)
    stream: str = ""  # entity name of its random stream (with process_time)
    fleet: int = -1  # fleet carrying units into this step (from the step before, by rework)


@dataclass(frozen=True)
class ProductModel:
    index: int
    name: str
    steps: tuple[Step, ...]
    release: str  # "saturated" | "interarrival" | "conwip" | "assembly"
    interarrival: Dist | None
    conwip: int
    energy_kwh: float | None
    transport: int = -1  # fleet carrying its units between stations (-1: none)
    campaign: int = 1  # saturated release: units in a row before the next product's turn
    part: bool = False  # a part: its units are consumed by the assembly station ending its route
    arrival_calendar: ShiftCalendar | None = None  # open arrivals only on shift (None: always)


@dataclass(frozen=True)
class BatteryModel:
    capacity: float  # kWh
    initial: float  # kWh at time 0
    threshold: float  # kWh: at or below it a vehicle recharges
    charge_to: float  # kWh
    charge_kw: float  # delivered by a charger to a vehicle
    efficiency: float  # grid energy = delivered / efficiency
    chargers: tuple[tuple[int, int], ...]  # (point index, places), in the order listed
    opportunity: bool = False  # idle vehicles charge too, and moves may cut that short


@dataclass(frozen=True)
class FleetModel:
    index: int
    name: str
    vehicles: int
    speed_loaded: float  # m/s
    speed_empty: float  # m/s
    load_time: Dist
    unload_time: Dist
    home: int  # point index
    power_kw: tuple[float, ...]  # per vehicle, indexed like ALL_VEHICLE_STATES
    battery: BatteryModel | None = None  # None: the vehicles never run out of energy
    # with lifts only (else None): the fastest routes [from point][to point] as legs
    # (twin.scenario.network.Leg) when loaded and when empty, and the expected seconds of
    # the empty ones (for "nearest")
    routes_loaded: tuple[tuple[tuple[Leg, ...], ...], ...] | None = None
    routes_empty: tuple[tuple[tuple[Leg, ...], ...], ...] | None = None
    time_empty: tuple[tuple[float, ...], ...] | None = None
    # routes are also needed without lifts when some path is limited (drives segment by
    # segment); the lift states are reported only with lifts
    rides_lifts: bool = False
    capacity: int = 1  # units a vehicle carries at once
    load_wait: float = 0.0  # seconds a vehicle waits at a pickup for a fuller load


@dataclass(frozen=True)
class SegmentModel:
    """A path with a capacity: at most `capacity` vehicles on it at once, both directions."""

    index: int
    name: str  # "a <-> b" or "a -> b"
    capacity: int
    metres: float


@dataclass(frozen=True)
class LiftModel:
    index: int
    name: str
    cars: int
    speed: float  # m/s
    stops: tuple[tuple[int, float], ...]  # (point index, floor height m), in the order listed
    home: int  # stop number where the cars stand at time 0
    load_time: Dist  # a vehicle drives in
    unload_time: Dist  # a vehicle drives out
    power_kw: tuple[float, ...]  # per car, indexed like LIFT_STATES

    def travel(self, a: int, b: int) -> float:
        """Seconds a car takes from stop a to stop b."""
        return abs(self.stops[b][1] - self.stops[a][1]) / self.speed


@dataclass(frozen=True)
class ConveyorModel:
    index: int
    name: str
    frm: int  # station index the units come from
    to: int  # station index they go to
    length: float  # m
    speed: float  # m/s
    pitch: float  # m between units
    accumulating: bool
    power_kw: tuple[float, ...]  # indexed like CONVEYOR_STATES

    @property
    def places(self) -> int:
        """Units the conveyor holds at most: ceil(length / pitch), the pitches along it, a
        part pitch counting as one (units a pitch apart free-flowing sit at 0, p, 2p, ... <
        L; closed up at the end at L, L - p, ... >= 0). So a free-flowing belt carries
        speed / pitch whatever its length."""
        return max(1, math.ceil(self.length / self.pitch * (1 - 1e-12)))  # (24 / 1.2 is 20)


@dataclass(frozen=True)
class Model:
    name: str
    stations: tuple[StationModel, ...]
    products: tuple[ProductModel, ...]
    horizon: float  # seconds, measured period
    warmup: float | str  # seconds, or "auto"
    replications: int | str  # a number, or "auto" (until the throughput is precise enough)
    seed: int
    engine: str
    precision: float = 0.02  # target relative 95% half-width of throughput (auto replications)
    max_replications: int = 100
    max_wip: int = 5_000_000  # guard: more units than this in the system is a runaway run
    max_wall_s: float | None = None  # guard: wall-clock seconds per replication
    max_events: int | None = 2_000_000_000  # guard: events per replication
    event_log: bool = False  # record every unit's events (memory grows with the horizon)
    fleets: tuple[FleetModel, ...] = ()
    points: tuple[str, ...] = ()  # names of the path network's points
    distances: tuple[tuple[float, ...], ...] = ()  # shortest metres between points
    # (station, product, units, remaining dwell or None) at time 0; the remaining dwell
    # only at warehouses (None there: the dwell's stationary residual)
    initial_wip: tuple[tuple[int, int, int, Dist | None], ...] = ()
    lifts: tuple[LiftModel, ...] = ()
    conveyors: tuple[ConveyorModel, ...] = ()
    segments: tuple[SegmentModel, ...] = ()  # limited paths, in the order listed

    def station(self, name: str) -> StationModel:
        return next(s for s in self.stations if s.name == name)


def build(scenario: Scenario) -> Model:
    """Resolve names to indices; the scenario has been validated and cross-checked."""
    names = list(scenario.stations)
    index = {n: i for i, n in enumerate(names)}
    product_index = {n: j for j, n in enumerate(scenario.products)}
    lg = scenario.logistics
    points = {n: i for i, n in enumerate(lg.points)} if lg else {}
    fleet_index = {n: i for i, n in enumerate(lg.fleets)} if lg else {}
    offset = scenario.energy.run_starts_at if scenario.energy else 0.0
    calendars = {n: calendar(n, c, offset) for n, c in scenario.calendars.items()}
    stations = tuple(
        StationModel(
            index=i,
            name=n,
            servers=s.warehouse.cranes if s.warehouse else s.servers,
            capacity=math.inf if s.buffer is None else float(s.buffer),
            process_time=s.process_time,
            scrap=s.scrap,
            failures=None if s.failures is None else FailureModel(
                s.failures.mtbf, s.failures.mttr, s.failures.mode == "operation"),
            power_kw=tuple(getattr(s.power_kw, st) for st in STATES),
            meters=tuple(
                (carrier, kw) for carrier, kw in (
                    (c, tuple(getattr(getattr(s, key), st) for st in STATES))
                    for c, key in METERS)
                if any(kw)),
            area=s.area,
            point=points.get(station_point(scenario, n) or "", -1),
            warehouse=None if s.warehouse is None else WarehouseModel(
                s.warehouse.places, s.warehouse.rack.length, s.warehouse.rack.height,
                s.warehouse.speed.horizontal, s.warehouse.speed.vertical,
                s.warehouse.pick_deposit, s.warehouse.commands == "dual"),
            varied=any(step.station == n and step.process_time is not None
                       for p in scenario.products.values() for step in p.route),
            batch=None if s.batch is None else BatchModel(
                s.batch.size, s.batch.min or s.batch.size),
            calendar=calendars[s.calendar] if s.calendar else None,
            finish_in_hand=s.at_shift_end == "finish",
            assembly=None if s.assembly is None else AssemblyModel(
                tuple((product_index[q], k) for q, k in s.assembly.parts.items()),
                next(product_index[q] for q, spec in scenario.products.items()
                     if spec.release == "assembly" and spec.route[0].station == n)),
            setup=None if s.setup is None else SetupModel(
                s.setup.time,
                tuple(((product_index[c.from_], product_index[c.to]), c.time)
                      for c in s.setup.changes)),
        )
        for i, (n, s) in enumerate(scenario.stations.items())
    )
    parts = {q for s in scenario.stations.values() if s.assembly for q in s.assembly.parts}
    products = []
    for j, (pname, p) in enumerate(scenario.products.items()):
        steps = []
        for k, step in enumerate(p.route):
            own = {}
            fleet = step_fleet(p, k)
            if fleet is not None:
                own["fleet"] = fleet_index[fleet]
            if step.process_time is not None:
                # named by station and product (and which visit), not by step number
                visit = sum(s.station == step.station for s in p.route[:k])
                own.update(process_time=step.process_time,
                           stream=f"{step.station}/{pname}" + (f"#{visit + 1}" if visit else ""))
            if step.rework is None:
                steps.append(Step(index[step.station], **own))
                continue
            steps.append(Step(index[step.station], step.rework.p, rework_step(p.route, k),
                              **own))
        rel = p.release
        products.append(ProductModel(
            index=j,
            name=pname,
            steps=tuple(steps),
            release=rel if rel in ("saturated", "assembly") else
            "interarrival" if isinstance(rel, Interarrival) else "conwip",
            interarrival=rel.interarrival if isinstance(rel, Interarrival) else None,
            arrival_calendar=calendars[rel.calendar] if isinstance(rel, Interarrival)
            and rel.calendar else None,
            conwip=rel.conwip if isinstance(rel, Conwip) else 0,
            energy_kwh=p.energy_kwh,
            transport=fleet_index[p.transport] if p.transport not in (None, DIRECT) else -1,
            campaign=p.campaign,
            part=pname in parts,
        ))
    fleets = tuple(
        FleetModel(i, n, f.vehicles, f.speed_loaded, f.speed_empty or f.speed_loaded,
                   f.load_time, f.unload_time, points[f.home], vehicle_powers(f.power_kw),
                   None if f.battery is None else battery_model(f.battery, points),
                   **(fleet_routes(lg, f.speed_loaded, f.speed_empty or f.speed_loaded,
                                   {points[f.home], *(points[c] for c in (
                                       f.battery.chargers if f.battery else ())),
                                    *(s.point for s in stations if s.point >= 0)},
                                   bool(lg.lifts))
                      if lg.lifts or limited_paths(lg) else {}),
                   capacity=f.capacity, load_wait=f.load_wait)
        for i, (n, f) in enumerate(lg.fleets.items())) if lg else ()
    run = scenario.run
    return Model(
        name=scenario.name,
        stations=stations,
        products=tuple(products),
        horizon=run.horizon,
        warmup=run.warmup,
        replications=run.replications,
        seed=run.seed,
        engine=run.engine,
        precision=run.precision,
        max_replications=run.max_replications,
        max_wip=run.max_wip,
        max_wall_s=run.max_wall,
        max_events=run.max_events,
        fleets=fleets,
        points=tuple(points),
        distances=tuple(map(tuple, distances(lg).tolist())) if lg and lg.points else (),
        initial_wip=tuple((index[sn], product_index[pn], n, remaining)
                          for sn, counts in scenario.initial_wip.items()
                          for pn, given in counts.items()
                          for n, remaining in [(units(given), getattr(given, "remaining", None))]
                          if n),
        lifts=lift_models(lg, points) if lg else (),
        conveyors=tuple(
            ConveyorModel(i, n, index[c.from_], index[c.to], c.length, c.speed, c.pitch,
                          c.accumulating,
                          tuple(getattr(c.power_kw, st) for st in CONVEYOR_STATES))
            for i, (n, c) in enumerate(lg.conveyors.items())) if lg else (),
        segments=segment_models(lg, points) if lg else (),
    )


def fleet_routes(lg: Logistics, loaded: float, empty: float, stands: set[int],
                 lifts: bool) -> dict:
    """A fleet's fastest routes, loaded and empty (with lifts or limited paths), between
    the points where its vehicles can stand or go: home, stations' points and chargers
    (`stands`); other pairs (waypoints) get no route (), so the model stays small on large
    networks. Without lifts "nearest" stays by distance (no `time_empty`)."""
    n = len(lg.points)
    by_speed = {v: Routes(lg, v) for v in dict.fromkeys((loaded, empty))}
    table = {v: tuple(tuple(r.legs(a, b) if a in stands and b in stands and
                            math.isfinite(r.time[a, b]) else () for b in range(n))
                      for a in range(n))
             for v, r in by_speed.items()}
    return {"routes_loaded": table[loaded], "routes_empty": table[empty],
            "time_empty": tuple(map(tuple, by_speed[empty].time.tolist())) if lifts else None,
            "rides_lifts": lifts}


def segment_models(lg: Logistics, points: dict[str, int]) -> tuple[SegmentModel, ...]:
    """The limited paths (docs/modelling.md, Congestion), numbered as in the routes' legs."""
    lengths = _path_lengths(lg)
    return tuple(
        SegmentModel(k, segment_name(path), path.capacity,
                     lengths.get((points[path.from_], points[path.to]), 0.0))
        for k, path in enumerate(lg.paths[i] for i in limited_paths(lg)))


def lift_models(lg: Logistics, points: dict[str, int]) -> tuple[LiftModel, ...]:
    """Lifts with their stops as (point index, height); cars start at `home` (else the
    first stop listed)."""
    out = []
    for i, (name, lift) in enumerate(lg.lifts.items()):
        stops = lift_stops(lg, lift)
        floors = [f for f, _ in stops]
        out.append(LiftModel(
            i, name, lift.cars, lift.speed,
            tuple((points[p], lg.floors[f].height) for f, p in stops),
            floors.index(lift.home) if lift.home else 0,
            lift.load_time, lift.unload_time,
            tuple(getattr(lift.power_kw, st) for st in LIFT_STATES)))
    return tuple(out)


def vehicle_powers(power: VehiclePower) -> tuple[float, ...]:
    """kW per vehicle state, indexed like ALL_VEHICLE_STATES, defaults of the charging and
    lift states filled."""
    return tuple(vehicle_power(power, st) if st in CHARGING_POWER_DEFAULTS else
                 getattr(power, st) for st in ALL_VEHICLE_STATES)


def battery_model(b: Battery, points: dict[str, int]) -> BatteryModel:
    """Fractions of capacity as kWh, charging points as point indices."""
    cap = b.capacity_kwh
    return BatteryModel(cap, b.initial * cap, b.recharge_below * cap, b.charge_to * cap,
                        b.charge_kw, b.efficiency,
                        tuple((points[p], n) for p, n in b.chargers.items()), b.opportunity)
