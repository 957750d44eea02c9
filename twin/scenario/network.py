"""The path network of the logistics section: shortest distances, and what cannot be reached.

Points are numbered in the order they are listed; `distances` holds the shortest distance in
metres from every point to every other along the paths (inf where there is no way). The
cross-checks (`network_problems`) run once on the validated scenario and name, for each
move a fleet must make, the place in the file where it cannot be made.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from twin.errors import did_you_mean
from twin.scenario.schema import Logistics, Scenario
from twin.scenario.yamldoc import KeyPath, _Index


def station_point(scenario: Scenario, station: str) -> str | None:
    """The point where vehicles serve `station`: its `at`, else the point of its name."""
    at = scenario.stations[station].at
    if at is not None:
        return at
    points = scenario.logistics.points if scenario.logistics else {}
    return station if station in points else None


def distances(logistics: Logistics) -> np.ndarray:
    """Shortest path lengths (metres) between all points, inf where unreachable."""
    names = list(logistics.points)
    index = {n: i for i, n in enumerate(names)}
    n = len(names)
    best: dict[tuple[int, int], float] = {}
    for path in logistics.paths:
        a, b = index[path.from_], index[path.to]
        if path.length is not None:
            length = path.length
        else:
            (xa, ya), (xb, yb) = logistics.points[path.from_], logistics.points[path.to]
            length = math.hypot(xb - xa, yb - ya)
        pairs = [(a, b)] if path.one_way else [(a, b), (b, a)]
        for pair in pairs:
            if a != b:
                best[pair] = min(length, best.get(pair, math.inf))
    if not best:
        d = np.full((n, n), math.inf)
        np.fill_diagonal(d, 0.0)
        return d
    rows, cols = zip(*best)
    # a zero-length path is still a path: keep it as a tiny positive weight, then round
    weights = [max(w, 1e-300) for w in best.values()]
    graph = csr_matrix((weights, (rows, cols)), shape=(n, n))
    d = shortest_path(graph, method="D", directed=True)
    d[d < 1e-200] = 0.0
    return d


def network_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """Unknown points and fleets, stations without a point, and moves no path allows."""
    lg = scenario.logistics
    found: list[tuple[KeyPath, str]] = []
    fleets = lg.fleets if lg else {}
    points = lg.points if lg else {}
    for pname, product in scenario.products.items():
        if product.transport is not None and product.transport not in fleets:
            hint = did_you_mean(product.transport, list(fleets)) if fleets else \
                " Define it under logistics.fleets."
            found.append((("products", pname, "transport"),
                          f"unknown fleet {product.transport!r}.{hint}"))
    if lg is None:
        for sname, station in scenario.stations.items():
            if station.at is not None:
                found.append((("stations", sname, "at"),
                              f"unknown point {station.at!r}: the scenario has no "
                              f"logistics.points; add a logistics section or remove `at`"))
        return found
    for fname in lg.fleets:
        if fname in scenario.stations:
            found.append((("logistics", "fleets", fname),
                          f"fleet {fname!r} has the name of a station; bottleneck results "
                          f"list both, so give the fleet another name"))
    for i, path in enumerate(lg.paths):
        for key, name in (("from", path.from_), ("to", path.to)):
            if name not in points:
                found.append((("logistics", "paths", _Index(i), key), _unknown_point(name, points)))
    for fname, fleet in lg.fleets.items():
        if fleet.home not in points:
            found.append((("logistics", "fleets", fname, "home"), _unknown_point(fleet.home, points)))
    for sname, station in scenario.stations.items():
        if station.at is not None and station.at not in points:
            found.append((("stations", sname, "at"), _unknown_point(station.at, points)))
    if found:
        return found
    index = {n: i for i, n in enumerate(points)}
    d = distances(lg)
    # every move of every product a fleet carries: its vehicles may be anywhere it unloads
    moves: dict[str, list[tuple[KeyPath, str, str]]] = {}
    for pname, product in scenario.products.items():
        if product.transport is None:
            continue
        names = [step.station for step in product.route]
        missing = [n for n in dict.fromkeys(names) if station_point(scenario, n) is None]
        for n in missing:
            found.append((("stations", n),
                          f"no point of the path network for station {n} (its product "
                          f"{pname} travels by fleet {product.transport}); give "
                          f"stations.{n}.at: POINT or add a point named {n} to "
                          f"logistics.points"))
        if not missing:
            moves.setdefault(product.transport, []).extend(
                (("products", pname, "route", _Index(i)), src, dst)
                for i, src, dst in _moves(product))
    for fname, fleet_moves in moves.items():
        home = index[lg.fleets[fname].home]
        drops = {}
        for at, src, dst in fleet_moves:
            a, b = index[station_point(scenario, src)], index[station_point(scenario, dst)]
            if not math.isfinite(d[a, b]):
                found.append((at, f"fleet {fname} cannot carry units from {src} (point "
                                  f"{_name(points, a)}) to {dst} (point {_name(points, b)}): "
                                  f"no path leads there in logistics.paths; add one (or make "
                                  f"one two-way)"))
                continue
            drops.setdefault(b, dst)
        for at, src, _ in fleet_moves:
            a = index[station_point(scenario, src)]
            if not math.isfinite(d[home, a]):
                found.append((at, f"fleet {fname}'s vehicles cannot reach {src} (point "
                                  f"{_name(points, a)}) from their home {lg.fleets[fname].home}: "
                                  f"no path leads there in logistics.paths"))
                continue
            for c, drop in drops.items():
                if not math.isfinite(d[c, a]):
                    found.append((at, f"fleet {fname}'s vehicles cannot get back from {drop} "
                                      f"(point {_name(points, c)}) to {src} (point "
                                      f"{_name(points, a)}) to pick up: no path leads there "
                                      f"in logistics.paths"))
                    break
    return found


def _moves(product) -> Iterator[tuple[int, str, str]]:
    """(route step, from station, to station) of every move between stations."""
    names = [step.station for step in product.route]
    for i, step in enumerate(product.route):
        if i + 1 < len(names) and names[i + 1] != step.station:
            yield i, step.station, names[i + 1]
        if step.rework is not None and step.rework.to != step.station:
            yield i, step.station, step.rework.to


def _name(points: dict, i: int) -> str:
    return list(points)[i]


def _unknown_point(name: str, points: dict) -> str:
    return f"unknown point {name!r}.{did_you_mean(name, list(points))} Points are listed " \
           f"under logistics.points"
