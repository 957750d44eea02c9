"""The path network of the logistics section: shortest distances, and what cannot be reached.

Points are numbered in the order they are listed; `distances` holds the shortest distance in
metres from every point to every other along the paths (inf where there is no way); with
lifts (twin.scenario.lifts) `Routes` gives each fleet's fastest routes, lift rides included. The
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
from twin.scenario.lifts import floor_of, lift_problems, lift_stops
from twin.scenario.schema import DIRECT, Logistics, PathSpec, Scenario
from twin.scenario.yamldoc import KeyPath, _Index


def station_point(scenario: Scenario, station: str) -> str | None:
    """The point where vehicles serve `station`: its `at`, else the point of its name."""
    at = scenario.stations[station].at
    if at is not None:
        return at
    points = scenario.logistics.points if scenario.logistics else {}
    return station if station in points else None


def _path_lengths(logistics: Logistics) -> dict[tuple[int, int], float]:
    """(from, to) point numbers -> metres of the shortest single path joining them."""
    index = {n: i for i, n in enumerate(logistics.points)}
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
    return best


def limited_paths(logistics: Logistics) -> list[int]:
    """Numbers (in logistics.paths) of the paths with a `capacity`: the network's limited
    segments, numbered in this order (docs/modelling.md, Congestion)."""
    return [i for i, path in enumerate(logistics.paths) if path.capacity is not None]


def segment_name(path: PathSpec) -> str:
    """How results name a limited path: `a <-> b` (two-way) or `a -> b` (one-way)."""
    return f"{path.from_} {'->' if path.one_way else '<->'} {path.to}"


def _segment_arcs(logistics: Logistics) -> dict[tuple[int, int], int]:
    """(from, to) point numbers -> number of the limited segment a vehicle drives between
    them (both directions of a two-way path: one segment, one capacity). The load refuses
    a limited path sharing its points with another path, so the arc is that path's."""
    index = {n: i for i, n in enumerate(logistics.points)}
    arcs = {}
    for seg, i in enumerate(limited_paths(logistics)):
        path = logistics.paths[i]
        a, b = index[path.from_], index[path.to]
        arcs[(a, b)] = seg
        if not path.one_way:
            arcs[(b, a)] = seg
    return arcs


def _shortest(n: int, weights: dict[tuple[int, int], float], predecessors: bool = False):
    """All-pairs shortest paths over the weighted arcs (Dijkstra), inf where unreachable."""
    if not weights:
        d = np.full((n, n), math.inf)
        np.fill_diagonal(d, 0.0)
        return (d, np.full((n, n), -9999)) if predecessors else d
    rows, cols = zip(*weights)
    # a zero-length arc is still an arc: keep it as a tiny positive weight, then round
    graph = csr_matrix(([max(w, 1e-300) for w in weights.values()], (rows, cols)),
                       shape=(n, n))
    out = shortest_path(graph, method="D", directed=True, return_predecessors=predecessors)
    d = out[0] if predecessors else out
    d[d < 1e-200] = 0.0
    return out


def distances(logistics: Logistics) -> np.ndarray:
    """Shortest path lengths (metres) between all points, inf where unreachable."""
    return _shortest(len(logistics.points), _path_lengths(logistics))


# A leg of a route: (metres driven, -1, -1, -1), a drive along limited segment number `seg`
# (metres, -1, seg, -1) (docs/modelling.md, Congestion), or (0, lift, from stop, to stop): a
# ride on lift number `lift` from its stop number `from stop` to `to stop` (Lifts).
Leg = tuple[float, int, int, int]


def lift_rides(logistics: Logistics) -> list[tuple[int, int, float, Leg]]:
    """Every ride a lift offers: (from point, to point, nominal seconds, leg). Nominal: the
    mean time to drive in, the travel at the car's speed, the mean time to drive out; no
    wait for a car. Lifts are numbered in the order listed, stops in their lift's order."""
    index = {n: i for i, n in enumerate(logistics.points)}
    height = {f: floor.height for f, floor in logistics.floors.items()}
    rides = []
    for li, lift in enumerate(logistics.lifts.values()):
        stops = lift_stops(logistics, lift)
        handling = lift.load_time.mean + lift.unload_time.mean
        for sa, (fa, pa) in enumerate(stops):
            for sb, (fb, pb) in enumerate(stops):
                if sa != sb:
                    seconds = handling + abs(height[fb] - height[fa]) / lift.speed
                    rides.append((index[pa], index[pb], seconds, (0.0, li, sa, sb)))
    return rides


