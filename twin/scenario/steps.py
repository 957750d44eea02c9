"""Cross-checks of route steps at stations that handle units in their own way: warehouses
(units stored and retrieved) and batch stations (units processed together). Run once on the
validated scenario; each problem names the route step."""

from __future__ import annotations

from twin.scenario.schema import Conwip, Scenario
from twin.scenario.yamldoc import KeyPath, _Index


def conwip_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """A batch station fed only by CONWIP products whose limits together stay below its
    `min`: no batch could ever start, and the run would make nothing."""
    found: list[tuple[KeyPath, str]] = []
    for sname, station in scenario.stations.items():
        if station.batch is None:
            continue
        least = station.batch.min or station.batch.size
        feeders = {p: spec for p, spec in scenario.products.items()
                   if any(step.station == sname for step in spec.route)}
        loops = [spec.release.conwip for spec in feeders.values()
                 if isinstance(spec.release, Conwip)]
        if feeders and len(loops) == len(feeders) and sum(loops) < least:
            found.append((("stations", sname, "batch"), f"only {sum(loops)} units ever circulate "
                          f"(CONWIP of {', '.join(feeders)}), fewer than the {least} a batch "
                          f"needs to start; lower batch.min or raise the CONWIP limit"))
    return found


def step_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """At a warehouse or batch step: no rework decision, no unit-specific process time at a
    batch, and not the same such station twice in a row."""
    found: list[tuple[KeyPath, str]] = []
    for pname, product in scenario.products.items():
        route = product.route
        for i, step in enumerate(route):
            station = scenario.stations[step.station]
            if station.warehouse is None and station.batch is None:
                continue
            at: KeyPath = ("products", pname, "route", _Index(i))
            twice = i + 1 < len(route) and route[i + 1].station == step.station
            if station.warehouse is not None:
                if step.rework is not None:
                    found.append((at + ("rework",), f"{step.station} is a warehouse: units "
                                  f"are stored and retrieved there, not inspected; put the "
                                  f"rework on a station before or after it"))
                if twice:
                    found.append((at, f"warehouse {step.station} twice in a row: a unit "
                                      f"retrieved would be stored again at once; list it once "
                                      f"with the whole dwell as its process_time"))
                continue
            if step.rework is not None:
                found.append((at + ("rework",), f"{step.station} processes batches: put the "
                              f"rework decision on a station before or after it"))
            if step.process_time is not None:
                found.append((at + ("process_time",), f"{step.station} processes batches, "
                              f"one process time per batch: set it on the station"))
            if twice:
                found.append((at, f"batch station {step.station} twice in a row: list it "
                                  f"once with the whole time as its process_time"))
    return found
