"""Cross-checks of vehicle batteries: chargers that exist and can be reached, and a threshold
that leaves a vehicle enough charge for whatever it may still have to do before it charges.

The charging policy (docs/modelling.md, Batteries and charging) checks a vehicle's charge when it has set a
unit down and while it is idle, so a vehicle just above the threshold may start one more
move: from wherever it stands (its home, a drop point or a charger) empty to the pickup,
load (a full load: `capacity` units, one by one, and a `load_wait` at the pickup), loaded
to the drop, unload, and then drive to the nearest charger. The threshold must
cover the most energy such a sequence takes over all the fleet's moves; load and unload
times count at their longest where the distribution is bounded, else at their mean.
Waiting loaded for a broken machine, or in line for a charging place, is not bounded; a
battery that runs flat there stops the replication with an error naming the vehicle. With
opportunity charging nothing changes here: a move takes a vehicle off a charger only above
the threshold, and a charger is one of the places the check starts from.

With lifts the moves follow the fleet's fastest routes (twin.scenario.network.Routes), and
each lift ride on them counts, at the vehicle's riding_lift power, the longest drive-in and
drive-out and the car's travel, plus, at its waiting_lift power, the wait for a car that
comes empty from the lift's farthest stop. A line of vehicles waiting for the car is not
bounded (like a line at a charger).
"""

from __future__ import annotations

import math

import numpy as np

from twin.errors import did_you_mean
from twin.scenario.lifts import lift_problems, lift_stops
from twin.scenario.network import Routes, distances, fleet_moves, station_point
from twin.scenario.schema import Fleet, Logistics, Scenario, vehicle_power
from twin.scenario.yamldoc import KeyPath



def battery_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """Unknown or unreachable charging points, a charger too weak for the vehicle's own draw,
    and a threshold (or initial charge) too low for the moves the fleet makes."""
    lg = scenario.logistics
    if lg is None:
        return []
    found: list[tuple[KeyPath, str]] = []
    d = None
    lifts_ok = not any(f.battery for f in lg.fleets.values()) or not lift_problems(scenario)
    for fname, fleet in lg.fleets.items():
        b = fleet.battery
        if b is None:
            continue
        at: KeyPath = ("logistics", "fleets", fname, "battery")
        own = vehicle_power(fleet.power_kw, "charging")
        if own >= b.charge_kw:
            found.append((at + ("charge_kw",),
                          f"the charger's {b.charge_kw:g} kW must exceed the vehicle's own draw "
                          f"while charging ({own:g} kW, power_kw.charging or else idle): the "
                          f"battery would never fill"))
        unknown = [p for p in b.chargers if p not in lg.points]
        found += [(at + ("chargers",), f"unknown charging point {p!r}."
                   f"{did_you_mean(p, list(lg.points))} Points are listed under "
                   f"logistics.points") for p in unknown]
        if unknown or fleet.home not in lg.points or not _known_paths(lg) or not lifts_ok:
            continue  # (unknown points elsewhere are reported with the network)
        if d is None and not lg.lifts:
            d = distances(lg)
        found += _reach_problems(scenario, fname, fleet, d, at)
    return found


def _known_paths(lg: Logistics) -> bool:
    """Every path joins known points (else no distances can be computed)."""
    return all(p.from_ in lg.points and p.to in lg.points for p in lg.paths)


class _Cost:
    """kWh a vehicle of the fleet needs from point a to point b, empty, loaded or to a
    charger; `reach[a, b]` is what "nearest" compares (metres, or expected seconds empty
    with lifts), inf where there is no way."""

    def __init__(self, lg: Logistics, fleet: Fleet, d: np.ndarray | None):
        speed_empty = fleet.speed_empty or fleet.speed_loaded
        kw = fleet.power_kw
        # kW of each kind of travel: (driving, per metre at that speed)
        self.kw = {"empty": (kw.moving_empty, speed_empty),
                   "loaded": (kw.moving_loaded, fleet.speed_loaded),
                   "to_charger": (vehicle_power(kw, "to_charger"), speed_empty)}
        self.lg, self.d = lg, d
        if lg.lifts:
            self.routes = {v: Routes(lg, v) for v in {speed_empty, fleet.speed_loaded}}
            self.reach = self.routes[speed_empty].time
            self.riding = vehicle_power(kw, "riding_lift")
            self.waiting = vehicle_power(kw, "waiting_lift")
            self.lifts = list(lg.lifts.values())
            self.heights = [[lg.floors[f].height for f, _ in lift_stops(lg, lift)]
                            for lift in self.lifts]
        else:
            self.reach = d

    def __call__(self, kind: str, a: int, b: int) -> float:
        kw, speed = self.kw[kind]
        per_metre = kw / speed / 3600
        if not self.lg.lifts:
            return per_metre * self.d[a, b]
        if not np.isfinite(self.reach[a, b]):
            return math.inf  # no way at all (the network check reports it)
        kwh = 0.0
        for metres, li, frm, to in self.routes[speed].legs(a, b):
            if li < 0:
                kwh += per_metre * metres
                continue
            lift, h = self.lifts[li], self.heights[li]
            wait = max(abs(x - h[frm]) for x in h) / lift.speed
            ride = (lift.load_time.longest + abs(h[to] - h[frm]) / lift.speed
                    + lift.unload_time.longest)
            kwh += (self.waiting * wait + self.riding * ride) / 3600
        return kwh