class Routes:
    """The fastest routes between all points for a vehicle driving at `speed` (m/s), lifts
    taken at their nominal ride time (`lift_rides`); queueing at lifts and on limited
    paths is ignored. `time` holds the expected seconds (inf where there is no way),
    `legs(a, b)` the route."""

    def __init__(self, logistics: Logistics, speed: float):
        segments = _segment_arcs(logistics)
        arcs: dict[tuple[int, int], tuple[float, Leg]] = {
            pair: (metres / speed, (metres, -1, segments.get(pair, -1), -1))
            for pair, metres in _path_lengths(logistics).items()}
        for a, b, seconds, leg in lift_rides(logistics):
            if seconds < arcs.get((a, b), (math.inf,))[0]:  # ties: the path, the first lift
                arcs[(a, b)] = (seconds, leg)
        self.arcs = arcs
        self.time, self.pred = _shortest(len(logistics.points),
                                         {k: v[0] for k, v in arcs.items()}, True)

    def legs(self, a: int, b: int) -> tuple[Leg, ...]:
        """The legs from point a to point b, consecutive drives on unlimited paths joined
        (() if a == b); each limited segment stays a leg of its own."""
        out: list[Leg] = []
        j = b
        while j != a:
            i = int(self.pred[a, j])
            leg = self.arcs[(i, j)][1]
            if leg[1] < 0 and leg[2] < 0 and out and out[0][1] < 0 and out[0][2] < 0:
                out[0] = (leg[0] + out[0][0], -1, -1, -1)
            else:
                out.insert(0, leg)
            j = i
        return tuple(out)

    def metres(self, a: int, b: int) -> float:
        """Metres driven on the route from a to b."""
        return sum(leg[0] for leg in self.legs(a, b))


def reach(logistics: Logistics) -> np.ndarray:
    """A matrix that is finite exactly where some way leads: metres without lifts, else
    expected seconds at 1 m/s."""
    return Routes(logistics, 1.0).time if logistics.lifts else distances(logistics)


def network_problems(scenario: Scenario) -> list[tuple[KeyPath, str]]:
    """Unknown points and fleets, stations without a point, floors and lifts (see
    `twin.scenario.lifts`), and moves no path (or lift) allows."""
    lg = scenario.logistics
    found: list[tuple[KeyPath, str]] = []
    fleets = lg.fleets if lg else {}
    points = lg.points if lg else {}
    for pname, product in scenario.products.items():
        named = [(("products", pname, "transport"), product.transport)]
        named += [(("products", pname, "route", _Index(i), "transport"), step.transport)
                  for i, step in enumerate(product.route)]
        for at, name in named:
            if name is not None and name != DIRECT and name not in fleets:
                hint = did_you_mean(name, [*fleets, DIRECT]) if fleets else \
                    f" Define it under logistics.fleets (or write {DIRECT}: no vehicle)."
                found.append((at, f"unknown fleet {name!r}.{hint}"))
    if DIRECT in fleets:
        found.append((("logistics", "fleets", DIRECT),
                      f"a fleet may not be named {DIRECT!r}: a route step's "
                      f"`transport: {DIRECT}` means no vehicle; give the fleet another name"))
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
    found += _capacity_problems(lg) + lift_problems(scenario)
    if found:
        return found
    index = {n: i for i, n in enumerate(points)}
    d = reach(lg)
    floor = floor_of(lg)
    fix = "; add one (or make one two-way)"
    # every move of every product a fleet carries: its vehicles may be anywhere it unloads
    moves: dict[str, list[tuple[KeyPath, str, str]]] = {}
    belts = {(c.from_, c.to) for c in lg.conveyors.values()}
    for pname, product in scenario.products.items():
        # (a move a conveyor carries is no vehicle's: its stations need no point for it)
        carried = [(("products", pname, "route", _Index(i)), src, dst, fleet)
                   for i, src, dst, fleet in fleet_moves(product) if (src, dst) not in belts]
        served = {n: fleet for _, src, dst, fleet in carried for n in (src, dst)}
        missing = [n for n in served if station_point(scenario, n) is None]
        for n in missing:
            found.append((("stations", n),
                          f"no point of the path network for station {n} (its product "
                          f"{pname} travels to or from it by fleet {served[n]}); give "
                          f"stations.{n}.at: POINT or add a point named {n} to "
                          f"logistics.points"))
        if not missing:
            for at, src, dst, fleet in carried:
                moves.setdefault(fleet, []).append((at, src, dst))
    for fname, carried_by in moves.items():
        home = index[lg.fleets[fname].home]
        drops = {}
        for at, src, dst in carried_by:
            a, b = index[station_point(scenario, src)], index[station_point(scenario, dst)]
            if not math.isfinite(d[a, b]):
                found.append((at, f"fleet {fname} cannot carry units from {src} (point "
                                  f"{_name(points, a)}) to {dst} (point {_name(points, b)}): "
                                  f"{_no_way(floor, _name(points, a), _name(points, b), fix)}"))
                continue
            drops.setdefault(b, dst)
        for at, src, _ in carried_by:
            a = index[station_point(scenario, src)]
            if not math.isfinite(d[home, a]):
                found.append((at, f"fleet {fname}'s vehicles cannot reach {src} (point "
                                  f"{_name(points, a)}) from their home {lg.fleets[fname].home}: "
                                  f"{_no_way(floor, lg.fleets[fname].home, _name(points, a))}"))
                continue
            for c, drop in drops.items():
                if not math.isfinite(d[c, a]):
                    found.append((at, f"fleet {fname}'s vehicles cannot get back from {drop} "
                                      f"(point {_name(points, c)}) to {src} (point "
                                      f"{_name(points, a)}) to pick up: "
                                      f"{_no_way(floor, _name(points, c), _name(points, a))}"))
                    break
    return found


