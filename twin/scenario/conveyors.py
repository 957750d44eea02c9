"""Cross-checks of `logistics.conveyors`: each conveyor joins two known stations that some
route moves between, once (run once on the validated scenario; each problem names the
conveyor's key). Any kind of station may be an end: a warehouse, a batch or an assembly
station hands units to a conveyor and takes them from it as it does for a direct hand-over
(docs/modelling.md, Conveyors)."""

from __future__ import annotations

from twin.errors import did_you_mean
from twin.scenario.network import _moves
from twin.scenario.schema import Scenario
from twin.scenario.yamldoc import KeyPath


def conveyor_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """Unknown stations (with did-you-mean), a conveyor named like another resource, a
    conveyor from a station to itself or between stations no route moves between, and two
    conveyors for one move."""
    lg = scenario.logistics
    if lg is None or not lg.conveyors:
        return []
    found: list[tuple[KeyPath, str]] = []
    stations = scenario.stations
    moves = {(a, b) for p in scenario.products.values() for _, a, b in _moves(p)}
    seen: dict[tuple[str, str], str] = {}
    for name, c in lg.conveyors.items():
        at: KeyPath = ("logistics", "conveyors", name)
        bad = False
        for what, names in (("station", stations), ("fleet", lg.fleets), ("lift", lg.lifts)):
            if name in names:
                found.append((at, f"conveyor {name!r} has the name of a {what}; bottleneck "
                                  f"results list both, so give the conveyor another name"))
        for key, station in (("from", c.from_), ("to", c.to)):
            if station not in stations:
                found.append((at + (key,), f"unknown station {station!r}."
                              f"{did_you_mean(station, list(stations))}"))
                bad = True
        if bad:
            continue
        pair = (c.from_, c.to)
        if c.from_ == c.to:
            found.append((at + ("to",), f"conveyor {name} goes from {c.from_} to itself; a "
                          f"conveyor joins two different stations"))
        elif pair not in moves:
            found.append((at, f"no route moves units from {c.from_} to {c.to}, so conveyor "
                          f"{name} would carry nothing; join two stations that follow each "
                          f"other on a route (or a rework move), or remove it"))
        elif pair in seen:
            found.append((at, f"conveyors {seen[pair]} and {name} both carry the move from "
                          f"{c.from_} to {c.to}; keep one (give it the capacity of both)"))
        seen.setdefault(pair, name)
    return found
