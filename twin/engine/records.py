"""The tidy records every engine emits, built in one place so that engines agree exactly.

An engine counts in seconds; these functions turn its counts into the `measures` rows of
results.md (hours, rates per hour, kWh), always in the same order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from twin.model import (ALL_VEHICLE_STATES, CHARGING, CONVEYOR_STATES, LIFT_STATES, STATES,
                        VEHICLE_STATES, ConveyorModel, FleetModel, LiftModel,
                        ProductModel, SegmentModel, StationModel)
from twin.units import HOUR

Row = tuple[str, str, str, float]


def product_rows(p: ProductModel, period_h: float, released: int, finished: int,
                 scrapped: int, first_pass: int, lead_sum: float, scrap_sum: float,
                 consumed: int = 0, consumed_sum: float = 0.0) -> list[Row]:
    """Counts, throughput, mean lead time (finished units) and time of scrapped units; for
    a part, the units consumed by assembly and their mean time in the system."""
    rows: list[Row] = [
        ("product", p.name, "released", released),
        ("product", p.name, "finished", finished),
        ("product", p.name, "scrapped", scrapped),
        ("product", p.name, "first_pass", first_pass),
        ("product", p.name, "throughput_per_h", finished / period_h),
        ("product", p.name, "lead_time_h", lead_sum / finished / HOUR if finished else math.nan),
        ("product", p.name, "scrapped_time_h",
         scrap_sum / scrapped / HOUR if scrapped else math.nan),
    ]
    if p.part:
        rows += [("product", p.name, "consumed", consumed),
                 ("product", p.name, "consumed_time_h",
                  consumed_sum / consumed / HOUR if consumed else math.nan)]
    if p.energy_kwh is not None:
        rows.append(("product", p.name, "gwh_per_year",
                     finished / period_h * p.energy_kwh * 8760 / 1e6))
    return rows


def station_rows(spec: StationModel, totals: Sequence[float], queue_mean: float,
                 wait_sum: float, waits: int, produced: int, scrapped: int, reworked: int,
                 process_sum: float, queue_end: int, changeovers: int = 0,
                 planned_sum: float | None = None) -> list[Row]:
    """State machine-hours, energy per carrier and state, buffer and output counts.

    `totals` are the machine-seconds per state (indexed like STATES) of all the station's
    machines; energy is Σ power × time per state, exact for constant powers. Where products
    have their own process times at the station, `planned_sum` (Σ of the mean process time
    of each unit's step, units produced) makes the planned run time per unit their average.
    """
    planned = spec.planned_unit_time
    if planned_sum is not None and produced and spec.warehouse is None:
        planned = planned_sum / produced / spec.servers
    name = spec.name
    rows: list[Row] = [("station", name, "servers", spec.servers)]
    rows += state_rows("station", name, STATES, totals, spec.power_kw)
    for carrier, kws in spec.meters:
        if carrier != "energy":
            rows += [("station", name, f"{carrier}_{s}_kwh", kw * secs / HOUR)
                     for s, secs, kw in zip(STATES, totals, kws)]
    rows += [
        ("station", name, "queue_mean", queue_mean),
        ("station", name, "wait_h", wait_sum / waits / HOUR if waits else math.nan),
        ("station", name, "waits", waits),
        ("station", name, "produced", produced),
        ("station", name, "scrapped", scrapped),
        ("station", name, "reworked", reworked),
        ("station", name, "process_h", process_sum / HOUR),
        ("station", name, "planned_unit_time_h", planned / HOUR),
        ("station", name, "queue_end", queue_end),
        ("station", name, "changeovers", changeovers),
    ]
    return rows


def warehouse_rows(spec: StationModel, stored_mean: float, stored_end: int,
                   stores: int, retrieves: int, cycles: Sequence[tuple[int, float]],
                   in_place: tuple[int, float]) -> list[Row]:
    """A warehouse's storage: time-average and final units in store, units stored and
    retrieved, crane cycles (`cycles`: count and summed seconds of single-command stores,
    single-command retrievals and dual commands; mean cycles in hours) and the mean time a
    unit spent in its place from being set down to its retrieval starting (dwell plus the
    wait for a crane; `in_place`: retrievals begun and those times summed)."""
    name = spec.name
    (n_s, sum_s), (n_r, sum_r), (n_d, sum_d) = cycles
    return [
        ("station", name, "places", spec.warehouse.places),
        ("station", name, "stored_mean", stored_mean),
        ("station", name, "stored_end", stored_end),
        ("station", name, "stores", stores),
        ("station", name, "store_cycle_h", sum_s / n_s / HOUR if n_s else math.nan),
        ("station", name, "retrieves", retrieves),
        ("station", name, "retrieve_cycle_h", sum_r / n_r / HOUR if n_r else math.nan),
        ("station", name, "dual_cycles", n_d),
        ("station", name, "dual_cycle_h", sum_d / n_d / HOUR if n_d else math.nan),
        ("station", name, "in_store_h", in_place[1] / in_place[0] / HOUR if in_place[0]
         else math.nan),
    ]


def fleet_rows(spec: FleetModel, totals: Sequence[float], trips: int, carried: int,
               metres: float, response_sum: float, trip_sum: float) -> list[Row]:
    """Vehicle-hours per state, energy per state, trips, distance and mean times of a fleet.

    `totals` are the vehicle-seconds per state (indexed like ALL_VEHICLE_STATES) of all the
    fleet's vehicles. A trip is counted when its (last) unit is set down; `trip_h` is its
    mean from the start of loading to the end of unloading, `response_h` the mean over the
    `carried` units of the time from the request to the start of loading the unit. `metres`
    are all driven (loaded, empty and to chargers). The states waiting_lift and riding_lift
    appear only in scenarios with lifts; `units` (units set down) only for vehicles that
    carry several at once.
    """
    name = spec.name
    # the lift states only where there are lifts: other scenarios keep their tables
    states = ALL_VEHICLE_STATES if spec.rides_lifts else VEHICLE_STATES
    rows: list[Row] = [("fleet", name, "vehicles", spec.vehicles)]
    rows += state_rows("fleet", name, states, totals, spec.power_kw)
    rows += [
        ("fleet", name, "trips", trips),
        ("fleet", name, "distance_km", metres / 1000),
        ("fleet", name, "response_h", response_sum / carried / HOUR if carried else math.nan),
        ("fleet", name, "trip_h", trip_sum / trips / HOUR if trips else math.nan),
    ]
    if spec.capacity > 1:
        rows.append(("fleet", name, "units", carried))
    return rows


def state_rows(kind: str, name: str, states: Sequence[str], totals: Sequence[float],
               power_kw: Sequence[float]) -> list[Row]:
    """Hours (`{state}_h`) and energy (`energy_{state}_kwh`) per state of a resource, from
    its seconds per state and its kW per state."""
    rows: list[Row] = [(kind, name, f"{s}_h", secs / HOUR) for s, secs in zip(states, totals)]
    rows += [(kind, name, f"energy_{s}_kwh", kw * secs / HOUR)
             for s, secs, kw in zip(states, totals, power_kw)]
    return rows


def lift_rows(spec: LiftModel, totals: Sequence[float], rides: int, waits: int,
              wait_sum: float, ride_sum: float, queue_mean: float) -> list[Row]:
    """Car-hours and energy per lift state, rides, and mean times of a lift.

    `totals` are the car-seconds per state (indexed like LIFT_STATES) of all its cars. A
    ride counts when its vehicle has driven out; `wait_h` is the mean from a vehicle's call
    to the car standing ready at its floor (over rides begun), `ride_h` the mean from then to
    the vehicle out at the target floor; `queue_mean` the time-average number of vehicles
    waiting for a car.
    """
    name = spec.name
    rows: list[Row] = [("lift", name, "cars", spec.cars)]
    rows += state_rows("lift", name, LIFT_STATES, totals, spec.power_kw)
    rows += [
        ("lift", name, "rides", rides),
        ("lift", name, "wait_h", wait_sum / waits / HOUR if waits else math.nan),
        ("lift", name, "ride_h", ride_sum / rides / HOUR if rides else math.nan),
        ("lift", name, "queue_mean", queue_mean),
    ]
    return rows


def conveyor_rows(spec: ConveyorModel, totals: Sequence[float], carried: int,
                  aboard_sum: float, aboard_mean: float, aboard_max: int,
                  aboard_end: int) -> list[Row]:
    """Hours and energy per conveyor state, units carried and their time aboard.

    `totals` are the seconds per state (indexed like CONVEYOR_STATES). A unit counts as
    carried when it has gone on into `to`; `aboard_h` is the mean time from getting on to
    that moment, `aboard_mean` the time-average number of units aboard, `aboard_max` the most
    at once and `aboard_end` those aboard at the end.
    """
    name = spec.name
    size = {"places": spec.places, "length_m": spec.length, "speed_m_s": spec.speed,
            "pitch_m": spec.pitch}
    flow = {"carried": carried,
            "aboard_h": aboard_sum / carried / HOUR if carried else math.nan,
            "aboard_mean": aboard_mean, "aboard_max": aboard_max, "aboard_end": aboard_end}
    return ([("conveyor", name, m, v) for m, v in size.items()]
            + state_rows("conveyor", name, CONVEYOR_STATES, totals, spec.power_kw)
            + [("conveyor", name, m, v) for m, v in flow.items()])


def segment_rows(spec: SegmentModel, on_mean: float, entries: int, passes: int, waits: int,
                 wait_sum: float, on_sum: float, queue_mean: float, queue_max: int) -> list[Row]:
    """A limited path (kind `path`): capacity and length, vehicles that entered and passed
    (left at the far end), time-average vehicles on it, entries that had to wait, the mean
    wait per entry (zeros included: the queue's Wq), the mean time on it per pass, and the
    time-average and largest number of vehicles waiting at its ends."""
    name = spec.name
    return [
        ("path", name, "capacity", spec.capacity),
        ("path", name, "length_m", spec.metres),
        ("path", name, "entries", entries),
        ("path", name, "passes", passes),
        ("path", name, "vehicles_mean", on_mean),
        ("path", name, "waits", waits),
        ("path", name, "wait_h", wait_sum / entries / HOUR if entries else math.nan),
        ("path", name, "time_on_h", on_sum / passes / HOUR if passes else math.nan),
        ("path", name, "queue_mean", queue_mean),
        ("path", name, "queue_max", queue_max),
    ]


def battery_rows(spec: FleetModel, totals: Sequence[float], charges: int, charger_metres: float,
                 start_kwh: float, end_kwh: float, lift_to_charger_s: float = 0.0,
                 opportunity: tuple[int, int] = (0, 0)) -> list[Row]:
    """A battery fleet's charging: charges begun, charging places, energy the chargers
    delivered to the vehicles (charge_kw × vehicle-hours charging) and drew from the grid
    (delivered / efficiency), km driven to chargers, and the charge in all the fleet's
    batteries at the start and the end of the measured period (kWh); with opportunity
    charging also the charges begun by opportunity and those cut short (`opportunity`:
    the two counts)."""
    b = spec.battery
    name = spec.name
    delivered = b.charge_kw * totals[CHARGING] / HOUR
    rows: list[Row] = [
        ("fleet", name, "charges", charges),
        ("fleet", name, "charger_places", sum(n for _, n in b.chargers)),
        ("fleet", name, "charged_kwh", delivered),
        ("fleet", name, "charger_kwh", delivered / b.efficiency),
        ("fleet", name, "to_charger_km", charger_metres / 1000),
        ("fleet", name, "battery_capacity_kwh", b.capacity * spec.vehicles),
        ("fleet", name, "battery_start_kwh", start_kwh),
        ("fleet", name, "battery_end_kwh", end_kwh),
        # vehicle-hours waiting for or riding lifts on the way to a charger (recharging,
        # though in the lift states)
        ("fleet", name, "lift_to_charger_h", lift_to_charger_s / HOUR),
    ]
    if b.opportunity:
        rows += [("fleet", name, "opportunity_charges", opportunity[0]),
                 ("fleet", name, "interrupted_charges", opportunity[1])]
    return rows


def system_rows(wip_mean: float, wip_start: int, wip_end: int, period_h: float,
                warmup_s: float) -> list[Row]:
    return [
        ("system", "", "wip_mean", wip_mean),
        ("system", "", "wip_start", wip_start),
        ("system", "", "wip_end", wip_end),
        ("system", "", "period_h", period_h),
        ("system", "", "warmup_h", warmup_s / HOUR),
    ]


def bottleneck_rows(kinds: Sequence[tuple[str, str]], sole_s: Sequence[float],
                    shifting_s: Sequence[float]) -> list[Row]:
    """Hours as sole and as shifting bottleneck (active period method) per resource;
    `kinds` are (kind, name) in the tracker's resource order."""
    rows: list[Row] = []
    for (kind, name), sole, shifting in zip(kinds, sole_s, shifting_s):
        rows.append((kind, name, "bottleneck_sole_h", sole / HOUR))
        rows.append((kind, name, "bottleneck_shifting_h", shifting / HOUR))
    return rows


def bottleneck_timeline_rows(kinds: Sequence[tuple[str, str]], tracker,
                             times_h: Sequence[float]) -> list[tuple[float, str, str, str, float]]:
    """Timeline rows of the tracker's intervals: hours sole / shifting per resource and
    interval (only where not zero), stamped with the same interval ends `times_h` as the
    engine's other timeline rows."""
    rows = []
    for measure, bins in (("bottleneck_sole_h", tracker.sole_bins),
                          ("bottleneck_shifting_h", tracker.shifting_bins)):
        for t_h, values in zip(times_h, bins):
            for (kind, name), v in zip(kinds, values):
                if v > 0:
                    rows.append((t_h, kind, name, measure, v / HOUR))
    return rows