def _reach_problems(scenario: Scenario, fname: str, fleet: Fleet, d: np.ndarray | None,
                    at: KeyPath) -> list[tuple[KeyPath, str]]:
    """Chargers reachable from every place a vehicle may stand and able to reach every
    pickup; the threshold and the initial charge enough to get there."""
    lg = scenario.logistics
    names = list(lg.points)
    index = {n: i for i, n in enumerate(names)}
    b = fleet.battery
    chargers = [index[p] for p in b.chargers]
    moves = []
    belts = {(c.from_, c.to) for c in lg.conveyors.values()}  # (those moves are no fleet's)
    for product in scenario.products.values():
        for _, src, dst, carrier in fleet_moves(product):
            if carrier != fname or (src, dst) in belts:
                continue
            a, c = station_point(scenario, src), station_point(scenario, dst)
            if a in index and c in index:
                moves.append((index[a], index[c]))
    home = index[fleet.home]
    stands = dict.fromkeys([home, *(c for _, c in moves), *chargers])
    found: list[tuple[KeyPath, str]] = []
    cost = _Cost(lg, fleet, d)
    d = cost.reach
    nearest = {s: min(d[s, c] for c in chargers) for s in stands}
    for s, metres in nearest.items():
        if not math.isfinite(metres):
            found.append((at + ("chargers",),
                          f"no charging point can be reached from {names[s]}, where fleet "
                          f"{fname}'s vehicles may stand: add a path in logistics.paths or a "
                          f"charger there"))
    for c in chargers:
        for a in dict.fromkeys(a for a, _ in moves):
            if not math.isfinite(d[c, a]):
                found.append((at + ("chargers",),
                              f"vehicles charged at {names[c]} cannot reach the pickup at "
                              f"{names[a]}: no path leads there in logistics.paths"))
    if found:
        return found
    # kWh spent handling a full load (`capacity` units, one by one, and the longest wait
    # for more at the pickup); the runs to the nearest charger (by `reach`)
    kw = fleet.power_kw
    handling = (fleet.capacity * (kw.loading * fleet.load_time.longest
                                  + kw.unloading * fleet.unload_time.longest)
                + kw.waiting * fleet.load_wait) / 3600
    home_run = {s: cost("to_charger", s, min(chargers, key=lambda c: d[s, c]))
                for s in stands}
    worst, what = 0.0, ""
    for s in stands:
        need = home_run[s]
        if need > worst:
            worst, what = need, f"the run from {names[s]} to its nearest charger"
        for a, c in moves:
            need = (cost("empty", s, a) + handling + cost("loaded", a, c) + home_run[c])
            if need > worst:
                worst, what = need, (f"a move from {names[a]} to {names[c]} started at "
                                     f"{names[s]}, then the run to a charger")
    cap = b.capacity_kwh
    threshold = b.recharge_below * cap
    if threshold < worst * (1 - 1e-9):
        # a threshold must stay below charge_to (and 1): past that, only a larger battery helps
        fix = (f"Raise recharge_below to at least {_up(worst / cap)} (or lower the vehicles' "
               f"power_kw)" if worst / cap < b.charge_to else
               f"No threshold below charge_to ({b.charge_to:g}) covers it: raise capacity_kwh "
               f"above {_up(worst / b.charge_to)} kWh (or lower the vehicles' power_kw)")
        found.append((at + ("recharge_below",),
                      f"a vehicle at the threshold ({threshold:.4g} kWh of {cap:.4g}) may still "
                      f"have to make {what}: {worst:.4g} kWh; its battery would run flat. "
                      f"{fix}"))
    start = b.initial * cap
    if b.initial <= b.recharge_below and start < home_run[home] * (1 - 1e-9):
        found.append((at + ("initial",),
                      f"the vehicles start at {fleet.home} with {start:.4g} kWh, less than "
                      f"the {home_run[home]:.4g} kWh to drive to the nearest "
                      f"charger; raise initial"))
    return found


def _up(fraction: float) -> str:
    """A fraction rounded up to 3 decimals, as text."""
    return f"{math.ceil(fraction * 1000) / 1000:g}"