def _capacity_problems(lg: Logistics) -> list[tuple[KeyPath, str]]:
    """A limited path must be the only way between its points: a loop, or a second path
    joining the same points in a direction it is driven, would leave its capacity unclear."""
    found: list[tuple[KeyPath, str]] = []

    def arcs(path: PathSpec) -> set[tuple[str, str]]:
        return {(path.from_, path.to)} | (set() if path.one_way else {(path.to, path.from_)})

    for i in limited_paths(lg):
        path = lg.paths[i]
        where = ("logistics", "paths", _Index(i), "capacity")
        if path.from_ == path.to:
            found.append((where, f"a path from {path.from_} to itself has a capacity, but "
                                 f"vehicles never drive it; remove the path or its capacity"))
            continue
        other = next((j for j, p in enumerate(lg.paths) if j != i and arcs(p) & arcs(path)),
                     None)
        if other is not None:
            found.append((where, f"the path {segment_name(path)} has a capacity, and "
                                 f"logistics.paths[{other}] joins the same points too: "
                                 f"vehicles drive only the shorter of the two, so how many "
                                 f"fit between these points is unclear; list one path "
                                 f"(with capacity: the lanes of both) or put a point on "
                                 f"one of them"))
    return found


def _moves(product) -> Iterator[tuple[int, str, str]]:
    """(route step, from station, to station) of every move between stations."""
    for i, src, dst, _ in _moves_into(product):
        yield i, src, dst


def _moves_into(product) -> Iterator[tuple[int, str, str, int]]:
    """(route step, from station, to station, step moved into) of every move between
    stations: to the next step, and by rework back to the nearest earlier step at the
    rework's station."""
    names = [step.station for step in product.route]
    for i, step in enumerate(product.route):
        if i + 1 < len(names) and names[i + 1] != step.station:
            yield i, step.station, names[i + 1], i + 1
        if step.rework is not None and step.rework.to != step.station:
            yield i, step.station, step.rework.to, rework_step(product.route, i)


def rework_step(route, i: int) -> int:
    """The route step a rework decided at step `i` sends the unit back to: the nearest
    occurrence of its station at or before `i` (-1 if none: refused when loaded)."""
    return max((j for j in range(i + 1) if route[j].station == route[i].rework.to),
               default=-1)


def step_fleet(product, step: int) -> str | None:
    """The fleet carrying a product's units into route step `step` (None: passed on
    directly): the step's own `transport`, else the product's."""
    own = product.route[step].transport if step >= 0 else None
    name = own if own is not None else product.transport
    return None if name == DIRECT else name


def fleet_moves(product) -> Iterator[tuple[int, str, str, str]]:
    """(route step, from station, to station, fleet) of every move a fleet carries (a
    conveyor on the move still takes precedence)."""
    for i, src, dst, into in _moves_into(product):
        fleet = step_fleet(product, into)
        if fleet is not None:
            yield i, src, dst, fleet


def _no_way(floor: dict[str, str], a: str, b: str, fix: str = "") -> str:
    """Why no vehicle gets from point a to point b (paths, or floors no lift joins), and
    for paths the `fix` suggested."""
    fa, fb = floor.get(a), floor.get(b)
    if fa is not None and fb is not None and fa != fb:
        return (f"{b} is on floor {fb} and {a} on floor {fa}, and no path and lift in "
                f"logistics.paths and logistics.lifts lead there; add a lift with points on "
                f"both floors under logistics.lifts (and paths to its points)")
    return "no path leads there in logistics.paths" + fix


def _name(points: dict, i: int) -> str:
    return list(points)[i]


def _unknown_point(name: str, points: dict) -> str:
    return f"unknown point {name!r}.{did_you_mean(name, list(points))} Points are listed " \
           f"under logistics.points"
